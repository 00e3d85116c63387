"""PL405 / PL406: who may read and change an object: another identity, anyone without credentials."""

from __future__ import annotations

import re
from typing import Any

from plumbline.probe.checks.common import (
    action_on_new_object,
    actions,
    answer_of,
    check,
    comfortable,
    is_action,
    is_read_of_one,
    numbers,
    ok,
    reproducer,
)
from plumbline.probe.engine import (
    NO_OBJECT,
    Call,
    Probe,
    Resource,
)
from plumbline.probe.http import ANONYMOUS, GARBAGE
from plumbline.probe.origin import fill_path
from plumbline.probe.resources import SOURCE_NOTES, items_of, unwrap
from plumbline.probe.spec import Operation
from plumbline.vocabulary import (
    is_owner,
)


def owner_inputs(operation: Operation) -> list[str]:
    """Path and query parameters that name the object's owner: `/users/{owner}/notes`, `?user_id=`."""
    return [p.name for p in operation.parameters if p.location in ("path", "query") and is_owner(p.name)]


@check("PL405", active=False, identities=2,
       applies=lambda op: is_read_of_one(op) or op.safe and bool(owner_inputs(op)))
def cross_identity_reads(probe: Probe) -> None:
    owner, other = probe.identities[:2]
    _reads_by_owner_id(probe, owner, other)
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
            probe.ran(target, SOURCE_NOTES[resource.source])
            mine = probe.send(call, owner)
            theirs = probe.send(call, other)
            _report_if_shared(probe, call, owner, mine, other, theirs,
                              f"{other} reads {owner}'s object: {target} answers {theirs.status_code} "
                              f"with the same data {owner} sees")


def _reads_by_owner_id(probe: Probe, owner: str, other: str) -> None:
    """Reads addressed by the owner's id (a path segment or a query parameter): the other identity asks
    with the owner's id."""
    probe.discover()
    mine = probe.known_user_id(owner)
    for operation in probe.spec.operations:
        names = owner_inputs(operation) if operation.safe else []
        if not names:
            continue
        if mine is None:
            probe.skipped(operation, "needs each identity's own id")
            continue
        call = probe.fill(operation, given={name: mine for name in names})
        if call.source == "generated":
            probe.skipped(operation, NO_OBJECT)
            continue
        probe.ran(operation, f"{owner}'s id in {', '.join(names)}")
        theirs, own = probe.send(call, other), probe.send(call, owner)
        _report_if_shared(probe, call, owner, own, other, theirs,
                          f"{other} reads {owner}'s objects by asking with {owner}'s id in {', '.join(names)}: "
                          f"{operation} answers {theirs.status_code} with the data {owner} sees")


def _report_if_shared(probe: Probe, call, owner: str, mine, other: str, theirs, message: str) -> None:
    """PL405 when `other`'s answer shows what `owner` sees, with both views and a reproducer as evidence."""
    if _shared_with(probe, call, mine, theirs, other):
        probe.report("PL405", call, message,
                     evidence={"owner": owner, "other": other, "owner_view": probe.http.redact(answer_of(mine)),
                               "other_view": probe.http.redact(answer_of(theirs)),
                               "reproducer": reproducer(probe, call, other)})


@check("PL405", active=True, identities=2, applies=lambda op: is_action(op) and bool(op.path_parameters))
def cross_identity_writes(probe: Probe) -> None:
    """The other identity acts on a fresh object of the owner's. Not cross-identity access: what anyone does
    without credentials (PL406's concern), a transfer that only credits the owner, and a counter that only
    goes up on an object shared by design (a clap on a post that everyone is listed)."""
    owner, other = probe.identities[:2]
    for creator, action, links in actions(probe):
        prepared = action_on_new_object(probe, creator, action, links, owner, partner_owner=other)
        if prepared is None:
            continue
        call, subject = prepared
        probe.ran(action, SOURCE_NOTES[subject.source])
        _, before = probe.read(subject)
        if ok(probe.send(call, ANONYMOUS).status_code) and probe.read(subject)[1] != before:
            probe.ran(action, "anyone changes it without credentials: not a matter of identities")
            continue
        response = probe.send(call, other)
        _, after = probe.read(subject)
        if not ok(response.status_code) or after == before:
            continue
        old = numbers(before)
        changes = {k: (old.get(k), v) for k, v in numbers(after).items() if old.get(k) != v}
        only_raised = bool(changes) and all(
            b is not None and a > b for b, a in changes.values())
        if only_raised and (len(links) > 1 or _shared_by_design(probe, creator, subject, other)):
            continue  # a credit to the owner's object, or a clap or like on a public one: a business flow, not BOLA
        probe.report("PL405", call, f"{other} changed {owner}'s object through {action}: "
                     f"{response.status_code}, and {owner}'s read-back changed",
                     evidence={"owner": owner, "other": other, "before": before, "after": after,
                               "response": probe.http.redact(answer_of(response)),
                               "reproducer": reproducer(probe, call, other)})


