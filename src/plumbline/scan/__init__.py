"""The scan engine: static analysis of Flask code for integrity failures.

files -> facts per module (cached by content hash, optionally in parallel) -> one project view
-> checks -> suppressions -> a findings document. The cache (scan/cache.py) lives outside the scanned tree.
"""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from plumbline.findings import Finding, FindingsDocument, ToolError
from plumbline.rules import matching
from plumbline.scan import checks
from plumbline.scan.cache import Cache
from plumbline.scan.facts import ModuleFacts
from plumbline.scan.files import (
    FileError,
    SourceFile,
    decode_python,
    decode_sql,
    discover,
    given_tree,
    is_requirements,
    key_schema_documents,
    module_name,
    parse_python,
    read_bytes,
    requirement_hints,
    scan_root,
    spec_documents,
)
from plumbline.scan.models.dynamodb_schema import key_schemas
from plumbline.scan.project import Project
from plumbline.scan.python import extract
from plumbline.scan.schema import backend_hints as ddl_backend_hints
from plumbline.scan.schema import tables_from_ddl


@dataclass
class ScanOptions:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    backend: str = "auto"
    jobs: int = 1
    cache: bool = True
    inline_suppressions: bool = True  # `# plumbline: ignore[...]` comments in the scanned files count


@dataclass
class ScanResult:
    document: FindingsDocument
    root: Path
    files: int
    lines: int
    cached: int
    analysed: int  # files read and parsed; none at all means the scan saw nothing (the CLI exits 2)


def _analysed(files: list[SourceFile], document: FindingsDocument) -> int:
    """Files without an error of their own in `document` (a cached result was computed from the same files)."""
    return len(files) - len({error.target for error in document.errors} & {file.relative for file in files})


def scan(paths: list[Path], options: ScanOptions) -> ScanResult:
    root = scan_root(paths)
    files, problems = discover(paths, root, tuple(options.exclude))
    errors = [ToolError(engine="scan", target=target, message=message) for target, message in problems]
    cache = Cache.open(root, paths) if options.cache else None
    # sqlglot reports statements it parses as a generic command on stderr; they are facts we do without.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    # Facts are long-lived and acyclic: the collector's full passes over them only cost time.
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        result = _scan(files, errors, root, given_tree(paths), cache, options)
    finally:
        gc.set_threshold(*thresholds)
    # The document says where its paths start, so that a report can show the code (not cached: the tree may move).
    return replace(result, document=result.document.model_copy(update={"root": str(root)}))


def _scan(files: list[SourceFile], errors: list[ToolError], root: Path, tree: Path, cache: Cache | None,
          options: ScanOptions) -> ScanResult:
    """`root`: what report paths are relative to; `tree`: where the documents that go with the files are."""
    packages: dict[Path, tuple[str, ...]] = {}  # (see module_name)
    contents = [_read(file, packages) for file in files]
    lines = sum(content.lines for content in contents)
    documents = spec_documents(root, tuple(options.exclude), within=tree)
    infrastructure = key_schema_documents(root, tuple(options.exclude), within=tree)
    tree_key = _tree_key(contents, documents + infrastructure, errors, options)
    if cache is not None:
        stored = cache.get_document(tree_key)
        if stored is not None:
            return ScanResult(document=stored, root=root, files=len(files), lines=lines, cached=len(files),
                              analysed=_analysed(files, stored))
    project, cached = _project(contents, documents, infrastructure, cache, options, errors)
    selected = matching(options.select) - matching(options.ignore)
    found, check_errors = checks.run(project, selected)
    errors.extend(check_errors)
    suppressions = {module.path: module.suppressions for module in project.modules}
    findings = [f for f in found if not _suppressed(f, suppressions, options)]
    findings.sort(key=lambda f: (f.location.path, f.location.line, f.location.column, f.rule_id))
    document = FindingsDocument(findings=tuple(findings), errors=tuple(errors))
    if cache is not None:
        cache.put_document(tree_key, document)
        cache.evict()
    return ScanResult(document=document, root=root, files=len(files), lines=lines, cached=cached,
                      analysed=_analysed(files, document))


def build_project(paths: list[Path], options: ScanOptions) -> Project:
    """The project view the checks see (the merged schema, every function's data ops), for engines that use the
    scan's facts rather than its findings (`audit --scan`). What cannot be read is left out: `scan()` reports it."""
    root, tree = scan_root(paths), given_tree(paths)
    files, _ = discover(paths, root, tuple(options.exclude))
    cache = Cache.open(root, paths) if options.cache else None
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    packages: dict[Path, tuple[str, ...]] = {}
    contents = [_read(file, packages) for file in files]
    documents = spec_documents(root, tuple(options.exclude), within=tree)
    infrastructure = key_schema_documents(root, tuple(options.exclude), within=tree)
    return _project(contents, documents, infrastructure, cache, options, [])[0]


def _project(contents: list[_Content], documents: list[tuple[str, str]], infrastructure: list[tuple[str, str]],
             cache: Cache | None, options: ScanOptions, errors: list[ToolError]) -> tuple[Project, int]:
    """Each file's facts (and the tables infrastructure files declare) made one project; the files' errors go to
    `errors`. Also how many files' facts came from the cache."""
    modules: list[ModuleFacts] = []
    cached = 0
    for facts, error, hit in _extract_all(contents, cache, options.jobs):
        cached += hit
        if error is not None:
            errors.append(error)
        if facts is not None:
            modules.append(facts)
    modules.extend(_declared_tables(infrastructure, errors))
    return Project.build(modules, options.backend, documents), cached


