"""PL402 / PL404: one create raced with itself, judged by the copies read back and by how its losers fail."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from plumbline.probe.checks.common import (
    TRIES,
    answer_of,
    burst,
    check,
    ok,
    reproducer,
    signs_up,
)
from plumbline.probe.engine import (
    Call,
    Probe,
    accepted_answer,
    succeeded,
    unique,
    unique_string,
)
from plumbline.probe.resources import items_of, unwrap
from plumbline.probe.spec import Operation, example_of
from plumbline.vocabulary import (
    is_unique,
)

DUPLICATE_BURST = 10
Copies = Callable[[Call], "int | None"]


def writes_one(operation: Operation) -> bool:
    """A create, a PUT/PATCH on a collection (an upsert such as `PUT /sessions`), or a sign-up."""
    return (operation.creates or operation.method in ("PUT", "PATCH") and not operation.path_parameters
            or signs_up(operation))


@check("PL402", "PL404", active=True, applies=writes_one)
def duplicate_creates(probe: Probe) -> None:
    """Judged by what is read back (the listing, a lookup by the unique field, or the distinct ids the answers
    carry), never by status alone; raced only when a second sequential request is refused or makes no copy.
    Where no copy can be counted (a sign-up answers a message), the burst is still judged for server errors:
    the losers of a race on a unique value must be refused, not fail (PL404)."""
    for operation in filter(writes_one, probe.spec.operations):
        body = example_of(operation.body_schema or {}) if operation.body_example is None else operation.body_example
        inner = unwrap(body)
        fields = [k for k, v in inner.items() if is_unique(k) and isinstance(v, str)] if isinstance(inner, dict) else []
        named = operation.named_by if operation.named_by and is_unique(operation.named_by) else None
        if not fields and not named:
            probe.skipped(operation, "no unique-looking field")
            continue
        unique_names = fields + ([named] if named else [])
        who = probe.caller(operation)
        copies = _copy_counter(probe, operation, fields, named)

        def fresh(operation=operation, body=body, named=named) -> Call:
            call = probe.fill(operation, body=unique(body, operation.body_schema))
            if named:
                call = probe.fill(operation, body=call.body,
                                  given={named: unique_string(str(call.path_values.get(named) or "plumbline"))})
            return call

        call = fresh()
        first, second = probe.send(call, who), probe.send(call, who)
        if not succeeded(first):
            probe.skipped(operation, "the request was refused")
            continue
        counted = copies(call) if copies else None
        ids = _created_ids([answer_of(first), answer_of(second)])
        if counted is not None and counted > 1 or counted is None and succeeded(second) and len(ids) != 1:
            probe.ran(operation, f"not unique: two sequential requests with the same {', '.join(unique_names)} "
                                 "made two objects")
            continue
        countable = counted is not None or bool(_created_ids([answer_of(first)]))
        probe.ran(operation, "a fresh unique value" if countable else
                  "a fresh unique value; no copies to count: judged for server errors only")
        _race_duplicates(probe, operation, fresh, unique_names, who, copies if countable else None, countable)


def _race_duplicates(probe: Probe, operation: Operation, fresh: Callable[[], Call], fields: list[str],
                     who: str | None, copies: Copies | None, countable: bool) -> None:
    shown = 0
    records = []
    errors_seen = None
    for _ in range(TRIES):
        call = fresh()
        statuses, spread, bodies, requests = burst(probe, call, who, DUPLICATE_BURST)
        accepted = [b for s, b in zip(statuses, bodies) if s is not None and accepted_answer(s, b)]
        errors = [(s, b) for s, b in zip(statuses, bodies) if s is None or s >= 500]
        listed = copies(call) if copies else None
        made = listed if listed is not None else len(_created_ids(accepted)) if countable else None
        shown += made is not None and made > 1
        records.append({"send_spread_ms": round(spread, 3), "statuses": dict(Counter(map(str, statuses))),
                        "successes": len(accepted), "copies_listed": listed,
                        "distinct_ids": None if listed is not None or not countable else made,
                        "server_errors": len(errors), "requests": requests})
        if errors and errors_seen is None:
            errors_seen = (call, records[-1], errors[0][1])
        if shown >= 2 or len(records) >= 2 and not shown or not countable and errors_seen:
            break
    if errors_seen is not None:
        call_with_errors, record, sample = errors_seen
        probe.report("PL404", call_with_errors,
                     f"{record['server_errors']} of {DUPLICATE_BURST} synchronized identical requests with the same "
                     f"{', '.join(fields)} failed with 5xx instead of being refused",
                     evidence={"burst": record, "sample_error": sample, "body": call_with_errors.body,
                               "reproducer": reproducer(probe, call_with_errors, who, concurrent=DUPLICATE_BURST)})
    if shown >= 2:
        last = records[-1]
        what = (f"{last['copies_listed']} copies are read back afterwards" if last["copies_listed"] is not None
                else f"{last['distinct_ids']} objects with distinct ids were created")
        probe.report("PL402", call, f"{DUPLICATE_BURST} synchronized identical requests with the same "
                     f"{', '.join(fields)}: {what}; reproduced {shown}/{len(records)}",
                     evidence={"bursts": records, "body": call.body, "path": call.path,
                               "reproducer": reproducer(probe, call, who, concurrent=DUPLICATE_BURST)})


def _copy_counter(probe: Probe, operation: Operation, fields: list[str], named: str | None) -> Copies | None:
    """How to count the copies a call made: the listing of the same collection (of the parent collection for
    an object named by its path, `GET /items` for `POST /items/{name}`), else a search by one of the unique
    fields (`GET /users/search?email=`); None when the API has neither."""
    collection = operation.path.rstrip("/").rsplit("/", 1)[0] if named else operation.path
    listing = next((op for op in probe.spec.operations if op.method == "GET" and op.path == collection
                    and not (named and op.path_parameters)), None)
    if listing is not None:
        return lambda call: _matching(probe, listing, {}, call, fields, named)
    for lookup in probe.spec.operations:
        names = {p.name for p in lookup.parameters if p.location == "query"}
        field_name = next((f for f in fields if f in names), None)
        if lookup.method == "GET" and not lookup.path_parameters and field_name and lookup.path.startswith(
                operation.path.rstrip("/") + "/"):
            return lambda call, lookup=lookup, name=field_name: _matching(
                probe, lookup, {name: unwrap(call.body)[name]}, call, fields, named)
    return None


def _matching(probe: Probe, reader: Operation, params: dict, call: Call, fields: list[str],
              named: str | None) -> int | None:
    """How many objects `reader` lists that show the unique values `call` sent (body fields, the naming path
    segment)."""
    sent = unwrap(call.body) if isinstance(unwrap(call.body), dict) else {}
    wanted = {k: sent[k] for k in fields if k in sent} | ({named: call.path_values.get(named)} if named else {})
    read = probe.fill(reader, given=call.path_values)
    read.params = {**read.params, **params}
    response = probe.send(read, probe.caller(reader))
    listed = answer_of(response)
    if not ok(response.status_code) or not isinstance(listed, list) and not items_of(listed):
        return None
    return sum(1 for item in items_of(listed) if any(k in item for k in wanted)
               and all(str(item[k]) == str(v) for k, v in wanted.items() if k in item))


def _created_ids(bodies: list[Any]) -> set[str]:
    """The distinct ids that accepted answers carry (`id`, else the first `*_id`), inside an envelope too."""
    found = set()
    for body in map(unwrap, bodies):
        if isinstance(body, dict):
            value = body.get("id")
            if value is None:
                value = next((body[k] for k in body if k.endswith("_id") and body[k] is not None), None)
            if value is not None:
                found.add(str(value))
    return found
