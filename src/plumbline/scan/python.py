"""Python source -> `ModuleFacts`: one pass over the module, one visitor per function.

The function visitor walks statements in order and keeps, for every local name, a `Value`: where
its data comes from (client, identity, earlier reads), the SQL text it spells, the ORM object or
query it stands for. Every data access becomes a `DataOp` stamped with the transaction it runs in,
whether a retry of serialization failures surrounds it and which exceptions are handled around it.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import replace
from itertools import count

from plumbline.scan.facts import (
    NO_TAINT,
    Call,
    Column,
    DataOp,
    Function,
    ModuleFacts,
    Route,
    Span,
    Table,
    Taint,
    TxnKind,
)
from plumbline.scan.schema import backend_hints as ddl_backend_hints
from plumbline.scan.schema import looks_like_ddl, tables_from_ddl
from plumbline.scan.sql import Ref, parse
from plumbline.scan.values import (
    UNKNOWN,
    ColumnRef,
    Query,
    Scope,
    Value,
    brace_format,
    concat,
    defused,
    hole,
    percent_format,
    position,
    text_of,
    union,
)

BUILTIN_NAMES = frozenset(dir(builtins))
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
ROUTE_DECORATORS = {"route", *HTTP_METHODS}
REQUEST_ATTRIBUTES = {
    "args", "form", "json", "values", "view_args", "headers", "cookies", "data", "files",
    "get_json", "get_data", "stream", "query_string", "environ",
}
SANITIZERS = {"int", "float", "bool", "abs", "len", "round", "Decimal", "UUID", "Identifier", "Literal",
              "quote_ident", "fromisoformat", "strptime", "date", "datetime", "hash", "ord"}
EXECUTE_METHODS = {"execute", "executemany", "exec_driver_sql", "execute_values", "scalar", "scalars", "query_one"}
RESULT_METHODS = {"fetchone", "fetchall", "fetchmany", "first", "one", "one_or_none", "all", "scalar", "scalars",
                  "scalar_one", "scalar_one_or_none", "mappings", "first_or_404", "one_or_404", "count", "exists",
                  "unique", "tuples", "paginate"}
AUTH_DECORATOR = re.compile(
    r"login_required|jwt_required|token_required|auth|requires?_(login|user|token|role|permission)|"
    r"roles?_(required|accepted)|permission|admin_required|protected|verify_jwt|signed_in", re.I)
IDENTITY_CALL = re.compile(
    r"(^|_)(current_user|current_identity|jwt_identity|get_jwt|get_user|authenticated_user|auth_user|"
    r"logged_in_user|whoami|get_identity|require_user|require_auth|authenticate|current_account|current_principal)",
    re.I)
IDENTITY_ATTRIBUTE = re.compile(r"user|identity|principal|owner|tenant|account|member|uid|customer", re.I)
RETRYABLE_ERROR = re.compile(
    r"SerializationFailure|TransactionRollbackError|OperationalError|DBAPIError|DeadlockDetected|"
    r"RetryError|TransientError|InternalError|StatementError|TransactionRetry", re.I)
RETRY_DECORATOR = re.compile(r"retry|backoff|on_exception|transactional", re.I)
UNAUTHORIZED = re.compile(r"\b40[13]\b|Unauthorized|Forbidden|login_manager|unauthorized")
SUPPRESSION = re.compile(r"#\s*plumbline:\s*ignore(?:\[([A-Za-z0-9_, -]+)\])?")
PATH_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)<]*\))?:)?(\w+)>")  # ([^)<]: linear on "<a(<a(<a(...")
MODEL_BASES = re.compile(r"(^|\.)(Model|Base|DeclarativeBase|DeclarativeBaseNoMeta|AbstractConcreteBase)$|Base$")
SHALLOW_DEPTH = 50  # expressions nested deeper than this are evaluated bottom-up (see FunctionVisitor.value)
# The innermost arms an op remembers: enough for real code, and no quadratic memory for thousands of
# `if ...: return` before thousands of ops. A forgotten arm only makes two ops look as if they can run together.
MAX_BRANCH = 64


def dotted(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain (calls in the chain are shown as `()`), else ''."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        else:
            return ""
    return ".".join(reversed(parts)).replace(".()", "()")


def last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def span(node: ast.AST) -> Span:
    return Span(getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, getattr(node, "end_lineno", None))


def _source(node: ast.AST) -> str:
    """`node` as Python source, for the searches for markers below (401, "version_id_col", Optional[...]).

    `ast.unparse` recurses: a node nested deeper than it can go is read as its names and constants."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return " ".join(_names_and_constants(node))


