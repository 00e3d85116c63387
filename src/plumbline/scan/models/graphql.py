"""GraphQL servers (graphene, strawberry, ariadne): each resolver of a field is an entry point.

A resolver's arguments are the field's arguments, chosen by the client; its `info` argument carries the
request, and `info.context` the caller (`info.context.user`, `info.context["user"]`). graphene and ariadne
call a resolver with the parent object and `info` first, by position; strawberry passes `self`/`root` and
`info` by name (or by an `Info` annotation) and the field's arguments as the other parameters.
"""

from __future__ import annotations

import ast
from functools import cached_property

from plumbline.scan.facts import EntryPoint, Taint
from plumbline.scan.models import Registrations, attributes, calls, entry_points, subscripts
from plumbline.scan.pyast import decorator_name, dotted, kwarg, module_nodes_of, string
from plumbline.scan.values import Value
from plumbline.vocabulary import IDENTITY_ATTRIBUTE

ROOT_NAMES = ("self", "cls", "root", "parent", "obj", "_")  # a parameter so named is never the `info` argument
STRAWBERRY_SPECIAL = ("self", "cls", "root", "info")
STRAWBERRY_ANNOTATIONS = ("Info", "Parent", "GraphQLResolveInfo")
STRAWBERRY_FIELDS = {"field": "Query", "mutation": "Mutation", "subscription": "Subscription"}
ARIADNE_TYPES = {"QueryType": "Query", "MutationType": "Mutation", "SubscriptionType": "Subscription"}
ARIADNE_NAMED_TYPES = ("ObjectType", "InterfaceType")  # ObjectType("Mutation"): the type is named by its argument
GRAPHENE_MUTATE = ("mutate", "mutate_and_get_payload")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _field(type_name: str, field: str, inputs: tuple[str, ...]) -> EntryPoint:
    return EntryPoint("graphql", f"{type_name}.{field}", inputs=inputs)


def camel_case(name: str) -> str:
    """The field name graphene and strawberry give an attribute by default: `borrow_book` -> `borrowBook`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() if part else "_" for part in rest)


def _named_parameters(node: FunctionNode) -> list[ast.arg]:
    args = node.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _all_parameters(node: FunctionNode) -> list[str]:
    names = [a.arg for a in _named_parameters(node)]
    return names + [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]


def _is_classmethod(node: FunctionNode) -> bool:
    return any(decorator_name(d) == "classmethod" for d in node.decorator_list)


def positional_arguments(node: FunctionNode) -> tuple[str, ...]:
    """graphene / ariadne: every parameter after the parent object and `info` (after `cls` in a classmethod).

    graphene 1 passed the arguments as one dict before the context and info: `mutate(self, args, context, info)`."""
    positional = [a.arg for a in node.args.posonlyargs + node.args.args]
    if len(positional) >= 4 and positional[-2:] == ["context", "info"]:
        return (positional[-3],)
    skipped = {a.arg for a in (node.args.posonlyargs + node.args.args)[:3 if _is_classmethod(node) else 2]}
    return tuple(name for name in _all_parameters(node) if name not in skipped)


def strawberry_arguments(node: FunctionNode) -> tuple[str, ...]:
    """strawberry: every parameter but `self`/`root`/`info` and those annotated as the parent or the info."""
    special = {a.arg for a in _named_parameters(node)
               if a.arg in STRAWBERRY_SPECIAL or _annotation_name(a.annotation) in STRAWBERRY_ANNOTATIONS}
    return tuple(name for name in _all_parameters(node) if name not in special)


def _annotation_name(annotation: ast.expr | None) -> str:
    """`Info` for `Info`, `strawberry.Info`, `Info[Context, None]`, `"Info"`, `Parent[Book]`."""
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.split("[", 1)[0].rsplit(".", 1)[-1].strip()
    return dotted(annotation).rsplit(".", 1)[-1] if annotation is not None else ""


# ---- entry points ----------------------------------------------------------------------------------------


class _Module:
    """The module being registered: its tree, its imports (`ctx.resolve`), its functions when needed."""

    def __init__(self, tree: ast.Module, ctx) -> None:
        self.tree = tree
        self.ctx = ctx
        self.classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]

    @cached_property
    def functions(self) -> dict[str, FunctionNode]:
        """The module's functions and methods, as the scan names them: "f", "Class.method"."""
        found: dict[str, FunctionNode] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node
        for node in self.classes:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{item.name}"] = item
        return found


