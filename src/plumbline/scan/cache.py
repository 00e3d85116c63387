"""The scan cache: facts per file content and whole results per tree, as signed JSON in the user's cache directory.

A scanned tree is untrusted (a pull request), so nothing in it is read as cache and nothing is written into it.
The cache lives in `$PLUMBLINE_CACHE_DIR`, else the user cache directory (`~/.cache/plumbline` on Linux):

    secret.key                    32 random bytes, mode 0600, made on first use
    trees/<digest of the tree's resolved path>/<entry key>

Why JSON files rather than pickle or SQLite: JSON holds data only (loading it never runs code); one file per
entry keeps the `--jobs` worker processes free of database locks, and makes writing atomic with a rename.
Facts are written by a small codec driven by the dataclasses' type hints (`facts.py`): a field added there is
cached without touching the codec, and every value's type is checked on the way back (a test round-trips the
facts of the whole scan corpus). Results go through the findings model (pydantic) both ways.

An entry is `<hex HMAC-SHA256 of the JSON>\\n<JSON>`, the JSON being `{"format", "engine", "key", "kind",
"value"}`. It is used only if the HMAC verifies with the secret key, the format and engine fingerprint are the
current ones, the key is the one asked for (a renamed or swapped file is refused) and the value decodes into
the expected types; anything else is ignored and recomputed: a cache problem costs speed, never a finding.

No path under the cache directory is followed through a symlink: every directory and file is opened relative
to its parent's descriptor with O_NOFOLLOW; the directories and the key must belong to the current user. The
cache is bounded (`budget` bytes over all trees); beyond it, the least recently used entries are deleted.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import importlib.metadata
import json
import os
import secrets
import stat
import sys
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plumbline import __version__, findings
from plumbline.findings import FindingsDocument, ToolError
from plumbline.scan import facts as facts_module
from plumbline.scan.facts import ModuleFacts
from plumbline.scan.files import FileError, read_regular

FORMAT = 1
BUDGET = 256 * 1024 * 1024  # bytes over all trees
MAX_ENTRY_BYTES = 64 * 1024 * 1024
SECRET_NAME = "secret.key"
SECRET_BYTES = 32
TREES = "trees"
ENVIRONMENT_VARIABLE = "PLUMBLINE_CACHE_DIR"

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def cache_directory() -> Path:
    """$PLUMBLINE_CACHE_DIR, else the platform's user cache directory for plumbline."""
    import platformdirs  # only a scan that uses the cache asks where it is

    return Path(os.path.abspath(os.environ.get(ENVIRONMENT_VARIABLE) or platformdirs.user_cache_dir("plumbline")))


@functools.cache
def engine_fingerprint() -> str:
    """What cached facts and results depend on besides the scanned files: a changed engine never reads old ones.

    The scan engine's (its models included), the rules', the vocabulary's and the findings model's sources,
    sqlglot's version and Python's (the AST)."""
    digest = hashlib.sha256(f"{__version__} {importlib.metadata.version('sqlglot')} {sys.version_info[:2]}".encode())
    rules = Path(findings.__file__).parent / "rules"
    package = Path(findings.__file__).parent
    sources = [*sorted(Path(__file__).parent.rglob("*.py")), *sorted(rules.glob("*.py")), Path(findings.__file__),
               package / "vocabulary.py"]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


