"""GraphQL servers (graphene, strawberry, ariadne): each resolver of a field is an entry point.

A resolver's arguments are the field's arguments, chosen by the client; its `info` argument carries the
request, and `info.context` the caller (`info.context.user`, `info.context["user"]`). graphene and ariadne
call a resolver with the parent object and `info` first, by position; strawberry passes `self`/`root` and
`info` by name (or by an `Info` annotation) and the field's arguments as the other parameters.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property

from plumbline.scan.facts import EntryPoint, Function, Taint
from plumbline.scan.files import GRAPHQL_SUFFIXES
from plumbline.scan.models import Registrations, attributes, calls, entry_points, project_entry_points, subscripts
from plumbline.scan.pyast import decorator_name, dotted, is_true, kwarg, module_nodes_of, string
from plumbline.scan.values import Value
from plumbline.vocabulary import IDENTITY_ATTRIBUTE

ROOT_NAMES = ("self", "cls", "root", "parent", "obj", "_")  # a parameter so named is never the `info` argument
STRAWBERRY_SPECIAL = ("self", "cls", "root", "info")
STRAWBERRY_ANNOTATIONS = ("Info", "Parent", "GraphQLResolveInfo")
STRAWBERRY_FIELDS = {"field": "Query", "mutation": "Mutation", "subscription": "Subscription"}
ARIADNE_TYPES = {"QueryType": "Query", "MutationType": "Mutation", "SubscriptionType": "Subscription"}
ARIADNE_NAMED_TYPES = ("ObjectType", "InterfaceType")  # ObjectType("Mutation"): the type is named by its argument
GRAPHENE_MUTATE = ("mutate", "mutate_and_get_payload")
# Types of one value each: a required argument of one of them always holds a value (an input object's fields, or a
# list's items, need not).
SCALARS = ("String", "Int", "Float", "Boolean", "ID")
GRAPHENE_SCALARS = (*SCALARS, "UUID", "DateTime", "Date", "Time", "Decimal", "BigInt", "Base64", "JSONString")
STRAWBERRY_SCALARS = ("str", "int", "float", "bool", "ID", "UUID", "datetime", "date", "time", "Decimal")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _field(type_name: str, field: str, inputs: tuple[str, ...], required: Iterable[str] = ()) -> EntryPoint:
    """The entry point of `type_name.field`; `required`: the arguments of a non-null type (`String!`), named as
    in the schema or as the resolver's parameters (the inputs keep those the resolver takes)."""
    wanted = set(required)
    return EntryPoint("graphql", f"{type_name}.{field}", inputs=inputs,
                      required=tuple(name for name in inputs if name in wanted or camel_case(name) in wanted))


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
        fields = {target: _required_keywords(value) for target, value in _class_attributes(node)
                  if isinstance(value, ast.Call)} if kind == "type" else {}
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if kind == "type" and item.name.startswith("resolve_") and len(item.name) > len("resolve_"):
                    attribute = item.name.removeprefix("resolve_")
                    registrations.add_function(f"{node.name}.{item.name}", _field(
                        node.name, camel_case(attribute), positional_arguments(item), fields.get(attribute, ())))
                elif kind == "mutation" and item.name in GRAPHENE_MUTATE:
                    required = _graphene_arguments(node)
                    for type_name, field in mounted.get(node.name, [("Mutation", _lower_first(node.name))]):
                        registrations.add_function(f"{node.name}.{item.name}",
                                                   _field(type_name, field, positional_arguments(item), required))
        if kind == "type":
            _resolver_keywords(node, module, registrations, positional_arguments,
                               lambda function, field: _required_keywords(field))


def _graphene_arguments(node: ast.ClassDef) -> tuple[str, ...]:
    """The required arguments of a graphene mutation: `title = graphene.String(required=True)` in its `Arguments`
    class (`Input` for a relay mutation)."""
    for item in node.body:
        if isinstance(item, ast.ClassDef) and item.name in ("Arguments", "Input"):
            return tuple(target for target, value in _class_attributes(item) if _non_null(value))
    return ()


def _required_keywords(field: ast.Call) -> tuple[str, ...]:
    """The required arguments a graphene field declares: `Field(Book, id=graphene.ID(required=True))`."""
    return tuple(keyword.arg for keyword in field.keywords if keyword.arg and _non_null(keyword.value))


def _non_null(value: ast.expr, required: bool = False) -> bool:
    """A graphene scalar that refuses null: `String(required=True)`, `NonNull(String)`, `Argument(NonNull(ID))`,
    `Argument(String, required=True)`. Not a list nor an input object: its items or fields may still be null."""
    if not isinstance(value, ast.Call):
        return required and dotted(value).rsplit(".", 1)[-1] in GRAPHENE_SCALARS
    maker = dotted(value.func).rsplit(".", 1)[-1]
    required = required or is_true(kwarg(value, "required")) or maker == "NonNull"
    if maker in ("NonNull", "Argument"):
        return bool(value.args) and _non_null(value.args[0], required)
    return required and maker in GRAPHENE_SCALARS


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


