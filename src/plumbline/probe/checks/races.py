"""PL401 / PL403 / PL404: an action raced on one object, read back before and after each burst."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from plumbline.probe.checks.common import (
    BURST,
    TRIES,
    Target,
    action_on_new_object,
    actions,
    burst,
    check,
    comfortable,
    existing_target,
    is_action,
    numbers,
    numeric_properties,
    reproducer,
)
from plumbline.probe.engine import (
    Call,
    Probe,
    accepted_answer,
    succeeded,
)
from plumbline.probe.resources import SOURCE_NOTES
from plumbline.probe.spec import Operation
from plumbline.vocabulary import (
    ceiling_of,
    is_quantity,
)


@check("PL401", "PL403", "PL404", active=True, applies=is_action)
def concurrent_actions(probe: Probe) -> None:
    """Each action on a fresh object (through the creator its links name), else on an object that exists
    (seeded by the spec, listed, seen in an answer) or on the caller's singleton, read back by a GET of the
    same path, of its parent (`/wallet` for `/wallet/spend`), or of the parent collection."""
    identity = probe.owner
    with_creator = set()
    for creator, action, links in actions(probe):
        with_creator.add(action.operation_id)

        def fresh(overrides=None, creator=creator, action=action, links=links) -> Target | None:
            prepared = action_on_new_object(probe, creator, action, links, identity, overrides=overrides)
            if prepared is None:
                return None
            call, subject = prepared
            return Target(call, lambda: probe.read(subject)[1], SOURCE_NOTES[subject.source])

        _learn_and_race(probe, action, identity, fresh(), fresh, creator)
    probe.discover()
    for action in probe.spec.operations:
        if is_action(action) and action.operation_id not in with_creator:
            if action.method == "DELETE":  # never additive; on an object the probe did not make, only destructive
                probe.skipped(action, "a DELETE of an object the probe did not create")
                continue
            target = existing_target(probe, action, identity)
            if isinstance(target, str):
                probe.skipped(action, target)
                continue
            picks = itertools.count(1)

            def another(overrides=None, action=action, picks=picks) -> Target | None:
                """Each burst on another object seen, when there are others (a coupon, once spent, stays spent)."""
                found = existing_target(probe, action, identity, next(picks))
                return None if isinstance(found, str) else found

            _learn_and_race(probe, action, identity, target, another)


def _learn_and_race(probe: Probe, action: Operation, identity: str | None, first: Target | None,
                    target_for: Callable[..., Target | None], creator: Operation | None = None) -> None:
    """Learn the action's effect on `first`, then race it on the objects `target_for` gives."""
    if first is None:
        return
    delta = effect(probe, first.call, identity, first.read)
    if delta is None:
        probe.skipped(action, "the action changed nothing read back")
    elif not delta:
        probe.ran(action, "not additive: a second request did not repeat the first one's effect")
    else:
        probe.ran(action, first.note)
        _race(probe, action, identity, delta, target_for, creator)


def effect(probe: Probe, call: Call, identity: str | None, read: Callable[[], Any]) -> dict[str, float] | None:
    """The change one request makes to the numbers read back, checked to be additive: a second request in
    sequence must change them again by as much (a PATCH or PUT that *sets* a value changes it once). None
    when the action fails or changes nothing; {} when it is not additive."""
    before = numbers(read())
    if not succeeded(probe.send(call, identity)):
        return None
    middle = numbers(read())
    delta = {k: middle[k] - v for k, v in before.items() if k in middle and middle[k] != v}
    if not delta:
        return None
    if not succeeded(probe.send(call, identity)):
        return {}
    after = numbers(read())
    return delta if all(after.get(k, 0) - middle[k] == d for k, d in delta.items()) else {}


