"""SQL text -> what a statement reads, writes, locks and filters on, with sqlglot.

Parameters are numbered in text order whatever the driver's style (`%s`, `%(name)s`, `:name`,
`$1`, `?`), so a predicate can be tied to the Python value passed for it. Text interpolated by
Python formatting arrives as holes (`__pl_hole_N__`) so that it can be tied to its value too.
CockroachDB extensions that sqlglot does not know (`UPSERT`, `AS OF SYSTEM TIME`, `INTERLEAVE`)
are normalised away first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count


class _Expressions:
    """sqlglot's expression classes (`exp.Column`), imported when first used: most code bases never hand a
    statement to sqlglot, and importing it costs about a tenth of a second at every start."""

    def __getattr__(self, name: str):
        from sqlglot import expressions

        self.__dict__.update(vars(expressions))  # from now on, plain attributes
        return getattr(expressions, name)


exp = _Expressions()

HOLE = "__pl_hole_{}__"
HOLE_RE = re.compile(r"__pl_hole_(\d+)__")

_TXN_CONTROL = re.compile(
    r"^\s*(?P<verb>begin|start\s+transaction|commit|end|rollback|savepoint|release|set|show)\b(?P<rest>.*)$",
    re.I | re.S,
)
# A quote or parenthesis left open runs to the end of the text: matching stays linear in hostile text.
_COCKROACH_ONLY = [
    (re.compile(r"\bAS\s+OF\s+SYSTEM\s+TIME\s+('[^']*(?:''[^']*)*(?:'|\Z)|[^\s;]+(?:\([^)]*(?:\)|\Z))?)", re.I), ""),
    (re.compile(r"\bINTERLEAVE\s+IN\s+PARENT\s+\w+\s*\([^)]*(?:\)|\Z)", re.I), ""),
]
_UPSERT = re.compile(r"^\s*UPSERT\s+INTO\b", re.I)
_DDL = re.compile(r"\s*(?:create|alter|drop)\b", re.I)
# Placeholders outside quoted strings: %(name)s, %s, $1, ?, :name (but not ::type casts).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|%\((\w+)\)s|%s|%%|\$(\d{1,6})(?!\d)|\?|(?<![:\w]):(\w+)", re.S)


@dataclass(frozen=True)
class Ref:
    """What a position in the statement holds: a bound parameter, an interpolated hole, or a constant."""

    kind: str  # "param" | "hole" | "const" | "expr"
    key: str = ""  # parameter position ("0", "1"…) or name; hole number


@dataclass(frozen=True)
class ParsedSql:
    action: str  # read insert update delete upsert | begin commit rollback savepoint set | ddl other
    table: str | None = None
    keys: dict[str, tuple[Ref, ...]] = field(default_factory=dict)
    guards: tuple[str, ...] = ()
    writes: dict[str, tuple[Ref, ...]] = field(default_factory=dict)
    atomic: tuple[str, ...] = ()
    decrements: tuple[str, ...] = ()  # atomic columns set to themselves minus something
    moved: tuple[str, ...] = ()  # atomic columns moved by an amount that is not a literal (`x = x + :delta`)
    for_update: bool = False
    on_conflict: bool = False
    isolation: str | None = None
    error: str | None = None


def normalise(text: str) -> tuple[str, bool]:
    """Placeholders renamed to :__pN in text order; CockroachDB-only syntax removed. Returns (sql, upsert)."""
    counter = count()

    def rename(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith(("'", '"')):
            return token
        if token == "%%":
            return "%"
        if match.group(1):
            return f":{match.group(1)}"
        if match.group(2):
            return f":__p{int(match.group(2)) - 1}"
        if match.group(3):
            return token
        return f":__p{next(counter)}"

    sql = _TOKENS.sub(rename, text)
    for pattern, replacement in _COCKROACH_ONLY:
        sql = pattern.sub(replacement, sql)
    upsert = bool(_UPSERT.match(sql))
    if upsert:
        sql = _UPSERT.sub("INSERT INTO", sql, count=1)
    return sql, upsert


@lru_cache(maxsize=4096)
def parse(text: str) -> ParsedSql:
    """Parse one statement. Never raises: an unparsable statement has `error` set."""
    control = _TXN_CONTROL.match(text)
    if control:
        return _control(control.group("verb").lower(), control.group("rest"))
    if _DDL.match(text):
        return ParsedSql(action="ddl")  # reads and writes no rows; its schema facts come from schema.tables_from_ddl
    sql, upsert = normalise(text)
    tree = syntax_tree(sql)
    if isinstance(tree, str):
        return ParsedSql(action="other", table=_guess_table(text), error=tree)
    return _facts(tree, upsert)


# sqlglot parses and prints SQL recursively, and has bugs of its own on some hostile text (a TypeError on odd
# DDL, an IndexError printing an odd literal): whatever it raises only means that it did not understand.

def syntax_tree(sql: str) -> exp.Expression | str:
    """sqlglot's tree of one PostgreSQL statement, or why there is none."""
    import sqlglot  # (see _Expressions)

    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except Exception as exc:  # noqa: BLE001 - see above
        return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return tree if tree is not None else "empty statement"


