"""SQLAlchemy and Flask-SQLAlchemy: models and Core tables (schema), queries being built (`select(...).where`,
`Model.query.filter_by`), session writes (`add`, `delete`, attribute assignment via the core), result methods."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from plumbline.scan.facts import (
    COLLECTION_MEMBER,
    COLLECTION_OWNER,
    NO_TAINT,
    PASSED_OBJECT,
    RETURNED,
    Column,
    EntryPoint,
    Span,
    Table,
    Taint,
)
from plumbline.scan.models import Registrations, attributes, calls, entry_points, module_nodes
from plumbline.scan.pyast import dotted, is_true, kwarg, last_name, source, span, string, strings, walk
from plumbline.scan.values import UNKNOWN, ColumnRef, Query, Value, union
from plumbline.vocabulary import MODEL_PARAMETER

RESULT_METHODS = ("fetchone", "fetchall", "fetchmany", "first", "one", "one_or_none", "all", "scalar", "scalars",
                  "scalar_one", "scalar_one_or_none", "mappings", "first_or_404", "one_or_404", "count", "exists",
                  "unique", "tuples", "paginate")
STATEMENT_RUNNERS = ("first_or_404", "one_or_404", "paginate")  # `db.<runner>(statement)` runs the statement
QUERY_MODIFIERS = ("order_by", "limit", "offset", "options", "join", "outerjoin", "distinct", "returning",
                   "execution_options", "group_by", "having", "select_from", "correlate", "load_only")
STATEMENTS = ("select", "update", "insert", "delete")
MODEL_BASES = re.compile(r"(^|\.)(Model|Base|DeclarativeBase|DeclarativeBaseNoMeta|AbstractConcreteBase)$|Base$")


# ---- SQL text --------------------------------------------------------------------------------------------

@calls("text", "TextClause", "literal_column")
def text(visitor, site) -> Value | None:
    return site.arguments[0] if site.arguments else None


@calls("bindparams", "columns")
def bound_text(visitor, site) -> Value | None:
    """text("... :code").bindparams(code=code): the values are bound, the text unchanged."""
    if site.receiver is not None and site.receiver.text is not None:
        return site.receiver
    return None


# ---- the session -----------------------------------------------------------------------------------------

@calls("add", "add_all", "merge")
def add(visitor, site) -> Value | None:
    if site.receiver is None or not site.arguments:
        return None
    first = site.arguments[0]
    objects = first.items if site.name == "add_all" and first.items is not None else site.arguments[:1]
    for created in (o for o in objects if o.created and o.instance_of):
        visitor.add_op(site.node, api="orm", action="insert", table=created.instance_of,
                       writes={k: v.whole_taint for k, v in created.fields or ()})
    # `session.add(self)` in a model method (an active-record `save()`): an INSERT when the object the method is
    # called on was created by the caller, nothing new when it was loaded. The project stage decides.
    itself = [o for o in objects if o.instance_of and not o.created and "self" in o.taint.raw_params]
    for added in itself:
        visitor.add_op(site.node, api="orm", action="insert", table=added.instance_of, keys={"<self>": added.taint})
    # `def save(obj): session.add(obj)`, `session.add_all(models)`: an INSERT of what each caller built and passed,
    # nothing for a loaded object. The project stage decides (PASSED_OBJECT).
    passed = [p for p in (_bare_parameter(o, visitor) for o in site.arguments[:1]) if p]
    for parameter in passed:
        visitor.add_op(site.node, api="orm", action="insert", table=f"{PASSED_OBJECT}{parameter}")
    return UNKNOWN if itself or passed or any(o.created for o in objects) else None


def _bare_parameter(value: Value, visitor) -> str | None:
    """The parameter (not `self`) a value is, unchanged, when nothing here says what it holds."""
    taint = value.taint
    if value.created or value.instance_of or value.items is not None or len(taint.params) != 1 or \
            taint.params != taint.raw_params or taint.client or taint.reads or "self" in taint.params:
        return None
    parameter = next(iter(taint.params))
    return parameter if parameter in visitor.function.params else None


@calls("delete")
def delete_object(visitor, site) -> Value | None:
    if site.receiver is not None and len(site.node.args) == 1 and site.arguments[0].instance_of:
        # (`session.delete(obj)` takes one object: `store.delete(fleet, serial)` is a project method)
        visitor.add_op(site.node, api="orm", action="delete", table=site.arguments[0].instance_of,
                       keys={"<loaded>": site.arguments[0].taint})
        return UNKNOWN
    return None


COLLECTION_ADDS = ("append", "extend", "insert", "add")
COLLECTION_REMOVALS = ("remove", "pop", "discard")


@calls(*COLLECTION_ADDS, *COLLECTION_REMOVALS)
def collection_change(visitor, site) -> Value | None:
    """`attendee.workshops.append(workshop)`, `task.voter_ids.remove(me)` on a loaded object: the unit of work
    writes the change at the next flush.

    A relationship gains (loses) a row of its association table; an ARRAY/JSON column is read, changed in Python
    and written back whole. Which one the attribute is, only the schema says: the op is an INSERT into (a DELETE
    from) `Model.attribute` (COLLECTION_OWNER and COLLECTION_MEMBER name its sides), and the checks tell them
    apart. The owner may be what a project call returned (`<returned>N`): the project stage names its class."""
    collection = _loaded_collection(visitor, site)
    if collection is None or not site.arguments and site.name != "pop":
        return None
    attribute, owner = collection
    visitor.add_op(site.node, api="orm", action="insert" if site.name in COLLECTION_ADDS else "delete",
                   table=attribute, keys={COLLECTION_OWNER: owner.taint},
                   writes={COLLECTION_MEMBER: union(*site.arguments).taint})
    return UNKNOWN


def _loaded_collection(visitor, site) -> tuple[str, Value] | None:
    """`owner.attribute` that a method is called on, `owner` a row loaded here: (`Model.attribute`, owner)."""
    return _attribute_of_loaded(visitor, site.node.func.value if isinstance(site.node.func, ast.Attribute) else None)


def _attribute_of_loaded(visitor, collection: ast.expr | None) -> tuple[str, Value] | None:
    """`owner.attribute`, `owner` a row loaded here (or returned by a call): (`Model.attribute`, owner)."""
    if not (isinstance(collection, ast.Attribute) and isinstance(collection.value, ast.Name)):
        return None
    owner = visitor.scope.lookup(collection.value.id)
    if owner is None or not owner.instance_of or owner.created or \
            owner.instance_of.startswith("<") and not owner.instance_of.startswith(RETURNED):
        return None
    if owner.instance_of in visitor.ctx.class_names and not visitor.ctx.is_row_class(owner.instance_of):
        return None  # `self.pending.pop()` in a plain class: no row
    return f"{owner.instance_of}.{collection.attr}", owner


# ---- queries ---------------------------------------------------------------------------------------------

@calls(*STATEMENTS)
def statement(visitor, site) -> Value | None:
    """`select(Model)`, `sa.update(table)`, `db.delete(Model)`: a statement being built."""
    node, func = site.node, site.node.func
    plain = node.args and not isinstance(func, ast.Attribute)
    if not (plain or isinstance(func, ast.Attribute) and dotted(func.value) in ("sa", "sqlalchemy", "db")):
        return None
    target = node.args[0] if node.args else None
    model = last_name(target) if target is not None else ""
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "c":
        model = last_name(target.value.value)  # select(items.c.quantity): a Core table's column
    elif isinstance(target, ast.Attribute) and not visitor.looks_like_model(target):
        model = last_name(target.value) if visitor.looks_like_model(target.value) else model
    if not model:
        return None
    return Value(query=Query(model=model, action={"select": "read"}.get(site.name, site.name)))


@calls()
def aliased_statement(visitor, site) -> Value | None:
    """`from sqlalchemy import delete as sql_delete`: a statement builder imported under another name."""
    qualified = site.qualified.rpartition(".")
    if qualified[2] in STATEMENTS and site.name != qualified[2] and qualified[0].split(".")[0] == "sqlalchemy":
        return statement(visitor, replace(site, name=qualified[2]))
    return None


@calls("query")
def session_query(visitor, site) -> Value | None:
    func = site.node.func
    if site.receiver is None or not site.node.args or not isinstance(func, ast.Attribute):
        return None
    target = site.node.args[0]
    if _member(func.value) and site.receiver.instance_of and not visitor.looks_like_model(target):
        return None  # `self.backend.query(service)`: a method of a project class (see objects.py)
    model = last_name(target.value) if isinstance(target, ast.Attribute) and visitor.looks_like_model(
        target.value) else last_name(target)
    return Value(query=Query(model=model))


@calls("get", "get_or_404", "get_one")
def get_by_key(visitor, site) -> Value | None:
    """`session.get(Model, id)`, `Model.query.get(id)`."""
    node = site.node
    if site.receiver is None:
        return None
    if len(node.args) >= 2 and (visitor.looks_like_model(node.args[0]) or _model_parameter(visitor, node.args[0])):
        lock = kwarg(node, "with_for_update")
        query = Query(model=last_name(node.args[0]), keys=(("id", union(site.arguments[1]).taint),),
                      for_update=is_true(lock) or lock is not None)
        return visitor.query_op(node, query)
    query = site.receiver.query
    if query is not None and site.name in ("get", "get_or_404") and site.arguments:
        return visitor.query_op(node, query.adding(keys=(("id", union(site.arguments[0]).taint),)))
    return None


def _model_parameter(visitor, node: ast.expr) -> bool:
    """`session.get(cls, id)` in a helper shared by every model: a parameter named for the model class it receives
    (the project stage reads the class from each caller)."""
    return isinstance(node, ast.Name) and node.id in visitor.function.params and bool(MODEL_PARAMETER.match(node.id))


@calls("filter_by")
def filter_by(visitor, site) -> Value | None:
    query = site.receiver.query if site.receiver is not None else None
    if query is None:
        return None
    return Value(query=query.adding(keys=tuple((k, v.whole_taint) for k, v in site.keywords.items())))


@calls("filter", "where")
def where(visitor, site) -> Value | None:
    query = site.receiver.query if site.receiver is not None else None
    if query is None:
        return None
    keys, guards, fragments = [], [], []
    for argument in site.node.args:
        _predicate(visitor, argument, keys, guards, fragments)
    if fragments:
        query = replace(query, interpolated=NO_TAINT.union(*fragments, query.interpolated or NO_TAINT))
    return Value(query=query.adding(keys=tuple(keys), guards=tuple(guards)))


def _predicate(visitor, node: ast.expr, keys: list, guards: list, fragments: list) -> None:
    """Equalities on columns are keys (`Account.id == x`); other comparisons are guards (`balance >= x`); SQL text
    (`text(f"body LIKE '%{q}%'")`) goes into the statement as written: what its formatting put in, `fragments`."""
    parts = node.values if isinstance(node, ast.BoolOp) else \
        node.args if isinstance(node, ast.Call) and last_name(node.func) in ("and_", "or_") else None
    if parts is not None:
        both = isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) or \
            isinstance(node, ast.Call) and last_name(node.func) == "and_"  # (either side of an OR is no key)
        for value in parts:
            _predicate(visitor, value, keys if both else [], guards if both else [], fragments)
        return
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = visitor.value(node.left), visitor.value(node.comparators[0])
        column, other = (left.column, right) if left.column else (right.column, left)
        if column is not None and isinstance(node.ops[0], (ast.Eq, ast.In, ast.Is)) and other.column is None:
            keys.append((column.column, other.whole_taint))
            return
        if column is not None:
            guards.append(column.column)
            return
    value = visitor.value(node)
    if value.text is not None and value.interpolated:
        fragments.append(value.interpolated)


@calls("select", "filter", "filter_by", "where", "delete")
def relationship_query(visitor, site) -> Value | None:
    """`user.tasks.select().where(...)`, `user.notifications.delete()`, `post.comments.filter_by(...)`: a
    query of the rows a loaded object's relationship holds (a write-only or dynamic relationship), the owner
    being a key. The project stage names the related table and the foreign key the owner fills."""
    collection = _loaded_collection(visitor, site) if site.receiver is None or site.receiver.query is None else None
    if collection is None:
        return None
    attribute, owner = collection
    query = Query(model=attribute, keys=((COLLECTION_OWNER, owner.taint),),
                  action="delete" if site.name == "delete" else "read")
    if site.name == "filter_by":
        return filter_by(visitor, replace(site, receiver=Value(query=query)))
    if site.name in ("filter", "where"):
        return where(visitor, replace(site, receiver=Value(query=query)))
    return Value(query=query)


@calls("next", "any")
def collection_search(visitor, site) -> Value | None:
    """`next((s for s in user.portfolio if s.symbol == symbol), None)`, `any(...)`: a search of the rows a loaded
    object's relationship holds, by their columns: a read of the related table keyed by the owner and those."""
    search = site.node.args[0] if site.node.args else None
    if not isinstance(search, ast.GeneratorExp) or len(search.generators) != 1:
        return None
    generator = search.generators[0]
    collection = _attribute_of_loaded(visitor, generator.iter)
    if collection is None or not isinstance(generator.target, ast.Name):
        return None
    attribute, owner = collection
    keys = {COLLECTION_OWNER: owner.taint}
    for condition in generator.ifs:
        tests = condition.values if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And) else \
            [condition]
        for test in (t for t in tests if isinstance(t, ast.Compare) and isinstance(t.ops[0], ast.Eq)):
            sides = (test.left, test.comparators[0])
            for element, other in (sides, sides[::-1]):
                if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) and \
                        element.value.id == generator.target.id and len(test.ops) == 1:
                    keys[element.attr] = union(visitor.value(other)).taint
    if len(keys) == 1:
        return None
    op = visitor.add_op(site.node, api="orm", action="read", table=attribute, keys=keys)
    found = Value(taint=Taint(reads=frozenset({op.id})))
    if site.name == "next" and site.arguments[0].instance_of:  # the row found: its writes are the related row's
        return replace(union(found, *site.arguments), instance_of=site.arguments[0].instance_of)
    return found


