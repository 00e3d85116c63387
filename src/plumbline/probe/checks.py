"""The probe checks: plain functions over a `Probe`, registered with `@check` for the rules they report.

Every check proves what it reports from the API's own answers: state read back before and after,
two identities compared, differential responses. Races are bursts of synchronized requests (last-byte
synchronisation) and count only when they reproduce.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Callable

from plumbline.probe.engine import Call, Probe, Resource, unique
from plumbline.probe.http import ANONYMOUS, GARBAGE
from plumbline.probe.spec import Link, Operation, example_of

CHECKS: list[tuple[tuple[str, ...], bool, Callable[[Probe], None]]] = []

BURST = 20
DUPLICATE_BURST = 10
TRIES = 3  # a race is reported when it shows in 2 of at most 3 bursts
UNIQUE_FIELD = re.compile(r"e?mail|user_?name|login|handle|slug|code|^name$|sku|device|nickname", re.I)
EXTRA_PROPERTIES = {"role": "admin", "is_admin": True, "admin": True, "verified": True, "balance": 999_999,
                    "version": 999, "credits": 999_999}
OWNER_PROPERTIES = ("user_id", "owner_id", "owner", "account_id", "tenant_id")
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|SQLSTATE|\bpsycopg|sqlalchemy\.exc|"
    r"syntax error at or near|unterminated quoted string|could not serialize access|restart transaction|"
    r"violates (not-null|check|foreign key|unique) constraint|duplicate key value|invalid input syntax for|"
    r"relation \"[^\"]+\" does not exist|column \"[^\"]+\" does not exist|botocore|ClientError|"
    r"ConditionalCheckFailed|ValidationException|TransactionCanceledException|ProvisionedThroughputExceeded|"
    r"\b(ip-\d+-\d+-\d+-\d+|[a-z0-9-]+\.(internal|local|svc\.cluster\.local))\b|werkzeug\.exceptions|KeyError: ",
    re.I)
SQL_ERROR = re.compile(r"syntax error|unterminated quoted|SQLSTATE|psycopg|sqlite3|mysql|ORA-\d+|sql", re.I)


def check(*rule_ids: str, active: bool):
    """Register a check for the rules it reports; `active` checks change state and run only with --active."""
    def register(function: Callable[[Probe], None]) -> Callable[[Probe], None]:
        CHECKS.append((rule_ids, active, function))
        return function
    return register


# ---- helpers ---------------------------------------------------------------------------------------


def ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def numbers(value: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a JSON value, by dotted path (booleans excluded)."""
    found: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(numbers(item, f"{prefix}{key}."))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        found[prefix.rstrip(".")] = value
    return found


def count(value: Any) -> int | None:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        return len(lists[0]) if len(lists) == 1 else None
    return None


def reproducer(probe: Probe, call: Call, identity: str | None, *, concurrent: int = 1, body: Any = ...) -> str:
    """A short Python script the developer can run; secrets come from environment variables."""
    payload = call.body if body is ... else body
    header_line = ""
    if identity and identity not in (ANONYMOUS, GARBAGE):
        chosen = probe.http.identities[identity]
        header_line = f'    headers = {{"{chosen.header}": os.environ["PLUMBLINE_{identity.upper()}_{chosen.header.upper().replace("-", "_")}"]}}\n'
    else:
        header_line = "    headers = {}\n"
    url = probe.http.url(call.path, call.params)
    send = (f'    return httpx.request("{call.operation.method}", "{url}", headers=headers'
            + (f", json={json.dumps(payload)!s})" if payload is not None else ")"))
    script = ["import os, threading", "import httpx", "", "def send():", header_line.rstrip("\n"), send, ""]
    if concurrent > 1:
        script += [f"barrier = threading.Barrier({concurrent})", "results = []",
                   "def worker():", "    barrier.wait()", "    results.append(send().status_code)",
                   f"threads = [threading.Thread(target=worker) for _ in range({concurrent})]",
                   "for t in threads: t.start()", "for t in threads: t.join()", "print(sorted(results))"]
    else:
        script += ["response = send()", "print(response.status_code, response.text[:500])"]
    return "\n".join(script) + "\n"


