"""The inserts the code makes, each with the function that builds the row, and which values a request always carries.

A column every insert fills from an input the API cannot omit (a Flask path parameter, a GraphQL argument of a
non-null type, `String!` or graphene's `required=True`) always holds a value: leaving it nullable only lets other
writers (a script, a later change) store rows the app never means to have (PL202).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from plumbline.scan.facts import PASSED_OBJECT, DataOp, Function, ModuleFacts, Taint
from plumbline.scan.project import Project

MAX_HELPER_DEPTH = 3  # how many helper calls from an entry point a value is followed


@dataclass(frozen=True, slots=True)
class Insert:
    """A row some code inserts: its table (or ORM class), the values of the columns it names, and the function
    those values are expressed in (None when not known: a wrapper's statement rebuilt for its caller)."""

    table: str
    writes: dict[str, Taint]
    function: Function | None
    module: ModuleFacts | None


def inserts(project: Project, statements: list[DataOp]) -> Iterator[Insert]:
    """The INSERTs of `statements` (`Project.statements()`), then the objects built by one function and added to
    the session by another: a helper adding its parameter (`def insert(obj): session.add(obj)`, called with
    `Post(...)`) or a method adding `self` to the session (`Post(...).save()`)."""
    where = {id(op): (function, module) for module in project.modules for function in module.functions
             for op in function.ops}
    for op in statements:
        if op.table and op.action in ("insert", "upsert") and not op.table.startswith(PASSED_OBJECT):
            yield Insert(op.table, op.writes, *where.get(id(op), (None, None)))
    for module in project.modules:
        for function in module.functions:
            for call in function.calls:
                if not (call.objects or call.receiver_created):
                    continue
                found = project.resolve(call.name, module, call.receiver)
                if found is None:
                    continue
                names = {str(position): param for position, param in enumerate(found[0].params)}
                for op in found[0].ops:
                    if op.action != "insert":
                        continue
                    if op.table and op.table.startswith(PASSED_OBJECT):
                        for key, built in call.objects.items():
                            if PASSED_OBJECT + names.get(key, key) == op.table:
                                for model, fields in built:
                                    yield Insert(model, fields, function, module)
                    elif "<self>" in op.keys and call.receiver_created and call.receiver:
                        yield Insert(call.receiver, call.receiver_fields, function, module)


class RequiredInputs:
    """Which parameters of a function always hold a value a request had to carry: the required inputs of its entry
    points, or of a helper the parameters every caller fills with such a value (followed MAX_HELPER_DEPTH calls)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._callers: dict[int, list[tuple[dict[str, Taint], Function, ModuleFacts]]] | None = None
        self._known: dict[tuple[int, int], frozenset[str]] = {}

    def carried(self, value: Taint, function: Function | None, module: ModuleFacts | None, depth: int = 0) -> bool:
        """`value`, as `function` computes it, derives from required inputs only (and from at least one)."""
        if function is None or module is None or not value.params or value.client:
            return False
        return value.params <= self.params(function, module, depth)

    def params(self, function: Function, module: ModuleFacts, depth: int = 0) -> frozenset[str]:
        key = (id(function), depth)
        if key not in self._known:
            self._known[key] = frozenset()  # (a recursive helper carries nothing through itself)
            self._known[key] = self._params(function, module, depth)
        return self._known[key]

    def _params(self, function: Function, module: ModuleFacts, depth: int) -> frozenset[str]:
        if function.entry_points:
            required = set(function.entry_points[0].required)
            for entry in function.entry_points[1:]:
                required &= set(entry.required)
            return frozenset(required)
        callers = self.callers().get(id(function), [])
        if depth >= MAX_HELPER_DEPTH or not callers:
            return frozenset()
        carried = set()
        for position, param in enumerate(function.params):
            if all(self.carried(arguments.get(param) or arguments.get(str(position)) or Taint(), caller,
                                caller_module, depth + 1) for arguments, caller, caller_module in callers):
                carried.add(param)
        return frozenset(carried)

    def callers(self) -> dict[int, list[tuple[dict[str, Taint], Function, ModuleFacts]]]:
        """Per function (by id), the arguments of each call of it with the calling function; built on first use."""
        if self._callers is None:
            self._callers = {}
            for module in self.project.modules:
                for function in module.functions:
                    for call in function.calls:
                        found = self.project.resolve(call.name, module, call.receiver)
                        if found is not None:
                            self._callers.setdefault(id(found[0]), []).append((call.arguments, function, module))
                        for name in call.callables.values():  # a callback: called with arguments not seen here
                            found = self.project.resolve(name, module)
                            if found is not None:
                                self._callers.setdefault(id(found[0]), []).append(({}, function, module))
        return self._callers
