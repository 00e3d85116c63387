"""Alembic migrations: `op.*` calls describe the schema too."""

from __future__ import annotations

import ast
import re

from plumbline.scan.facts import Column, Span, Table
from plumbline.scan.models import module_nodes
from plumbline.scan.models.sqlalchemy import column_call, table_call
from plumbline.scan.pyast import is_true, kwarg, module_nodes_of, string, strings
from plumbline.scan.schema import tables_from_ddl

NAMED_CONSTRAINTS = ("create_unique_constraint", "create_check_constraint", "create_foreign_key", "create_index")


@module_nodes(ast.Call)
def migration(call: ast.Call, ctx) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "op"):
        return
    if any(first <= call.lineno <= last for first, last in _downgrades(ctx.tree)):
        return  # the schema before this migration: tables it drops, columns it removes
    tables = ctx.facts.tables
    before = len(tables)
    _changed(call, ctx, tables)
    for table in tables[before:]:  # a table this migration alters: what a later one drops goes with it
        ctx.facts.migrated.setdefault(table.name, 0)


def _changed(call: ast.Call, ctx, tables: list[Table]) -> None:
    """The tables (whole or in part) an `op.*` call of an upgrade() defines, appended to `tables`."""
    func = call.func
    path, line, args, name = ctx.facts.path, call.lineno, call.args, func.attr
    table_name = string(args[1]) if name in NAMED_CONSTRAINTS and len(args) > 1 else None
    if name == "create_table" and args and string(args[0]):
        tables.append(_as_generated(table_call(call, path)))
        _counted(ctx.facts, string(args[0]), 1)
    elif name == "drop_table" and args and string(args[0]):
        _counted(ctx.facts, string(args[0]), -1)
    elif name == "add_column" and len(args) >= 2 and string(args[0]) and isinstance(args[1], ast.Call):
        table = Table(string(args[0]).lower(), path, Span(line))
        column = column_call(args[1], None, line)
        if column is not None:
            table.columns[column.name] = column
            tables.append(_as_generated(table))
    elif name == "alter_column" and len(args) >= 2 and string(args[0]) and string(args[1]):
        nullable = kwarg(call, "nullable")
        if isinstance(nullable, ast.Constant) and nullable.value is False:
            table = Table(string(args[0]).lower(), path, Span(line))
            table.columns[string(args[1]).lower()] = Column(string(args[1]).lower(), nullable=False, declared=False)
            tables.append(table)
    elif name == "create_unique_constraint" and table_name and len(args) > 2:
        tables.append(Table(table_name.lower(), path, Span(line), unique_sets=[tuple(c.lower() for c in strings(args[2]))]))
    elif name == "create_index" and table_name and len(args) > 2 and is_true(kwarg(call, "unique")):
        tables.append(Table(table_name.lower(), path, Span(line), unique_sets=[tuple(c.lower() for c in strings(args[2]))]))
    elif name == "create_check_constraint" and table_name and len(args) > 2:
        table = Table(table_name.lower(), path, Span(line))
        for column in re.findall(r"[A-Za-z_]\w*", string(args[2]) or ""):
            table.columns[column.lower()] = Column(column.lower(), check=True, declared=False)
        tables.append(table)
    elif name == "create_foreign_key" and table_name and len(args) > 3 and string(args[2]):
        table = Table(table_name.lower(), path, Span(line))
        for column in strings(args[3]):
            table.columns[column.lower()] = Column(column.lower(), references=f"{string(args[2]).lower()}.id",
                                                   declared=False)
        tables.append(table)
    elif name == "execute" and args and string(args[0]):
        created = tables_from_ddl(string(args[0]), path, first_line=line)
        tables.extend(created)
        for table in created:
            if table.defined:
                _counted(ctx.facts, table.name, 1)
        for dropped in _DROP_TABLE.findall(string(args[0])):
            _counted(ctx.facts, dropped, -1)


_DROP_TABLE = re.compile(r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:\"?\w+\"?\.)?\"?(\w+)", re.I)


def _counted(facts, table: str, change: int) -> None:
    """A table this migration's upgrade() creates (+1) or drops (-1): a table the migrations drop as often as they
    create it is gone once they have all run (`ModuleFacts.migrated`, read by the project)."""
    name = table.lower().rsplit(".", 1)[-1]
    facts.migrated[name] = facts.migrated.get(name, 0) + change


def _downgrades(tree: ast.Module) -> list[tuple[int, int]]:
    """The lines of the module's `downgrade()` functions (`downgrade_<engine>()` in multi-database migrations)."""
    return [(node.lineno, node.end_lineno or node.lineno) for node in module_nodes_of(tree, ast.FunctionDef)
            if node.name == "downgrade" or node.name.startswith("downgrade_")]


def _as_generated(table: Table) -> Table:
    """Alembic's autogenerate writes `nullable=True` on every nullable column: in a migration it records no choice
    (the model, or its absence, says whether NULL is meant)."""
    for column in table.columns.values():
        if column.optional == "explicit":
            column.optional = ""
    return table