def burst(probe: Probe, call: Call, identity: str, size: int) -> tuple[list[int | None], float, list[Any]]:
    prepared = [probe.http.prepare(call.operation.method, call.path, identity=identity, json_body=call.body,
                                   params=call.params)] * size
    result = probe.http.burst(prepared, identity)
    bodies = []
    for response in result.responses:
        try:
            bodies.append(json.loads(response.body) if response.body else None)
        except ValueError:
            bodies.append(response.body.decode("utf-8", "replace")[:300])
    return [r.status for r in result.responses], result.send_spread_ms, bodies


def numeric_properties(operation: Operation) -> dict[str, dict]:
    properties = (operation.body_schema or {}).get("properties") or {}
    return {name: schema for name, schema in properties.items()
            if isinstance(schema, dict) and schema.get("type") in ("integer", "number")}


def bounded(schema: dict, wanted: int) -> int:
    maximum = schema.get("maximum")
    return min(wanted, int(maximum)) if isinstance(maximum, (int, float)) else wanted


def actions(probe: Probe) -> list[tuple[Operation, Operation, list[Link]]]:
    """(creator, action, links) for each state-changing operation on a created resource that can be read back."""
    found = []
    for creator in probe.creators():
        if probe.reader(creator) is None:
            continue
        by_target: dict[str, list[Link]] = {}
        for target, link in probe.linked(creator):
            if not target.safe and not target.creates:
                by_target.setdefault(target.operation_id, []).append(link)
        for operation_id, links in by_target.items():
            found.append((creator, probe.spec.operation(operation_id), links))
    return found


def action_on_new_object(probe: Probe, creator: Operation, action: Operation, links: list[Link], owner: str,
                         *, partner_owner: str | None = None, overrides: dict | None = None
                         ) -> tuple[Call, Resource] | None:
    """`action` filled with a fresh object of `owner`; a second linked input (a transfer's target) gets a
    fresh object of `partner_owner` (the owner by default). None when the API refuses to create them."""
    subject = probe.create(creator, owner, comfortable(creator) if overrides is None else overrides)
    partner = probe.create(creator, partner_owner or owner, comfortable(creator)) if len(links) > 1 else None
    if subject is None or len(links) > 1 and partner is None:
        return None
    pairs = [(links[0], subject)] + [(link, partner) for link in links[1:]]
    return probe.fill(action, pairs), subject


def comfortable(creator: Operation) -> dict[str, int]:
    """Numeric fields of a new resource set high enough that one action never runs out."""
    return {name: bounded(schema, 1000) for name, schema in numeric_properties(creator).items()}


# ---- PL401 / PL403 / PL404: races on an action ---------------------------------------------------


@check("PL401", "PL403", "PL404", active=True)
def concurrent_actions(probe: Probe) -> None:
    identity = probe.identities[0]
    for creator, action, links in actions(probe):
        prepared = action_on_new_object(probe, creator, action, links, identity)
        if prepared is None:
            continue
        call, subject = prepared
        _, before = probe.read(subject)
        if not ok(probe.send(call, identity).status_code):
            continue
        _, after = probe.read(subject)
        old, new = numbers(before), numbers(after)
        delta = {k: new[k] - v for k, v in old.items() if k in new and new[k] != v}
        if not delta:
            continue
        _race(probe, creator, action, links, identity, delta)


