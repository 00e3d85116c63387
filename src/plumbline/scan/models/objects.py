"""What plain Python objects hold, where no library is involved.

- Objects a class holds: `self.backend` that `__init__` binds to an object of a project class — built there
  (`self.repo = NoteRepository()`) or passed in, with a default that builds one
  (`def __init__(self, backend=storage.DynamoBackend())`). A service layer reaches its storage this way; its calls
  (`self.backend.put(item)`) are then methods of that class, which the project stage follows like any other. A
  backend passed in explicitly may be another implementation; the default is the one the class is written for.
- Lists filled one item at a time: `changed.append(item)` in a loop, then `store.batch_put(changed)` — the list
  carries the reads of what was appended (items read, edited and collected for one write). Only the reads: what
  a call returns is tainted by all its arguments (see `project_call`), and ids collected from rows that a
  client-chosen item led to are the rows' own, not the client's.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from weakref import WeakKeyDictionary

from plumbline.scan.facts import Taint
from plumbline.scan.models import attributes, calls
from plumbline.scan.pyast import dotted
from plumbline.scan.values import Value, union

_MEMBERS: WeakKeyDictionary = WeakKeyDictionary()
MAX_COLLECTED = 16  # items a list literal keeps track of (a loop appends one per pass: its body is walked once)


@attributes
def member_object(visitor, node: ast.Attribute, owner: Value) -> Value | None:
    """`self.store` in a method: an object of the class `__init__` gave it, when that is a project class."""
    if not (isinstance(node.value, ast.Name) and node.value.id == "self" and owner.instance_of):
        return None
    definition = visitor.ctx.class_names.get(owner.instance_of)
    if definition is None:
        return None
    cls = _members(visitor, definition).get(node.attr)
    return Value(instance_of=cls, taint=owner.taint) if cls else None


def _members(visitor, definition: ast.ClassDef) -> dict[str, str]:
    """Attribute -> project class, for the objects the class's `__init__` builds or takes by default (found once per
    class)."""
    found = _MEMBERS.get(definition)
    if found is not None:
        return found
    found = {}
    init = next((item for item in definition.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and item.name == "__init__"), None)
    if init is not None:
        positional = init.args.posonlyargs + init.args.args
        defaults = dict(zip((a.arg for a in positional[len(positional) - len(init.args.defaults):]),
                            init.args.defaults))
        defaults.update((a.arg, d) for a, d in zip(init.args.kwonlyargs, init.args.kw_defaults) if d is not None)
        for statement in init.body:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                continue
            target, value = statement.targets[0], statement.value
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and
                    target.value.id == "self"):
                continue
            if isinstance(value, ast.Name):
                value = defaults.get(value.id)
            cls = visitor.constructed_class(value.func) if isinstance(value, ast.Call) else None
            if cls and _of_project(visitor, value.func, cls):
                found.setdefault(target.attr, cls)
    _MEMBERS[definition] = found
    return found


def _of_project(visitor, func: ast.expr, cls: str) -> bool:
    """A class defined in this module or imported from the project's own package (not `requests.Session`)."""
    if isinstance(func, ast.Name) and func.id in visitor.ctx.class_names:
        return True
    package = visitor.ctx.facts.module.partition(".")[0]
    return bool(package) and visitor.ctx.resolve(dotted(func)).partition(".")[0] == package


@calls("append", "extend")
def collected(visitor, site) -> None:
    """`items.append(item)` on a local list: the list now carries the reads the item came from. The call goes on to
    the other handlers and the core (a relationship collection's `append` is the ORM's)."""
    target = site.node.func.value if isinstance(site.node.func, ast.Attribute) else None
    if not (isinstance(target, ast.Name) and site.arguments and site.receiver is not None) or \
            site.receiver.instance_of or site.receiver.items is None:
        return
    added = Taint(reads=site.arguments[0].whole_taint.reads)
    if added and len(site.receiver.items) < MAX_COLLECTED:
        items = (*site.receiver.items, Value(taint=added))
        visitor.scope.names[target.id] = replace(union(*items), items=items, constant=False)
