"""boto3's DynamoDB API, client and resource: `client("dynamodb")`, `resource("dynamodb").Table(name)` and the
calls on them, however the object was named, built elsewhere or injected — a call is recognised by its name and
its capitalised keywords (`Key=`, `Item=`, `TableName=`), which no other library shares.

Also the PartiQL calls (`execute_statement`): statement text built from client data reaches PL101 like SQL.
"""

from __future__ import annotations

import ast
import re

from plumbline.scan.facts import NO_TAINT, Taint
from plumbline.scan.models import calls
from plumbline.scan.models.dynamodb import (
    Arguments,
    Condition,
    assigned,
    attribute_updates,
    builder_condition,
    chosen_names,
    dynamo_op,
    expression,
    item_writes,
    key_condition_of,
    keys_of,
    read_result,
    receiver_name,
    table_name,
    update_of,
)
from plumbline.scan.pyast import string
from plumbline.scan.sql import HOLE_RE
from plumbline.scan.values import UNKNOWN, Value, union

SERVICES = ("dynamodb", "sns", "ses", "sesv2", "sqs", "kinesis", "firehose", "dynamodbstreams")
BOTO3_KEYWORDS = ("Key", "Item", "TableName", "KeyConditionExpression", "KeyConditions", "IndexName", "Select",
                  "FilterExpression", "UpdateExpression", "AttributeUpdates", "ConditionExpression", "RequestItems",
                  "TransactItems", "Statement", "Statements", "TransactStatements", "ExclusiveStartKey")
_PARTIQL_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?([\w.-]+)\"?", re.IGNORECASE)
_PARTIQL_KEY = re.compile(r"\"?(\w+)\"?\s*=\s*(\?|'?__pl_hole_\d+__'?)")
_PARTIQL_ACTIONS = {"select": "read", "insert": "insert", "update": "update", "delete": "delete"}


def _is_boto3(site) -> bool:
    return any(name in site.keywords for name in BOTO3_KEYWORDS) or any(
        kw.arg is None for kw in site.node.keywords) and site.receiver is not None


def _table(visitor, site, arguments: Arguments) -> str | None:
    return table_name(arguments.node("TableName"), arguments.value("TableName")) or receiver_name(visitor, site)


@calls("client", "resource")
def service(visitor, site) -> Value | None:
    """`boto3.client("dynamodb")`, `session.resource("dynamodb", ...)`, `boto3.client("sns")`."""
    name = site.arguments[0].text if site.arguments else (site.keywords.get("service_name") or UNKNOWN).text
    if name not in SERVICES:
        return None
    kind = name if name != "dynamodb" else site.name
    return Value(dynamo=(kind, ""))


@calls("Table")
def table(visitor, site) -> Value | None:
    """`dynamodb.Table("users")` on a resource (boto 2's `Table(...)` constructor is boto2.py's)."""
    if site.receiver is None or not site.node.args:
        return None
    return Value(dynamo=("table", table_name(site.node.args[0], site.arguments[0]) or ""))


@calls("Key", "Attr")
def condition_builder(visitor, site) -> Value | None:
    """`boto3.dynamodb.conditions.Key("pk")`: a condition being built (read from the syntax tree where it is used)."""
    if not site.qualified.startswith("boto3.dynamodb.conditions"):
        return None
    return Value(dynamo=("condition", ""))


@calls("eq", "ne", "lt", "lte", "gt", "gte", "begins_with", "between", "is_in", "exists", "not_exists", "contains")
def condition_test(visitor, site) -> Value | None:
    if site.receiver is None or site.receiver.dynamo != ("condition", ""):
        return None
    return Value(taint=union(*site.arguments).taint, dynamo=("condition", ""))


@calls("get_item")
def get_item(visitor, site) -> Value | None:
    if not _is_boto3(site):
        return None
    arguments = Arguments.of(visitor, site)
    op = dynamo_op(visitor, site.node, "read", _table(visitor, site, arguments), keys=keys_of(arguments.value("Key")))
    return read_result(op)


@calls("put_item")
def put_item(visitor, site) -> Value | None:
    if not _is_boto3(site):
        return None
    arguments = Arguments.of(visitor, site)
    _put(visitor, site.node, _table(visitor, site, arguments), arguments,
         batched=site.receiver is not None and site.receiver.dynamo is not None and site.receiver.dynamo[0] == "batch")
    return UNKNOWN


def _put(visitor, node: ast.AST, table_name_: str | None, arguments: Arguments, *, together: int = 0,
         batched: bool = False) -> None:
    item = arguments.value("Item") or UNKNOWN
    writes, shaped = item_writes(item)
    chosen = _computed_keys(visitor, arguments.node("Item"))
    dynamo_op(visitor, node, "upsert", table_name_, writes=writes, condition=arguments.condition(visitor),
              item=(shaped or NO_TAINT) | (chosen_names(chosen) or NO_TAINT) or None, together=together,
              batched=batched)


