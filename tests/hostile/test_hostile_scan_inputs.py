"""Source a hostile tree can hold to crash the extractor, to skip a file (and the finding in it), or to stall a scan.

Every case is a real scan of a temporary tree holding the hostile construct and, beside or after it, a SQL
injection (PL101). The injection must still be reported at its line, and nothing may count as an internal
error unless the scan says on purpose where it stopped. DDL and SQL bombs must end in seconds: that is
asserted only by each test's timeout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.findings import FindingsDocument
from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.hostile

HEADER = '''from flask import Flask, request
import psycopg
from sqlalchemy import text

app = Flask(__name__)
conn = psycopg.connect("postgresql://localhost/shop")

'''

INJECTION = '''

@app.get("/search")
def search():
    name = request.args["name"]
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()
'''

# Deep enough to have broken the extractor (it skipped files from about 500 levels), shallow enough for
# Python's own parser even under pytest's stack (about 3000 levels; 1500 for call chains, 200 for brackets).
DEPTH = 2000


def app_with(code: str) -> tuple[str, int]:
    """An app holding `code` and then the injection; with the line of the injected statement."""
    source = HEADER + code + INJECTION
    return source, source.count("\n")


def scan_tree(root: Path, files: dict[str, str]) -> FindingsDocument:
    for name, content in files.items():
        (root / name).write_text(content)
    return scan([root], ScanOptions(cache=False)).document


def rules_at(document: FindingsDocument) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.path, f.location.line) for f in document.findings}


def assert_injection_reported(tmp_path: Path, code: str, **other_files: str) -> FindingsDocument:
    source, line = app_with(code)
    document = scan_tree(tmp_path, {"app.py": source, **other_files})
    assert [(e.target, e.message) for e in document.errors] == []
    assert ("PL101", "app.py", line) in rules_at(document)
    return document


# ---- ordinary calls the extractor crashed on ----------------------------------------------------------

CRASHED_ON = {
    "boto3 query with a keyword mapping": "def items(table, kw):\n    return table.query(**kw)\n",
    "more than 10,000 placeholders": "def rows(ids):\n    return conn.execute('SELECT * FROM t WHERE id IN ("
                                     + ", ".join(["%s"] * 10_001) + ")', ids)\n",
    "a named placeholder spelt with a superscript digit": "def rows(x):\n    return conn.execute("
                                                         "'SELECT * FROM t WHERE a = :\u00b2', {'a': x})\n",
    "a $-placeholder of 5,000 digits": "def rows(x):\n    return conn.execute('SELECT * FROM t WHERE a = $"
                                       + "9" * 5000 + "', (x,))\n",
    "a literal that spells a hole marker": "def rows(x):\n    return conn.execute(\"SELECT * FROM t WHERE a = "
                                           "'__pl_hole_7__' AND b = %s\" % x)\n",
    "a hole marker of 5,000 digits": "def rows(x):\n    return conn.execute(\"SELECT __pl_hole_" + "9" * 5000
                                     + "__ FROM t WHERE b = %s\" % x)\n",
    "a format field spelt with a superscript digit": "def rows(x):\n    return conn.execute('SELECT {\u00b2} FROM t'"
                                                     ".format(x))\n",
    "a format field of 5,000 digits": "def rows(x):\n    return conn.execute('SELECT {" + "9" * 5000
                                      + "} FROM t'.format(x))\n",
    # Statements sqlglot itself fails on (a TypeError, an IndexError) or parses into odd trees:
    "DDL sqlglot raises a TypeError on": "DDL = \"CREATE TABLE t (SERIAL ) DEFAULT PARTITION MATCHED ENUM B'1' "
                                         "UPDATE DROP\"\n",
    "a literal sqlglot cannot print": "def rows():\n    return conn.execute(\"UPDATE t SET a = - E'\\\\n'\")\n",
    "a DELETE without a table": "def rows():\n    return conn.execute('DELETE %')\n",
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("code", CRASHED_ON.values(), ids=CRASHED_ON.keys())
def test_a_file_with_a_call_the_extractor_once_crashed_on_is_analysed(tmp_path, code):
    assert_injection_reported(tmp_path, code)


# ---- constructs Python parses thousands of levels deep ------------------------------------------------

def in_function(expression: str) -> str:
    return f"def helper(x, y, c, f):\n    value = {expression}\n    return value\n"


DEEP = {
    "string concatenation": in_function(" + ".join(['"a"', "x"] * (DEPTH // 2))),
    "percent formatting": in_function(" % ".join(['"%s"'] * DEPTH)),
    "power": in_function(" ** ".join(["x"] * DEPTH)),
    "attribute chain": in_function("x" + ".a" * DEPTH),
    "method chain": in_function("x" + ".f()" * (DEPTH // 2)),
    "subscript chain": in_function("x" + "[0]" * DEPTH),
    "unary minus": in_function("-" * DEPTH + "x"),
    "not": in_function("not " * DEPTH + "x"),
    "conditional expressions": in_function(" if c else ".join(["x"] * DEPTH)),
    "lambdas": in_function("lambda: " * DEPTH + "x"),
    "boolean operators": in_function(" or ".join(["x and y"] * DEPTH)),
    "comparisons": in_function(" < ".join(["x"] * DEPTH)),
    "nested calls": in_function("f(" * 190 + "x" + ")" * 190),
    "nested calls of concatenations": in_function("f(" * 190 + "'a' + x" + ")" * 190),
    "elif chain": "def helper(x):\n    if x == 0:\n        conn.execute('SELECT 0')\n"
                  + "".join(f"    elif x == {i}:\n        conn.execute('SELECT {i}')\n" for i in range(1, DEPTH)),
    "module-level concatenation": "QUERY = " + " + ".join(['"a"', "request.path"] * (DEPTH // 2)) + "\n",
    "concatenation in a decorator's wrapper": "def guarded(view):\n    def wrapper():\n        note = "
                                              + " + ".join(["'a'", "x"] * (DEPTH // 2))
                                              + "\n        abort(401)\n    return wrapper\n",
    "concatenation in a retry handler": "def helper(x):\n    for attempt in range(3):\n        try:\n"
                                        "            conn.execute('SELECT 1')\n        except OperationalError:\n"
                                        "            note = " + " + ".join(["'a'", "x"] * (DEPTH // 2)) + "\n",
    "concatenation in a model annotation": "class Item(Base):\n    __tablename__ = 'items'\n    id: Mapped["
                                           + " | ".join(["int"] * DEPTH) + "]\n",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("code", DEEP.values(), ids=DEEP.keys())
def test_a_construct_thousands_of_levels_deep_is_analysed_not_skipped(tmp_path, code):
    assert_injection_reported(tmp_path, code)


@pytest.mark.timeout(60)
def test_an_injection_built_into_a_long_concatenation_is_found(tmp_path):
    terms = ['"SELECT id FROM products WHERE 1 = 1"'] + ['" AND 1 = 1"'] * (DEPTH // 2)
    source = HEADER + (
        '@app.get("/filter")\n'
        "def filter_products():\n"
        '    name = request.args["name"]\n'
        f"    query = {' + '.join(terms)} + \" AND name = '\" + name + \"'\" + {' + '.join(terms[1:])}\n"
        "    return conn.execute(query).fetchall()\n"
    )
    document = scan_tree(tmp_path, {"app.py": source})
    assert document.errors == ()
    assert ("PL101", "app.py", source.count("\n")) in rules_at(document)


@pytest.mark.timeout(60)
def test_text_built_past_the_size_worth_parsing_is_still_an_injection(tmp_path):
    """Thousands of `+=` joins: the text is dropped past a size, not where its parts come from."""
    source = HEADER + (
        '@app.get("/many")\n'
        "def many():\n"
        '    name = request.args["name"]\n'
        '    query = "SELECT id FROM products WHERE 1 = 1"\n'
        + "    query += \" OR name = '\" + name + \"'\"\n" * 5000
        + "    return conn.execute(query).fetchall()\n"
    )
    document = scan_tree(tmp_path, {"app.py": source})
    assert document.errors == ()
    assert ("PL101", "app.py", source.count("\n")) in rules_at(document)


# ---- DDL and SQL bombs: linear in their size -----------------------------------------------------------

def users_table(hostile: str) -> tuple[str, int]:
    """DDL of a `users` table with `hostile` inside, before an `email` column that lacks a UNIQUE constraint
    (PL201 at its line shows that the statement was read to its end); with that line."""
    head = "CREATE TABLE users (\n    id INT PRIMARY KEY,\n" + hostile
    return head + "    email TEXT\n);\n", head.count("\n") + 1


DDL_BOMBS = {
    "10 KB of blank lines": "\n" * 10_000,
    "60 KB of blank lines (a line-anchored pattern must not rescan them)": "\n" * 60_000,
    "a line of 10,000 spaces and newlines": " \n" * 5_000,
    "20,000 columns": "".join(f"    c{i} INT,\n" for i in range(20_000)),
    "5,000 columns with constraints": "".join(f"    c{i} INT REFERENCES t (id) CHECK (c{i} > 0),\n"
                                              for i in range(5_000)),
    "40,000 unterminated comments": "    /* x */\n" + "-- /*x\n" * 40_000,
}


def test_utf16_sql_and_requirements_files_are_text_not_binary(tmp_path):
    """Windows tools write UTF-16 with a byte-order mark: full of NUL bytes, and still text to read."""
    (tmp_path / "requirements.txt").write_text("flask\nsqlalchemy-cockroachdb\n", encoding="utf-16")
    ddl, email_line = users_table("")
    (tmp_path / "schema.sql").write_text(ddl, encoding="utf-16")
    document = assert_injection_reported(tmp_path, "")
    assert ("PL201", "schema.sql", email_line) in rules_at(document)


@pytest.mark.timeout(15)
def test_a_requirements_file_of_blank_lines_is_read_in_seconds(tmp_path):
    """Requirements files are read for the database they install; 60 KB of blank lines must not stall that."""
    document = assert_injection_reported(tmp_path, "", **{"requirements.txt": "\n" * 60_000 + "flask\n"})
    assert document.findings


@pytest.mark.timeout(15)
@pytest.mark.parametrize("hostile", DDL_BOMBS.values(), ids=DDL_BOMBS.keys())
def test_a_ddl_bomb_in_a_sql_file_is_read_in_seconds(tmp_path, hostile):
    ddl, email_line = users_table(hostile)
    document = assert_injection_reported(tmp_path, "", **{"schema.sql": ddl})
    assert ("PL201", "schema.sql", email_line) in rules_at(document)


@pytest.mark.timeout(15)
@pytest.mark.parametrize("hostile", DDL_BOMBS.values(), ids=DDL_BOMBS.keys())
def test_a_ddl_bomb_in_a_python_string_is_read_in_seconds(tmp_path, hostile):
    ddl, email_line = users_table(hostile)
    code = f'SCHEMA = """{ddl}"""\n\n\ndef create():\n    conn.execute(SCHEMA)\n    conn.execute(text(SCHEMA))\n'
    document = assert_injection_reported(tmp_path, code)
    assert ("PL201", "app.py", HEADER.count("\n") + email_line) in rules_at(document)


UNTERMINATED = {
    "120 KB of comment openings": "/*x" * 40_000,
    "one comment never closed": "/*" + "x" * 120_000,
    "120 KB of quotes never closed": "'x" * 60_001,
    "120 KB of dollar quotes": "$a$" * 40_000,
    "a quote never closed": "'" + "x" * 120_000,
    "an identifier of 120 KB": "a" * 120_000,
    "5,000 nested parentheses": "CREATE TABLE t (id INT CHECK (" + "(" * 5_000 + "1" + ")" * 5_000 + "));",
    "5,000 parentheses never closed": "CREATE TABLE t (id INT CHECK (" + "(" * 5_000,
    "10,000 statements": "CREATE TABLE t (id INT);\n" * 10_000,
    "10,000 interleave clauses never closed": "CREATE TABLE t (id INT) " + "INTERLEAVE IN PARENT p (" * 10_000,
    "10,000 time travel clauses never closed": "SELECT 1 " + "AS OF SYSTEM TIME x(" * 10_000,
}


@pytest.mark.timeout(15)
@pytest.mark.parametrize("hostile", UNTERMINATED.values(), ids=UNTERMINATED.keys())
def test_unterminated_and_oversized_sql_in_a_sql_file_is_read_in_seconds(tmp_path, hostile):
    ddl = "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\n" + hostile
    document = assert_injection_reported(tmp_path, "", **{"schema.sql": ddl})
    assert ("PL201", "schema.sql", 1) in rules_at(document)


@pytest.mark.timeout(15)
@pytest.mark.parametrize("hostile", UNTERMINATED.values(), ids=UNTERMINATED.keys())
def test_unterminated_and_oversized_sql_in_a_python_string_is_read_in_seconds(tmp_path, hostile):
    ddl = "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\n" + hostile
    code = f"SCHEMA = {ddl!r}\n\n\ndef create():\n    conn.execute(SCHEMA)\n    conn.execute(text(SCHEMA + ';'))\n"
    document = assert_injection_reported(tmp_path, code)
    assert ("PL201", "app.py", HEADER.count("\n") + 1) in rules_at(document)


@pytest.mark.timeout(15)
def test_deeply_nested_sql_with_an_injection_is_still_an_injection(tmp_path):
    code = ('@app.get("/nested")\ndef nested():\n    name = request.args["name"]\n'
            "    return conn.execute(f\"SELECT id FROM t WHERE " + "(" * 5_000 + "name = '{name}'" + ")" * 5_000
            + "\").fetchall()\n")
    source, _ = app_with(code)
    document = scan_tree(tmp_path, {"app.py": source})
    assert document.errors == ()
    assert ("PL101", "app.py", HEADER.count("\n") + 4) in rules_at(document)


# ---- whole-program blow-ups ----------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_call_fan_out_is_cut_short_and_said_so(tmp_path):
    """A route calling a helper 100 times that calls another 300 times that runs 100 statements would be three
    million data operations: the scan stops following the calls, says where, and still reports the rest."""
    code = ("def leaf(x):\n" + "    conn.execute('UPDATE t SET a = 1 WHERE id = %s', (x,))\n" * 100
            + "def middle(x):\n" + "    leaf(x)\n" * 300
            + '@app.post("/fan")\ndef fan():\n' + '    middle(request.args["x"])\n' * 100)
    source, line = app_with(code)
    document = scan_tree(tmp_path, {"app.py": source})
    assert ("PL101", "app.py", line) in rules_at(document)
    cut_short = {error.target for error in document.errors if "stopped following its calls" in error.message}
    assert cut_short == {"app.py:fan", "app.py:middle"}
    assert all(error.kind == "internal" for error in document.errors), "a scan cut short is not a clean pass"


@pytest.mark.timeout(60)
def test_a_handler_too_large_to_compare_pairwise_is_said_so(tmp_path):
    """5,000 statements in one transaction: rules that compare them pair by pair would take 25 million steps
    each; the scan keeps to its budget and says which rules it did not check there."""
    code = ('@app.post("/bulk")\ndef bulk():\n    with conn.transaction():\n'
            + "".join(f"        conn.execute('UPDATE t SET a = 1 WHERE id = {i}')\n" for i in range(5_000)))
    source, line = app_with(code)
    document = scan_tree(tmp_path, {"app.py": source})
    assert ("PL101", "app.py", line) in rules_at(document)
    assert document.errors, "rules left unchecked must be reported"
    assert all(error.kind == "internal" and "pair by pair" in error.message for error in document.errors)


@pytest.mark.timeout(60)
def test_thousands_of_early_returns_before_thousands_of_statements_end_in_seconds(tmp_path):
    code = ("def checks(x):\n" + "    if x:\n        conn.execute('SELECT 1')\n        return\n" * 5_000
            + "    conn.execute('SELECT 2')\n" * 5_000)
    assert_injection_reported(tmp_path, code)
