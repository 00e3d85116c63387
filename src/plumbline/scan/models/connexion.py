"""connexion: handlers named by an OpenAPI 3 / Swagger 2 document instead of a decorator.

Python tells which resolvers an app uses (`app.add_api("openapi.yaml", resolver=RestyResolver("api"))`), the
documents tell the operations. connexion names an operation's handler by its `operationId` (a dotted
function name, or a name within `x-openapi-router-controller`), and RestyResolver names the handler of an
operation without one from its path and method (GET /pets -> `api.pets.search`, GET /pets/{id} ->
`api.pets.get`). The handler receives the path, query and form parameters and the body as keyword
arguments (headers and cookies it does not pass), and the caller as `user` / `token_info` when the
operation is secured.

Documents are untrusted: anything that is not what connexion would read is skipped, never an error.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


from plumbline.jsonpointer import pointer
from plumbline.scan.facts import EntryPoint, Function, ModuleFacts, OperationResolver
from plumbline.scan.files import MAX_BYTES
from plumbline.scan.models import module_nodes, project_entry_points
from plumbline.scan.pyast import dotted, kwarg, string

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")  # connexion's http_facts.METHODS
RESOLVERS = {"RestyResolver": "resty", "RelativeResolver": "relative"}
IDENTITY_PARAMETERS = ("user", "token_info")  # what connexion passes from the security handler's answer
PASSED_LOCATIONS = ("path", "query", "formData")  # parameters connexion passes by name (not header, cookie)
DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
MAX_NAME = 300
MAX_REF_HOPS = 8
# Items of a document (operations, parameters, $ref hops) one document may cost: YAML aliases let a small text
# repeat one long parameter list under every operation.
MAX_WORK = 100_000


class _Unusable(Exception):
    """A document that is not worth reading further."""


# ---- the resolvers, from Python ------------------------------------------------------------------------------


@module_nodes(ast.Call)
def record_resolver(node: ast.Call, ctx) -> None:
    """`RestyResolver("api")` anywhere, and which document an `add_api(...)` serves with one it creates."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name == "add_api":
        resolver = kwarg(node, "resolver")
        made = _resolver(resolver, ctx, _document_name(node)) if isinstance(resolver, ast.Call) else None
    elif name in RESOLVERS:
        made = _resolver(node, ctx, None)
    else:
        return
    if made is not None:
        ctx.facts.operation_resolvers.append(made)


def _resolver(call: ast.Call, ctx, document: str | None) -> OperationResolver | None:
    qualified = ctx.resolve(dotted(call.func))
    kind = RESOLVERS.get(qualified.rsplit(".", 1)[-1])
    if kind is None or not (qualified.startswith("connexion.") or _connexion_subclass(qualified, ctx)):
        return None
    root = call.args[0] if call.args else kwarg(call, "default_module_name") or kwarg(call, "root_path")
    module = string(root) or (ctx.resolve(dotted(root)) if root is not None else "")
    if not module or not DOTTED_NAME.fullmatch(module):
        return None
    collection = string(kwarg(call, "collection_endpoint_name")) or "search"
    return OperationResolver(document=document, kind=kind, module=module, collection=collection)


def _connexion_subclass(name: str, ctx) -> bool:
    """A class of this module that derives from a connexion resolver: a project's own copy of RestyResolver
    (patched while a fix is not released) resolves names as connexion's does."""
    defined = ctx.class_names.get(name)
    return defined is not None and any(ctx.resolve(dotted(base)).startswith("connexion.") for base in defined.bases)


def _document_name(add_api: ast.Call) -> str | None:
    given = string(add_api.args[0]) if add_api.args else string(kwarg(add_api, "specification"))
    if given is None:
        return None
    name = given.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name or None


# ---- the operations, from the documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    path: str
    method: str  # lower case, as written in the document
    operation_id: str | None
    controller: str | None  # x-openapi-router-controller, of the operation or else of its path
    inputs: frozenset[str]  # the names connexion may pass for it, as Python names
    auth: bool


@project_entry_points
def connexion_operations(documents: Iterable[tuple[str, str]],
                         modules: list[ModuleFacts]) -> dict[str, list[EntryPoint]]:
    """The functions OpenAPI documents make handlers of, by dotted name, with the entry points of each."""
    resolvers = [resolver for module in modules for resolver in module.operation_resolvers]
    functions = _FunctionIndex(modules)
    found: dict[str, list[EntryPoint]] = {}
    for path, text in documents:
        chosen = _resolvers_for(path, resolvers)
        if "operationId" not in text and not any(r.kind == "resty" for r in chosen):
            continue  # it names no handler: not worth parsing
        operations = read_operations(path, text)
        for operation in operations:
            for name in dict.fromkeys(handler_names(operation, chosen)):
                for function_name, function in functions.lookup(name):
                    found.setdefault(function_name, []).append(_entry_point(name, operation, function))
    return found


