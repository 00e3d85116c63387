"""Reading a finding's free-form evidence without trusting its shape: a document may come from another version,
another tool, or a hand. Every reader of evidence in report/ goes through these."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any) -> bool:
    """A finite number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def bursts_of(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The bursts a probe finding records: `bursts` (every burst of a race) or `burst` (the one that failed)."""
    bursts = as_list(evidence.get("bursts")) or [evidence.get("burst")]
    return [burst for burst in bursts if isinstance(burst, dict)]