def _resolver_keywords(node: ast.ClassDef, module: _Module, registrations: Registrations, arguments,
                       required) -> None:
    """`books = Field(..., resolver=find_books)` in the class body: that function resolves `Type.books`.
    `arguments` and `required` read the function's arguments and those of them it requires (`(function, field)`)."""
    for target, value in _class_attributes(node):
        resolver = kwarg(value, "resolver") if isinstance(value, ast.Call) else None
        qualname = dotted(resolver) if resolver is not None else ""
        if qualname in module.functions:
            function = module.functions[qualname]
            registrations.add_function(qualname, _field(node.name, camel_case(target), arguments(function),
                                                        required(function, value)))


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
            _resolver_keywords(node, module, registrations, strawberry_arguments,
                               lambda function, field: _strawberry_required(function))


def _strawberry_decorated(node: FunctionNode, owner: str | None, ctx, registrations: Registrations) -> None:
    for decorator in node.decorator_list:
        kind = _strawberry_field_kind(decorator.func if isinstance(decorator, ast.Call) else decorator, ctx)
        if kind is None:
            continue
        given = string(kwarg(decorator, "name")) if isinstance(decorator, ast.Call) else None
        qualname = f"{owner}.{node.name}" if owner else node.name
        registrations.add_function(qualname, _field(owner or STRAWBERRY_FIELDS[kind], given or camel_case(node.name),
                                                    strawberry_arguments(node), _strawberry_required(node)))
        return


def _strawberry_required(node: FunctionNode) -> tuple[str, ...]:
    """strawberry: an argument annotated with a scalar type that is not optional (`title: str`, not `str | None`
    nor `Optional[str]`) and without a default is a non-null argument."""
    args = node.args
    positional = args.posonlyargs + args.args
    defaulted = {a.arg for a in positional[len(positional) - len(args.defaults):]} if args.defaults else set()
    defaulted |= {a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is not None}
    return tuple(a.arg for a in [*positional, *args.kwonlyargs]
                 if a.annotation is not None and a.arg not in defaulted and _annotation_name(a.annotation)
                 in STRAWBERRY_SCALARS and not _optional(a.annotation))


def _optional(annotation: ast.expr) -> bool:
    """`Optional[str]`, `str | None`, `Union[str, None]`, `"Optional[str]"`, or `Annotated[...]` of one."""
    if isinstance(annotation, ast.Constant):
        text = str(annotation.value)
        return "Optional" in text or "None" in text
    if isinstance(annotation, ast.BinOp):
        return any(_optional(side) or isinstance(side, ast.Constant) and side.value is None
                   for side in (annotation.left, annotation.right))
    if isinstance(annotation, ast.Subscript):
        maker = dotted(annotation.value).rsplit(".", 1)[-1]
        inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        return maker == "Optional" or maker == "Annotated" and _optional(inner[0]) or maker == "Union" and any(
            isinstance(e, ast.Constant) and e.value is None for e in inner)
    return False


def _strawberry_field_kind(func: ast.expr, ctx) -> str | None:
    """"field", "mutation" or "subscription" for strawberry's field makers (`strawberry.federation.field` too)."""
    qualified = ctx.resolve(dotted(func))
    if not qualified.startswith("strawberry."):
        return None
    kind = qualified.rsplit(".", 1)[-1]
    return kind if kind in STRAWBERRY_FIELDS else None


def _ariadne(module: _Module, registrations: Registrations) -> None:
    """`mutation = MutationType()` / `ObjectType("Mutation")`, then `@mutation.field("name")` on a resolver or
    `mutation.set_field("name", resolver)`, the resolver defined here or imported (its arguments are then read
    in the project, `graphql_schemas`). The schema a string of the module holds says which arguments are required."""
    types = _ariadne_types(module.tree, module.ctx)
    if not types:
        return
    required = _module_schema(module.tree)
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                bound = _ariadne_binding(decorator, types, "field")
                if bound is not None:
                    registrations.add_function(node.name, _field(*bound, positional_arguments(node),
                                                                 required.get(".".join(bound), ())))
    for call in module_nodes_of(module.tree, ast.Call):
        bound = _ariadne_binding(call, types, "set_field")
        if bound is None or len(call.args) < 2 or not dotted(call.args[1]):
            continue
        qualname, arguments = dotted(call.args[1]), required.get(".".join(bound), ())
        if qualname in module.functions:
            registrations.add_function(qualname, _field(*bound, positional_arguments(module.functions[qualname]),
                                                        arguments))
        else:
            registrations.add_view(qualname, EntryPoint("graphql", ".".join(bound), inputs=(IMPORTED_RESOLVER,),
                                                         required=tuple(arguments)))


