"""Framework knowledge for the scan, one module per library; the core (`scan/python.py`) names none.

Modelled on CodeQL's Concepts: a library module contributes *ranges* of a few concepts, and the checks only
read the facts those concepts produce (`EntryPoint`, `DataOp`, `Table`, taints). To teach the scan a library,
add a module here and list it in `MODULES`; nothing else changes.

The concepts, each a registry filled by decorators:

- `calls("execute", "executemany")` — a handler `(visitor, site) -> Value | None` for calls of a method or
  function of that name. Handlers for one name run in the order of `MODULES`; the first that answers (returns
  a `Value`) wins. `calls()` with no name registers a handler consulted for every call, after named ones.
  Handlers describe data operations through the visitor's core API (`add_op`, `sql_op`, `query_op`,
  `begin_transaction`, `end_transaction`, `txn`), and client data or identity by returning a tainted `Value`.
- `attributes` / `subscripts` / `names` — sources read without a call: `request.json`, `session["uid"]`,
  `g.user`, `current_user`. A handler `(visitor, node) -> Value | None`.
- `contexts` — what a `with` block is: `"transaction"` (one transaction), `"connection"` (commits at its
  end) or None. A handler `(visitor, expression) -> str | None`.
- `module_nodes(ast.Call, ...)` — module-wide facts from the module's nodes of those types: tables, migrations,
  backend hints, autocommit settings. A handler `(node, ctx) -> None`.
- `entry_points` — how requests reach functions in one module: a handler `(tree, ctx) -> Registrations`.
- `transaction_runners` — library functions that run a callback in a transaction of their own, retried
  (`sqlalchemy_cockroachdb.run_transaction`): regular expressions over the called name.
- `project_entry_points` — entry points declared outside Python (an OpenAPI document's operationIds): a
  handler `(documents, modules) -> dict[dotted function name, list[EntryPoint]]`, documents being (path, text)
  pairs (`files.spec_documents`) and modules every module's `ModuleFacts` (the resolvers the app creates, the
  functions' parameters); a dotted function name is "pkg.module.function" or "pkg.module.Class.method".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plumbline.scan.facts import EntryPoint

if TYPE_CHECKING:
    from plumbline.scan.values import Value


@dataclass(slots=True)
class CallSite:
    """A call as the handlers see it, its parts already evaluated by the core."""

    node: ast.Call
    name: str  # the last name: `execute` for `cur.execute(...)`
    qualified: str  # the dotted callee resolved through imports: "sqlalchemy.text", "flask.abort"
    receiver: "Value | None"  # the object a method is called on
    arguments: list["Value"]  # positional arguments, then `**kwargs` spreads
    keywords: dict[str, "Value"]


# The functions of a view class (MethodView, Flask-RESTful/RESTX resources) that handle one HTTP method each.
VIEW_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(slots=True)
class Registrations:
    """Entry points a module declares, before its functions are visited."""

    functions: dict[str, list[EntryPoint]] = field(default_factory=dict)  # qualname -> entry points
    # Views registered by name as written (`add_url_rule(..., view_func=views.f)`, `add_resource(Items, ...)`):
    # a function, or a class whose HTTP-method functions (get, post…, dispatch_request) handle the requests the
    # entry allows. The core finds them in the module, or through its imports in another one.
    views: dict[str, list[EntryPoint]] = field(default_factory=dict)
    class_decorators: dict[str, tuple[str, ...]] = field(default_factory=dict)  # decorators every method takes

    def add_function(self, qualname: str, entry: EntryPoint) -> None:
        self.functions.setdefault(qualname, []).append(entry)

    def add_view(self, name: str, entry: EntryPoint) -> None:
        self.views.setdefault(name, []).append(entry)

    def update(self, other: "Registrations") -> None:
        for name, entries in other.functions.items():
            self.functions.setdefault(name, []).extend(entries)
        for name, entries in other.views.items():
            self.views.setdefault(name, []).extend(entries)
        self.class_decorators.update(other.class_decorators)


CallHandler = Callable[..., "Value | None"]

CALLS: dict[str, list[CallHandler]] = {}
ANY_CALL: list[CallHandler] = []
ATTRIBUTES: list[Callable] = []
SUBSCRIPTS: list[Callable] = []
NAMES: list[Callable] = []
CONTEXTS: list[Callable] = []
MODULE_NODES: dict[type, list[Callable]] = {}
ENTRY_POINTS: list[Callable] = []
PROJECT_ENTRY_POINTS: list[Callable] = []
TRANSACTION_RUNNERS: list[re.Pattern] = []


def calls(*names: str):
    def register(handler: CallHandler) -> CallHandler:
        if names:
            for name in names:
                CALLS.setdefault(name, []).append(handler)
        else:
            ANY_CALL.append(handler)
        return handler
    return register


def _appender(registry: list[Callable]):
    def register(handler: Callable) -> Callable:
        registry.append(handler)
        return handler
    return register


attributes = _appender(ATTRIBUTES)
subscripts = _appender(SUBSCRIPTS)
names = _appender(NAMES)
contexts = _appender(CONTEXTS)
entry_points = _appender(ENTRY_POINTS)
project_entry_points = _appender(PROJECT_ENTRY_POINTS)


def module_nodes(*types: type):
    def register(handler: Callable) -> Callable:
        for node_type in types:
            MODULE_NODES.setdefault(node_type, []).append(handler)
        return handler
    return register


# The library modules, in the order their handlers are consulted for one name (the web framework's request
# objects before the drivers', drivers before the ORM's generic result methods).
MODULES = ("flask", "restful", "graphql", "connexion", "dbapi", "marshmallow", "wtforms", "dynamodb", "dynamodb_schema",
           "boto3", "boto2", "pynamodb", "sqlalchemy", "alembic", "cockroachdb", "identity", "objects")


def first_answer(handlers, *arguments) -> "Value | None":
    """What the first handler that answers (returns something) says, or None."""
    for handler in handlers:
        found = handler(*arguments)
        if found is not None:
            return found
    return None


def is_transaction_runner(name: str) -> bool:
    return any(pattern.search(name) for pattern in TRANSACTION_RUNNERS)


def load() -> None:
    """Import every library module once, so that its handlers register, then put every registry in the order of
    `MODULES` (a module imported early by another one must not jump the queue)."""
    import importlib

    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    rank = {f"{__name__}.{name}": position for position, name in enumerate(MODULES)}

    def ordered(handlers: list[Callable]) -> None:
        handlers.sort(key=lambda handler: rank.get(handler.__module__, len(rank)))  # (stable within a module)

    for registry in (*CALLS.values(), *MODULE_NODES.values(), ANY_CALL, ATTRIBUTES, SUBSCRIPTS, NAMES, CONTEXTS,
                     ENTRY_POINTS, PROJECT_ENTRY_POINTS):
        ordered(registry)