@entry_points
def resolvers(tree: ast.Module, ctx) -> Registrations:
    module = _Module(tree, ctx)
    registrations = Registrations()
    _graphene(module, registrations)
    _strawberry(module, registrations)
    _ariadne(module, registrations)
    return registrations


def _graphene(module: _Module, registrations: Registrations) -> None:
    """`resolve_<field>` methods and `Field(..., resolver=f)` of graphene object types; `mutate` of mutations."""
    classes = module.classes
    kinds: dict[str, str] = {}  # class -> "type" or "mutation", local subclasses included
    for node in classes:
        for base in node.bases:
            kind = kinds.get(dotted(base)) or _graphene_kind(module.ctx.resolve(dotted(base)))
            if kind:
                kinds[node.name] = kind
                break
    mounted = _mounted_mutations(classes, kinds)
    for node in classes:
        kind = kinds.get(node.name)
        if kind is None:
            continue
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if kind == "type" and item.name.startswith("resolve_") and len(item.name) > len("resolve_"):
                    field = camel_case(item.name.removeprefix("resolve_"))
                    registrations.add_function(f"{node.name}.{item.name}",
                                               _field(node.name, field, positional_arguments(item)))
                elif kind == "mutation" and item.name in GRAPHENE_MUTATE:
                    for type_name, field in mounted.get(node.name, [("Mutation", _lower_first(node.name))]):
                        registrations.add_function(f"{node.name}.{item.name}",
                                                   _field(type_name, field, positional_arguments(item)))
        if kind == "type":
            _resolver_keywords(node, module, registrations, positional_arguments)