def _module_schema(tree: ast.Module) -> dict[str, set[str]]:
    """The required arguments of the fields a schema in a string of the module declares (`type_defs = gql(...)`)."""
    required: dict[str, set[str]] = {}
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
        if isinstance(value, ast.Call) and value.args:  # gql("""...""")
            value = value.args[0]
        text = string(value)
        if text and "type " in text:
            for field, arguments in schema_arguments(text).items():
                required.setdefault(field, set()).update(arguments)
    return required


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


# ---- what a schema (SDL) requires ---------------------------------------------------------------------------

IMPORTED_RESOLVER = "<resolver arguments>"  # inputs of a resolver registered in another module: read in the project
_SDL_NOISE = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*')  # descriptions and comments
# (bounded repeats and word boundaries: a hostile file cannot make them backtrack across it)
_SDL_TYPE = re.compile(r"\b(?:extend\s+)?type\s+(\w+)[^{}]{0,200}?\{")
_SDL_FIELD = re.compile(r"\b(\w+)\s*\(([^()]{0,5000})\)\s*:")
_SDL_ARGUMENT = re.compile(r"\b(\w+)\s*:\s*(\[[^\]]{0,200}\]\s*!?|\w+\s*!?)")
_SDL_SCALAR = re.compile(r"\b(?:scalar|enum)\s+(\w+)")  # types of one value the schema declares
MAX_SCHEMA_CHARS = 2_000_000


def schema_arguments(text: str) -> dict[str, set[str]]:
    """"Type.field" -> the arguments of a non-null scalar type (`createPost(title: String!)`, a `scalar` or `enum`
    the text declares too) in a GraphQL schema text."""
    if len(text) > MAX_SCHEMA_CHARS:
        return {}
    text = _SDL_NOISE.sub(" ", text)
    scalars = {*SCALARS, *_SDL_SCALAR.findall(text)}
    required: dict[str, set[str]] = {}
    for head in _SDL_TYPE.finditer(text):
        end = text.find("}", head.end())
        if end < 0:
            break  # (no type after this one is closed either)
        body = text[head.end():end]
        for field in _SDL_FIELD.finditer(body):
            names = {argument.group(1) for argument in _SDL_ARGUMENT.finditer(field.group(2))
                     if argument.group(2).rstrip().endswith("!") and argument.group(2).rstrip(" \t\n!") in scalars}
            if names:
                required.setdefault(f"{head.group(1)}.{field.group(1)}", set()).update(names)
    return required


def _snake_case(name: str) -> str:
    """`parentId` -> `parent_id` (ariadne's convert_kwargs_to_snake_case)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@project_entry_points
def graphql_schemas(documents, modules) -> dict[str, list[EntryPoint]]:
    """Complete the GraphQL entry points in the project: a resolver registered in another module gets its
    arguments (every parameter after the parent object and `info`), and a schema file (`schema.graphql`) says
    which arguments of the fields it declares are required. Edits the modules' entries; declares none."""
    required: dict[str, set[str]] = {}
    for path, text in documents:
        if path.endswith(GRAPHQL_SUFFIXES):
            for field, arguments in schema_arguments(text).items():
                required.setdefault(field, set()).update(arguments)
    imported = [(module, name) for module in modules for name, entries in module.foreign_views.items()
                if any(entry.kind == "graphql" for entry in entries)]
    if not required and not imported:
        return {}
    functions: dict[str, Function] = {}
    for module in modules if imported else ():
        for function in module.functions:  # by its dotted name, or its package's (`from .resolvers import f`)
            functions[f"{module.module}.{function.qualname}"] = function
            functions.setdefault(f"{module.module.rpartition('.')[0]}.{function.qualname}", function)
    for module, name in imported:
        function = functions.get(name)
        module.foreign_views[name] = [_completed(entry, function, required) if entry.kind == "graphql" else entry
                                      for entry in module.foreign_views[name]]
    if required:
        for module in modules:
            for function in module.functions:
                if any(entry.kind == "graphql" and entry.name in required for entry in function.entry_points):
                    function.entry_points = [_completed(entry, function, required)
                                             for entry in function.entry_points]
    return {}


def _completed(entry: EntryPoint, function: Function | None, required: dict[str, set[str]]) -> EntryPoint:
    inputs = entry.inputs
    if inputs == (IMPORTED_RESOLVER,):
        inputs = function.params[2:] if function is not None else ()
    wanted = set(entry.required) | required.get(entry.name, set())
    wanted |= {_snake_case(name) for name in wanted}
    return replace(entry, inputs=inputs, required=tuple(name for name in inputs if name in wanted))
