"""The probe: drive an API through its OpenAPI document, with real concurrency and state checks.

The engine receives its checks (`Check`: the rules a function reports, what it needs, which operations it
applies to); each gets the `Probe`, which knows the spec, sends requests within the budget, creates
resources through the spec's creating operations, fills an operation's inputs from a resource through the
spec's links, reads state back, reports, and records coverage: for each check and each operation it applies
to, whether it ran (on what) or was skipped (and why).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import httpx

from plumbline.findings import (
    Confidence,
    Coverage,
    Finding,
    FindingsDocument,
    HttpLocation,
    Severity,
    ToolError,
)
from plumbline.probe.http import ANONYMOUS, BudgetExhausted, Http, TargetError, json_of
from plumbline.probe.origin import fill_path
from plumbline.probe.resources import (
    Resource,
    Sightings,
    family,
    items_of,
    unwrap,
    with_fields,
)
from plumbline.probe.spec import Link, Operation, Spec, enveloped, example_of
from plumbline.rules import get as rule
from plumbline.vocabulary import IDENTITY, ME_PATH, REFUSAL, is_owner, is_reference

NO_OBJECT = "no object to work on"


class Check(NamedTuple):
    """A check as the engine runs it: the rules it reports, whether it changes state (runs only with --active),
    how many identities it compares, the function, and the operations it applies to (for coverage)."""

    rules: tuple[str, ...]
    active: bool
    identities: int
    run: Callable[["Probe"], None]
    applies: Callable[[Operation], bool]

    @property
    def name(self) -> str:
        return self.run.__name__.replace("_", " ")


@dataclass
class Call:
    """An operation with its inputs filled: ready to send or to burst."""

    operation: Operation
    path: str
    params: dict[str, Any]
    body: Any
    linked_fields: frozenset[str] = frozenset()  # body fields filled from a linked object (a transfer's target)
    path_values: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the weakest source of its path values: given, created, seeded, found, generated ("": none)


@dataclass
class Probe:
    spec: Spec
    http: Http
    active: bool
    selected: set[str]
    checks: list[Check] | None = None  # None: every registered check (plumbline.probe.checks)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ToolError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # checks left out, and why (no identity to run them as)
    _reported: set[tuple[str, str, str]] = field(default_factory=set)
    _user_ids: dict[str, Any] = field(default_factory=dict)
    _fallback_ids: dict[str, str] = field(default_factory=dict)
    sightings: Sightings = field(default_factory=Sightings)
    _coverage: dict[tuple[str, str], Coverage] = field(default_factory=dict)
    _check: Check | None = None
    _discovered: bool = False
    _refusing: dict[str, str] | None = None  # resource family -> the GET that refused a request without credentials

    # ---- identities ----------------------------------------------------------------------------

    @property
    def identities(self) -> list[str]:
        return list(self.http.identities)

    @property
    def owner(self) -> str | None:
        """The identity that creates and acts: the first one, or None (no credentials) when none is given."""
        return self.identities[0] if self.identities else None

    def known_user_id(self, identity: str) -> Any:
        """The identity's own id as the API shows it (its login, GET /me and the like, else the id its token
        claims), or None when nothing shows it."""
        if identity not in self._user_ids:
            found: Any = self.http.user_id(identity)  # learned at login, when the identity logs in
            for operation in self.spec.operations if found is None else ():
                if operation.method == "GET" and not operation.path_parameters and ME_PATH.search(operation.path):
                    response = self.http.request("GET", operation.path, identity=identity)
                    body = _json(response)
                    if response.status_code == 200 and isinstance(body, dict):
                        found = next((body[k] for k in IDENTITY if body.get(k) not in (None, "")), None)
                        break
            self._user_ids[identity] = found if found is not None else self.http.claimed_id(identity)
        return self._user_ids[identity]

    def user_id(self, identity: str) -> Any:
        """The identity's own id, else a fresh UUID that stays the same for the run."""
        return self.known_user_id(identity) or self._fallback_ids.setdefault(identity, str(uuid.uuid4()))

    # ---- reporting -----------------------------------------------------------------------------

    def report(self, rule_id: str, call: Call | Operation, message: str, *, evidence: dict,
               confidence: Confidence = "high", severity: Severity | None = None) -> None:
        operation = call.operation if isinstance(call, Call) else call
        key = (rule_id, operation.method, operation.path)
        if rule_id not in self.selected or key in self._reported:
            return
        self._reported.add(key)
        url = self.http.url(call.path if isinstance(call, Call) else operation.path,
                            call.params if isinstance(call, Call) else None)
        self.findings.append(rule(rule_id).finding(
            location=HttpLocation(method=operation.method, route=operation.path, url=self.http.redact(url)),
            message=self.http.redact(message), confidence=confidence, backend="any", severity=severity,
            evidence=self.http.redact(evidence),
        ))

    # ---- resources and calls -------------------------------------------------------------------

    def creators(self) -> list[Operation]:
        return [op for op in self.spec.operations if op.creates and op.links]

    def linked(self, creator: Operation) -> list[tuple[Operation, Link]]:
        targets = []
        for link in creator.links:
            target = self.spec.operation(link.target)
            if target is not None:
                targets.append((target, link))
        return targets

    def reader(self, creator: Operation) -> tuple[Operation, Link] | None:
        """The GET that reads back what `creator` made."""
        return next(((op, link) for op, link in self.linked(creator) if op.method == "GET" and link.parameters), None)

    def create(self, creator: Operation, identity: str, overrides: dict | None = None) -> Resource | None:
        body = unique(example_of(creator.body_schema or {}) if creator.body_example is None else creator.body_example,
                      creator.body_schema)
        if overrides:
            body = with_fields(body, overrides)
        given = self.owner_values(creator, identity)
        call = self.fill(creator, body=body, given=given)
        if creator.named_by and creator.named_by not in given:  # a new name, not one seen: `POST /items/{name}`
            name = unique_string(str(call.path_values.get(creator.named_by) or "plumbline"))
            call = self.fill(creator, body=body, given={**given, creator.named_by: name})
        response = self.send(call, identity)
        if not succeeded(response):
            return None
        return Resource(creator, identity, body, _json(response), response.headers.get("location"),
                        path_values=call.path_values, query=dict(call.params),
                        headers={k.lower(): v for k, v in response.headers.items()})

    def fill(self, operation: Operation, links: list[tuple[Link, Resource]] = (), body: Any = None,
             given: dict[str, Any] | None = None) -> Call:
        """`operation` with its path, query and body filled: from the linked resources and the `given` parameter
        values, else from the spec's examples, values seen in earlier answers, or values made from the schema."""
        values: dict[str, Any] = {}
        body_values: dict[str, Any] = {}
        for link, resource in links:
            if resource is None:
                continue
            for name, expression in link.parameters.items():
                values[name] = resource.evaluate(expression)
            for name, expression in link.body.items():
                body_values[name] = resource.evaluate(expression)
        path_values: dict[str, Any] = {}
        params: dict[str, Any] = {}
        sources: set[str] = set()
        for parameter in operation.parameters:
            value, source = ((given[parameter.name], "given") if given and parameter.name in given
                             else self._value_for(operation, parameter, values))
            if parameter.location == "path":
                path_values[parameter.name] = value
                sources.add(source)
            elif parameter.location == "query" and (parameter.required or parameter.name in values
                                                    or parameter.name in (given or {})):
                params[parameter.name] = value
        path = fill_path(operation.path, path_values)
        if body is None and (operation.body_schema or operation.body_example is not None):
            body = operation.body_example if operation.body_example is not None else example_of(operation.body_schema)
        body = self._references_seen(operation, json.loads(json.dumps(body)))
        if isinstance(body, dict) and body_values:
            body = {**body, **body_values}
        weakest = next((s for s in ("generated", "found", "seeded", "created", "given") if s in sources), "")
        return Call(operation, path, params, body, frozenset(body_values), path_values, weakest)

    def owner_values(self, operation: Operation, identity: str | None) -> dict[str, Any]:
        """`identity`'s own id for each owner segment of `operation`'s path (`/users/{owner}/notes`), once known."""
        names = [p.name for p in operation.path_parameters if is_owner(p.name)]
        mine = self.known_user_id(identity) if names and identity else None
        return {name: mine for name in names} if mine is not None else {}

    def _value_for(self, operation: Operation, parameter: Any, linked: dict[str, Any]) -> tuple[Any, str]:
        """A parameter's value and where it comes from: a linked object, the acting identity's id for an owner
        segment, the spec's own example (a seed), a value seen in an earlier answer that the parameter's name
        asks for, else one made from its type."""
        if parameter.name in linked:
            return linked[parameter.name], "created"
        if parameter.location == "path" and is_owner(parameter.name):
            mine = self.owner_values(operation, self.owner).get(parameter.name)
            if mine is not None:
                return mine, "given"
        if parameter.given and parameter.example is not None:
            return parameter.example, "seeded"
        seen = self.sightings.for_input(parameter.name, operation.path) if parameter.location == "path" else []
        if seen:
            return seen[0], "found"
        return (parameter.example if parameter.example is not None else example_of(parameter.schema)), "generated"

    def _references_seen(self, operation: Operation, body: Any) -> Any:
        """The example body with the fields that name another object (`product_id`, `to_account`, `code`) set to
        a value seen in an earlier answer, where the spec gives no value of its own (inside an envelope too)."""
        inner = unwrap(body)
        if not isinstance(inner, dict) or operation.body_given:
            return body
        properties = enveloped(operation.body_schema)[1].get("properties") or {}
        for name in inner:
            rules = properties.get(name)
            if isinstance(rules, dict) and is_reference(name) and not any(
                    k in rules for k in ("example", "examples", "default", "enum", "const")):
                seen = self.sightings.for_input(name, operation.path)
                if seen:
                    inner[name] = seen[0]
        return body

    def discover(self) -> None:
        """GET every operation that needs no object (listings, singletons, searches with their examples) once,
        so that their answers seed the objects other operations work on."""
        if self._discovered:
            return
        self._discovered = True
        for operation in self.spec.operations:
            owners = self.owner_values(operation, self.owner)
            if operation.method == "GET" and len(owners) == len(operation.path_parameters):
                self.send(self.fill(operation, given=owners), self.owner)

    def send(self, call: Call, identity: str | None, body: Any = ..., **kwargs) -> httpx.Response:
        """`call` as `identity`; what the answer shows is remembered for later inputs (`sightings`)."""
        response = self.http.request(call.operation.method, call.path, identity=identity,
                                     json_body=call.body if body is ... else body, params=call.params,
                                     media_type=call.operation.body_media_type, **kwargs)
        if 200 <= response.status_code < 300:
            self.sightings.record(call.operation, _json(response))
        return response

    def listing(self, creator: Operation) -> Operation | None:
        """The GET of the collection `creator` adds to (`GET /articles/{slug}/comments` for its POST)."""
        return next((op for op in self.spec.operations if op.method == "GET" and op.path == creator.path), None)

    def readable(self, creator: Operation) -> bool:
        """Whether what `creator` makes can be read back: by a linked GET, or in its collection's listing."""
        return self.reader(creator) is not None or self.listing(creator) is not None

    def read(self, resource: Resource, identity: str | None = None) -> tuple[int, Any]:
        """The object as a linked GET shows it, else as its collection's listing does; (0, None) without either."""
        found = self.reader(resource.creator) if resource.creator else None
        if found is not None:
            operation, link = found
            response = self.send(self.fill(operation, [(link, resource)]), identity or resource.owner)
            return response.status_code, _json(response)
        listing = self.listing(resource.creator) if resource.creator else None
        if listing is None:
            return 0, None
        response = self.send(self.fill(listing, given=resource.path_values), identity or resource.owner)
        return response.status_code, resource.find_in(items_of(_json(response)))

    # ---- who sends what ------------------------------------------------------------------------

    def needs_credentials(self, operation: Operation) -> bool:
        """Whether `operation` needs credentials: its spec says so or, in a spec that says nothing about
        security, an operation of the same resource family refuses a GET without credentials (`hinted_by`)."""
        if operation.secured:
            return True
        return not self.spec.declares_security and self.hinted_by(operation) is not None

    def hinted_by(self, operation: Operation) -> str | None:
        """In a spec without `security`: the GET of `operation`'s resource family that answered 401 or 403 to a
        request without credentials (each GET is asked once per run), or None."""
        if self._refusing is None:
            self._refusing = {}
            for read in self.spec.operations:
                if read.method == "GET" and family(read.path) not in self._refusing and self.send(
                        self.fill(read), ANONYMOUS).status_code in (401, 403):
                    self._refusing[family(read.path)] = str(read)
        return self._refusing.get(family(operation.path))

    def caller(self, operation: Operation) -> str | None:
        """Who sends `operation` for the checks that do not compare identities: the first identity when it needs
        credentials or when the spec does not say (credentials do no harm), else nobody."""
        return self.owner if self.needs_credentials(operation) or not self.spec.declares_security else None

    # ---- running -------------------------------------------------------------------------------

    def run(self, on_check: Callable[[str], None] = lambda name: None) -> FindingsDocument:
        """Every selected check in turn. A check that fails (the target stops answering, or a bug of ours)
        is recorded as an error and the run goes on; a spent budget ends the run."""
        for note in self.spec.notes:
            self._error(f"spec: {note}")
        if not self.identities and any(op.secured for op in self.spec.operations):
            self.notes.append("no --identity: operations that require credentials were sent without any")
        checks = [c for c in (all_checks() if self.checks is None else self.checks) if set(c.rules) & self.selected]
        spent = False
        for entry in checks:
            self._check = entry
            skip = ("budget spent" if spent else "needs --active" if entry.active and not self.active else
                    "needs two identities" if len(self.identities) < entry.identities else None)
            if skip is None:
                spent = self._run_one(entry, on_check)
            else:
                if skip == "needs two identities":
                    self.notes.append(f"{entry.name} ({', '.join(entry.rules)}) needs {entry.identities} "
                                      f"--identity options: skipped")
                for operation in filter(entry.applies, self.spec.operations):
                    self.skipped(operation, skip)
        self._check = None
        return self.document()

    def _run_one(self, entry: Check, on_check: Callable[[str], None]) -> bool:
        """Run one check; True when it spent the budget. Operations it applies to but never reached are
        recorded as skipped for want of an object."""
        on_check(entry.name)
        spent = False
        try:
            entry.run(self)
        except BudgetExhausted as exc:
            self._error(f"{exc}; later checks were skipped")
            spent = True
        except TargetError as exc:
            self._error(f"{entry.run.__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one broken check must not lose the others' findings
            self._error(f"{entry.run.__name__}: {type(exc).__name__}: {exc}", kind="internal")
        for operation in filter(entry.applies, self.spec.operations):
            self.skipped(operation, "budget spent" if spent else NO_OBJECT)
        return spent

    # ---- coverage ------------------------------------------------------------------------------

    def ran(self, operation: Operation, note: str = "") -> None:
        """The current check exercised `operation` (on `note`: a created object, a listed one...)."""
        self._cover(operation, "ran", note)

    def skipped(self, operation: Operation, reason: str) -> None:
        """The current check could not exercise `operation`, for `reason`; a later `ran` wins."""
        self._cover(operation, "skipped", reason)

    def _cover(self, operation: Operation, status: str, note: str) -> None:
        if self._check is None:
            return
        key = (self._check.name, str(operation))
        known = self._coverage.get(key)
        if known is None or known.status == "skipped" and status == "ran":
            self._coverage[key] = Coverage(engine="probe", operation=str(operation), check=self._check.name,
                                           rules=tuple(r for r in self._check.rules if r in self.selected),
                                           status=status, note=note)

    def document(self) -> FindingsDocument:
        """The findings and errors so far (the whole run's once `run` has returned)."""
        return FindingsDocument(findings=tuple(self.findings), errors=tuple(self.errors),
                                coverage=tuple(self._coverage.values()))

    def _error(self, message: str, kind: str = "skipped") -> None:
        self.errors.append(ToolError(engine="probe", target=self.http.base_url, message=self.http.redact(message),
                                     kind=kind))


def all_checks() -> list[Check]:
    """Every registered check: the default when a Probe is given none."""
    from plumbline.probe.checks import CHECKS

    return list(CHECKS)


def succeeded(response: httpx.Response) -> bool:
    """A 2xx answer whose body does not say the request was refused all the same ("already exists")."""
    return accepted_answer(response.status_code, _json(response))


def accepted_answer(status: int, body: Any) -> bool:
    """`succeeded` for an answer already read: a status and a parsed body (or text)."""
    if not 200 <= status < 300:
        return False
    said = body if isinstance(body, str) else " ".join(
        str(v) for k, v in body.items() if isinstance(v, str) and k.lower() in ("message", "msg", "error",
                                                                                  "detail", "status", "result")
    ) if isinstance(body, dict) else ""
    return not REFUSAL.search(said)


def unique(value: Any, schema: dict | None = None) -> Any:
    """The example with its free-text strings made unique, so that repeated creates do not collide.

    Strings the schema constrains (enum, const, format, pattern) are left as they are, and a suffix never
    takes a string past its maxLength. Inside an envelope (`{"user": {...}}`) the enveloped object's are."""
    if not isinstance(value, dict):
        return value
    if unwrap(value) is not value:
        (key, inner), (_, inner_schema) = next(iter(value.items())), enveloped(schema)
        return {key: unique(inner, inner_schema)}
    token = secrets.token_hex(4)
    properties = (schema or {}).get("properties") or {}
    result = {}
    for key, item in value.items():
        rules = properties.get(key) if isinstance(properties.get(key), dict) else {}
        constrained = any(k in rules for k in ("enum", "const", "format")) and "@" not in str(item)
        result[key] = item if not isinstance(item, str) or constrained else _unique_string(item, token, rules)
    return result


def unique_string(value: str, schema: dict | None = None) -> str:
    """`value` made unique for this run, as `unique` makes a body's strings (a name given in a path)."""
    return _unique_string(value, secrets.token_hex(4), schema or {})


def _unique_string(value: str, token: str, rules: dict) -> str:
    """`value` with `token` added (`-token`, `_token` or `token`, the first that the schema's pattern and
    maxLength allow), or `value` itself when none fits."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local}+{token}@{domain}"
    if re.fullmatch(r"[0-9a-f-]{36}|\d{4}-\d\d-\d\d.*", value):
        return value
    limit = rules.get("maxLength")
    for joint in ("-", "_", ""):
        room = limit - len(token) - len(joint) if isinstance(limit, int) else len(value)
        if room <= 0:
            return value
        candidate = f"{value[:room]}{joint}{token}"
        if _fits_pattern(candidate, rules):
            return candidate
    return value


def _fits_pattern(value: str, rules: dict) -> bool:
    pattern = rules.get("pattern")
    if not isinstance(pattern, str):
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def _json(response: httpx.Response) -> Any:
    return json_of(response.content)