@calls("on_conflict_do_nothing", "on_conflict_do_update")
def upsert(visitor, site) -> Value | None:
    """postgresql.insert(...).on_conflict_do_...()."""
    query = site.receiver.query if site.receiver is not None else None
    if query is None or query.action != "insert":
        return None
    return Value(query=replace(query, action="upsert"))


@calls("with_for_update", "with_lockmode", "populate_existing")
def locking(visitor, site) -> Value | None:
    query = site.receiver.query if site.receiver is not None else None
    if query is None:
        return None
    return Value(query=replace(query, for_update=query.for_update or site.name != "populate_existing"))


@calls("values", "update")
def values(visitor, site) -> Value | None:
    """`insert(T).values(...)`, `update(T).where(...).values(...)`, `Model.query.filter_by(...).update({...})`."""
    query = site.receiver.query if site.receiver is not None else None
    if query is None or site.name == "update" and not (query.action == "read" and site.arguments):
        return None
    source_value = site.arguments[0] if site.arguments else Value(fields=tuple(site.keywords.items()))
    items = source_value.fields if source_value.fields is not None else tuple(site.keywords.items())
    writes, atomic = [], []
    for column, value in items:
        if any(c.column == column for c in value.expression_columns):
            atomic.append(column)
        else:
            writes.append((column, value.whole_taint))
    action = "update" if site.name == "update" else query.action
    updated = replace(query.adding(writes=tuple(writes), atomic=tuple(atomic)), action=action)
    return visitor.query_op(site.node, updated) if site.name == "update" else Value(query=updated)