def _graphene_kind(qualified: str) -> str | None:
    package = qualified.split(".", 1)[0]
    if package != "graphene" and not package.startswith("graphene_"):
        return None
    return "mutation" if qualified.endswith("Mutation") else "type"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _mounted_mutations(classes: list[ast.ClassDef], kinds: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """`borrow_book = BorrowBook.Field()` in a class: the mutation BorrowBook is the field `Mutation.borrowBook`."""
    mounted: dict[str, list[tuple[str, str]]] = {}
    for node in classes:
        for target, value in _class_attributes(node):
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "Field":
                mutation = dotted(value.func.value)
                if kinds.get(mutation) == "mutation":
                    mounted.setdefault(mutation, []).append((node.name, camel_case(target)))
    return mounted


def _class_attributes(node: ast.ClassDef):
    """(name, value) of the assignments in a class body: `x = ...` and `x: T = ...`."""
    for item in node.body:
        if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
            yield item.targets[0].id, item.value
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None:
            yield item.target.id, item.value


def _resolver_keywords(node: ast.ClassDef, module: _Module, registrations: Registrations, arguments) -> None:
    """`books = Field(..., resolver=find_books)` in the class body: that function resolves `Type.books`."""
    for target, value in _class_attributes(node):
        resolver = kwarg(value, "resolver") if isinstance(value, ast.Call) else None
        qualname = dotted(resolver) if resolver is not None else ""
        if qualname in module.functions:
            registrations.add_function(qualname, _field(node.name, camel_case(target),
                                                        arguments(module.functions[qualname])))


def _strawberry(module: _Module, registrations: Registrations) -> None:
    """`@strawberry.field` / `@strawberry.mutation` on methods and functions, and `strawberry.field(resolver=f)`."""
    ctx = module.ctx
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _strawberry_decorated(node, None, ctx, registrations)
    for node in module.classes:
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                _strawberry_decorated(item, node.name, ctx, registrations)
        if any(_strawberry_field_kind(value.func, ctx) for _, value in _class_attributes(node)
               if isinstance(value, ast.Call)):
            _resolver_keywords(node, module, registrations, strawberry_arguments)


def _strawberry_decorated(node: FunctionNode, owner: str | None, ctx, registrations: Registrations) -> None:
    for decorator in node.decorator_list:
        kind = _strawberry_field_kind(decorator.func if isinstance(decorator, ast.Call) else decorator, ctx)
        if kind is None:
            continue
        given = string(kwarg(decorator, "name")) if isinstance(decorator, ast.Call) else None
        qualname = f"{owner}.{node.name}" if owner else node.name
        registrations.add_function(qualname, _field(owner or STRAWBERRY_FIELDS[kind], given or camel_case(node.name),
                                                    strawberry_arguments(node)))
        return


def _strawberry_field_kind(func: ast.expr, ctx) -> str | None:
    """"field", "mutation" or "subscription" for strawberry's field makers (`strawberry.federation.field` too)."""
    qualified = ctx.resolve(dotted(func))
    if not qualified.startswith("strawberry."):
        return None
    kind = qualified.rsplit(".", 1)[-1]
    return kind if kind in STRAWBERRY_FIELDS else None


def _ariadne(module: _Module, registrations: Registrations) -> None:
    """`mutation = MutationType()` / `ObjectType("Mutation")`, then `@mutation.field("name")` on a resolver or
    `mutation.set_field("name", resolver)`."""
    types = _ariadne_types(module.tree, module.ctx)
    if not types:
        return
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                bound = _ariadne_binding(decorator, types, "field")
                if bound is not None:
                    registrations.add_function(node.name, _field(*bound, positional_arguments(node)))
    for call in module_nodes_of(module.tree, ast.Call):
        bound = _ariadne_binding(call, types, "set_field")
        if bound is not None and len(call.args) > 1 and dotted(call.args[1]) in module.functions:
            qualname = dotted(call.args[1])
            registrations.add_function(qualname, _field(*bound, positional_arguments(module.functions[qualname])))


def _ariadne_types(tree: ast.Module, ctx) -> dict[str, str]:
    """Module-level names bound to ariadne object types, with the GraphQL type each binds."""
    types = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        value = node.value if target is not None else None
        if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
            continue
        qualified = ctx.resolve(dotted(value.func))
        if not qualified.startswith("ariadne."):
            continue
        maker = qualified.rsplit(".", 1)[-1]
        name = ARIADNE_TYPES.get(maker) or (string(value.args[0]) if maker in ARIADNE_NAMED_TYPES and value.args
                                            else None)
        if name:
            types[target.id] = name
    return types


def _ariadne_binding(call: ast.expr, types: dict[str, str], method: str) -> tuple[str, str] | None:
    """(type, field) for `mutation.field("renewLoan")` / `mutation.set_field("renewLoan", ...)`."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == method
            and isinstance(call.func.value, ast.Name) and call.func.value.id in types and call.args):
        return None
    field = string(call.args[0])
    return (types[call.func.value.id], field) if field else None


# ---- the caller, from info.context --------------------------------------------------------------------------


def _context_of_info(visitor, node: ast.expr) -> bool:
    """`node` is `info.context`, `info` being the resolver's info argument (the cheap tests first: this runs
    for every attribute and subscript of every function)."""
    return (isinstance(node, ast.Attribute) and node.attr == "context" and isinstance(node.value, ast.Name)
            and node.value.id == info_parameter(visitor))


def info_parameter(visitor) -> str | None:
    """The name of the `info` argument of the resolver being visited: the last parameter that is neither a
    field argument nor the parent object (None for a function that resolves no GraphQL field)."""
    entries = [entry for entry in visitor.function.entry_points if entry.kind == "graphql"]
    if not entries:
        return None
    arguments = {name for entry in entries for name in entry.inputs}
    candidates = [a.arg for a in _named_parameters(visitor.node) if a.arg not in arguments and a.arg not in ROOT_NAMES]
    return candidates[-1] if candidates else None


def _caller() -> Value:
    return Value(taint=Taint(identity=True))


@attributes
def context_attribute(visitor, node: ast.Attribute, owner: Value) -> Value | None:
    """`info.context.user` (and so `info.context.user.id`)."""
    if _context_of_info(visitor, node.value) and IDENTITY_ATTRIBUTE.search(node.attr):
        return _caller()
    return None


@subscripts
def context_item(visitor, node: ast.Subscript, container: Value, label: str | None) -> Value | None:
    """`info.context["user"]`."""
    if label and _context_of_info(visitor, node.value) and IDENTITY_ATTRIBUTE.search(label):
        return _caller()
    return None


@calls("get")
def context_lookup(visitor, site) -> Value | None:
    """`info.context.get("user")`."""
    func = site.node.func
    if not (isinstance(func, ast.Attribute) and site.node.args and _context_of_info(visitor, func.value)):
        return None
    label = string(site.node.args[0])
    return _caller() if label and IDENTITY_ATTRIBUTE.search(label) else None
