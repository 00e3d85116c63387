#!/usr/bin/env python3
"""Fuzz what plumbline reads from untrusted hands, for a set time, and report what crashed.

    make fuzz MINUTES=10            # or: .venv/bin/python bench/fuzz.py --minutes 10 [--targets sql,spec]
    .venv/bin/python bench/fuzz.py --replay /tmp/plumbline-fuzz/sql-1     # run one saved crash again

Targets, each fed by Hypothesis with generated inputs and mutations of real ones:
- `python`: a Python source (Flask handlers, SQL in strings, DynamoDB calls, models, migrations; generated, or a
  scan-corpus file with statements inserted and text mangled) through the scan's parser, the extractor
  (plumbline.scan.python.extract), the project view and every scan check (unguarded, so that a failure shows
  where it is; the scan itself would report it as an internal error and lose the file's findings).
- `sql`: SQL and DDL text through plumbline.scan.sql.parse and plumbline.scan.schema.tables_from_ddl.
- `spec`: an OpenAPI document as JSON or YAML text through plumbline.probe.spec.load, then every operation's
  request prepared as the probe would (values generated from the schemas, path filled, URL checked).
- `http`: a raw HTTP response (status line, headers, framing, compression, body) served by a real server on
  127.0.0.1 to the probe's client (Http.request, body_of, json_of, a link's runtime expression), its burst
  engine (Http.burst) and its spec fetch (load from a URL).
- `probe`: a generated spec and a few answers (mostly well-formed JSON, some raw as for `http`) that the server
  gives in turn; every probe check runs against it, actively, with two identities and a small request budget.

A crash is an exception other than the one the API documents (FileError for a source that does not parse;
none at all from the extractor, the checks and the SQL parsers; SpecError; TargetError), or more than
SLOW_SECONDS on one input: inputs are small, so that much time means work growing faster than the input, which
a hostile input can blow up. A crash's kind is its exception type and the innermost plumbline line it passed.
Each new kind is shrunk by Hypothesis to a small input and saved to OUT/<target>-<n>/ (the input, the
traceback, how to replay it); later inputs of a known kind are only counted, so the run goes on to others.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import logging
import re
import signal
import socket
import socketserver
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky

import plumbline
from plumbline.probe.engine import Probe, Resource, unique
from plumbline.probe.checks import CHECKS
from plumbline.probe.http import BudgetExhausted, Http, Identity, TargetError, body_of, json_of
from plumbline.probe.spec import Operation, SpecError, load
from plumbline.scan import checks
from plumbline.scan.files import FileError, parse_python
from plumbline.scan.project import Project
from plumbline.scan.python import extract
from plumbline.scan.schema import tables_from_ddl
from plumbline.scan.sql import parse as parse_sql

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(plumbline.__file__).resolve().parent
SLOW_SECONDS = 5.0
ROUND_EXAMPLES = 150  # inputs per target before the next target's turn
SHRINK_SECONDS = 60.0  # time Hypothesis may spend making one crash's input small
SCAN_RULES = set(checks.UNIT_CHECKS) | set(checks.SCHEMA_CHECKS)


# ---- inputs: SQL ---------------------------------------------------------------------------------------

NAMES = st.sampled_from(["id", "user_id", "owner_id", "balance", "amount", "email", "version", "accounts", "users",
                         "orders", "t", "select", '"Weird ""x"""', "ünï", "a" * 70, "public.accounts", "x.y.z"])
PLACEHOLDERS = st.sampled_from(["%s", "%(id)s", "%(user_id)s", "$1", "$2", "?", ":name", "{}", "__pl_hole_0__",
                                "%%", "'it''s'", "42", "-1", "NULL", "now()", "E'\\n'", "$$x$$", "'{}'::jsonb"])
TYPES = st.sampled_from(["INT8", "INT", "UUID", "STRING", "TEXT", "DECIMAL(10, 2)", "TIMESTAMPTZ", "JSONB", "SERIAL",
                         "VARCHAR(255)", "BOOL", "INT8[]", "DOUBLE PRECISION", "CHAR(", "geometry(POINT,4326)"])
# Fragments that open or close what a splitter must track: quotes, comments, parentheses, dollar quotes.
SQL_NOISE = st.sampled_from(["'", '"', "(", ")", ";", "--", "/*", "*/", "$$", "\n", "\\", "%", ":", "?", "$1", "{",
                             " AS OF SYSTEM TIME '-1s'", " INTERLEAVE IN PARENT p (a", "UPSERT INTO ", "\x00"])


@functools.cache
def conditions() -> st.SearchStrategy[str]:
    def combined(inner):
        return st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["AND", "OR"]), inner),
            inner.map(lambda c: f"({c})"),
            inner.map(lambda c: f"NOT {c}"),
            st.builds(lambda column, c: f"{column} IN (SELECT id FROM t WHERE {c})", NAMES, inner))

    base = st.builds(lambda column, op, value: f"{column} {op} {value}", NAMES,
                     st.sampled_from(["=", "<", ">=", "<>", "IS", "IN", "LIKE", "@>"]), PLACEHOLDERS)
    return st.recursive(base, combined, max_leaves=6)


@st.composite
def column_definitions(draw) -> str:
    column = f"{draw(NAMES)} {draw(TYPES)}"
    extras = draw(st.lists(st.sampled_from([
        " NOT NULL", " PRIMARY KEY", " UNIQUE", " DEFAULT gen_random_uuid()", " DEFAULT 0", " NULL",
        " CHECK (balance >= 0)", " REFERENCES users (id) ON DELETE CASCADE", " REFERENCES users", ' COLLATE "C"',
        " AS (a + b) STORED"]), max_size=3))
    return column + "".join(extras)


