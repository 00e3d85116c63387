"""DynamoDB key schemas, wherever a project declares them: boto3 `create_table` calls, boto 2 `Table.create`,
PynamoDB models (hash/range key attributes, `VersionAttribute`), and infrastructure files in the tree —
CloudFormation and SAM templates, Serverless `resources`, `aws dynamodb create-table` JSON, Terraform
`aws_dynamodb_table` blocks.

With the schema, "the partition key" of a `Key` dict or an item is known instead of guessed. Infrastructure
files are untrusted: whatever cannot be read as a table is skipped, never an error.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from typing import Any

from plumbline.scan.facts import KeySchema, Span
from plumbline.scan.models import module_nodes
from plumbline.scan.pyast import dotted, is_true, kwarg, last_name, string

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable")
MAX_NODES = 200_000  # dict and list nodes one document may cost (YAML aliases repeat what they point at)
_TERRAFORM_TABLE = re.compile(r'resource\s+"aws_dynamodb_table"\s+"([\w-]+)"\s*\{')
_TERRAFORM_SETTING = re.compile(r'^\s*(name|hash_key|range_key)\s*=\s*"([^"\n]*)"', re.MULTILINE)


# ---- Python: create_table, Table.create, PynamoDB models -------------------------------------------------------


@module_nodes(ast.Call)
def create_table(node: ast.Call, ctx) -> None:
    """`client.create_table(TableName="users", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], ...)` and
    boto 2's `Table.create("Games", schema=[HashKey("GameId")], global_indexes=[...])`."""
    name = last_name(node.func)
    if name == "create_table":
        schema = _key_schema_list(kwarg(node, "KeySchema"))
        if schema is None:
            return
        indexes = tuple(index for index in (_key_schema_list(_dict_get(entry, "KeySchema"))
                                            for entry in _elements(kwarg(node, "GlobalSecondaryIndexes")) +
                                            _elements(kwarg(node, "LocalSecondaryIndexes"))) if index)
        table = _python_name(kwarg(node, "TableName")) or schema[0]
        ctx.facts.key_schemas.append(KeySchema(table, schema[0], ctx.facts.path, Span(node.lineno),
                                               range_key=schema[1], indexes=indexes))
    elif name == "create" and isinstance(node.func, ast.Attribute) and last_name(node.func.value) == "Table" \
            and node.args:
        parts = _boto2_parts(kwarg(node, "schema"))
        if parts is None:
            return
        indexes = tuple(p for p in (_boto2_parts(kwarg(index, "parts")) for index in
                                    _elements(kwarg(node, "global_indexes")) if isinstance(index, ast.Call)) if p)
        ctx.facts.key_schemas.append(KeySchema(_python_name(node.args[0]) or parts[0], parts[0], ctx.facts.path,
                                               Span(node.lineno), range_key=parts[1], indexes=indexes))


def _python_name(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    return string(node) or (string(node.slice) if isinstance(node, ast.Subscript) else None) or last_name(node) or None


def _elements(node: ast.expr | None) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, (ast.List, ast.Tuple)) else []


def _dict_get(node: ast.expr, key: str) -> ast.expr | None:
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values):
            if string(k) == key:
                return v
    return None


def _key_schema_list(node: ast.expr | None) -> tuple[str, str | None] | None:
    hash_key = range_key = None
    for entry in _elements(node):
        name, kind = string(_dict_get(entry, "AttributeName")), string(_dict_get(entry, "KeyType"))
        if kind == "HASH":
            hash_key = name
        elif kind == "RANGE":
            range_key = name
    return (hash_key, range_key) if hash_key else None


def _boto2_parts(node: ast.expr | None) -> tuple[str, str | None] | None:
    hash_key = range_key = None
    for part in _elements(node):
        if isinstance(part, ast.Call) and part.args:
            if last_name(part.func) == "HashKey":
                hash_key = string(part.args[0])
            elif last_name(part.func) == "RangeKey":
                range_key = string(part.args[0])
    return (hash_key, range_key) if hash_key else None


@module_nodes(ast.ClassDef)
def pynamodb_model(node: ast.ClassDef, ctx) -> None:
    """`class Note(Model)` with `class Meta: table_name = ...` and `UnicodeAttribute(hash_key=True)` attributes."""
    if not any(last_name(base) == "Model" or dotted(base).endswith("pynamodb.models.Model") for base in node.bases):
        return
    meta = next((item for item in node.body if isinstance(item, ast.ClassDef) and item.name == "Meta"), None)
    if meta is None:
        return
    table = None
    for item in meta.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "table_name" for t in item.targets):
            table = _python_name(item.value)
    hash_key = range_key = version = None
    attributes = []
    for item in node.body:
        if not (isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name)
                and isinstance(item.value, ast.Call)):
            continue
        attribute, kind = item.targets[0].id, last_name(item.value.func)
        if not kind.endswith("Attribute"):
            continue
        attributes.append(attribute)
        if is_true(kwarg(item.value, "hash_key")):
            hash_key = attribute
        elif is_true(kwarg(item.value, "range_key")):
            range_key = attribute
        if kind == "VersionAttribute":
            version = attribute
    if hash_key is None:
        return
    ctx.facts.key_schemas.append(KeySchema(table or node.name, hash_key, ctx.facts.path, Span(node.lineno),
                                           range_key=range_key, model=node.name, version=version,
                                           attributes=tuple(attributes)))


