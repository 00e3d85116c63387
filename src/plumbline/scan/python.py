"""Python source -> `ModuleFacts`: one pass over the module, one visitor per function.

The function visitor walks statements in order and keeps, for every local name, a `Value`: where
its data comes from (client, identity, earlier reads), the SQL text it spells, the ORM object or
query it stands for. Every data access becomes a `DataOp` stamped with the transaction it runs in,
whether a retry of serialization failures surrounds it and which exceptions are handled around it.

This is the framework-free core: Python semantics, scopes, branches, transactions. What a library's calls,
attributes and registrations mean comes from the model modules in `scan/models/` (see their registries).
"""

from __future__ import annotations

import ast
import bisect
import builtins
import copy
import re
import zlib
from dataclasses import replace
from itertools import count

from plumbline.scan import models
from plumbline.scan.facts import (
    NO_TAINT,
    RETURNED,
    Call,
    DataOp,
    EntryPoint,
    Function,
    ModuleFacts,
    Taint,
    TxnKind,
    just,
)
from plumbline.scan.models import CallSite, Registrations, first_answer
from plumbline.scan.pyast import (
    dotted,
    exits,
    flag_waived_rows,
    is_true,
    last_name,
    module_nodes_of,
    parameters,
    source,
    span,
    string,
    walk,
)
from plumbline.scan.sql import bound_statement, display
from plumbline.scan.values import (
    UNKNOWN,
    Query,
    Scope,
    Value,
    brace_format,
    concat,
    defused,
    hole,
    percent_format,
    text_of,
    union,
)
from plumbline.vocabulary import AUTH_DECORATOR, LOOKUP_METHOD, PRIVILEGE, RETRY_DECORATOR, RETRYABLE_ERROR

models.load()

BUILTIN_NAMES = frozenset(dir(builtins))
SANITIZERS = {"int", "float", "bool", "abs", "len", "round", "Decimal", "UUID", "Identifier", "Literal",
              "quote_ident", "fromisoformat", "strptime", "date", "datetime", "hash", "ord"}
STRING_METHODS = ("get", "copy", "items", "values", "keys", "strip", "lower", "upper", "split", "encode", "decode",
                  "replace", "title", "lstrip", "rstrip")
SUPPRESSION = re.compile(r"#\s*plumbline:\s*ignore(?:\[([A-Za-z0-9_, -]+)\])?")
TYPING_NAMES = frozenset({"Any", "Optional", "Union", "List", "Dict", "Set", "Tuple", "Callable", "Iterable",
                          "Sequence", "Mapping", "Decimal", "UUID", "Request", "Response", "Path", "Session",
                          "Connection", "Cursor", "Engine", "Info", "Enum"})
ROW_BASE = re.compile(r"(^|\.)(Model|Base|DeclarativeBase|AbstractConcreteBase)$|Model$|Mixin$|Record$|Entity$")
SQL_START = re.compile(r"\s*(select|insert|update|delete|upsert|with|merge)\b", re.I)
MAX_KEPT_TEXT = 20_000  # longer texts passed to a function are not kept for the project stage
# Keys a dict, or columns an object built here, gains one statement at a time are followed up to this many (a row has
# far fewer columns); past it they are unknown: each one would copy all the others (quadratic in generated code).
MAX_ADDED_FIELDS = 1_000
NOTHING: frozenset = frozenset()  # one empty set for the many functions that test no read
MAX_LAMBDA_NESTING = 8  # deeper lambdas are read as expressions, not as functions of their own
SHALLOW_DEPTH = 50  # expressions nested deeper than this are evaluated bottom-up (see FunctionVisitor.value)
# The innermost arms an op remembers: enough for real code, and no quadratic memory for thousands of
# `if ...: return` before thousands of ops. A forgotten arm only makes two ops look as if they can run together.
MAX_BRANCH = 64


class ModuleContext:
    """What the function visitors share: imports, module-level constants, the module's facts."""

    def __init__(self, facts: ModuleFacts, tree: ast.Module) -> None:
        self.facts = facts
        self.imports: dict[str, str] = {}
        self.globals = Scope()
        self.ids = count(1)
        self.txn_ids = count(1)
        self.function_names: set[str] = set()
        self.flags: set[str] = set()  # what model modules noted about the module ("flask.session": imported)
        self.lambda_depth = 0  # lambdas being visited inside one another
        self.registrations = Registrations()  # how requests reach this module's functions (set before visiting)
        self.branch_salt = zlib.crc32(facts.path.encode("utf-8", "surrogateescape")) << 40
        self.exception_aliases: dict[str, tuple[str, ...]] = {}
        self.class_names: dict[str, ast.ClassDef] = {}
        self._rows: dict[str, bool] = {}  # class -> whether its objects may be rows (see is_row_class)
        self._handing_self: list[int] | None = None  # lines of `session.add(self)`-like calls, when first needed
        self.tree = tree
        for node in module_nodes_of(tree, ast.FunctionDef, ast.AsyncFunctionDef):
            self.function_names.add(node.name)
        for node in module_nodes_of(tree, ast.ClassDef):
            self.class_names.setdefault(node.name, node)

    def is_row_class(self, name: str) -> bool:
        """Whether objects of the class `name` defined here may be rows (decided once, when first asked)."""
        if name not in self._rows:
            if self._handing_self is None:
                self._handing_self = sorted(call.lineno for call in module_nodes_of(self.tree, ast.Call)
                                            if _hands_self(call))
            self._rows[name] = _may_be_row(self.class_names[name], self._handing_self)
        return self._rows[name]

    def resolve(self, name: str) -> str:
        head, _, rest = name.partition(".")
        qualified = self.imports.get(head)
        if qualified is None:
            return name
        return f"{qualified}.{rest}" if rest else qualified

    def unaliased(self, model: str) -> str:
        """A model under the name it is defined with: `from models import Role as RoleModel` makes `RoleModel`
        `Role` (the schema knows the class by its own name)."""
        head, dot, rest = model.partition(".")
        imported = self.imports.get(head, "").rpartition(".")[2]
        return f"{imported}{dot}{rest}" if imported and imported != head and imported[:1].isupper() else model


