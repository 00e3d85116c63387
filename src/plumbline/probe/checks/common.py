"""What the probe checks share: the registry, the operations each check applies to, and the objects,
requests, bursts and read-backs they work with."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from plumbline.probe.burst import BurstResponse
from plumbline.probe.engine import (
    NO_OBJECT,
    Call,
    Check,
    Probe,
    Resource,
)
from plumbline.probe.http import ANONYMOUS, GARBAGE, json_of
from plumbline.probe.origin import fill_path
from plumbline.probe.resources import SOURCE_NOTES, items_of, unwrap
from plumbline.probe.spec import Link, Operation, enveloped
from plumbline.vocabulary import SIGN_UP_PATH, is_owner

CHECKS: list[Check] = []

BURST = 20
TRIES = 3  # a race is reported when it shows in 2 of at most 3 bursts


def check(*rule_ids: str, active: bool, applies: Callable[[Operation], bool], identities: int = 0):
    """Register a check for the rules it reports; `active` checks change state and run only with --active;
    a check that compares identities runs only when it has `identities` of them. The others run as the
    first identity, or without credentials when none is given. `applies` says which operations the check
    is meant to exercise: each of them is reported in the coverage, as run or as skipped."""
    def register(function: Callable[[Probe], None]) -> Callable[[Probe], None]:
        CHECKS.append(Check(rule_ids, active, identities, function, applies))
        return function
    return register


def is_action(operation: Operation) -> bool:
    return not operation.safe and not operation.creates and not signs_up(operation)


def signs_up(operation: Operation) -> bool:
    """A registration (`POST /register`, `/auth/signup`): it makes an account, not a change to an object."""
    return operation.method == "POST" and not operation.path_parameters and bool(SIGN_UP_PATH.search(operation.path))


def is_read_of_one(operation: Operation) -> bool:
    return operation.safe and bool(operation.path_parameters)


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


def burst(probe: Probe, call: Call, identity: str, size: int
          ) -> tuple[list[int | None], float, list[Any], list[dict[str, Any]]]:
    """`size` synchronized copies of `call`: their statuses, the send spread, their bodies and their timeline."""
    prepared = [probe.http.prepare(call.operation.method, call.path, identity=identity, json_body=call.body,
                                   params=call.params, media_type=call.operation.body_media_type)] * size
    result = probe.http.burst(prepared, identity)
    bodies = []
    for response in result.responses:
        value = json_of(response.body)
        bodies.append(value if value is not None or not response.body else response.body[:300].decode("utf-8", "replace"))
    return [r.status for r in result.responses], result.send_spread_ms, bodies, timeline(result.responses)


def timeline(responses: list[BurstResponse]) -> list[dict[str, Any]]:
    """Each request of a burst as evidence, in the order sent: when its final byte left and when its answer was
    read (ms after the burst's first final byte; null when never sent), and its status (null: no answer)."""
    rows = []
    for response in responses:
        sent = response.sent_ms
        row = {"sent_ms": None if sent is None else round(sent, 3),
               "received_ms": None if sent is None else round(sent + response.elapsed_ms, 3),
               "status": response.status}
        if response.error:
            row["error"] = response.error
        rows.append(row)
    return rows


def numeric_properties(operation: Operation) -> dict[str, dict]:
    """The numeric properties of a write's body (inside its envelope when it has one)."""
    properties = enveloped(operation.body_schema)[1].get("properties") or {}
    return {name: schema for name, schema in properties.items()
            if isinstance(schema, dict) and schema.get("type") in ("integer", "number") and not schema.get("readOnly")}


def bounded(schema: dict, wanted: int) -> int:
    maximum = schema.get("maximum")
    return min(wanted, int(maximum)) if isinstance(maximum, (int, float)) else wanted


def actions(probe: Probe) -> list[tuple[Operation, Operation, list[Link]]]:
    """(creator, action, links) for each state-changing operation on a created resource that can be read back."""
    found = []
    for creator in probe.creators():
        if not probe.readable(creator):
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


@dataclass
class Target:
    """An action ready to send on one object, and how to read that object's state back."""

    call: Call
    read: Callable[[], Any]
    note: str  # what the object is, for the coverage


def existing_target(probe: Probe, action: Operation, identity: str | None, pick: int = 0,
                    given: dict[str, Any] | None = None) -> Target | str:
    """`action` on an object that already exists, or why there is none. `pick` > 0 asks for another object
    seen in the answers so far, when there is one (each burst on an unspent object: a coupon, a seat);
    `given` sets path values (an object whose key an update changed)."""
    call = probe.fill(action, given=given)
    if call.source == "generated":
        return NO_OBJECT
    if pick and action.path_parameters:
        name = action.path_parameters[-1].name
        seen = [v for v in probe.sightings.for_input(name, action.path) if v != call.path_values.get(name)]
        if seen:
            call = probe.fill(action, given={**(given or {}), name: seen[(pick - 1) % len(seen)]})
            call.source = "found"
    key = call.path_values.get(action.path_parameters[-1].name) if action.path_parameters else None
    found = read_back(probe, action)
    if found is not None:
        reader, listed = found
        values = {p.name: call.path_values.get(p.name) for p in reader.path_parameters}
        if any(v is None for v in values.values()):
            return "no read-back found"
        shows = [Shown(Call(reader, fill_path(reader.path, values), {}, None, path_values=values), key, listed)]
    else:
        shows = reads_elsewhere(probe, action, key, identity) if key is not None else []
        if not shows:
            return "no read-back found"

    def read() -> Any:
        seen = {shown.call.operation.path: shown.show(probe.send(shown.call, identity)) for shown in shows}
        return next(iter(seen.values())) if len(seen) == 1 else seen

    note = SOURCE_NOTES["singleton"] if not action.path_parameters else SOURCE_NOTES[call.source]
    return Target(call, read, note)


@dataclass
class Shown:
    """A read that shows one object: the object itself, or the item of a listing that carries its key."""

    call: Call
    key: Any
    listed: bool

    def show(self, response) -> Any:
        body = answer_of(response)
        if not self.listed:
            return body
        return next((item for item in items_of(body) if self.key in item.values()), None)


MAX_READS_ELSEWHERE = 4


def reads_elsewhere(probe: Probe, action: Operation, key: Any, identity: str | None) -> list[Shown]:
    """Reads of other resource families that show the object `action` works on (`/sweets` for
    `/inventory/{id}/purchase`): every listing, and every GET of one object asked with the same key, whose
    answer holds an object with that id. Several can: each is read, and the effect learnt tells which moved."""
    found: list[Shown] = []
    for reader in probe.spec.operations:
        if reader.method != "GET" or len(reader.path_parameters) > 1 or any(
                is_owner(p.name) for p in reader.parameters):
            continue
        given = {p.name: key for p in reader.path_parameters}
        call = probe.fill(reader, given=given)
        shown = Shown(call, key, listed=not given)
        response = probe.send(call, identity)
        body = shown.show(response) if ok(response.status_code) else None
        if isinstance(unwrap(body), dict) and str(unwrap(body).get("id")) == str(key):
            found.append(shown)
            if len(found) == MAX_READS_ELSEWHERE:
                break
    return found


def read_back(probe: Probe, action: Operation) -> tuple[Operation, bool] | None:
    """A GET that shows the state `action` changes, and whether it is a listing to pick the object from:
    the same path, the parent path (`/products/{code}` for `/products/{code}/buy`, `/wallet` for
    `/wallet/spend`), or the parent collection (`/products`)."""
    gets = {op.path.rstrip("/"): op for op in probe.spec.operations if op.method == "GET"}
    path = action.path.rstrip("/")
    parent = path.rsplit("/", 1)[0] if not path.endswith("}") else path
    for candidate in dict.fromkeys((path, parent)):
        if candidate in gets:
            return gets[candidate], False
    collection = re.sub(r"/\{[^/}]+\}$", "", parent)
    if collection != parent and collection in gets:
        return gets[collection], True
    return None


def answer_of(response) -> Any:
    value = json_of(response.content)
    return value if value is not None else response.text[:500]
