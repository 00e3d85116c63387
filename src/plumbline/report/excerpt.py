"""The lines around a scan finding, read from the scanned tree and cut into highlighted tokens for the HTML report.

The file is lexed whole (a line inside a docstring is coloured as a string) and split into lines the way Python
counts them (`\\n`, `\\r\\n`, `\\r`), so that line numbers are the scan's. The text is the tree's: the template
escapes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pygments.lexers import get_lexer_for_filename
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from pygments.util import ClassNotFound

from plumbline.findings import SourceLocation

CONTEXT = 3  # lines shown before and after the finding's own
MAX_MARKED = 30  # a longer finding shows its first lines only
MAX_BYTES = 2 * 2**20  # larger files are not read
# The kinds of file a scan reads (scan/files.py: code, schemas, API and infrastructure documents, requirements):
# a findings document written by hand cannot make a report show the lines of a key or a .env file.
SOURCE_SUFFIXES = (".py", ".sql", ".yaml", ".yml", ".json", ".template", ".tf", ".txt", ".in")

# Token kinds the stylesheet colours (class names in report.css), most specific first.
_CLASSES: tuple[tuple[_TokenType, str], ...] = (
    (Comment, "c"), (String, "s"), (Number, "m"), (Keyword, "k"), (Operator.Word, "k"), (Name.Decorator, "d"),
    (Name.Function, "f"), (Name.Class, "f"), (Name.Builtin, "b"),
)
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Line:
    number: int
    tokens: tuple[tuple[str, str], ...]  # (css class, or "" for plain text; text)
    marked: bool  # one of the finding's lines


@dataclass(frozen=True)
class Excerpt:
    lines: tuple[Line, ...] = ()
    note: str = ""  # why no line is shown


class SourceReader:
    """Reads, lexes and keeps each file once per report, however many findings point into it."""

    def __init__(self) -> None:
        self._files: dict[Path, list[tuple[tuple[str, str], ...]] | str] = {}

    def excerpt(self, root: Path | None, location: SourceLocation) -> Excerpt:
        path = Path(location.path)
        if not path.name.endswith(SOURCE_SUFFIXES):
            return Excerpt(note=f"{location.path} is not a kind of file a scan reads: its lines are not shown")
        if not path.is_absolute():  # a scan names files outside its root by their absolute paths
            if root is None:
                return Excerpt(note="the findings document does not say where the scanned tree is "
                                    "(`plumbline report --root DIR` tells it)")
            if not (root / path).resolve().is_relative_to(root.resolve()):
                return Excerpt(note=f"{location.path} is outside the scanned tree: its lines are not shown")
            path = root / path
        lines = self._lines(path)
        if isinstance(lines, str):
            return Excerpt(note=lines)
        last_marked = min(location.end_line or location.line, location.line + MAX_MARKED - 1)
        if location.line > len(lines):
            return Excerpt(note=f"{path} has {len(lines)} lines, not {location.line}: it changed since the scan")
        first, last = max(1, location.line - CONTEXT), min(len(lines), last_marked + CONTEXT)
        return Excerpt(tuple(Line(number, lines[number - 1], location.line <= number <= last_marked)
                             for number in range(first, last + 1)))

    def _lines(self, path: Path) -> list[tuple[tuple[str, str], ...]] | str:
        """The file's lines as tokens, or why they cannot be shown."""
        if path not in self._files:
            self._files[path] = _read(path)
        return self._files[path]


def _read(path: Path) -> list[tuple[tuple[str, str], ...]] | str:
    try:
        if not path.is_file():
            return f"{path} is not there any more (or not a file): the code cannot be shown"
        if path.stat().st_size > MAX_BYTES:
            return f"{path} is larger than {MAX_BYTES // 2**20} MiB: the code is not shown"
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        return f"{path}: {(exc.strerror or 'cannot read').lower()}"
    text = _NEWLINE.sub("\n", text)
    try:
        lexer = get_lexer_for_filename(path.name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return [(("", line),) for line in text.split("\n")]
    lines: list[tuple[tuple[str, str], ...]] = []
    current: list[tuple[str, str]] = []
    for kind, value in lexer.get_tokens(text):
        css = next((name for parent, name in _CLASSES if kind in parent), "")
        pieces = value.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append(tuple(current))
                current = []
            if piece:
                current.append((css, piece))
    lines.append(tuple(current))
    return lines
