"""The probe checks: plain functions over a `Probe`, registered with `@check` for the rules they report.

Every check proves what it reports from the API's own answers: state read back before and after, two
identities compared, differential responses. Races are bursts of synchronized requests (last-byte
synchronisation) and count only when they reproduce. `CHECKS` lists them in the order they run; the
engine receives it (`Probe(checks=...)`, every check by default).
"""

# Imported in the order the checks run: each module registers its checks.
from plumbline.probe.checks import races  # noqa: F401, I001
from plumbline.probe.checks import duplicates  # noqa: F401
from plumbline.probe.checks import access  # noqa: F401
from plumbline.probe.checks import inputs  # noqa: F401
from plumbline.probe.checks.common import CHECKS

__all__ = ["CHECKS"]