class FunctionVisitor:
    """Walks one function body in order, producing its `Function` facts."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: ModuleContext, qualname: str,
                 parent: Scope | None, owner: str | None = None) -> None:
        """`owner`: the class a method is defined in; its `self` is an object of that class."""
        self.node = node
        self.ctx = ctx
        params = parameters(node, method=owner is not None)
        self.function = Function(
            name=node.name, qualname=qualname, span=span(node), params=tuple(params),
            decorators=tuple(dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list),
        )
        self.function.keywords_param = node.args.kwarg.arg if node.args.kwarg else None
        self.scope = Scope(parent=parent or ctx.globals)
        annotated = _annotated_classes(node)
        for param in params:
            self.scope.names[param] = Value(taint=Taint(params=just(param), raw_params=just(param)),
                                            instance_of=annotated.get(param))
        if owner is not None and parameters(node)[:1] == ["self"]:
            # The object the method is called on: the project stage binds it to the caller's object (argument
            # "self"), and a mixin's class to the caller's class.
            itself = just("self")
            self.scope.names["self"] = Value(instance_of=owner, taint=Taint(params=itself, raw_params=itself))
        self.explicit: list[int] = []
        self.segment = next(ctx.txn_ids)
        self.function.first_txn = self.segment
        self.begun = False
        self.retry_depth = 0
        self.handled: tuple[str, ...] = ()  # exceptions caught around the statement being walked
        self.checked: set[int] = set()
        self.owner_checked: set[int] = set()
        self.flag_checked: set[int] = set()  # ... only when a flag of the row is not set (see flag_waived)
        self.returns = NO_TAINT
        self.nested: list[Function] = []
        self.nested_qualnames: dict[str, str] = {}  # name -> qualname of the first nested function so named
        self.lambdas: dict[ast.Lambda, str] = {}  # lambdas written here -> the qualname of their nested function
        self.conn_names: set[str] = set()
        self.cursor_names: set[str] = set()  # DB-API cursors: their results are fetched from the cursor itself
        self.branch: list[tuple[int, int]] = []
        self.connection_depth = 0
        self.depth = 0  # expressions being evaluated inside one another (see `value`)
        self.evaluated: dict[ast.expr, Value] = {}  # operands evaluated ahead of their expression
        self.vouched = NO_TAINT  # client values compared with the caller's identity in a condition
        self.tested: list[tuple[str, Taint]] = []  # attributes of loaded objects an `if` tests (see note_tested)
        self.guards: list[frozenset[str]] = []  # parameters tested by the enclosing `if param:` arms
        self.unguarded_commit = False
        self.commit_params: set[str] = set()  # parameters that `if param: commit()` tests
        self._written_objects: frozenset[str] | None = None  # see written_objects

    # ---- driving -------------------------------------------------------------------------------

    def run(self) -> list[Function]:
        function = self.function
        function.retries = any(RETRY_DECORATOR.search(d) for d in function.decorators)
        self.block(self.node.body)
        function.returns = self.returns
        function.open_txn = self.segment
        function.checked_reads = frozenset(self.checked) if self.checked else NOTHING
        if self.flag_checked:  # rows compared with the caller unless a flag of theirs is set: checked if only read
            written = {read for op in function.ops if op.action in ("update", "delete")
                       for value in op.keys.values() for read in value.reads}
            self.owner_checked |= self.flag_checked - written
            function.flag_checked_reads = frozenset(self.flag_checked & written)
        function.owner_checked_reads = frozenset(self.owner_checked) if self.owner_checked else NOTHING
        function.vouched = self.vouched
        function.tested = tuple(dict.fromkeys(self.tested))
        function.identity_source = function.identity_source or self.returns.identity
        if self.commit_params and not self.unguarded_commit:
            function.commit_params = tuple(sorted(self.commit_params))
        return [function, *self.nested]

    def block(self, statements: list[ast.stmt]) -> None:
        """Statements in order; after `if ...: return`, the rest of the block is that if's other arm."""
        depth = len(self.branch)
        for statement in statements:
            self.statement(statement)
            if isinstance(statement, ast.If) and not statement.orelse and exits(statement.body):
                self.branch.append((self.branch_id(statement), 1))
        del self.branch[depth:]

    def branch_id(self, node: ast.AST) -> int:
        """Unique in the project: ops inlined from a helper in another file keep their arms apart from the caller's."""
        return self.ctx.branch_salt + node.lineno * 1000 + node.col_offset

    def arm(self, node: ast.AST, arm: int, statements: list[ast.stmt]) -> None:
        self.branch.append((self.branch_id(node), arm))
        self.block(statements)
        self.branch.pop()

    def statement(self, node: ast.stmt) -> None:
        method = STATEMENT_VISITORS.get(type(node))
        if method is not None:
            method(self, node)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.value(child)

    # ---- statements ----------------------------------------------------------------------------

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        qualname = f"{self.function.qualname}.<locals>.{node.name}"
        visitor = FunctionVisitor(node, self.ctx, qualname, self.scope)
        _entry_facts(visitor.function, list(self.ctx.registrations.functions.get(qualname, ())))
        for function in visitor.run():
            self.nested.append(function)
            self.nested_qualnames.setdefault(function.name, function.qualname)
        self.scope.names[node.name] = Value()

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def expr_Lambda(self, node: ast.Lambda) -> Value:
        """A lambda is a small nested function: what it does happens when its receiver calls it (a transaction
        runner: `run_transaction(maker, lambda s: transfer_txn(s, a, b))`), not where it is written."""
        if self.ctx.lambda_depth >= MAX_LAMBDA_NESTING:  # `lambda: lambda: ...` thousands deep: a plain expression
            return union(*(self.value(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)))
        name = f"<lambda@{node.lineno}:{node.col_offset}>"
        body = ast.Return(value=node.body)
        definition = ast.FunctionDef(name=name, args=node.args, body=[ast.copy_location(body, node)],
                                     decorator_list=[])
        ast.copy_location(definition, node)
        visitor = FunctionVisitor(definition, self.ctx, f"{self.function.qualname}.<locals>.{name}", self.scope)
        self.ctx.lambda_depth += 1
        self.nested.extend(visitor.run())
        self.ctx.lambda_depth -= 1
        self.lambdas[node] = visitor.function.qualname
        return UNKNOWN

    def stmt_Assign(self, node: ast.Assign) -> None:
        single = node.targets[0] if len(node.targets) == 1 else None
        value = (isinstance(node.value, ast.Attribute) and isinstance(single, ast.Name) and
                 single.id in self.written_objects() and self.attribute_object(node.value)) or self.value(node.value)
        for target in node.targets:
            self.assign(target, value, node)
            if isinstance(target, ast.Name):
                self.note_cursor(target.id, node.value)

    def note_cursor(self, name: str, source: ast.expr) -> None:
        if isinstance(source, ast.Call) and last_name(source.func) == "cursor":
            self.cursor_names.add(name)
        else:
            self.cursor_names.discard(name)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self.value(node.value), node)

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        increment = self.value(node.value)
        target = node.target
        if isinstance(target, ast.Attribute):
            owner = self.value(target.value)
            if owner.instance_of:
                self.orm_write(owner, target.attr, union(owner, increment), node)
            return
        if isinstance(target, ast.Name):
            current = self.scope.lookup(target.id) or UNKNOWN
            if isinstance(node.op, ast.Add) and current.text is not None:
                self.scope.names[target.id] = concat([text_of(current), text_of(increment)])
            else:
                self.scope.names[target.id] = union(current, increment)

    def assign(self, target: ast.expr, value: Value, node: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.scope.names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if value.items is not None and len(value.items) == len(target.elts) else None
            for index, element in enumerate(target.elts):
                self.assign(element, items[index] if items else replace(value, items=None, fields=None), node)
        elif isinstance(target, ast.Attribute):
            owner = self.value(target.value)
            if target.attr == "autocommit" and is_true(getattr(node, "value", None)):
                # Per connection: a local one in autocommit makes this function's statements autocommit; one the
                # function hands out (returns, or keeps on g, self or the module) makes every user's statements so.
                self.function.autocommit = True
                if not isinstance(target.value, ast.Name) or _returns_name(self.node, target.value.id):
                    self.ctx.facts.autocommit = True
            elif owner.instance_of:
                self.built_field(target.value, owner, target.attr, value)
                self.orm_write(owner, target.attr, value, node)
        elif isinstance(target, ast.Subscript):
            container = self.value(target.value)
            if container.fields is not None and isinstance(target.value, ast.Name):
                # `data["user_id"] = me` on a dict of known keys: one key more (an unknown key: keys unknown)
                key = string(target.slice)
                known = key is not None and len(container.fields) < MAX_ADDED_FIELDS
                self.scope.names[target.value.id] = replace(container, fields=(*container.fields, (key, value))
                                                            if known else None)

    def stmt_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            value = self.value(node.value)
            self.returns = self.returns | value.taint
            if value.instance_of or value.items:
                self.returns = self.returns | union(value, *(value.items or ())).taint
            if value.instance_of and not value.instance_of.startswith(RETURNED) and not self.function.returns_class:
                self.function.returns_class = value.instance_of

    def expr_Yield(self, node: ast.Yield | ast.YieldFrom) -> Value:
        """What a generator yields is what its callers get (`for row in cursor: yield to_dict(row)`)."""
        if node.value is not None:
            self.returns = self.returns | self.value(node.value).whole_taint
        return UNKNOWN

    expr_YieldFrom = expr_Yield

    def stmt_Expr(self, node: ast.Expr) -> None:
        self.value(node.value)

    def stmt_If(self, node: ast.If) -> None:
        """An `if` and the `elif`s in its else arm, walked in a loop: a chain can be thousands of arms long.

        Each `elif` is the else arm of the `if` before it: its arms are walked inside that else arm."""
        chain = [node]
        while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], ast.If):
            chain.append(chain[-1].orelse[0])
        entered = []
        for link in chain:
            test = self.value(link.test)
            self.record_condition(test, self.flag_waived(link) if test.taint.identity and test.taint.reads else
                                  NOTHING)
            self.note_tested(link.test)
            before = self.txn_state()
            self.guards.append(test.taint.raw_params if isinstance(link.test, ast.Name) else frozenset())
            self.arm(link, 0, link.body)
            self.guards.pop()
            entered.append((link, before, self.txn_state()))
            self.restore_txn_state(before)
            self.branch.append((self.branch_id(link), 1))
        self.block(chain[-1].orelse)
        for link, before, after_body in reversed(entered):
            self.branch.pop()
            after_else = self.txn_state()
            # An arm that leaves the handler (return, raise, abort) does not reach what follows: its commit or
            # rollback does not end the transaction the code after the `if` runs in.
            if exits(link.body):
                final = after_else
            elif link.orelse and exits(link.orelse):
                final = after_body
            else:
                final = after_body if after_body != before else after_else
            self.restore_txn_state(final)
            self.allow_list(link)

    def txn_state(self) -> tuple[int, bool]:
        return self.segment, self.begun

    def restore_txn_state(self, state: tuple[int, bool]) -> None:
        self.segment, self.begun = state

    def record_condition(self, test: Value, waived: frozenset[int] = frozenset()) -> None:
        """`waived`: rows whose comparison with the caller a flag of theirs skips (see flag_waived)."""
        taint = test.taint
        self.checked.update(taint.reads)
        if taint.identity and taint.reads:
            self.owner_checked.update(taint.reads - waived)
            self.flag_checked.update(taint.reads & waived)
        if taint.identity and (taint.client or taint.params):
            # `if username != get_jwt_identity(): abort(403)`: the client's value was compared with the caller.
            self.vouched = self.vouched | Taint(client=taint.client, params=taint.params)

    def flag_waived(self, node: ast.If) -> frozenset[int]:
        """The reads of the rows whose check with the caller a flag of theirs skips (see `flag_waived_rows`)."""
        rows = (self.scope.lookup(name) for name in flag_waived_rows(node))
        return frozenset(read for row in rows if row is not None and not row.created for read in row.taint.reads)

    def note_tested(self, test: ast.expr) -> None:
        """`if invite.used:`, `if order.status != NEW:`: attributes of a loaded object (or row) a condition tests."""
        for node in walk(test):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                owner = self.scope.lookup(node.value.id)
                if owner is not None and not owner.created and (owner.instance_of or owner.taint.reads):
                    self.tested.append((node.attr, owner.taint))

    def allow_list(self, node: ast.If) -> None:
        """`if x not in ALLOWED: abort(...)` makes x safe to interpolate afterwards."""
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)):
            return
        container = self.value(test.comparators[0])
        if container.taint.client or not (container.constant or container.items is not None or container.fields):
            return
        if isinstance(test.ops[0], ast.NotIn) and exits(node.body):
            current = self.scope.lookup(test.left.id) or UNKNOWN
            self.scope.names[test.left.id] = replace(current, taint=current.taint.casted())

    def stmt_While(self, node: ast.While) -> None:
        self.value(node.test)
        self.loop(node)

    def stmt_For(self, node: ast.For) -> None:
        self.assign(node.target, self.element(node.iter), node)
        self.loop(node)

    stmt_AsyncFor = stmt_For

    def element(self, iterable: ast.expr) -> Value:
        """What a loop over `iterable` binds: a row of the class of the rows iterated (a query's result, a
        relationship or property of a loaded object: `for line in order.lines`), else what it derives from. A model
        iterating itself (`for line in self`, its `__iter__`) yields other rows, neither itself nor its own values."""
        if isinstance(iterable, ast.Name) and iterable.id in ("self", "cls"):
            return UNKNOWN
        collection = self.attribute_object(iterable) or self.value(iterable)
        merged = union(collection)
        return replace(merged, instance_of=collection.instance_of) if collection.instance_of else merged

    def attribute_object(self, node: ast.expr) -> Value | None:
        """`order.lines` on a loaded row, used as an object: the project stage reads it as the class's property, or
        as a relationship's rows (`Call.attribute`); its class is the one they give."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        owner = self.scope.lookup(node.value.id)
        if owner is None or not owner.instance_of or owner.created or \
                owner.instance_of in self.ctx.class_names and not self.ctx.is_row_class(owner.instance_of):
            return None
        access = ast.copy_location(ast.Call(func=node, args=[], keywords=[]), node)
        return self.project_call(access, f"{owner.instance_of}.{node.attr}", [], {}, owner, method=True,
                                 receiver_class=owner.instance_of, attribute=True)

    def written_objects(self) -> frozenset[str]:
        """Local names whose attributes the function writes (`variant.stock -= n`): found once, when first asked."""
        if self._written_objects is None:
            self._written_objects = frozenset(
                child.value.id for child in walk(self.node) if isinstance(child, ast.Attribute)
                and isinstance(child.ctx, ast.Store) and isinstance(child.value, ast.Name))
        return self._written_objects

    def loop(self, node: ast.For | ast.While) -> None:
        retry = _contains_retry(node, self.ctx.exception_aliases)
        self.retry_depth += retry
        self.block(node.body)
        self.retry_depth -= retry
        self.block(node.orelse)

    def stmt_Try(self, node: ast.Try) -> None:
        names = tuple(name for handler in node.handlers
                      for name in _exception_names(handler.type, self.ctx.exception_aliases))
        enclosing = self.handled
        self.handled = (*enclosing, *names)  # one tuple that every op of the body shares
        self.arm(node, 0, node.body)
        self.handled = enclosing
        after_body = self.txn_state()
        for handler in node.handlers:
            if handler.name:
                self.scope.names[handler.name] = UNKNOWN
            self.arm(node, 1, handler.body)
            if exits(handler.body):
                self.restore_txn_state(after_body)  # a handler that returns or re-raises does not go on
        self.arm(node, 0, node.orelse)
        self.block(node.finalbody)

    stmt_TryStar = stmt_Try

    def stmt_With(self, node: ast.With) -> None:
        opened_explicit = opened_connection = 0
        for item in node.items:
            context = item.context_expr
            kind = self.context_kind(context)
            value = self.value(context)
            if kind == "transaction":
                self.explicit.append(next(self.ctx.txn_ids))
                opened_explicit += 1
            elif kind == "connection":
                self.segment = next(self.ctx.txn_ids)
                opened_connection += 1
            if item.optional_vars is not None:
                if kind in ("connection", "transaction") and isinstance(item.optional_vars, ast.Name):
                    self.conn_names.add(item.optional_vars.id)
                if isinstance(item.optional_vars, ast.Name):
                    self.note_cursor(item.optional_vars.id, context)
                self.assign(item.optional_vars, value if kind is None else UNKNOWN, node)
        self.connection_depth += opened_connection
        self.block(node.body)
        self.connection_depth -= opened_connection
        for _ in range(opened_explicit):
            self.explicit.pop()
        if any(self.context_kind(item.context_expr) == "connection" for item in node.items):
            self.segment = next(self.ctx.txn_ids)

    stmt_AsyncWith = stmt_With

    def context_kind(self, context: ast.expr) -> str | None:
        """'transaction' for a block that is one transaction, 'connection' for one that commits at its end."""
        return context_kind(context, self.conn_names)

    # ---- transactions --------------------------------------------------------------------------

    def txn(self) -> tuple[int, TxnKind]:
        if self.explicit:
            return self.explicit[-1], "explicit"
        if self.begun:
            return self.segment, "explicit"
        if self.function.autocommit or self.ctx.facts.autocommit:
            return next(self.ctx.txn_ids), "autocommit"
        return self.segment, "implicit"

    def end_transaction(self) -> None:
        guard = next((params for params in reversed(self.guards) if params), None)
        if guard is None:
            self.unguarded_commit = True
        else:
            self.commit_params |= guard
        self.function.commits = True
        self.begun = False
        self.segment = next(self.ctx.txn_ids)

    # ---- data operations -----------------------------------------------------------------------

    def add_op(self, node: ast.AST, **fields) -> DataOp:
        if fields.get("table"):
            fields["table"] = self.ctx.unaliased(fields["table"])
        txn, kind = self.txn()
        if fields.get("table") in self.ctx.imports:  # `from models import Case as CaseModel`: the model is Case
            fields["table"] = self.ctx.imports[fields["table"]].rpartition(".")[2]
        op = DataOp(
            id=next(self.ctx.ids), span=span(node), txn=txn, txn_kind=kind,
            retried=self.retry_depth > 0 or self.function.retries,
            handled=self.handled, branch=tuple(self.branch[-MAX_BRANCH:]),
            own_connection=self.connection_depth > 0, **fields,
        )
        self.function.ops.append(op)
        return op

    def sql_op(self, node: ast.Call, statement: Value, parameters: Value | None) -> Value:
        if statement.query is not None:
            return self.query_op(node, statement.query)
        if statement.text is None:
            # SQL text this function does not know, e.g. a parameter of a `query_db(sql, args)` wrapper: the project
            # stage reads it from the callers that pass it.
            op = self.add_op(node, api="sql", action="other", table=None, dynamic_sql=True,
                             interpolated=statement.taint or None,
                             text_param=_bare_parameter(statement), params_param=_bare_parameter(parameters))
            return Value(taint=Taint(reads=frozenset({op.id})))
        positional = [v.whole_taint for v in parameters.items] if parameters is not None and \
            parameters.items is not None else []
        named = {k: v.whole_taint for k, v in parameters.fields or ()} if parameters is not None else {}
        whole = parameters.whole_taint if parameters is not None else NO_TAINT
        parsed, fields = bound_statement(statement.text, statement.holes, positional, named, whole)
        if parsed.action in ("begin", "commit", "rollback", "savepoint", "set"):
            if parsed.action == "begin":
                self.begun = True
                self.segment = next(self.ctx.txn_ids)
            elif parsed.action in ("commit", "rollback"):
                self.end_transaction()
            if parsed.isolation:
                self.ctx.facts.backend_hints.add(parsed.isolation)
            return UNKNOWN
        interpolated = statement.interpolated
        op = self.add_op(node, api="sql", statement=display(statement.text),
                         interpolated=interpolated if interpolated else None, **fields)
        return Value(taint=Taint(reads=frozenset({op.id})))

    def query_op(self, node: ast.AST, query: Query) -> Value:
        op = self.add_op(node, api="orm", action=query.action, table=query.model, keys=dict(query.keys),
                         guards=query.guards, writes=dict(query.writes), atomic=query.atomic,
                         for_update=query.for_update, interpolated=query.interpolated)
        return Value(taint=Taint(reads=frozenset({op.id})), instance_of=query.model if query.action == "read" else None)

    def built_field(self, expression: ast.expr, instance: Value, attribute: str, value: Value) -> None:
        """`order.token = uuid4().hex` on an object built here and named `order`: one more column of its INSERT."""
        fields = instance.fields or ()
        if not instance.created or not isinstance(expression, ast.Name) or fields[-1:] and fields[-1][0] == "*":
            return  # (past MAX_ADDED_FIELDS, "*": it has other columns, unknown)
        added = (attribute, value) if len(fields) < MAX_ADDED_FIELDS else ("*", value)
        self.scope.names[expression.id] = replace(instance, fields=(*fields, added))

    def orm_write(self, instance: Value, attribute: str, value: Value, node: ast.AST) -> None:
        if instance.created:
            return  # attributes of a new object are part of its INSERT
        if instance.instance_of in self.ctx.class_names and not self.ctx.is_row_class(instance.instance_of) or \
                self.function.name == "__init__" and "self" in instance.taint.raw_params:
            return  # `self.total = ...` in a plain class, or while an object is built: not a row
        atomic = tuple(c.column for c in value.expression_columns if c.model == instance.instance_of
                       and c.column == attribute)
        writes = {} if atomic else {attribute: value.taint}
        keys = {"<loaded>": instance.taint}
        self.add_op(node, api="orm", action="update", table=instance.instance_of, keys=keys, writes=writes,
                    atomic=atomic)

    # ---- expressions ---------------------------------------------------------------------------

    def value(self, node: ast.expr | None) -> Value:
        """What is known of the expression `node`.

        Python parses expressions thousands of levels deep (`"a" + x + "b" + ...`, `x.f().g()...`): past
        `SHALLOW_DEPTH` nested evaluations, an expression is evaluated from its innermost operands outwards,
        so each evaluation finds its operands already done instead of recursing into them."""
        if node is None:
            return UNKNOWN
        if self.evaluated and node in self.evaluated:
            return self.evaluated[node]
        if self.depth >= SHALLOW_DEPTH:
            return self.value_bottom_up(node)
        self.depth += 1  # (an exception abandons the whole file: no need to restore it)
        method = EXPRESSION_VISITORS.get(type(node))  # (what `evaluate` does, without a call more per expression)
        result = method(self, node) if method is not None else self.evaluate(node)
        self.depth -= 1
        return result

    def value_bottom_up(self, node: ast.expr) -> Value:
        order = _operands_first(node)
        for item in order:
            self.evaluated[item] = self.evaluate(item)
        result = self.evaluated[node]
        for item in order:
            del self.evaluated[item]
        return result

    def evaluate(self, node: ast.expr) -> Value:
        """One expression, its operands read through `value` (in the order `_operands` lists them)."""
        method = EXPRESSION_VISITORS.get(type(node))
        if method is not None:
            return method(self, node)
        return union(*(self.value(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)))

    def expr_Constant(self, node: ast.Constant) -> Value:
        if isinstance(node.value, str):
            return Value(text=defused(node.value), constant=True)
        return Value(constant=True)

    def expr_Name(self, node: ast.Name) -> Value:
        name = node.id
        bound = self.scope.lookup(name)
        if bound is not None:
            return bound
        return first_answer(models.NAMES, self, node) or UNKNOWN

    def expr_JoinedStr(self, node: ast.JoinedStr) -> Value:
        parts = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(Value(text=defused(str(piece.value))))
            elif isinstance(piece, ast.FormattedValue):
                value = self.value(piece.value)
                taint = value.whole_taint
                if piece.format_spec is not None and _numeric_spec(piece.format_spec):
                    taint = taint.casted()
                parts.append(hole(taint))
        return concat(parts)

    def expr_IfExp(self, node: ast.IfExp) -> Value:
        """`a if test else b` is a or b: the test decides which, its data does not flow into the result.

        `a if t else b if u else c ...` is walked in a loop: such a chain can be thousands of arms long (an arm
        evaluated ahead, see `value`, is taken as it is)."""
        arms = []
        while isinstance(node, ast.IfExp) and node not in self.evaluated:
            self.record_condition(self.value(node.test))
            arms.append(self.value(node.body))
            node = node.orelse
        arms.append(self.value(node))
        merged = union(*arms)
        if all(arm.constant for arm in arms):
            return replace(merged, constant=True)
        return merged

    def expr_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Mod) and left.text is not None:
            return percent_format(left, right)
        if isinstance(node.op, ast.Add) and (left.text is not None or right.text is not None):
            return concat([text_of(left), text_of(right)])
        return union(left, right)

    def expr_Tuple(self, node: ast.Tuple | ast.List) -> Value:
        items = tuple(self.value(e) for e in node.elts)
        merged = union(*items)
        return replace(merged, items=items, constant=all(i.constant for i in items))

    expr_List = expr_Tuple
    expr_Set = expr_Tuple

    def expr_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Value:
        for generator in node.generators:
            self.assign(generator.target, self.element(generator.iter), node)
            for condition in generator.ifs:
                self.value(condition)
        if isinstance(node, ast.DictComp):
            return union(self.value(node.key), self.value(node.value))
        element = self.value(node.elt)
        merged = union(element)
        return replace(merged, instance_of=element.instance_of) if element.instance_of else merged

    expr_SetComp = expr_ListComp
    expr_GeneratorExp = expr_ListComp
    expr_DictComp = expr_ListComp

    def expr_Dict(self, node: ast.Dict) -> Value:
        fields = []
        values = []
        for key, item in zip(node.keys, node.values):
            value = self.value(item)
            values.append(value)
            name = string(key)
            if name is not None:
                fields.append((name, value))
        merged = union(*values)
        return replace(merged, fields=tuple(fields), constant=all(v.constant for v in values))

    def expr_Subscript(self, node: ast.Subscript) -> Value:
        container = self.value(node.value)
        key = self.value(node.slice)
        label = string(node.slice)
        found = first_answer(models.SUBSCRIPTS, self, node, container, label)
        if found is not None:
            return found
        if container.fields is not None and label is not None:
            return dict(container.fields).get(label, union(container))
        if container.items is not None and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
            index = node.slice.value
            if -len(container.items) <= index < len(container.items):
                return container.items[index]
        if container.constant:
            return Value(constant=True)
        taint = container.taint
        if label and taint.client and all(o.startswith("request.") and "[" not in o for o in taint.client):
            taint = replace(taint, client=frozenset(f"{o}[{label!r}]" for o in taint.client))
        if container.fields is not None or container.items is not None:
            taint = union(container, *(container.items or ()), *(v for _, v in container.fields or ())).taint
        result = Value(taint=taint | (key.taint if key.taint.client else NO_TAINT))
        return replace(result, instance_of=container.instance_of if container.items is None else None)

    def expr_Attribute(self, node: ast.Attribute) -> Value:
        owner = self.value(node.value)
        found = first_answer(models.ATTRIBUTES, self, node, owner)
        if found is not None:
            return found
        if owner.instance_of:
            return Value(taint=owner.taint)
        if owner.constant:
            return Value(constant=True)
        return Value(taint=owner.taint, query=owner.query)

    def expr_Call(self, node: ast.Call) -> Value:
        """Python's own builtins first, then what the library models make of the call, else a project call."""
        func = node.func
        name = last_name(func)
        receiver = self.value(func.value) if isinstance(func, ast.Attribute) else None
        arguments = [self.value(arg) for arg in node.args]
        keywords = {kw.arg: self.value(kw.value) for kw in node.keywords if kw.arg}
        for kw in node.keywords:
            if kw.arg is None:
                arguments.append(self.value(kw.value))
        if name in SANITIZERS and arguments:
            merged = union(*arguments)
            return Value(taint=merged.taint.casted())
        site = CallSite(node, name, self.ctx.resolve(dotted(func)), receiver, arguments, keywords)
        found = first_answer(models.CALLS.get(name, ()), self, site)
        if found is None:
            found = first_answer(models.ANY_CALL, self, site)
        return found if found is not None else self.python_call(site)

    def python_call(self, site: CallSite) -> Value:
        """String building, containers, constructors and methods of project classes, project functions."""
        node, func, name, receiver = site.node, site.node.func, site.name, site.receiver
        arguments, keywords = site.arguments, site.keywords
        if name == "format" and receiver is not None and receiver.text is not None:
            result = brace_format(receiver, arguments, keywords)
            return replace(result, safe_text=receiver.safe_text)
        if name == "join" and receiver is not None and receiver.text is not None and arguments:
            parts = arguments[0].items
            if parts is not None:
                pieces = []
                for index, part in enumerate(parts):
                    if index:
                        pieces.append(text_of(receiver))
                    pieces.append(text_of(part))
                return concat(pieces)
            return concat([text_of(arguments[0])])
        if name == "next" and isinstance(func, ast.Name) and arguments and arguments[0].instance_of:
            return replace(union(*arguments), instance_of=arguments[0].instance_of)  # the first row, or the default
        if name == "setattr" and isinstance(func, ast.Name) and len(arguments) == 3 and arguments[0].instance_of:
            self.built_field(node.args[0], arguments[0], string(node.args[1]) or "*", arguments[2])
            self.orm_write(arguments[0], string(node.args[1]) or "*", arguments[2], node)
            return UNKNOWN
        if receiver is not None and name in STRING_METHODS and not receiver.instance_of:
            return Value(taint=union(receiver, *arguments).taint, instance_of=None)
        constructed = self.constructed_class(func)
        if constructed is not None:
            spreads = [self.value(kw.value) for kw in node.keywords if kw.arg is None]  # Model(**data)
            # A spread dict whose keys are known (a literal, and the items set on it since) writes those columns.
            spread_fields = tuple(item for spread in spreads for item in spread.fields or (("**", spread),))
            # Positional arguments by position ("0", "1"): the project stage names them after `__init__`'s parameters.
            positional = () if any(isinstance(a, ast.Starred) for a in node.args) else \
                tuple((str(index), argument) for index, argument in zip(range(len(node.args)), arguments))
            return Value(instance_of=constructed, created=True, taint=union(*arguments, *keywords.values()).taint,
                         fields=tuple(keywords.items()) + positional + spread_fields)
        if receiver is not None and receiver.instance_of and isinstance(func, ast.Attribute):
            # A method of an object of a known class — built here (`AccountService(db).charge()`), loaded
            # (`order.cancel()`), or `self` — is Class.method, found in the class or its bases by the project.
            return self.project_call(node, f"{receiver.instance_of}.{func.attr}", arguments, keywords, receiver,
                                     method=True, receiver_class=receiver.instance_of)
        if isinstance(func, ast.Attribute) and self.looks_like_model(func.value):
            # `Order.create(...)`, `Holding.find(id)`: a class or static method, which a base may define. A lookup
            # by its name returns a loaded row of that class (its attributes written back are an UPDATE).
            cls = last_name(func.value)
            result = self.project_call(node, site.qualified or name, arguments, keywords, receiver, receiver_class=cls)
            if not LOOKUP_METHOD.match(name):
                return result
            # The row found is not the caller, even when the caller's identity or tenant helped find it.
            return replace(result, instance_of=cls, taint=replace(result.taint, identity=False))
        return self.project_call(node, site.qualified or name, arguments, keywords, receiver)

    def project_call(self, node: ast.Call, name: str, arguments: list[Value], keywords: dict[str, Value],
                     receiver: Value | None, *, method: bool = False, receiver_class: str | None = None,
                     attribute: bool = False) -> Value:
        derived = union(*arguments, *keywords.values(), *([receiver] if receiver else []))
        if not method and not self.may_be_project_function(node.func):
            return derived
        txn, kind = self.txn()
        passed = {}
        for index, arg in enumerate(node.args):
            if isinstance(arg, (ast.Name, ast.Attribute)):
                passed[str(index)] = dotted(arg)
            elif isinstance(arg, ast.Lambda) and arg in self.lambdas:
                passed[str(index)] = self.lambdas[arg]
            elif isinstance(arg, ast.Call) and last_name(arg.func) == "partial" and arg.args and \
                    isinstance(arg.args[0], (ast.Name, ast.Attribute)):
                passed[str(index)] = dotted(arg.args[0])  # functools.partial(transfer_txn, a, b)
        for kw in node.keywords:
            if kw.arg and isinstance(kw.value, (ast.Name, ast.Attribute)):
                passed[kw.arg] = dotted(kw.value)
        call_id = next(self.ctx.ids)
        arguments_by_key = {str(i): v.whole_taint for i, v in enumerate(arguments)}
        arguments_by_key.update({k: v.whole_taint for k, v in keywords.items()})
        created = receiver is not None and receiver.created and receiver_class is not None
        falsy = tuple(key for key, arg in [*((str(i), a) for i, a in enumerate(node.args)),
                                           *((kw.arg, kw.value) for kw in node.keywords if kw.arg)]
                      if isinstance(arg, ast.Constant) and arg.value in (False, None, 0))
        if receiver is not None:  # (a method of an object of unknown class may still resolve by its name)
            arguments_by_key["self"] = receiver.taint
        self.function.calls.append(Call(
            name=name, span=span(node), arguments=arguments_by_key, txn=txn, txn_kind=kind,
            retried=self.retry_depth > 0 or self.function.retries, result_id=call_id,
            callables={k: self.qualify(v) for k, v in passed.items()},
            receiver=receiver_class, receiver_created=created,
            receiver_fields={k: v.whole_taint for k, v in receiver.fields or ()} if created else {},
            branch=tuple(self.branch[-MAX_BRANCH:]), falsy=falsy,
            texts=_sql_texts(arguments, keywords), containers=_containers(arguments, keywords), attribute=attribute,
            objects=_built_objects(arguments, keywords),
        ))
        # The result may be a row or an object of a project class (`request = citizen.active_request()`): its
        # attribute writes and method calls are kept, and the project stage names its class from the callee.
        return Value(taint=derived.taint | Taint(reads=frozenset({call_id})), instance_of=f"{RETURNED}{call_id}")

    def constructed_class(self, func: ast.expr) -> str | None:
        """The class a call builds an object of (only a created object added to a session becomes an INSERT): a
        class called by name (a model imported from the models module as well as one defined in this file), through
        its module (`models.Order(...)`), or through a class attribute of the method's class (`form = OrderForm`
        in a view class, then `self.form()`)."""
        name = None
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            if owner in self.ctx.imports and self.scope.lookup(owner) is None:
                name = func.attr
            elif owner == "self" and (itself := self.scope.lookup("self")) is not None and itself.instance_of:
                name = _class_attribute(self.ctx.class_names.get(itself.instance_of), func.attr)
        if name and name[:1].isupper() and not name.isupper() and name not in self.ctx.function_names:
            return name
        return None

    def may_be_project_function(self, func: ast.expr) -> bool:
        """A call the project stage could resolve: a plain name, or a function of a module or of self/cls.

        Method calls on arbitrary objects (data.get(), rows.append()) can never be resolved to one
        definition, and recording them would only cost memory and risk a wrong match by name."""
        if isinstance(func, ast.Name):
            return func.id not in BUILTIN_NAMES and not isinstance(self.scope.lookup(func.id), Value) or \
                func.id in self.ctx.function_names or func.id in self.ctx.imports  # (`from db import exec`)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id in ("self", "cls") or func.value.id in self.ctx.imports or \
                func.value.id in self.ctx.class_names
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):  # `models.Order.get(id)`
            return isinstance(func.value.value, ast.Name) and func.value.value.id in self.ctx.imports
        return False

    def qualify(self, name: str) -> str:
        """A function name as the project stage will look it up: nested functions get their qualname."""
        return self.nested_qualnames.get(name) or self.ctx.resolve(name)

    # ---- helpers for the models -----------------------------------------------------------------

    def looks_like_model(self, node: ast.AST) -> bool:
        name = last_name(node)
        return bool(name) and name[:1].isupper() and self.scope.lookup(name) is None and not name.isupper()


