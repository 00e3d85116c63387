"""Children that take Ctrl-C as a program started from a terminal does, wherever the suite runs.

A background job of a non-interactive shell starts with SIGINT ignored, its children inherit that, and Python
then keeps it ignored: a test that interrupts a child with SIGINT would see it run on to the end. Passed as
`preexec_fn`, `takes_ctrl_c` gives the child the default disposition first, as a terminal's shell does.
"""

from __future__ import annotations

import signal


def takes_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
