"""docs/rules/ is generated from the rule catalogue: a page per rule, the same text `plumbline explain` prints."""

from __future__ import annotations

from pathlib import Path

from integrations_support import plumbline

from plumbline.rules import all_rules
from plumbline.rules import docs as rule_docs

RULES_DIR = Path(__file__).parents[2] / "docs" / "rules"


def test_docs_rules_match_the_catalogue():
    expected = rule_docs.pages()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in RULES_DIR.iterdir() if path.is_file()}
    stale = sorted(name for name in expected.keys() | on_disk.keys() if expected.get(name) != on_disk.get(name))
    assert not stale, f"docs/rules is out of date for {stale}: run `python -m plumbline.rules.docs`"
    assert {f"{rule.id}.md" for rule in all_rules()} <= on_disk.keys()


def test_the_generator_writes_updates_and_removes_pages(tmp_path):
    assert rule_docs.main([str(tmp_path)]) == 0
    assert (tmp_path / "PL102.md").read_text() == next(r for r in all_rules() if r.id == "PL102").documentation()
    (tmp_path / "PL102.md").write_text("edited by hand")
    (tmp_path / "PL999.md").write_text("a rule that no longer exists")
    assert rule_docs.write(tmp_path) == ["PL102.md", "PL999.md"]
    assert not (tmp_path / "PL999.md").exists() and rule_docs.write(tmp_path) == []
    index = (tmp_path / "README.md").read_text()
    assert all(f"[{rule.id}]({rule.id}.md)" in index for rule in all_rules())


def test_explain_names_the_rule_page(monkeypatch):
    page = plumbline("explain", "PL406")
    assert page.exit_code == 0
    assert page.stdout.startswith((RULES_DIR / "PL406.md").read_text())
    assert page.stdout.rstrip().endswith("Documentation: docs/rules/PL406.md in the plumbline repository")
    monkeypatch.setattr(rule_docs, "PUBLISHED_AT", "https://example.org/docs/rules/")
    published = plumbline("explain", "PL406").stdout.rstrip()
    assert published.endswith("Documentation: https://example.org/docs/rules/PL406.md")
