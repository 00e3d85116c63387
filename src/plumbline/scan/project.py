"""Facts of all modules together: the merged schema, the backend, and each function's effective data ops.

A handler's effective ops are its own plus those of the project functions it calls (three levels
deep), with the callee's parameters replaced by what the caller passed. A callback handed to a
transaction runner (`run_transaction(pool, work)`, or a project function that calls its callable
argument inside a transaction or a retry loop) runs as one explicit transaction, retried when the
runner retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import count

from plumbline.scan import models
from plumbline.scan.facts import NO_TAINT, DataOp, EntryPoint, Function, ModuleFacts, Table, Taint
from plumbline.scan.models import is_transaction_runner
from plumbline.scan.schema import merge

MAX_DEPTH = 3
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
        project.tables = merge([table for module in modules for table in module.tables])
        project.models = {t.model: name for name, t in project.tables.items() if t.model}
        project.autocommit = any(m.autocommit for m in modules)
        for module in modules:
            project.auth_decorators |= module.auth_decorators
        _add_declared_entry_points(modules, list(documents))
        for module in modules:
            for function in module.functions:
                project.has_callers = project.has_callers or project._knows_caller(function)
                project._functions[f"{module.module}.{function.qualname}"] = (function, module)
                project._by_name.setdefault(function.name, []).append((function, module))
                project._by_qualname.setdefault(function.qualname, []).append((function, module))
        return project

    def table(self, name: str | None) -> Table | None:
        if name is None:
            return None
        return self.tables.get(self.models.get(name, name).lower())

    def table_name(self, name: str | None) -> str | None:
        return self.models.get(name, name) if name else None

    def resolve(self, name: str, module: ModuleFacts) -> tuple[Function, ModuleFacts] | None:
        found = self._functions.get(name) or self._functions.get(f"{module.module}.{name}")
        if found:
            return found
        if "." in name:  # Class.method, of a class defined in another module
            by_qualname = self._by_qualname.get(name, [])
            if len(by_qualname) == 1:
                return by_qualname[0]
        candidates = self._by_name.get(name.rsplit(".", 1)[-1], [])
        return candidates[0] if len(candidates) == 1 else None

    def reaches_ops(self, function: Function, module: ModuleFacts, depth: int) -> bool:
        """Whether inlining `function` at `depth` can bring any data op: its own, or its callees' and callbacks'."""
        key = (id(function), depth)
        if key not in self._reaching:
            self._reaching[key] = bool(function.ops) or depth < MAX_DEPTH and any(
                found is not None and self.reaches_ops(*found, depth + 1)
                for call in function.calls
                for found in (self.resolve(name, module) for name in (call.name, *call.callables.values())))
        return self._reaching[key]

    def _knows_caller(self, function: Function) -> bool:
        return (self.authenticated(function) or function.identity_source
                or any(value.identity for op in function.ops for value in op.keys.values()))

    def authenticated(self, function: Function) -> bool:
        return function.authenticated or any(d.rsplit(".", 1)[-1] in self.auth_decorators for d in function.decorators)

    def functions(self) -> list[tuple[Function, ModuleFacts]]:
        """The functions checks look at; nested ones are analysed inside the function that defines them."""
        return [(function, module) for module in self.modules for function in module.functions
                if "<locals>" not in function.qualname]

    def unit(self, function: Function, module: ModuleFacts) -> Unit:
        environment = {}
        for entry in function.entry_points:
            label = "path parameter" if entry.kind == "http" else "argument"
            environment.update({p: Taint(client=frozenset({f"{label} {p}"})) for p in entry.inputs})
            environment.update({p: Taint(identity=True) for p in entry.identity})
        inliner = _Inliner(self, self._ids)
        ops = inliner.inline(function, module, environment, depth=0, context=None)
        return Unit(function, module, ops, inliner.paths, frozenset(inliner.owner_checked),
                    frozenset(inliner.checked), frozenset(op.id for op in function.ops), inliner.truncated)


def _add_declared_entry_points(modules: list[ModuleFacts], documents: list[tuple[str, str]]) -> None:
    """Entry points declared outside Python (an OpenAPI document's operationIds) join the functions they name."""
    declared: dict[str, list[EntryPoint]] = {}
    for finder in models.PROJECT_ENTRY_POINTS:
        for name, entries in finder(documents, modules).items():
            declared.setdefault(name, []).extend(entries)
    if not declared:
        return
    for module in modules:
        for function in module.functions:
            entries = declared.get(f"{module.module}.{function.qualname}")
            if entries:
                function.entry_points = [*function.entry_points, *entries]
                function.authenticated = function.authenticated or any(entry.auth for entry in entries)


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
               context: _Context | None, stack: tuple[str, ...] = ()) -> list[DataOp]:
        renumber: dict[int, frozenset[int]] = {}
        results: dict[int, Taint] = {}
        ops: list[DataOp] = []
        own = {op.id: op for op in function.ops}
        for op in function.ops:
            renumber[op.id] = frozenset({next(self.ids)}) if depth else frozenset({op.id})

        def resolve(taint: Taint) -> Taint:
            result = Taint(client=taint.client, cast=taint.cast, identity=taint.identity)
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
                         key=lambda item: item[1])
        calls = {call.result_id: call for call in function.calls}
        for kind, _, key in pending:
            if kind == "op":
                ops.append(self._adapt(own[key], renumber[key], resolve, context, module))
                continue
            call = calls[key]
            inlined, returned = self._call(call, module, resolve, environment, depth, context, stack)
            ops.extend(inlined)
            results[call.result_id] = returned
        for read in function.owner_checked_reads:
            self.owner_checked |= renumber.get(read, frozenset())
            if read in results:
                self.owner_checked |= results[read].reads
        for read in function.checked_reads:
            self.checked |= renumber.get(read, frozenset())
            if read in results:
                self.checked |= results[read].reads
        return ops

    def _adapt(self, op: DataOp, new_ids: frozenset[int], resolve, context: _Context | None,
               module: ModuleFacts) -> DataOp:
        new_id = next(iter(new_ids))
        self.paths[new_id] = module.path
        txn, kind, retried = op.txn, op.txn_kind, op.retried
        if context is not None:
            retried = retried or context.retried
            # A helper that opens its own connection runs its own transaction, not its caller's.
            if context.force or kind == "implicit" and not op.own_connection:
                txn, kind = context.txn, context.txn_kind
        if kind == "implicit" and op.api == "sql" and self.project.autocommit:
            txn, kind = next(self.ids), "autocommit"
        return replace(
            op, id=new_id, txn=txn, txn_kind=kind, retried=retried,
            table=self.project.table_name(op.table),
            keys={column: resolve(value) for column, value in op.keys.items()},
            writes={column: resolve(value) for column, value in op.writes.items()},
            interpolated=resolve(op.interpolated) if op.interpolated is not None else None,
        )

    def _call(self, call, module: ModuleFacts, resolve, environment: dict[str, Taint],
              depth: int, context: _Context | None, stack: tuple[str, ...]):
        """Ops of a called project function (and of callbacks it runs), and the taint of its result."""
        arguments = {key: resolve(value) for key, value in call.arguments.items()}
        returned = NO_TAINT
        for value in arguments.values():
            returned = returned | Taint(client=value.client, cast=value.cast, identity=value.identity,
                                        reads=value.reads)
        if depth >= MAX_DEPTH:
            return [], returned
        found = self.project.resolve(call.name, module)
        here = context if context is not None and call.txn_kind == "implicit" else _Context(
            call.txn, call.txn_kind, call.retried)
        here = replace(here, retried=here.retried or call.retried)
        ops: list[DataOp] = []
        runner_params: dict[str, bool] = {}
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
                if self.project.reaches_ops(callee, callee_module, depth + 1) and self.admit(callee):
                    ops = self.inline(callee, callee_module, callee_env, depth + 1, here, stack + (key,))
                returned = Taint(client=callee.returns.client, cast=callee.returns.cast,
                                 identity=callee.returns.identity or callee.identity_source)
                for param in callee.returns.params:
                    returned = returned | callee_env.get(param, NO_TAINT)
                returned = returned | Taint(reads=frozenset(op.id for op in ops if op.action == "read"))
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
            ops.extend(self.inline(function, callback_module, environment, depth + 1, runner, stack))
        return ops, returned

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
