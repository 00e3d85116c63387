"""Small readers of Python syntax trees, shared by the extraction core and the library models."""

from __future__ import annotations

import ast
import weakref

from plumbline.scan.facts import Span


# Fields that never hold a node worth visiting: names and flags, and `ctx` (the shared Load/Store/Del markers).
_LEAF_FIELDS = frozenset({"ctx", "id", "attr", "arg", "name", "asname", "module", "level", "kind", "conversion",
                          "is_async", "type_comment", "simple"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # node type -> its fields that may hold nodes


def walk(node: ast.AST) -> list[ast.AST]:
    """Every node under `node`, itself first, in `ast.walk`'s order (breadth first), as a list; without the
    `ctx` markers of names, which nothing here looks at.

    `ast.walk` makes a generator and a field iterator per node, and visits every field: on a whole module this
    list costs half as much."""
    nodes = [node]
    append = nodes.append
    child_fields = _CHILD_FIELDS
    for current in nodes:  # the loop also visits what it appends
        kind = type(current)
        names = child_fields.get(kind)
        if names is None:
            names = child_fields[kind] = tuple(name for name in kind._fields if name not in _LEAF_FIELDS)
        for name in names:
            child = getattr(current, name, None)
            if type(child) is list:  # what the parser makes: cheaper to test than isinstance
                for item in child:
                    if isinstance(item, ast.AST):
                        append(item)
            elif isinstance(child, ast.AST):
                append(child)
    return nodes


_indexed: tuple[weakref.ref, dict[type, list[ast.AST]]] | None = None


def module_nodes_of(tree: ast.Module, *types: type) -> list[ast.AST]:
    """The nodes of `types` under the module node, each type's in `walk`'s order (breadth first), one type after
    the other.

    The core and every model that looks at all of a module ask this; the module is walked once and its nodes kept
    by type, so each question costs only the nodes it is about. Only the module being extracted is indexed, and only
    while its tree lives (it is referenced weakly). Trees are never changed (a class method bound to its class is
    a copy)."""
    global _indexed
    if _indexed is None or _indexed[0]() is not tree:
        index: dict[type, list[ast.AST]] = {}
        for node in walk(tree)[1:]:
            kind = type(node)
            if kind in index:
                index[kind].append(node)
            else:
                index[kind] = [node]
        _indexed = (weakref.ref(tree, _forget), index)
    index = _indexed[1]
    if len(types) == 1:
        return index.get(types[0], [])
    return [node for kind in types for node in index.get(kind, ())]


def _forget(reference: weakref.ref) -> None:
    global _indexed
    if _indexed is not None and _indexed[0] is reference:
        _indexed = None


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


def decorator_name(node: ast.expr) -> str:
    """`app.route` for `@app.route("/x")` and for `@app.route`."""
    return dotted(node.func if isinstance(node, ast.Call) else node)


def span(node: ast.AST) -> Span:
    return Span(getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, getattr(node, "end_lineno", None))


def source(node: ast.AST) -> str:
    """`node` as Python source, for searches of markers (401, "version_id_col", Optional[...]).

    `ast.unparse` recurses: a node nested deeper than it can go is read as its names and constants."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return " ".join(_names_and_constants(node))


def _names_and_constants(node: ast.AST):
    for child in walk(node):
        if isinstance(child, ast.Constant):
            yield str(child.value)
        else:
            yield from (value for _, value in ast.iter_fields(child) if isinstance(value, str))


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def strings(node: ast.AST | None) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return tuple(s for s in (string(e) for e in node.elts) if s is not None)
    single = string(node)
    return (single,) if single is not None else ()


def exits(body: list[ast.stmt]) -> bool:
    """The block ends the handler: return, raise, abort(), continue/break."""
    for statement in body:
        if isinstance(statement, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
            return True
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            if last_name(statement.value.func) in ("abort", "abort_json", "fail", "error", "forbidden", "not_found"):
                return True
    return False


def flag_waived_rows(node: ast.If) -> set[str]:
    """`if not case.is_shared and user != case.owner: deny` (or `if not (case.is_shared or ...)`): the names of the
    rows checked only when a flag of their own says so (`case`); with the flag set, anyone passes. Such a check
    lets everyone see a shared row, not change it."""
    test = node.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.BoolOp) \
            and isinstance(test.operand.op, ast.Or):
        operands = test.operand.values
    elif isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        operands = test.values
    else:
        return set()
    if not exits(node.body):
        return set()
    flags, checked = set(), set()
    for operand in operands:
        bare = operand.operand if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.Not) else operand
        if isinstance(bare, ast.Attribute) and isinstance(bare.value, ast.Name):
            flags.add(bare.value.id)  # `case.is_shared`: a flag of the row
        else:  # `user != case.owner`, `not is_admin(user, case.field)`: the row in the check
            checked |= {n.value.id for n in ast.walk(bare)
                        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return flags & checked


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, *, method: bool = False) -> list[str]:
    """The function's parameter names in order, without `self`/`cls` of a method, `*args` and `**kw` last."""
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if method and names and names[0] in ("self", "cls"):
        names = names[1:]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names