TABLE_CONSTRAINTS = st.sampled_from([
    "PRIMARY KEY (id, user_id)", "UNIQUE (email)", "CONSTRAINT c CHECK (amount > 0)", "FOREIGN KEY (user_id) "
    "REFERENCES users (id)", "INDEX (owner_id)", "UNIQUE INDEX u (a, b) STORING (c)", "FAMILY f (a, b)",
    "CONSTRAINT pk PRIMARY KEY (id)", "UNIQUE (a, a)", "EXCLUDE USING gist (a WITH =)"])


@st.composite
def sql_statements(draw) -> str:
    table, column, value = draw(NAMES), draw(NAMES), draw(PLACEHOLDERS)
    kind = draw(st.sampled_from(["select", "update", "insert", "delete", "create", "alter", "index", "control",
                                 "wide", "soup"]))
    if kind == "select":
        lock = draw(st.sampled_from(["", " FOR UPDATE", " FOR SHARE NOWAIT", " AS OF SYSTEM TIME '-5s'"]))
        return f"SELECT {column}, count(*) FROM {table} WHERE {draw(conditions())}{lock}"
    if kind == "update":
        change = draw(st.sampled_from([f"{column} = {column} - {value}", f"{column} = {value}",
                                       f"({column}, version) = ({value}, version + 1)"]))
        return f"UPDATE {table} SET {change} WHERE {draw(conditions())} RETURNING *"
    if kind == "insert":
        verb = draw(st.sampled_from(["INSERT INTO", "UPSERT INTO", "INSERT INTO ONLY"]))
        conflict = draw(st.sampled_from(["", f" ON CONFLICT ({column}) DO NOTHING", " ON CONFLICT DO NOTHING",
                                         f" ON CONFLICT ({column}) DO UPDATE SET {column} = excluded.{column}"]))
        return f"{verb} {table} ({column}, {draw(NAMES)}) VALUES ({value}, {draw(PLACEHOLDERS)}){conflict}"
    if kind == "delete":
        return f"DELETE FROM {table} WHERE {draw(conditions())}"
    if kind == "create":
        parts = draw(st.lists(column_definitions(), min_size=1, max_size=5)) + draw(
            st.lists(TABLE_CONSTRAINTS, max_size=3))
        prefix = draw(st.sampled_from(["CREATE TABLE", "CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE"]))
        return f"{prefix} {table} (\n  " + ",\n  ".join(parts) + "\n)"
    if kind == "alter":
        change = draw(st.sampled_from([
            f"ADD CONSTRAINT c UNIQUE ({column})", f"ADD COLUMN {column} INT8 NOT NULL DEFAULT 0",
            f"ALTER COLUMN {column} SET NOT NULL", f"ADD CHECK ({column} > 0)", f"DROP CONSTRAINT {column}",
            f"ADD FOREIGN KEY ({column}) REFERENCES users"]))
        return f"ALTER TABLE {table} {change}"
    if kind == "index":
        return f"CREATE UNIQUE INDEX IF NOT EXISTS i ON {table} ({column}, {draw(NAMES)}) WHERE {draw(conditions())}"
    if kind == "control":
        return draw(st.sampled_from(["BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE", "COMMIT", "ROLLBACK",
                                     "SAVEPOINT cockroach_restart", "RELEASE SAVEPOINT cockroach_restart",
                                     "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "SHOW x", "END", "set"]))
    if kind == "wide":  # size that a quadratic loop or regex feels; a linear one does not
        count = draw(st.integers(100, 6000))
        return draw(st.sampled_from([
            f"CREATE TABLE {table} (" + ", ".join(f"c{i} INT" for i in range(count)) + ")",
            f"SELECT * FROM {table} WHERE " + " AND ".join(f"c{i} = %s" for i in range(count)),
            f"CREATE TABLE {table} (id INT" + "\n" * count + ")",
            f"CREATE TABLE {table} (a INT /*" + " x" * count,
            f"SELECT '{'x' * count}",
            "SELECT " + "(" * min(count, 3000) + "1" + ")" * min(count, 3000),
        ]))
    return " ".join(draw(st.lists(st.one_of(NAMES, PLACEHOLDERS, SQL_NOISE, st.sampled_from(
        ["SELECT", "FROM", "WHERE", "CREATE", "TABLE", "UNIQUE", "INDEX", "ALTER", "ON", "CONFLICT", ","])),
        max_size=30)))


@st.composite
def mangled(draw, text: str, noise: st.SearchStrategy[str]) -> str:
    """`text` with a few insertions, deletions, repetitions or a cut, at drawn places."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3]))):  # most texts are left whole
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "repeat", "cut"]))
        if edit == "insert":
            text = text[:at] + draw(noise) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif edit == "repeat":
            text = text[:at] + text[at:at + 40] * draw(st.integers(2, 300)) + text[at:]
        else:
            text = text[:at]
    return text


@functools.cache
def corpus(suffix: str) -> list[str]:
    """The scan corpus's files of one kind: real code to mutate."""
    return [path.read_text(encoding="utf-8") for path in sorted((REPO / "tests/scan/corpus").rglob(f"*{suffix}"))]


def sql_texts() -> st.SearchStrategy[str]:
    seeds = corpus(".sql")
    generated = st.lists(sql_statements(), min_size=1, max_size=4).map(";\n".join)
    return st.one_of(generated, st.sampled_from(seeds)).flatmap(lambda text: mangled(text, SQL_NOISE))


# ---- inputs: Python ------------------------------------------------------------------------------------

VARIABLES = st.sampled_from(["request", "db", "cursor", "cur", "conn", "session", "table", "g", "current_user",
                             "user_id", "kw", "args", "data", "row", "self", "client", "engine", "sql", "account",
                             "amount", "_", "op", "sa", "boto3", "text", "select", "Account"])
ATTRIBUTES = st.sampled_from(["json", "args", "form", "get", "id", "execute", "query", "filter_by", "first", "one",
                              "put_item", "update_item", "get_item", "transact_write_items", "begin", "commit",
                              "cursor", "fetchone", "session", "add", "balance", "Table", "scalar", "values",
                              "format", "with_for_update", "where", "returning", "__dict__", "c", "table"])
KEYWORDS = st.sampled_from(["Key", "Item", "UpdateExpression", "ConditionExpression", "params", "id", "user_id",
                            "nullable", "unique", "primary_key", "methods", "isolation_level", "autocommit"])


@functools.cache
def python_expressions() -> st.SearchStrategy[str]:
    sql = st.lists(sql_statements(), min_size=1, max_size=2).map("; ".join)
    leaves = st.one_of(
        VARIABLES, sql.map(repr),
        sql.map(lambda text: "f" + repr(text.replace("{", "{{").replace("}", "}}") + " {user_id}")),
        st.integers(-5, 10**20).map(str), st.text(max_size=8).map(repr),
        st.sampled_from(["None", "True", "...", "'%s'", "b'x'", "1.5e308", "0x10", "''", "request.json['id']"]))
    # A long concatenation, the size that once made the extractor skip a file; built from leaves only, so
    # that nesting does not multiply it.
    pieces = st.one_of(VARIABLES, st.sampled_from(["'SELECT * FROM t WHERE id = '", "' AND owner_id = '", "str(x)",
                                                   "request.args['q']", "f'{x}'"]))
    leaves |= st.builds(lambda parts, n: "(" + " + ".join(parts * n) + ")", st.lists(pieces, min_size=1, max_size=3),
                        st.integers(2, 400))

    def call(inner):
        positional = st.lists(st.one_of(inner, inner.map(lambda e: f"*{e}")), max_size=3)
        named = st.lists(st.one_of(st.builds(lambda k, e: f"{k}={e}", KEYWORDS, inner), inner.map(lambda e: f"**{e}")),
                         max_size=3)
        return st.builds(lambda f, p, n: f"{f}({', '.join(p + n)})", inner, positional, named)

    def compound(inner):
        return st.one_of(
            st.builds(lambda e, a: f"{e}.{a}", inner, ATTRIBUTES),
            call(inner),
            st.builds(lambda e, i: f"{e}[{i}]", inner, inner),
            st.builds(lambda a, op, b: f"({a} {op} {b})", inner,
                      st.sampled_from(["+", "%", "*", "-", "and", "or", "==", "is not", "in"]), inner),
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.lists(inner, max_size=3).map(lambda items: "(" + "".join(f"{e}, " for e in items) + ")"),
            st.lists(st.tuples(inner, inner), max_size=3).map(
                lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
            st.builds(lambda e, source: f"[{e} for _ in {source}]", inner, inner),
            st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
            inner.map(lambda e: f"(lambda *a, **k: {e})"),
            inner.map(lambda e: f"(tmp := {e})"),
            inner.map(lambda e: f"{{**{e}}}"),
            st.builds(lambda e, v: f"{e}.format({v}, x={v})", inner, inner))

    return st.recursive(leaves, compound, max_leaves=10)


DATABASE_CALLS = [
    "cursor.execute({sql}, ({e},))", "cur.execute({sql}, {{'id': {e}}})", "conn.execute({sql}, {e})",
    "db.session.execute(text({sql}), {{'id': {e}}})", "{v} = table.query(**{e})", "table.put_item(Item={e}, **kw)",
    "table.update_item(Key={{'pk': {e}}}, UpdateExpression={sql}, **{v})", "client.transact_write_items("
    "TransactItems=[{e}])", "{v} = boto3.resource('dynamodb').Table({e}).get_item(Key={e})",
    "{v} = {e}.query.filter_by(id={e}).with_for_update().one()", "{v}.balance -= {e}", "db.session.add({e})",
    "db.session.commit()", "op.create_table({sql}, sa.Column('id', sa.Integer(), nullable=False), "
    "sa.UniqueConstraint({e}))", "op.add_column('t', sa.Column({e}, sa.String(), unique=True))",
    "{v} = {v}.cursor()", "conn.autocommit = {e}", "conn.set_isolation_level({e})",
    "{v} = select(Account).where(Account.id == {e}).with_for_update()",
]


@functools.cache
def python_blocks() -> st.SearchStrategy[list[str]]:
    """Statements as lines, compound ones with indented bodies."""
    expressions = python_expressions()
    simple = st.one_of(
        st.builds(lambda v, e: [f"{v} = {e}"], VARIABLES, expressions),
        expressions.map(lambda e: [e]),
        expressions.map(lambda e: [f"return {e}"]),
        st.builds(lambda template, v, e, sql: [template.format(v=v, e=e, sql=sql)], st.sampled_from(DATABASE_CALLS),
                  VARIABLES, expressions, st.lists(sql_statements(), min_size=1, max_size=2).map(";".join).map(repr)),
        st.sampled_from([["pass"], ["raise"], ["global user_id"], ["del row"], ["a, *b = row"], ["x: int = 0"],
                         ["import psycopg"], ["from sqlalchemy import text as t"], ["yield row"], ["break"]]),
    )

    def indented(lines: list[str]) -> list[str]:
        return ["    " + line for line in lines]

    def compound(body):
        return st.one_of(
            st.builds(lambda e, a, b: [f"if {e}:", *indented(a), "else:", *indented(b)], expressions, body, body),
            st.builds(lambda n, a: [f"for attempt in range({n}):", *indented(a)], st.integers(0, 5), body),
            st.builds(lambda a: ["while True:", *indented(a)], body),
            st.builds(lambda header, a: [header, *indented(a)], st.sampled_from([
                "with conn.transaction():", "with db.engine.begin() as conn:", "with conn.cursor() as cur:",
                "with db.session.begin():", "with psycopg.connect(DSN) as conn, conn.cursor() as cur:",
                "async with pool.connection() as conn:"]), body),
            st.builds(lambda a, exc, b: ["try:", *indented(a), f"except {exc} as e:", *indented(b), "finally:",
                                         "    pass"], body, st.sampled_from([
                                             "SerializationFailure", "(OperationalError, psycopg.errors."
                                             "SerializationFailure)", "Exception", "ClientError", "e"]), body),
            st.builds(lambda route, methods, a: [f"@app.route({route!r}, methods={methods})", "@login_required",
                                                 "def handler(id, *args, **kwargs):", *indented(a)],
                      st.sampled_from(["/accounts/<int:id>/withdraw", "/users/<user_id>", "/", "<", "/a/<x:y>"]),
                      st.sampled_from(["['POST']", "['GET', 'PUT']", "[]", "'POST'", "methods"]), body),
            st.builds(lambda a: ["class Account(db.Model):", "    __tablename__ = 'accounts'",
                                 "    id = db.Column(db.Integer, primary_key=True)",
                                 "    balance = db.Column(db.Numeric, nullable=False, unique=True)",
                                 "    def withdraw(self, amount):", *indented(indented(a))], body),
            st.builds(lambda e, a: [f"match {e}:", "    case {'id': x, **rest}:", *indented(indented(a)),
                                    "    case _:", "        pass"], expressions, body),
        )

    return st.recursive(simple, lambda body: st.one_of(
        compound(body), st.lists(body, min_size=1, max_size=4).map(lambda blocks: sum(blocks, []))), max_leaves=8)


PYTHON_HEADER = """\
import boto3, psycopg
from flask import Flask, request, g, jsonify
from sqlalchemy import text, select
from psycopg.errors import SerializationFailure
app = Flask(__name__)
"""


@st.composite
def python_sources(draw) -> str:
    """A generated module, or a corpus file with generated statements put in and its text mangled."""
    if draw(st.booleans()):
        blocks = draw(st.lists(python_blocks(), min_size=1, max_size=4))
        lines = [line for block in blocks for line in (["@app.route('/x', methods=['POST'])", "def handler(id):",
                                                        *["    " + line for line in block]]
                                                       if draw(st.booleans()) else block)]
        return PYTHON_HEADER + "\n".join(lines) + "\n"
    lines = draw(st.sampled_from(corpus(".py"))).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines)))
        indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())] if at < len(lines) else ""
        lines[at:at] = [indent + line for line in draw(python_blocks())]
    return draw(mangled("\n".join(lines) + "\n", st.sampled_from(["(", ")", ":", "'", '"', "\n", "    ", "\\", "#",
                                                                   "f'{", "**kw", "*", "@"])))