def _computed_keys(visitor, node: ast.expr | None) -> Taint:
    """What chose the attribute names of a dict literal whose keys are not all constants (`{field: value}`)."""
    node = assigned(visitor, node)
    taint = NO_TAINT
    if isinstance(node, ast.Dict):
        for key in node.keys:
            if key is not None and string(key) is None:
                taint = taint | union(visitor.value(key)).taint
    return taint


@calls("update_item")
def update_item(visitor, site) -> Value | None:
    if not _is_boto3(site):
        return None
    arguments = Arguments.of(visitor, site)
    _update(visitor, site.node, _table(visitor, site, arguments), arguments)
    return Value(taint=union(*site.keywords.values()).taint)


def _update(visitor, node: ast.AST, table_name_: str | None, arguments: Arguments, *, together: int = 0) -> None:
    text = expression(arguments.value("UpdateExpression"), arguments.value("ExpressionAttributeNames"),
                      arguments.value("ExpressionAttributeValues"))
    update = update_of(text) if text is not None else attribute_updates(
        visitor, arguments.value("AttributeUpdates"), arguments.node("AttributeUpdates"))
    dynamo_op(visitor, node, "update", table_name_, keys=keys_of(arguments.value("Key")), writes=update.writes,
              condition=arguments.condition(visitor), atomic=update.atomic, decrements=update.decrements,
              item=chosen_names(update.chosen), together=together)


@calls("delete_item")
def delete_item(visitor, site) -> Value | None:
    if not _is_boto3(site):
        return None
    arguments = Arguments.of(visitor, site)
    dynamo_op(visitor, site.node, "delete", _table(visitor, site, arguments), keys=keys_of(arguments.value("Key")),
              condition=arguments.condition(visitor),
              batched=site.receiver is not None and site.receiver.dynamo is not None and site.receiver.dynamo[0] == "batch")
    return UNKNOWN


@calls("query", "scan")
def query(visitor, site) -> Value | None:
    """`table.query(KeyConditionExpression=Key("pk").eq(x))`, a string key condition, legacy `KeyConditions`;
    an equality in the `FilterExpression` on an owner attribute ties the results to a value too."""
    if not _is_boto3(site) and not (site.name == "scan" and site.receiver is not None and site.receiver.dynamo):
        return None
    arguments = Arguments.of(visitor, site)
    keys: dict[str, Taint] = {}
    guards: list[str] = []
    text = expression(arguments.value("KeyConditionExpression"), arguments.value("ExpressionAttributeNames"),
                      arguments.value("ExpressionAttributeValues"))
    if text is not None:
        keys, guards = key_condition_of(text)
    else:
        built = builder_condition(visitor, arguments.node("KeyConditionExpression"))
        if built is not None:
            keys, guards = dict(built.values), [g for g in built.guards if g not in built.values]
    for name, spec in (arguments.value("KeyConditions") or UNKNOWN).fields or ():
        values = dict(spec.fields or ()).get("AttributeValueList")
        keys[name] = union(values or UNKNOWN).taint
    found = arguments.condition(visitor, "FilterExpression")
    condition = Condition(guards=guards + found.guards, values=found.values)
    op = dynamo_op(visitor, site.node, "read", _table(visitor, site, arguments), keys=keys, condition=condition)
    return read_result(op)


@calls("batch_writer")
def batch_writer(visitor, site) -> Value | None:
    """`with table.batch_writer() as batch: batch.put_item(Item=...)`: puts that are not one transaction."""
    if site.receiver is None:
        return None
    return Value(dynamo=("batch", receiver_name(visitor, site) or ""))


@calls("batch_write_item")
def batch_write_item(visitor, site) -> Value | None:
    """`RequestItems={table: [{"PutRequest": {"Item": ...}}, {"DeleteRequest": {"Key": ...}}]}`: one op per item."""
    arguments = Arguments.of(visitor, site)
    requests = assigned(visitor, arguments.node("RequestItems"))
    written = 0
    if isinstance(requests, ast.Dict):
        for key, entries in zip(requests.keys, requests.values):
            name = table_name(key, visitor.value(key) if key is not None else None)
            entries = assigned(visitor, entries)
            for entry in entries.elts if isinstance(entries, (ast.List, ast.Tuple)) else ():
                request = Arguments.of_dict(visitor, entry, None)
                for kind in ("PutRequest", "DeleteRequest"):
                    if request.node(kind) is None:
                        continue
                    inner = Arguments.of_dict(visitor, request.node(kind), None)
                    if kind == "PutRequest":
                        _put(visitor, site.node, name, inner, batched=True)
                    else:
                        dynamo_op(visitor, site.node, "delete", name, keys=keys_of(inner.value("Key")), batched=True)
                    written += 1
    if not written:
        dynamo_op(visitor, site.node, "upsert", None, writes={"*": union(arguments.value("RequestItems") or
                                                                          UNKNOWN).taint}, batched=True)
    return UNKNOWN