def _race(probe: Probe, creator: Operation, action: Operation, links: list[Link], identity: str,
          delta: dict[str, float]) -> None:
    floor_field = next((f for f, d in delta.items() if d < 0 and f in numeric_properties(creator)), None)
    allowed = BURST // 2
    overrides = comfortable(creator)
    if floor_field:
        overrides[floor_field] = int(allowed * -delta[floor_field])
    lost = overrun = 0
    bursts = []
    for _ in range(TRIES):
        prepared = action_on_new_object(probe, creator, action, links, identity, overrides=overrides)
        if prepared is None:
            return
        call, subject = prepared
        _, before = probe.read(subject)
        statuses, spread, bodies = burst(probe, call, identity, BURST)
        _, after = probe.read(subject)
        successes = sum(ok(s) for s in statuses)
        old, new = numbers(before), numbers(after)
        observed = {f: new.get(f) for f in delta}
        expected = {f: old.get(f, 0) + successes * d for f, d in delta.items()}
        lost_now = any(observed[f] != expected[f] for f in delta)
        overrun_now = bool(floor_field) and (successes > allowed or (observed[floor_field] or 0) < 0)
        lost += lost_now
        overrun += overrun_now
        errors = [s for s in statuses if s is None or s >= 500]
        serialization = sum(1 for b in bodies if re.search(r"40001|could not serialize|restart transaction",
                                                           json.dumps(b)))
        bursts.append({"send_spread_ms": round(spread, 3), "statuses": dict(Counter(map(str, statuses))),
                       "before": {f: old.get(f) for f in delta}, "after": observed,
                       "expected_after": expected, "successes": successes, "server_errors": len(errors),
                       "serialization_errors": serialization})
        if errors:
            probe.report("PL404", call, f"{len(errors)} of {BURST} synchronized requests failed with 5xx"
                         + (f" ({serialization} mention a serialization failure / 40001)" if serialization else ""),
                         evidence={"burst": bursts[-1], "sample_error": next(
                             (b for s, b in zip(statuses, bodies) if s is None or s >= 500), None),
                             "reproducer": reproducer(probe, call, identity, concurrent=BURST)})
        if len(bursts) >= 2 and _settled(lost) and _settled(overrun):
            break
    evidence = {"bursts": bursts, "single_request_delta": delta,
                "reproducer": reproducer(probe, call, identity, concurrent=BURST)}
    if overrun >= 2:
        probe.report("PL403", call,
                     f"{BURST} synchronized requests against {floor_field} = {overrides[floor_field]} (room for "
                     f"{allowed}) went past the limit: {bursts[-1]['successes']} succeeded, {floor_field} "
                     f"ended at {bursts[-1]['after'][floor_field]}; reproduced {overrun}/{len(bursts)}",
                     evidence=evidence)
    if lost >= 2:
        field_name = next(iter(delta))
        probe.report("PL401", call,
                     f"{BURST} synchronized requests changed {field_name} by "
                     f"{_change(bursts[-1], field_name)}, expected {bursts[-1]['successes']} x {delta[field_name]:g} "
                     f"for the {bursts[-1]['successes']} that succeeded; reproduced {lost}/{len(bursts)}",
                     evidence=evidence)


def _settled(times_seen: int) -> bool:
    """Never seen, or already reproduced: another burst would not change the verdict."""
    return times_seen == 0 or times_seen >= 2


def _change(record: dict, field_name: str) -> str:
    before, after = record["before"].get(field_name), record["after"].get(field_name)
    return f"{after - before:g}" if isinstance(before, (int, float)) and isinstance(after, (int, float)) else "?"


# ---- PL402: duplicate creates ----------------------------------------------------------------------