# ---- inputs: OpenAPI documents -------------------------------------------------------------------------

def _json_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                           _json_containers, max_leaves=10)
LIMITS = st.one_of(st.integers(-3, 20), st.integers(-2**70, 2**70), st.floats(),
                   st.sampled_from([3_000_000_000, 1e308, "5", None, True, [], {}]))
REFERENCES = st.sampled_from([
    "#/components/schemas/A", "#/components/schemas/B", "#/components/schemas/Missing", "#/components/schemas/A/x",
    "#/paths/~1a~1{id}/get", "#", "#/", "other.json#/A", "#/components/schemas/%41", "#/components/schemas/A~0~1",
    "", "#/components/schemas/A/properties/next", "#/components/parameters/P", "#/components/schemas"]
).map(lambda reference: {"$ref": reference})


@st.composite
def or_junk(draw, strategy: st.SearchStrategy):
    """`strategy`, or one time in eight any JSON value in its place: mostly well-formed, so that parsing goes deep."""
    return draw(JSON_VALUES if draw(st.integers(1, 8)) == 8 else strategy)


def openapi_schemas(references: st.SearchStrategy = REFERENCES) -> st.SearchStrategy:
    leaf = or_junk(st.one_of(
        st.fixed_dictionaries({}, optional={
            "type": st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null", "int", 5,
                                     ["string", "null"]]),
            "format": st.sampled_from(["uuid", "email", "date-time", "int64", "binary", "ipv4", "uri"]),
            "minLength": LIMITS, "maxLength": LIMITS, "minimum": LIMITS, "maximum": LIMITS,
            "exclusiveMinimum": LIMITS, "multipleOf": LIMITS, "minItems": LIMITS, "maxItems": LIMITS,
            "pattern": st.sampled_from(["^a+$", "[", "(a+)+$", "\\d{3,}"]), "enum": st.lists(JSON_VALUES, max_size=3),
            "example": JSON_VALUES, "default": JSON_VALUES, "const": JSON_VALUES, "nullable": st.booleans(),
            "readOnly": st.booleans(), "examples": JSON_VALUES}),
        references))

    def compound(inner):
        return st.one_of(
            st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(
                st.sampled_from(["id", "user_id", "owner_id", "amount", "email", "name", "next", ""]), inner,
                max_size=4)},
                optional={"required": or_junk(st.lists(st.text(max_size=6), max_size=3)),
                          "additionalProperties": inner | st.booleans()}),
            st.fixed_dictionaries({"type": st.just("array"), "items": inner}, optional={"minItems": LIMITS}),
            st.builds(lambda key, items: {key: items}, st.sampled_from(["allOf", "oneOf", "anyOf", "not"]),
                      st.lists(inner, max_size=3)))

    return st.recursive(leaf, compound, max_leaves=8)


