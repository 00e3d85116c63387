"""OpenAPI 3.0/3.1 -> the operations the probe can drive, with examples, security and links.

Only what the probe uses is kept: each operation's parameters and request body (schema and an
example value), whether it requires credentials, its response schemas, and the links that flow an
id from the operation that creates it to the operations that use it. Where a spec declares no
links, they are inferred: an id field in a creating operation's response matched to path
parameters and body fields of the operations under the same collection.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

SAFE_METHODS = ("get", "head", "options")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class SpecError(Exception):
    """The spec cannot be used; the message says why."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: dict
    example: Any


@dataclass(frozen=True)
class Link:
    """`source` response -> `target` operation: which target inputs take which value of the response."""

    target: str  # operationId
    parameters: dict[str, str]  # parameter name -> runtime expression ($response.body#/id, $response.header.Location)
    body: dict[str, str]  # body field -> runtime expression
    inferred: bool = False


@dataclass
class Operation:
    method: str  # upper case
    path: str  # the spec's template: /accounts/{account_id}
    operation_id: str
    parameters: list[Parameter] = field(default_factory=list)
    body_schema: dict | None = None
    body_example: Any = None
    secured: bool = False
    responses: dict[str, dict | None] = field(default_factory=dict)  # status -> JSON schema of the body
    links: list[Link] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return self.method.lower() in SAFE_METHODS

    @property
    def path_parameters(self) -> list[Parameter]:
        return [p for p in self.parameters if p.location == "path"]

    @property
    def creates(self) -> bool:
        return self.method == "POST" and "201" in self.responses

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def declares_header(self, name: str) -> bool:
        return any(p.location == "header" and p.name.lower() == name.lower() for p in self.parameters)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Spec:
    title: str
    version: str
    operations: list[Operation]

    def operation(self, operation_id: str) -> Operation | None:
        return next((op for op in self.operations if op.operation_id == operation_id), None)


def load(source: str, base_url: str, *, timeout: float = 15.0) -> Spec:
    """The spec at `source`: a file, an absolute URL, or a path on the target (`/openapi.json`)."""
    text = _read(source, base_url, timeout)
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{source}: neither JSON nor YAML: {str(exc).splitlines()[0]}") from exc
    return parse(document, source)