def _declared_tables(infrastructure: list[tuple[str, str]], errors: list[ToolError]) -> list[ModuleFacts]:
    """DynamoDB key schemas that CloudFormation, SAM, Serverless or Terraform files declare, one facts entry per file."""
    declared = []
    for path, text in infrastructure:
        try:
            schemas = key_schemas(path, text)
        except Exception as exc:  # a bug of ours costs that file's tables, said, never the scan
            errors.append(ToolError(engine="scan", target=path, kind="internal",
                                    message=f"internal error reading its table definitions: {type(exc).__name__}: {exc}"))
            continue
        if schemas:
            declared.append(ModuleFacts(path=path, module="", key_schemas=schemas))
    return declared


@dataclass(frozen=True)
class _Content:
    """A file as read: its bytes and content key, or why it could not be read."""

    file: SourceFile
    module: str
    data: bytes | None
    key: str
    error: str | None = None

    @property
    def lines(self) -> int:
        return self.data.count(b"\n") + 1 if self.data is not None else 0


def _read(file: SourceFile, packages: dict[Path, tuple[str, ...]] | None = None) -> _Content:
    """The file's bytes and content key; `packages` as for `module_name`."""
    module = module_name(file.path, packages)
    try:
        data = read_bytes(file.path)
    except FileError as exc:
        return _Content(file, module, None, f"error:{file.relative}:{exc}", str(exc))
    place = f"{file.relative}\0{module}".encode("utf-8", "surrogateescape")  # names may not be UTF-8
    key = hashlib.sha256(b"\0".join([data, place])).hexdigest()
    return _Content(file, module, data, key)


def _tree_key(contents: list[_Content], documents: list[tuple[str, str]], problems: list[ToolError],
              options: ScanOptions) -> str:
    """Everything a scan's result depends on: every file's content and place, the API documents that name
    handlers, what could not be listed, the options."""
    settings = json.dumps([sorted(options.select), sorted(options.ignore), options.backend, options.inline_suppressions,
                           sorted((k, sorted(v)) for k, v in options.per_file_ignores.items()),
                           [(problem.target, problem.message) for problem in problems]])
    digest = hashlib.sha256(settings.encode())
    for content in contents:
        digest.update(content.key.encode())
    for path, text in documents:
        digest.update(hashlib.sha256(f"{path}\0{text}".encode("utf-8", "surrogateescape")).digest())
    return "tree-" + digest.hexdigest()


def _suppressed(finding: Finding, suppressions: dict[str, dict[int, frozenset[str]]], options: ScanOptions) -> bool:
    path = finding.location.path
    rules = suppressions.get(path, {}).get(finding.location.line, frozenset()) if options.inline_suppressions else ()
    if "*" in rules or finding.rule_id in rules:
        return True
    for pattern, rule_ids in options.per_file_ignores.items():
        if fnmatch.fnmatch(path, pattern) and finding.rule_id in matching(rule_ids):
            return True
    return False


# ---- facts per file ----------------------------------------------------------------------------------


Outcome = tuple[ModuleFacts | None, ToolError | None, int]


def _extract_all(contents: list[_Content], cache: Cache | None, jobs: int) -> list[Outcome]:
    if jobs <= 1 or len(contents) < 2 * jobs:
        return [_extract_one(content, cache) for content in contents]
    chunk = max(1, len(contents) // (jobs * 8))
    from concurrent.futures import ProcessPoolExecutor  # (multiprocessing costs every start otherwise)

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_extract_one, contents, [cache] * len(contents), chunksize=chunk))


def _extract_one(content: _Content, cache: Cache | None) -> Outcome:
    file, data = content.file, content.data
    if data is None:
        return None, ToolError(engine="scan", target=file.relative, message=content.error or "cannot read"), 0
    if cache is not None:
        hit = cache.get_facts(content.key)
        if hit is not None:
            return (*hit, 1)
    try:
        if file.relative.endswith(".sql"):
            facts = ModuleFacts(path=file.relative, module=content.module)
            ddl = decode_sql(data)
            facts.tables = tables_from_ddl(ddl, file.relative)
            facts.backend_hints = ddl_backend_hints(ddl)
        elif is_requirements(file.relative):
            facts = ModuleFacts(path=file.relative, module=content.module,
                                backend_hints=requirement_hints(decode_sql(data)))
        else:
            source = decode_python(data)
            facts = extract(parse_python(source, file.relative), source, file.relative, content.module)
        result: tuple[ModuleFacts | None, ToolError | None] = (facts, None)
    except FileError as exc:
        result = (None, ToolError(engine="scan", target=file.relative, message=str(exc)))
    except RecursionError:
        result = (None, ToolError(engine="scan", target=file.relative, message="skipped: nested too deeply to analyse"))
    except Exception as exc:  # a bug of ours must cost one file, never the scan
        message = f"internal error while analysing ({type(exc).__name__}: {exc}); please report it"
        return None, ToolError(engine="scan", target=file.relative, message=message, kind="internal"), 0
    if cache is not None:
        cache.put_facts(content.key, *result)
    return (*result, 0)