PATH_TEMPLATES = st.one_of(st.sampled_from(
    ["/accounts", "/accounts/{id}", "/accounts/{id}/withdraw", "/users/{user_id}/orders/{order_id}", "/users/me"] * 4
    + ["/", "", "noslash", "//evil.example/x", "/a b", "/{id", "/x?y=1", "/ü/{ü}", "/a/{a}/{a}", ":18199/steal",
       "@other/x", "/%2e%2e/{id}", "/a#b", "/{}"]), st.text(max_size=12).map(lambda text: "/" + text))
RUNTIME_EXPRESSIONS = st.sampled_from(["$response.body#/id", "$response.body#/", "$response.header.Location", "junk",
                                       "{$response.body#/a/0/b}", "$request.path.id", "$response.body#/~1~0/-1"])


def openapi_documents() -> st.SearchStrategy[dict]:
    schema = openapi_schemas()
    parameter = or_junk(st.fixed_dictionaries(
        {"name": st.sampled_from(["id", "user_id", "order_id", "q", "X-Token", "a"]),
         "in": st.sampled_from(["path", "query", "header", "cookie", "body", 5])},
        optional={"required": or_junk(st.booleans()), "schema": schema, "example": JSON_VALUES}) | REFERENCES)
    link = or_junk(st.fixed_dictionaries(
        {"operationId": or_junk(st.sampled_from(["get", "create", "missing", ""]))},
        optional={"parameters": st.dictionaries(st.sampled_from(["id", "user_id"]), or_junk(RUNTIME_EXPRESSIONS)),
                  "requestBody": or_junk(st.dictionaries(st.sampled_from(["owner", "id"]), RUNTIME_EXPRESSIONS))}))
    response = or_junk(st.fixed_dictionaries({"description": st.just("")}, optional={
        "content": st.fixed_dictionaries({"application/json": st.fixed_dictionaries({}, optional={"schema": schema})}),
        "links": st.dictionaries(st.text(max_size=5), link, max_size=2)}))
    body = or_junk(st.fixed_dictionaries({"content": st.fixed_dictionaries({"application/json": st.fixed_dictionaries(
        {}, optional={"schema": schema, "example": JSON_VALUES})})}) | REFERENCES)
    operation = or_junk(st.fixed_dictionaries({}, optional={
        "operationId": or_junk(st.sampled_from(["get", "create", "list", "withdraw"])),
        "parameters": or_junk(st.lists(parameter, max_size=4)),
        "requestBody": body,
        "responses": or_junk(st.dictionaries(st.sampled_from(["200", "201", "204", "default", "4XX", 200]), response,
                                             max_size=3)),
        "security": st.sampled_from([[], [{}], [{"bearer": []}], "x"])}))
    path_item = or_junk(st.dictionaries(st.sampled_from(["get", "post", "put", "delete", "patch", "head",
                                                         "parameters", "$ref", "trace"]), operation, min_size=1,
                                        max_size=3))
    return st.fixed_dictionaries({
        "openapi": st.sampled_from(["3.0.3", "3.1.0", "3.0.0", "3.1"] * 3 + ["3", "2.0", 3.1, "3.1.0-rc1", ""]),
        "paths": or_junk(st.dictionaries(PATH_TEMPLATES, path_item, min_size=1, max_size=5)),
        "components": or_junk(st.fixed_dictionaries({"schemas": st.fixed_dictionaries(
            {"A": schema, "B": schema}, optional={"C": schema, "A~0~1": schema})})),
    }, optional={
        "info": st.fixed_dictionaries({"title": or_junk(st.text(max_size=10))}),
        "security": st.sampled_from([[], [{"bearer": []}], {}, None]),
        "swagger": st.just("2.0"),
    })