def _class_attribute(node: ast.ClassDef | None, attribute: str) -> str | None:
    """The name a class body assigns to `attribute` (`form = OrderForm`), when it is a plain name."""
    for item in node.body if node is not None else ():
        if isinstance(item, ast.Assign) and isinstance(item.value, ast.Name) and \
                any(isinstance(target, ast.Name) and target.id == attribute for target in item.targets):
            return item.value.id
    return None


def _visitors(prefix: str) -> dict[type, object]:
    """The visitor's `stmt_If`-style methods by the node type they visit (one lookup per node, no name built)."""
    return {getattr(ast, name[len(prefix):]): method for name, method in vars(FunctionVisitor).items()
            if name.startswith(prefix) and hasattr(ast, name[len(prefix):])}


STATEMENT_VISITORS = _visitors("stmt_")
EXPRESSION_VISITORS = _visitors("expr_")


def _operands(node: ast.expr) -> list[ast.expr]:
    """The expressions the evaluator of `node` reads through `value` before anything else, in that order.

    (`a if t else b` notes `t` as a condition between its reads: that changes no value.) Comprehensions bind
    names before reading their parts: they have none, and read their parts themselves."""
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return []
    if isinstance(node, ast.Call):
        receiver = [node.func.value] if isinstance(node.func, ast.Attribute) else []
        return [*receiver, *node.args, *(kw.value for kw in node.keywords if kw.arg),
                *(kw.value for kw in node.keywords if kw.arg is None)]
    if isinstance(node, ast.Dict):
        return list(node.values)
    if isinstance(node, ast.JoinedStr):
        return [piece.value for piece in node.values if isinstance(piece, ast.FormattedValue)]
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]


