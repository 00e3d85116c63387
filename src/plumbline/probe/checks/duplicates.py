"""PL402: one create raced with itself, judged by the copies read back."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from plumbline.probe.checks.common import (
    TRIES,
    answer_of,
    burst,
    check,
    reproducer,
)
from plumbline.probe.engine import (
    Probe,
    accepted_answer,
    succeeded,
    unique,
)
from plumbline.probe.http import json_of
from plumbline.probe.resources import items_of
from plumbline.probe.spec import Operation, example_of
from plumbline.vocabulary import (
    is_unique,
)

DUPLICATE_BURST = 10


def writes_one(operation: Operation) -> bool:
    """A create, or a PUT/PATCH on a collection (an upsert such as `PUT /sessions`)."""
    return operation.creates or operation.method in ("PUT", "PATCH") and not operation.path_parameters


@check("PL402", active=True, applies=writes_one)
def duplicate_creates(probe: Probe) -> None:
    """Judged by what is read back (the listing, a lookup by the unique field, or the distinct ids the answers
    carry), never by status alone; raced only when a second sequential request is refused or makes no copy."""
    for operation in filter(writes_one, probe.spec.operations):
        body = example_of(operation.body_schema or {}) if operation.body_example is None else operation.body_example
        fields = [k for k, v in body.items() if is_unique(k) and isinstance(v, str)] if isinstance(body, dict) else []
        if not fields:
            probe.skipped(operation, "no unique-looking field")
            continue
        who = probe.owner if operation.secured else None
        copies = _copy_counter(probe, operation, fields)
        if copies is None and not operation.creates:
            probe.skipped(operation, "no read-back found")
            continue
        call = probe.fill(operation, body=unique(body, operation.body_schema))
        first, second = probe.send(call, who), probe.send(call, who)
        if not succeeded(first):
            probe.skipped(operation, "the request was refused")
            continue
        counted = copies(call.body) if copies else None
        if counted is not None and counted > 1 or counted is None and succeeded(second) and (
                len(_created_ids([answer_of(first), answer_of(second)])) != 1):
            probe.ran(operation, f"not unique: two sequential requests with the same {', '.join(fields)} made "
                                 "two objects")
            continue
        if counted is None and not _created_ids([answer_of(first)]):
            probe.skipped(operation, "no read-back found")
            continue
        probe.ran(operation, "a fresh unique value")
        _race_duplicates(probe, operation, body, fields, who, copies)


def _race_duplicates(probe: Probe, operation: Operation, body: dict, fields: list[str], who: str | None,
                     copies: Callable[[dict], int | None] | None) -> None:
    shown = 0
    records = []
    for _ in range(TRIES):
        call = probe.fill(operation, body=unique(body, operation.body_schema))
        statuses, spread, bodies = burst(probe, call, who, DUPLICATE_BURST)
        accepted = [b for s, b in zip(statuses, bodies) if s is not None and accepted_answer(s, b)]
        listed = copies(call.body) if copies else None
        made = listed if listed is not None else len(_created_ids(accepted))
        shown += made > 1
        records.append({"send_spread_ms": round(spread, 3), "statuses": dict(Counter(map(str, statuses))),
                        "successes": len(accepted), "copies_listed": listed,
                        "distinct_ids": None if listed is not None else made})
        if shown >= 2 or len(records) >= 2 and not shown:
            break
    if shown >= 2:
        last = records[-1]
        what = (f"{last['copies_listed']} copies are read back afterwards" if last["copies_listed"] is not None
                else f"{last['distinct_ids']} objects with distinct ids were created")
        probe.report("PL402", call, f"{DUPLICATE_BURST} synchronized identical requests with the same "
                     f"{', '.join(fields)}: {what}; reproduced {shown}/{len(records)}",
                     evidence={"bursts": records, "body": call.body,
                               "reproducer": reproducer(probe, call, who, concurrent=DUPLICATE_BURST)})


def _copy_counter(probe: Probe, operation: Operation, fields: list[str]) -> Callable[[dict], int | None] | None:
    """How to count the copies of a body: the listing of the same collection, else a search by one of the
    unique fields (`GET /users/search?email=`); None when the API has neither."""
    listing = _listing(probe, operation)
    if listing is not None:
        return lambda body: _matching(probe, listing, {}, body, fields)
    for lookup in probe.spec.operations:
        names = {p.name for p in lookup.parameters if p.location == "query"}
        field_name = next((f for f in fields if f in names), None)
        if lookup.method == "GET" and not lookup.path_parameters and field_name and lookup.path.startswith(
                operation.path.rstrip("/") + "/"):
            return lambda body, lookup=lookup, name=field_name: _matching(probe, lookup, {name: body[name]}, body,
                                                                          fields)
    return None


def _listing(probe: Probe, operation: Operation) -> Operation | None:
    return next((op for op in probe.spec.operations if op.method == "GET" and op.path == operation.path
                 and not op.path_parameters), None)


def _matching(probe: Probe, reader: Operation, params: dict, body: dict, fields: list[str]) -> int | None:
    """How many objects `reader` lists that show the unique `fields` of `body` with the values sent."""
    response = probe.http.request("GET", reader.path, identity=probe.owner if reader.secured else None,
                                  params=params or None)
    listed = json_of(response.content)
    if not isinstance(listed, list) and not items_of(listed):
        return None
    return sum(1 for item in items_of(listed) if any(k in item for k in fields)
               and all(item[k] == body[k] for k in fields if k in item))


def _created_ids(bodies: list[Any]) -> set[str]:
    """The distinct ids that accepted answers carry (`id`, `*_id`)."""
    found = set()
    for body in bodies:
        if isinstance(body, dict):
            value = next((body[k] for k in body if (k == "id" or k.endswith("_id")) and body[k] is not None), None)
            if value is not None:
                found.add(str(value))
    return found
