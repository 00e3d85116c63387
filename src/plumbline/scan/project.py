"""Facts of all modules together: the merged schema, the backend, and each function's effective data ops.

A handler's effective ops are its own plus those of the project functions it calls (four levels
deep: a view, a model method, a property, a lookup), with the callee's parameters replaced by what
the caller passed. A callback handed to a transaction runner (`run_transaction(pool, work)`, or a
project function that calls its callable argument inside a transaction or a retry loop) runs as one
explicit transaction, retried when the runner retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import count

from plumbline.scan import models
from plumbline.scan.facts import (
    COLLECTION_OWNER,
    NO_TAINT,
    PASSED_OBJECT,
    RETURNED,
    Call,
    DataOp,
    EntryPoint,
    Function,
    ModuleFacts,
    Span,
    Table,
    Taint,
)
from plumbline.scan.models import is_transaction_runner
from plumbline.scan.schema import merge, name_models_as_defined, split_statements
from plumbline.scan.sql import bound_statement, display
from plumbline.vocabulary import EVENT_TABLE, PERSON_IDENTIFIER, PRINCIPAL_TABLE, TEST_PATH

MAX_DEPTH = 4
# Calls multiply: f calling g 100 times, g calling h 100 times, h with 100 ops is a million ops for f. Calls
# are followed only towards data ops (`reaches_ops`), and only while the callee's ops and calls fit in what a
# unit may still take (MAX_UNIT_INLINED) and all units together (MAX_INLINED per scan; real code bases take
# far less). Past that, `Unit.truncated` and `Project.inlining_left` tell the user.
MAX_UNIT_INLINED = 20_000
MAX_INLINED = 500_000


@dataclass
class Unit:
    """A function as the checks see it."""

    function: Function
    module: ModuleFacts
    ops: list[DataOp]
    paths: dict[int, str]  # op id -> file the op is written in (a callee may live elsewhere)
    owner_checked: frozenset[int] = frozenset()
    checked: frozenset[int] = frozenset()
    direct: frozenset[int] = frozenset()  # ids of the ops written in the function itself, not in a helper
    truncated: bool = False  # stopped following calls at MAX_UNIT_INLINED: its callees' ops are only in part
    tops: dict[int, Span] = field(default_factory=dict)  # inlined op id -> the call of the function that led to it
    vouched: frozenset[str] = frozenset()  # client origins compared with the caller's identity (an ownership check)
    open_txn: int = 0  # the implicit transaction still open when the function returns: what it writes is not committed
    tested: frozenset[tuple[int, str]] = frozenset()  # (read op id, attribute): a condition tests that attribute of its row

    @property
    def is_entry_point(self) -> bool:
        """A request reaches the function directly: a route, a resolver, an operation."""
        return bool(self.function.entry_points)

    def is_direct(self, op: DataOp) -> bool:
        return op.id in self.direct


@dataclass
class Project:
    modules: list[ModuleFacts]
    backend: str
    tables: dict[str, Table] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # ORM class name -> table name
    auth_decorators: set[str] = field(default_factory=set)
    autocommit: bool = False  # the project opens its SQL connections in autocommit mode
    has_callers: bool = False  # some code knows who is calling (an auth check or decorator, an identity value)
    hints: set[str] = field(default_factory=set)  # backend and isolation hints of every module
    inlining_left: int = MAX_INLINED  # ops and calls units may still take from their callees
    _ids: Iterator[int] = field(default_factory=lambda: count(10_000_000))  # ids of inlined ops
    _functions: dict[str, tuple[Function, ModuleFacts]] = field(default_factory=dict)
    _by_name: dict[str, list[tuple[Function, ModuleFacts]]] = field(default_factory=dict)
    _by_qualname: dict[str, list[tuple[Function, ModuleFacts]]] = field(default_factory=dict)
    _reaching: dict[tuple[int, int], bool] = field(default_factory=dict)  # (id of a function, depth) -> reaches_ops
    _committing: dict[tuple[int, int], bool] = field(default_factory=dict)  # (id of a function, depth) -> commits
    _resolved: dict[tuple[str, int, str | None], tuple[Function, ModuleFacts] | None] = field(default_factory=dict)
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class -> its bases' names, every module
    # One merged schema per app in the tree (see _schemas), and which one each module's code runs against.
    schemas: dict[str, dict[str, Table]] = field(default_factory=dict)
    schema_of: dict[str, str] = field(default_factory=dict)  # module path -> key of its schema
    _suffixes: dict[int, dict[str, set[str]]] = field(default_factory=dict)  # id of a schema -> see suffixes()
    derived: dict[str, object] = field(default_factory=dict)  # what a family of checks derives once per scan
    _called: set[int] | None = None  # ids of the functions some call resolves to (see is_called)
    principals: set[str] = field(default_factory=set)  # tables of callers: read by the caller's identity, or so named
    # What the code shows about whose rows are whose (see _learn_ownership): table -> the key columns some code selects
    # a row by and then compares with the caller; table -> the columns some code fills with the caller's identity
    # or tenant (`filter_by(office_id=csr.office_id)` of the caller's CSR row).
    guarded: dict[str, set[str]] = field(default_factory=dict)
    scoped_by: dict[str, set[str]] = field(default_factory=dict)
    # table -> decorators of role-gated functions that still check its rows: that role does not guard them
    checked_behind: dict[str, set[str]] = field(default_factory=dict)
    _owner_properties: dict[tuple[str | None, str], bool] = field(default_factory=dict)  # see owner_property

    @classmethod
    def build(cls, modules: list[ModuleFacts], backend: str = "auto",
              documents: list[tuple[str, str]] = ()) -> "Project":
        """The project view of `modules`; `documents` are API documents (path, text) that may name handlers."""
        hints = set().union(*(m.backend_hints for m in modules)) if modules else set()
        if backend == "auto":
            # gen_random_uuid() defaults are CockroachDB's idiom; PostgreSQL has them too, so they count only when
            # nothing names PostgreSQL.
            cockroach = "cockroachdb" in hints or "gen_random_uuid" in hints and "postgres" not in hints
            backend = "cockroachdb" if cockroach else "postgres"
        project = cls(modules=modules, backend=backend, hints=hints)
        name_models_as_defined([table for module in modules for table in module.tables])
        tables = _live_tables(modules)
        project.tables = merge([table for module in modules for table in tables[module.path]])
        project.schemas, project.schema_of = _schemas(modules, tables)
        project.models = {t.model: name for name, t in project.tables.items() if t.model}
        project.autocommit = any(m.autocommit for m in modules)
        for module in modules:
            project.auth_decorators |= module.auth_decorators
            for cls, bases in module.classes.items():
                project.bases[cls] = tuple(dict.fromkeys(project.bases.get(cls, ()) + bases))
        _add_declared_entry_points(modules, list(documents))
        project.principals = {name for name in project.tables if PRINCIPAL_TABLE.search(name) and
                              not EVENT_TABLE.search(name)}
        for module in modules:
            for function in module.functions:
                project.principals |= {project.table_name(op.table).lower() for op in function.ops
                                       if op.action == "read" and op.table and _keyed_by_caller(op)}
                project.has_callers = project.has_callers or project._knows_caller(function)
                project._functions[f"{module.module}.{function.qualname}"] = (function, module)
                project._by_name.setdefault(function.name, []).append((function, module))
                project._by_qualname.setdefault(function.qualname, []).append((function, module))
        project._learn_ownership()
        return project

    def _learn_ownership(self) -> None:
        """Which tables hold someone's rows, from how the code treats them: a row loaded by a key that is not the
        caller's and then compared with the caller (`if post.author != me`, a model property doing so) is owned,
        and so are rows some query scopes by a column holding the caller's identity or tenant. Tables of callers
        are left out: comparing a user with the caller is a self-test, not an ownership check."""
        for module in self.modules:
            for function in module.functions:
                caller_reads = {op.id for op in function.ops if op.action == "read" and _keyed_by_caller(op)}
                tables = {op.id: op.table for op in function.ops}
                checked = set(function.owner_checked_reads) | set(function.flag_checked_reads) | {
                    read for attribute, taint in function.tested for read in taint.reads
                    if read in tables and self.owner_property(tables[read], attribute)}
                for call in function.calls:  # `note = Note.get_by_id(note_id)`, then checked: a lookup's row
                    table = (self.table_name(call.receiver) or "").lower()
                    if call.result_id in checked and table in self.tables and table not in self.principals and \
                            any(_chosen(value) for value in call.arguments.values()):
                        self._guard(table, set(), function)
                for op in function.ops:
                    table = (self.table_name(op.table) or "").lower()
                    if not table or table.startswith("<") or table in self.principals or op.api == "dynamodb":
                        continue  # (not a row: `<returned>` objects of unknown class)
                    by_caller = {column for column, value in op.keys.items() if column not in ("id", "pk", "uuid")
                                 and not column.startswith("<") and (value.identity or value.reads & caller_reads)}
                    if by_caller and op.action in ("read", "update", "delete"):
                        self.scoped_by.setdefault(table, set()).update(by_caller)
                    if op.action == "read" and op.id in checked:
                        chosen = {column for column, value in op.keys.items() if _chosen(value)}
                        if chosen:
                            self._guard(table, chosen, function)

    def _guard(self, table: str, columns: set[str], function: Function) -> None:
        """Note that `function` checks rows of `table` it selected by `columns` against the caller."""
        self.guarded.setdefault(table, set()).update(columns)
        if function.privileged:
            self.checked_behind.setdefault(table, set()).update(function.decorators)

    def owner_property(self, model: str | None, attribute: str) -> bool:
        """`order.is_self_order`: a property of the row's model whose value compares the row with the caller
        (`return self.user_id == current_user.id`), so testing it is an ownership check."""
        key = (model, attribute)
        if key not in self._owner_properties:
            table = (self.table_name(model) or "").lower()
            classes = [cls for cls, name in self.models.items() if name.lower() == table] or [model]
            self._owner_properties[key] = any(
                found is not None and any(d.endswith("property") for d in found[0].decorators) and
                found[0].returns.identity and "self" in found[0].returns.params
                for found in (self._method(cls, attribute) for cls in classes if cls))
        return self._owner_properties[key]

    def _method(self, cls: str, name: str) -> tuple[Function, ModuleFacts] | None:
        """The method `name` of class `cls`, defined in it or inherited."""
        defined = self._by_qualname.get(f"{cls}.{name}", [])
        return defined[0] if len(defined) == 1 else self._inherited(cls, name, set())

    def schema(self, path: str) -> dict[str, Table]:
        """The tables the code of the module at `path` runs against (its app's schema)."""
        return self.schemas.get(self.schema_of.get(path, ""), self.tables)

    def table(self, name: str | None, path: str | None = None) -> Table | None:
        """The table `name` (or ORM class) means in the schema of the module at `path` (every schema: None)."""
        if name is None:
            return None
        tables = self.schema(path) if path is not None else self.tables
        return tables.get(self.models.get(name, name).lower())

    def suffixes(self, tables: dict[str, Table]) -> dict[str, set[str]]:
        """The tables of one of this project's schemas by every `_`-suffix of their name (`account_user` under
        `user`), built once per schema."""
        if id(tables) not in self._suffixes:
            self._suffixes[id(tables)] = {}
            for name, table in tables.items():
                if table.columns:
                    for position, character in enumerate(name):
                        if character == "_":
                            self._suffixes[id(tables)].setdefault(name[position + 1:], set()).add(name)
        return self._suffixes[id(tables)]

    def table_name(self, name: str | None) -> str | None:
        return self.models.get(name, name) if name else None

    def resolve(self, name: str, module: ModuleFacts,
                receiver: str | None = None) -> tuple[Function, ModuleFacts] | None:
        """The project function `name` calls, or None. `receiver`: the class of the object a method is called
        on; a method it does not define is looked up in its bases (mixins), as Python would. Asked again and again
        (every unit follows the same helpers): each answer is remembered."""
        key = (name, id(module), receiver)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(name, module, receiver)
        return self._resolved[key]

    def _resolve(self, name: str, module: ModuleFacts, receiver: str | None) -> tuple[Function, ModuleFacts] | None:
        found = self._functions.get(name) or self._functions.get(f"{module.module}.{name}")
        if found:
            return found
        if "." in name:  # Class.method, of a class defined in another module
            by_qualname = self._by_qualname.get(name, [])
            if len(by_qualname) == 1:
                return by_qualname[0]
            owner, _, method = name.rpartition(".")
            inherited = self._inherited(receiver or owner.rpartition(".")[2], method, set())
            if inherited is not None:
                return inherited
        parts = name.split(".")
        for start in range(1, len(parts) - 1):
            # `services.messages.send` for a module the scan names `messages` (a folder without __init__.py)
            found = self._functions.get(".".join(parts[start:]))
            if found:
                return found
        candidates = self._by_name.get(name.rsplit(".", 1)[-1], [])
        return candidates[0] if len(candidates) == 1 else None

    def constructed(self, model: str, writes: dict[str, Taint]) -> dict[str, Taint]:
        """The columns an object built as `Tags(name)` writes: a positional argument ("0") is the parameter of that
        position of the class's `__init__` (`def __init__(self, tagname)`), dropped when no `__init__` names it."""
        if not any(key.isdigit() for key in writes):
            return writes
        defined = self._by_qualname.get(f"{model}.__init__", [])
        found = defined[0] if len(defined) == 1 else self._inherited(model, "__init__", set())
        params = found[0].params if found is not None else ()
        named = {key: value for key, value in writes.items() if not key.isdigit()}
        for key, value in writes.items():
            if key.isdigit() and int(key) < len(params) and params[int(key)] not in named:
                named[params[int(key)]] = value
        return named

    def module_at(self, path: str) -> ModuleFacts | None:
        """The module of the file at `path`."""
        if "modules_by_path" not in self.derived:
            self.derived["modules_by_path"] = {module.path: module for module in self.modules}
        return self.derived["modules_by_path"].get(path)

    def through_relationship(self, op: DataOp, path: str) -> DataOp:
        """A query of a loaded row's relationship (`user.tasks.select()`, table "User.tasks") as a query of the
        related table keyed by its foreign key to the owner's table (`task.user_id = user.id`); unchanged when the
        schema does not say which table and key (an association table, a column that is no relationship)."""
        if op.action == "insert" or COLLECTION_OWNER not in op.keys or not op.table or "." not in op.table:
            return op
        model, _, attribute = op.table.rpartition(".")
        owner = self.table(model, path)
        related = self.table(owner.relationships.get(attribute), path) if owner is not None else None
        if related is None:
            return op
        foreign = [name for name, column in related.columns.items()
                   if (column.references or "").partition(".")[0] == owner.name]
        if len(foreign) != 1:
            return op
        keys = {foreign[0] if column == COLLECTION_OWNER else column: value for column, value in op.keys.items()}
        return replace(op, table=related.name, keys=keys)

    def is_called(self, function: Function) -> bool:
        """Whether some call in the project resolves to `function` (or passes it as a callback)."""
        if self._called is None:
            self._called = set()
            for module in self.modules:
                for caller in module.functions:
                    for call in caller.calls:
                        for name in (call.name, *call.callables.values()):
                            found = self.resolve(name, module, call.receiver if name == call.name else None)
                            if found is not None:
                                self._called.add(id(found[0]))
        return id(function) in self._called

    def _inherited(self, cls: str, method: str, seen: set[str]) -> tuple[Function, ModuleFacts] | None:
        for base in self.bases.get(cls, ()):
            if base in seen:
                continue
            seen.add(base)
            defined = self._by_qualname.get(f"{base}.{method}", [])
            if len(defined) == 1:
                return defined[0]
            found = self._inherited(base, method, seen)
            if found is not None:
                return found
        return None

    def commits(self, function: Function, module: ModuleFacts, depth: int) -> bool:
        """Whether `function` commits, itself or in a project function it calls (as deep as calls are inlined)."""
        key = (id(function), depth)
        if key not in self._committing:
            self._committing[key] = False  # (a recursive call does not commit by itself)
            self._committing[key] = function.commits or depth < MAX_DEPTH and any(
                found is not None and found[0] is not function and self.commits(*found, depth + 1)
                for call in function.calls if call.txn_kind == "implicit"
                for found in (self.resolve(call.name, module, call.receiver),))
        return self._committing[key]

    def reaches_ops(self, function: Function, module: ModuleFacts, depth: int) -> bool:
        """Whether inlining `function` at `depth` can bring any data op: its own, or its callees' and callbacks'."""
        key = (id(function), depth)
        if key not in self._reaching:
            self._reaching[key] = bool(function.ops) or depth < MAX_DEPTH and any(
                found is not None and self.reaches_ops(*found, depth + 1)
                for call in function.calls
                for found in (self.resolve(name, module, call.receiver if name == call.name else None)
                              for name in (call.name, *call.callables.values())))
        return self._reaching[key]

    def may_hold_ops(self, function: Function, module: ModuleFacts) -> bool:
        """Whether the unit of `function` can hold any data op (most functions of a code base cannot: their unit is
        not worth building). A method of what a call returned is resolved only when inlining: it may."""
        return self.reaches_ops(function, module, 0) or any(call.receiver and call.receiver.startswith(RETURNED)
                                                             for call in function.calls)

    def statements(self) -> Iterator[DataOp]:
        """Every data op the application's code holds as written (its tests' are left out), a wrapper's statement of
        unknown text once for each text a caller passes it (`exec("INSERT ...", {...})` through
        `def exec(*args): db.session.execute(*args)`)."""
        for module in self.modules:
            if TEST_PATH.search(module.path):
                continue
            for function in module.functions:
                yield from (op for op in function.ops if op.text_param is None)
                for call in function.calls:
                    found = self.resolve(call.name, module, call.receiver) if call.texts else None
                    if found is None:
                        continue
                    callee = found[0]
                    passed = _passed(call, callee, lambda taint: taint, module.path)
                    for op in callee.ops:
                        kind, text, holes = passed.get(op.text_param, (None, "", ()))
                        for piece in split_statements(text) if kind == "text" else ():
                            yield _with_statement(op, {**passed, op.text_param: (kind, piece, holes)})

    def _knows_caller(self, function: Function) -> bool:
        return (self.authenticated(function) or function.identity_source
                or any(value.identity for op in function.ops for value in op.keys.values()))

    def authenticated(self, function: Function) -> bool:
        return function.authenticated or any(d.rsplit(".", 1)[-1] in self.auth_decorators for d in function.decorators)

    def functions(self) -> list[tuple[Function, ModuleFacts]]:
        """The functions checks look at; nested ones are analysed inside the function that defines them, unless a
        request reaches them directly (a route defined inside an app factory)."""
        return [(function, module) for module in self.modules for function in module.functions
                if "<locals>" not in function.qualname or function.entry_points]

    def unit(self, function: Function, module: ModuleFacts) -> Unit:
        environment = {}
        for entry in function.entry_points:
            label = "path parameter" if entry.kind == "http" else "argument"
            environment.update({p: Taint(client=frozenset({f"{label} {p}"})) for p in entry.inputs})
            environment.update({p: Taint(identity=True) for p in entry.identity})
        inliner = _Inliner(self, self._ids)
        ops = inliner.inline(function, module, environment, depth=0, context=None)
        tables = {op.id: op.table for op in ops if op.action == "read"}
        inliner.owner_checked |= {read for read, attribute in inliner.tested
                                  if read in tables and self.owner_property(tables[read], attribute)}
        return Unit(function, module, ops, inliner.paths, frozenset(inliner.owner_checked),
                    frozenset(inliner.checked), frozenset(op.id for op in function.ops), inliner.truncated,
                    inliner.tops, frozenset(inliner.vouched), inliner.open_after[0], frozenset(inliner.tested))


def _chosen(value: Taint) -> bool:
    """A key value the caller does not give by being the caller: client data, or a parameter that may hold it."""
    return not value.identity and bool(value.client or value.params)


def _keyed_by_caller(op: DataOp) -> bool:
    """A read of the caller's own row: its key or a person identifier equals the caller's identity."""
    return any(value.identity and (column in ("id", "pk", "uuid") or PERSON_IDENTIFIER.match(column))
               for column, value in op.keys.items())


def _dropped_by_migrations(modules: list[ModuleFacts]) -> set[str]:
    """The tables the project's migrations drop at least as often as they create them: gone once they have all
    run, whatever order their revisions take (a table is created before each time it is dropped)."""
    balance: dict[str, int] = {}
    for module in modules:
        for name, change in module.migrated.items():
            balance[name] = balance.get(name, 0) + change
    dropped = {name for module in modules for name, change in module.migrated.items() if change < 0}
    return {name for name in dropped if balance[name] <= 0}


def _live_tables(modules: list[ModuleFacts]) -> dict[str, list[Table]]:
    """Each module's tables, without what its migrations define of a table the migrations drop in the end (models
    and schema files still count: a model of a dropped table is the app's, broken or not)."""
    gone = _dropped_by_migrations(modules)
    if not gone:
        return {module.path: module.tables for module in modules}
    return {module.path: [t for t in module.tables if not (module.migrated and t.name.rsplit(".", 1)[-1] in gone)]
            for module in modules}


def _schemas(modules: list[ModuleFacts], tables: dict[str, list[Table]]) -> tuple[dict[str, dict[str, Table]],
                                                                                  dict[str, str]]:
    """The schemas of the apps in the tree, merged apart: a monorepo's samples, a lab's twins.

    An app is a chain of directories holding Python files (a package and its subpackages, up to where the
    chain breaks): `python/wallet` and `python/arcade` are two apps when `python/` holds none. A schema file
    belongs to the app at or above its directory (`db/schema.sql` beside `app.py`), or to none (a Java sample's
    `db.sql`: its own schema, checked alone). A schema file named like a module beside it (`vulnerable.sql` by
    `vulnerable.py`) belongs to that module alone."""
    python_dirs = {_directory(m.path) for m in modules if m.path.endswith(".py")}
    modules_by_path = {m.path for m in modules if m.path.endswith(".py")}

    def app_of(directory: str) -> str | None:
        while directory not in python_dirs:
            if not directory:
                return None
            directory = _directory(directory)
        while directory and _directory(directory) in python_dirs:
            directory = _directory(directory)
        return directory

    shared: dict[str, list[Table]] = {}
    private: dict[str, list[Table]] = {}  # module path -> tables of the schema file named like it
    for module in modules:
        if not tables[module.path]:
            continue
        twin = f"{module.path.rpartition('.')[0]}.py"
        if not module.path.endswith(".py") and twin in modules_by_path:
            private.setdefault(twin, []).extend(tables[module.path])
            continue
        app = app_of(_directory(module.path))
        shared.setdefault(app if app is not None else f"{module.path}:", []).extend(tables[module.path])
    schemas = {key: merge(tables) for key, tables in shared.items()}
    schema_of = {}
    for path in modules_by_path:
        app = app_of(_directory(path)) or ""
        schema_of[path] = app
        if path in private:
            schema_of[path] = f"{path}:own"
            schemas[schema_of[path]] = merge(shared.get(app, []) + private[path])
    schemas.setdefault("", {})
    return schemas, schema_of


def _directory(path: str) -> str:
    return path.rpartition("/")[0]


def _add_declared_entry_points(modules: list[ModuleFacts], documents: list[tuple[str, str]]) -> None:
    """Entry points declared away from the function join it: an OpenAPI document's operationIds, and views that
    one module registers (`bp.add_url_rule(..., view_func=views.edit)`) and another defines."""
    declared: dict[str, list[EntryPoint]] = {}
    for finder in models.PROJECT_ENTRY_POINTS:
        for name, entries in finder(documents, modules).items():
            declared.setdefault(name, []).extend(entries)
    views: dict[str, list[EntryPoint]] = {}
    for module in modules:
        for name, entries in module.foreign_views.items():
            views.setdefault(name, []).extend(entries)
    if not declared and not views:
        return
    for module in modules:
        for function in module.functions:
            entries = declared.get(f"{module.module}.{function.qualname}", []) + _view_entries(views, module, function)
            # (once: the facts of a module may be built into a project again in one process, `audit --scan`)
            entries = [entry for entry in entries if entry not in function.entry_points]
            if entries:
                function.entry_points = [*function.entry_points, *entries]
                function.authenticated = function.authenticated or any(entry.auth for entry in entries)
                function.privileged = function.privileged or any(entry.privileged for entry in entries)


def _view_entries(views: dict[str, list[EntryPoint]], module: ModuleFacts, function: Function) -> list[EntryPoint]:
    """A view function's entries, or a view class's for its HTTP-method functions (each with its one method)."""
    if not views:
        return []
    found = views.get(f"{module.module}.{function.qualname}", [])
    if not found and "." not in function.qualname:  # a view imported by its package: `from .views import edit`
        found = views.get(f"{module.module.rpartition('.')[0]}.{function.qualname}", [])
    owner, _, method = function.qualname.rpartition(".")
    if owner and "." not in owner and method in models.VIEW_METHODS:
        for entry in views.get(f"{module.module}.{owner}", []):
            if method.upper() in entry.methods or entry.methods == ("GET",):
                found = [*found, replace(entry, methods=(method.upper(),))]
    return found


def _passed(call: Call, callee: Function, resolve, path: str) -> dict[str, tuple]:
    """The SQL texts, literal containers and built objects `call` passes, by the callee's parameter names, resolved
    where the call is: ("text", text, holes) or ("container", items, fields); "<passed>" and the parameter: the
    objects built for it, ((class, fields), ...); "<call>": where the call is."""
    if not call.texts and not call.objects:
        return {}
    names = {str(index): param for index, param in enumerate(callee.params)}
    passed: dict[str, tuple] = {"<call>": (path, call.span)}
    for key, built in call.objects.items():
        passed[PASSED_OBJECT + names.get(key, key)] = tuple((model, {k: resolve(t) for k, t in fields.items()})
                                                            for model, fields in built)
    for key, (text, holes) in call.texts.items():
        passed[names.get(key, key)] = ("text", text, tuple(resolve(hole) for hole in holes))
    for key, (items, fields) in call.containers.items():
        passed[names.get(key, key)] = ("container",
                                      tuple(resolve(t) for t in items) if items is not None else None,
                                      {k: resolve(t) for k, t in fields.items()} if fields is not None else None)
    return passed


def _bind_passed(op: DataOp | None, passed: dict[str, tuple] | None) -> list[DataOp]:
    """A helper's `session.add(obj)` of its parameter: an INSERT of each object the caller built and passed there
    (none for a loaded object); any other op as it is."""
    if op is None:
        return []
    if not (op.table and op.table.startswith(PASSED_OBJECT)):
        return [op]
    return [replace(op, table=model, writes=fields) for model, fields in (passed or {}).get(op.table, ())]


def _with_statement(op: DataOp, passed: dict[str, tuple]) -> DataOp:
    """A wrapper's statement of unknown text, given the text and parameters its caller passed."""
    kind, text, holes = passed[op.text_param]
    if kind != "text":
        return op
    bound = passed.get(op.params_param) if op.params_param else None
    items, fields = (bound[1], bound[2]) if bound is not None and bound[0] == "container" else (None, None)
    whole = NO_TAINT.union(*(items or ()), *(fields or {}).values())
    parsed, statement_fields = bound_statement(text, holes, list(items or ()), dict(fields or {}), whole)
    if parsed.action in ("begin", "commit", "rollback", "savepoint", "set"):
        return op
    interpolated = NO_TAINT.union(*holes)
    return replace(op, dynamic_sql=False, statement=display(text), text_param=None, params_param=None,
                   interpolated=interpolated if interpolated else None, **statement_fields)


def _commit_declined(callee: Function, falsy_arguments: frozenset[str]) -> bool:
    """`save(commit=False)`: every commit of the callee is under `if commit:`, and the call passes it falsy."""
    if not callee.commit_params or not falsy_arguments:
        return False
    positions = {param: str(index) for index, param in enumerate(callee.params)}
    return all(param in falsy_arguments or positions.get(param) in falsy_arguments for param in callee.commit_params)


def _spread(writes: dict[str, Taint], keywords: dict[str, Taint]) -> dict[str, Taint]:
    """`Model(**fields)` in a helper writes the keyword arguments its caller passed in `fields`."""
    if "**" not in writes:
        return writes
    expanded = {column: value for column, value in writes.items() if column != "**"}
    expanded.update(keywords)
    return expanded


@dataclass
class _Context:
    """Where a callee runs: inside the caller's transaction, or a runner's."""

    txn: int
    txn_kind: str
    retried: bool
    force: bool = False  # a runner's transaction: every op of the callee runs in it


class _Inliner:
    def __init__(self, project: Project, ids) -> None:
        self.project = project
        self.ids = ids
        self.paths: dict[int, str] = {}
        self.owner_checked: set[int] = set()
        self.checked: set[int] = set()
        self.vouched: set[str] = set()  # client origins compared with the caller's identity somewhere in the unit
        self.tested: set[tuple[int, str]] = set()  # (read op id, attribute) tested in a condition
        self.tops: dict[int, Span] = {}
        self.open_after: tuple[int, str] = (0, "implicit")  # the transaction the last inlined function left open  # inlined op id -> the call in the unit's function that led to it
        self.taken = 0  # ops and calls taken from callees
        self.truncated = False

    def admit(self, callee: Function) -> bool:
        """Whether the ops and calls of `callee` fit in what this unit, and the whole scan, may still take."""
        size = 1 + len(callee.ops) + len(callee.calls)
        if self.taken + size > MAX_UNIT_INLINED:
            self.truncated = True
            return False
        if size > self.project.inlining_left:
            self.project.inlining_left = 0
            return False
        self.taken += size
        self.project.inlining_left -= size
        return True

    def inline(self, function: Function, module: ModuleFacts, environment: dict[str, Taint], depth: int,
               context: _Context | None, stack: tuple[str, ...] = (), created: dict[str, Taint] | None = None,
               classes: dict[str, str] | None = None, site: tuple[str, Span] | None = None,
               spread: dict[str, Taint] | None = None, branch: tuple = (), top: Span | None = None,
               falsy: frozenset[str] = frozenset(), passed: dict[str, tuple] | None = None) -> list[DataOp]:
        """The ops of `function` as its caller sees them.

        `created`: the values a method's object was built with, when its caller created it (None: loaded);
        `spread`: the keyword arguments its `**kwargs` received; `branch`: the if/else arms of the calls that
        led here (a helper called in one arm runs only there); `falsy`: its parameters the caller passed as
        False/None/0 (`save(commit=False)` does not commit); `top`: the call in the unit's own function that
        led here; `passed`: SQL texts and literal containers its caller passed, by parameter (a wrapper that
        executes its argument runs the caller's statement); `classes` maps the class a method is
        defined in (a mixin) to the class of the object it runs on. Its implicit transaction is the caller's
        until it commits; what it does after a commit runs in a transaction of its own. `site`: where ops of code
        shared by every model (a mixin's `save()`) are reported — the line of the handler that led there."""
        renumber: dict[int, frozenset[int]] = {}
        results: dict[int, Taint] = {}
        ops: list[DataOp] = []
        classes = classes or {}
        own = {op.id: op for op in function.ops}
        for op in function.ops:
            renumber[op.id] = frozenset({next(self.ids)}) if depth else frozenset({op.id})
        segments: dict[int, tuple[int, str]] = {}
        declined = bool(function.commit_params) and set(function.commit_params) <= falsy  # its commits are skipped
        returned: dict[str, str] = {}  # "<returned>N" -> the class of what call N returned

        def segment(txn: int) -> tuple[int, str]:
            """Where a statement of this function's implicit transaction `txn` runs, once inlined."""
            if txn not in segments:
                if context is None:
                    segments[txn] = (txn, "implicit")
                elif txn == function.first_txn or declined:
                    segments[txn] = (context.txn, context.txn_kind)
                else:
                    segments[txn] = (next(self.ids), "implicit")
            return segments[txn]

        def resolve(taint: Taint) -> Taint:
            result = Taint(client=taint.client, cast=taint.cast, identity=taint.identity)
            if depth == 0 and taint.params:  # the unit's own parameters that no entry point fills stay unknown
                unknown = taint.params - environment.keys()
                result = result | Taint(params=unknown, raw_params=taint.raw_params & unknown)
            for read in taint.reads:
                if read in results:
                    result = result | results[read]
                else:
                    result = result | Taint(reads=renumber.get(read, frozenset({read})))
            for name in taint.params & environment.keys():  # (an intersection: taints can name thousands)
                passed = environment[name]
                # int(limit) of a parameter: whatever the caller passes in `limit` went through the cast.
                result = result | (passed if name in taint.raw_params or not passed.client else passed.casted())
            return result

        pending = sorted([("op", op.span.line, op.id) for op in function.ops] +
                         [("call", call.span.line, call.result_id) for call in function.calls],
                         key=lambda item: item[1:])  # (on one line, in the order they run: ids are given so)
        calls = {call.result_id: call for call in function.calls}
        for kind, _, key in pending:
            if kind == "op":
                original = own[key]
                # Objects the caller built (`session.add(self)` of a created object, a helper adding what it was
                # passed): their writes were resolved where they were built.
                bound = "<self>" in original.keys or bool(original.table and original.table.startswith(PASSED_OBJECT))
                for index, op in enumerate(_bind_passed(self._bind_self(original, created), passed)):
                    if op.table and op.table.startswith(RETURNED):
                        # A write to what a call returned (or to a collection of it, "<returned>N.tags"): a row of
                        # the class the callee returns, else not a row.
                        returned_object, dot, collection = op.table.partition(".")
                        if returned_object not in returned:
                            continue
                        op = replace(op, table=returned[returned_object] + dot + collection)
                    ids = renumber[key] if index == 0 else frozenset({next(self.ids)})
                    adapted = self._adapt(op, ids, resolve, context, segment, module, classes, site,
                                          spread or {}, branch, bound=bound)
                    if adapted.dynamic_sql and passed and adapted.text_param in passed:
                        # The statement is the caller's: reported where the caller wrote it.
                        where_path, where = passed["<call>"]
                        adapted = replace(_with_statement(adapted, passed), span=where)
                        self.paths[adapted.id] = where_path
                    if top is not None:
                        self.tops[adapted.id] = top
                    ops.append(adapted)
                continue
            call = calls[key]
            inlined, result, committed, result_class = self._call(
                call, module, resolve, environment, depth, context, segment, stack, classes, site, spread or {},
                branch, top if top is not None else call.span, returned,
                frozenset(call.falsy) | {key for key, name in call.callables.items() if name in falsy})
            ops.extend(inlined)
            results[call.result_id] = result
            if result_class:
                returned[f"{RETURNED}{call.result_id}"] = result_class
            if committed and call.txn_kind == "implicit":
                # The callee committed: what follows runs in the transaction the callee left open.
                segments[call.txn] = committed if isinstance(committed, tuple) else (next(self.ids), "implicit")
        self.vouched |= resolve(function.vouched).client
        self.tested.update((read, attribute) for attribute, taint in function.tested for read in resolve(taint).reads)
        self.open_after = segment(function.open_txn)
        for read in function.owner_checked_reads:
            self.owner_checked |= renumber.get(read, frozenset())
            if read in results:
                self.owner_checked |= results[read].reads
        for read in function.checked_reads:
            self.checked |= renumber.get(read, frozenset())
            if read in results:
                self.checked |= results[read].reads
                if read in calls:  # `if is_expired(host):` a helper that tests what it is handed
                    self.checked |= frozenset().union(*(resolve(value).reads for key, value in
                                                        calls[read].arguments.items() if key != "self"))
                if results[read].identity:
                    # `if not owns(me, event_id): abort()`, the helper comparing the row with the caller
                    self.owner_checked |= results[read].reads
        return ops

    @staticmethod
    def _bind_self(op: DataOp, created: dict[str, Taint] | None) -> DataOp | None:
        """`session.add(self)` in a method: an INSERT of the object the caller created, nothing for a loaded one."""
        if "<self>" not in op.keys:
            return op
        if created is None:
            return None
        return replace(op, keys={}, writes=dict(created), id=op.id)

    def _adapt(self, op: DataOp, new_ids: frozenset[int], resolve, context: _Context | None, segment,
               module: ModuleFacts, classes: dict[str, str], site: tuple[str, Span] | None,
               spread: dict[str, Taint], branch: tuple, bound: bool = False) -> DataOp:
        """The op as it runs in the unit. `bound`: its writes are the caller's object, already resolved there."""
        new_id = next(iter(new_ids))
        self.paths[new_id] = module.path
        span = op.span
        if classes and site is not None:
            self.paths[new_id], span = site
        txn, kind, retried = op.txn, op.txn_kind, op.retried
        if context is not None:
            retried = retried or context.retried
        if context is not None and context.force:
            txn, kind = context.txn, context.txn_kind
        elif kind == "implicit" and not op.own_connection:
            # A helper that opens its own connection runs its own transaction, not its caller's.
            txn, kind = segment(op.txn)
        if kind == "implicit" and op.api == "sql" and self.project.autocommit:
            txn, kind = next(self.ids), "autocommit"
        written = self.project.constructed(classes.get(op.table, op.table), op.writes) if op.table else op.writes
        adapted = replace(
            op, id=new_id, txn=txn, txn_kind=kind, retried=retried, span=span, branch=branch + op.branch,
            table=self.project.table_name(classes.get(op.table, op.table) if op.table else None),
            keys={column: resolve(value) for column, value in op.keys.items()},
            writes=_spread(written if bound else {column: resolve(value) for column, value in written.items()},
                           spread),
            interpolated=resolve(op.interpolated) if op.interpolated is not None else None,
            item=resolve(op.item) if op.item is not None else None,
            condition_values={name: resolve(value) for name, value in op.condition_values.items()},
        )
        return self.project.through_relationship(adapted, module.path)

    def _call(self, call: Call, module: ModuleFacts, resolve, environment: dict[str, Taint], depth: int,
              context: _Context | None, segment, stack: tuple[str, ...], classes: dict[str, str],
              site: tuple[str, Span] | None, spread: dict[str, Taint], branch: tuple, top: Span,
              returned_classes: dict[str, str], falsy_arguments: frozenset[str]):
        """Ops of a called project function (and of callbacks it runs), the taint of its result, and whether
        it commits (the caller's implicit transaction ends there)."""
        arguments = {key: resolve(value) for key, value in call.arguments.items()}
        returned = NO_TAINT
        for value in arguments.values():
            returned = returned | Taint(client=value.client, cast=value.cast, identity=value.identity,
                                        reads=value.reads)
        if depth >= MAX_DEPTH:
            return [], returned, False, None
        receiver, name = call.receiver, call.name
        if receiver and receiver.startswith(RETURNED):  # a method of what an earlier call returned
            receiver = returned_classes.get(receiver)
            name = f"{receiver or '?'}.{name.rpartition('.')[2]}"
        receiver = classes.get(receiver, receiver) if receiver else None
        found = self.project.resolve(name, module, receiver)
        if call.attribute and found is not None and not any(d.rpartition(".")[2].endswith("property")
                                                            for d in found[0].decorators):
            found = None  # `order.lines` names a column or a relationship, not this function
        if context is not None and context.force:
            here = replace(context, retried=context.retried or call.retried)
        elif call.txn_kind == "implicit":
            txn, kind = segment(call.txn)
            here = _Context(txn, kind, call.retried or (context.retried if context is not None else False))
        else:
            here = _Context(call.txn, call.txn_kind, call.retried or (context.retried if context else False))
        ops: list[DataOp] = []
        runner_params: dict[str, bool] = {}
        committed = False
        result_class = None
        if found is not None:
            callee, callee_module = found
            runner_params = callee.transaction_runner
            key = f"{callee_module.module}.{callee.qualname}"
            if key not in stack:
                callee_env = dict(environment)
                for index, param in enumerate(callee.params):
                    if str(index) in arguments:
                        callee_env[param] = arguments[str(index)]
                    if param in arguments:
                        callee_env[param] = arguments[param]
                if "self" in arguments:
                    callee_env["self"] = arguments["self"]
                named = set(callee.params)
                callee_spread = {k: v for k, v in arguments.items() if not k.isdigit() and k not in named and k != "self"}
                if callee.keywords_param:  # def update(**fields): `fields` holds every keyword no parameter took
                    callee_env[callee.keywords_param] = NO_TAINT.union(*callee_spread.values())
                created = _spread({k: resolve(v) for k, v in call.receiver_fields.items()}, spread) \
                    if call.receiver_created else None
                defined_in = callee.qualname.rpartition(".")[0]
                callee_classes = {defined_in: receiver} if receiver and defined_in and defined_in != receiver else {}
                callee_classes = {**classes, **callee_classes} if classes else callee_classes
                callee_classes.update(self._passed_models(call, callee))
                inlined = self.project.reaches_ops(callee, callee_module, depth + 1) and self.admit(callee)
                if inlined:
                    # Ops of code shared by every model (a mixin's save) are reported where specific code called it.
                    entering = site if classes else (module.path, call.span)
                    falsy = frozenset(param for index, param in enumerate(callee.params)
                                      if str(index) in falsy_arguments or param in falsy_arguments)
                    ops = self.inline(callee, callee_module, callee_env, depth + 1, here, stack + (key,),
                                      created=created, classes=callee_classes, site=entering, spread=callee_spread,
                                      branch=branch + call.branch, top=top, falsy=falsy,
                                      passed=_passed(call, callee, resolve, module.path))
                    # Whether it committed, as its statements ran: the transaction it left open is not the one it
                    # started in (set by its inline above).
                    committed = self.open_after if self.open_after != (here.txn, here.txn_kind) else False
                else:
                    committed = self.project.commits(callee, callee_module, depth + 1) and \
                        not _commit_declined(callee, falsy_arguments)
                result_class = callee_classes.get(callee.returns_class, callee.returns_class)
                returned = Taint(client=callee.returns.client, cast=callee.returns.cast,
                                 identity=callee.returns.identity or callee.identity_source)
                for param in callee.returns.params:
                    returned = returned | callee_env.get(param, NO_TAINT)
                returned = returned | Taint(reads=frozenset(op.id for op in ops if op.action == "read"))
        elif call.attribute and receiver:
            related = self._relationship_rows(call, receiver, module, arguments, here)
            if related is not None:
                result_class, read = related
                ops.append(read)
                returned = returned | Taint(reads=frozenset({read.id}))
        elif is_transaction_runner(call.name):
            runner_params = {"__library__": True}
        for position, target in call.callables.items():
            retries = self._runner_retries(runner_params, found, position)
            if retries is None:
                continue
            callback = self.project.resolve(target, module)
            if callback is None:
                continue
            function, callback_module = callback
            if not (self.project.reaches_ops(function, callback_module, depth + 1) and self.admit(function)):
                continue
            runner = _Context(next(self.ids), "explicit", retries or here.retried, force=True)
            ops.extend(self.inline(function, callback_module, environment, depth + 1, runner, stack,
                                   branch=branch + call.branch, top=top))
        return ops, returned, committed, result_class

    def _relationship_rows(self, call: Call, owner_class: str, module: ModuleFacts, arguments: dict[str, Taint],
                           here: _Context) -> tuple[str, DataOp] | None:
        """`user.portfolio` of a relationship: the class of its rows and the SELECT that loading it runs (keyed by
        the owner, as a collection's ops are); None when the attribute is no relationship of the owner's model."""
        table = self.project.table(owner_class, module.path)
        target = table.relationships.get(call.name.rpartition(".")[2]) if table is not None else None
        if target is None or self.project.table(target, module.path) is None:
            return None
        op = DataOp(id=next(self.ids), span=call.span, api="orm", action="read", table=self.project.table_name(target),
                    keys={COLLECTION_OWNER: arguments.get("self", NO_TAINT)}, txn=here.txn,
                    txn_kind=here.txn_kind, retried=here.retried, branch=call.branch)
        self.paths[op.id] = module.path
        return target, op

    def _passed_models(self, call: Call, callee: Function) -> dict[str, str]:
        """Parameters of a helper shared by every model that receive a model class (`get_by_uuid(Ballot, uuid)`
        for `def get_by_uuid(cls, uuid): ... select(cls)`): the helper's queries and results are of that model."""
        found = {}
        for index, param in enumerate(callee.params):
            passed = call.callables.get(str(index)) or call.callables.get(param)
            model = passed.rpartition(".")[2] if passed else None
            if model and model != param and model in self.project.models:
                found[param] = model
        return found

    @staticmethod
    def _runner_retries(runner_params: dict[str, bool], found, position: str) -> bool | None:
        """Whether the callable at `position` runs in a retried transaction; None when it is not run as one."""
        if "__library__" in runner_params:
            return True
        if found is None:
            return None
        callee, _ = found
        params = callee.params
        name = params[int(position)] if position.isdigit() and int(position) < len(params) else position
        return runner_params.get(name)
