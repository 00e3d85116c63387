"""PynamoDB: `Model` classes and their calls — `Model.get`, `query`, `scan`, `save()`, `update(actions=...)`,
`delete()`, `TransactWrite`, `batch_write()` — and its conditions (`Model.owner == me`, `Model.id.does_not_exist()`).

A model's key schema and `VersionAttribute` are read by `dynamodb_schema.py`; whether a save is conditional on the
version is decided by the checks, which know every model of the project. A key given by position is recorded
as `<hash>` / `<range>`: the model's schema names it.
"""

from __future__ import annotations

import ast

from plumbline.scan.facts import NO_TAINT, RETURNED, Taint
from plumbline.scan.models import calls, module_nodes
from plumbline.scan.models.dynamodb import (
    Condition,
    assigned,
    dynamo_op,
    item_writes,
    loaded_model,
    read_result,
)
from plumbline.scan.pyast import dotted, kwarg, last_name, walk
from plumbline.scan.values import UNKNOWN, Value, union

READS = ("get", "query", "scan", "count", "batch_get")
ACTIONS_ATOMIC = ("add", "append", "prepend", "delete")
CONDITION_METHODS = {"exists": "present", "does_not_exist": "absent", "startswith": "compare", "is_in": "compare",
                     "between": "compare", "contains": "compare", "is_type": "compare"}
PYNAMODB_FLAG = "pynamodb"
# The key of a save or delete of an object a project helper built (`self._to_model(item).save()`): the object is a
# PynamoDB model only if the helper returns one of the project's declared models (the checks know them).
BUILT_OBJECT = "<object>"


@module_nodes(ast.Import, ast.ImportFrom)
def imports_pynamodb(node: ast.Import | ast.ImportFrom, ctx) -> None:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
    if any(name == "pynamodb" or name.startswith("pynamodb.") for name in names):
        ctx.flags.add(PYNAMODB_FLAG)


def _model(visitor, node: ast.expr) -> tuple[str, bool] | None:
    """The model class a receiver names (`Note`, `Note.owner_index`), and whether that is certain (the module uses
    PynamoDB); None when it is no class."""
    if isinstance(node, ast.Attribute) and last_name(node.value)[:1].isupper():
        if "index" not in node.attr.lower():
            return None  # `User.query.get(id)` is Flask-SQLAlchemy's
        node = node.value  # an index: Host.service_index.query(...)
    name = last_name(node)
    if not (isinstance(node, (ast.Name, ast.Attribute)) and name[:1].isupper() and not name.isupper()):
        return None
    if isinstance(node, ast.Name) and visitor.scope.lookup(name) is not None:
        return None
    certain = PYNAMODB_FLAG in visitor.ctx.flags
    if not certain and "model" not in visitor.ctx.resolve(dotted(node)).lower():
        return None
    return name, certain


def _positional_keys(site) -> dict[str, Taint]:
    keys = {}
    for label, value in zip(("<hash>", "<range>"), site.arguments[:len(site.node.args)]):
        keys[label] = value.whole_taint
    if "hash_key" in site.keywords:
        keys["<hash>"] = union(site.keywords["hash_key"]).taint
    if "range_key" in site.keywords:
        keys["<range>"] = union(site.keywords["range_key"]).taint
    return keys


@calls()
def new_model(visitor, site) -> Value | None:
    """`Note(user_id, note_id, text=t)` in a module that uses PynamoDB: the object the core would make, with its
    positional keys kept as `<hash>` / `<range>` attributes so that a later `save()` knows its key."""
    func = site.node.func
    if PYNAMODB_FLAG not in visitor.ctx.flags or not isinstance(func, ast.Name) or not site.node.args or \
            not func.id[:1].isupper() or func.id.isupper() or func.id in visitor.ctx.function_names or \
            visitor.scope.lookup(func.id) is not None:
        return None
    positional = site.arguments[:len(site.node.args)]
    keys = tuple(zip(("<hash>", "<range>"), positional))
    return Value(instance_of=func.id, created=True, taint=union(*site.arguments, *site.keywords.values()).taint,
                 fields=keys + tuple(site.keywords.items()))