def printed(node: exp.Expression) -> str | None:
    """`node` as SQL text, or None when sqlglot cannot print it."""
    try:
        return node.sql()
    except Exception:  # noqa: BLE001 - see above
        return None


def _control(verb: str, rest: str) -> ParsedSql:
    verb = verb.split()[0]
    if verb in ("begin", "start"):
        return ParsedSql(action="begin", isolation=_isolation(rest))
    if verb in ("commit", "end"):
        return ParsedSql(action="commit")
    if verb == "rollback":
        return ParsedSql(action="rollback" if "savepoint" not in rest.lower() else "savepoint")
    if verb in ("savepoint", "release"):
        return ParsedSql(action="savepoint")
    return ParsedSql(action="set", isolation=_isolation(rest))


def _isolation(text: str) -> str | None:
    match = re.search(r"isolation\s+level\s+(serializable|repeatable\s+read|read\s+committed)", text, re.I)
    if match:
        return " ".join(match.group(1).lower().split())
    match = re.search(r"default_transaction_isolation\s*(?:=|to)\s*'?([a-z ]+)'?", text, re.I)
    return " ".join(match.group(1).lower().split()) if match else None


def _guess_table(text: str) -> str | None:
    match = re.search(r"\b(?:from|into|update|join)\s+([A-Za-z_][\w.]*)", text, re.I)
    return _name(match.group(1)) if match else None


def _name(qualified: str) -> str:
    return qualified.split(".")[-1].strip('"').lower()


def _table_of(node: exp.Expression | None) -> str | None:
    table = node.find(exp.Table) if isinstance(node, exp.Expression) else None  # (sqlglot puts False in some slots)
    return table.name.lower() if table is not None and table.name else None


def _refs(node: exp.Expression | None) -> tuple[Ref, ...]:
    """Parameters and holes inside `node`; a bare constant or other expression when it has none."""
    if node is None:
        return ()
    refs = [Ref("param", p.name.removeprefix("__p")) for p in node.find_all(exp.Placeholder)]
    refs += [Ref("hole", m) for m in HOLE_RE.findall(printed(node) or "")]
    if refs:
        return tuple(refs)
    return (Ref("const"),) if isinstance(node, (exp.Literal, exp.Boolean, exp.Null)) else (Ref("expr"),)


def _strip(node: exp.Expression) -> exp.Expression:
    """The column or value under parentheses, casts and case folding: lower(email) is a key on email."""
    while isinstance(node, (exp.Paren, exp.Cast, exp.Lower, exp.Upper, exp.Trim)):
        node = node.this
    return node


def _conjuncts(where: exp.Expression | None) -> list[exp.Expression]:
    """The terms of `a AND b AND ...` in text order (a loop: the chain can be thousands of terms long)."""
    if where is None:
        return []
    conjuncts = []
    pending = [where.this if isinstance(where, exp.Where) else where]
    while pending:
        node = _strip(pending.pop())
        if isinstance(node, exp.And):
            pending += (node.right, node.left)
        else:
            conjuncts.append(node)
    return conjuncts


def _column(node: exp.Expression | None) -> bool:
    """A column reference, not a value interpolated where one is written (`WHERE id = %s" % task_id`)."""
    return isinstance(node, exp.Column) and not HOLE_RE.fullmatch(node.name)


def _predicates(where: exp.Expression | None) -> tuple[dict[str, tuple[Ref, ...]], tuple[str, ...]]:
    keys: dict[str, tuple[Ref, ...]] = {}
    guards: list[str] = []
    for conjunct in _conjuncts(where):
        if isinstance(conjunct, (exp.EQ, exp.In)):
            left, right = _strip(conjunct.this), conjunct.args.get("expression")
            if isinstance(conjunct, exp.In):
                right = conjunct
            if _column(left) and right is not None and not _column(_strip(right)):
                keys[left.name.lower()] = keys.get(left.name.lower(), ()) + _refs(right)
                continue
            if isinstance(right, exp.Expression) and _column(_strip(right)) and not _column(left):
                keys[_strip(right).name.lower()] = _refs(left)
                continue
            if _column(left) and isinstance(right, exp.Expression) and _column(_strip(right)):
                continue  # a join condition
        guards.extend(column.name.lower() for column in conjunct.find_all(exp.Column) if _column(column))
    return keys, tuple(dict.fromkeys(guards))