class Cache:
    """One tree's entries in the user's cache. Picklable, for the `--jobs` worker processes."""

    def __init__(self, directory: Path, tree: str, secret: bytes, budget: int = BUDGET) -> None:
        self.directory = directory
        self.tree = tree
        self.secret = secret
        self.budget = budget
        self.engine = engine_fingerprint()

    @classmethod
    def open(cls, root: Path, scanned: list[Path], budget: int = BUDGET) -> "Cache | None":
        """The cache for the tree at `root`, or None when there is no safe place for it.

        None when the cache directory is (or lies inside) one of the `scanned` paths, is a symlink, is not
        the user's own, or cannot be created or written; the scan then runs without a cache."""
        directory = cache_directory()
        try:
            real = Path(os.path.realpath(directory))
            if any(real.is_relative_to(os.path.realpath(path)) for path in scanned):
                return None
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _opened_directory(None, str(directory)) as base:
                secret = _secret(base)
        except (OSError, FileError):
            return None
        tree = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
        return cls(directory, tree, secret, budget)

    # ---- typed entries ----

    def get_facts(self, key: str) -> tuple[ModuleFacts | None, ToolError | None] | None:
        """A file's facts, or the reason it could not be analysed; None when not cached (or not valid)."""
        value = self.read_entry(key, "facts")
        try:
            if not isinstance(value, dict) or value.keys() != {"facts", "error"}:
                return None
            module = None if value["facts"] is None else _decoder(ModuleFacts)(value["facts"])
            error = None if value["error"] is None else ToolError.model_validate(value["error"])
        except (ValueError, TypeError, RecursionError):
            return None
        return (module, error) if (module is None) != (error is None) else None

    def put_facts(self, key: str, module: ModuleFacts | None, error: ToolError | None) -> None:
        self.write_entry(key, "facts", {"facts": None if module is None else _encode(module),
                                        "error": None if error is None else error.model_dump(mode="json")})

    def get_document(self, key: str) -> FindingsDocument | None:
        value = self.read_entry(key, "document")
        try:
            return None if value is None else FindingsDocument.model_validate(value)
        except (ValueError, TypeError, RecursionError):
            return None

    def put_document(self, key: str, document: FindingsDocument) -> None:
        self.write_entry(key, "document", document.model_dump(mode="json", by_alias=True))

    # ---- signed entries ----

    def read_entry(self, key: str, kind: str) -> Any:
        """The JSON value stored under `key` if the entry is valid and of `kind`, else None."""
        try:
            with self._tree_directory(create=False) as tree:
                descriptor = os.open(key, _READ, dir_fd=tree)
                try:
                    data = read_regular(descriptor, MAX_ENTRY_BYTES)
                    value = self._verified(data, key, kind)
                    if value is not None:
                        os.utime(descriptor)  # recently used: evicted last
                    return value
                finally:
                    os.close(descriptor)
        except (OSError, FileError, ValueError, RecursionError):
            return None

    def _verified(self, data: bytes, key: str, kind: str) -> Any:
        mac, _, body = data.partition(b"\n")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        entry = json.loads(body)
        expected = {"format": FORMAT, "engine": self.engine, "key": key, "kind": kind}
        if not isinstance(entry, dict) or {name: entry.get(name) for name in expected} != expected:
            return None
        return entry.get("value")

    def write_entry(self, key: str, kind: str, value: Any) -> None:
        """Store `value` (JSON data) under `key`, atomically; a failure only means it is not cached."""
        try:
            body = json.dumps({"format": FORMAT, "engine": self.engine, "key": key, "kind": kind, "value": value},
                              separators=(",", ":")).encode()
            data = self._mac(body) + b"\n" + body
            if len(data) > MAX_ENTRY_BYTES:
                return
            with self._tree_directory(create=True) as tree:
                temporary = f"{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
                _write_new(tree, temporary, data)
                try:
                    os.replace(temporary, key, src_dir_fd=tree, dst_dir_fd=tree)
                except OSError:
                    _ignore_missing(os.unlink, temporary, dir_fd=tree)
                    raise
        except (OSError, ValueError, TypeError, RecursionError):
            pass

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest().encode()

    @contextmanager
    def _tree_directory(self, create: bool) -> Iterator[int]:
        with _opened_directory(None, str(self.directory)) as base, \
                _opened_directory(base, TREES, create) as trees, \
                _opened_directory(trees, self.tree, create) as tree:
            yield tree

    # ---- size ----

    def evict(self) -> None:
        """Past the budget, delete the least recently used entries of all trees until 3/4 of it is used.

        The margin keeps the next scans from evicting again at once."""
        try:
            with _opened_directory(None, str(self.directory)) as base, _opened_directory(base, TREES) as trees:
                entries = _entries(trees)
                total = sum(size for _, size, _, _ in entries)
                if total <= self.budget:
                    return
                doomed: dict[str, list[str]] = {}
                for _, size, tree, name in sorted(entries):
                    if total <= self.budget * 3 // 4:
                        break
                    doomed.setdefault(tree, []).append(name)
                    total -= size
                for tree, names in doomed.items():
                    with _opened_directory(trees, tree) as directory:
                        for name in names:
                            _ignore_missing(os.unlink, name, dir_fd=directory)
                    _ignore_missing(os.rmdir, tree, dir_fd=trees)  # only if now empty
        except OSError:
            pass


def _entries(trees: int) -> list[tuple[float, int, str, str]]:
    """(last use, size, tree, name) of every regular file in every tree directory."""
    found = []
    for tree in os.scandir(trees):
        if not tree.is_dir(follow_symlinks=False):
            continue
        with _opened_directory(trees, tree.name) as directory:
            for entry in os.scandir(directory):
                if entry.is_file(follow_symlinks=False):
                    status = entry.stat(follow_symlinks=False)
                    found.append((status.st_mtime, status.st_size, tree.name, entry.name))
    return found


def _ignore_missing(operation: Callable[..., None], *arguments: Any, **keywords: Any) -> None:
    try:
        operation(*arguments, **keywords)
    except OSError:
        pass  # gone already (another scan evicting), or a directory not yet empty


# ---- the file system, without following symlinks ----


