"""`--baseline` / `--write-baseline`: a team adopts plumbline on legacy code and sees only new findings.

The fingerprint must survive edits that leave a defect as it is and must change with the defect."""

from __future__ import annotations

import json

import pytest
from integrations_support import APP, plumbline, write


def baseline_then_scan(tmp_path, edited: str | None, original: str = APP) -> tuple[int, dict, str]:
    """Record a baseline of `original`, replace it with `edited`, scan again with the baseline: exit code, the
    JSON findings document, stderr."""
    write(tmp_path / "tree", {"app.py": original})
    recorded = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--write-baseline", str(tmp_path / "base.json"))
    assert recorded.exit_code == 0, recorded.output
    if edited is not None:
        write(tmp_path / "tree", {"app.py": edited})
    again = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--format", "json", "--baseline",
                      str(tmp_path / "base.json"))
    return again.exit_code, json.loads(again.stdout), again.stderr


def moved_down() -> str:
    """`buy` first, `search` second: each function moves by several lines."""
    head, search, buy = APP.split("\n\n\n@")
    return f"{head}\n\n\n@{buy.rstrip()}\n\n\n@{search}"


# APP with a variable that has nothing to do with either defect, in each function and at module level.
WITH_LABELS = (APP.replace('    name = request.args["name"]\n',
                           '    name = request.args["name"]\n    label = "search"\n'
                           '    app.logger.info("%s for %s", label, name)\n')
               .replace("def buy(product_id):\n", "def buy(product_id):\n    label = 'buy'\n    print(label)\n")
               .replace("app = Flask(__name__)\n", "app = Flask(__name__)\nVERSION = 2\n"))

EDITS_THAT_KEEP_THE_DEFECTS = {
    "moving a function down": moved_down(),
    "adding lines above": '"""Shop API."""\nimport logging\n\nLOG = logging.getLogger(__name__)\n' + APP,
    "renaming an unrelated variable": WITH_LABELS.replace("label", "what").replace("VERSION", "API_VERSION"),
    "reformatting": APP.replace(
        'row = conn.execute("SELECT stock FROM products WHERE id = %s", (product_id,)).fetchone()',
        "row = conn.execute(\n        'SELECT stock FROM products WHERE id = %s',  # the current stock\n"
        "        (product_id,),\n    ).fetchone()"),
}


@pytest.mark.parametrize("edit", list(EDITS_THAT_KEEP_THE_DEFECTS))
def test_the_baseline_still_holds_the_findings_after(tmp_path, edit):
    edited = EDITS_THAT_KEEP_THE_DEFECTS[edit]
    original = WITH_LABELS if edit == "renaming an unrelated variable" else APP
    assert edited != original
    code, document, stderr = baseline_then_scan(tmp_path, edited, original)
    assert document["findings"] == [] and code == 0, document["findings"]
    assert "2 findings left out: in the baseline" in stderr


def test_a_changed_defect_is_reported_and_the_old_entry_counted_gone(tmp_path):
    changed = APP.replace('WHERE id = %s", (row[0] - 1,', 'WHERE id = %s", (row[0] - 2,')
    assert changed != APP
    code, document, stderr = baseline_then_scan(tmp_path, changed)
    assert code == 1
    assert [f["rule_id"] for f in document["findings"]] == ["PL102"]
    assert "1 finding left out" in stderr and "1 of its entries no longer found" in stderr


def test_a_second_copy_of_a_known_defect_is_new(tmp_path):
    copy = APP + '''

@app.get("/products/find")
def find():
    name = request.args["name"]
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()
'''
    code, document, _ = baseline_then_scan(tmp_path, copy)
    assert code == 1
    last_line = len(copy.splitlines())  # the copy's `return conn.execute(...)`
    assert [(f["rule_id"], f["location"]["line"]) for f in document["findings"]] == [("PL101", last_line)]


def test_the_same_defect_twice_in_one_function_needs_two_entries(tmp_path):
    twice = APP.replace(
        '''    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()''',
        '''    conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()''')
    write(tmp_path / "tree", {"app.py": twice})
    written = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--write-baseline", str(tmp_path / "base.json"))
    assert written.exit_code == 0
    entries = json.loads((tmp_path / "base.json").read_text())["findings"]
    injections = [entry["fingerprint"] for entry in entries if entry["rule_id"] == "PL101"]
    assert len(injections) == 2 and len(set(injections)) == 2
    base = json.loads((tmp_path / "base.json").read_text())
    base["findings"] = [entry for entry in base["findings"] if entry["fingerprint"] != injections[1]]
    (tmp_path / "base.json").write_text(json.dumps(base))
    again = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--format", "json", "--baseline",
                      str(tmp_path / "base.json"))
    assert again.exit_code == 1
    assert [f["rule_id"] for f in json.loads(again.stdout)["findings"]] == ["PL101"]


def test_write_baseline_lists_the_findings_for_review_and_exits_0(tmp_path):
    write(tmp_path / "tree", {"app.py": APP})
    result = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--write-baseline", str(tmp_path / "base.json"))
    assert result.exit_code == 0
    assert "PL101" in result.stdout and "wrote 2 findings to the baseline" in result.stderr
    content = json.loads((tmp_path / "base.json").read_text())
    assert content["schema"] == "plumbline/baseline@1" and content["fingerprint"] == "plumbline/v1"
    assert [(e["rule_id"], e["location"]) for e in content["findings"]] == [("PL101", "app.py:12"),
                                                                           ("PL102", "app.py:19")]


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"),
    ('{"findings": []}', "not a plumbline baseline"),
    ('{"schema": "plumbline/baseline@1", "fingerprint": "other/v9", "findings": []}', "fingerprints of another kind"),
    ('{"schema": "plumbline/baseline@1", "fingerprint": "plumbline/v1", "findings": [{"fingerprint": 3}]}',
     "32-hex"),
])
def test_an_unusable_baseline_is_one_line_and_exit_2(tmp_path, content, message):
    write(tmp_path, {"tree/app.py": APP, "base.json": content})
    result = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--baseline", str(tmp_path / "base.json"))
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_baseline_usage_errors(tmp_path):
    write(tmp_path, {"tree/app.py": APP})
    missing = plumbline("scan", str(tmp_path / "tree"), "--baseline", str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    both = plumbline("scan", str(tmp_path / "tree"), "--baseline", "a.json", "--write-baseline", "b.json")
    assert both.exit_code == 2 and "go separately" in both.output
    folder = plumbline("scan", str(tmp_path / "tree"), "--write-baseline", str(tmp_path))
    assert folder.exit_code == 2 and "--write-baseline" in folder.output and "is a directory" in folder.output


def test_schema_findings_survive_statements_added_above_them(tmp_path):
    schema = "CREATE TABLE users (\n    id INT PRIMARY KEY,\n    email TEXT NOT NULL\n);\n"
    write(tmp_path / "tree", {"app.py": APP, "schema.sql": schema})
    assert plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--write-baseline",
                     str(tmp_path / "base.json")).exit_code == 0
    assert "PL201" in (tmp_path / "base.json").read_text()
    write(tmp_path / "tree", {"schema.sql": "CREATE TABLE audit_log (id INT PRIMARY KEY);\n\n" + schema})
    again = plumbline("scan", str(tmp_path / "tree"), "--no-cache", "--format", "json", "--baseline",
                      str(tmp_path / "base.json"))
    assert again.exit_code == 0 and json.loads(again.stdout)["findings"] == []