@st.composite
def api_documents(draw) -> dict:
    """A plausible API, so that every probe check finds something to do: per resource, create (201, linked to
    read), list, read, update, delete and an action, with drawn schemas whose references resolve."""
    schema = openapi_schemas(st.sampled_from([{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]))
    paths = {}
    for resource in draw(st.lists(st.sampled_from(["accounts", "orders", "users", "records"]), min_size=1,
                                  max_size=3, unique=True)):
        fields = draw(st.dictionaries(st.sampled_from(["amount", "email", "name", "owner_id", "balance", "version"]),
                                      schema, max_size=4))
        body = {"content": {"application/json": {"schema": {"type": "object", "properties": fields,
                                                            "required": sorted(fields)[:1]}}}}
        created = {"description": "", "content": {"application/json": {"schema": draw(schema)}},
                   "links": {"read": {"operationId": f"get_{resource}",
                                      "parameters": {"id": draw(RUNTIME_EXPRESSIONS)}}}}
        answered = {"200": {"description": "", "content": {"application/json": {"schema": draw(schema)}}}}
        paths[f"/{resource}"] = {"post": {"operationId": f"create_{resource}", "requestBody": body,
                                          "responses": {"201": created}},
                                 "get": {"operationId": f"list_{resource}", "responses": answered}}
        paths[f"/{resource}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": draw(schema)}],
            "get": {"operationId": f"get_{resource}", "responses": answered},
            "put": {"operationId": f"update_{resource}", "requestBody": body, "responses": answered},
            "delete": {"operationId": f"delete_{resource}", "responses": {"204": {"description": ""}}}}
        paths[f"/{resource}/{{id}}/withdraw"] = {"post": {
            "operationId": f"withdraw_{resource}", "responses": answered,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"amount": draw(schema)}}}}}}}
    return {"openapi": "3.0.3", "info": {"title": "api"}, "paths": paths,
            "components": {"schemas": {"A": draw(schema), "B": draw(schema)},
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}


# YAML that JSON cannot say: tags, anchors, merge keys, dates, odd numbers, complex keys.
YAML_SCALARS = st.sampled_from([
    "2024-01-01", "2001-12-14t21:59:43.10-05:00", "!!binary aGVsbG8=", "!!set {a, b}", "1e999", ".nan", ".inf",
    "0o17", "0x_1F", "!!python/object/apply:os.system ['true']", "!!str", "&a [1, *a]", "*undefined", "~", "yes",
    "!!float 1", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "'", "{? [a]: b}",
    "!!timestamp 2001-13-99"])


@st.composite
def yaml_documents(draw) -> str:
    value = draw(YAML_SCALARS)
    return (f"openapi: 3.0.3\ninfo: {{title: t}}\nbase: &base {{type: string, example: {value}}}\npaths:\n"
            f"  /a/{{id}}:\n    post:\n      operationId: create\n      parameters:\n      - name: id\n"
            f"        in: path\n        required: true\n        schema: {{<<: *base, default: {value}}}\n"
            f"      requestBody:\n        content:\n          application/json:\n            schema:\n"
            f"              type: object\n              properties: {{when: {{type: string, example: {value}}}}}\n"
            f"      responses: {{'201': {{description: ok}}}}\n")


def spec_texts() -> st.SearchStrategy[str]:
    documents = openapi_documents()
    as_text = st.one_of(documents.map(json.dumps), documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
                        yaml_documents())
    return as_text.flatmap(lambda text: mangled(text, st.sampled_from(["{", "}", "[", "]", ":", "\n  ", "&x ", "*x",
                                                                       "<<: ", "!!", '"', "- "])))


# ---- inputs: HTTP responses ----------------------------------------------------------------------------

GZIP_BOMB = gzip.compress(b"\0" * (16 * 2**20))  # 16 MiB of zeros in about 16 KiB
BODIES = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
    openapi_documents().map(lambda document: json.dumps(document).encode()),
    st.integers(1, 20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 20_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 50_000).map(lambda count: json.dumps([{"id": i} for i in range(count)]).encode()),
    st.integers(1, 300_000).map(lambda size: b"a" * size),
    st.just(b'{"id": "\\ud800", "n": 1e999, "x": NaN}'),
)
HEADER_NAMES = st.sampled_from([b"Location", b"Set-Cookie", b"X-Test", b"Content-Type", b"Retry-After", b"ETag",
                                b"Bad Header", b"X\x00", b"\xff", b"", b"Transfer-Encoding", b"Content-Length",
                                b"Content-Encoding", b"Connection"])