def _operands_first(node: ast.expr) -> list[ast.expr]:
    """`node` and its operands, transitively, each after its own operands (found with a stack, not recursion)."""
    order: list[ast.expr] = []
    stack: list[tuple[ast.expr, bool]] = [(node, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded:
            order.append(item)
            continue
        stack.append((item, True))
        stack.extend((operand, False) for operand in reversed(_operands(item)))
    return order


def _sql_texts(arguments: list[Value], keywords: dict[str, Value]) -> dict[str, tuple[str, tuple[Taint, ...]]]:
    """Arguments that read like SQL statements, for a wrapper that executes them (texts are kept only then)."""
    found = {}
    for key, value in [*((str(i), v) for i, v in enumerate(arguments)), *keywords.items()]:
        if value.text is not None and len(value.text) < MAX_KEPT_TEXT and SQL_START.match(value.text):
            found[key] = (value.text, value.holes)
    return found


def _containers(arguments: list[Value], keywords: dict[str, Value]):
    """Literal tuples/lists and dicts passed, as taints: the parameters bound to a wrapper's statement."""
    found = {}
    for key, value in [*((str(i), v) for i, v in enumerate(arguments)), *keywords.items()]:
        if value.items is not None or value.fields is not None:
            found[key] = (tuple(v.whole_taint for v in value.items) if value.items is not None else None,
                          {k: v.whole_taint for k, v in value.fields} if value.fields is not None else None)
    return found


def _built_objects(arguments: list[Value], keywords: dict[str, Value]):
    """Objects built in the function (`Ballot(...)`), alone or in a literal list, by argument: what a helper that
    adds its parameter to the session inserts."""
    found = {}
    for key, value in [*((str(i), v) for i, v in enumerate(arguments)), *keywords.items()]:
        built = tuple((o.instance_of, {k: v.whole_taint for k, v in o.fields or ()})
                      for o in (value.items if value.items is not None else (value,)) if o.created and o.instance_of)
        if built:
            found[key] = built
    return found


def _may_be_row(node: ast.ClassDef, handing_self: list[int]) -> bool:
    """A class whose objects may be database rows: a model (columns, a table name, a model-like base), or a mixin or
    base class of models (named so, or handing `self` to the session: a call on one of the `handing_self` lines,
    sorted, inside one of its methods). Elsewhere `self.x = ...` is plain Python."""
    if any(ROW_BASE.search(dotted(base)) for base in node.bases) or ROW_BASE.search(node.name):
        return True
    for item in node.body:
        if isinstance(item, (ast.Assign, ast.AnnAssign)):
            value = item.value
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            if any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in targets) or \
                    isinstance(value, ast.Call) and last_name(value.func) in ("Column", "mapped_column"):
                return True
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = bisect.bisect_left(handing_self, item.lineno)
            if first < len(handing_self) and handing_self[first] <= (item.end_lineno or item.lineno):
                return True
    return False


def _hands_self(call: ast.Call) -> bool:
    """`session.add(self)`, `db.session.merge(self)`, `session.delete(self)`."""
    return last_name(call.func) in ("add", "merge", "delete") and any(
        isinstance(arg, ast.Name) and arg.id == "self" for arg in call.args)


def _annotated_classes(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    """Parameters annotated with a class (`user: User`, `order: Optional["Order"]`, `cart: Cart | None`): an object
    of that class, so that its attribute writes are the row's (the project stage keeps only classes it knows)."""
    found = {}
    for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
        annotation = arg.annotation
        if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Optional":
            annotation = annotation.slice
        elif isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            annotation = annotation.left
        name = string(annotation) or (last_name(annotation) if isinstance(annotation, (ast.Name, ast.Attribute))
                                      else "")
        if name[:1].isupper() and name.isidentifier() and name not in TYPING_NAMES:
            found[arg.arg] = name
    return found


def _returns_name(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """The function returns the local `name` (a connection factory), or declares it global."""
    return any(isinstance(child, ast.Return) and isinstance(child.value, ast.Name) and child.value.id == name or
               isinstance(child, ast.Global) and name in child.names for child in walk(node))


def _bare_parameter(value: Value | None) -> str | None:
    """The parameter a value is, unchanged (`sql` in `def query(sql): cur.execute(sql)`), else None."""
    if value is None or value.text is not None or value.items is not None or value.fields is not None:
        return None
    taint = value.taint
    if len(taint.params) == 1 and taint.params == taint.raw_params and not (taint.client or taint.reads):
        return next(iter(taint.params))
    return None


def _numeric_spec(spec: ast.JoinedStr) -> bool:
    text = "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return bool(text) and text[-1] in "dfeEgGxXob%"


def _exception_names(node: ast.AST | None, aliases: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if node is None:
        return ("Exception",)
    if isinstance(node, ast.Tuple):
        return tuple(name for element in node.elts for name in _exception_names(element, aliases))
    name = last_name(node)
    return aliases.get(name, (name,)) if isinstance(node, ast.Name) else (name,)


def _contains_retry(loop: ast.For | ast.While, aliases: dict[str, tuple[str, ...]]) -> bool:
    """The loop retries on serialization failures: a handler catching them, 40001, or the restart savepoint."""
    for node in walk(loop):
        if isinstance(node, ast.ExceptHandler):
            names = " ".join(_exception_names(node.type, aliases))
            handler_text = source(node)
            if RETRYABLE_ERROR.search(names) or "40001" in handler_text or "restart transaction" in handler_text:
                return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "cockroach_restart" in node.value:
            return True
    return False


# ---- module level ------------------------------------------------------------------------------------


def extract(tree: ast.Module, source_text: str, path: str, module: str) -> ModuleFacts:
    facts = ModuleFacts(path=path, module=module)
    ctx = ModuleContext(facts, tree)
    _module_scan(tree, ctx, module)
    _suppressions(source_text, facts)
    registrations = Registrations()
    for finder in models.ENTRY_POINTS:
        registrations.update(finder(tree, ctx))
    _split_views(registrations, tree, ctx)
    ctx.registrations = registrations
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _function(node, ctx, node.name, registrations)
        elif isinstance(node, ast.ClassDef):
            facts.classes[node.name] = tuple(last_name(base) for base in node.bases if last_name(base))
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    _function(item, ctx, f"{node.name}.{item.name}", registrations, owner=node)
    return facts


def _module_scan(tree: ast.Module, ctx: ModuleContext, module: str) -> None:
    """Imports and exception aliases here; tables, migrations, backend hints and autocommit settings from the
    models' `module_nodes` handlers, each handed the module's nodes of its types."""
    # A package's __init__ is named like the package: its relative imports start from the package itself.
    package = module if ctx.facts.path.rpartition("/")[2] == "__init__.py" else module.rpartition(".")[0]
    for node in module_nodes_of(tree, ast.Import):
        for alias in node.names:
            ctx.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                alias.name.split(".")[0]
    for node in module_nodes_of(tree, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".") if package else []
            parts = parts[: len(parts) - node.level + 1] if node.level > 1 else parts
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            ctx.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    for node_type, handlers in models.MODULE_NODES.items():
        for node in module_nodes_of(tree, node_type):
            for handler in handlers:
                handler(node, ctx)
    for node in tree.body:
        if isinstance(node, ast.Assign) and is_true(node.value) and any(
                isinstance(t, ast.Attribute) and t.attr == "autocommit" for t in node.targets):
            ctx.facts.autocommit = True  # a module-level connection put in autocommit: every user of it is
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Tuple) and node.value.elts \
                and all(isinstance(e, (ast.Name, ast.Attribute)) for e in node.value.elts):
            ctx.exception_aliases[node.targets[0].id] = tuple(last_name(e) for e in node.value.elts)
    visitor = None  # one for all module-level assignments: what it records besides their values is dropped
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if visitor is None:
                visitor = FunctionVisitor(ast.FunctionDef(name="<module>", args=ast.arguments(
                    posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=[], decorator_list=[]),
                    ctx, "<module>", ctx.globals)
            value = visitor.value(node.value)
            ctx.globals.names[node.targets[0].id] = replace(value, constant=value.constant or not value.taint)


def _entry_facts(function: Function, entries: list[EntryPoint]) -> None:
    """The entry points of `function`, and what they and its decorators say of its callers."""
    function.entry_points = entries
    if any(entry.auth for entry in entries) or any(AUTH_DECORATOR.search(d) for d in function.decorators):
        function.authenticated = True
    if any(entry.privileged for entry in entries) or any(PRIVILEGE.search(d) for d in function.decorators):
        function.privileged = True


def _split_views(registrations: Registrations, tree: ast.Module, ctx: ModuleContext) -> None:
    """Views defined here are found by name; the others, by the dotted name the imports give, in the project."""
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                    ast.ClassDef))}
    local: dict[str, list[EntryPoint]] = {}
    for written, entries in registrations.views.items():
        if written in defined:
            local.setdefault(written, []).extend(entries)
        else:
            ctx.facts.foreign_views.setdefault(ctx.resolve(written), []).extend(entries)
    registrations.views = local


def _suppressions(source_text: str, facts: ModuleFacts) -> None:
    if "plumbline:" not in source_text:
        return
    for number, line in enumerate(source_text.splitlines(), start=1):
        match = SUPPRESSION.search(line)
        if match:
            rules = match.group(1)
            facts.suppressions[number] = frozenset(r.strip().upper() for r in rules.split(",")) if rules else \
                frozenset({"*"})


def _function(node, ctx: ModuleContext, qualname: str, registrations: Registrations,
              owner: ast.ClassDef | None = None) -> None:
    if owner is not None and parameters(node)[:1] == ["cls"]:
        node = _bind_class(node, owner.name)
    visitor = FunctionVisitor(node, ctx, qualname, None, owner=owner.name if owner is not None else None)
    function = visitor.function
    entries: list[EntryPoint] = list(registrations.functions.get(qualname, ()))
    if owner is not None and node.name in (*models.VIEW_METHODS, "dispatch_request"):
        method = node.name.upper()
        for entry in registrations.views.get(owner.name, ()):
            if node.name == "dispatch_request":
                entries.append(entry)
            elif method in entry.methods or entry.methods == ("GET",):
                entries.append(replace(entry, methods=(method,)))
        function.decorators = function.decorators + registrations.class_decorators.get(owner.name, ())
    elif owner is None:
        entries.extend(registrations.views.get(node.name, ()))
    _entry_facts(function, entries)
    _runner_params(node, function, ctx.exception_aliases)
    ctx.facts.functions.extend(visitor.run())


def _bind_class(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """A class method whose `cls` reads as the class it is defined in: `cls.query`, `cls(**fields)`.

    Trees are shared and never changed: the nodes on the way from the method to each `cls` are copied, the rest of
    the method is shared with the original (a deep copy of every such method cost more than visiting it)."""
    parents: dict[int, ast.AST] = {}
    uses = []
    for parent in walk(node):
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
            if isinstance(child, ast.Name) and child.id == "cls":
                uses.append(child)
    copies: dict[int, ast.AST] = {}  # id of an original node -> its copy

    def copied(original: ast.AST) -> ast.AST:
        if id(original) not in copies:
            duplicate = copy.copy(original)
            for field_name, field_value in ast.iter_fields(original):
                if isinstance(field_value, list):
                    setattr(duplicate, field_name, list(field_value))  # the copy's own list, edited below
            copies[id(original)] = duplicate
        return copies[id(original)]

    for use in uses:
        original, child = use, copied(use)
        child.id = name
        while original is not node:
            parent = parents[id(original)]
            known = id(parent) in copies
            duplicate = copied(parent)
            for field_name, field_value in ast.iter_fields(duplicate):
                if field_value is original:
                    setattr(duplicate, field_name, child)
                elif isinstance(field_value, list):
                    field_value[:] = [child if item is original else item for item in field_value]
            if known:
                break  # its ancestors are copies already, holding it
            original, child = parent, duplicate
    return copied(node)


def context_kind(context: ast.expr, connection_names: set[str]) -> str | None:
    """What the models say a `with` block is: 'transaction', 'connection' or None."""
    return first_answer(models.CONTEXTS, context, connection_names)


def _runner_params(node: ast.FunctionDef | ast.AsyncFunctionDef, function: Function,
                   aliases: dict[str, tuple[str, ...]]) -> None:
    """Parameters the function calls inside a transaction block or a retry loop: it runs callbacks transactionally.

    Blocks are walked from a work list, each call seen once, in the innermost block walked that holds it
    (`if`/`elif` chains can be thousands of blocks deep)."""
    params = set(function.params)
    pending = [(node.body, False, any(RETRY_DECORATOR.search(d) for d in function.decorators))]
    while pending:
        statements, in_transaction, retried = pending.pop()
        for statement in statements:
            blocks = _blocks(statement, in_transaction, retried, aliases)
            pending.extend(blocks)
            if not (in_transaction or retried):
                continue
            walked_apart = {inner for block, _, _ in blocks for inner in block}
            for call in _calls_outside(statement, walked_apart):
                if isinstance(call.func, ast.Name) and call.func.id in params:
                    function.transaction_runner[call.func.id] = function.transaction_runner.get(
                        call.func.id, False) or retried


def _blocks(statement: ast.stmt, in_transaction: bool, retried: bool,
            aliases: dict[str, tuple[str, ...]]) -> list[tuple[list[ast.stmt], bool, bool]]:
    """The blocks of `statement` that `_runner_params` walks, each with whether it is in a transaction or retried."""
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        opens = any(isinstance(i.context_expr, ast.Call) and context_kind(i.context_expr, set()) == "transaction"
                    for i in statement.items)
        return [(statement.body, in_transaction or opens, retried)]
    if isinstance(statement, (ast.For, ast.While, ast.AsyncFor)):
        return [(statement.body, in_transaction, retried or _contains_retry(statement, aliases))]
    if isinstance(statement, ast.Try):
        return [(body, in_transaction, retried) for body in (statement.body, *(h.body for h in statement.handlers))]
    if isinstance(statement, ast.If):
        return [(statement.body, in_transaction, retried), (statement.orelse, in_transaction, retried)]
    return []


def _calls_outside(node: ast.AST, excluded: set[ast.stmt]):
    """The calls inside `node`, not looking into the `excluded` statements."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Call):
            yield item
        stack.extend(child for child in ast.iter_child_nodes(item) if child not in excluded)