@check("PL402", active=True)
def duplicate_creates(probe: Probe) -> None:
    identity = probe.identities[0]
    for operation in probe.spec.operations:
        body = example_of(operation.body_schema or {}) if operation.body_example is None else operation.body_example
        if not isinstance(body, dict) or not any(UNIQUE_FIELD.search(k) and isinstance(v, str) for k, v in body.items()):
            continue
        listing = _listing(probe, operation)
        if not (operation.creates or operation.method in ("PUT", "PATCH") and not operation.path_parameters
                and listing is not None):
            continue
        who = identity if operation.secured else None
        shown = 0
        records = []
        for _ in range(TRIES):
            call = probe.fill(operation, body=unique(body, operation.body_schema))
            statuses, spread, _ = burst(probe, call, who, DUPLICATE_BURST)
            successes = sum(ok(s) for s in statuses)
            copies = _copies(probe, listing, call.body, who) if listing else None
            duplicated = copies > 1 if copies is not None else operation.creates and successes > 1
            shown += duplicated
            records.append({"send_spread_ms": round(spread, 3), "statuses": dict(Counter(map(str, statuses))),
                            "successes": successes, "copies_listed": copies})
            if shown >= 2 or len(records) >= 2 and not shown:
                break
        if shown >= 2:
            last = records[-1]
            what = (f"{last['copies_listed']} copies are listed afterwards" if last["copies_listed"] is not None
                    else f"{last['successes']} of them succeeded")
            probe.report("PL402", call, f"{DUPLICATE_BURST} synchronized identical requests with the same "
                         f"{', '.join(k for k in body if UNIQUE_FIELD.search(k))}: {what}; reproduced "
                         f"{shown}/{len(records)}",
                         evidence={"bursts": records, "body": call.body,
                                   "reproducer": reproducer(probe, call, who, concurrent=DUPLICATE_BURST)})


def _listing(probe: Probe, operation: Operation) -> Operation | None:
    return next((op for op in probe.spec.operations if op.method == "GET" and op.path == operation.path
                 and not op.path_parameters), None)


def _copies(probe: Probe, listing: Operation, body: dict, identity: str | None) -> int | None:
    response = probe.http.request("GET", listing.path, identity=identity)
    items = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if isinstance(items, dict):
        items = next((v for v in items.values() if isinstance(v, list)), None)
    if not isinstance(items, list):
        return None
    strings = {k: v for k, v in body.items() if isinstance(v, str)}
    return sum(1 for item in items if isinstance(item, dict) and all(item.get(k) == v for k, v in strings.items()))


# ---- PL405: cross-identity access ------------------------------------------------------------------


@check("PL405", active=False)
def cross_identity_reads(probe: Probe) -> None:
    if len(probe.identities) < 2:
        return
    owner, other = probe.identities[:2]
    for creator in probe.creators():
        if not probe.active:
            continue  # creating the object to read is a write: without --active there is nothing of A's to use
        resource = probe.create(creator, owner, comfortable(creator))
        if resource is None:
            continue
        for target, link in probe.linked(creator):
            if not target.safe or not link.parameters:
                continue
            call = probe.fill(target, [(link, resource)])
            mine = probe.send(call, owner)
            theirs = probe.send(call, other)
            if ok(theirs.status_code) and ok(mine.status_code) and _same_object(_body(mine), _body(theirs)):
                probe.report("PL405", call, f"{other} reads {owner}'s object: {target} answers {theirs.status_code} "
                             f"with the same data {owner} sees",
                             evidence={"owner": owner, "other": other, "owner_view": probe.http.redact(_body(mine)),
                                       "other_view": probe.http.redact(_body(theirs)),
                                       "reproducer": reproducer(probe, call, other)})


@check("PL405", active=True)
def cross_identity_writes(probe: Probe) -> None:
    if len(probe.identities) < 2:
        return
    owner, other = probe.identities[:2]
    for creator, action, links in actions(probe):
        prepared = action_on_new_object(probe, creator, action, links, owner, partner_owner=other)
        if prepared is None:
            continue
        call, subject = prepared
        _, before = probe.read(subject)
        response = probe.send(call, other)
        _, after = probe.read(subject)
        if not ok(response.status_code) or after == before:
            continue
        old = numbers(before)
        changes = {k: (old.get(k), v) for k, v in numbers(after).items() if old.get(k) != v}
        only_credited = changes and len(links) > 1 and all(
            b is not None and a > b for b, a in changes.values())
        if only_credited:
            continue  # the other identity moved its own value into the owner's object: a business flow, not BOLA
        probe.report("PL405", call, f"{other} changed {owner}'s object through {action}: "
                     f"{response.status_code}, and {owner}'s read-back changed",
                     evidence={"owner": owner, "other": other, "before": before, "after": after,
                               "response": probe.http.redact(_body(response)),
                               "reproducer": reproducer(probe, call, other)})