HEADER_VALUES = st.one_of(st.sampled_from([b"/items/1", b"http://other.example/x", b"//evil/x", b"a=b; Path=/",
                                           b"\xff\xfe", b"", b"chunked", b"-1", b"99999999999", b"gzip", b"close",
                                           b"application/json; charset=latin-1"]), st.binary(max_size=20))


@st.composite
def http_responses(draw) -> bytes:
    """A raw HTTP/1.x response: drawn status line, headers, compression and framing, then maybe mangled."""
    status = draw(st.one_of(st.integers(100, 599), st.sampled_from([0, 99, 600, 999, 1000, -1, 2**40])))
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTP/1.1 ", b"ICY", b"http/1.1"]))
    reason = draw(st.sampled_from([b"OK", b"", b"Created", "ünï".encode(), b"\x00", b"OK\r\nX: y"]))
    body = draw(BODIES)
    encoding = draw(st.sampled_from([None, "gzip", "deflate", "x-gzip", "br", "identity", "gzip, gzip", "bogus"]))
    if encoding in ("gzip", "x-gzip"):
        body = GZIP_BOMB if draw(st.integers(0, 9)) == 0 else gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    if encoding and draw(st.booleans()):
        body = body[:draw(st.integers(0, len(body)))]  # a compressed stream cut short
    headers = [(b"Content-Type", draw(st.sampled_from([b"application/json", b"text/html", b"application/x-yaml",
                                                        b"application/json; charset=utf-16", b"", b"*/*"])))]
    if encoding:
        headers.append((b"Content-Encoding", encoding.encode()))
    framing = draw(st.sampled_from(["length", "chunked", "close", "short-length", "long-length", "huge-length",
                                    "bad-length", "two-lengths", "bad-chunks"]))
    if framing == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
        size = draw(st.integers(1, 4096))
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in
                        (body[i:i + size] for i in range(0, len(body), size))) + b"0\r\n\r\n"
    elif framing == "bad-chunks":
        headers.append((b"Transfer-Encoding", b"chunked"))
        body = draw(st.sampled_from([b"zz\r\n", b"ffffffffffffffff\r\nab", b"5\r\nab", b"-1\r\n\r\n"])) + body
    elif framing != "close":
        length = {"length": len(body), "short-length": max(len(body) - 3, 0), "long-length": len(body) + 50,
                  "huge-length": 10**12, "bad-length": b"ten", "two-lengths": len(body)}[framing]
        headers.append((b"Content-Length", str(length).encode() if isinstance(length, int) else length))
        if framing == "two-lengths":
            headers.append((b"Content-Length", str(len(body) + 1).encode()))
    headers += draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=3))
    head = b"%s %d %s\r\n" % (version, status, reason) + b"".join(b"%s: %s\r\n" % pair for pair in headers)
    raw = head + b"\r\n" + body
    for _ in range(draw(st.integers(0, 2))):  # a few bytes changed anywhere, framing included
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\r\n", b"\n", b"\x00", b":", b" ", b"\r\n\r\n", b""])) + raw[at + 1:]
    return raw


@st.composite
def api_answers(draw) -> bytes:
    """A well-formed answer an API could give (so that the checks go on), with a JSON body."""
    status = draw(st.sampled_from([200, 200, 201, 201, 204, 400, 401, 403, 404, 409, 422, 500]))
    body = json.dumps(draw(st.one_of(
        st.fixed_dictionaries({}, optional={key: JSON_VALUES | st.integers() | st.uuids().map(str) for key in
                                            ("id", "user_id", "owner_id", "balance", "amount", "version", "email",
                                             "token", "items", "error")}),
        st.lists(st.fixed_dictionaries({"id": st.integers() | st.text(max_size=5)}), max_size=5),
        JSON_VALUES))).encode()
    location = draw(st.sampled_from([b"", b"Location: /accounts/1\r\n", b"Location: http://other.example/x\r\n",
                                     b"Location: \r\n", b"Location: /accounts/%zz\r\n"]))
    return (b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (status, len(body), location, body))


