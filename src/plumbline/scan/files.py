"""Which files a scan reads, and reading them without ever crashing, hanging or filling memory on what is inside.

Every problem (binary, undecodable, too large, not a regular file, a symlink out of the scanned tree, not
Python 3 of this interpreter, unreadable) becomes a `ToolError` for the findings document; the scan goes on
without that file.
"""

from __future__ import annotations

import ast
import codecs
import fnmatch
import functools
import io
import os
import re
import stat
import tokenize
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# `.plumbline-cache`: where earlier versions kept their cache in the tree; no longer read, and not scanned either.
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "site-packages",
    "build", "dist", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".plumbline-cache",
)
SUFFIXES = (".py", ".sql")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")  # OpenAPI documents, read for the handlers they name
GRAPHQL_SUFFIXES = (".graphql", ".graphqls", ".gql")  # GraphQL schemas, read for the arguments a field requires
# Requirements files name the database driver (`sqlalchemy-cockroachdb`): read for that hint only.
_REQUIREMENTS = re.compile(r"requirements[\w.-]*\.(txt|in)")
_COCKROACH_REQUIREMENT = re.compile(r"^[ \t]*(sqlalchemy-cockroachdb|cockroachdb|django-cockroachdb)\b", re.I | re.M)
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
MAX_BYTES = 2 * 1024 * 1024  # larger files are generated, not written by hand


class FileError(Exception):
    """A file that cannot be scanned; the message says why, in words for the user."""


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relative: str  # "/"-separated, relative to the scan root


def scan_root(paths: list[Path]) -> Path:
    """The directory that report paths are relative to.

    Files only, all under the current directory, which is a project's root (it holds `.git` or
    `pyproject.toml`; pre-commit runs `scan app/a.py app/b.py` there): the current directory, so that paths and
    `per-file-ignores` patterns read from the project's root whichever files changed. Otherwise `given_tree`."""
    given = [Path(os.path.abspath(p)) for p in paths]
    here = Path(os.path.abspath(os.curdir))
    if (not any(path.is_dir() for path in given) and all(path.is_relative_to(here) for path in given)
            and ((here / ".git").exists() or (here / "pyproject.toml").is_file())):
        return here
    return given_tree(paths)


def given_tree(paths: list[Path]) -> Path:
    """The tree the given paths make, where the API documents and table definitions that go with them are looked
    for (never more of the project than was named: the result does not depend on where plumbline runs).

    One directory: itself; one file: the directory it is in. Several paths: their deepest common directory, unless
    that is the file system's root (paths in unrelated trees, `scan ~/a /srv/b`): then the current directory, so
    that files under it keep short relative paths (and `per-file-ignores` patterns keep matching them); files
    outside the root are reported by their absolute paths. Paths are made absolute without following symlinks,
    so a symlink given on the command line is named as given."""
    given = [Path(os.path.abspath(p)) for p in paths]
    if len(given) == 1:
        return given[0] if given[0].is_dir() else given[0].parent
    try:
        common = Path(os.path.commonpath(given))
    except ValueError:  # Windows paths on different drives
        return Path.cwd()
    if common == Path(common.anchor):
        return Path.cwd()
    return common if common.is_dir() else common.parent


def _excluded(relative: str, name: str, patterns: tuple[str, ...]) -> bool:
    """A pattern matches the name or the relative path, or the path lies under one (what `fnmatch` says)."""
    by_name, by_path = _exclusion(patterns)
    return bool(by_name.match(os.path.normcase(name)) or by_path.match(os.path.normcase(relative)))


@functools.lru_cache(maxsize=16)
def _exclusion(patterns: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern]:
    """`patterns` as one expression for names and one for paths: every directory and file of the tree is
    tested, and one match costs less than three `fnmatch` calls per pattern."""
    def either(texts: list[str]) -> re.Pattern:
        return re.compile("|".join(fnmatch.translate(os.path.normcase(text)) for text in texts) or "(?!)")
    return either(list(patterns)), either([*patterns, *(f"{p}/*" for p in patterns)])


