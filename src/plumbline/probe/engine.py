"""The probe: drive an API through its OpenAPI document, with real concurrency and state checks.

Checks are plain functions registered with `@check`; each gets the `Probe`, which knows the spec,
sends requests within the budget, creates resources through the spec's creating operations, fills
an operation's inputs from a resource through the spec's links, reads state back, and reports.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from plumbline.findings import Confidence, Finding, FindingsDocument, HttpLocation, Severity, ToolError
from plumbline.probe.http import BudgetExhausted, Http, TargetError
from plumbline.probe.spec import Link, Operation, Spec, example_of
from plumbline.rules import get as rule

ME_PATH = re.compile(r"/(me|whoami|profile|user|users/me|account)$")


@dataclass
class Resource:
    """An object created through a creating operation, and how to reach it."""

    creator: Operation
    owner: str
    sent: Any
    response: Any
    location: str | None

    def evaluate(self, expression: str) -> Any:
        """An OpenAPI runtime expression against the creating response: $response.body#/id, {$response.header.Location}."""
        expression = expression.strip()
        if expression.startswith("{") and expression.endswith("}"):
            expression = expression[1:-1]
        if expression.startswith("$response.body#"):
            value: Any = self.response
            for part in expression[len("$response.body#"):].strip("/").split("/"):
                if not part:
                    continue
                if isinstance(value, dict):
                    value = value.get(part.replace("~1", "/").replace("~0", "~"))
                elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                    value = value[int(part)]
                else:
                    return None
            return value
        if expression.lower() == "$response.header.location" and self.location:
            return self.location.rstrip("/").rsplit("/", 1)[-1]
        return None


@dataclass
class Call:
    """An operation with its inputs filled: ready to send or to burst."""

    operation: Operation
    path: str
    params: dict[str, Any]
    body: Any


@dataclass
class Probe:
    spec: Spec
    http: Http
    active: bool
    selected: set[str]
    findings: list[Finding] = field(default_factory=list)
    errors: list[ToolError] = field(default_factory=list)
    _reported: set[tuple[str, str, str]] = field(default_factory=set)
    _user_ids: dict[str, Any] = field(default_factory=dict)

    # ---- identities ----------------------------------------------------------------------------

    @property
    def identities(self) -> list[str]:
        return list(self.http.identities)

    def user_id(self, identity: str) -> Any:
        """The identity's own id as the API shows it (GET /me and the like), else a fresh UUID."""
        if identity not in self._user_ids:
            found: Any = None
            for operation in self.spec.operations:
                if operation.method == "GET" and not operation.path_parameters and ME_PATH.search(operation.path):
                    response = self.http.request("GET", operation.path, identity=identity)
                    body = _json(response)
                    if response.status_code == 200 and isinstance(body, dict):
                        found = body.get("id") or body.get("user_id")
                        break
            self._user_ids[identity] = found or str(uuid.uuid4())
        return self._user_ids[identity]

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
            message=message, confidence=confidence, backend="any", severity=severity,
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
        if isinstance(body, dict) and overrides:
            body = {**body, **overrides}
        call = self.fill(creator, body=body)
        response = self.http.request(creator.method, call.path, identity=identity, json_body=body,
                                     params=call.params)
        if not 200 <= response.status_code < 300:
            return None
        return Resource(creator, identity, body, _json(response), response.headers.get("location"))

    def fill(self, operation: Operation, links: list[tuple[Link, Resource]] = (), body: Any = None) -> Call:
        """`operation` with its path, query and body filled: from the linked resources, else from examples."""
        values: dict[str, Any] = {}
        body_values: dict[str, Any] = {}
        for link, resource in links:
            for name, expression in link.parameters.items():
                values[name] = resource.evaluate(expression)
            for name, expression in link.body.items():
                body_values[name] = resource.evaluate(expression)
        path = operation.path
        params: dict[str, Any] = {}
        for parameter in operation.parameters:
            value = values.get(parameter.name, parameter.example if parameter.example is not None else
                               example_of(parameter.schema))
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", str(value))
            elif parameter.location == "query" and (parameter.required or parameter.name in values):
                params[parameter.name] = value
        if body is None and (operation.body_schema or operation.body_example is not None):
            body = operation.body_example if operation.body_example is not None else example_of(operation.body_schema)
            body = json.loads(json.dumps(body))
        if isinstance(body, dict) and body_values:
            body = {**body, **body_values}
        return Call(operation, path, params, body)

    def send(self, call: Call, identity: str | None, body: Any = ..., **kwargs) -> httpx.Response:
        return self.http.request(call.operation.method, call.path, identity=identity,
                                 json_body=call.body if body is ... else body, params=call.params, **kwargs)

    def read(self, resource: Resource, identity: str | None = None) -> tuple[int, Any]:
        found = self.reader(resource.creator)
        if found is None:
            return 0, None
        operation, link = found
        call = self.fill(operation, [(link, resource)])
        response = self.send(call, identity or resource.owner)
        return response.status_code, _json(response)

    # ---- running -------------------------------------------------------------------------------

    def run(self, on_check: Callable[[str], None] = lambda name: None) -> FindingsDocument:
        from plumbline.probe.checks import CHECKS

        for rule_ids, needs_active, function in CHECKS:
            if not set(rule_ids) & self.selected or needs_active and not self.active:
                continue
            on_check(function.__name__.replace("_", " "))
            try:
                function(self)
            except BudgetExhausted as exc:
                self.errors.append(ToolError(engine="probe", target=self.http.base_url,
                                             message=f"{exc}; later checks were skipped"))
                break
            except TargetError as exc:
                self.errors.append(ToolError(engine="probe", target=self.http.base_url,
                                             message=f"{function.__name__}: {exc}"))
        return FindingsDocument(findings=tuple(self.findings), errors=tuple(self.errors))


def unique(value: Any, schema: dict | None = None) -> Any:
    """The example with its free-text strings made unique, so that repeated creates do not collide.

    Strings the schema constrains (enum, const, format, pattern) are left as they are, and a suffix never
    takes a string past its maxLength."""
    if not isinstance(value, dict):
        return value
    token = secrets.token_hex(4)
    properties = (schema or {}).get("properties") or {}
    result = {}
    for key, item in value.items():
        rules = properties.get(key) if isinstance(properties.get(key), dict) else {}
        constrained = any(k in rules for k in ("enum", "const", "pattern", "format")) and "@" not in str(item)
        result[key] = item if not isinstance(item, str) or constrained else _unique_string(item, token, rules)
    return result


def _unique_string(value: str, token: str, rules: dict) -> str:
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local}+{token}@{domain}"
    if re.fullmatch(r"[0-9a-f-]{36}|\d{4}-\d\d-\d\d.*", value):
        return value
    limit = rules.get("maxLength")
    if isinstance(limit, int) and len(value) + len(token) + 1 > limit:
        return value if limit <= len(token) else f"{value[:limit - len(token) - 1]}-{token}"
    return f"{value}-{token}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