@calls("delete")
def delete_query(visitor, site) -> Value | None:
    query = site.receiver.query if site.receiver is not None else None
    if query is None or query.action != "read":
        return None
    return visitor.query_op(site.node, replace(query, action="delete"))


@calls(*QUERY_MODIFIERS)
def modifier(visitor, site) -> Value | None:
    query = site.receiver.query if site.receiver is not None else None
    return Value(query=query) if query is not None else None


@calls(*RESULT_METHODS)
def result(visitor, site) -> Value | None:
    if site.receiver is None:
        return None
    if site.receiver.query is not None:
        return visitor.query_op(site.node, site.receiver.query)
    if site.name in STATEMENT_RUNNERS and site.arguments and site.arguments[0].query is not None:
        return visitor.query_op(site.node, site.arguments[0].query)  # Flask-SQLAlchemy 3: db.first_or_404(select(...))
    return site.receiver


@calls("to_dict", "serialize", "as_dict")
def serialized(visitor, site) -> Value | None:
    if site.receiver is not None and site.receiver.instance_of:
        return Value(taint=site.receiver.taint)
    return None


@attributes
def model_attribute(visitor, node: ast.Attribute, owner: Value) -> Value | None:
    """`Model.query`, `Model.column`, `table.c.column`."""
    base = node.value
    if node.attr == "query" and (visitor.looks_like_model(base) or _acronym_class(visitor, base)):
        return Value(query=Query(model=last_name(base)))
    if node.attr == "c" and owner.column is None:
        return owner
    if visitor.looks_like_model(base) and not owner.taint:
        return Value(column=ColumnRef(last_name(base), node.attr))
    if isinstance(base, ast.Attribute) and base.attr == "c":
        return Value(column=ColumnRef(last_name(base.value), node.attr))
    return None