def _read(source: str, base_url: str, timeout: float) -> str:
    path = Path(source)
    if "://" not in source and path.is_file():
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{source}: cannot read: {exc}") from exc
    if "://" not in source and not source.startswith("/"):
        raise SpecError(f"{source}: no such file (give a file, a URL, or a path on the target such as /openapi.json)")
    url = source if "://" in source else base_url.rstrip("/") + source
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.TimeoutException as exc:
        raise SpecError(f"cannot fetch the spec from {url}: no answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise SpecError(f"cannot fetch the spec from {url}: {exc or type(exc).__name__}") from exc
    if response.status_code != 200:
        raise SpecError(f"cannot fetch the spec from {url}: HTTP {response.status_code}")
    return response.text


def parse(document: Any, source: str = "spec") -> Spec:
    if not isinstance(document, dict):
        raise SpecError(f"{source}: not an OpenAPI document (top level is not an object)")
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        found = f"swagger {document['swagger']}" if "swagger" in document else (f"openapi {version}" if version
                                                                                    else "no 'openapi' field")
        raise SpecError(f"{source}: OpenAPI 3.0 or 3.1 is required ({found})")
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise SpecError(f"{source}: 'paths' is missing or not an object")
    resolver = _Resolver(document)
    global_security = bool(document.get("security"))
    operations = []
    for path, item in paths.items():
        item = resolver.resolve(item)
        if not isinstance(item, dict):
            continue
        shared = [resolver.resolve(p) for p in item.get("parameters", []) if isinstance(p, dict)]
        for method in METHODS:
            raw = item.get(method)
            if isinstance(raw, dict):
                operations.append(_operation(method, path, resolver.resolve(raw), shared, global_security, resolver))
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    spec = Spec(title=str(info.get("title", "")), version=version, operations=operations)
    if not any(op.links for op in operations):
        infer_links(spec)
    return spec


def _operation(method: str, path: str, raw: dict, shared: list[dict], global_security: bool,
               resolver: "_Resolver") -> Operation:
    operation_id = str(raw.get("operationId") or f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}")
    parameters: dict[tuple[str, str], Parameter] = {}
    for raw_parameter in [*shared, *(resolver.resolve(p) for p in raw.get("parameters", []) if isinstance(p, dict))]:
        if not isinstance(raw_parameter, dict) or "name" not in raw_parameter:
            continue
        schema = resolver.resolve(raw_parameter.get("schema") or {})
        parameter = Parameter(
            name=str(raw_parameter["name"]), location=str(raw_parameter.get("in", "query")),
            required=bool(raw_parameter.get("required")) or raw_parameter.get("in") == "path",
            schema=schema if isinstance(schema, dict) else {},
            example=_example(raw_parameter, schema),
        )
        parameters[(parameter.location, parameter.name)] = parameter
    body_schema, body_example = None, None
    body = resolver.resolve(raw.get("requestBody") or {})
    content = body.get("content", {}) if isinstance(body, dict) else {}
    media = next((content[k] for k in content if "json" in k), None)
    if isinstance(media, dict):
        body_schema = resolver.resolve(media.get("schema") or {})
        body_example = _example(media, body_schema)
    security = raw.get("security")
    secured = bool(security) if security is not None else global_security
    secured = secured and not any(requirement == {} for requirement in (security or []))
    responses: dict[str, dict | None] = {}
    links: list[Link] = []
    for status, response in (raw.get("responses") or {}).items():
        response = resolver.resolve(response)
        if not isinstance(response, dict):
            continue
        response_content = response.get("content", {})
        json_media = next((response_content[k] for k in response_content if "json" in k), None)
        responses[str(status)] = resolver.resolve(json_media.get("schema")) if isinstance(json_media, dict) else None
        for link in (response.get("links") or {}).values():
            link = resolver.resolve(link)
            if isinstance(link, dict) and link.get("operationId"):
                body_map = link.get("requestBody") if isinstance(link.get("requestBody"), dict) else {}
                links.append(Link(str(link["operationId"]), dict(link.get("parameters") or {}), dict(body_map)))
    return Operation(method.upper(), path, operation_id, list(parameters.values()), body_schema, body_example,
                     secured, responses, links)


def _example(holder: dict, schema: Any) -> Any:
    if "example" in holder:
        return holder["example"]
    examples = holder.get("examples")
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        if isinstance(first, dict) and "value" in first:
            return first["value"]
    return example_of(schema) if isinstance(schema, dict) else None


def example_of(schema: dict, depth: int = 0, name: str = "") -> Any:
    """A value valid for `schema`: its example, default or first enum value, else one built from its type."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            if key == "allOf":
                merged: dict = {}
                for part in schema[key]:
                    value = example_of(part, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return example_of(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or properties)
        return {key: example_of(sub, depth + 1, key) for key, sub in properties.items() if key in required}
    if kind == "array":
        return [example_of(schema.get("items") or {}, depth + 1)]
    if kind == "integer":
        return _number(schema, 1)
    if kind == "number":
        return float(_number(schema, 1))
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(schema, name)
    return None


def _number(schema: dict, preferred: int) -> int:
    low = schema.get("minimum", schema.get("exclusiveMinimum", None))
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema.get("exclusiveMinimum"), bool):
        low = schema["exclusiveMinimum"] + 1
    high = schema.get("maximum")
    value = max(preferred, int(low)) if isinstance(low, (int, float)) else preferred
    return min(value, int(high)) if isinstance(high, (int, float)) else value


def _string(schema: dict, name: str = "") -> str:
    fmt = schema.get("format")
    if fmt is None and ("email" in name.lower() or "@" in str(schema.get("pattern", ""))):
        fmt = "email"
    samples = {"email": "probe@plumbline.example", "uuid": "00000000-0000-4000-8000-000000000000",
               "date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "uri": "https://plumbline.example/",
               "hostname": "plumbline.example", "ipv4": "192.0.2.1"}
    value = samples.get(fmt, "plumbline")
    minimum = int(schema.get("minLength") or 0)
    maximum = schema.get("maxLength")
    if len(value) < minimum:
        value = value + "x" * (minimum - len(value))
    if isinstance(maximum, int) and len(value) > maximum:
        value = value[:maximum]
    return value


def infer_links(spec: Spec) -> None:
    """Links for a spec that declares none: creating operations' id fields -> operations under the collection."""
    for creator in (op for op in spec.operations if op.creates):
        schema = creator.responses.get("201") or {}
        fields = list((schema.get("properties") or {}).keys()) if isinstance(schema, dict) else []
        id_field = next((f for f in fields if f == "id" or f.endswith("_id")), None)
        expression = f"$response.body#/{id_field}" if id_field else "$response.header.Location"
        collection = creator.path.rstrip("/")
        noun = collection.rsplit("/", 1)[-1].rstrip("s")
        for target in spec.operations:
            if target is creator:
                continue
            parameters = {p.name: expression for p in target.path_parameters
                          if target.path.startswith(collection + "/{" + p.name + "}")}
            if parameters:
                creator.links.append(Link(target.operation_id, parameters, {}, inferred=True))
            # One link per body field, as a spec would declare them: a transfer's source and target are two objects.
            for name in (target.body_schema or {}).get("properties") or {}:
                if _names_resource(name, noun):
                    creator.links.append(Link(target.operation_id, {}, {name: expression}, inferred=True))


def _names_resource(field_name: str, noun: str) -> bool:
    """A body field that carries the id of a `noun`: account_id, account, from_account, source_record_id."""
    return (field_name in (noun, f"{noun}_id") or field_name.endswith((f"_{noun}", f"_{noun}_id"))
            or field_name.startswith(f"{noun}_") and field_name.endswith("_id"))


class _Resolver:
    """Local `$ref`s (`#/components/...`), resolved recursively, cycles cut."""

    def __init__(self, document: dict) -> None:
        self.document = document

    def resolve(self, node: Any, seen: frozenset[str] = frozenset()) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str):
                if reference in seen or not reference.startswith("#/"):
                    return {}
                target = self.document
                for part in reference[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    if not isinstance(target, dict) or part not in target:
                        raise SpecError(f"unresolvable $ref {reference!r}")
                    target = target[part]
                merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}} \
                    if isinstance(target, dict) else target
                return self.resolve(merged, seen | {reference})
            return {key: self.resolve(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(item, seen) for item in node]
        return node
