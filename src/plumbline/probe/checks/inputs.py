"""PL407 - PL411: what a write accepts (invalid input, extra properties), injection, leaks and replays."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from typing import Any

from plumbline.probe.checks.common import (
    Target,
    action_on_new_object,
    actions,
    answer_of,
    check,
    comfortable,
    count,
    existing_target,
    ok,
    reproducer,
)
from plumbline.probe.encoders import JSON
from plumbline.probe.engine import (
    Call,
    Probe,
    succeeded,
    unique,
)
from plumbline.probe.origin import fill_path
from plumbline.probe.resources import SOURCE_NOTES, family, unwrap, with_fields
from plumbline.probe.spec import Operation, enveloped, example_of
from plumbline.vocabulary import (
    OWNER_CANDIDATES,
    PRIVILEGED_VALUES,
    is_owner,
    is_version,
)

LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|SQLSTATE|\bpsycopg|sqlalchemy\.exc|"
    r"syntax error at or near|unterminated quoted string|could not serialize access|restart transaction|"
    r"violates (not-null|check|foreign key|unique) constraint|duplicate key value|invalid input syntax for|"
    r"relation \"[^\"]+\" does not exist|column \"[^\"]+\" does not exist|botocore|ClientError|"
    r"ConditionalCheckFailed|ValidationException|TransactionCanceledException|ProvisionedThroughputExceeded|"
    r"\b(ip-\d+-\d+-\d+-\d+|[a-z0-9-]+\.(internal|local|svc\.cluster\.local))\b|werkzeug\.exceptions|KeyError: ",
    re.I)


@check("PL407", active=True, applies=lambda op: not op.safe and isinstance(op.body_schema, dict))
def invalid_input(probe: Probe) -> None:
    identity = probe.owner
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
            merged = _merge_links(call, body)
            probe.ran(operation, SOURCE_NOTES[subject.source] if subject else "")
            before = probe.read(subject)[1] if subject else None
            response = probe.send(call, probe.caller(operation), body=merged)
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


def _merge_links(call: Call, body: Any) -> Any:
    """The violating body, with the values the call took from linked objects kept in place."""
    if isinstance(call.body, dict) and isinstance(body, dict):
        return {**body, **{k: v for k, v in call.body.items() if k in call.linked_fields and k not in body}}
    return body


def _violations(operation: Operation) -> list[tuple[str, Any]]:
    """Bodies that break the schema. A form or multipart body carries only text: a number or a null is not
    expressible there, so only missing fields, bounds and lengths are tried."""
    typed = operation.body_media_type in (None, JSON)
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
            if typed:  # not "12" for 12: a lenient parser reads the same number from it
                cases.append((f"{name} as text", {**valid, name: "plumbline"}))
        elif kind == "string":
            if isinstance(sub.get("maxLength"), int) and sub["maxLength"] < 10_000:
                cases.append((f"{name} longer than {sub['maxLength']}", {**valid, name: "x" * (sub["maxLength"] + 1)}))
            if typed:
                cases.append((f"{name} as a number", {**valid, name: 12345}))
        if typed and not nullable and name in (schema.get("required") or []):
            cases.append((f"{name} null", {**valid, name: None}))
    return cases[:10]


def is_update(operation: Operation) -> bool:
    return operation.method in ("PUT", "PATCH") and isinstance(operation.body_schema, dict)


@check("PL408", active=True, applies=lambda op: op.creates or is_update(op))
def mass_assignment(probe: Probe) -> None:
    """Creates and updates sent with properties outside their schema, inside the body's envelope if it has
    one, all together and, when the API refuses that, one kind at a time (one unknown property of a strict
    kind must not hide another); reported when a read-back shows one of them stored."""
    owner = probe.owner
    other = probe.identities[1] if len(probe.identities) > 1 else None
    _updates_take_extras(probe, owner, other)
    for creator in probe.creators():
        groups = injections(probe, creator, probe.user_id(other) if other else None)
        if not groups or not probe.readable(creator):
            probe.skipped(creator, "no read-back found" if groups else "no property to inject")
            continue
        for attempt, extras in enumerate(_attempts(groups)):
            resource = probe.create(creator, owner, {**comfortable(creator), **extras})
            if resource is None:
                continue
            probe.ran(creator, SOURCE_NOTES[resource.source])
            stored: dict[str, Any] = {}
            for who in [owner] + ([other] if other else []):
                status, body = probe.read(resource, who)
                stored = stored_extras(body, extras) if ok(status) else {}
                if stored:
                    break
            if stored:
                call = probe.fill(creator, body=resource.sent, given=resource.path_values)
                probe.report("PL408", call, f"{creator} accepted and stored properties outside its schema: "
                             f"{', '.join(f'{k}={v!r}' for k, v in stored.items())}",
                             evidence={"sent": resource.sent, "read_back": stored,
                                       "reproducer": reproducer(probe, call, owner, body=resource.sent)})
            if stored or attempt == 0:
                break  # shown, or every property was taken at once: no kind is left to try alone


def _updates_take_extras(probe: Probe, owner: str | None, other: str | None) -> None:
    """PUT and PATCH on an object that exists (a singleton such as `PATCH /profile`, a seeded or seen object)
    with properties outside their schema, read back by a GET of the same object. An update that moved the
    object to another key (its `id` or `slug` rewritten) is read there, then moved back."""
    probe.discover()
    for update in filter(is_update, probe.spec.operations):
        target = existing_target(probe, update, owner)
        groups = injections(probe, update, probe.user_id(other) if other else None)
        if isinstance(target, str) or not groups or not isinstance(target.call.body, dict):
            probe.skipped(update, target if isinstance(target, str) else "no property to inject")
            continue
        probe.ran(update, target.note)
        for attempt, extras in enumerate(_attempts(groups)):
            body = with_fields(target.call.body, extras)
            if not succeeded(probe.send(target.call, owner, body=body)):
                continue
            stored, moved = stored_extras(target.read(), extras), _moved(probe, update, target, extras, owner)
            if moved is not None:
                stored = stored or stored_extras(moved.read(), extras)
                probe.send(moved.call, owner, body=with_fields(target.call.body, dict(target.call.path_values)))
            if stored:
                probe.report("PL408", target.call, f"{update} accepted and stored properties outside its schema: "
                             f"{', '.join(f'{k}={v!r}' for k, v in stored.items())}",
                             evidence={"sent": body, "read_back": stored,
                                       "reproducer": reproducer(probe, target.call, owner, body=body)})
            if stored or attempt == 0:
                break  # shown, or every property was taken at once: no kind is left to try alone


def _moved(probe: Probe, update: Operation, target: Target, extras: dict, owner: str | None) -> Target | None:
    """The object under its new key when an injected property renamed it and its old key no longer reads."""
    keys = {p.name: extras[p.name] for p in update.path_parameters if p.name in extras}
    if not keys and "id" in extras and update.path_parameters:
        keys = {update.path_parameters[-1].name: extras["id"]}
    if not keys or target.read() not in (None, "", {}):
        return None
    moved = existing_target(probe, update, owner, given=keys)
    return moved if not isinstance(moved, str) else None


def _attempts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every injected property at once, then, when the API refuses that, each kind alone."""
    merged = {k: v for group in groups for k, v in group.items()}
    return [merged] + (groups if len(groups) > 1 else [])


