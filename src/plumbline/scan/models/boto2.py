"""boto 2 (`boto.dynamodb2`), still in many samples: the high-level `Table` and `Item`, and the low-level
`DynamoDBConnection` (layer 1). Only modules that import boto are read this way.

boto 2 hides conditions: `Item(table, data=...).save()` sends "does not exist yet" expectations for every
attribute, `save()` / `partial_save()` of a loaded item expect every attribute to still hold the value read,
and `put_item(data=...)` refuses to overwrite unless `overwrite=True`.
"""

from __future__ import annotations

import ast

from plumbline.scan.facts import Taint
from plumbline.scan.models import calls, module_nodes
from plumbline.scan.models.dynamodb import (
    Condition,
    attribute_updates,
    chosen_names,
    dynamo_op,
    expected_condition,
    item_writes,
    keys_of,
    read_result,
    receiver_name,
    table_name,
)
from plumbline.scan.pyast import is_true, kwarg
from plumbline.scan.values import UNKNOWN, Value

BOTO2_FLAG = "boto2"
NOT_KEYS = ("consistent", "attributes", "expected", "conditional_operator", "limit", "index", "reverse",
            "attributes_to_get", "max_page_size", "query_filter", "conditional_operator", "exclusive_start_key",
            "select", "scan_filter", "segment", "total_segments", "return_values")


@module_nodes(ast.Import, ast.ImportFrom)
def imports_boto2(node: ast.Import | ast.ImportFrom, ctx) -> None:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
    if any(name == "boto" or name.startswith("boto.dynamodb") for name in names):
        ctx.flags.add(BOTO2_FLAG)


def _boto2(visitor) -> bool:
    return BOTO2_FLAG in visitor.ctx.flags


def _kind(site) -> str | None:
    return site.receiver.dynamo[0] if site.receiver is not None and site.receiver.dynamo else None


def _low_level(site) -> bool:
    """Layer 1: `conn.update_item("Games", key, ...)` names the table first."""
    return bool(site.node.args) and (site.arguments[0].text is not None or isinstance(site.node.args[0], ast.Name))


def _table(visitor, site) -> str | None:
    if _low_level(site):
        return table_name(site.node.args[0], site.arguments[0])
    return receiver_name(visitor, site)


@calls("Table")
def table(visitor, site) -> Value | None:
    if not _boto2(visitor) or site.receiver is not None or not site.node.args:
        return None
    return Value(dynamo=("boto2", table_name(site.node.args[0], site.arguments[0]) or ""))


@calls("Item")
def new_item(visitor, site) -> Value | None:
    """`Item(table, data={...})`: a new item; its `save()` refuses to overwrite."""
    if not _boto2(visitor) or site.receiver is not None:
        return None
    data = site.keywords.get("data") or (site.arguments[1] if len(site.arguments) > 1 else UNKNOWN)
    table_value = site.arguments[0] if site.arguments else UNKNOWN
    name = (table_value.dynamo[1] if table_value.dynamo else None) or (
        table_name(site.node.args[0], table_value) if site.node.args else None)
    return Value(taint=data.whole_taint, fields=data.fields, dynamo=("boto2new", name or ""))


def _key_arguments(site) -> dict[str, Taint]:
    return {name: value.whole_taint for name, value in site.keywords.items()
            if name not in NOT_KEYS and "__" not in name}


@calls("get_item")
def get_item(visitor, site) -> Value | None:
    if not _boto2(visitor):
        return None
    if _low_level(site):
        keys = keys_of(site.arguments[1] if len(site.arguments) > 1 else site.keywords.get("key"))
    else:
        keys = _key_arguments(site)
    op = dynamo_op(visitor, site.node, "read", _table(visitor, site), keys=keys)
    return Value(taint=read_result(op).taint, dynamo=("boto2item", _table(visitor, site) or ""))