def discover(paths: list[Path], root: Path, exclude: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Files to scan under `paths`, and paths that could not be listed or are not scanned, with why.

    Directory symlinks are not followed. A file symlink is followed only when it points inside the given
    directory it was found under (a `.py` linked to `/etc/…` or `/dev/zero` is refused); a file given on the
    command line is read wherever it points, as the user asked for it.
    """
    patterns = DEFAULT_EXCLUDES + tuple(exclude)
    found: dict[str, SourceFile] = {}
    problems: list[tuple[str, str]] = []

    def add(path: Path) -> None:
        relative = _relative(path, root)
        if relative not in found:
            found[relative] = SourceFile(path, relative)

    for given in paths:
        if not given.exists() and not given.is_symlink():
            problems.append((str(given), "no such file or directory"))
            continue
        if given.is_file() or given.is_symlink() and not given.is_dir():
            add(given.absolute())
            continue
        for path in _walk(given, root, patterns, lambda name: name.endswith(SUFFIXES) or is_requirements(name),
                          problems):
            add(path.absolute())
    return sorted(found.values(), key=lambda f: f.relative), problems


def spec_documents(root: Path, exclude: tuple[str, ...] = (),
                   within: Path | None = None) -> list[tuple[str, str]]:
    """OpenAPI / Swagger documents under `within` (default: `root`) that may name request handlers (connexion's
    operationIds), as (path relative to `root`, text): YAML and JSON files that mention `openapi` or `swagger` and
    `paths`; and GraphQL schema files (the arguments each field requires).

    Read like source files (regular files of at most MAX_BYTES, no symlink out of the tree); one that cannot
    be read is left out without a word, as most YAML and JSON in a tree is no API document."""
    documents = []
    for path in _walk(within or root, root, DEFAULT_EXCLUDES + tuple(exclude),
                      lambda name: name.endswith(SPEC_SUFFIXES + GRAPHQL_SUFFIXES), []):
        try:
            text = decode_sql(read_bytes(path))  # like SQL, no encoding declaration
        except FileError:
            continue
        if ("openapi" in text or "swagger" in text) and "paths" in text or \
                path.name.endswith(GRAPHQL_SUFFIXES) and "type " in text:
            documents.append((_relative(path, root), text))
    return sorted(documents)


INFRASTRUCTURE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".tf")
_TABLE_DEFINITION = re.compile(r"AWS::DynamoDB::Table|AWS::Serverless::SimpleTable|aws_dynamodb_table|\"?KeySchema\"?\s*:")


def key_schema_documents(root: Path, exclude: tuple[str, ...] = (),
                         within: Path | None = None) -> list[tuple[str, str]]:
    """Infrastructure files under `within` (default: `root`) that declare DynamoDB tables (CloudFormation, SAM,
    Serverless, Terraform, `aws dynamodb create-table` JSON), as (path relative to `root`, text); read like
    `spec_documents`, the rest left out."""
    documents = []
    for path in _walk(within or root, root, DEFAULT_EXCLUDES + tuple(exclude),
                      lambda name: name.endswith(INFRASTRUCTURE_SUFFIXES), []):
        try:
            text = decode_sql(read_bytes(path))
        except FileError:
            continue
        if _TABLE_DEFINITION.search(text):
            documents.append((_relative(path, root), text))
    return documents


def _walk(directory: Path, root: Path, patterns: tuple[str, ...], wanted: Callable[[str], bool],
          problems: list[tuple[str, str]]) -> Iterator[Path]:
    """The files under `directory` whose name is `wanted` and that no pattern excludes, in name order.

    Directory symlinks are not followed; a file symlink only when it points inside `directory`."""
    tree = os.path.realpath(directory)
    for current, subdirectories, files in os.walk(directory, followlinks=False,
                                                  onerror=lambda e: problems.append((e.filename, e.strerror))):
        base = Path(current)
        subdirectories[:] = sorted(d for d in subdirectories if not _excluded(_relative(base / d, root), d, patterns))
        for name in sorted(files):
            path = base / name
            if not wanted(name) or _excluded(_relative(path, root), name, patterns):
                continue
            if path.is_symlink() and not _inside(os.path.realpath(path), tree):
                problems.append((_relative(path, root), "skipped: a symlink to a file outside the scanned tree"))
                continue
            yield path


def _inside(path: str, directory: str) -> bool:
    return os.path.commonpath([path, directory]) == directory


def _relative(path: Path, root: Path) -> str:
    """`path` relative to `root` when it is inside, else absolute; "/"-separated either way."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def is_requirements(relative: str) -> bool:
    """A pip requirements file (`requirements.txt`, `requirements-dev.in`...)."""
    return bool(_REQUIREMENTS.fullmatch(relative.rsplit("/", 1)[-1]))


def requirement_hints(text: str) -> set[str]:
    """The backend a requirements file announces: `cockroachdb` when it installs a CockroachDB dialect."""
    return {"cockroachdb"} if _COCKROACH_REQUIREMENT.search(text) else set()


def read_bytes(path: Path) -> bytes:
    """A source file's bytes: a regular file of at most MAX_BYTES, without binary content.

    The type is checked before opening (a device or FIFO is never opened) and again on the opened descriptor;
    O_NONBLOCK keeps even a FIFO swapped in between from blocking the open.
    """
    try:
        _require_regular(os.stat(path).st_mode)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            data = read_regular(descriptor, MAX_BYTES)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise FileError(f"skipped: larger than {MAX_BYTES // 1024} KiB (generated code?)")
    if b"\x00" in data and not data.startswith(UTF16_BOMS):  # UTF-16 text is full of NULs, and still text
        raise FileError("skipped: binary file")
    return data


def read_regular(descriptor: int, limit: int) -> bytes:
    """At most `limit + 1` bytes of an open regular file (FileError for anything else); the caller closes it.

    The limit holds on the bytes read, not on the size the file system reports (0 for /proc files)."""
    _require_regular(os.fstat(descriptor).st_mode)
    with open(descriptor, "rb", closefd=False) as handle:
        return handle.read(limit + 1)


_NOT_REGULAR = {
    stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket",
}


def _require_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _NOT_REGULAR.get(stat.S_IFMT(mode), "a special file")
        raise FileError(f"skipped: {kind}, not a regular file")


def decode_python(data: bytes) -> str:
    """Source text per PEP 263 (coding cookie or UTF-8, BOM allowed)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        raise FileError(f"cannot decode: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise FileError(f"cannot decode as {exc.encoding}: invalid byte at offset {exc.start}") from exc


def decode_sql(data: bytes) -> str:
    """SQL and requirements files carry no encoding declaration: UTF-16 when a byte-order mark says so (Windows
    tools write it), else UTF-8, else Latin-1 (which decodes any byte)."""
    try:
        if data.startswith(UTF16_BOMS):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_python(source: str, relative: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=relative)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise FileError(f"cannot parse: {exc.msg}{where}") from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise FileError(f"cannot parse: {type(exc).__name__}") from exc


def module_name(path: Path, packages: dict[Path, tuple[str, ...]] | None = None) -> str:
    """Dotted module name: the file's path from the outermost directory that is still a package.

    `packages` remembers, across the files of one scan, which directories are packages (one look at each)."""
    package = _package(path.parent, {} if packages is None else packages)
    parts = [*package, path.stem] if path.stem != "__init__" else list(package)
    return ".".join(parts) or path.stem


def _package(directory: Path, known: dict[Path, tuple[str, ...]]) -> tuple[str, ...]:
    """The dotted parts of the package `directory` is: none when it holds no `__init__.py`."""
    if directory not in known:
        inside = (directory / "__init__.py").exists() and directory.parent != directory
        known[directory] = (*_package(directory.parent, known), directory.name) if inside else ()
    return known[directory]