def probe_runs() -> st.SearchStrategy[str]:
    """A spec and the answers the target gives, in turn, to whatever the probe sends: one JSON text."""
    answers = st.lists(st.one_of(api_answers(), api_answers(), http_responses()), min_size=1, max_size=6)
    return st.builds(lambda document, sent: json.dumps({"spec": document, "answers": [a.decode("latin-1")
                                                                                      for a in sent]}),
                     api_documents(), answers)


class AnsweringServer(socketserver.ThreadingTCPServer):
    """On 127.0.0.1: reads each request whole (head and Content-Length body), sends the next of `answers` (in
    turn, from the first again after the last), closes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)
        self._answers: list[bytes] = [b""]
        self._sent = 0
        self._lock = threading.Lock()
        threading.Thread(target=self.serve_forever, name="fuzz-http", daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server_address[1]

    def answer_with(self, answers: list[bytes]) -> None:
        with self._lock:
            self._answers, self._sent = answers, 0

    def next_answer(self) -> bytes:
        with self._lock:
            self._sent += 1
            return self._answers[(self._sent - 1) % len(self._answers)]


_server: AnsweringServer | None = None


def local_server() -> AnsweringServer:
    global _server
    if _server is None:
        _server = AnsweringServer()
    return _server


class _Answer(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5)
        try:
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                body += chunk
            self.request.sendall(self.server.next_answer())
            self.request.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client gave up first: a body cut at the cap, a deadline


# ---- targets -------------------------------------------------------------------------------------------


def run_python(source: str) -> None:
    try:
        tree = parse_python(source, "fuzz.py")
    except FileError:
        return
    project = Project.build([extract(tree, source, "fuzz.py", "fuzz")])
    report = checks.Report(project, SCAN_RULES)  # the checks unguarded, so that a failure shows where it is
    for function, module in project.functions():
        unit = project.unit(function, module)
        for check in checks.UNIT_CHECKS.values():
            check(unit, report)
    for schema_check in checks.SCHEMA_CHECKS.values():
        schema_check(project, report)


def run_sql(text: str) -> None:
    parse_sql(text)
    tables_from_ddl(text, "fuzz.sql")


SPEC_BASE = "http://127.0.0.1:9/api"


def run_spec(text: str) -> None:
    with tempfile.NamedTemporaryFile("wb", suffix=".yaml") as handle:
        handle.write(text.encode("utf-8", "surrogatepass"))
        handle.flush()
        spec = load(handle.name, SPEC_BASE, timeout=2)
    http = Http(SPEC_BASE, {})
    probe = Probe(spec, http, active=True, selected=set())
    for operation in spec.operations[:100]:
        call = probe.fill(operation)
        unique(call.body, operation.body_schema)
        http.prepare(operation.method, call.path, identity=None, json_body=call.body, params=call.params)


def run_http(raw: bytes) -> None:
    server = local_server()
    server.answer_with([raw])
    http = Http(server.url, {}, timeout=2, max_body=64 * 2**10, rate=1e6, max_requests=10**9)
    try:
        try:
            response = http.request("GET", "/items/1", identity=None)
        except TargetError:
            pass
        else:
            body_of(response.content)
            created = Resource(Operation("POST", "/items", "create"), "alice", {}, json_of(response.content),
                               response.headers.get("location"))
            for expression in ("$response.body#/id", "$response.body#/0/id", "{$response.header.Location}"):
                created.evaluate(expression)
        burst = http.burst([http.prepare("POST", "/items", identity=None, json_body={"a": 1})] * 2, None)
        for answer in burst.responses:
            body_of(answer.body)
        load(f"{server.url}/openapi.json", server.url, timeout=2)
    except SpecError:
        pass
    finally:
        http.close()


PROBE_IDENTITIES = {name: Identity(name, "Authorization", f"Bearer {name}-token-0123456789")
                    for name in ("alice", "bob")}


def run_probe(text: str) -> None:
    """Every probe check, unguarded (the engine would report a failure as an internal error and go on), with two
    identities and actively, against the local server answering as drawn."""
    run = json.loads(text)
    server = local_server()
    server.answer_with([answer.encode("latin-1") for answer in run["answers"]])
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as handle:
        json.dump(run["spec"], handle)
        handle.flush()
        spec = load(handle.name, server.url, timeout=2)
    http = Http(server.url, PROBE_IDENTITIES, timeout=1, max_body=64 * 2**10, rate=1e6, max_requests=60)
    probe = Probe(spec, http, active=True, selected={rule_id for rule_ids, *_ in CHECKS for rule_id in rule_ids})
    try:
        for check in (entry.run for entry in CHECKS):
            try:
                check(probe)
            except TargetError:
                pass
    except BudgetExhausted:
        pass
    finally:
        http.close()


@dataclass(frozen=True)
class Target:
    name: str
    inputs: Callable[[], st.SearchStrategy]
    run: Callable
    expected: tuple[type[BaseException], ...]  # what the API documents
    suffix: str  # of the saved input


TARGETS = {target.name: target for target in [
    Target("python", python_sources, run_python, (), ".py"),
    Target("sql", sql_texts, run_sql, (), ".sql"),
    Target("spec", spec_texts, run_spec, (SpecError, TargetError), ".yaml"),
    Target("http", http_responses, run_http, (TargetError,), ".http"),
    Target("probe", probe_runs, run_probe, (SpecError,), ".json"),
]}


# ---- the fuzzer ----------------------------------------------------------------------------------------


class Crash(Exception):
    """Raised to Hypothesis for an input of a new kind of crash, so that it shrinks it."""


class TooSlow(BaseException):  # not an Exception: the code under test must not catch it
    """SIGALRM: the target spent more than SLOW_SECONDS on one input."""


@dataclass
class Found:
    target: str
    kind: str
    folder: Path
    hits: int = 1


class Fuzzer:
    def __init__(self, out: Path, deadline: float) -> None:
        self.out = out
        self.deadline = deadline
        self.examples: Counter[str] = Counter()
        self.found: dict[tuple[str, str], Found] = {}
        self._timing = False
        signal.signal(signal.SIGALRM, self._alarm)

    def _alarm(self, signum, frame) -> None:
        if self._timing:
            raise TooSlow(f"more than {SLOW_SECONDS:g} s on one input")

    def attempt(self, target: Target, example) -> tuple[str, str] | None:
        """Run `target` on `example`: None when it behaved as documented, else (kind, traceback)."""
        self._timing = True
        signal.setitimer(signal.ITIMER_REAL, SLOW_SECONDS)
        try:
            target.run(example)
        except target.expected:
            return None
        except (Exception, TooSlow) as exc:  # RecursionError and MemoryError included
            return kind_of(exc), "".join(traceback.format_exception(exc))
        finally:
            self._timing = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        return None

    def round(self, target: Target) -> None:
        """One Hypothesis run of ROUND_EXAMPLES inputs; a new kind of crash is shrunk and saved."""
        failing: list[tuple[object, str, str]] = []
        shrink_until = [float("inf")]

        @settings(max_examples=ROUND_EXAMPLES, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
                  print_blob=False)
        @given(target.inputs())
        def test(example) -> None:
            if time.monotonic() > min(self.deadline, shrink_until[0]):
                return  # out of time: every input passes, so Hypothesis stops
            self.examples[target.name] += 1
            outcome = self.attempt(target, example)
            if outcome is None:
                return
            kind, trace = outcome
            if (target.name, kind) in self.found:
                self.found[target.name, kind].hits += 1
                return
            if not failing:
                shrink_until[0] = time.monotonic() + SHRINK_SECONDS
            failing.append((example, kind, trace))
            raise Crash(kind)

        try:
            test()
        except (Crash, Flaky):
            pass
        if failing:
            self.save(target, *failing[-1])  # the last one is the smallest Hypothesis reached

    def save(self, target: Target, example, kind: str, trace: str) -> None:
        folder = self.out / f"{target.name}-{sum(f.target == target.name for f in self.found.values()) + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        data = example if isinstance(example, bytes) else example.encode("utf-8", "surrogatepass")
        (folder / f"input{target.suffix}").write_bytes(data)
        shown = repr(example) if len(data) <= 2000 else f"{len(data)} bytes, see input{target.suffix}"
        (folder / "crash.txt").write_text(
            f"target: {target.name}\nkind: {kind}\nreplay: {sys.executable} bench/fuzz.py --replay {folder}\n"
            f"input: {shown}\n\n{trace}", encoding="utf-8")
        self.found[target.name, kind] = Found(target.name, kind, folder)
        print(f"  crash in {target.name}: {kind} -> {folder}", flush=True)

    def summary(self) -> str:
        lines = ["targets: " + ", ".join(f"{name} ({count} inputs)" for name, count in self.examples.items()),
                 f"distinct crashes: {len(self.found)}"]
        kinds = Counter(re.split(r" (?:at|in|outside) ", found.kind)[0] for found in self.found.values())
        lines.append("by exception: " + (", ".join(f"{kind} x{n}" for kind, n in kinds.most_common()) or "none"))
        for found in sorted(self.found.values(), key=lambda f: (f.target, f.kind)):
            lines.append(f"  [{found.target}] {found.kind}  (seen {found.hits}x)  {found.folder}")
        return "\n".join(lines)


def kind_of(exc: BaseException) -> str:
    """The exception's type and the innermost line of plumbline it passed through (for slowness, the function:
    where the alarm lands within it varies)."""
    ours = [frame for frame in traceback.extract_tb(exc.__traceback__) if Path(frame.filename).is_relative_to(PACKAGE)]
    name = f"slower than {SLOW_SECONDS:g} s" if isinstance(exc, TooSlow) else type(exc).__name__
    if not ours:
        return f"{name} outside plumbline"
    where = Path(ours[-1].filename).relative_to(PACKAGE.parent)
    return f"{name} in {where} ({ours[-1].name})" if isinstance(exc, TooSlow) else \
        f"{name} at {where}:{ours[-1].lineno} ({ours[-1].name})"


def replay(folder: Path) -> int:
    header = dict(line.split(": ", 1) for line in (folder / "crash.txt").read_text().splitlines()[:2])
    target = TARGETS[header["target"]]
    data = (folder / f"input{target.suffix}").read_bytes()
    example = data if target.suffix == ".http" else data.decode("utf-8", "surrogatepass")
    outcome = Fuzzer(folder, float("inf")).attempt(target, example)
    if outcome is None:
        print(f"{target.name}: no crash (fixed?)")
        return 0
    print(outcome[1], end="")
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "plumbline-fuzz",
                        help="where crashes are saved (outside the repository)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated, of: " + ", ".join(TARGETS))
    parser.add_argument("--replay", type=Path, metavar="FOLDER", help="run one saved crash again")
    args = parser.parse_args()
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its notes on each odd statement are not crashes
    if args.replay:
        return replay(args.replay)
    names = [name.strip() for name in args.targets.split(",") if name.strip()]
    if not names or set(names) - set(TARGETS):
        parser.error(f"--targets: choose among {', '.join(TARGETS)}")
    chosen = [TARGETS[name] for name in names]
    if args.out.resolve().is_relative_to(REPO):
        parser.error("--out must be outside the repository")
    fuzzer = Fuzzer(args.out, time.monotonic() + args.minutes * 60)
    print(f"fuzzing {', '.join(t.name for t in chosen)} for {args.minutes:g} min; crashes go to {args.out}")
    while time.monotonic() < fuzzer.deadline:
        for target in chosen:
            fuzzer.round(target)
    report = fuzzer.summary()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.txt").write_text(report + "\n", encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