def _race(probe: Probe, action: Operation, identity: str | None, delta: dict[str, float],
          target_for: Callable[..., Target | None], creator: Operation | None) -> None:
    """Bursts of the action until the verdict settles. On a fresh object, a quantity that the action lowers
    is set to allow half of the burst; on an existing one, what its value allows is counted."""
    floor_field = next((f for f, d in delta.items() if d < 0 and creator is not None
                        and f in numeric_properties(creator)), None)
    overrides = comfortable(creator) if creator else None
    if floor_field and overrides is not None:
        overrides[floor_field] = int(BURST // 2 * -delta[floor_field])
    lost = overrun = 0
    bursts = []
    limit: Limit | None = None
    for _ in range(TRIES):
        target = target_for(overrides)
        if target is None:
            return
        call = target.call
        before = target.read() if creator else _brought_near_limit(probe, target, identity, delta)
        statuses, spread, bodies, requests = burst(probe, call, identity, BURST)
        after = target.read()
        successes = sum(s is not None and accepted_answer(s, b) for s, b in zip(statuses, bodies))
        old, new = numbers(before), numbers(after)
        observed = {f: new.get(f) for f in delta}
        expected = {f: old.get(f, 0) + successes * d for f, d in delta.items()}
        limit = _limit(delta, old, floor_field if creator else None) or limit
        lost_now = any(observed[f] != expected[f] for f in delta)
        overrun_now = limit is not None and (successes > limit.allowed or limit.passed(observed[limit.field]))
        lost += lost_now
        overrun += overrun_now
        errors = [s for s in statuses if s is None or s >= 500]
        serialization = sum(1 for b in bodies if re.search(r"40001|could not serialize|restart transaction",
                                                           json.dumps(b)))
        bursts.append({"send_spread_ms": round(spread, 3), "statuses": dict(Counter(map(str, statuses))),
                       "before": {f: old.get(f) for f in delta}, "after": observed,
                       "expected_after": expected, "successes": successes, "server_errors": len(errors),
                       "serialization_errors": serialization, "object": target.note, "requests": requests})
        if errors:
            probe.report("PL404", call, f"{len(errors)} of {BURST} synchronized requests failed with 5xx"
                         + (f" ({serialization} mention a serialization failure / 40001)" if serialization else ""),
                         evidence={"burst": bursts[-1], "sample_error": next(
                             (b for s, b in zip(statuses, bodies) if s is None or s >= 500), None),
                             "reproducer": reproducer(probe, call, identity, concurrent=BURST)})
        if len(bursts) >= 2 and _settled(lost) and _settled(overrun):
            break
    evidence = {"bursts": bursts, "single_request_delta": delta, "body": call.body,
                "reproducer": reproducer(probe, call, identity, concurrent=BURST)}
    if overrun >= 2:
        probe.report("PL403", call,
                     f"{BURST} synchronized requests against {limit.describe()} (room for {limit.allowed}) went past "
                     f"the limit: {bursts[-1]['successes']} succeeded, {limit.field} ended at "
                     f"{bursts[-1]['after'][limit.field]}; reproduced {overrun}/{len(bursts)}", evidence=evidence)
    if lost >= 2:
        field_name = next(iter(delta))
        probe.report("PL401", call,
                     f"{BURST} synchronized requests changed {field_name} by "
                     f"{_change(bursts[-1], field_name)}, expected {bursts[-1]['successes']} x {delta[field_name]:g} "
                     f"for the {bursts[-1]['successes']} that succeeded; reproduced {lost}/{len(bursts)}",
                     evidence=evidence)


MAX_STEPS_TO_LIMIT = 100  # single requests spent to bring an existing object's quantity within a burst's reach


def _brought_near_limit(probe: Probe, target: Target, identity: str | None, delta: dict[str, float]) -> Any:
    """The state of an existing object, first brought (by the action itself, one request at a time) to where
    its limit allows half a burst, as a fresh object is made: a seeded stock of 50 is beyond 20 requests' reach.
    Left as it is when the limit is already within reach, or more than MAX_STEPS_TO_LIMIT requests away."""
    state = target.read()
    limit = _limit(delta, numbers(state), None)
    steps = limit.allowed - BURST // 2 if limit is not None else 0
    if not 0 < steps <= MAX_STEPS_TO_LIMIT:
        return state
    for _ in range(steps):
        if not succeeded(probe.send(target.call, identity)):
            break
    return target.read()


@dataclass
class Limit:
    """The bound an action moves a field toward: zero for a quantity it lowers, the value of a ceiling field
    (`max_uses`) for a counter it raises."""

    field: str
    value: float
    bound: float
    ceiling: str | None
    allowed: int  # how many requests the room left allows

    def passed(self, value: float | None) -> bool:
        return value is not None and (value > self.bound if self.ceiling else value < self.bound)

    def describe(self) -> str:
        return (f"{self.field} = {self.value:g} of {self.ceiling} = {self.bound:g}" if self.ceiling
                else f"{self.field} = {self.value:g}")


def _limit(delta: dict[str, float], old: dict[str, float], floor_field: str | None) -> Limit | None:
    """The limit in play: on a fresh object, the quantity set for the burst (`floor_field`); on an existing
    one, a quantity or money field the action lowers, or a counter it raises toward its ceiling field."""
    for name, change in delta.items():
        if name not in old:
            continue
        if change < 0 and (name == floor_field or floor_field is None and is_quantity(name.rsplit(".", 1)[-1])):
            return Limit(name, old[name], 0, None, max(int(old[name] // -change), 0))
        ceiling = _ceiling(name, old) if change > 0 else None
        if ceiling is not None:
            return Limit(name, old[name], old[ceiling], ceiling, max(int((old[ceiling] - old[name]) // change), 0))
    return None


def _ceiling(name: str, old: dict[str, float]) -> str | None:
    """The field beside `name` (in the same object: `article.uses` and `article.max_uses`) that caps it."""
    prefix, _, leaf = name.rpartition(".")
    siblings = {key.rpartition(".")[2]: key for key in old if key.rpartition(".")[0] == prefix}
    return siblings.get(ceiling_of(leaf, siblings))


def _settled(times_seen: int) -> bool:
    """Never seen, or already reproduced: another burst would not change the verdict."""
    return times_seen == 0 or times_seen >= 2


def _change(record: dict, field_name: str) -> str:
    before, after = record["before"].get(field_name), record["after"].get(field_name)
    return f"{after - before:g}" if isinstance(before, (int, float)) and isinstance(after, (int, float)) else "?"
