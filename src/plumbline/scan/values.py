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
    items: tuple["Value", ...] | None = None  # a tuple/list literal
    fields: tuple[tuple[str, "Value"], ...] | None = None  # a dict literal
    instance_of: str | None = None  # an ORM object (of this class)
    created: bool = False  # ... constructed here rather than loaded
    query: Query | None = None
    column: ColumnRef | None = None  # a Model.column reference
    expression_columns: tuple[ColumnRef, ...] = ()  # columns inside an ORM expression: Account.balance - 5
    safe_text: bool = False  # psycopg.sql composition: identifiers are quoted by the driver
    constant: bool = False  # a literal, or a name bound to one at module level

    @property
    def interpolated(self) -> Taint:
        """Where the interpolated parts of this text come from (nothing for psycopg.sql composition)."""
        result = NO_TAINT
        if self.safe_text:
            return result
        for hole in self.holes:
            result = result | hole
        return result


UNKNOWN = Value()


def union(*values: Value) -> Value:
    """What is known of a value computed from all of `values` by an unknown operation."""
    taint = NO_TAINT
    columns: tuple[ColumnRef, ...] = ()
    for value in values:
        taint = taint | value.taint
        for hole in value.holes:
            taint = taint | hole
        columns += value.expression_columns + ((value.column,) if value.column else ())
    return Value(taint=taint, expression_columns=columns)


def text_of(value: Value) -> tuple[str, tuple[Taint, ...]]:
    """`value` as a piece of text: its own text, or a single hole standing for it."""
    if value.text is not None:
        return value.text, value.holes
    return HOLE.format(0), (value.taint,)


def concat(parts: list[tuple[str, tuple[Taint, ...]]]) -> Value:
    """Join pieces of text, renumbering their holes."""
    texts, holes = [], []
    for text, part_holes in parts:
        offset = len(holes)
        texts.append(HOLE_RE.sub(lambda m: HOLE.format(int(m.group(1)) + offset), text) if offset else text)
        holes.extend(part_holes)
    taint = NO_TAINT
    for hole in holes:
        taint = taint | hole
    return Value(taint=taint, text="".join(texts), holes=tuple(holes))


_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifrxXeEgGcuo%])")
_BRACES = re.compile(r"\{\{|\}\}|\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")
_NUMERIC_FORMATS = set("difxXeEgGuo")


def percent_format(template: Value, arguments: Value) -> Value:
    """`template % arguments`, with each formatted argument as a hole (numeric formats are cast, so safe)."""
    positional = list(arguments.items) if arguments.items is not None else [arguments]
    named = dict(arguments.fields or ())
    pieces: list[tuple[str, tuple[Taint, ...]]] = []
    last = 0
    index = 0
    text = template.text or ""
    for match in _PERCENT.finditer(text):
        pieces.append(_literal(text[last:match.start()], template))
        last = match.end()
        if match.group(2) == "%":
            pieces.append(("%", ()))
            continue
        if match.group(1):
            argument = named.get(match.group(1), arguments)
        else:
            argument = positional[index] if index < len(positional) else arguments
            index += 1
        hole = _as_hole(argument)
        if match.group(2) in _NUMERIC_FORMATS:
            hole = replace(hole, cast=True)
        pieces.append((HOLE.format(0), (hole,)))
    pieces.append(_literal(text[last:], template))
    return concat(pieces)


def brace_format(template: Value, positional: list[Value], named: dict[str, Value]) -> Value:
    """`template.format(...)`, each replacement field a hole."""
    text = template.text or ""
    pieces: list[tuple[str, tuple[Taint, ...]]] = []
    last, auto = 0, 0
    for match in _BRACES.finditer(text):
        pieces.append(_literal(text[last:match.start()], template))
        last = match.end()
        if match.group(0) in ("{{", "}}"):
            pieces.append((match.group(0)[0], ()))
            continue
        field_name = (match.group(1) or "").split(".")[0].split("[")[0]
        if field_name.isdigit():
            argument = positional[int(field_name)] if int(field_name) < len(positional) else UNKNOWN
        elif field_name:
            argument = named.get(field_name, UNKNOWN)
        else:
            argument = positional[auto] if auto < len(positional) else UNKNOWN
            auto += 1
        pieces.append((HOLE.format(0), (_as_hole(argument),)))
    pieces.append(_literal(text[last:], template))
    return concat(pieces)


def _as_hole(value: Value) -> Taint:
    taint = value.taint
    for hole in value.holes:
        taint = taint | hole
    if value.constant and not taint:
        return NO_TAINT
    return taint


def _literal(fragment: str, template: Value) -> tuple[str, tuple[Taint, ...]]:
    """A literal stretch of a template, keeping the holes the template already had."""
    numbers = list(dict.fromkeys(int(n) for n in HOLE_RE.findall(fragment)))
    if not numbers:
        return fragment, ()
    position = {number: index for index, number in enumerate(numbers)}
    renumbered = HOLE_RE.sub(lambda m: HOLE.format(position[int(m.group(1))]), fragment)
    return renumbered, tuple(template.holes[n] for n in numbers)


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