def _resolvers_for(path: str, resolvers: list[OperationResolver]) -> list[OperationResolver]:
    """The resolvers an `add_api` serves this document with; without one that names it, every resolver made."""
    named = [r for r in resolvers if r.document is not None and (path == r.document or
                                                                  path.endswith("/" + r.document))]
    return named or [r for r in resolvers if r.document is None]


def handler_names(operation: Operation, resolvers: list[OperationResolver]) -> list[str]:
    """The dotted names connexion may resolve the operation's handler to, by its default rule and `resolvers`."""
    names = []
    if operation.operation_id:
        names.append(_within(operation.controller, operation.operation_id))
    for resolver in resolvers:
        if resolver.kind == "relative" and operation.operation_id:
            names.append(_within(operation.controller or resolver.module, operation.operation_id))
        elif resolver.kind == "resty" and not operation.operation_id:
            names.append(resty_name(operation, resolver))
    return [name for name in names if len(name) <= MAX_NAME and DOTTED_NAME.fullmatch(name)]


def _within(controller: str | None, operation_id: str) -> str:
    return f"{controller}.{operation_id}" if controller else operation_id


def resty_name(operation: Operation, resolver: OperationResolver) -> str:
    """RestyResolver's name: the path's fixed segments as modules, then `search` for GET on a collection,
    else the method (as connexion.resolver.RestyResolver.resolve_operation_id_using_rest_semantics does)."""
    segments = [segment for segment in operation.path.split("/") if segment]
    resource = ".".join(s for s in segments if not _is_variable(s)).replace("-", "_")
    if operation.controller:
        module = operation.controller
    else:
        module = f"{resolver.module}.{resource}" if resource else resolver.module
    collection = operation.method.lower() == "get" and resource and not _is_variable(segments[-1])
    return f"{module}.{resolver.collection if collection else operation.method.lower()}"


def _is_variable(segment: str) -> bool:
    return segment[0] == "{" and segment[-1] == "}"


def _entry_point(name: str, operation: Operation, function: Function | None) -> EntryPoint:
    if function is None:
        inputs, identity = tuple(sorted(operation.inputs)), ()
    else:
        inputs = tuple(p for p in function.params if p in operation.inputs)
        identity = tuple(p for p in function.params if p in IDENTITY_PARAMETERS)
    return EntryPoint(kind="operation", name=name, methods=(operation.method.upper(),), inputs=inputs,
                      identity=identity, auth=operation.auth)


class _FunctionIndex:
    """The scanned functions by dotted name ("pkg.module.function", "pkg.module.Class.method").

    An operationId names a function by its import path; a package without `__init__.py` is no package for the
    scan, which names its modules from the first directory that is: `api.pets.search` is then `pets.search`."""

    def __init__(self, modules: list[ModuleFacts]) -> None:
        self.by_name: dict[str, Function] = {}
        self.by_last: dict[str, list[str]] = {}
        for module in modules:
            for function in module.functions:
                name = f"{module.module}.{function.qualname}"
                self.by_name.setdefault(name, function)
                self.by_last.setdefault(function.name, []).append(name)

    def lookup(self, dotted_name: str) -> list[tuple[str, Function | None]]:
        if dotted_name in self.by_name:
            return [(dotted_name, self.by_name[dotted_name])]
        tails = [name for name in self.by_last.get(dotted_name.rsplit(".", 1)[-1], ())
                 if dotted_name.endswith("." + name)]
        if not tails:
            return [(dotted_name, None)]
        longest = max(map(len, tails))
        return [(name, self.by_name[name]) for name in dict.fromkeys(tails) if len(name) == longest]


def read_operations(path: str, text: str) -> list[Operation]:
    """The operations of an OpenAPI 3 or Swagger 2 document; [] for anything else or anything broken."""
    document = _load(path, text)
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        return []
    try:
        return _Reader(document).operations()
    except _Unusable:
        return []


def _load(path: str, text: str) -> Any:
    if len(text) > MAX_BYTES:
        return None
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None
    import yaml  # when an API document is first read: most trees hold none

    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    try:
        return yaml.load(text, Loader=loader)  # plain data; an alias is one object, shared where used
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