def stored_extras(read_back: Any, extras: dict[str, Any]) -> dict[str, Any]:
    """The injected properties that the read-back shows with the value sent (a date as the API formats it)."""
    shown = unwrap(read_back)
    if not isinstance(shown, dict):
        return {}
    return {k: shown[k] for k, v in extras.items() if k in shown and _same_value(v, shown[k])}


def _same_value(sent: Any, shown: Any) -> bool:
    if sent == shown:
        return True
    if isinstance(sent, str) and isinstance(shown, str) and INJECTED_DATE.match(sent):
        return shown[:19].replace(" ", "T") == sent[:19]
    return False


INJECTED_DATE = re.compile(r"2001-02-03(T04:05:06)?")


def injections(probe: Probe, operation: Operation, other_id: Any) -> list[dict[str, Any]]:
    """Properties the write's schema omits, in groups of one kind, with the value that would show they were
    stored: privileged names (`role`, `is_admin`, `price`...); owner references set to the other identity's id;
    whatever the same resource's answers show but the write does not take (a readable `createdAt`, `version`),
    with a value of its type that the API would not choose itself; and, alone, those that name the object in the
    path (`slug`, `id`: an API may read them instead of the path's). Inside envelopes throughout."""
    properties = enveloped(operation.body_schema)[1].get("properties") or {}
    declared = {name for name, sub in properties.items() if not (isinstance(sub, dict) and sub.get("readOnly"))}
    readable: dict[str, dict] = {}
    for op in probe.spec.operations:
        if family(op.path) == family(operation.path):
            for schema in op.responses.values():
                readable.update({k: v for k, v in _properties(schema).items() if k not in readable})
    privileged = {k: v for k, v in PRIVILEGED_VALUES.items() if k not in declared}
    owners = {k: other_id for k in OWNER_CANDIDATES if k not in declared} if other_id is not None else {}
    shown: dict[str, Any] = {}
    for name, schema in readable.items():
        if name in declared or name in privileged:
            continue
        if is_owner(name):
            if other_id is not None:
                owners[name] = other_id
        elif is_version(name):
            shown[name] = 999
        else:
            value = _unlikely_value(schema)
            if value is not None:
                shown[name] = value
    keys = {name: shown.pop(name) for name in [p.name for p in operation.path_parameters] if name in shown}
    return [group for group in (privileged, owners, shown, keys) if group]