# ---- infrastructure files -------------------------------------------------------------------------------------


def key_schemas(path: str, text: str) -> list[KeySchema]:
    """The tables a CloudFormation / SAM / Serverless / create-table JSON / Terraform file declares."""
    if path.endswith(".tf"):
        return _terraform(path, text)
    document = _load(text)
    if document is None:
        return []
    found: list[KeySchema] = []
    budget = [MAX_NODES]
    _walk(document, path, text, found, budget, logical=None)
    return found


@functools.cache
def _any_tag_loader() -> type:
    """YAML with CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`) read as the plain value they tag (yaml is
    imported when a template is first read: most trees hold none)."""
    import yaml

    def any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    class AnyTagLoader(yaml.SafeLoader):
        pass

    AnyTagLoader.add_multi_constructor("!", any_tag)
    return AnyTagLoader


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.load(text, Loader=_any_tag_loader())
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None


def _walk(node: Any, path: str, text: str, found: list[KeySchema], budget: list[int], logical: str | None) -> None:
    stack = [(node, logical)]
    while stack and budget[0] > 0:
        item, name = stack.pop()
        budget[0] -= 1
        if isinstance(item, dict):
            table = _table(item, name, path, text)
            if table is not None:
                found.append(table)
                continue
            stack.extend((value, key if isinstance(key, str) else name) for key, value in item.items())
        elif isinstance(item, list):
            stack.extend((value, name) for value in item)


def _table(item: dict, logical: str | None, path: str, text: str) -> KeySchema | None:
    """A table resource (`Type: AWS::DynamoDB::Table` and its `Properties`) or a bare create-table document."""
    kind = item.get("Type")
    properties = item.get("Properties") if isinstance(item.get("Properties"), dict) else None
    if kind in TABLE_TYPES and properties is not None:
        definition = properties
    elif "KeySchema" in item and ("TableName" in item or "AttributeDefinitions" in item):
        definition = item
    else:
        return None
    keys = _keys(definition.get("KeySchema"))
    if keys is None and kind == "AWS::Serverless::SimpleTable":
        primary = definition.get("PrimaryKey")
        keys = (primary["Name"], None) if isinstance(primary, dict) and isinstance(primary.get("Name"), str) else None
    if keys is None:
        return None
    name = definition.get("TableName")
    name = name if isinstance(name, str) else logical or keys[0]
    indexes = tuple(index for index in (_keys(entry.get("KeySchema")) for entry in
                                        (definition.get("GlobalSecondaryIndexes") or []) +
                                        (definition.get("LocalSecondaryIndexes") or [])
                                        if isinstance(entry, dict)) if index)
    attributes = tuple(entry["AttributeName"] for entry in definition.get("AttributeDefinitions") or []
                       if isinstance(entry, dict) and isinstance(entry.get("AttributeName"), str))
    return KeySchema(name, keys[0], path, Span(_line_of(text, logical or name)), range_key=keys[1],
                     attributes=attributes, indexes=indexes)


def _keys(schema: Any) -> tuple[str, str | None] | None:
    if not isinstance(schema, list):
        return None
    hash_key = range_key = None
    for entry in schema:
        if isinstance(entry, dict) and isinstance(entry.get("AttributeName"), str):
            if entry.get("KeyType") == "HASH":
                hash_key = entry["AttributeName"]
            elif entry.get("KeyType") == "RANGE":
                range_key = entry["AttributeName"]
    return (hash_key, range_key) if hash_key else None


def _line_of(text: str, name: str | None) -> int:
    position = text.find(name) if name else -1
    return text.count("\n", 0, position) + 1 if position >= 0 else 1


def _terraform(path: str, text: str) -> list[KeySchema]:
    """`resource "aws_dynamodb_table" "x" { name = "..." hash_key = "..." range_key = "..." ... }`; the settings of
    nested blocks (a global_secondary_index) are the index's, not the table's."""
    found = []
    for match in _TERRAFORM_TABLE.finditer(text):
        body = _block(text, match.end())
        top = _outside_blocks(body)
        settings = dict(_TERRAFORM_SETTING.findall(top))
        if "hash_key" not in settings:
            continue
        found.append(KeySchema(settings.get("name") or match.group(1), settings["hash_key"], path,
                               Span(text.count("\n", 0, match.start()) + 1), range_key=settings.get("range_key")))
    return found


def _block(text: str, start: int) -> str:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start:index]
    return text[start:]


def _outside_blocks(body: str) -> str:
    kept, depth = [], 0
    for character in body:
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
        elif depth == 0:
            kept.append(character)
    return "".join(kept)