def _names_and_constants(node: ast.AST):
    for child in ast.walk(node):
        if isinstance(child, ast.Constant):
            yield str(child.value)
        else:
            yield from (value for _, value in ast.iter_fields(child) if isinstance(value, str))


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _strings(node: ast.AST | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return tuple(s for s in (_string(e) for e in node.elts) if s is not None)
    single = _string(node)
    return (single,) if single is not None else ()


def _exits(body: list[ast.stmt]) -> bool:
    """The block ends the handler: return, raise, abort(), continue/break."""
    for statement in body:
        if isinstance(statement, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
            return True
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            if last_name(statement.value.func) in ("abort", "abort_json", "fail", "error", "forbidden", "not_found"):
                return True
    return False


class ModuleContext:
    """What the function visitors share: imports, module-level constants, the module's facts."""

    def __init__(self, facts: ModuleFacts, tree: ast.Module) -> None:
        self.facts = facts
        self.imports: dict[str, str] = {}
        self.globals = Scope()
        self.ids = count(1)
        self.txn_ids = count(1)
        self.function_names: set[str] = set()
        self.flask_session = False
        self.exception_aliases: dict[str, tuple[str, ...]] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function_names.add(node.name)

    def resolve(self, name: str) -> str:
        head, _, rest = name.partition(".")
        qualified = self.imports.get(head)
        if qualified is None:
            return name
        return f"{qualified}.{rest}" if rest else qualified


class FunctionVisitor:
    """Walks one function body in order, producing its `Function` facts."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: ModuleContext, qualname: str,
                 parent: Scope | None, is_method: bool = False) -> None:
        self.node = node
        self.ctx = ctx
        args = node.args
        params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        if is_method and params and params[0] in ("self", "cls"):
            params = params[1:]
        if args.vararg:
            params.append(args.vararg.arg)
        if args.kwarg:
            params.append(args.kwarg.arg)
        self.function = Function(
            name=node.name, qualname=qualname, span=span(node), params=tuple(params),
            decorators=tuple(dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list),
        )
        self.scope = Scope(parent=parent or ctx.globals)
        for param in params:
            self.scope.names[param] = Value(taint=Taint(params=frozenset({param})))
        self.explicit: list[int] = []
        self.segment = next(ctx.txn_ids)
        self.begun = False
        self.retry_depth = 0
        self.handled: tuple[str, ...] = ()  # exceptions caught around the statement being walked
        self.checked: set[int] = set()
        self.owner_checked: set[int] = set()
        self.returns = NO_TAINT
        self.nested: list[Function] = []
        self.nested_qualnames: dict[str, str] = {}  # name -> qualname of the first nested function so named
        self.conn_names: set[str] = set()
        self.cursor_names: set[str] = set()  # DB-API cursors: their results are fetched from the cursor itself
        self.branch: list[tuple[int, int]] = []
        self.connection_depth = 0
        self.depth = 0  # expressions being evaluated inside one another (see `value`)
        self.evaluated: dict[ast.expr, Value] = {}  # operands evaluated ahead of their expression

    # ---- driving -------------------------------------------------------------------------------

    def run(self) -> list[Function]:
        function = self.function
        function.retries = any(RETRY_DECORATOR.search(d) for d in function.decorators)
        self.block(self.node.body)
        function.returns = self.returns
        function.checked_reads = frozenset(self.checked)
        function.owner_checked_reads = frozenset(self.owner_checked)
        function.identity_source = function.identity_source or self.returns.identity
        return [function, *self.nested]

    def block(self, statements: list[ast.stmt]) -> None:
        """Statements in order; after `if ...: return`, the rest of the block is that if's other arm."""
        depth = len(self.branch)
        for statement in statements:
            self.statement(statement)
            if isinstance(statement, ast.If) and not statement.orelse and _exits(statement.body):
                self.branch.append((self.branch_id(statement), 1))
        del self.branch[depth:]

    def branch_id(self, node: ast.AST) -> int:
        return node.lineno * 1000 + node.col_offset

    def arm(self, node: ast.AST, arm: int, statements: list[ast.stmt]) -> None:
        self.branch.append((self.branch_id(node), arm))
        self.block(statements)
        self.branch.pop()

    def statement(self, node: ast.stmt) -> None:
        method = getattr(self, f"stmt_{type(node).__name__}", None)
        if method is not None:
            method(node)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.value(child)

    # ---- statements ----------------------------------------------------------------------------

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        qualname = f"{self.function.qualname}.<locals>.{node.name}"
        visitor = FunctionVisitor(node, self.ctx, qualname, self.scope)
        for function in visitor.run():
            self.nested.append(function)
            self.nested_qualnames.setdefault(function.name, function.qualname)
        self.scope.names[node.name] = Value()

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_Assign(self, node: ast.Assign) -> None:
        value = self.value(node.value)
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
            if target.attr == "autocommit" and _is_true(getattr(node, "value", None)):
                self.function.autocommit = True
                self.ctx.facts.autocommit = True
            elif owner.instance_of:
                self.orm_write(owner, target.attr, value, node)
        elif isinstance(target, ast.Subscript):
            self.value(target.value)

    def stmt_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            value = self.value(node.value)
            self.returns = self.returns | value.taint
            if value.instance_of or value.items:
                self.returns = self.returns | union(value, *(value.items or ())).taint

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
            self.record_condition(self.value(link.test))
            before = self.txn_state()
            self.arm(link, 0, link.body)
            entered.append((link, before, self.txn_state()))
            self.restore_txn_state(before)
            self.branch.append((self.branch_id(link), 1))
        self.block(chain[-1].orelse)
        for link, before, after_body in reversed(entered):
            self.branch.pop()
            after_else = self.txn_state()
            # An arm that leaves the handler (return, raise, abort) does not reach what follows: its commit or
            # rollback does not end the transaction the code after the `if` runs in.
            if _exits(link.body):
                final = after_else
            elif link.orelse and _exits(link.orelse):
                final = after_body
            else:
                final = after_body if after_body != before else after_else
            self.restore_txn_state(final)
            self.allow_list(link)

    def txn_state(self) -> tuple[int, bool]:
        return self.segment, self.begun

    def restore_txn_state(self, state: tuple[int, bool]) -> None:
        self.segment, self.begun = state

    def record_condition(self, test: Value) -> None:
        taint = test.taint
        self.checked.update(taint.reads)
        if taint.identity and taint.reads:
            self.owner_checked.update(taint.reads)

    def allow_list(self, node: ast.If) -> None:
        """`if x not in ALLOWED: abort(...)` makes x safe to interpolate afterwards."""
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)):
            return
        container = self.value(test.comparators[0])
        if container.taint.client or not (container.constant or container.items is not None or container.fields):
            return
        if isinstance(test.ops[0], ast.NotIn) and _exits(node.body):
            current = self.scope.lookup(test.left.id) or UNKNOWN
            self.scope.names[test.left.id] = replace(current, taint=replace(current.taint, cast=True))

    def stmt_While(self, node: ast.While) -> None:
        self.value(node.test)
        self.loop(node)

    def stmt_For(self, node: ast.For) -> None:
        iterable = self.value(node.iter)
        self.assign(node.target, union(iterable), node)
        self.loop(node)

    stmt_AsyncFor = stmt_For

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
            if _exits(handler.body):
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
        if isinstance(context, ast.Call):
            name = last_name(context.func)
            if name in ("transaction", "begin", "begin_nested", "atomic"):
                return "transaction"
            if name in ("connection", "connect", "getconn", "get_connection", "get_db", "get_conn", "Session",
                        "session_scope", "cursor_scope"):
                return "connection"
            return None
        if isinstance(context, ast.Name) and context.id in self.conn_names | {"conn", "connection", "con"}:
            return "transaction"  # psycopg2: `with conn:` is one transaction
        return None

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
        self.begun = False
        self.segment = next(self.ctx.txn_ids)

    # ---- data operations -----------------------------------------------------------------------

    def add_op(self, node: ast.AST, **fields) -> DataOp:
        txn, kind = self.txn()
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
            op = self.add_op(node, api="sql", action="other", table=None, dynamic_sql=True,
                             interpolated=statement.taint or None)
            return Value(taint=Taint(reads=frozenset({op.id})))
        parsed = parse(statement.text)
        if parsed.action in ("begin", "commit", "rollback", "savepoint", "set"):
            if parsed.action == "begin":
                self.begun = True
                self.segment = next(self.ctx.txn_ids)
            elif parsed.action in ("commit", "rollback"):
                self.end_transaction()
            if parsed.isolation:
                self.ctx.facts.backend_hints.add(parsed.isolation)
            return UNKNOWN
        bind = self.binder(statement, parameters)
        interpolated = statement.interpolated
        op = self.add_op(
            node, api="sql", action=parsed.action if parsed.action != "ddl" else "other", table=parsed.table,
            statement=_display(statement.text),
            keys={column: bind(refs) for column, refs in parsed.keys.items()},
            guards=parsed.guards,
            writes={column: bind(refs) for column, refs in parsed.writes.items()},
            atomic=parsed.atomic, decrements=parsed.decrements, for_update=parsed.for_update,
            on_conflict=parsed.on_conflict,
            interpolated=interpolated if interpolated else None,
        )
        return Value(taint=Taint(reads=frozenset({op.id})))

    def binder(self, statement: Value, parameters: Value | None):
        positional = list(parameters.items) if parameters is not None and parameters.items is not None else []
        named = dict(parameters.fields or ()) if parameters is not None else {}
        whole = parameters or UNKNOWN

        def bind(refs: tuple[Ref, ...]) -> Taint:
            taint = NO_TAINT
            for ref in refs:
                if ref.kind == "hole":
                    index = int(ref.key)
                    taint = taint | (statement.holes[index] if index < len(statement.holes) else NO_TAINT)
                elif ref.kind == "param":
                    index = position(ref.key)
                    if index is not None:
                        item = positional[index] if index < len(positional) else (whole if not positional else UNKNOWN)
                    else:
                        item = named.get(ref.key, whole if not named else UNKNOWN)
                    taint = taint | union(item).taint
            return taint

        return bind

    def query_op(self, node: ast.AST, query: Query) -> Value:
        op = self.add_op(node, api="orm", action=query.action, table=query.model, keys=dict(query.keys),
                         guards=query.guards, writes=dict(query.writes), atomic=query.atomic,
                         for_update=query.for_update)
        return Value(taint=Taint(reads=frozenset({op.id})), instance_of=query.model if query.action == "read" else None)

    def orm_write(self, instance: Value, attribute: str, value: Value, node: ast.AST) -> None:
        if instance.created:
            return  # attributes of a new object are part of its INSERT
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
        result = self.evaluate(node)
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
        method = getattr(self, f"expr_{type(node).__name__}", None)
        if method is not None:
            return method(node)
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
        if name == "current_user" or name == "current_identity":
            return Value(taint=Taint(identity=True))
        return UNKNOWN

    def expr_JoinedStr(self, node: ast.JoinedStr) -> Value:
        parts = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(Value(text=defused(str(piece.value))))
            elif isinstance(piece, ast.FormattedValue):
                value = self.value(piece.value)
                taint = union(value).taint
                if piece.format_spec is not None and _numeric_spec(piece.format_spec):
                    taint = replace(taint, cast=True)
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
            self.assign(generator.target, union(self.value(generator.iter)), node)
            for condition in generator.ifs:
                self.value(condition)
        if isinstance(node, ast.DictComp):
            return union(self.value(node.key), self.value(node.value))
        return union(self.value(node.elt))

    expr_SetComp = expr_ListComp
    expr_GeneratorExp = expr_ListComp
    expr_DictComp = expr_ListComp

    def expr_Dict(self, node: ast.Dict) -> Value:
        fields = []
        values = []
        for key, item in zip(node.keys, node.values):
            value = self.value(item)
            values.append(value)
            name = _string(key)
            if name is not None:
                fields.append((name, value))
        merged = union(*values)
        return replace(merged, fields=tuple(fields), constant=all(v.constant for v in values))

    def expr_Subscript(self, node: ast.Subscript) -> Value:
        container = self.value(node.value)
        key = self.value(node.slice)
        label = _string(node.slice)
        if self.is_flask_session(node.value):
            return Value(taint=Taint(identity=True))
        request_source = self.request_source(node.value)
        if request_source:
            return Value(taint=Taint(client=frozenset({f"{request_source}[{label!r}]" if label else request_source})))
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
        request_source = self.request_source(node)
        if request_source:
            return Value(taint=Taint(client=frozenset({request_source})))
        base = node.value
        if isinstance(base, ast.Name) and base.id == "g" and self.scope.lookup("g") is None:
            if IDENTITY_ATTRIBUTE.search(node.attr):
                return Value(taint=Taint(identity=True))
            return UNKNOWN
        owner = self.value(base)
        if node.attr == "query" and self.looks_like_model(base):
            return Value(query=Query(model=last_name(base)))
        if node.attr == "c" and owner.column is None:
            return replace(owner, column=None)
        if self.looks_like_model(base) and not owner.taint:
            return Value(column=ColumnRef(last_name(base), node.attr))
        if isinstance(base, ast.Attribute) and base.attr == "c":
            return Value(column=ColumnRef(last_name(base.value), node.attr))
        if owner.instance_of:
            return Value(taint=owner.taint)
        if owner.constant:
            return Value(constant=True)
        return Value(taint=owner.taint, query=owner.query)

    def expr_Call(self, node: ast.Call) -> Value:
        func = node.func
        name = last_name(func)
        qualified = self.ctx.resolve(dotted(func))
        receiver = self.value(func.value) if isinstance(func, ast.Attribute) else None
        arguments = [self.value(arg) for arg in node.args]
        keywords = {kw.arg: self.value(kw.value) for kw in node.keywords if kw.arg}
        for kw in node.keywords:
            if kw.arg is None:
                arguments.append(self.value(kw.value))

        request_source = self.request_source(node)
        if request_source:
            return Value(taint=Taint(client=frozenset({request_source})))
        if receiver is not None and name in ("get", "getlist", "pop", "setdefault") and self.request_source(func.value):
            label = _string(node.args[0]) if node.args else None
            source = self.request_source(func.value)
            return Value(taint=Taint(client=frozenset({f"{source}[{label!r}]" if label else source})))
        if self.is_flask_session(func.value if isinstance(func, ast.Attribute) else None) and name == "get":
            return Value(taint=Taint(identity=True))
        if IDENTITY_CALL.search(name) and name not in self.function.params:
            self.function.authenticated = True
            return Value(taint=Taint(identity=True))
        if name in SANITIZERS and arguments:
            merged = union(*arguments)
            return Value(taint=replace(merged.taint, cast=True))
        if name in ("abort", "abort_json") and node.args and UNAUTHORIZED.search(_source(node.args[0])):
            self.function.authenticated = True

        if name in ("commit", "rollback") and not arguments:
            self.end_transaction()
            return UNKNOWN
        if name in EXECUTE_METHODS and arguments and receiver is not None:
            parameters = arguments[1] if len(arguments) > 1 else (keywords.get("parameters") or keywords.get("params")
                                                                  or keywords.get("vars"))
            if parameters is None and keywords and arguments[0].text is not None:
                parameters = Value(fields=tuple(keywords.items()))
            result = self.sql_op(node, arguments[0], parameters)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    func.value.id in self.cursor_names:
                self.scope.names[func.value.id] = result  # cur.fetchone() now returns this statement's rows
            return result
        if name in ("text", "TextClause", "literal_column") and arguments:
            return arguments[0]
        if name in ("bindparams", "columns") and receiver is not None and receiver.text is not None:
            return receiver  # text("... :code").bindparams(code=code): the values are bound, the text unchanged
        if name in ("SQL", "Composed") and arguments and arguments[0].text is not None:
            return replace(arguments[0], safe_text=True)
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

        if name in ("add", "add_all", "merge") and receiver is not None and arguments:
            objects = arguments[0].items if name == "add_all" and arguments[0].items is not None else arguments[:1]
            for created in (o for o in objects if o.created and o.instance_of):
                self.add_op(node, api="orm", action="insert", table=created.instance_of,
                            writes={k: union(v).taint for k, v in created.fields or ()})
            if any(o.created for o in objects):
                return UNKNOWN
        if name == "delete" and receiver is not None and arguments and arguments[0].instance_of:
            self.add_op(node, api="orm", action="delete", table=arguments[0].instance_of,
                        keys={"<loaded>": arguments[0].taint})
            return UNKNOWN
        orm = self.orm_call(node, name, receiver, arguments, keywords)
        if orm is not None:
            return orm
        if name in RESULT_METHODS and receiver is not None:
            if receiver.query is not None:
                return self.query_op(node, receiver.query)
            return receiver
        if receiver is not None and name in ("get", "copy", "items", "values", "keys", "strip", "lower", "upper",
                                             "split", "encode", "decode", "replace", "title", "lstrip", "rstrip"):
            return Value(taint=union(receiver, *arguments).taint, instance_of=None)
        if receiver is not None and receiver.instance_of and name in ("to_dict", "serialize", "as_dict"):
            return Value(taint=receiver.taint)

        # A class called by name: a model imported from the models module is constructed here as well as one
        # defined in this file (only a created object added to a session becomes an INSERT).
        if name[:1].isupper() and isinstance(func, ast.Name) and not name.isupper() and \
                name not in self.ctx.function_names:
            return Value(instance_of=name, created=True, taint=union(*arguments, *keywords.values()).taint,
                         fields=tuple(keywords.items()))
        if receiver is not None and receiver.created and receiver.instance_of and isinstance(func, ast.Attribute):
            # A method of an object built from a class here (accounts = AccountService(db)): Class.method.
            return self.project_call(node, f"{receiver.instance_of}.{func.attr}", arguments, keywords, receiver,
                                     method=True)
        return self.project_call(node, qualified or name, arguments, keywords, receiver)

    def project_call(self, node: ast.Call, name: str, arguments: list[Value], keywords: dict[str, Value],
                     receiver: Value | None, *, method: bool = False) -> Value:
        derived = union(*arguments, *keywords.values(), *([receiver] if receiver else []))
        if not method and not self.may_be_project_function(node.func):
            return derived
        txn, kind = self.txn()
        passed = {}
        for index, arg in enumerate(node.args):
            if isinstance(arg, (ast.Name, ast.Attribute)):
                passed[str(index)] = dotted(arg)
            elif isinstance(arg, ast.Lambda):
                passed[str(index)] = "<lambda>"
        for kw in node.keywords:
            if kw.arg and isinstance(kw.value, (ast.Name, ast.Attribute)):
                passed[kw.arg] = dotted(kw.value)
        call_id = next(self.ctx.ids)
        arguments_by_key = {str(i): union(v).taint for i, v in enumerate(arguments)}
        arguments_by_key.update({k: union(v).taint for k, v in keywords.items()})
        self.function.calls.append(Call(
            name=name, span=span(node), arguments=arguments_by_key, txn=txn, txn_kind=kind,
            retried=self.retry_depth > 0 or self.function.retries, result_id=call_id,
            callables={k: self.qualify(v) for k, v in passed.items()},
        ))
        return Value(taint=derived.taint | Taint(reads=frozenset({call_id})))

    def may_be_project_function(self, func: ast.expr) -> bool:
        """A call the project stage could resolve: a plain name, or a function of a module or of self/cls.

        Method calls on arbitrary objects (data.get(), rows.append()) can never be resolved to one
        definition, and recording them would only cost memory and risk a wrong match by name."""
        if isinstance(func, ast.Name):
            return func.id not in BUILTIN_NAMES and not isinstance(self.scope.lookup(func.id), Value) or \
                func.id in self.ctx.function_names
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id in ("self", "cls") or func.value.id in self.ctx.imports
        return False

    def qualify(self, name: str) -> str:
        """A function name as the project stage will look it up: nested functions get their qualname."""
        return self.nested_qualnames.get(name) or self.ctx.resolve(name)

    def orm_call(self, node: ast.Call, name: str, receiver: Value | None, arguments: list[Value],
                 keywords: dict[str, Value]) -> Value | None:
        func = node.func
        if name in ("select", "update", "insert", "delete") and node.args and not isinstance(func, ast.Attribute) \
                or name in ("select", "update", "insert", "delete") and isinstance(func, ast.Attribute) and \
                dotted(func.value) in ("sa", "sqlalchemy", "db"):
            target = node.args[0] if node.args else None
            model = last_name(target) if target is not None else ""
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and \
                    target.value.attr == "c":
                model = last_name(target.value.value)  # select(items.c.quantity): a Core table's column
            elif isinstance(target, ast.Attribute) and not self.looks_like_model(target):
                model = last_name(target.value) if self.looks_like_model(target.value) else model
            if not model:
                return None
            return Value(query=Query(model=model, action={"select": "read"}.get(name, name)))
        if receiver is None:
            return None
        query = receiver.query
        if name == "query" and node.args and isinstance(func, ast.Attribute):
            target = node.args[0]
            model = last_name(target.value) if isinstance(target, ast.Attribute) and self.looks_like_model(
                target.value) else last_name(target)
            return Value(query=Query(model=model))
        if name in ("get", "get_or_404", "get_one") and len(node.args) >= 2 and self.looks_like_model(node.args[0]):
            model = last_name(node.args[0])
            for_update = _is_true(_kwarg(node, "with_for_update")) or _kwarg(node, "with_for_update") is not None
            query = Query(model=model, keys=(("id", union(arguments[1]).taint),),
                          for_update=for_update)
            return self.query_op(node, query)
        if query is None:
            return None
        if name == "filter_by":
            return Value(query=query.adding(keys=tuple((k, union(v).taint) for k, v in keywords.items())))
        if name in ("filter", "where"):
            keys, guards = [], []
            for argument_node in node.args:
                self.predicate(argument_node, keys, guards)
            return Value(query=query.adding(keys=tuple(keys), guards=tuple(guards)))
        if name in ("on_conflict_do_nothing", "on_conflict_do_update") and query.action == "insert":
            return Value(query=replace(query, action="upsert"))  # postgresql.insert(...).on_conflict_do_...()
        if name in ("with_for_update", "with_lockmode", "populate_existing"):
            return Value(query=replace(query, for_update=query.for_update or name != "populate_existing"))
        if name in ("get", "get_or_404") and arguments:
            keyed = query.adding(keys=(("id", union(arguments[0]).taint),))
            return self.query_op(node, keyed)
        if name == "values" or (name == "update" and query.action == "read" and arguments):
            source = arguments[0] if arguments else Value(fields=tuple(keywords.items()))
            items = source.fields if source.fields is not None else tuple(keywords.items())
            writes, atomic = [], []
            for column, value in items:
                if any(c.column == column for c in value.expression_columns):
                    atomic.append(column)
                else:
                    writes.append((column, union(value).taint))
            action = "update" if name == "update" else query.action
            updated = replace(query.adding(writes=tuple(writes), atomic=tuple(atomic)), action=action)
            return self.query_op(node, updated) if name == "update" else Value(query=updated)
        if name == "delete" and query.action == "read":
            return self.query_op(node, replace(query, action="delete"))
        if name in ("order_by", "limit", "offset", "options", "join", "outerjoin", "distinct", "returning",
                    "execution_options", "group_by", "having", "select_from", "correlate", "load_only"):
            return Value(query=query)
        return None

    def predicate(self, node: ast.expr, keys: list, guards: list) -> None:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                self.predicate(value, keys, guards)
            return
        if isinstance(node, ast.Call) and last_name(node.func) in ("and_",):
            for value in node.args:
                self.predicate(value, keys, guards)
            return
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self.value(node.left), self.value(node.comparators[0])
            column, other = (left.column, right) if left.column else (right.column, left)
            if column is not None and isinstance(node.ops[0], (ast.Eq, ast.In, ast.Is)) and other.column is None:
                keys.append((column.column, union(other).taint))
                return
            if column is not None:
                guards.append(column.column)
                return
        self.value(node)

    # ---- sources -------------------------------------------------------------------------------

    def request_source(self, node: ast.AST | None) -> str:
        """'request.json' for request.json / request.get_json() / request.args..., else ''."""
        if node is None:
            return ""
        if isinstance(node, ast.Call):
            node = node.func
        if not isinstance(node, ast.Attribute) or node.attr not in REQUEST_ATTRIBUTES:
            return ""
        base = node.value
        if isinstance(base, ast.Name) and base.id == "request" and self.scope.lookup("request") is None:
            return f"request.{node.attr.removeprefix('get_')}"
        if isinstance(base, ast.Attribute) and base.attr == "request" and dotted(base.value) == "flask":
            return f"request.{node.attr}"
        return ""

    def is_flask_session(self, node: ast.AST | None) -> bool:
        return isinstance(node, ast.Name) and node.id == "session" and self.ctx.flask_session

    def looks_like_model(self, node: ast.AST) -> bool:
        name = last_name(node)
        return bool(name) and name[:1].isupper() and self.scope.lookup(name) is None and not name.isupper()


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


