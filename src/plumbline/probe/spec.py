"""OpenAPI 3.0/3.1 -> the operations the probe can drive, with examples, security and links.

Only what the probe uses is kept: each operation's parameters and request body (schema and an
example value), whether it requires credentials, its response schemas, and the links that flow an
id from the operation that creates it to the operations that use it. Where a spec declares no
links, they are inferred: an id field in a creating operation's response matched to path
parameters and body fields of the operations under the same collection.

A spec is untrusted input (it is often served by the target), so reading it is bounded: its size
and nesting are capped, each `$ref` and each YAML alias is resolved once (a fan-out
costs what the document's size costs, not what its expansion would), schemas are cleaned to the
keywords and value types the probe uses, examples and generated values are capped, and paths that
are not origin-relative (`/...`) are left out. What was left out is listed in `Spec.notes`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import yaml

from plumbline.probe.client import BoundedClient
from plumbline.probe.encoders import MEDIA_TYPES, media_type_of
from plumbline.probe.origin import OffOriginError, Origin, template_problem

SAFE_METHODS = ("get", "head", "options")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SPEC_MAX_BYTES = 16 * 2**20
MAX_REDIRECTS = 5
MAX_DEPTH = 64  # nesting, $refs included, past which a spec's content is cut
MAX_OPERATIONS = 1000
MAX_VALUE_NODES = 10_000  # an example, default or enum value larger than this is ignored
MAX_GENERATED_NODES = 2_000  # values built from one schema
MAX_GENERATED_STRING = 4096  # characters of a generated string, whatever its minLength
SCHEMA_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}
REDIRECTS = (301, 302, 303, 307, 308)


class SpecError(Exception):
    """The spec cannot be used; the message says why."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: dict
    example: Any
    given: bool = True  # whether the spec gives the example (example, examples, default, enum), not a generated one


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
    body_media_type: str | None = None  # the request body's media type (encoders.py): JSON, a form, multipart

    @property
    def safe(self) -> bool:
        return self.method.lower() in SAFE_METHODS

    @property
    def path_parameters(self) -> list[Parameter]:
        return [p for p in self.parameters if p.location == "path"]

    makes_items: bool = False  # a POST on a collection whose items the spec addresses (`/books` beside `/books/{id}`)
    body_given: bool = False  # whether body_example is the spec's own example, not one made from the schema

    @property
    def creates(self) -> bool:
        """A POST that answers 201, or one on a collection of addressed items (many creates answer 200)."""
        return self.method == "POST" and ("201" in self.responses or self.makes_items)

    @property
    def named_by(self) -> str | None:
        """The string path parameter that names the object this create makes (`POST /items/{name}`), if any."""
        last = self.path_parameters[-1] if self.creates and self.path_parameters else None
        named = last is not None and self.path.rstrip("/").endswith("{" + last.name + "}")
        return last.name if named and (last.schema or {}).get("type", "string") == "string" else None

    @property
    def created_schema(self) -> dict:
        """The JSON schema of the created object's answer (201, else 200)."""
        return self.responses.get("201") or self.responses.get("200") or {}

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
    operations: list[Operation]  # fixed once the Spec is made
    notes: list[str] = field(default_factory=list)  # what was left out of the document, and why
    declares_security: bool = True  # whether the document says anywhere which operations need credentials

    def __post_init__(self) -> None:
        self._by_id: dict[str, Operation] = {}
        for operation in self.operations:
            self._by_id.setdefault(operation.operation_id, operation)

    def operation(self, operation_id: str) -> Operation | None:
        return self._by_id.get(operation_id)


# ---- reading ---------------------------------------------------------------------------------------


def load(source: str, base_url: str, *, timeout: float = 15.0) -> Spec:
    """The spec at `source`: a file, an absolute URL, or a path on the target (`/openapi.json`)."""
    return parse(_decode(_read(source, base_url, timeout), source), source)


