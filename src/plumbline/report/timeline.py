"""The picture of a race: a probe burst's requests on a time axis, and the state before, expected and after.

Drawn from the evidence the probe records for each burst (`bursts[]` or `burst`: `requests` with `sent_ms`,
`received_ms` and `status`; `before`, `expected_after`, `after`; `copies_listed` for duplicate creates). Only
geometry is computed here; the template writes the SVG, escaping every label.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from plumbline.report.evidence import as_dict, as_list, bursts_of, number

# Geometry of one burst's SVG, in px.
LABEL_WIDTH = 34  # request numbers, left of the plot
PLOT_WIDTH = 440
ROW_HEIGHT = 11
AXIS_HEIGHT = 22  # tick labels above the rows
MARGIN = 10


@dataclass(frozen=True)
class Row:
    number: int  # the request's place in the burst, from 1
    y: float
    sent_x: float | None  # where its final byte left (None: never sent)
    received_x: float | None  # where its answer came back (None: none, or never sent)
    kind: str  # the colour class: ok (2xx), refused (4xx), error (5xx), none (no answer), other
    label: str  # the row's tooltip


@dataclass(frozen=True)
class StateRow:
    field: str
    before: Any
    expected: Any
    after: Any
    differs: bool  # the state after is not what the accepted requests should have made it


@dataclass(frozen=True)
class Timeline:
    title: str  # "burst 2 of 3"
    rows: tuple[Row, ...]  # empty when the evidence has no per-request times (a document from an older version)
    ticks: tuple[tuple[float, str], ...]  # (x, label) on the time axis
    legend: tuple[tuple[str, str], ...]  # (colour class, "200 × 5")
    state: tuple[StateRow, ...]
    summary: str  # "20 requests sent within 0.143 ms; 5 accepted"
    width: int = LABEL_WIDTH + PLOT_WIDTH + 2 * MARGIN
    plot_left: int = LABEL_WIDTH + MARGIN

    @property
    def height(self) -> float:
        return AXIS_HEIGHT + ROW_HEIGHT * len(self.rows) + MARGIN

    @property
    def axis_bottom(self) -> float:
        return self.height - MARGIN / 2


def timelines(evidence: dict[str, Any]) -> list[Timeline]:
    """One timeline per burst the evidence records; none for evidence without bursts."""
    bursts = bursts_of(evidence)
    return [_timeline(b, f"burst {i} of {len(bursts)}" if len(bursts) > 1 else "the burst")
            for i, b in enumerate(bursts, 1)]


def _timeline(burst: dict[str, Any], title: str) -> Timeline:
    requests = [r for r in as_list(burst.get("requests")) if isinstance(r, dict)]
    times = [t for r in requests for t in (r.get("sent_ms"), r.get("received_ms")) if number(t) and t >= 0]
    span = max(times, default=0) or 1.0
    left = LABEL_WIDTH + MARGIN

    def x(ms: Any) -> float | None:
        return round(left + min(ms, span) / span * PLOT_WIDTH, 2) if number(ms) and ms >= 0 else None

    rows = []
    for place, request in enumerate(requests, 1):
        status, sent, received = request.get("status"), request.get("sent_ms"), request.get("received_ms")
        status = status if isinstance(status, int) and not isinstance(status, bool) else None
        label = f"request {place}: " + (f"answered {status}" if status is not None else "no answer") + (
            f", final byte sent at {sent:.3f} ms" if number(sent) else ", never sent") + (
            f", answer read at {received:.3f} ms" if number(received) and status is not None else "") + (
            f" ({request['error']})" if isinstance(request.get("error"), str) else "")
        rows.append(Row(place, AXIS_HEIGHT + (place - 0.5) * ROW_HEIGHT, x(sent),
                        x(received) if status is not None else None, kind_of(status), label))
    ticks = tuple((x(value), f"{value:.{_decimals(span)}f} ms") for value in (0, span / 2, span)) if rows else ()
    statuses = Counter(row_status for row_status in (r.get("status") for r in requests))
    legend = tuple((kind_of(s if isinstance(s, int) else None), f"{s if s is not None else 'no answer'} × {n}")
                   for s, n in sorted(statuses.items(), key=lambda item: (item[0] is None, str(item[0]))))
    return Timeline(title, tuple(rows), ticks, legend, _state(burst), _summary(burst, len(requests)))


def kind_of(status: int | None) -> str:
    if status is None:
        return "none"
    return {2: "ok", 4: "refused", 5: "error"}.get(status // 100, "other")


def _state(burst: dict[str, Any]) -> tuple[StateRow, ...]:
    """Before, expected and observed after, per field the burst moved; for creates, the copies made."""
    before, expected, after = (as_dict(burst.get(key)) for key in ("before", "expected_after", "after"))
    rows = [StateRow(name, before.get(name), expected.get(name), after.get(name),
                     after.get(name) != expected.get(name)) for name in dict.fromkeys([*expected, *after])]
    copies = burst.get("copies_listed") if burst.get("copies_listed") is not None else burst.get("distinct_ids")
    if number(copies):
        rows.append(StateRow("copies", 0, 1, copies, copies != 1))
    return tuple(rows)


def _summary(burst: dict[str, Any], requests: int) -> str:
    statuses = as_dict(burst.get("statuses"))
    sent = requests or sum(n for n in statuses.values() if number(n))
    parts = [f"{sent} requests" + (f", final bytes sent within {burst['send_spread_ms']:g} ms"
                                   if number(burst.get("send_spread_ms")) else "")]
    if number(burst.get("successes")):
        parts.append(f"{burst['successes']:g} accepted")
    if number(burst.get("server_errors")) and burst["server_errors"]:
        parts.append(f"{burst['server_errors']:g} answered 5xx")
    if isinstance(burst.get("object"), str):
        parts.append(f"on {burst['object']}")
    return "; ".join(parts)


def _decimals(span: float) -> int:
    return 0 if span >= 100 else 1 if span >= 10 else 2 if span >= 1 else 3
