#!/usr/bin/env python3
"""`plumbline audit --scan` on the schemas of public apps nobody here wrote: does the audit of a live database
built from an app's own DDL say what the scan of that app's code says?

    make bench-audit-realworld          # or: .venv/bin/python bench/audit_realworld.py [--app TEXT]...
    PLUMBLINE_CORPUS=DIR ...            # where the repositories' git snapshots are (default /work/.mirror)

For each app of the labelled corpus (bench/realworld/apps/) whose repository holds SQL schema files:
1. exports the pinned commit (as bench/quality.py does);
2. loads its schema files, then its seed files, into a fresh database of an embedded PostgreSQL on 127.0.0.1
   (what PostgreSQL cannot run is left out and said: CockroachDB's `CREATE DATABASE IF NOT EXISTS`/`USE`,
   `GRANT`, extensions the embedded server lacks, `uuid_generate_v4()` read as `gen_random_uuid()`);
3. runs `plumbline audit --dsn URL --scan APP` and `plumbline scan APP --select PL2`;
4. compares, column by column, the audit's PL201-PL204 with the scan's, and lists the drift findings (PL206):
   the database was built from the schema the code declares, so any drift is the app's own (a migration the
   schema file lacks) or a false alarm to read.

A measurement, not a test: exit 0 whatever it finds; 2 when no app could be measured.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "audit"))  # the audit tests' embedded PostgreSQL over TCP

from audit_postgres import start_server  # noqa: E402
from quality import APPS_DIR, DEFAULT_CORPUS, export, find_git_dir, has_commit, plumbline_command  # noqa: E402

CREATES_TABLE = re.compile(r"\bCREATE\s+TABLE\b", re.I)
INSERTS = re.compile(r"\bINSERT\s+INTO\b", re.I)
PLACEHOLDER = re.compile(r"%\(|%s|\$\d|\{\{|(?<![:\w]):[a-z_]+\b")  # a query the app fills in, not a script
UNRUNNABLE = [  # (what, pattern, replacement): statements the embedded PostgreSQL cannot run
    ("CREATE DATABASE / USE / SET DATABASE / GRANT", re.compile(r"(?im)^\s*(CREATE DATABASE|USE |SET DATABASE|GRANT )"
                                                                r"[^;]*;"), ""),
    ("CREATE EXTENSION", re.compile(r"(?im)^\s*CREATE EXTENSION[^;]*;"), ""),
    ("uuid_generate_v4()", re.compile(r"uuid_generate_v4\(\)"), "gen_random_uuid()"),
]
COLUMN_RULES = ("PL201", "PL202", "PL203", "PL204")


def schema_files(root: Path) -> tuple[list[Path], list[Path]]:
    """The SQL scripts that create tables, and those that only insert rows (seeds), in path order; a file of queries
    the app runs with parameters is neither."""
    schemas, seeds = [], []
    for path in sorted(p for p in root.rglob("*.sql") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if PLACEHOLDER.search(text):
            continue
        if CREATES_TABLE.search(text):
            schemas.append(path)
        elif INSERTS.search(text):
            seeds.append(path)
    return schemas, seeds


def runnable(ddl: str) -> tuple[str, list[str]]:
    left_out = []
    for what, pattern, replacement in UNRUNNABLE:
        ddl, count = pattern.subn(replacement, ddl)
        if count:
            left_out.append(f"{what} x{count}")
    return ddl, left_out


def columns_of(document: dict, rule: str, from_scan: bool) -> set[str]:
    found = set()
    for finding in document["findings"]:
        if finding["rule_id"] != rule:
            continue
        if from_scan:
            table, column = finding["evidence"].get("table"), finding["evidence"].get("column")
        else:
            table, column = finding["location"].get("table"), finding["location"].get("column")
        if isinstance(table, str) and isinstance(column, str):
            found.add(f"{table.lower().rsplit('.', 1)[-1]}.{column.lower()}")
    return found


def measure(label: dict, git_dir: Path, server, workdir: Path) -> dict | None:
    dest = workdir / label["repo"].replace("/", "+")
    export(git_dir, label["commit"], dest)
    root = dest / label["subdir"] if label.get("subdir") else dest
    schemas, seeds = schema_files(root)
    if not schemas:
        return None
    ddl, left_out = runnable("\n".join(p.read_text(encoding="utf-8", errors="replace") for p in schemas + seeds))
    name = re.sub(r"[^a-z0-9]+", "_", label["repo"].lower())[:60]
    try:
        url = server.create_database(name, ddl)
    except Exception as exc:  # what PostgreSQL refused: the app is not measured
        return {"app": label["repo"], "error": " ".join(str(exc).split())[:200]}
    command = plumbline_command()
    audit = subprocess.run([*command, "audit", "--dsn", url, "--scan", str(root), "--format", "json"],
                           capture_output=True, text=True, timeout=600)
    scan = subprocess.run([*command, "scan", str(root), "--format", "json", "--no-cache", "--select", "PL2"],
                          capture_output=True, text=True, timeout=600)
    try:
        audited, scanned = json.loads(audit.stdout), json.loads(scan.stdout)
    except json.JSONDecodeError:
        return {"app": label["repo"], "error": (audit.stderr or scan.stderr).strip()[-200:]}
    rules = {}
    for rule in COLUMN_RULES:
        live, code = columns_of(audited, rule, False), columns_of(scanned, rule, True)
        rules[rule] = {"both": sorted(live & code), "audit_only": sorted(live - code), "scan_only": sorted(code - live)}
    return {"app": label["repo"], "schema_files": [str(p.relative_to(root)) for p in schemas + seeds],
            "left_out": left_out, "rules": rules,
            "drift": [f["message"] for f in audited["findings"] if f["rule_id"] == "PL206"],
            "data": sorted({f["rule_id"] for f in audited["findings"] if "PL210" <= f["rule_id"] <= "PL213"}),
            "errors": [e["message"] for e in audited["errors"]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", action="append", default=[], help="only apps whose repository contains TEXT")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    options = parser.parse_args()
    labels = [json.loads(path.read_text()) for path in sorted(APPS_DIR.glob("*.json"))]
    labels = [label for label in labels if not options.app or any(text in label["repo"] for text in options.app)]
    results = []
    servers = start_server()
    server = next(servers)
    try:
        with tempfile.TemporaryDirectory(prefix="plumbline-audit-realworld-") as workdir:
            for label in labels:
                git_dir = find_git_dir(Path(options.corpus), label["repo"])
                if git_dir is None or not has_commit(git_dir, label["commit"]):
                    continue
                found = measure(label, git_dir, server, Path(workdir))
                if found is not None:
                    results.append(found)
    finally:
        servers.close()
    if not results:
        print("no app with SQL schema files could be measured", file=sys.stderr)
        return 2
    agree = disagree = 0
    print("# plumbline audit --scan on live databases built from public apps' own schema files\n")
    for result in results:
        print(f"## {result['app']}")
        if "error" in result:
            print(f"  not measured: {result['error']}")
            continue
        print(f"  schema: {', '.join(result['schema_files'])}" + (f"; left out: {', '.join(result['left_out'])}"
                                                                   if result["left_out"] else ""))
        for rule, split in result["rules"].items():
            agree += len(split["both"])
            disagree += len(split["audit_only"]) + len(split["scan_only"])
            if any(split.values()):
                print(f"  {rule}: both {len(split['both'])}" +
                      "".join(f"; {side.replace('_', ' ')}: {', '.join(split[side])}"
                              for side in ("audit_only", "scan_only") if split[side]))
        for message in result["drift"]:
            print(f"  PL206: {message}")
        if result["data"]:
            print(f"  data findings on the seed rows: {', '.join(result['data'])}")
        for message in result["errors"]:
            print(f"  error: {message}")
    print(f"\ncolumn findings (PL201-PL204) the audit and the scan agree on: {agree}; on one side only: {disagree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
