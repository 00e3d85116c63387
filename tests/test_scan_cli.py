"""`plumbline scan` as users and CI systems drive it: formats, exit codes, configuration, cache, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from plumbline.cli import main
from plumbline.findings import FindingsDocument

DATA = Path(__file__).parent / "data"

APP = '''
from flask import Flask, request
from flask_login import login_required
import psycopg

app = Flask(__name__)
conn = psycopg.connect("postgresql://localhost/shop", autocommit=True)


@app.get("/products/search")
def search():
    name = request.args["name"]
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()


@app.post("/products/<int:product_id>/buy")
@login_required
def buy(product_id):
    row = conn.execute("SELECT stock FROM products WHERE id = %s", (product_id,)).fetchone()
    conn.execute("UPDATE products SET stock = %s WHERE id = %s", (row[0] - 1, product_id))
    return {"ok": True}
'''


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return directory


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["scan", *args])
    return result.exit_code, result.output


def findings(tmp_path: Path, *args: str) -> tuple[int, FindingsDocument]:
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--format", "json", "--no-cache", *args])
    return result.exit_code, FindingsDocument.from_json(result.stdout)


def rules_at(document: FindingsDocument) -> set[tuple[str, int, str]]:
    return {(f.location.path, f.location.line, f.rule_id) for f in document.findings}


def test_text_output_is_one_line_per_finding_with_a_summary(tmp_path):
    write(tmp_path, {"app.py": APP})
    code, output = run(str(tmp_path), "--no-cache")
    assert code == 1
    lines = output.splitlines()
    assert "app.py:13:12: PL101 [critical] SQL text is built from request.args['name']" in output
    assert any(line.startswith("app.py:20:5: PL102 [high]") for line in lines)
    assert "Found 2 findings (1 critical, 1 high)" in output
    assert "1 files, " in output


def test_json_document_has_paths_relative_to_the_scanned_root(tmp_path):
    write(tmp_path, {"shop/app.py": APP})
    code, document = findings(tmp_path)
    assert code == 1
    assert rules_at(document) == {("shop/app.py", 13, "PL101"), ("shop/app.py", 20, "PL102")}
    assert all(f.engine == "scan" and f.fix for f in document.findings)
    lost_update = next(f for f in document.findings if f.rule_id == "PL102")
    assert lost_update.cwe == (362, 367) and lost_update.owasp == "API6:2023"
    assert "separate transactions" in lost_update.message


def test_sarif_is_valid_against_the_official_schema_and_carries_rule_metadata(tmp_path):
    write(tmp_path, {"app.py": APP, "broken.py": "def (:\n"})
    output = tmp_path / "out.sarif"
    code, _ = run(str(tmp_path), "--format", "sarif", "--output", str(output), "--no-cache")
    assert code == 1
    sarif = json.loads(output.read_text())
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema, cls=jsonschema.Draft202012Validator)
    run_ = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert set(rules) == {"PL101", "PL102"}
    assert rules["PL101"]["properties"]["security-severity"] == "9.5"
    assert "external/cwe/cwe-89" in rules["PL101"]["properties"]["tags"]
    assert "## Use instead" in rules["PL102"]["help"]["markdown"]
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run_["results"]}
    assert results == {("PL101", 13), ("PL102", 20)}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py" for r in run_["results"])
    assert all(len(r["partialFingerprints"]["plumbline/v1"]) == 32 for r in run_["results"])
    notifications = run_["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notifications] == ["broken.py"]


def test_fingerprints_survive_moving_code_down(tmp_path):
    write(tmp_path, {"app.py": APP})
    first = json.loads(CliRunner().invoke(main, ["scan", str(tmp_path), "--format", "sarif", "--no-cache"]).stdout)
    write(tmp_path, {"app.py": "\n\n# a comment\n" + APP})
    second = json.loads(CliRunner().invoke(main, ["scan", str(tmp_path), "--format", "sarif", "--no-cache"]).stdout)

    def prints(sarif):
        return sorted(r["partialFingerprints"]["plumbline/v1"] for r in sarif["runs"][0]["results"])

    assert prints(first) == prints(second)


@pytest.mark.parametrize(
    ("args", "expected"),
    [((), 1), (("--fail-on", "critical"), 1), (("--select", "PL102", "--fail-on", "critical"), 0),
     (("--ignore", "PL1"), 0), (("--select", "PL2"), 0)],
)
def test_exit_code_follows_fail_on_and_selection(tmp_path, args, expected):
    write(tmp_path, {"app.py": APP})
    code, _ = findings(tmp_path, *args)
    assert code == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--select", "PL999"), "no rule matches 'PL999'"), (("--format", "xml"), "Invalid value"),
     (("--fail-on", "severe"), "Invalid value")],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    write(tmp_path, {"app.py": APP})
    code, output = run(str(tmp_path), *args)
    assert code == 2 and message in output


def test_missing_path_is_a_usage_error(tmp_path):
    code, output = run(str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or directory" in output


def test_configuration_in_pyproject(tmp_path):
    write(tmp_path, {
        "app.py": APP,
        "vendored/copy.py": APP,
        "legacy/old.py": APP,
        "pyproject.toml": '[tool.plumbline]\nexclude = ["vendored"]\nignore = ["PL101"]\n'
                          '"fail-on" = "critical"\n[tool.plumbline.per-file-ignores]\n"legacy/*" = ["PL102"]\n',
    })
    code, document = findings(tmp_path)
    assert rules_at(document) == {("app.py", 20, "PL102")}
    assert code == 0, "only a high finding is left and fail-on is critical"
    code, document = findings(tmp_path, "--ignore", "PL2", "--fail-on", "high")
    assert {f.rule_id for f in document.findings} == {"PL101", "PL102"}, "--ignore replaces the configured ignore"
    assert code == 1


def test_broken_configuration_is_a_usage_error(tmp_path):
    write(tmp_path, {"app.py": APP, "pyproject.toml": '[tool.plumbline]\nfail-on = "sometimes"\n'})
    code, output = run(str(tmp_path))
    assert code == 2 and "[tool.plumbline]" in output and "fail-on" in output


def test_inline_suppression_on_the_reported_line(tmp_path):
    suppressed = APP.replace(
        "(row[0] - 1, product_id))", "(row[0] - 1, product_id))  # plumbline: ignore[PL102]"
    ).replace(".fetchall()\n", ".fetchall()  # plumbline: ignore\n", 1)
    write(tmp_path, {"app.py": suppressed})
    code, document = findings(tmp_path)
    assert document.findings == () and code == 0
    other_rule = APP.replace("(row[0] - 1, product_id))", "(row[0] - 1, product_id))  # plumbline: ignore[PL101]")
    write(tmp_path, {"app.py": other_rule})
    _, document = findings(tmp_path)
    assert ("app.py", 20, "PL102") in rules_at(document)


def test_isolated_trusts_neither_the_trees_configuration_nor_its_suppressions(tmp_path):
    hiding = APP.replace("(row[0] - 1, product_id))", "(row[0] - 1, product_id))  # plumbline: ignore")
    write(tmp_path, {"app.py": hiding, "pyproject.toml": '[tool.plumbline.per-file-ignores]\n"*" = ["ALL"]\n'})
    code, document = findings(tmp_path)
    assert document.findings == () and code == 0, "what an untrusted pull request can do to a trusting scan"
    code, document = findings(tmp_path, "--isolated")
    assert ("app.py", 20, "PL102") in rules_at(document) and code == 1


def test_cache_serves_unchanged_files_and_notices_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(cache))
    tree = write(tmp_path / "tree", {"app.py": APP, "other.py": "x = 1\n"})
    first = CliRunner().invoke(main, ["scan", str(tree)])
    assert "from cache" not in first.output
    second = CliRunner().invoke(main, ["scan", str(tree)])
    assert "(2 from cache)" in second.output
    assert second.output.split("Found")[0] == first.output.split("Found")[0]
    assert sorted(p.name for p in tree.iterdir()) == ["app.py", "other.py"], "the cache is not in the scanned tree"
    assert (cache / "secret.key").exists() and len(list(cache.glob("trees/*/*"))) == 3  # 2 files + the whole tree
    write(tree, {"app.py": APP.replace("SET stock = %s", "SET stock = stock - 1").replace(
        "(row[0] - 1, product_id)", "(product_id,)")})
    third = CliRunner().invoke(main, ["scan", str(tree)])
    assert "(1 from cache)" in third.output
    assert "PL102" not in third.output
    assert "from cache" not in CliRunner().invoke(main, ["scan", str(tree), "--no-cache"]).output


def test_parallel_workers_read_and_write_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(tmp_path / "cache"))
    tree = write(tmp_path / "tree", {f"pkg/app{i}.py": APP for i in range(8)})
    first = CliRunner().invoke(main, ["scan", str(tree), "--jobs", "2"])
    assert "from cache" not in first.output
    write(tree, {"pkg/app0.py": APP + "\n# changed\n"})  # the whole-tree result no longer applies
    second = CliRunner().invoke(main, ["scan", str(tree), "--jobs", "2"])
    assert "(7 from cache)" in second.output
    assert second.output.split("Found")[0] == first.output.split("Found")[0]


def test_parallel_jobs_find_the_same(tmp_path):
    write(tmp_path, {f"pkg/app{i}.py": APP for i in range(8)})
    _, one = findings(tmp_path, "--jobs", "1")
    _, two = findings(tmp_path, "--jobs", "2")
    assert one.findings == two.findings and len(one.findings) == 16


def test_files_that_cannot_be_scanned_are_reported_and_skipped(tmp_path):
    write(tmp_path, {
        "app.py": APP,
        "syntax.py": "def broken(:\n    pass\n",
        "py2.py": "print 'hello'\n",
        "binary.py": b"\x00\x01\x02binary",
        "cookie.py": b"# -*- coding: klingon -*-\nx = 1\n",
        "latin1.py": b"# -*- coding: latin-1 -*-\nname = '\xe9'\n",
        "undecodable.py": b"name = '\xff\xfe'\n",
        "huge.py": "x = 1\n" * 400_000,
        "schema.sql": "CREATE TABLE (((;\nCREATE TABLE users (id INT PRIMARY KEY, email TEXT);\n",
    })
    newer_syntax = sys.version_info < (3, 12)  # PEP 695 `type` statements: a syntax error before 3.12
    if newer_syntax:
        write(tmp_path, {"newer.py": "type Point = tuple[int, int]\n"})
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    code, document = findings(tmp_path)
    errors = {e.target: e.message for e in document.errors}
    assert set(errors) == {"syntax.py", "py2.py", "binary.py", "cookie.py", "undecodable.py", "huge.py",
                           "dangling.py"} | ({"newer.py"} if newer_syntax else set())
    assert errors["binary.py"] == "skipped: binary file"
    assert errors["cookie.py"].startswith("cannot decode")
    assert errors["undecodable.py"].startswith("cannot decode")
    assert "generated" in errors["huge.py"]
    assert errors["py2.py"].startswith("cannot parse:") and "(line 1)" in errors["py2.py"]
    assert {f.location.path for f in document.findings} == {"app.py", "schema.sql"}
    assert ("schema.sql", 2, "PL201") in rules_at(document), "the good statement of a partly broken file is read"
    assert code == 1


def test_rules_lists_every_rule_and_explain_prints_the_documentation():
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["rules", "--format", "json"]).output)
    ids = [rule["id"] for rule in listed]
    assert ids == sorted(ids) and {"PL101", "PL106", "PL201", "PL204"} <= set(ids)
    assert all(r["name"] and r["severity"] and r["cwe"] for r in listed)
    page = runner.invoke(main, ["explain", "pl103"])
    assert page.exit_code == 0
    for heading in ("# missing-retry (PL103)", "## What it does", "## Why is this bad?", "## Example",
                    "## Use instead (CockroachDB)"):
        assert heading in page.output
    unknown = runner.invoke(main, ["explain", "PL999"])
    assert unknown.exit_code == 2 and "unknown rule" in unknown.output


def test_an_internal_error_in_a_check_costs_that_check_only(tmp_path, monkeypatch):
    from plumbline.scan import checks

    def broken(unit, report):
        raise RuntimeError("boom")

    monkeypatch.setitem(checks.UNIT_CHECKS, "PL101", broken)
    write(tmp_path, {"app.py": APP})
    code, document = findings(tmp_path)
    assert ("app.py", 20, "PL102") in rules_at(document)
    assert not any(f.rule_id == "PL101" for f in document.findings)
    assert any("internal error in PL101 (RuntimeError: boom)" in e.message and e.kind == "internal"
               for e in document.errors)
    assert code == 3, "an internal error may hide findings: never a plain pass or a plain 'findings'"


def test_migrations_and_alter_fragments_are_not_judged_as_tables(tmp_path):
    write(tmp_path, {
        "models.py": "from sqlalchemy import Column, Integer, String, ForeignKey\nfrom db import Base\n\n\n"
                     "class User(Base):\n    __tablename__ = 'users'\n    id = Column(Integer, primary_key=True)\n"
                     "    email = Column(String, unique=True, nullable=False)\n",
        "migrations/versions/0002_acl.py": (
            "from alembic import op\n\n\ndef upgrade():\n"
            "    op.execute('ALTER TABLE principals ADD CONSTRAINT valid CHECK (user_id IS NOT NULL OR email IS NOT NULL)')\n"
            "    op.create_foreign_key(None, 'principals', 'users', ['user_id'], ['id'])\n"
            "    for row in op.get_bind().execute('SELECT id, name FROM principals WHERE id = 1'):\n"
            "        op.get_bind().execute('UPDATE principals SET name = %s WHERE id = %s', (row[1].strip(), row[0]))\n"
        ),
    })
    code, document = findings(tmp_path)
    assert document.findings == (), [f.message for f in document.findings]
    assert code == 0