def _shared_by_design(probe: Probe, creator: Operation, subject: Resource, other: str) -> bool:
    """Whether the object is public: its linked GET shows it without credentials, or its collection's
    listing shows it to the other identity."""
    found = probe.reader(creator)
    if found is None:
        return False
    call = probe.fill(found[0], [(found[1], subject)])
    mine = probe.send(call, subject.owner)
    return ok(mine.status_code) and _public(probe, call, answer_of(mine), other)


def _shared_with(probe: Probe, call: Call, mine, theirs, other: str) -> bool:
    """Whether the other identity received the owner's data, and the object is not public: an object that
    anyone reads without credentials, or that the collection's listing shows the other identity, is shared
    by design, not another user's (PL406 judges operations that the spec says need credentials)."""
    if not (ok(theirs.status_code) and ok(mine.status_code) and _same_object(answer_of(mine), answer_of(theirs))):
        return False
    return not _public(probe, call, answer_of(mine), other)


def _public(probe: Probe, call: Call, mine: Any, who: str) -> bool:
    """Whether the object `call` reads is shown without credentials, or listed to `who`."""
    anyone = probe.send(call, ANONYMOUS)
    if ok(anyone.status_code) and _same_object(mine, answer_of(anyone)):
        return True
    return _listed_to(probe, call, mine, who)


def _listed_to(probe: Probe, call: Call, mine: Any, who: str) -> bool:
    """Whether the listing of the object's collection (`GET /posts` for `GET /posts/{id}`), asked by `who`,
    shows the object: the API lists it to everyone."""
    collection = re.sub(r"/\{[^/}]+\}$", "", call.operation.path)
    listing = next((op for op in probe.spec.operations if op.method == "GET" and op.path == collection), None)
    if listing is None or collection == call.operation.path or owner_inputs(listing):
        return False  # a listing under the owner's segment is itself what is checked (`/users/{owner}/notes`)
    values = {p.name: call.path_values.get(p.name) for p in listing.path_parameters}
    if any(value is None for value in values.values()):
        return False
    key = call.path_values.get(call.operation.path_parameters[-1].name)
    listed = probe.send(Call(listing, fill_path(listing.path, values), {}, None, path_values=values), who)
    return ok(listed.status_code) and any(key in item.values() and _same_object(unwrap(mine), item)
                                          for item in items_of(answer_of(listed)))


def _same_object(mine: Any, theirs: Any) -> bool:
    """Whether two answers show one object: equal, or sharing at least two non-empty values (inside an
    envelope, `{"article": {...}}`, too)."""
    mine, theirs = unwrap(mine), unwrap(theirs)
    if mine == theirs and mine not in (None, "", [], {}):
        return True
    if isinstance(mine, dict) and isinstance(theirs, dict):
        shared = [k for k in mine if k in theirs and mine[k] == theirs[k] and mine[k] not in (None, "")]
        return len(shared) >= 2
    return False


# ---- PL406: unauthenticated access ------------------------------------------------------------------


@check("PL406", active=False, applies=lambda op: op.secured and op.safe)
def unauthenticated_access(probe: Probe) -> None:
    """Operations that need credentials (the spec says so or, in a spec that says nothing of security, a GET of
    the same resource refuses a request without them) sent without any and with a garbage token."""
    owner = probe.owner
    resources: dict[str, Resource | None] = {}
    for operation in probe.spec.operations:
        if not operation.safe and not probe.active or not probe.needs_credentials(operation):
            continue
        call = _call_with_resource(probe, operation, owner, resources)
        if call is None:
            probe.skipped(operation, NO_OBJECT if probe.active else f"{NO_OBJECT} (needs --active to create one)")
            continue
        probe.ran(operation, "a created object" if operation.path_parameters and call.path_values
                  and resources else "")
        hint = None if operation.secured else probe.hinted_by(operation)
        for who in (ANONYMOUS, GARBAGE):
            response = probe.send(call, who)
            body = answer_of(response)
            if ok(response.status_code) and body not in (None, "", [], {}):
                label = "without credentials" if who == ANONYMOUS else "with a garbage token"
                needs = ("requires credentials in the spec" if hint is None else
                         f"belongs to a resource that requires credentials ({hint} answers 401/403 without them)")
                probe.report("PL406", call, f"{operation} {needs} but answers {response.status_code} with data "
                             f"{label}", confidence="high" if hint is None else "medium",
                             evidence={"response": probe.http.redact(body), "needs_credentials_because":
                                       "the spec's security" if hint is None else f"{hint} refuses anonymous reads",
                                       "reproducer": reproducer(probe, call, None)})
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