def _read(source: str, base_url: str, timeout: float) -> str:
    path = Path(source)
    if "://" not in source and path.is_file():
        return _read_file(path, source)
    if "://" not in source and path.exists():
        raise SpecError(f"{source}: not a regular file")
    if "://" not in source and not source.startswith("/"):
        raise SpecError(f"{source}: no such file (give a file, a URL, or a path on the target such as /openapi.json)")
    try:
        if "://" in source:
            parts = urlsplit(source)
            origin = Origin.of(f"{parts.scheme}://{parts.netloc}", "the spec URL")
            origin.check(source)
            return _fetch(source, origin, timeout)
        return _fetch(Origin.of(base_url).url(source), Origin.of(base_url), timeout)
    except OffOriginError:
        raise SpecError(f"{source}: not a path on the target (give the spec as a full URL instead)") from None
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def _read_file(path: Path, source: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(SPEC_MAX_BYTES + 1)
        if len(data) > SPEC_MAX_BYTES:
            raise SpecError(f"{source}: larger than {SPEC_MAX_BYTES // 2**20} MiB")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{source}: cannot read: {exc}") from exc


def _fetch(url: str, origin: Origin, timeout: float) -> str:
    """GET `url` without credentials, following redirects only within `origin`, within `timeout` per request."""
    client = BoundedClient(timeout, SPEC_MAX_BYTES)
    first = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            reply = client.send("GET", url, headers={"Accept": "application/json, application/yaml, */*",
                                                     "User-Agent": "plumbline-probe"})
            location = reply.response.headers.get("location")
            if reply.response.status_code not in REDIRECTS or not location:
                break
            url = str(httpx.URL(url).join(location))
            if not origin.contains(url):
                raise SpecError(f"cannot fetch the spec from {first}: it redirects to another origin "
                                f"({url[:200]!r}); only redirects within {origin.root} are followed")
        else:
            raise SpecError(f"cannot fetch the spec from {first}: more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as exc:
        raise SpecError(f"cannot fetch the spec from {url}: no answer within {timeout:g} s") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SpecError(f"cannot fetch the spec from {url}: {exc or type(exc).__name__}") from exc
    finally:
        client.close()
    if reply.response.status_code != 200:
        raise SpecError(f"cannot fetch the spec from {url}: HTTP {reply.response.status_code}")
    if reply.cut:
        raise SpecError(f"cannot use the spec from {url}: larger than {SPEC_MAX_BYTES // 2**20} MiB")
    return reply.response.text


class _YamlLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):
    """Safe YAML without timestamps: dates stay strings, as in JSON. Aliases are built once and shared."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _decode(text: str, source: str) -> Any:
    try:
        try:
            return json.loads(text)
        except ValueError:
            return yaml.load(text, Loader=_YamlLoader)
    except RecursionError:
        raise SpecError(f"{source}: nested too deeply") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise SpecError(f"{source}: neither JSON nor YAML: {(str(exc).splitlines() or [''])[0][:200]}") from None


# ---- parsing ---------------------------------------------------------------------------------------


def parse(document: Any, source: str = "spec") -> Spec:
    if not isinstance(document, dict):
        raise SpecError(f"{source}: not an OpenAPI document (top level is not an object)")
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        found = (f"swagger {str(document['swagger'])[:20]}" if "swagger" in document else
                 f"openapi {version[:20]}" if version else "no 'openapi' field")
        raise SpecError(f"{source}: OpenAPI 3.0 or 3.1 is required ({found})")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{source}: 'paths' is missing or not an object")
    resolver = _Resolver(document)
    paths = resolver.resolve(document["paths"])
    global_security = _requires_credentials(resolver.resolve(document.get("security")), False)
    reader = _Reader()
    operations: list[Operation] = []
    refused: list[str] = []
    beyond = 0
    for path, item in paths.items():
        if not isinstance(item, dict) or not any(isinstance(item.get(m), dict) for m in METHODS):
            continue
        if template_problem(path):
            refused.append(path)
            continue
        shared = _dicts(item.get("parameters"))
        for method in METHODS:
            if not isinstance(item.get(method), dict):
                continue
            if len(operations) == MAX_OPERATIONS:
                beyond += 1
                continue
            operations.append(reader.operation(method, path, item[method], shared, global_security))
    _mark_collection_posts(operations)
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    spec = Spec(title=str(info.get("title", ""))[:200], version=version, operations=operations,
                notes=_notes(refused, beyond), declares_security=_declares_security(document, paths))
    if not any(op.links for op in operations):
        infer_links(spec)
    return spec


def _declares_security(document: dict, paths: dict) -> bool:
    """Whether the document says anywhere who may call what: a top-level or per-operation `security`. A spec
    generated from code that declares none says nothing about credentials (not that none are needed)."""
    return "security" in document or any(
        isinstance(item, dict) and isinstance(item.get(method), dict) and "security" in item[method]
        for item in paths.values() for method in METHODS)


def _mark_collection_posts(operations: list[Operation]) -> None:
    """POSTs whose path is followed in the spec by `/{parameter}`: they create the items it addresses."""
    item_prefixes = {match.group(1) for op in operations for match in [re.match(r"(.*)/\{[^/}]+\}", op.path)]
                     if match}
    for operation in operations:
        if operation.method == "POST" and operation.path.rstrip("/") in item_prefixes:
            operation.makes_items = True


def _notes(refused: list[str], beyond: int) -> list[str]:
    notes = []
    if refused:
        shown = ", ".join(repr(path[:80]) for path in refused[:3])
        notes.append(f"{len(refused)} path(s) left out: not relative to the target (they must start with one "
                     f"'/'; nothing is sent to another host or port): {shown}{', …' if len(refused) > 3 else ''}")
    if beyond:
        notes.append(f"the spec has {MAX_OPERATIONS + beyond} operations: only the first {MAX_OPERATIONS} are probed")
    return notes


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> dict[str, str]:
    """A mapping of names to runtime expressions, keeping only string pairs."""
    if not isinstance(value, dict):
        return {}
    return {key: item for key, item in value.items() if isinstance(key, str) and isinstance(item, str)}


def _requires_credentials(security: Any, default: bool) -> bool:
    """Whether a `security` list requires credentials: a non-empty list without the `{}` alternative."""
    if not isinstance(security, list):
        return default
    return bool(security) and not any(requirement == {} for requirement in security)


def _request_media(content: Any) -> tuple[str, dict] | None:
    """A request body's media type and its entry: JSON preferred, then a form, then a multipart form."""
    if not isinstance(content, dict):
        return None
    for wanted in MEDIA_TYPES:
        for kind, media in content.items():
            if isinstance(kind, str) and isinstance(media, dict) and media_type_of(kind) == wanted:
                return wanted, media
    return None


def _json_media(content: Any) -> dict | None:
    if not isinstance(content, dict):
        return None
    return next((media for kind, media in content.items() if "json" in kind and isinstance(media, dict)), None)


class _Reader:
    """Operations out of a resolved document, with every schema cleaned once (see `_Schemas`)."""

    def __init__(self) -> None:
        self.schemas = _Schemas()

    def operation(self, method: str, path: str, raw: dict, shared: list[dict], global_security: bool) -> Operation:
        given_id = raw.get("operationId")
        operation_id = given_id if isinstance(given_id, str) and given_id else \
            f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}"
        parameters: dict[tuple[str, str], Parameter] = {}
        for raw_parameter in [*shared, *_dicts(raw.get("parameters"))]:
            name, location = raw_parameter.get("name"), raw_parameter.get("in", "query")
            if not isinstance(name, str) or not name or not isinstance(location, str):
                continue
            schema = self.schemas.clean(raw_parameter.get("schema"))
            parameters[(location, name)] = Parameter(
                name=name, location=location,
                required=bool(raw_parameter.get("required")) or location == "path",
                schema=schema, example=_example(raw_parameter, schema), given=_gives_value(raw_parameter, schema))
        body_schema, body_example, body_media_type = None, None, None
        body = raw.get("requestBody")
        chosen = _request_media(body.get("content")) if isinstance(body, dict) else None
        if chosen is not None:
            body_media_type, media = chosen
            body_schema = self.schemas.clean(media.get("schema"))
            body_example = _example(media, body_schema)
        responses: dict[str, dict | None] = {}
        links: list[Link] = []
        for status, response in (raw.get("responses") if isinstance(raw.get("responses"), dict) else {}).items():
            if not isinstance(response, dict):
                continue
            response_media = _json_media(response.get("content"))
            responses[status] = self.schemas.clean(response_media.get("schema")) if response_media else None
            for link in (response.get("links") if isinstance(response.get("links"), dict) else {}).values():
                if isinstance(link, dict) and isinstance(link.get("operationId"), str) and link["operationId"]:
                    links.append(Link(link["operationId"], _strings(link.get("parameters")),
                                      _strings(link.get("requestBody"))))
        secured = _requires_credentials(raw.get("security"), global_security)
        return Operation(method.upper(), path, operation_id, list(parameters.values()), body_schema, body_example,
                         secured, responses, links, body_media_type=body_media_type,
                         body_given=chosen is not None and any(k in chosen[1] for k in ("example", "examples")))


