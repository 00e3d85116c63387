"""What a lab twin's store made of the damaging writes its races end with (`plumbline lab-damage`, the tour's
audit step): each app writes them its own way (plumbline.lab.bank.damage, plumbline.lab.records.damage)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    """One write of a race, and what the twin made of it."""

    race: str  # "duplicate registration"
    statement: str  # what was written, in a few words
    refused_by: str | None = None  # the constraint or the handler's answer that refused it; None: accepted

    @property
    def accepted(self) -> bool:
        return self.refused_by is None