def _unlikely_value(schema: dict) -> Any:
    """A value of the schema's type that an API would not pick itself: a far id, a date long past, a marked
    string; None for booleans, lists and objects (a default could equal any guess)."""
    kind = schema.get("type")
    if kind == "integer":
        return 987_000 + secrets.randbelow(1000)
    if kind == "string" and not schema.get("enum"):
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt in ("date-time", "date"):
            return "2001-02-03T04:05:06" if fmt == "date-time" else "2001-02-03"
        return None if fmt else f"plumbline-set-{secrets.token_hex(3)}"
    return None


def _properties(schema: dict | None) -> dict[str, dict]:
    """Property schemas of an answer, of its items for a list, inside an envelope (`{"articles": [...]}`)."""
    schema = schema or {}
    if isinstance(schema.get("items"), dict):
        schema = schema["items"]
    schema = enveloped(schema)[1]
    lists = [sub for sub in (schema.get("properties") or {}).values()
             if isinstance(sub, dict) and isinstance(sub.get("items"), dict)]
    if not (schema.get("properties") or {}).get("id") and len(lists) == 1:
        schema = lists[0]["items"]
    return {name: sub for name, sub in (schema.get("properties") or {}).items() if isinstance(sub, dict)}


# ---- PL409 / PL410: injection and leaks ------------------------------------------------------------


def injection_points(probe: Probe, operation: Operation) -> list[tuple[str, str, Any]]:
    """(where, name, ordinary value) for each string input: query and path parameters, and with --active the
    string fields of a write's JSON body."""
    points = [(p.location, p.name, p.example if p.example is not None else example_of(p.schema) or "x")
              for p in operation.parameters if p.location in ("query", "path")
              and (p.schema or {}).get("type", "string") == "string"]
    if probe.active and not operation.safe and isinstance(operation.body_example, dict):
        points += [("body", k, v) for k, v in operation.body_example.items() if isinstance(v, str)]
    return points


def _injected(probe: Probe, operation: Operation, where: str, name: str, value: str, who: str | None):
    """The answer of `operation` with input `name` set to `value`: (status, body, call)."""
    call = probe.fill(operation)
    if where == "query":
        call.params = {**call.params, name: value}
    elif where == "path":
        call.path_values = {**call.path_values, name: value}
        call.path = fill_path(operation.path, call.path_values)
    elif isinstance(call.body, dict):
        call.body = {**call.body, name: value}
    response = probe.send(call, who)
    return response.status_code, answer_of(response), call


@check("PL409", active=False, applies=lambda op: any(p.location in ("query", "path") for p in op.parameters)
       or not op.safe and isinstance(op.body_example, dict))