def _member(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _acronym_class(visitor, node: ast.expr) -> bool:
    """An upper-case name that is no value of this module, before `.query`: a model named by an acronym (`CSR`),
    not a constant (constants are assigned in the module; `looks_like_model` leaves upper-case names out)."""
    return isinstance(node, ast.Name) and node.id.isupper() and len(node.id) > 1 and \
        visitor.scope.lookup(node.id) is None


# ---- mapper and session events ----------------------------------------------------------------------------

FLUSH_EVENTS = ("before_insert", "after_insert", "before_update", "after_update", "before_delete", "after_delete",
                "before_flush", "after_flush", "after_flush_postexec", "before_commit")


@entry_points
def flush_listeners(tree: ast.Module, ctx) -> Registrations:
    """`@event.listens_for(TaskRun, "after_insert")`: SQLAlchemy runs the listener inside the flush of whichever
    request writes the model, in that request's transaction: what it does is request code (its arguments are the
    ORM's, not the client's)."""
    registrations = Registrations()
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and last_name(decorator.func) == "listens_for" and \
                    len(decorator.args) >= 2 and string(decorator.args[1]) in FLUSH_EVENTS:
                name = f"{last_name(decorator.args[0])} {string(decorator.args[1])}"
                registrations.add_function(node.name, EntryPoint(kind="consumer", name=name))
    return registrations


# ---- schema ----------------------------------------------------------------------------------------------

@module_nodes(ast.Call)
def core_table(node: ast.Call, ctx) -> None:
    if last_name(node.func) == "Table" and len(node.args) >= 2 and string(node.args[0]):
        ctx.facts.tables.append(table_call(node, ctx.facts.path))


@module_nodes(ast.ClassDef)
def declarative_model(node: ast.ClassDef, ctx) -> None:
    table = model_table(node, ctx.facts.path)
    if table is not None:
        ctx.facts.tables.append(table)


def _snake(name: str) -> str:
    """Flask-SQLAlchemy's default table name for a model: `OrderLine` -> `order_line`, `CSR` -> `csr`,
    `SRState` -> `sr_state` (an acronym stays one word)."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower().lstrip("_")


def model_table(node: ast.ClassDef, path: str) -> Table | None:
    """An SQLAlchemy / Flask-SQLAlchemy declarative model, or None when the class is not one."""
    bases = [dotted(base) for base in node.bases]
    tablename = None
    has_columns = False
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__tablename__"
                                                for t in item.targets):
            tablename = string(item.value)
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
        elif target == "__mapper_args__" and "version_id_col" in source(value):
            table.versioned = True
        elif isinstance(value, ast.Call) and last_name(value.func) in ("Column", "mapped_column"):
            column = column_call(value, target, item.lineno, annotation)
            if column is not None:
                table.columns[column.name] = column
        elif isinstance(value, ast.Call) and last_name(value.func) == "relationship":
            related = _related_model(value, annotation)
            if related and kwarg(value, "secondary") is None:
                table.relationships[target] = related
        elif value is None and annotation is not None and "Mapped" in source(annotation) and \
                "relationship" not in source(annotation):
            mapped = source(annotation)
            if re.search(r"Mapped\[\s*(List|list|Set|set)\b", mapped):
                continue
            nullable = _optional(mapped)
            table.columns[target.lower()] = Column(target.lower(), nullable=nullable,
                                                   optional="typed" if nullable else "", span=Span(item.lineno))
    _table_args(table_args, table)
    for name in _constructor_required(node):
        if name in table.columns:
            table.columns[name].required = True
    return table


def _constructor_required(node: ast.ClassDef) -> set[str]:
    """Attributes a model's own `__init__` sets from a parameter without a default (`self.text = text`): every
    object built, so every row inserted, has them."""
    init = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
    if init is None:
        return set()
    positional = init.args.posonlyargs + init.args.args
    required = {arg.arg for arg in positional[1:len(positional) - len(init.args.defaults)]}
    required |= {arg.arg for arg, default in zip(init.args.kwonlyargs, init.args.kw_defaults) if default is None}
    return {target.attr.lower() for item in walk(init) if isinstance(item, ast.Assign)
            and isinstance(item.value, ast.Name) and item.value.id in required
            for target in item.targets if isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name) and target.value.id == "self"}


def _related_model(call: ast.Call, annotation: ast.expr | None) -> str | None:
    """The class a `relationship(...)` leads to: its first argument (`"Task"`, `Task`), else the class its
    annotation names (`so.WriteOnlyMapped['Task']`, `Mapped[List["Task"]]`)."""
    if call.args:
        return (string(call.args[0]) or last_name(call.args[0]) or "").rpartition(".")[2] or None
    names = re.findall(r"[A-Za-z_]\w*", source(annotation)) if annotation is not None else []
    classes = [name for name in names if name[:1].isupper() and name not in TYPING_WRAPPERS]
    return classes[-1] if classes else None


TYPING_WRAPPERS = ("Mapped", "WriteOnlyMapped", "DynamicMapped", "List", "Set", "Optional", "Sequence")


def _optional(annotation: str) -> bool:
    return bool(re.search(r"Optional\[|\|\s*None|None\s*\|", annotation))


def column_call(call: ast.Call, attribute: str | None, line: int, annotation: ast.expr | None = None) -> Column | None:
    name = attribute
    type_name = None
    references = None
    check = False
    for arg in call.args:
        if string(arg) is not None and name is None or (string(arg) and attribute and arg is call.args[0]):
            name = string(arg)
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "ForeignKey" and arg.args:
            target = string(arg.args[0]) or source(arg.args[0])
            references = target.lower()
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "CheckConstraint":
            check = True
        elif type_name is None and isinstance(arg, (ast.Name, ast.Attribute, ast.Call)):
            type_name = last_name(arg)
    if name is None:
        return None
    primary_key = is_true(kwarg(call, "primary_key"))
    nullable_node = kwarg(call, "nullable")
    if isinstance(nullable_node, ast.Constant) and isinstance(nullable_node.value, bool):
        nullable = nullable_node.value
        optional = "explicit" if nullable else ""
    elif annotation is not None and last_name(call.func) == "mapped_column":
        nullable = _optional(source(annotation))
        optional = "typed" if nullable else ""
    else:
        nullable, optional = not primary_key, ""
    return Column(
        name=name.lower(), type=type_name, nullable=nullable and not primary_key, optional=optional,
        unique=is_true(kwarg(call, "unique")),
        primary_key=primary_key, references=references, check=check, span=Span(line),
        default=_default_function(kwarg(call, "default")),
    )


def _default_function(default: ast.expr | None) -> str | None:
    """The function a column default calls: `default=generate_slug`, `default=lambda: generate_token(40)`,
    `default=uuid.uuid4` (a constant default calls none)."""
    if isinstance(default, ast.Lambda):
        default = default.body.func if isinstance(default.body, ast.Call) else None
    return dotted(default) or None if isinstance(default, (ast.Name, ast.Attribute)) else None


def _table_args(value: ast.expr | None, table: Table) -> None:
    elements = value.elts if isinstance(value, (ast.Tuple, ast.List)) else []
    for element in elements:
        if not isinstance(element, ast.Call):
            continue
        kind = last_name(element.func)
        if kind in ("UniqueConstraint", "PrimaryKeyConstraint"):
            names = tuple(c.lower() for c in (string(a) or last_name(a) for a in element.args) if c)
            table.unique_sets.append(names)
            if kind == "PrimaryKeyConstraint" and len(names) == 1 and names[0] in table.columns:
                table.columns[names[0]].primary_key = True  # the row's own key: not a reference to another row
        elif kind == "Index" and is_true(kwarg(element, "unique")):
            columns = tuple(c.lower() for c in (string(a) or last_name(a) for a in element.args[1:]) if c)
            table.unique_sets.append(columns)
        elif kind == "CheckConstraint" and element.args:
            for column in re.findall(r"[A-Za-z_]\w*", string(element.args[0]) or source(element.args[0])):
                if column.lower() in table.columns:
                    table.columns[column.lower()].check = True
        elif kind == "ForeignKeyConstraint" and len(element.args) >= 2:
            for column, target in zip(strings(element.args[0]), strings(element.args[1])):
                table.columns.setdefault(column.lower(), Column(column.lower(), declared=False)).references = \
                    target.lower()


def table_call(call: ast.Call, path: str) -> Table:
    """`Table("users", metadata, Column(...), ...)` and alembic `op.create_table("users", sa.Column(...))`."""
    table = Table(string(call.args[0]).lower(), path, span(call), defined=True)
    for arg in call.args[1:]:
        if isinstance(arg, ast.Call) and last_name(arg.func) == "Column":
            column = column_call(arg, None, arg.lineno)
            if column is not None:
                # Migrations spell out `nullable=True` for every nullable column: there it is no decision.
                column.optional = ""
                table.columns[column.name] = column
    _table_args(ast.Tuple(elts=[a for a in call.args[1:] if isinstance(a, ast.Call)]), table)
    return table
