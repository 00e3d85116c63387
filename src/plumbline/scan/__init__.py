"""The scan engine: static analysis of Flask code for integrity failures.

files -> facts per module (cached by content hash, optionally in parallel) -> one project view
-> checks -> suppressions -> a findings document.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from plumbline import __version__
from plumbline.findings import Finding, FindingsDocument, ToolError
from plumbline.rules import matching
from plumbline.scan import checks
from plumbline.scan.facts import ModuleFacts
from plumbline.scan.files import (
    FileError,
    SourceFile,
    decode_python,
    decode_sql,
    discover,
    module_name,
    parse_python,
    read_bytes,
    scan_root,
)
from plumbline.scan.project import Project
from plumbline.scan.python import extract
from plumbline.scan.schema import tables_from_ddl

FACTS_VERSION = "2"
CACHE_DIRECTORY = ".plumbline-cache"


@dataclass
class ScanOptions:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    backend: str = "auto"
    jobs: int = 1
    cache: bool = True


@dataclass
class ScanResult:
    document: FindingsDocument
    root: Path
    files: int
    lines: int
    cached: int


def scan(paths: list[Path], options: ScanOptions) -> ScanResult:
    root = scan_root(paths)
    files, problems = discover(paths, root, tuple(options.exclude))
    errors = [ToolError(engine="scan", target=target, message=message) for target, message in problems]
    cache = _Cache(root) if options.cache else None
    modules: list[ModuleFacts] = []
    lines = cached = 0
    for outcome in _extract_all(files, cache, options.jobs):
        facts, error, line_count, hit = outcome
        lines += line_count
        cached += hit
        if error is not None:
            errors.append(error)
        if facts is not None:
            modules.append(facts)
    project = Project.build(modules, options.backend)
    selected = matching(options.select) - matching(options.ignore)
    findings = [f for f in checks.run(project, selected) if not _suppressed(f, modules, options)]
    findings.sort(key=lambda f: (f.location.path, f.location.line, f.location.column, f.rule_id))
    document = FindingsDocument(findings=tuple(findings), errors=tuple(errors))
    return ScanResult(document=document, root=root, files=len(files), lines=lines, cached=cached)


def _suppressed(finding: Finding, modules: list[ModuleFacts], options: ScanOptions) -> bool:
    path, line = finding.location.path, finding.location.line
    for module in modules:
        if module.path == path:
            rules = module.suppressions.get(line, frozenset())
            if "*" in rules or finding.rule_id in rules:
                return True
            break
    for pattern, rule_ids in options.per_file_ignores.items():
        if fnmatch.fnmatch(path, pattern) and finding.rule_id in matching(rule_ids):
            return True
    return False


# ---- facts per file ----------------------------------------------------------------------------------


Outcome = tuple[ModuleFacts | None, ToolError | None, int, int]


def _extract_all(files: list[SourceFile], cache: "_Cache | None", jobs: int) -> list[Outcome]:
    if jobs <= 1 or len(files) < 2 * jobs:
        return [_extract_one(file, cache) for file in files]
    chunk = max(1, len(files) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_extract_one, files, [cache] * len(files), chunksize=chunk))


def _extract_one(file: SourceFile, cache: "_Cache | None") -> Outcome:
    try:
        data = read_bytes(file.path)
    except FileError as exc:
        return None, ToolError(engine="scan", target=file.relative, message=str(exc)), 0, 0
    lines = data.count(b"\n") + 1
    key = hashlib.sha256(b"\0".join([data, file.relative.encode(), module_name(file.path).encode()])).hexdigest()
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return (*hit, lines, 1)
    try:
        if file.relative.endswith(".sql"):
            facts = ModuleFacts(path=file.relative, module=module_name(file.path))
            facts.tables = tables_from_ddl(decode_sql(data), file.relative)
        else:
            source = decode_python(data)
            facts = extract(parse_python(source, file.relative), source, file.relative, module_name(file.path))
        result: tuple[ModuleFacts | None, ToolError | None] = (facts, None)
    except FileError as exc:
        result = (None, ToolError(engine="scan", target=file.relative, message=str(exc)))
    except RecursionError:
        result = (None, ToolError(engine="scan", target=file.relative, message="skipped: nested too deeply to analyse"))
    except Exception as exc:  # a bug of ours must cost one file, never the scan
        message = f"internal error while analysing ({type(exc).__name__}: {exc}); please report it"
        return None, ToolError(engine="scan", target=file.relative, message=message), lines, 0
    if cache is not None:
        cache.put(key, result)
    return (*result, lines, 0)


class _Cache:
    """Facts per file content, under `<root>/.plumbline-cache/`; any problem with it only costs speed."""

    def __init__(self, root: Path) -> None:
        tag = f"{__version__}-{FACTS_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
        self.directory = root / CACHE_DIRECTORY / tag
        self._prepared = False

    def get(self, key: str):
        try:
            with open(self.directory / key[:2] / key, "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            return None

    def put(self, key: str, value) -> None:
        target = self.directory / key[:2] / key
        try:
            if not self._prepared:
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory.parent / ".gitignore").write_text("*\n")
                self._prepared = True
            target.parent.mkdir(exist_ok=True)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            with open(temporary, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except OSError:
            pass