def sql_injection(probe: Probe) -> None:
    """A tautology that lists more rows than the value itself, a quote that makes the database fail, or a lone
    quote that turns an ordinary answer into a 5xx while a doubled (escaped) one does not."""
    for operation in probe.spec.operations:
        if not operation.safe and not probe.active:
            probe.skipped(operation, "needs --active")
            continue
        who = probe.caller(operation)
        for where, name, example in injection_points(probe, operation):
            base = str(example)
            answers = {label: _injected(probe, operation, where, name, value, who) for label, value in (
                ("baseline", base), ("true", f"{base}' OR '1'='1"), ("false", f"{base}' AND '1'='2"),
                ("quote", f"{base}'"), ("escaped", f"{base}''"))}
            probe.ran(operation, f"{where} {name}")
            true, false, quote = (answers[k] for k in ("true", "false", "quote"))
            sizes = {k: count(v[1]) for k, v in answers.items()}
            boolean = (ok(true[0]) and ok(false[0]) and sizes["true"] is not None and sizes["baseline"] is not None
                       and sizes["true"] > sizes["baseline"] and sizes["false"] == sizes["baseline"])
            broke = (quote[0] or 0) >= 500 and (answers["baseline"][0] or 0) < 500
            error = broke and (answers["escaped"][0] or 0) < 500  # an invalid id breaks both: not an injection
            if boolean or error:
                how = (f"'{name}' ending in ' OR '1'='1 returns {sizes['true']} rows where the value "
                       f"itself returns {sizes['baseline']}" if boolean else
                       f"a single quote in {where} '{name}' makes the database fail ({quote[0]}, where the value "
                       f"itself answers {answers['baseline'][0]} and a doubled quote {answers['escaped'][0]})")
                shown = true[2] if boolean else quote[2]
                probe.report("PL409", shown, f"SQL injection through {how}",
                             evidence={k: {"status": v[0], "rows": sizes[k], "where": where, "name": name}
                                       for k, v in answers.items()} | {"reproducer": reproducer(probe, shown, who)})


@check("PL410", active=False, applies=lambda op: op.safe and bool(op.path_parameters))
def error_leaks(probe: Probe) -> None:
    """Malformed ids in path parameters, then every response of the run, searched for internals."""
    for operation in probe.spec.operations:
        if operation.safe and operation.path_parameters:
            call = probe.fill(operation)
            probe.ran(operation, "malformed ids")
            for parameter in operation.path_parameters:
                call.path = fill_path(operation.path, {parameter.name: "plumbline'\""})
                probe.send(call, probe.caller(operation))
    routes = [(operation, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.path)) + "$"))
              for operation in probe.spec.operations]
    for exchange in list(probe.http.exchanges):
        text = exchange.response_body if isinstance(exchange.response_body, str) else json.dumps(exchange.response_body)
        match = LEAK.search(text or "")
        if not match:
            continue
        path = _path_of(probe, exchange.url)
        operation = next((op for op, route in routes if op.method == exchange.method and route.match(path)), None)
        if operation is None:
            continue
        call = Call(operation, path, {}, None)
        probe.report("PL410", call, f"{operation} answered {exchange.status} with internals ({match.group(0)!r})",
                     evidence={"exchange": exchange.as_evidence()})


def _path_of(probe: Probe, url: str) -> str:
    """The path of a request URL under the base URL, without its query."""
    return url[len(probe.http.base_url):].split("?", 1)[0] or "/"


# ---- PL411: replays -----------------------------------------------------------------------------------


@check("PL411", active=True, applies=lambda op: not op.safe and op.declares_header("Idempotency-Key"))
def idempotency_key_replay(probe: Probe) -> None:
    identity = probe.owner
    for operation in probe.spec.operations:
        if operation.safe or not operation.declares_header("Idempotency-Key"):
            continue
        call = probe.fill(operation, body=unique(operation.body_example, operation.body_schema)
                          if isinstance(operation.body_example, dict) else None)
        key = {"Idempotency-Key": f"plumbline-{id(call)}"}
        probe.ran(operation)
        first = probe.send(call, identity, extra_headers=key)
        second = probe.send(call, identity, extra_headers=key)
        if ok(first.status_code) and ok(second.status_code) and answer_of(first) != answer_of(second):
            probe.report("PL411", call, f"{operation} applied the same Idempotency-Key twice: the two answers differ",
                         evidence={"first": answer_of(first), "second": answer_of(second),
                                   "reproducer": reproducer(probe, call, identity)})
