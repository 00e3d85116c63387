"""DB-API drivers (psycopg2, psycopg 3, pg8000, asyncpg-style `execute`): statements, transactions, autocommit,
`psycopg.sql` composition, and DDL written in Python strings."""

from __future__ import annotations

import ast
from dataclasses import replace

from plumbline.scan.models import calls, contexts, module_nodes
from plumbline.scan.pyast import is_true, kwarg, last_name, source, string
from plumbline.scan.schema import backend_hints as ddl_backend_hints
from plumbline.scan.schema import looks_like_ddl, tables_from_ddl
from plumbline.scan.values import UNKNOWN, Value

EXECUTE_METHODS = ("execute", "executemany", "exec_driver_sql", "execute_values", "scalar", "scalars", "query_one")
TRANSACTION_BLOCKS = ("transaction", "begin", "begin_nested", "atomic")
CONNECTION_BLOCKS = ("connection", "connect", "getconn", "get_connection", "get_db", "get_conn", "Session",
                     "session_scope", "cursor_scope")
CONNECTION_NAMES = ("conn", "connection", "con")


STATEMENT_KEYWORDS = ("statement", "sql", "query", "operation")
PARAMETER_KEYWORDS = ("parameters", "params", "vars", "args")


@calls(*EXECUTE_METHODS)
def execute(visitor, site) -> Value | None:
    keywords = site.keywords
    statement = site.arguments[0] if site.arguments else next(
        (keywords[k] for k in STATEMENT_KEYWORDS if k in keywords), None)  # session.execute(statement=stm, ...)
    if statement is None or site.receiver is None:
        return None
    parameters = site.arguments[1] if len(site.arguments) > 1 else next(
        (keywords[k] for k in PARAMETER_KEYWORDS if k in keywords), None)
    if parameters is None and keywords and site.arguments and statement.text is not None:
        parameters = Value(fields=tuple(keywords.items()))
    result = visitor.sql_op(site.node, statement, parameters)
    func = site.node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in visitor.cursor_names:
        visitor.scope.names[func.value.id] = result  # cur.fetchone() now returns this statement's rows
    return result


@calls("commit", "rollback")
def end(visitor, site) -> Value | None:
    if site.arguments:
        return None
    visitor.end_transaction()
    return UNKNOWN


@calls("SQL", "Composed")
def composition(visitor, site) -> Value | None:
    """psycopg's `sql.SQL(...).format(sql.Identifier(...))`: the driver quotes identifiers."""
    if site.arguments and site.arguments[0].text is not None:
        return replace(site.arguments[0], safe_text=True)
    return None


@contexts
def block(context: ast.expr, connection_names: set[str]) -> str | None:
    if isinstance(context, ast.Call):
        name = last_name(context.func)
        if name in TRANSACTION_BLOCKS:
            return "transaction"
        if name in CONNECTION_BLOCKS:
            return "connection"
        return None
    if isinstance(context, ast.Name) and (context.id in connection_names or context.id in CONNECTION_NAMES):
        return "transaction"  # psycopg2: `with conn:` is one transaction
    return None


@module_nodes(ast.keyword)
def autocommit_keyword(node: ast.keyword, ctx) -> None:
    if node.arg == "autocommit" and is_true(node.value):
        ctx.facts.autocommit = True


@module_nodes(ast.Dict)
def autocommit_option(node: ast.Dict, ctx) -> None:
    if any(string(key) == "autocommit" and is_true(value) for key, value in zip(node.keys, node.values)):
        ctx.facts.autocommit = True


@module_nodes(ast.Call)
def isolation_level(node: ast.Call, ctx) -> None:
    """psycopg2's `set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)`, SQLAlchemy's `isolation_level="AUTOCOMMIT"`."""
    if last_name(node.func) == "set_isolation_level" and node.args and "AUTOCOMMIT" in source(node.args[0]):
        ctx.facts.autocommit = True
    if string(kwarg(node, "isolation_level")) == "AUTOCOMMIT":
        ctx.facts.autocommit = True


@module_nodes(ast.Constant)
def ddl_string(node: ast.Constant, ctx) -> None:
    text = node.value
    if isinstance(text, str) and len(text) > 20 and looks_like_ddl(text):
        ctx.facts.tables.extend(tables_from_ddl(text, ctx.facts.path, first_line=node.lineno))
        ctx.facts.backend_hints |= ddl_backend_hints(text)
