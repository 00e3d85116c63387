"""One stable identity per finding, shared by the baseline (`--baseline`) and SARIF's `partialFingerprints`.

A fingerprint survives what does not change the defect: moving code up or down the file, reformatting it,
editing other statements of the function. So it holds no line number. It is made of:
- a source finding (scan): the rule, the file's path as `repository_path` gives it, the qualified name of the
  function or class around the flagged line, the flagged statement's syntax tree (comments, spacing, line
  breaks and quotes do not count; a compound statement counts its header only, not its body), and the message
  with its line numbers taken out;
- an HTTP finding (probe): the rule and the operation (`METHOD /route`); its message holds measured counts,
  which vary from run to run;
- a schema finding (audit): the rule, the table and the column.
A finding found twice in the same place gets a numbered fingerprint for its second occurrence, and so on: each
result has its own, and a baseline holds as many of a kind as it recorded.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import os
import re
from pathlib import Path

from plumbline.findings import Finding, FindingsDocument

VERSION = "plumbline/v1"  # the key of SARIF's partialFingerprints; a new algorithm gets a new key
_LINE_NUMBER = re.compile(r"\b(lines?) \d+")
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def fingerprints(document: FindingsDocument, root: Path | None = None) -> list[str]:
    """One fingerprint per finding of `document`, in order, all different. `root` is the directory the source
    paths are relative to (the scan's root); without it, a source finding's code is not read."""
    code = _Code(root)
    seen: dict[str, int] = {}
    result = []
    for finding in document.findings:
        base = _digest(_parts(finding, root, code))
        seen[base] = seen.get(base, 0) + 1
        result.append(base if seen[base] == 1 else _digest([base, str(seen[base])]))
    return result


def repository_path(path: str, root: Path | None) -> str:
    """A source path as reports outside the text output give it: relative to the directory plumbline runs in
    (the repository's root, in CI and in pre-commit) when the file lies under it, whatever directory was named
    on the command line; otherwise as the scan reported it (relative to the scanned root)."""
    if root is None:
        return path
    try:
        absolute = Path(os.path.abspath(os.path.join(root, path)))
        return absolute.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):  # outside the current directory, or the current directory is gone
        return path


def _parts(finding: Finding, root: Path | None, code: "_Code") -> list[str]:
    location = finding.location
    if location.kind == "http":
        return [finding.rule_id, "http", location.method.upper(), location.route]
    if location.kind == "schema":
        return [finding.rule_id, "schema", location.table, location.column or ""]
    scope, statement = code.around(location.path, location.line)
    message = _LINE_NUMBER.sub(r"\1", finding.message)
    return [finding.rule_id, repository_path(location.path, root), scope, statement, message]


def _digest(parts: list[str]) -> str:
    text = "\0".join(parts)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]  # a path may not be UTF-8


class _Code:
    """Python files under the root, each parsed once: the scope and the statement at a line."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.trees: dict[str, ast.Module | None] = {}

    def around(self, path: str, line: int) -> tuple[str, str]:
        """The qualified name of the function or class around `line` (`Accounts.withdraw`, `` at module level)
        and the innermost statement at `line` as a syntax tree dump; both empty when the file cannot be read."""
        tree = self._tree(path)
        if tree is None:
            return "", ""
        names: list[str] = []
        statement: ast.stmt | None = None
        children: list[ast.stmt] = tree.body
        while True:
            inner = next((node for node in children if node.lineno <= line <= (node.end_lineno or node.lineno)),
                         None)
            if inner is None:
                break
            statement = inner
            if isinstance(inner, _SCOPES):
                names.append(inner.name)
            children = [node for field in _BODIES for node in _statements(getattr(inner, field, []))]
        try:
            return ".".join(names), _header(statement) if statement is not None else ""
        except RecursionError:  # an expression nested past what ast.dump can walk: the scope still counts
            return ".".join(names), ""

    def _tree(self, path: str) -> ast.Module | None:
        if path not in self.trees:
            self.trees[path] = None
            if self.root is not None and path.endswith(".py"):
                try:
                    self.trees[path] = ast.parse(Path(self.root, path).read_bytes())
                except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                    pass  # the fingerprint then rests on the rule, the path and the message
        return self.trees[path]


def _statements(nodes: list) -> list[ast.stmt]:
    """Statements of a body, and those of `except` handlers and `match` cases, which hold bodies themselves."""
    found = []
    for node in nodes:
        if isinstance(node, ast.stmt):
            found.append(node)
        else:  # an ExceptHandler or a match_case: its statements are ours
            found.extend(node.body)
    return found


def _header(statement: ast.stmt) -> str:
    """The statement's syntax tree without positions, and without the bodies of a compound statement."""
    head = copy.copy(statement)
    for field in _BODIES:
        if hasattr(head, field):
            setattr(head, field, [])
    return ast.dump(head, annotate_fields=False, include_attributes=False)
