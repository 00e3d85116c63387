"""Stop the embedded PostgreSQL and delete its data folder however the process that started it ends.

Handlers cannot do this alone: no handler runs on SIGKILL, and PostgreSQL outlives its starter, because pg_ctl
starts it in a session of its own (setsid), out of reach of the starter's death and of a terminal's Ctrl-C.
So a separate process watches:

- `Watchdog()` runs this file in a new session (a Ctrl-C meant for the lab must not kill the watchdog before it
  has cleaned up), with its stdin the read end of a pipe. Only the starter holds the write end: Python creates
  descriptors non-inheritable, subprocess closes the others in the programs it runs (pg_ctl, initdb, postgres),
  and a child forked without exec closes it at once (`os.register_at_fork`).
- `guard(folder)` writes a data folder's path to the pipe *before* the folder is created, so no moment is left
  in which a folder exists that the watchdog does not know.
- When the starter ends, whether it returns, raises or is killed by any signal, SIGKILL included, the kernel
  closes the write end. The watchdog reads end-of-file and reaps each folder: stops every process running from
  it (pg_ctl, initdb, the postmaster and its backends) and deletes it. After a normal stop it finds nothing left.

Why not prctl(PR_SET_PDEATHSIG): it is Linux-only, fires when the *thread* that forked ends rather than the
process, and cannot reach PostgreSQL at all: pg_ctl forks it, and the setting does not survive a fork.

This file is run by path, not with `python -m`, so the watchdog imports only the standard library and psutil,
never a module from the working directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import weakref
from pathlib import Path

import psutil

SHUTDOWN_GRACE = 5.0  # seconds a postmaster gets for an immediate shutdown before SIGKILL
REAP_ROUNDS = 10  # a process being started while we reap (pg_ctl forking the postmaster) is caught next round
SEPARATOR = b"\0"  # between folder paths on the pipe: the one byte no path contains


class Watchdog:
    """A process that reaps the guarded folders once this process has ended or called `close()`."""

    def __init__(self) -> None:
        read_end, self._write_end = os.pipe()  # both non-inheritable: the watchdog gets the read end as its stdin
        try:
            self._process = subprocess.Popen(
                [sys.executable, __file__],
                stdin=read_end,
                stdout=subprocess.DEVNULL,  # holds none of our pipes open: a reader of our output sees EOF
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(self._write_end)
            raise
        finally:
            os.close(read_end)
        _open_watchdogs.add(self)

    def guard(self, folder: Path) -> None:
        """Reap `folder` when this process ends; call it before creating the folder."""
        os.write(self._write_end, os.fsencode(folder) + SEPARATOR)  # shorter than PIPE_BUF: written whole

    def close(self, timeout: float = 60) -> None:
        """Have the watchdog reap what it guards now, and wait for it to end."""
        self._let_go()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass  # still reaping: it finishes on its own

    def _let_go(self) -> None:
        """Close our write end; the watchdog reaps once no process holds one."""
        if self._write_end is not None:
            os.close(self._write_end)
            self._write_end = None
        _open_watchdogs.discard(self)


_open_watchdogs: weakref.WeakSet[Watchdog] = weakref.WeakSet()


def _let_go_in_forked_child() -> None:
    """A child forked without exec (a process pool) must not hold a write end: the watchdog would wait for it."""
    for watchdog in list(_open_watchdogs):
        watchdog._let_go()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_forked_child)


def reap(folder: Path) -> None:
    """Stop every process running from `folder`, then delete it; harmless on a folder already gone."""
    for _ in range(REAP_ROUNDS):
        starters = _naming(folder)
        if not starters:
            break
        _stop(starters)
    shutil.rmtree(folder, ignore_errors=True)


def _naming(folder: Path) -> list[psutil.Process]:
    """Processes whose command line names `folder`: pg_ctl, initdb, the shell pg_ctl runs, the postmaster."""
    names_folder = re.compile(re.escape(str(folder)) + r"(?=$|[/\"'\s])")
    return [
        process
        for process in psutil.process_iter(["cmdline"])
        if process.pid != os.getpid() and any(names_folder.search(arg) for arg in process.info["cmdline"] or ())
    ]


def _stop(starters: list[psutil.Process]) -> None:
    """SIGKILL pg_ctl and initdb so nothing new starts; an immediate shutdown (SIGQUIT) for a postmaster, which
    stops its backends and releases its shared memory; SIGKILL for whatever is left after the grace period."""
    everything = list(starters)
    for process in starters:
        try:
            everything.extend(process.children(recursive=True))  # backends rename themselves: found by descent
            process.send_signal(signal.SIGQUIT if process.name() == "postgres" else signal.SIGKILL)
        except psutil.Error:
            pass  # it ended meanwhile
    _, alive = psutil.wait_procs(everything, timeout=SHUTDOWN_GRACE)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=SHUTDOWN_GRACE)


def main() -> None:
    """Wait for end-of-file on stdin, then reap every folder named on it."""
    for quiet in (signal.SIGINT, signal.SIGHUP):
        signal.signal(quiet, signal.SIG_IGN)
    for name in sys.stdin.buffer.read().split(SEPARATOR):
        if name:
            reap(Path(os.fsdecode(name)))


if __name__ == "__main__":
    main()
