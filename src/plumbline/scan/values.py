"""The abstract values the Python extractor computes for expressions.

A `Value` is what the extractor knows about an expression: where its data comes from (`Taint`),
the text it evaluates to when that is a string built from constants and holes (for SQL), and
whether it stands for an ORM instance, an ORM/Core query under construction, or a literal
container whose items matter (the parameters passed beside an SQL statement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from plumbline.scan.facts import NO_TAINT, Taint
from plumbline.scan.sql import HOLE, HOLE_RE


@dataclass(frozen=True)
class Query:
    """An ORM or SQLAlchemy Core statement being built: select(Model).where(...), Model.query.filter_by(...)."""

    model: str
    action: str = "read"
    keys: tuple[tuple[str, Taint], ...] = ()
    guards: tuple[str, ...] = ()
    writes: tuple[tuple[str, Taint], ...] = ()
    atomic: tuple[str, ...] = ()
    for_update: bool = False
    interpolated: Taint | None = None  # SQL fragments among its predicates built by formatting: `text(f"... {q}")`

    def adding(self, **changes) -> "Query":
        merged = {}
        for name, value in changes.items():
            current = getattr(self, name)
            merged[name] = current + value if isinstance(current, tuple) else value
        return replace(self, **merged)


@dataclass(frozen=True)
class ColumnRef:
    """`Model.column` or `table.c.column`: a column inside an ORM/Core expression."""

    model: str
    column: str


@dataclass(frozen=True)
class Value:
    taint: Taint = NO_TAINT
    text: str | None = None  # the string it evaluates to, with HOLE markers for interpolated parts
    holes: tuple[Taint, ...] = ()  # taint of each interpolated part, by hole number
    holes_taint: Taint = NO_TAINT  # all of `holes` together (kept, not recomputed: texts have thousands)
    items: tuple["Value", ...] | None = None  # a tuple/list literal
    fields: tuple[tuple[str, "Value"], ...] | None = None  # a dict literal
    instance_of: str | None = None  # an ORM object (of this class)
    created: bool = False  # ... constructed here rather than loaded
    query: Query | None = None
    column: ColumnRef | None = None  # a Model.column reference
    expression_columns: tuple[ColumnRef, ...] = ()  # columns inside an ORM expression: Account.balance - 5
    safe_text: bool = False  # psycopg.sql composition: identifiers are quoted by the driver
    constant: bool = False  # a literal, or a name bound to one at module level
    # A DynamoDB handle (scan/models/boto3.py, pynamodb.py, boto2.py): ("client", ""), ("table", "users"),
    # ("batch", "users"), ("transaction", ""), ("model", "Note"), ("item", "Note"), ("boto2", "users")...
    dynamo: tuple[str, str] | None = None

    @property
    def whole_taint(self) -> Taint:
        """Where any part of it comes from, interpolated parts included (`value.whole_taint`, without a new Value)."""
        return self.taint | self.holes_taint

    @property
    def interpolated(self) -> Taint:
        """Where the interpolated parts of this text come from (nothing for psycopg.sql composition)."""
        return NO_TAINT if self.safe_text else self.holes_taint


UNKNOWN = Value()
MAX_TEXT = 50_000
MAX_HOLES = 2_000


def union(*values: Value) -> Value:
    """What is known of a value computed from all of `values` by an unknown operation."""
    taint = NO_TAINT
    columns: tuple[ColumnRef, ...] = ()
    for value in values:
        taint = taint | value.taint | value.holes_taint
        columns += value.expression_columns + ((value.column,) if value.column else ())
    return Value(taint=taint, expression_columns=columns)


def hole(taint: Taint) -> Value:
    """A piece of text standing for an interpolated value that comes from `taint`."""
    return Value(text=HOLE.format(0), holes=(taint,), holes_taint=taint)


def text_of(value: Value) -> Value:
    """`value` as a piece of text: itself when it is text, else a single hole standing for it."""
    return value if value.text is not None else hole(value.taint)


def concat(pieces: list[Value]) -> Value:
    """Join pieces of text, renumbering their holes.

    Text is built by repeated joins (`q += ...` on thousands of lines): past `MAX_TEXT` characters or
    `MAX_HOLES` holes it is no SQL worth parsing, and only where its parts come from is kept, so that
    each join costs a bounded time."""
    texts, holes = [], []
    taint = NO_TAINT
    for piece in pieces:
        if not piece.text:
            continue  # so that joining one text to nothing is no copy
        offset = len(holes)
        texts.append(HOLE_RE.sub(lambda m: HOLE.format(int(m.group(1)) + offset), piece.text) if offset
                     else piece.text)
        holes.extend(piece.holes)
        taint = taint | piece.holes_taint
    if len(holes) > MAX_HOLES or sum(map(len, texts)) > MAX_TEXT:
        return Value(taint=taint)
    return Value(taint=taint, text="".join(texts), holes=tuple(holes), holes_taint=taint)


def defused(text: str) -> str:
    """A string constant of the scanned source, with any hole marker it spells defused: a hostile
    `"__pl_hole_7__"` would pose as an interpolated value (and name a hole that does not exist).
    ("pl_hole" cannot overlap itself, so one replacement leaves none.)"""
    return text.replace("pl_hole", "pl-hole") if "pl_hole" in text else text


# The width cannot start with 0 (a flag): flags and width never compete for the same digits (linear matching).
_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:[1-9]\d*)?(?:\.\d+)?([sdifrxXeEgGcuo%])")
_BRACES = re.compile(r"\{\{|\}\}|\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")
_NUMERIC_FORMATS = set("difxXeEgGuo")


def percent_format(template: Value, arguments: Value) -> Value:
    """`template % arguments`, with each formatted argument as a hole (numeric formats are cast, so safe)."""
    positional = list(arguments.items) if arguments.items is not None else [arguments]
    named = dict(arguments.fields or ())
    pieces: list[Value] = []
    last = 0
    index = 0
    text = template.text or ""
    for match in _PERCENT.finditer(text):
        pieces.append(_literal(text[last:match.start()], template))
        last = match.end()
        if match.group(2) == "%":
            pieces.append(Value(text="%"))
            continue
        if match.group(1):
            argument = named.get(match.group(1), arguments)
        else:
            argument = positional[index] if index < len(positional) else arguments
            index += 1
        taint = _as_hole(argument)
        if match.group(2) in _NUMERIC_FORMATS:
            taint = taint.casted()
        pieces.append(hole(taint))
    pieces.append(_literal(text[last:], template))
    return concat(pieces)


def brace_format(template: Value, positional: list[Value], named: dict[str, Value]) -> Value:
    """`template.format(...)`, each replacement field a hole."""
    text = template.text or ""
    pieces: list[Value] = []
    last, auto = 0, 0
    for match in _BRACES.finditer(text):
        pieces.append(_literal(text[last:match.start()], template))
        last = match.end()
        if match.group(0) in ("{{", "}}"):
            pieces.append(Value(text=match.group(0)[0]))
            continue
        field_name = (match.group(1) or "").split(".")[0].split("[")[0]
        if field_name.isdecimal():
            index = position(field_name)
            argument = positional[index] if index is not None and index < len(positional) else UNKNOWN
        elif field_name:
            argument = named.get(field_name, UNKNOWN)
        else:
            argument = positional[auto] if auto < len(positional) else UNKNOWN
            auto += 1
        pieces.append(hole(_as_hole(argument)))
    pieces.append(_literal(text[last:], template))
    return concat(pieces)


def position(key: str) -> int | None:
    """The number `key` spells when it is a plausible argument position ("0", "12"), else None."""
    return int(key) if key.isdecimal() and len(key) <= 6 else None


def _as_hole(value: Value) -> Taint:
    taint = value.taint | value.holes_taint
    if value.constant and not taint:
        return NO_TAINT
    return taint


def _literal(fragment: str, template: Value) -> Value:
    """A literal stretch of a template, keeping the holes the template already had."""
    numbers = list(dict.fromkeys(int(n) for n in HOLE_RE.findall(fragment)))
    if not numbers:
        return Value(text=fragment)
    renumbering = {number: index for index, number in enumerate(numbers)}
    renumbered = HOLE_RE.sub(lambda m: HOLE.format(renumbering[int(m.group(1))]), fragment)
    holes = tuple(template.holes[n] for n in numbers)
    holes_taint = NO_TAINT
    for taint in holes:
        holes_taint = holes_taint | taint
    return Value(text=renumbered, holes=holes, holes_taint=holes_taint)


@dataclass
class Scope:
    """Names bound in a function, falling back to its enclosing function and then to the module."""

    names: dict[str, Value] = field(default_factory=dict)
    parent: "Scope | None" = None

    def lookup(self, name: str) -> Value | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None