def _example(holder: dict, schema: dict) -> Any:
    if "example" in holder and _small(holder["example"]):
        return holder["example"]
    examples = holder.get("examples")
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        if isinstance(first, dict) and "value" in first and _small(first["value"]):
            return first["value"]
    return example_of(schema)


def _gives_value(holder: dict, schema: dict) -> bool:
    """Whether a parameter comes with a value of the spec's own: a seed, rather than one made from its type."""
    return any(key in holder for key in ("example", "examples")) or any(
        key in schema for key in ("example", "examples", "default", "enum", "const"))


def _small(value: Any, limit: int = MAX_VALUE_NODES) -> bool:
    """Whether `value`, expanded as a tree (shared parts counted each time), has at most `limit` nodes."""
    pending, seen = [value], 0
    while pending:
        item = pending.pop()
        seen += 1
        if seen > limit:
            return False
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class _Schemas:
    """JSON schemas cleaned to the keywords the probe reads, each with the type it expects; anything else
    (a number where a list belongs, a list where an object belongs) is dropped. Each schema object is
    cleaned once, so shared schemas stay shared."""

    def __init__(self) -> None:
        self._done: dict[int, dict] = {}

    def clean(self, node: Any) -> dict:
        if not isinstance(node, dict):
            return {}
        if id(node) in self._done:
            return self._done[id(node)]
        schema: dict = {}
        self._done[id(node)] = schema
        kind = node.get("type")
        if isinstance(kind, list) and any(isinstance(k, str) and k in SCHEMA_TYPES for k in kind):
            schema["type"] = [k for k in kind if isinstance(k, str) and k in SCHEMA_TYPES]
        elif isinstance(kind, str) and kind in SCHEMA_TYPES:
            schema["type"] = kind
        if isinstance(node.get("properties"), dict):
            schema["properties"] = {name: self.clean(sub) for name, sub in node["properties"].items()
                                    if isinstance(sub, dict)}
        if isinstance(node.get("required"), list):
            schema["required"] = [name for name in node["required"] if isinstance(name, str)]
        if isinstance(node.get("items"), dict):
            schema["items"] = self.clean(node["items"])
        for key in ("allOf", "oneOf", "anyOf"):
            if _dicts(node.get(key)):
                schema[key] = [self.clean(sub) for sub in _dicts(node[key])]
        for key in ("example", "default", "const"):
            if key in node and _small(node[key]):
                schema[key] = node[key]
        for key in ("enum", "examples"):
            values = [v for v in node[key][:100] if _small(v)] if isinstance(node.get(key), list) else []
            if values:
                schema[key] = values
        for key in ("minLength", "maxLength"):
            if _finite(node.get(key)) and node[key] >= 0:
                schema[key] = int(node[key])
        for key in ("minimum", "maximum"):
            if _finite(node.get(key)):
                schema[key] = node[key]
        if _finite(node.get("exclusiveMinimum")) or isinstance(node.get("exclusiveMinimum"), bool):
            schema["exclusiveMinimum"] = node["exclusiveMinimum"]
        for key in ("format", "pattern"):
            if isinstance(node.get(key), str):
                schema[key] = node[key]
        for key in ("nullable", "readOnly", "writeOnly"):
            if isinstance(node.get(key), bool):
                schema[key] = node[key]
        return schema


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---- values ----------------------------------------------------------------------------------------


