"""Which files a scan reads, and reading them without ever crashing on what is inside.

Every problem (binary, undecodable, too large, not Python 3 of this interpreter, unreadable)
becomes a `ToolError` for the findings document; the scan goes on without that file.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import os
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "site-packages",
    "build", "dist", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".plumbline-cache",
)
SUFFIXES = (".py", ".sql")
MAX_BYTES = 2 * 1024 * 1024  # larger files are generated, not written by hand


class FileError(Exception):
    """A file that cannot be scanned; the message says why, in words for the user."""


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relative: str  # "/"-separated, relative to the scan root


def scan_root(paths: list[Path]) -> Path:
    resolved = [p.resolve() for p in paths]
    if len(resolved) == 1:
        return resolved[0] if resolved[0].is_dir() else resolved[0].parent
    common = Path(os.path.commonpath(resolved))
    return common if common.is_dir() else common.parent


def _excluded(relative: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(relative, f"{p}/*")
               for p in patterns)


def discover(paths: list[Path], root: Path, exclude: tuple[str, ...] = ()) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Files to scan under `paths` (directory symlinks are not followed), and paths that could not be listed."""
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
        for directory, subdirectories, files in os.walk(given, followlinks=False,
                                                       onerror=lambda e: problems.append((e.filename, e.strerror))):
            base = Path(directory)
            subdirectories[:] = sorted(d for d in subdirectories
                                       if not _excluded(_relative(base / d, root), d, patterns))
            for name in sorted(files):
                path = base / name
                if name.endswith(SUFFIXES) and not _excluded(_relative(path, root), name, patterns):
                    add(path.absolute())
    return sorted(found.values(), key=lambda f: f.relative), problems


def _relative(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from exc
    if size > MAX_BYTES:
        raise FileError(f"skipped: {size // 1024} KiB is larger than {MAX_BYTES // 1024} KiB (generated code?)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in data:
        raise FileError("skipped: binary file")
    return data


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
    """SQL files carry no encoding declaration: UTF-8, else Latin-1 (which decodes any byte)."""
    try:
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


def module_name(path: Path) -> str:
    """Dotted module name: the file's path from the outermost directory that is still a package."""
    parts = [path.stem] if path.stem != "__init__" else []
    directory = path.parent
    while (directory / "__init__.py").exists() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts) or path.stem