@calls(*READS)
def class_read(visitor, site) -> Value | None:
    """`Note.get(user_id, note_id)`, `Note.query(user_id, filter_condition=...)`, `Note.owner_index.query(x)`."""
    func = site.node.func
    if not isinstance(func, ast.Attribute) or any(isinstance(a, ast.Compare) for a in site.node.args):
        return None
    found = _model(visitor, func.value)
    if found is None:
        return None
    model, certain = found
    condition = pynamo_condition(visitor, kwarg(site.node, "filter_condition")) or Condition()
    range_condition = pynamo_condition(visitor, kwarg(site.node, "range_key_condition"))
    if range_condition is not None:
        condition = condition.merge(Condition(guards=range_condition.guards))
    keys = _positional_keys(site) if site.name != "scan" else {}
    op = dynamo_op(visitor, site.node, "read", model, keys=keys, condition=condition)
    if not certain and site.name not in ("query", "scan"):
        return None  # maybe a project class with a `get` of its own: the core records the call as well
    value = read_result(op)
    return Value(taint=value.taint, dynamo=("item", model)) if site.name == "get" else value


def _instance(visitor, receiver: Value | None) -> tuple[str, bool] | None:
    """The model of an object a method is called on, and whether it was loaded (else built here)."""
    if receiver is None:
        return None
    if receiver.instance_of and receiver.created:
        return receiver.instance_of, False
    model = loaded_model(visitor, receiver)
    return (model, True) if model else None


def _batched(owner: tuple[str, str] | None) -> tuple[str, bool] | None:
    """`with Note.batch_write() as batch: for note in notes: batch.delete(note)`: whatever the object, it is one of
    the batch's model, and (given to a batch) one the caller already holds."""
    return (owner[1], True) if owner is not None and owner[0] == "batch" and owner[1] else None


@calls("save")
def save(visitor, site) -> Value | None:
    """`Note(...).save()` (a put of a new item), `note.save()` of a loaded one (the whole item written back),
    `batch.save(obj)`, `transaction.save(obj, condition=...)`."""
    owner = site.receiver.dynamo if site.receiver is not None else None
    target = site.arguments[0] if owner and owner[0] in ("batch", "transaction") and site.arguments else site.receiver
    found = _instance(visitor, target) or _batched(owner)
    if found is None:
        _built_object(visitor, site, "upsert")
        return None
    model, loaded = found
    if not loaded and not owner and PYNAMODB_FLAG not in visitor.ctx.flags:
        return None  # `User(...).save()` of another library (or a project's own save method)
    condition = pynamo_condition(visitor, kwarg(site.node, "condition")) or Condition()
    if loaded:
        writes, keys, shaped = {"*": target.whole_taint}, {"<loaded>": target.taint}, None
    else:
        writes, shaped = item_writes(Value(taint=target.taint, fields=target.fields))
        keys = {}
    together = int(owner[1]) if owner and owner[0] == "transaction" else 0
    dynamo_op(visitor, site.node, "upsert", model, keys=keys, writes=writes, condition=condition, item=shaped,
              together=together, batched=bool(owner and owner[0] == "batch"))
    return UNKNOWN


def _built_object(visitor, site, action: str) -> None:
    """`self._to_model(item).save()`: the whole object a helper returned, written (or deleted). The project stage
    names its class from the helper; the call still goes on to the core (a project class may define its own
    `save`)."""
    receiver = site.receiver
    if receiver is None or not (receiver.instance_of or "").startswith(RETURNED) or site.node.args:
        return
    condition = pynamo_condition(visitor, kwarg(site.node, "condition")) or Condition()
    writes = {"*": receiver.whole_taint} if action == "upsert" else {}
    dynamo_op(visitor, site.node, action, receiver.instance_of, keys={BUILT_OBJECT: receiver.taint}, writes=writes,
              condition=condition)


@calls("update")
def update(visitor, site) -> Value | None:
    """`note.update(actions=[Note.text.set(t), Note.views.add(1)], condition=...)`, also in a TransactWrite."""
    owner = site.receiver.dynamo if site.receiver is not None else None
    in_transaction = owner is not None and owner[0] == "transaction"
    target = site.arguments[0] if in_transaction and site.arguments else site.receiver
    actions = kwarg(site.node, "actions")
    if actions is None and in_transaction and len(site.node.args) > 1:
        actions = site.node.args[1]
    found = _instance(visitor, target)
    if found is None or actions is None:
        return None
    model, loaded = found
    writes, atomic = _actions(visitor, actions)
    condition = pynamo_condition(visitor, kwarg(site.node, "condition")) or Condition()
    keys = {"<loaded>": target.taint} if loaded else ({"<hash>": target.taint} if target.taint else {})
    dynamo_op(visitor, site.node, "update", model, keys=keys, writes=writes, atomic=atomic, condition=condition,
              together=int(owner[1]) if in_transaction else 0)
    return UNKNOWN