@calls("put_item")
def put_item(visitor, site) -> Value | None:
    if not _boto2(visitor):
        return None
    if _low_level(site):
        item = site.arguments[1] if len(site.arguments) > 1 else site.keywords.get("item", UNKNOWN)
        condition = expected_condition(visitor, site.keywords.get("expected"), kwarg(site.node, "expected"))
    else:
        item = site.keywords.get("data") or (site.arguments[0] if site.arguments else UNKNOWN)
        # `overwrite=False` (the default) sends "does not exist" expectations for every attribute
        condition = Condition() if is_true(kwarg(site.node, "overwrite")) else Condition(kinds={"absent"})
    writes, shaped = item_writes(item)
    dynamo_op(visitor, site.node, "upsert", _table(visitor, site), writes=writes, condition=condition, item=shaped,
              batched=_kind(site) == "boto2batch")
    return UNKNOWN


@calls("update_item")
def update_item(visitor, site) -> Value | None:
    """Layer 1: `conn.update_item("Games", key=..., attribute_updates=..., expected=...)`."""
    if not _boto2(visitor):
        return None
    key = site.keywords.get("key") or (site.arguments[1] if len(site.arguments) > 1 else None)
    updates_node = kwarg(site.node, "attribute_updates") or (site.node.args[2] if len(site.node.args) > 2 else None)
    updates_value = site.keywords.get("attribute_updates") or (site.arguments[2] if len(site.arguments) > 2 else None)
    update = attribute_updates(visitor, updates_value, updates_node)
    condition = expected_condition(visitor, site.keywords.get("expected"), kwarg(site.node, "expected"))
    dynamo_op(visitor, site.node, "update", _table(visitor, site), keys=keys_of(key), writes=update.writes,
              atomic=update.atomic, condition=condition, item=chosen_names(update.chosen))
    return UNKNOWN


@calls("delete_item")
def delete_item(visitor, site) -> Value | None:
    if not _boto2(visitor):
        return None
    condition = expected_condition(visitor, site.keywords.get("expected"), kwarg(site.node, "expected"))
    if _low_level(site):
        keys = keys_of(site.keywords.get("key") or (site.arguments[1] if len(site.arguments) > 1 else None))
    else:
        keys = _key_arguments(site)
    dynamo_op(visitor, site.node, "delete", _table(visitor, site), keys=keys, condition=condition,
              batched=_kind(site) == "boto2batch")
    return UNKNOWN


@calls("query_2", "query", "query_count", "scan")
def query(visitor, site) -> Value | None:
    """`games.query_2(HostId__eq=user, index="HostId-StatusDate-index")`: `name__eq` fixes a key."""
    if not _boto2(visitor) or _kind(site) not in (None, "boto2"):
        return None
    if not any("__" in name for name in site.keywords) and site.name != "scan":
        return None
    keys = {name.split("__")[0]: value.whole_taint for name, value in site.keywords.items()
            if name.endswith("__eq")}
    guards = [name.split("__")[0] for name in site.keywords if "__" in name and not name.endswith("__eq")]
    op = dynamo_op(visitor, site.node, "read", receiver_name(visitor, site), keys=keys, condition=Condition(guards=guards))
    return read_result(op)


@calls("batch_write")
def batch_write(visitor, site) -> Value | None:
    if not _boto2(visitor) or site.receiver is None or site.node.args:
        return None
    return Value(dynamo=("boto2batch", receiver_name(visitor, site) or ""))


@calls("save", "partial_save")
def save(visitor, site) -> Value | None:
    """`Item(...).save()` of a new item (conditional on nothing existing), `item.save()` / `partial_save()` of a
    loaded item (conditional on the values read), `save(overwrite=True)` (unconditional)."""
    if not _boto2(visitor) or site.receiver is None or site.node.args:
        return None
    kind = _kind(site)
    new = kind == "boto2new"
    if is_true(kwarg(site.node, "overwrite")):
        condition = Condition()
    else:
        condition = Condition(kinds={"absent" if new else "compare"})
    receiver = site.receiver
    table = receiver.dynamo[1] if receiver.dynamo else None
    if new:
        writes, shaped = item_writes(Value(taint=receiver.taint, fields=receiver.fields))
        keys = {}
    else:
        writes, shaped, keys = {"*": receiver.taint}, None, {"<loaded>": receiver.taint}
    dynamo_op(visitor, site.node, "upsert" if site.name == "save" else "update", table or None, keys=keys,
              writes=writes, condition=condition, item=shaped)
    return UNKNOWN