def _assignments(expressions: list[exp.Expression]):
    """SET list -> (column -> value refs, atomic columns, atomic columns that decrease, atomic columns moved by an
    amount that is not a literal)."""
    writes: dict[str, tuple[Ref, ...]] = {}
    atomic: list[str] = []
    decrements: list[str] = []
    moved: list[str] = []
    for assignment in expressions:
        if not isinstance(assignment, exp.EQ) or not isinstance(assignment.this, exp.Column):
            continue
        column = assignment.this.name.lower()
        value = assignment.expression
        if any(c.name.lower() == column for c in value.find_all(exp.Column)):
            atomic.append(column)
            if isinstance(_strip(value), exp.Sub):
                decrements.append(column)
            if any(isinstance(node, exp.Placeholder) or isinstance(node, exp.Column) and node.name.lower() != column
                   for node in value.walk()):
                moved.append(column)
        else:
            writes[column] = _refs(value)
    return writes, tuple(atomic), tuple(decrements), tuple(moved)


def _facts(tree: exp.Expression, upsert: bool) -> ParsedSql:
    if isinstance(tree, exp.Select):
        keys, guards = _predicates(tree.args.get("where"))
        locks = tree.args.get("locks") or []
        return ParsedSql(
            action="read", table=_table_of(tree.args.get("from") or tree.args.get("from_")),
            keys=keys, guards=guards, for_update=bool(locks),
        )
    if isinstance(tree, exp.Update):
        keys, guards = _predicates(tree.args.get("where"))
        writes, atomic, decrements, moved = _assignments(tree.expressions)
        return ParsedSql(action="update", table=_table_of(tree.this), keys=keys, guards=guards,
                         writes=writes, atomic=atomic, decrements=decrements, moved=moved)
    if isinstance(tree, exp.Delete):
        keys, guards = _predicates(tree.args.get("where"))
        return ParsedSql(action="delete", table=_table_of(tree.this), keys=keys, guards=guards)
    if isinstance(tree, exp.Insert):
        return _insert(tree, upsert)
    if isinstance(tree, (exp.Create, exp.Alter, exp.Drop)):
        return ParsedSql(action="ddl", table=_table_of(tree.this))
    if isinstance(tree, (exp.Union, exp.Subquery)):
        return ParsedSql(action="read", table=_table_of(tree))
    return ParsedSql(action="other", table=_table_of(tree))


def _insert(tree: exp.Insert, upsert: bool) -> ParsedSql:
    target = tree.this
    columns = [c.name.lower() for c in target.expressions] if isinstance(target, exp.Schema) else []
    writes: dict[str, tuple[Ref, ...]] = {}
    source = tree.expression
    if isinstance(source, exp.Values) and source.expressions:
        first = source.expressions[0]
        values = first.expressions if isinstance(first, exp.Tuple) else [first]
        for column, value in zip(columns, values):
            writes[column] = _refs(value)
    else:
        writes = {column: (Ref("expr"),) for column in columns}
    conflict = tree.args.get("conflict")
    atomic: tuple[str, ...] = ()
    if conflict is not None and conflict.args.get("expressions"):
        _, atomic, _, _ = _assignments(conflict.args["expressions"])
    return ParsedSql(
        action="upsert" if upsert or conflict is not None else "insert",
        table=_table_of(target), writes=writes, atomic=atomic, on_conflict=upsert or conflict is not None,
    )


def bound_statement(text: str, holes: tuple, positional: list | None, named: dict, whole) -> tuple[ParsedSql, dict]:
    """The statement `text` parsed, and the `DataOp` fields it gives with each placeholder and interpolated hole
    tied to the value passed for it (taints): `positional` items, `named` fields, or the `whole` parameters value
    when they are not a literal. Shared by the extractor and by the project stage (SQL passed to a wrapper)."""
    from plumbline.scan.facts import NO_TAINT  # (facts imports nothing of this module)
    from plumbline.scan.values import position

    parsed = parse(text)
    positional = positional or []

    def bind(refs: tuple[Ref, ...]):
        taint = NO_TAINT
        for ref in refs:
            if ref.kind == "hole":
                index = int(ref.key)
                taint = taint | (holes[index] if index < len(holes) else NO_TAINT)
            elif ref.kind == "param":
                index = position(ref.key)
                if index is not None:
                    taint = taint | (positional[index] if index < len(positional) else
                                     (whole if not positional else NO_TAINT))
                else:
                    taint = taint | named.get(ref.key, whole if not named else NO_TAINT)
        return taint

    fields = dict(
        action=parsed.action if parsed.action != "ddl" else "other", table=parsed.table,
        keys={column: bind(refs) for column, refs in parsed.keys.items()}, guards=parsed.guards,
        writes={column: bind(refs) for column, refs in parsed.writes.items()},
        atomic=parsed.atomic, decrements=parsed.decrements, moved=parsed.moved, for_update=parsed.for_update,
        on_conflict=parsed.on_conflict,
    )
    return parsed, fields


def display(text: str) -> str:
    """A statement as findings show it: on one line, interpolated parts as {…}."""
    return HOLE_RE.sub("{…}", " ".join(text.split()))