def _actions(visitor, node: ast.expr) -> tuple[dict[str, Taint], list[str]]:
    writes: dict[str, Taint] = {}
    atomic: list[str] = []
    node = assigned(visitor, node)
    for action in node.elts if isinstance(node, (ast.List, ast.Tuple)) else ():
        if not (isinstance(action, ast.Call) and isinstance(action.func, ast.Attribute)):
            continue
        attribute = last_name(action.func.value)
        if action.func.attr in ACTIONS_ATOMIC:
            atomic.append(attribute)
        elif action.func.attr == "set":
            source = action.args[0] if action.args else None
            if source is not None and any(isinstance(n, ast.Attribute) and n.attr == attribute
                                          for n in walk(source)):
                atomic.append(attribute)  # Note.views.set(Note.views + 1)
            else:
                writes[attribute] = union(visitor.value(source)).taint
        elif action.func.attr == "remove":
            writes[attribute] = NO_TAINT
    return writes, atomic


@calls("delete")
def delete(visitor, site) -> Value | None:
    owner = site.receiver.dynamo if site.receiver is not None else None
    grouped = owner is not None and owner[0] in ("batch", "transaction")
    target = site.arguments[0] if grouped and site.arguments else site.receiver
    if not grouped and site.node.args:
        return None  # session.delete(obj) and friends are not PynamoDB's
    found = _instance(visitor, target) or _batched(owner)
    if found is None and not grouped:
        _built_object(visitor, site, "delete")
        return None
    if found is None or not found[1] and not grouped and PYNAMODB_FLAG not in visitor.ctx.flags:
        return None  # `obj.delete()` of another library, or a project's own method
    model, loaded = found
    condition = pynamo_condition(visitor, kwarg(site.node, "condition")) or Condition()
    keys = {"<loaded>": target.taint} if loaded else ({"<hash>": target.taint} if target.taint else {})
    dynamo_op(visitor, site.node, "delete", model, keys=keys, condition=condition,
              together=int(owner[1]) if owner and owner[0] == "transaction" else 0,
              batched=bool(owner and owner[0] == "batch"))
    return UNKNOWN


@calls("condition_check")
def condition_check(visitor, site) -> Value | None:
    owner = site.receiver.dynamo if site.receiver is not None else None
    if not owner or owner[0] != "transaction" or not site.node.args:
        return None
    condition = pynamo_condition(visitor, kwarg(site.node, "condition")) or Condition()
    keys = {"<hash>": union(site.arguments[1]).taint} if len(site.arguments) > 1 else {}
    dynamo_op(visitor, site.node, "other", last_name(site.node.args[0]), keys=keys, condition=condition,
              together=int(owner[1]))
    return UNKNOWN


@calls("TransactWrite")
def transact_write(visitor, site) -> Value | None:
    """`with TransactWrite(connection=...) as transaction:` — what it holds commits together."""
    together = hash((visitor.ctx.facts.path, site.node.lineno, site.node.col_offset)) & 0x7FFFFFFF or 1
    return Value(dynamo=("transaction", str(together)))


@calls("batch_write")
def batch_write(visitor, site) -> Value | None:
    """`with Note.batch_write() as batch: batch.save(note)` — not atomic."""
    func = site.node.func
    if not isinstance(func, ast.Attribute) or _model(visitor, func.value) is None:
        return None
    return Value(dynamo=("batch", last_name(func.value)))


def pynamo_condition(visitor, node: ast.expr | None) -> Condition | None:
    """`Note.owner == me`, `Note.id.does_not_exist()`, `(a) & (b)`, `~(a)`: what a `condition=` asks."""
    node = assigned(visitor, node)
    if node is None:
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        left, right = pynamo_condition(visitor, node.left), pynamo_condition(visitor, node.right)
        return (left or Condition()).merge(right or Condition())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        inner = pynamo_condition(visitor, node.operand) or Condition()
        swapped = {"absent": "present", "present": "absent"}
        inner.kinds = {swapped.get(kind, kind) for kind in inner.kinds}
        return inner
    found = Condition()
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Attribute):
        attribute = node.left.attr
        found.kinds.add("compare")
        found.guards.append(attribute)
        if isinstance(node.ops[0], ast.Eq):
            found.values[attribute] = union(visitor.value(node.comparators[0])).taint
        return found
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CONDITION_METHODS:
        found.kinds.add(CONDITION_METHODS[node.func.attr])
        found.guards.append(last_name(node.func.value))
        return found
    if node is not None:
        found.kinds.add("compare")  # a condition built elsewhere: assume it protects something
    return found