@contextmanager
def _opened_directory(parent: int | None, name: str, create: bool = False) -> Iterator[int]:
    """A descriptor of directory `name` (relative to `parent`), refused when it is a symlink or not the user's."""
    if create:
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
        except FileExistsError:
            pass
    descriptor = os.open(name, _DIRECTORY, dir_fd=parent)
    try:
        if os.fstat(descriptor).st_uid != os.getuid():
            raise PermissionError(f"{name}: not owned by the current user")
        yield descriptor
    finally:
        os.close(descriptor)


def _write_new(directory: int, name: str, data: bytes) -> None:
    descriptor = os.open(name, _CREATE, 0o600, dir_fd=directory)
    try:
        with open(descriptor, "wb", closefd=False) as handle:
            handle.write(data)
    except BaseException:
        _ignore_missing(os.unlink, name, dir_fd=directory)
        raise
    finally:
        os.close(descriptor)


def _secret(base: int) -> bytes:
    """The key that signs entries: only the user can read it, and it is never in a scanned tree.

    Made on first use, and made anew when the one there cannot be trusted (readable by others, not the user's,
    a symlink, not 32 bytes): entries signed with the old one are then recomputed."""
    try:
        return _read_secret(base)
    except (OSError, FileError):
        pass
    temporary = f"{SECRET_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    _write_new(base, temporary, secrets.token_bytes(SECRET_BYTES))
    try:
        os.replace(temporary, SECRET_NAME, src_dir_fd=base, dst_dir_fd=base)
    except OSError:
        _ignore_missing(os.unlink, temporary, dir_fd=base)
        raise
    return _read_secret(base)  # another scan's, if it replaced ours in between: as good


def _read_secret(base: int) -> bytes:
    descriptor = os.open(SECRET_NAME, _READ, dir_fd=base)
    try:
        status = os.fstat(descriptor)
        if status.st_uid != os.getuid() or stat.S_IMODE(status.st_mode) & 0o077:
            raise FileError(f"{SECRET_NAME}: not the user's own with mode 0600")
        secret = read_regular(descriptor, SECRET_BYTES)
    finally:
        os.close(descriptor)
    if len(secret) != SECRET_BYTES:
        raise FileError(f"{SECRET_NAME}: not a key")
    return secret


# ---- the facts codec ----
#
# Dataclasses become JSON objects by field name, dicts lists of [key, value] pairs (keys are not all strings),
# tuples and sets lists. Decoding follows the type hints of `facts.py`: a value of any other shape is refused.

_FACT_CLASSES = frozenset(
    value for value in vars(facts_module).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == facts_module.__name__
)


def _encode(value: Any) -> Any:
    if type(value) in _FACT_CLASSES:
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return [[_encode(k), _encode(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_encode(item) for item in value]
    if value is None or type(value) in (str, int, bool):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


class _Invalid(ValueError):
    """A cached value that does not have the type the facts declare."""


@functools.cache
def _decoder(hint: Any) -> Callable[[Any], Any]:
    """A function that rebuilds a value of type `hint` from its JSON form, or raises _Invalid."""
    if hint in _FACT_CLASSES:
        return _dataclass_decoder(hint)
    if hint in (str, int, bool):
        return lambda value: value if type(value) is hint else _invalid(hint, value)
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return lambda value: value if value in arguments and type(value) is str else _invalid(hint, value)
    if origin in (typing.Union, types.UnionType) and len(arguments) == 2 and type(None) in arguments:
        inner = _decoder(next(a for a in arguments if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin in (list, set, frozenset) or origin is tuple and arguments[1:] == (Ellipsis,):
        item = _decoder(arguments[0])
        return lambda value: origin(item(element) for element in _list(value, hint))
    if origin is tuple:
        items = [_decoder(argument) for argument in arguments]
        return lambda value: tuple(decode(element) for decode, element in zip(items, _list(value, hint, len(items))))
    if origin is dict:
        key, item = _decoder(arguments[0]), _decoder(arguments[1])
        return lambda value: {key(k): item(v) for k, v in (_list(pair, hint, 2) for pair in _list(value, hint))}
    raise TypeError(f"the cache cannot hold a {hint}")


def _dataclass_decoder(cls: type) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(cls)
    fields = {field.name: _decoder(hints[field.name]) for field in dataclasses.fields(cls)}

    def decode(value: Any) -> Any:
        if type(value) is not dict or value.keys() != fields.keys():
            _invalid(cls, value)
        return cls(**{name: field(value[name]) for name, field in fields.items()})

    return decode


def _list(value: Any, hint: Any, length: int | None = None) -> list:
    if type(value) is not list or length is not None and len(value) != length:
        _invalid(hint, value)
    return value


def _invalid(hint: Any, value: Any) -> typing.NoReturn:
    raise _Invalid(f"expected {hint}, found {type(value).__name__}")
