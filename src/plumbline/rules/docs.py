"""The rule pages in docs/rules/, generated from the rule catalogue, which stays the one source of truth.

`python -m plumbline.rules.docs [DIR]` (default: docs/rules) writes one `PLxxx.md` per rule, each the text
`plumbline explain PLxxx` prints, and a `README.md` index; pages of rules that no longer exist are removed.
A test fails when the committed pages differ from what this writes.

SARIF's `helpUri` must be an absolute URI, so it needs to know where the pages are published: `PUBLISHED_AT`,
set once the repository has a public home (for example `https://github.com/OWNER/plumbline/blob/main/docs/rules/`).
Until then `helpUri` is left out; GitHub code scanning shows each rule's full page from SARIF's `help.markdown`
all the same, and `plumbline explain` names the page's path in the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

from plumbline.rules import Rule, all_rules

DOCS_DIR = "docs/rules"
PUBLISHED_AT: str | None = None  # where DOCS_DIR is published, ending in "/"; None until there is such a place
INDEX = "README.md"


def page_path(rule_id: str) -> str:
    """The rule's page, relative to the repository's root."""
    return f"{DOCS_DIR}/{rule_id}.md"


def help_uri(rule_id: str) -> str | None:
    return f"{PUBLISHED_AT}{rule_id}.md" if PUBLISHED_AT else None


def pages() -> dict[str, str]:
    """Every file of the rules directory: its name and its content."""
    rules = all_rules()
    files = {f"{rule.id}.md": rule.documentation() for rule in rules}
    files[INDEX] = _index(rules)
    return files


def _index(rules: list[Rule]) -> str:
    lines = ["# Rules", "",
             "Generated from the rule catalogue (`src/plumbline/rules/`) by `python -m plumbline.rules.docs`; "
             "do not edit by hand. `plumbline explain PLxxx` prints the same pages.", "",
             "| id | name | engine | severity | summary |", "|---|---|---|---|---|"]
    lines += [f"| [{rule.id}]({rule.id}.md) | {rule.name} | {rule.engine} | {rule.severity} | "
              f"{rule.summary.replace('|', '&#124;')} |" for rule in rules]
    return "\n".join(lines) + "\n"


def write(directory: Path) -> list[str]:
    """Bring `directory` in line with the catalogue; the names of the files written or removed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    changed = []
    for name, content in wanted.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(name)
    for stale in sorted(directory.glob("PL*.md")):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale.name)
    return changed


def main(argv: list[str]) -> int:
    directory = Path(argv[0] if argv else DOCS_DIR)
    changed = write(directory)
    print(f"{directory}: {len(changed)} file{'s' if len(changed) != 1 else ''} written or removed"
          + (f" ({', '.join(changed)})" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