def example_of(schema: dict, name: str = "") -> Any:
    """A value valid for `schema` as a request sends it: its example, default or first enum value, else one
    built from its type, without the properties the schema marks `readOnly` (an API may refuse them).
    At most MAX_GENERATED_NODES values are built, strings at most MAX_GENERATED_STRING long."""
    return _Generator().value(schema, 0, name)


class _Generator:
    def __init__(self) -> None:
        self.budget = MAX_GENERATED_NODES

    def value(self, schema: Any, depth: int, name: str = "") -> Any:
        if not isinstance(schema, dict) or depth > 8 or self.budget <= 0:
            return None
        self.budget -= 1
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        for key in ("examples", "enum"):
            if isinstance(schema.get(key), list) and schema[key]:
                return schema[key][0]
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict = {}
            for part in schema["allOf"]:
                value = self.value(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self.value(schema[key][0], depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
            required = schema.get("required") if isinstance(schema.get("required"), list) else []
            required = required or list(properties)  # no required list (or an empty one): fill every property
            return {key: self.value(sub, depth + 1, key) for key, sub in properties.items()
                    if key in required and not (isinstance(sub, dict) and sub.get("readOnly"))}
        if kind == "array":
            return [self.value(schema.get("items") or {}, depth + 1)]
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
    low = schema.get("minimum")
    if _finite(schema.get("exclusiveMinimum")):
        low = schema["exclusiveMinimum"] + 1
    high = schema.get("maximum")
    value = max(preferred, math.ceil(low)) if _finite(low) else preferred
    return min(value, math.floor(high)) if _finite(high) else value


def _string(schema: dict, name: str = "") -> str:
    fmt = schema.get("format")
    if fmt is None and ("email" in name.lower() or "@" in str(schema.get("pattern", ""))):
        fmt = "email"
    samples = {"email": "probe@plumbline.example", "uuid": "00000000-0000-4000-8000-000000000000",
               "date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "uri": "https://plumbline.example/",
               "hostname": "plumbline.example", "ipv4": "192.0.2.1"}
    value = samples.get(fmt, "plumbline") if isinstance(fmt, str) else "plumbline"
    minimum = schema.get("minLength")
    maximum = schema.get("maxLength")
    if _finite(minimum) and len(value) < minimum:
        value += "x" * (min(int(minimum), MAX_GENERATED_STRING) - len(value))
    if _finite(maximum) and len(value) > maximum:
        value = value[:max(int(maximum), 0)]
    return value


# ---- links -----------------------------------------------------------------------------------------


def enveloped(schema: dict | None) -> tuple[str, dict]:
    """The object schema inside a single-property envelope (`{"article": {...}}`) and the JSON pointer prefix
    to it (`/article`); ("", schema) when the schema is not an envelope."""
    properties = (schema or {}).get("properties") or {}
    if len(properties) == 1:
        name, inner = next(iter(properties.items()))
        if isinstance(inner, dict) and isinstance(inner.get("properties"), dict) and inner["properties"]:
            return "/" + name.replace("~", "~0").replace("/", "~1"), inner
    return "", schema or {}


def infer_links(spec: Spec) -> None:
    """Links for a spec that declares none: creating operations' id fields -> operations under the collection,
    and a create that names its object by its own path (`POST /items/{name}`) -> the operations on that path.

    Creators are indexed by collection and by the noun they create, so the work is linear in the spec."""
    by_collection: dict[str, list[tuple[Operation, str]]] = {}
    by_noun: dict[str, list[tuple[Operation, str]]] = {}
    by_own_path: dict[str, Operation] = {}
    for creator in (op for op in spec.operations if op.creates):
        prefix, schema = enveloped(creator.created_schema)
        id_field = next((f for f in schema.get("properties") or {} if f == "id" or f.endswith("_id")), None)
        expression = f"$response.body#{prefix}/{id_field}" if id_field else "$response.header.Location"
        if creator.path.rstrip("/").endswith("}"):
            by_own_path.setdefault(creator.path.rstrip("/"), creator)
            continue
        collection = creator.path.rstrip("/")
        by_collection.setdefault(collection, []).append((creator, expression))
        by_noun.setdefault(collection.rsplit("/", 1)[-1].rstrip("s"), []).append((creator, expression))
    for target in spec.operations:
        # One link per creator for the path parameters, then one per body field, as a spec would declare them:
        # a transfer's source and target are two objects.
        found: dict[int, tuple[Operation, str, dict[str, str]]] = {}
        for parameter in target.path_parameters:
            for collection in _collections_above(target.path, parameter.name):
                for creator, expression in by_collection.get(collection, ()):
                    if creator is not target:
                        found.setdefault(id(creator), (creator, expression, {}))[2][parameter.name] = \
                            _naming_expression(creator, parameter.name, expression)
        for creator, expression, parameters in found.values():
            creator.links.append(Link(target.operation_id, parameters, {}, inferred=True))
        named_by_path = by_own_path.get(target.path.rstrip("/"))
        if named_by_path is not None and named_by_path is not target:
            named_by_path.links.append(Link(target.operation_id, {p.name: f"$request.path.{p.name}"
                                                                  for p in target.path_parameters}, {},
                                            inferred=True))
        for name in (target.body_schema or {}).get("properties") or {}:
            matched: set[int] = set()
            for noun in _nouns_named_by(name):
                for creator, expression in by_noun.get(noun, ()):
                    if creator is not target and id(creator) not in matched:
                        matched.add(id(creator))
                        creator.links.append(Link(target.operation_id, {}, {name: expression}, inferred=True))


def _naming_expression(creator: Operation, parameter: str, id_expression: str) -> str:
    """How a created object fills path parameter `parameter`: the answer's property of that name, else the
    request's (an object named by its title or username), else the answer's id or Location; inside an
    envelope (`{"article": {"slug": ...}}`) where there is one."""
    answer, answer_schema = enveloped(creator.created_schema)
    if parameter in (answer_schema.get("properties") or {}):
        return f"$response.body#{answer}/{parameter}"
    sent, sent_schema = enveloped(creator.body_schema)
    if parameter in (sent_schema.get("properties") or {}):
        return f"$request.body#{sent}/{parameter}"
    return id_expression


def _collections_above(path: str, parameter: str) -> list[str]:
    """Every prefix of `path` directly followed by `/{parameter}`: the collections it addresses."""
    marker = "/{" + parameter + "}"
    return [path[:match.start()] for match in re.finditer(re.escape(marker), path)]


def _nouns_named_by(field_name: str) -> set[str]:
    """The nouns whose id a body field carries: account_id, account, from_account, source_record_id name
    'account', 'account', 'account' (and 'from_account') and 'record' (and 'source_record')."""
    nouns = {field_name}
    cuts = [i for i, char in enumerate(field_name) if char == "_"]
    nouns |= {field_name[i + 1:] for i in cuts}  # ..._noun
    if field_name.endswith("_id"):
        stem = field_name[:-3]
        nouns.add(stem)  # noun_id
        nouns |= {stem[i + 1:] for i in cuts if i < len(stem)}  # ..._noun_id
        nouns |= {field_name[:i] for i in cuts}  # noun_..._id
    return nouns


class _Resolver:
    """A document's content as plain JSON values, with local `$ref`s (`#/components/...`) resolved.

    Each object and each `$ref` target is resolved once and then shared, so a `$ref` fan-out or YAML
    aliases cost what the document's size costs. A cycle, a `$ref` outside the document, or nesting past
    MAX_DEPTH becomes `{}`; a `$ref` to nothing is a SpecError."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self._done: dict[int, Any] = {}
        self._active: set[int] = set()

    def resolve(self, node: Any, depth: int = 0) -> Any:
        if not isinstance(node, (dict, list)):
            return node if isinstance(node, (str, int, float, bool)) or node is None else str(node)
        key = id(node)
        if key in self._done:
            return self._done[key]
        if key in self._active or depth > MAX_DEPTH:
            return {}
        self._active.add(key)
        try:
            result = self._resolve(node, depth)
        finally:
            self._active.discard(key)
        self._done[key] = result
        return result

    def _resolve(self, node: dict | list, depth: int) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, depth + 1) for item in node]
        reference = node.get("$ref")
        children = {str(k): self.resolve(v, depth + 1) for k, v in node.items() if k != "$ref"}
        if not isinstance(reference, str):
            return children
        if reference != "#" and not reference.startswith("#/"):
            return {}  # another document, or a named anchor: not followed
        target = self.resolve(self._target(reference), depth + 1)
        return {**target, **children} if isinstance(target, dict) and children else target

    def _target(self, reference: str) -> Any:
        target: Any = self.document
        for part in reference[2:].split("/") if reference != "#" else []:
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise SpecError(f"unresolvable $ref {reference[:200]!r}")
        return target