def _numeric_spec(spec: ast.JoinedStr) -> bool:
    text = "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return bool(text) and text[-1] in "dfeEgGxXob%"


def _display(text: str) -> str:
    return re.sub(r"__pl_hole_\d+__", "{…}", " ".join(text.split()))


def _exception_names(node: ast.AST | None, aliases: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if node is None:
        return ("Exception",)
    if isinstance(node, ast.Tuple):
        return tuple(name for element in node.elts for name in _exception_names(element, aliases))
    name = last_name(node)
    return aliases.get(name, (name,)) if isinstance(node, ast.Name) else (name,)


def _contains_retry(loop: ast.For | ast.While, aliases: dict[str, tuple[str, ...]]) -> bool:
    """The loop retries on serialization failures: a handler catching them, 40001, or the restart savepoint."""
    for node in ast.walk(loop):
        if isinstance(node, ast.ExceptHandler):
            names = " ".join(_exception_names(node.type, aliases))
            handler_text = _source(node)
            if RETRYABLE_ERROR.search(names) or "40001" in handler_text or "restart transaction" in handler_text:
                return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "cockroach_restart" in node.value:
            return True
    return False


# ---- module level ------------------------------------------------------------------------------------


def extract(tree: ast.Module, source: str, path: str, module: str) -> ModuleFacts:
    facts = ModuleFacts(path=path, module=module)
    ctx = ModuleContext(facts, tree)
    _module_scan(tree, ctx, module)
    _suppressions(source, facts)
    routes_by_class: dict[str, list[Route]] = {}
    before_request_auth: set[str] = set()
    for node in tree.body:
        _top_level(node, ctx, routes_by_class, before_request_auth)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _function(node, ctx, node.name, routes_by_class, before_request_auth)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    _function(item, ctx, f"{node.name}.{item.name}", routes_by_class, before_request_auth,
                              owner=node)
    return facts


def _module_scan(tree: ast.Module, ctx: ModuleContext, module: str) -> None:
    """Imports, backend hints, DDL strings, migrations, autocommit settings, auth decorators."""
    facts = ctx.facts
    package = module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                ctx.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
                _import_hint(alias.name, facts)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - node.level + 1] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                ctx.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
                if base == "flask" and alias.name == "session":
                    ctx.flask_session = True
            _import_hint(base, facts)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                _string_hint(node, facts)
            elif node.value == 26257:
                facts.backend_hints.add("cockroachdb")
        elif isinstance(node, ast.keyword) and node.arg == "autocommit" and _is_true(node.value):
            facts.autocommit = True
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if _string(key) == "autocommit" and _is_true(value):
                    facts.autocommit = True
        elif isinstance(node, ast.Call):
            _migration(node, ctx)
            if last_name(node.func) == "set_isolation_level" and node.args and "AUTOCOMMIT" in _source(node.args[0]):
                facts.autocommit = True
            if _string(_kwarg(node, "isolation_level")) == "AUTOCOMMIT":
                facts.autocommit = True
            if last_name(node.func) == "Table" and len(node.args) >= 2 and _string(node.args[0]):
                facts.tables.append(_core_table(node, facts.path))
        elif isinstance(node, ast.ClassDef):
            table = _model(node, facts.path)
            if table is not None:
                facts.tables.append(table)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _answers_unauthorized(node):
            facts.auth_decorators.add(node.name)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Tuple) and node.value.elts \
                and all(isinstance(e, (ast.Name, ast.Attribute)) for e in node.value.elts):
            ctx.exception_aliases[node.targets[0].id] = tuple(last_name(e) for e in node.value.elts)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            visitor = FunctionVisitor(ast.FunctionDef(name="<module>", args=ast.arguments(
                posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=[], decorator_list=[]),
                ctx, "<module>", ctx.globals)
            value = visitor.value(node.value)
            ctx.globals.names[node.targets[0].id] = replace(value, constant=value.constant or not value.taint)


def _import_hint(name: str, facts: ModuleFacts) -> None:
    if "cockroach" in name:
        facts.backend_hints.add("cockroachdb")


def _string_hint(node: ast.Constant, facts: ModuleFacts) -> None:
    text = node.value
    lowered = text[:300].lower()
    if (any(mark in lowered for mark in ("cockroachdb://", ":26257", "cockroachdb+", ".cockroachlabs.cloud"))
            or lowered.strip() in ("26257", "cockroachdb")):  # a host, a port given as a string, a dialect name
        facts.backend_hints.add("cockroachdb")
    elif lowered.startswith(("postgresql://", "postgres://", "postgresql+")):
        facts.backend_hints.add("postgres")
    if len(text) > 20 and looks_like_ddl(text):
        facts.tables.extend(tables_from_ddl(text, facts.path, first_line=node.lineno))
        facts.backend_hints |= ddl_backend_hints(text)


def _answers_unauthorized(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A decorator defined here whose wrapper refuses with 401/403."""
    has_wrapper = any(isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) for child in node.body)
    return has_wrapper and bool(UNAUTHORIZED.search(_source(node)))


def _suppressions(source: str, facts: ModuleFacts) -> None:
    if "plumbline:" not in source:
        return
    for number, line in enumerate(source.splitlines(), start=1):
        match = SUPPRESSION.search(line)
        if match:
            rules = match.group(1)
            facts.suppressions[number] = frozenset(r.strip().upper() for r in rules.split(",")) if rules else \
                frozenset({"*"})


ALL_METHODS = tuple(m.upper() for m in HTTP_METHODS)


def _top_level(node: ast.stmt, ctx: ModuleContext, routes_by_class: dict, before_request_auth: set) -> None:
    """Class-based and `add_url_rule` registrations, and `before_request` auth hooks."""
    if isinstance(node, ast.ClassDef):
        for decorator in node.decorator_list:  # flask-smorest, Flask-RESTX: @blp.route("/pets/<pet_id>") on a class
            if isinstance(decorator, ast.Call) and last_name(decorator.func) == "route" and decorator.args:
                rule = _string(decorator.args[0])
                if rule is not None:
                    routes_by_class.setdefault(node.name, []).append(Route(rule, ALL_METHODS, _path_params(rule)))
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        if last_name(call.func) == "add_resource" and call.args:  # Flask-RESTful: api.add_resource(Item, "/items/<id>")
            for rule in (r for r in map(_string, call.args[1:]) if r is not None):
                routes_by_class.setdefault(last_name(call.args[0]), []).append(
                    Route(rule, ALL_METHODS, _path_params(rule)))
            continue
        if last_name(call.func) != "add_url_rule" or not call.args:
            continue
        rule = _string(call.args[0])
        view = _kwarg(call, "view_func") or (call.args[2] if len(call.args) > 2 else None)
        if rule is None or view is None:
            continue
        methods = tuple(m.upper() for m in _strings(_kwarg(call, "methods"))) or ("GET",)
        target = last_name(view.func.value) if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) \
            and view.func.attr == "as_view" else last_name(view)
        routes_by_class.setdefault(target, []).append(Route(rule, methods, _path_params(rule)))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for decorator in node.decorator_list:
            name = dotted(decorator.func if isinstance(decorator, ast.Call) else decorator)
            if name.endswith(("before_request", "before_app_request")) and (
                    AUTH_DECORATOR.search(_source(node)) or UNAUTHORIZED.search(_source(node))):
                before_request_auth.add(name.rsplit(".", 1)[0])


def _path_params(rule: str) -> tuple[str, ...]:
    return tuple(match.group(2) for match in PATH_PARAMETER.finditer(rule))


def _function(node, ctx: ModuleContext, qualname: str, routes_by_class: dict, before_request_auth: set,
              owner: ast.ClassDef | None = None) -> None:
    visitor = FunctionVisitor(node, ctx, qualname, None, is_method=owner is not None)
    function = visitor.function
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = decorator.func if call else decorator
        if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS and call and call.args:
            rule = _string(call.args[0])
            if rule is None:
                continue
            methods = (target.attr.upper(),) if target.attr != "route" else tuple(
                m.upper() for m in _strings(_kwarg(call, "methods"))) or ("GET",)
            function.routes.append(Route(rule, methods, _path_params(rule)))
            if dotted(target.value) in before_request_auth:
                function.authenticated = True
    if owner is not None and node.name in (*HTTP_METHODS, "dispatch_request"):
        for route in routes_by_class.get(owner.name, []):
            method = node.name.upper()
            if node.name == "dispatch_request" or method in route.methods or route.methods == ("GET",):
                function.routes.append(Route(route.rule, (method,) if node.name != "dispatch_request" else
                                             route.methods, route.path_params))
        class_decorators = _class_decorators(owner)
        function.decorators = function.decorators + class_decorators
    elif node.name in routes_by_class:
        function.routes.extend(routes_by_class[node.name])
    if any(AUTH_DECORATOR.search(d) for d in function.decorators):
        function.authenticated = True
    _runner_params(node, function, ctx.exception_aliases)
    ctx.facts.functions.extend(visitor.run())


def _class_decorators(node: ast.ClassDef) -> tuple[str, ...]:
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("decorators", "method_decorators")
                                                for t in item.targets):
            if isinstance(item.value, (ast.List, ast.Tuple)):
                return tuple(dotted(e.func if isinstance(e, ast.Call) else e) for e in item.value.elts)
    return ()


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
        opens = any(isinstance(i.context_expr, ast.Call) and last_name(i.context_expr.func) in
                    ("transaction", "begin", "begin_nested", "atomic") for i in statement.items)
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


def _migration(call: ast.Call, ctx: ModuleContext) -> None:
    """Alembic `op.*` calls describe the schema too."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "op"):
        return
    path, line = ctx.facts.path, call.lineno
    args = call.args
    name = func.attr
    table_name = _string(args[1]) if name in ("create_unique_constraint", "create_check_constraint",
                                              "create_foreign_key", "create_index") and len(args) > 1 else None
    if name == "create_table" and args and _string(args[0]):
        ctx.facts.tables.append(_core_table(call, path))
    elif name == "add_column" and len(args) >= 2 and _string(args[0]) and isinstance(args[1], ast.Call):
        table = Table(_string(args[0]).lower(), path, Span(line))
        column = _column_call(args[1], None, line)
        if column is not None:
            table.columns[column.name] = column
            ctx.facts.tables.append(table)
    elif name == "alter_column" and len(args) >= 2 and _string(args[0]) and _string(args[1]):
        nullable = _kwarg(call, "nullable")
        if isinstance(nullable, ast.Constant) and nullable.value is False:
            table = Table(_string(args[0]).lower(), path, Span(line))
            table.columns[_string(args[1]).lower()] = Column(_string(args[1]).lower(), nullable=False, declared=False)
            ctx.facts.tables.append(table)
    elif name == "create_unique_constraint" and table_name and len(args) > 2:
        ctx.facts.tables.append(Table(table_name.lower(), path, Span(line),
                                      unique_sets=[tuple(c.lower() for c in _strings(args[2]))]))
    elif name == "create_index" and table_name and len(args) > 2 and _is_true(_kwarg(call, "unique")):
        ctx.facts.tables.append(Table(table_name.lower(), path, Span(line),
                                      unique_sets=[tuple(c.lower() for c in _strings(args[2]))]))
    elif name == "create_check_constraint" and table_name and len(args) > 2:
        table = Table(table_name.lower(), path, Span(line))
        for column in re.findall(r"[A-Za-z_]\w*", _string(args[2]) or ""):
            table.columns[column.lower()] = Column(column.lower(), check=True, declared=False)
        ctx.facts.tables.append(table)
    elif name == "create_foreign_key" and table_name and len(args) > 3 and _string(args[2]):
        table = Table(table_name.lower(), path, Span(line))
        for column in _strings(args[3]):
            table.columns[column.lower()] = Column(column.lower(), references=f"{_string(args[2]).lower()}.id",
                                                   declared=False)
        ctx.facts.tables.append(table)
    elif name == "execute" and args and _string(args[0]):
        ctx.facts.tables.extend(tables_from_ddl(_string(args[0]), path, first_line=line))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _model(node: ast.ClassDef, path: str) -> Table | None:
    """An SQLAlchemy / Flask-SQLAlchemy declarative model, or None when the class is not one."""
    bases = [dotted(base) for base in node.bases]
    tablename = None
    has_columns = False
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__tablename__"
                                                for t in item.targets):
            tablename = _string(item.value)
        value = item.value if isinstance(item, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Call) and last_name(value.func) in ("Column", "mapped_column"):
            has_columns = True
    if not has_columns and tablename is None:
        return None
    if not (tablename or any(MODEL_BASES.search(b) for b in bases)):
        return None
    table = Table(name=(tablename or _snake(node.name)).lower(), path=path, span=span(node), model=node.name,
                  defined=True)
    table_args = None
    for item in node.body:
        if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
            target, annotation, value = item.targets[0].id, None, item.value
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            target, annotation, value = item.target.id, item.annotation, item.value
        else:
            continue
        if target == "__table_args__":
            table_args = value  # applied once every column is known: it may come first in the class body
        elif target == "__mapper_args__" and "version_id_col" in _source(value):
            table.versioned = True
        elif isinstance(value, ast.Call) and last_name(value.func) in ("Column", "mapped_column"):
            column = _column_call(value, target, item.lineno, annotation)
            if column is not None:
                table.columns[column.name] = column
        elif value is None and annotation is not None and "Mapped" in _source(annotation) and \
                "relationship" not in _source(annotation):
            mapped = _source(annotation)
            if re.search(r"Mapped\[\s*(List|list|Set|set)\b", mapped):
                continue
            table.columns[target.lower()] = Column(target.lower(), nullable=_optional(mapped), span=Span(item.lineno))
    _table_args(table_args, table)
    return table


def _optional(annotation: str) -> bool:
    return bool(re.search(r"Optional\[|\|\s*None|None\s*\|", annotation))


def _column_call(call: ast.Call, attribute: str | None, line: int, annotation: ast.expr | None = None) -> Column | None:
    name = attribute
    type_name = None
    references = None
    check = False
    for arg in call.args:
        if _string(arg) is not None and name is None or (_string(arg) and attribute and arg is call.args[0]):
            name = _string(arg)
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "ForeignKey" and arg.args:
            target = _string(arg.args[0]) or _source(arg.args[0])
            references = target.lower()
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "CheckConstraint":
            check = True
        elif type_name is None and isinstance(arg, (ast.Name, ast.Attribute, ast.Call)):
            type_name = last_name(arg)
    if name is None:
        return None
    primary_key = _is_true(_kwarg(call, "primary_key"))
    nullable_node = _kwarg(call, "nullable")
    if isinstance(nullable_node, ast.Constant) and isinstance(nullable_node.value, bool):
        nullable = nullable_node.value
    elif annotation is not None and last_name(call.func) == "mapped_column":
        nullable = _optional(_source(annotation))
    else:
        nullable = not primary_key
    return Column(
        name=name.lower(), type=type_name, nullable=nullable and not primary_key,
        unique=_is_true(_kwarg(call, "unique")) or (_is_true(_kwarg(call, "index")) and _is_true(_kwarg(call, "unique"))),
        primary_key=primary_key, references=references, check=check, span=Span(line),
    )


def _table_args(value: ast.expr | None, table: Table) -> None:
    elements = value.elts if isinstance(value, (ast.Tuple, ast.List)) else []
    for element in elements:
        if not isinstance(element, ast.Call):
            continue
        kind = last_name(element.func)
        if kind in ("UniqueConstraint", "PrimaryKeyConstraint"):
            table.unique_sets.append(tuple(c.lower() for c in (_string(a) or last_name(a) for a in element.args) if c))
        elif kind == "Index" and _is_true(_kwarg(element, "unique")):
            columns = tuple(c.lower() for c in (_string(a) or last_name(a) for a in element.args[1:]) if c)
            table.unique_sets.append(columns)
        elif kind == "CheckConstraint" and element.args:
            for column in re.findall(r"[A-Za-z_]\w*", _string(element.args[0]) or _source(element.args[0])):
                if column.lower() in table.columns:
                    table.columns[column.lower()].check = True
        elif kind == "ForeignKeyConstraint" and len(element.args) >= 2:
            for column, target in zip(_strings(element.args[0]), _strings(element.args[1])):
                table.columns.setdefault(column.lower(), Column(column.lower(), declared=False)).references = \
                    target.lower()


def _core_table(call: ast.Call, path: str) -> Table:
    """`Table("users", metadata, Column(...), ...)` and alembic `op.create_table("users", sa.Column(...))`."""
    table = Table(_string(call.args[0]).lower(), path, span(call), defined=True)
    for arg in call.args[1:]:
        if isinstance(arg, ast.Call) and last_name(arg.func) == "Column":
            column = _column_call(arg, None, arg.lineno)
            if column is not None:
                table.columns[column.name] = column
    _table_args(ast.Tuple(elts=[a for a in call.args[1:] if isinstance(a, ast.Call)]), table)
    return table