class _Reader:
    """One document's operations, reading only what connexion reads, with a work budget."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.work = 0

    def operations(self) -> list[Operation]:
        paths = self.document.get("paths")
        if not isinstance(paths, dict):
            return []
        secured = _demands_credentials(self.document.get("security"))
        found = []
        for path, item in paths.items():
            self.spend(1)
            item = self.resolved(item)
            if not isinstance(path, str) or not isinstance(item, dict):
                continue
            shared = self.parameters(item.get("parameters"))
            path_controller = self.controller(item)
            for method in METHODS:
                operation = self.resolved(item.get(method))
                if not isinstance(operation, dict):
                    continue
                self.spend(1)
                operation_id = operation.get("operationId")
                found.append(Operation(
                    path=path, method=method,
                    operation_id=operation_id if isinstance(operation_id, str) and operation_id else None,
                    controller=self.controller(operation) or path_controller,
                    inputs=frozenset(self.inputs(shared + self.parameters(operation.get("parameters")), operation)),
                    auth=_demands_credentials(operation["security"]) if "security" in operation else secured,
                ))
        return found

    def controller(self, node: dict) -> str | None:
        """x-openapi-router-controller (Swagger 2: x-swagger-router-controller). connexion reads it on the
        operation only; on the path item it is read here too, as the operations' shared default."""
        for key in ("x-openapi-router-controller", "x-swagger-router-controller"):
            value = node.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    def parameters(self, value: Any) -> list[dict]:
        value = self.resolved(value)
        if not isinstance(value, list):
            return []
        self.spend(len(value))
        return [p for p in map(self.resolved, value) if isinstance(p, dict)]

    def inputs(self, parameters: list[dict], operation: dict) -> set[str]:
        """The Python names of the arguments connexion may fill for the operation."""
        names: set[str] = set()
        for parameter in parameters:
            name, location = parameter.get("name"), parameter.get("in")
            if not isinstance(name, str) or len(name) > MAX_NAME:
                continue
            if location in PASSED_LOCATIONS:
                names |= python_names(name)
            elif location == "body":  # Swagger 2: the body, under its parameter's name
                names |= python_names(name or "body")
        body = self.resolved(operation.get("requestBody"))
        if isinstance(body, dict):  # OpenAPI 3: the whole body, form content included
            body_name = body.get("x-body-name")
            names |= python_names(body_name if isinstance(body_name, str) and 0 < len(body_name) <= MAX_NAME
                                  else "body")
        return names

    def resolved(self, node: Any) -> Any:
        """`node`, or what its local `$ref` ("#/components/parameters/Id") points to."""
        for _ in range(MAX_REF_HOPS):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            self.spend(1)
            node = self.pointer(node["$ref"])
        return None

    def pointer(self, reference: str) -> Any:
        if not reference.startswith("#/"):
            return None  # another document: not read
        return pointer(self.document, reference[1:], step=lambda: self.spend(1))

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > MAX_WORK:
            raise _Unusable


def _demands_credentials(security: Any) -> bool:
    """A security requirement list that no anonymous call satisfies: non-empty, and no empty alternative
    (`- {}` makes credentials optional)."""
    return isinstance(security, list) and bool(security) and all(
        isinstance(requirement, dict) and requirement for requirement in security)


@functools.lru_cache(maxsize=4096)
def python_names(name: str) -> frozenset[str]:
    """The argument names connexion may pass a request parameter as: sanitized as given, and in the
    `pythonic_params` form (snake_case, a trailing `_` for a built-in or keyword: `from` -> `from_`)."""
    snake = name if name.islower() and name.isidentifier() else _underscore(name)
    if snake in SHADOWED:
        snake += "_"
    return frozenset(found for found in (_sanitized(name), _sanitized(snake)) if found)


SHADOWED = frozenset(vars(builtins)) | frozenset(keyword.kwlist)
_OPEN_BRACKET = re.compile(r"\[(?!])")
_NOT_IN_NAME = re.compile(r"[^0-9a-zA-Z_]")
_LEADING_NON_NAME = re.compile(r"^[^a-zA-Z_]+")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_START = re.compile(r"([a-z\d])([A-Z])")


def _sanitized(name: str) -> str:
    """connexion's `sanitized`: `[` becomes `_`, other characters that are no part of a name are dropped."""
    if name.isidentifier() and name.isascii():
        return name
    return _LEADING_NON_NAME.sub("", _NOT_IN_NAME.sub("", _OPEN_BRACKET.sub("_", name)))


def _underscore(name: str) -> str:
    """inflection's `underscore`: `petId` -> `pet_id`, `HTTPCode` -> `http_code`, `pet-id` -> `pet_id`."""
    return _WORD_START.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name)).replace("-", "_").lower()