@calls("transact_write_items")
def transact_write_items(visitor, site) -> Value | None:
    """`TransactItems=[{"Put": {...}}, {"Update": {...}}, {"Delete": {...}}, {"ConditionCheck": {...}}]`: all or
    nothing, so the ops share a `together` number."""
    arguments = Arguments.of(visitor, site)
    together = hash((visitor.ctx.facts.path, site.node.lineno, site.node.col_offset)) & 0x7FFFFFFF or 1
    listed = assigned(visitor, arguments.node("TransactItems"))
    entries = listed.elts if isinstance(listed, (ast.List, ast.Tuple)) else []
    for entry in entries:
        transaction_item(visitor, site.node, Arguments.of_dict(visitor, entry, None), together)
    if not entries:  # built by a loop or elsewhere: one atomic write of unknown items
        dynamo_op(visitor, site.node, "upsert", None, writes={"*": union(arguments.value("TransactItems") or
                                                                          UNKNOWN).taint},
                  condition=Condition(kinds={"compare"}), together=together)
    return UNKNOWN


def transaction_item(visitor, node: ast.AST, entry: Arguments, together: int) -> None:
    for kind in ("Put", "Update", "Delete", "ConditionCheck"):
        if entry.node(kind) is None and entry.value(kind) is None:
            continue
        inner = Arguments.of_dict(visitor, entry.node(kind), entry.value(kind))
        name = table_name(inner.node("TableName"), inner.value("TableName"))
        where = inner.node("Item") or inner.node("Key") or node
        if kind == "Put":
            _put(visitor, where, name, inner, together=together)
        elif kind == "Update":
            _update(visitor, where, name, inner, together=together)
        elif kind == "Delete":
            dynamo_op(visitor, where, "delete", name, keys=keys_of(inner.value("Key")),
                      condition=inner.condition(visitor), together=together)
        else:
            dynamo_op(visitor, where, "other", name, keys=keys_of(inner.value("Key")),
                      condition=inner.condition(visitor), together=together)


@calls("transact_get_items", "batch_get_item")
def many_reads(visitor, site) -> Value | None:
    if not _is_boto3(site) and not any(k in site.keywords for k in ("TransactItems", "RequestItems")):
        return None
    value = site.keywords.get("TransactItems") or site.keywords.get("RequestItems") or UNKNOWN
    op = dynamo_op(visitor, site.node, "read", None, keys={"*": value.whole_taint})
    return read_result(op)


@calls("execute_statement", "batch_execute_statement", "execute_transaction")
def partiql(visitor, site) -> Value | None:
    """PartiQL: `execute_statement(Statement=f"SELECT * FROM users WHERE id = '{x}'")` is injectable like SQL."""
    statements: list[tuple[Value, Value | None]] = []
    if "Statement" in site.keywords:
        statements.append((site.keywords["Statement"], site.keywords.get("Parameters")))
    for listed in (site.keywords.get("Statements"), site.keywords.get("TransactStatements")):
        for entry in (listed.items if listed is not None and listed.items is not None else ()):
            fields = dict(entry.fields or ())
            if "Statement" in fields:
                statements.append((fields["Statement"], fields.get("Parameters")))
    if not statements:
        return None
    reads = frozenset()
    for statement, parameters in statements:
        reads |= {_partiql_op(visitor, site.node, statement, parameters).id}
    return Value(taint=Taint(reads=reads))


def _partiql_op(visitor, node: ast.AST, statement: Value, parameters: Value | None):
    text = statement.text or ""
    words = text.split()
    action = _PARTIQL_ACTIONS.get(words[0].lower(), "other") if words else "other"
    table_match = _PARTIQL_TABLE.search(text)
    positional = list(parameters.items) if parameters is not None and parameters.items is not None else []
    keys: dict[str, Taint] = {}
    where = text.lower().find(" where ")
    question = 0
    for match in _PARTIQL_KEY.finditer(text):
        if match.group(2) == "?":
            taint = union(positional[question]).taint if question < len(positional) else NO_TAINT
            question += 1
        else:
            taint = NO_TAINT
            for number in HOLE_RE.findall(match.group(2)):
                if int(number) < len(statement.holes):
                    taint = taint | statement.holes[int(number)]
        if where >= 0 and match.start() > where:
            keys[match.group(1)] = taint
    shown = re.sub(r"__pl_hole_\d+__", "{…}", " ".join(text.split())) if text else None
    interpolated = statement.interpolated if statement.text is not None else statement.taint
    return dynamo_op(visitor, node, action, table_match.group(1) if table_match else None, keys=keys,
                     statement=shown, interpolated=interpolated or None)