def _body(response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _same_object(mine: Any, theirs: Any) -> bool:
    if mine == theirs and mine not in (None, "", [], {}):
        return True
    if isinstance(mine, dict) and isinstance(theirs, dict):
        shared = [k for k in mine if k in theirs and mine[k] == theirs[k] and mine[k] not in (None, "")]
        return len(shared) >= 2
    return False


# ---- PL406: unauthenticated access ------------------------------------------------------------------


@check("PL406", active=False)
def unauthenticated_access(probe: Probe) -> None:
    owner = probe.identities[0] if probe.identities else None
    resources: dict[str, Resource | None] = {}
    for operation in probe.spec.operations:
        if not operation.secured or not operation.safe and not probe.active:
            continue
        call = _call_with_resource(probe, operation, owner, resources)
        if call is None:
            continue
        for who in (ANONYMOUS, GARBAGE):
            response = probe.send(call, who)
            body = _body(response)
            if ok(response.status_code) and body not in (None, "", [], {}):
                label = "without credentials" if who == ANONYMOUS else "with a garbage token"
                probe.report("PL406", call, f"{operation} requires credentials in the spec but answers "
                             f"{response.status_code} with data {label}",
                             evidence={"response": probe.http.redact(body), "reproducer": reproducer(probe, call, None)})
                break


def _call_with_resource(probe: Probe, operation: Operation, owner: str | None,
                        cache: dict[str, Resource | None]) -> Call | None:
    if not operation.path_parameters:
        return probe.fill(operation)
    for creator in probe.creators():
        for target, link in probe.linked(creator):
            if target is operation and link.parameters:
                if not probe.active or owner is None:
                    return None
                if creator.operation_id not in cache:
                    cache[creator.operation_id] = probe.create(creator, owner, comfortable(creator))
                resource = cache[creator.operation_id]
                return probe.fill(operation, [(link, resource)]) if resource else None
    return probe.fill(operation)


# ---- PL407 / PL408: what a write accepts -----------------------------------------------------------


@check("PL407", active=True)
def invalid_input(probe: Probe) -> None:
    identity = probe.identities[0] if probe.identities else None
    for operation, links, creator in _writes(probe):
        accepted = []
        for label, body in _violations(operation):
            subject = None
            if creator is None:
                call = probe.fill(operation)
            else:
                prepared = action_on_new_object(probe, creator, operation, links, identity)
                if prepared is None:
                    break
                call, subject = prepared
            merged = _merge_links(call.body, body)
            before = probe.read(subject)[1] if subject else None
            response = probe.send(call, identity if operation.secured else None, body=merged)
            if not ok(response.status_code):
                continue
            after = probe.read(subject)[1] if subject else None
            if operation.creates or subject is not None and after != before:
                accepted.append({"violation": label, "body": merged, "status": response.status_code,
                                 "before": before, "after": after})
        if accepted:
            probe.report("PL407", call, f"{operation} accepted {len(accepted)} request(s) that violate its schema "
                         f"and changed state: {', '.join(a['violation'] for a in accepted[:5])}",
                         evidence={"accepted": accepted[:5],
                                   "reproducer": reproducer(probe, call, identity, body=accepted[0]["body"])})


def _writes(probe: Probe):
    """Body-taking writes: creates on their own, actions with the resource they act on."""
    seen = set()
    for creator, action, links in actions(probe):
        seen.add(action.operation_id)
        yield action, links, creator
    for operation in probe.spec.operations:
        if operation.operation_id in seen or operation.safe or not isinstance(operation.body_schema, dict):
            continue
        if operation.path_parameters:
            continue
        yield operation, [], None


def _merge_links(linked: Any, body: Any) -> Any:
    """The violating body, with the linked ids the call needs kept in place."""
    if isinstance(linked, dict) and isinstance(body, dict):
        ids = {k: v for k, v in linked.items() if k not in body and k.endswith(("_id", "_account", "_record_id"))}
        return {**body, **ids}
    return body


def _violations(operation: Operation) -> list[tuple[str, Any]]:
    schema = operation.body_schema or {}
    properties = schema.get("properties") or {}
    if not properties:
        return []
    valid = operation.body_example if isinstance(operation.body_example, dict) else example_of(schema)
    if not isinstance(valid, dict):
        return []
    valid = unique(valid, schema)
    cases: list[tuple[str, Any]] = []
    for name in schema.get("required") or []:
        if name in valid:
            cases.append((f"missing required {name}", {k: v for k, v in valid.items() if k != name}))
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        kind = sub.get("type")
        nullable = sub.get("nullable") or isinstance(kind, list) and "null" in kind
        if kind in ("integer", "number"):
            low = sub.get("minimum", sub.get("exclusiveMinimum"))
            if isinstance(low, (int, float)) and not isinstance(low, bool):
                cases.append((f"{name} below its minimum", {**valid, name: (low - 1) if low > 0 else -5}))
            cases.append((f"{name} as a string", {**valid, name: str(valid.get(name, 1))}))
        elif kind == "string":
            if isinstance(sub.get("maxLength"), int) and sub["maxLength"] < 10_000:
                cases.append((f"{name} longer than {sub['maxLength']}", {**valid, name: "x" * (sub["maxLength"] + 1)}))
            cases.append((f"{name} as a number", {**valid, name: 12345}))
        if not nullable and name in (schema.get("required") or []):
            cases.append((f"{name} null", {**valid, name: None}))
    return cases[:10]


@check("PL408", active=True)
def mass_assignment(probe: Probe) -> None:
    owner = probe.identities[0] if probe.identities else None
    other = probe.identities[1] if len(probe.identities) > 1 else None
    for creator in probe.creators():
        declared = set(((creator.body_schema or {}).get("properties") or {}).keys())
        extras = {k: v for k, v in EXTRA_PROPERTIES.items() if k not in declared}
        if other is not None:
            extras.update({k: probe.user_id(other) for k in OWNER_PROPERTIES if k not in declared})
        if not extras or probe.reader(creator) is None:
            continue
        resource = probe.create(creator, owner, {**comfortable(creator), **extras})
        if resource is None:
            continue
        readers = [owner] + ([other] if other else [])
        stored: dict[str, Any] = {}
        for who in readers:
            status, body = probe.read(resource, who)
            if ok(status) and isinstance(body, dict):
                stored = {k: body[k] for k in extras if k in body and body[k] == extras[k]}
                if stored:
                    break
        if stored:
            call = probe.fill(creator, body=resource.sent)
            probe.report("PL408", call, f"{creator} accepted and stored properties outside its schema: "
                         f"{', '.join(f'{k}={v!r}' for k, v in stored.items())}",
                         evidence={"sent": resource.sent, "read_back": stored,
                                   "reproducer": reproducer(probe, call, owner, body=resource.sent)})


# ---- PL409 / PL410: injection and leaks ------------------------------------------------------------


@check("PL409", active=False)
def sql_injection(probe: Probe) -> None:
    identity = probe.identities[0] if probe.identities else None
    for operation in probe.spec.operations:
        if not operation.safe or operation.path_parameters:
            continue
        for parameter in operation.parameters:
            if parameter.location != "query" or (parameter.schema or {}).get("type", "string") != "string":
                continue
            base = str(parameter.example if parameter.example is not None else example_of(parameter.schema) or "x")
            who = identity if operation.secured else None
            answers = {}
            for label, value in (("baseline", base), ("true", f"{base}' OR '1'='1"), ("false", f"{base}' AND '1'='2"),
                                 ("quote", f"{base}'")):
                call = probe.fill(operation)
                call.params = {**call.params, parameter.name: value}
                response = probe.send(call, who)
                answers[label] = (response.status_code, _body(response), call)
            true, false, quote = (answers[k] for k in ("true", "false", "quote"))
            sizes = {k: count(v[1]) for k, v in answers.items()}
            boolean = (ok(true[0]) and ok(false[0]) and sizes["true"] is not None and sizes["baseline"] is not None
                       and sizes["true"] > sizes["baseline"] and sizes["false"] == sizes["baseline"])
            error = (quote[0] or 0) >= 500 and bool(SQL_ERROR.search(json.dumps(quote[1])))
            if boolean or error:
                how = (f"'{parameter.name}' ending in ' OR '1'='1 returns {sizes['true']} rows where the value "
                       f"itself returns {sizes['baseline']}" if boolean else
                       f"a single quote in '{parameter.name}' makes the database fail ({quote[0]})")
                probe.report("PL409", true[2] if boolean else quote[2], f"SQL injection through {how}",
                             evidence={k: {"status": v[0], "rows": sizes[k], "value": v[2].params[parameter.name]}
                                       for k, v in answers.items()} | {
                                 "reproducer": reproducer(probe, true[2] if boolean else quote[2], who)})


@check("PL410", active=False)
def error_leaks(probe: Probe) -> None:
    """Malformed ids in path parameters, then every response of the run, searched for internals."""
    identity = probe.identities[0] if probe.identities else None
    for operation in probe.spec.operations:
        if operation.safe and operation.path_parameters:
            call = probe.fill(operation)
            for parameter in operation.path_parameters:
                call.path = operation.path.replace("{" + parameter.name + "}", "plumbline'\"")
                probe.send(call, identity if operation.secured else None)
    for exchange in list(probe.http.exchanges):
        text = exchange.response_body if isinstance(exchange.response_body, str) else json.dumps(exchange.response_body)
        match = LEAK.search(text or "")
        if not match:
            continue
        operation = _operation_of(probe, exchange.method, exchange.url)
        if operation is None:
            continue
        call = Call(operation, _path_of(exchange.url), {}, None)
        probe.report("PL410", call, f"{operation} answered {exchange.status} with internals ({match.group(0)!r})",
                     evidence={"exchange": exchange.as_evidence()})


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else "/"


def _operation_of(probe: Probe, method: str, url: str) -> Operation | None:
    path = _path_of(url)
    for operation in probe.spec.operations:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.path)) + "$"
        if operation.method == method and re.match(pattern, path):
            return operation
    return None


# ---- PL411: replays -----------------------------------------------------------------------------------


@check("PL411", active=True)
def idempotency_key_replay(probe: Probe) -> None:
    identity = probe.identities[0] if probe.identities else None
    for operation in probe.spec.operations:
        if operation.safe or not operation.declares_header("Idempotency-Key"):
            continue
        call = probe.fill(operation, body=unique(operation.body_example, operation.body_schema)
                          if isinstance(operation.body_example, dict) else None)
        key = {"Idempotency-Key": f"plumbline-{id(call)}"}
        first = probe.send(call, identity, extra_headers=key)
        second = probe.send(call, identity, extra_headers=key)
        if ok(first.status_code) and ok(second.status_code) and _body(first) != _body(second):
            probe.report("PL411", call, f"{operation} applied the same Idempotency-Key twice: the two answers differ",
                         evidence={"first": _body(first), "second": _body(second),
                                   "reproducer": reproducer(probe, call, identity)})
