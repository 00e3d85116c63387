#!/usr/bin/env python3
"""How fast and how big `plumbline audit` is on a 1,000,000-row PostgreSQL table with 5 columns, and on a
200,000-item DynamoDB table (moto; bench/audit_dynamodb.py, run after the SQL part).

    make bench-audit                # or: .venv/bin/python bench/audit.py [--part all|sql|dynamodb] [--rows N]
                                    #     [--repeat N] [--items N] [--fill-seconds S] [--read-budget UNITS]

1. Starts an embedded PostgreSQL (the pgserver wheel) on 127.0.0.1 and a free port, and fills a table
   `accounts (id, email, user_id, balance, created_at)` of N rows (default 1,000,000) beside a `users` table of
   10,000 rows, with damage spread through it: duplicated e-mails, NULL owners, negative balances, owners that
   are no user. Every data check of the audit has work to do (PL210-PL213).
2. Runs `plumbline audit` on it as a child process, sampled (the default --sample-rows) and exact (--exact),
   each the best of --repeat runs: wall and CPU seconds, peak RSS (os.wait4, as bench/scan_speed.py does), and
   the findings.
3. Prints PASS/MISS beside the issue's targets (sampled under 10 s, peak RSS at most 200 MiB), and the damage
   the sample counted, scaled up, beside what exact mode counted. Figures are information, never assertions:
   the script exits 0 unless the audit could not run at all.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "audit"))  # the audit tests' embedded PostgreSQL over TCP

from audit_dynamodb import bench as dynamodb_bench  # noqa: E402
from audit_postgres import start_server  # noqa: E402
from scan_speed import MIB, Run, failure, mib, run_child, verdict  # noqa: E402

TARGET_SAMPLED_S = 10.0
TARGET_RSS_BYTES = 200 * MIB
USERS = 10_000

# Damage, by row number: every 97th row repeats an e-mail, every 101st has no owner, every 103rd a negative
# balance, every 107th an owner that is no user.
FILL = """
CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);
INSERT INTO users SELECT n, 'user' || n || '@example.com' FROM generate_series(1, {users}) AS n;
CREATE TABLE accounts (
  id BIGINT PRIMARY KEY,
  email TEXT,
  user_id BIGINT,
  balance NUMERIC(12, 2) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO accounts (id, email, user_id, balance)
SELECT n,
       CASE WHEN n % 97 = 0 THEN 'account' || (n - 1) || '@example.com' ELSE 'account' || n || '@example.com' END,
       CASE WHEN n % 101 = 0 THEN NULL WHEN n % 107 = 0 THEN {users} + n ELSE 1 + n % {users} END,
       CASE WHEN n % 103 = 0 THEN -(n % 1000) - 1 ELSE n % 10000 END
FROM generate_series(1, {rows}) AS n;
ANALYZE;
"""


def best_of(repeat: int, argv: list[str], output: Path) -> Run:
    runs = [run_child(argv, output) for _ in range(repeat)]
    good = [run for run in runs if run.output is not None]
    return min(good, key=lambda run: run.wall) if good else runs[-1]


def summary(run: Run) -> str:
    findings = run.output["findings"]
    data = sorted({(f["rule_id"], f["location"]["column"]) for f in findings if f["rule_id"] >= "PL210"})
    counted = [f"{rule} {column} {_count(f)}" for rule, column in data
               for f in findings if (f["rule_id"], f["location"]["column"]) == (rule, column)]
    return f"{len(findings)} findings; " + "; ".join(counted)


DAMAGE_KEYS = ("duplicate_rows", "null_rows", "negative_rows", "orphan_rows")


def _count(finding: dict) -> str:
    evidence = finding["evidence"]
    for key in DAMAGE_KEYS:
        if key in evidence:
            return f"{evidence[key]:,} rows of {evidence['rows_examined']:,} read ({evidence.get('sample', '?')})"
    return ""


def compared(sampled: Run, exact: Run) -> list[str]:
    """Per data finding, the damaged rows the sample counted scaled up to every row read in exact mode (its
    rows examined over the sample's), beside the exact count: whether the sample finds what --exact finds."""
    def damage(run: Run) -> dict[tuple[str, str], tuple[int, int]]:
        return {(f["rule_id"], f["location"]["column"]): (f["evidence"][key], f["evidence"]["rows_examined"])
                for f in run.output["findings"] for key in DAMAGE_KEYS if key in f["evidence"]}
    found, whole = damage(sampled), damage(exact)
    lines = []
    for place, (rows, examined) in sorted(whole.items()):
        counted, read = found.get(place, (0, 0))
        scaled = f"~{counted * examined / read:,.0f}" if read else "none found"
        lines.append(f"{place[0]} {place[1]}: sampled {counted:,} of {read:,} rows, scaled up {scaled}; "
                     f"exact {rows:,} of {examined:,}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "sql", "dynamodb"), default="all")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each SQL mode; the fastest is shown")
    parser.add_argument("--items", type=int, default=200_000, help="DynamoDB items to write")
    parser.add_argument("--fill-seconds", type=float, default=180, help="at most this long to write them")
    parser.add_argument("--read-budget", type=float, default=20_000, help="the DynamoDB audit's --read-budget")
    options = parser.parse_args()
    plumbline = shutil.which("plumbline", path=str(Path(sys.executable).parent)) or shutil.which("plumbline")
    if plumbline is None:
        print("plumbline is not installed in this environment", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="plumbline-bench-audit-"))
    try:
        status = sql_bench(plumbline, options.rows, options.repeat, scratch) if options.part != "dynamodb" else 0
        if options.part != "sql":
            status = max(status, dynamodb_bench(plumbline, options.items, options.fill_seconds, options.read_budget,
                                                scratch / "dynamodb.json"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return status


def sql_bench(plumbline: str, rows: int, repeat: int, scratch: Path) -> int:
    """The SQL part: fill, audit sampled and exact, print the figures; 1 when the sampled audit could not run."""
    server = start_server()
    try:
        database = next(server)
        print(f"filling a table of {rows:,} rows x 5 columns (and {USERS:,} users) on PostgreSQL "
              f"127.0.0.1:{database.port} ...", flush=True)
        url = database.create_database("bench", FILL.format(rows=rows, users=USERS))
        output = scratch / "audit.json"
        base = [plumbline, "audit", "--dsn", url, "--format", "json", "--output", str(output),
                "--statement-timeout", "600"]
        results = {"sampled (--sample-rows 100000)": best_of(repeat, base, output),
                   "exact (--exact)": best_of(repeat, [*base, "--exact"], output)}
    finally:
        server.close()  # stops the server and deletes its folder
    print(f"\n{'mode':<30} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}")
    for mode, run in results.items():
        if run.output is None:
            print(f"{mode:<30} failed: {failure(run)}")
            continue
        print(f"{mode:<30} {run.wall:>8.2f} {run.cpu or 0:>8.2f} {mib(run.peak_rss):>9}   {summary(run)}")
    sampled, exact = results["sampled (--sample-rows 100000)"], results["exact (--exact)"]
    if sampled.output is None:
        return 1
    print(f"\n{verdict(sampled.wall < TARGET_SAMPLED_S)} sampled audit under {TARGET_SAMPLED_S:g} s "
          f"({sampled.wall:.2f} s)")
    for mode, run in results.items():
        if run.peak_rss is not None:
            print(f"{verdict(run.peak_rss <= TARGET_RSS_BYTES)} peak RSS at most {TARGET_RSS_BYTES // MIB} MiB, "
                  f"{mode} ({mib(run.peak_rss)} MiB)")
    if exact.output is not None:
        print(f"(exact mode, reported separately: {exact.wall:.2f} s; no target)")
        print("\nthe sample against --exact, damaged rows:", *compared(sampled, exact), sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
