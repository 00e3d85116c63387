"""The DynamoDB part of bench/audit.py: `plumbline audit --dynamodb` on a table of 200,000 items on a moto server.

1. Starts moto's server (`python -m moto.server`) on 127.0.0.1 and a free port, in its own process so that the
   fill and the audit do not share its interpreter.
2. Fills a table `accounts` (partition key `pk`) with batch_write_item, 25 items per request, from FILL_THREADS
   threads, for at most --fill-seconds: when moto cannot take every item in that time, the table holds what it
   took and the output says so (the figures are then for that size, never for the one asked). Every 97th item
   lacks `version` and every 101st stores `balance` as a string, so PL310 has work to do. `accounts` is a
   users-like name (PRINCIPAL_TABLE): its keys and e-mails, all distinct, are counted for PL312 and PL313, the
   audit's memory at its largest (DISTINCT_VALUES_KEPT values per attribute).
3. Runs `plumbline audit --dynamodb --endpoint URL --table accounts --read-budget B` as a child process: wall and
   CPU seconds, peak RSS (os.wait4), items read and read capacity consumed against the budget, as the audit's
   coverage entry reports them.

moto's accounting is not AWS's: it charges 1 capacity unit per Scan page whatever the page's size; the output
gives AWS's price of the same items beside it (0.5 unit per 4 KB read, eventually consistent). moto's Scan walks
the table from its start for every page, so the wall time is mostly moto's.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scan_speed import Run, failure, mib, run_child, verdict

TABLE = "accounts"
BATCH_ITEMS = 25  # the most batch_write_item takes in one request
FILL_THREADS = 4
REGION = "us-east-1"
SERVER_START_S = 30
# Dummy credentials: the endpoint is local, and no real credential of the machine is ever read.
AWS_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                   "AWS_EC2_METADATA_DISABLED": "true"}
_SCANNED = re.compile(r"([\d,]+) items? read in \d+ segments, ([\d.e+]+) read capacity units consumed")


@dataclass
class Filled:
    items: int
    seconds: float
    item_bytes: int  # the size of one item as DynamoDB counts it (names and values), about


def item(n: int) -> dict:
    """Item n, in DynamoDB's JSON: 5 attributes; some without a version, some with a balance stored as text."""
    attributes = {"pk": {"S": f"ACCOUNT#{n:07}"}, "email": {"S": f"account{n}@example.com"},
                  "owner_id": {"S": f"user{n % 10_000}"}, "balance": {"N": str(n % 10_000)},
                  "version": {"N": "1"}}
    if n % 97 == 0:
        del attributes["version"]
    if n % 101 == 0:
        attributes["balance"] = {"S": str(n % 10_000)}
    return attributes


def item_bytes(attributes: dict) -> int:
    return sum(len(name) + len(next(iter(value.values()))) for name, value in attributes.items())


class MotoServer:
    """moto's server in a child process on 127.0.0.1 and a free port; `close()` stops it."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto's server exited at once (exit {self.process.returncode})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError(f"moto's server did not answer on port {self.port} within {SERVER_START_S} s")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def fill(endpoint: str, items: int, seconds: float) -> Filled:
    """Create the table and write items 0..items-1 in batches, until all are written or `seconds` have passed."""
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                          config=Config(max_pool_connections=FILL_THREADS, retries={"max_attempts": 5}))
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    started = time.perf_counter()
    deadline = started + seconds
    written = [0] * FILL_THREADS

    def write(thread: int) -> None:
        for first in range(thread * BATCH_ITEMS, items, FILL_THREADS * BATCH_ITEMS):
            if time.perf_counter() > deadline:
                return
            batch = [{"PutRequest": {"Item": item(n)}} for n in range(first, min(first + BATCH_ITEMS, items))]
            while batch:
                batch = client.batch_write_item(RequestItems={TABLE: batch}).get("UnprocessedItems", {}).get(TABLE)
            written[thread] += min(BATCH_ITEMS, items - first)

    with ThreadPoolExecutor(FILL_THREADS) as pool:
        for future in [pool.submit(write, thread) for thread in range(FILL_THREADS)]:
            future.result()
    return Filled(items=sum(written), seconds=time.perf_counter() - started, item_bytes=item_bytes(item(1)))


def scanned(run: Run) -> tuple[int, float] | None:
    """Items read and capacity units consumed, from the coverage entry of the audit's Scan."""
    for entry in (run.output or {}).get("coverage", []):
        found = _SCANNED.search(entry.get("note", ""))
        if entry.get("operation") == f"Scan {TABLE}" and found:
            return int(found.group(1).replace(",", "")), float(found.group(2))
    return None


def bench(plumbline: str, items: int, fill_seconds: float, read_budget: float, output: Path) -> int:
    """Fill, audit once, print the figures; 1 when the audit could not run."""
    os.environ.update(AWS_ENVIRONMENT)  # the audit child inherits them (run_child passes the environment on)
    server = MotoServer()
    try:
        print(f"\nfilling DynamoDB table {TABLE!r} with up to {items:,} items on moto {server.endpoint} "
              f"({BATCH_ITEMS} per batch_write_item, {FILL_THREADS} threads, at most {fill_seconds:g} s) ...",
              flush=True)
        filled = fill(server.endpoint, items, fill_seconds)
        rate = filled.items / filled.seconds if filled.seconds else 0
        print(f"filled {filled.items:,} items in {filled.seconds:.1f} s ({rate:,.0f} items/s)")
        if filled.items < items:
            print(f"NOTE moto took only {filled.items:,} of the {items:,} items asked within {fill_seconds:g} s: "
                  f"the figures below are for a table of {filled.items:,} items, not {items:,}")
        run = run_child([plumbline, "audit", "--dynamodb", "--endpoint", server.endpoint, "--region", REGION,
                         "--table", TABLE, "--read-budget", f"{read_budget:g}", "--format", "json",
                         "--output", str(output)], output)
    finally:
        server.close()
    if run.output is None:
        print(f"dynamodb audit failed: {failure(run)}")
        return 1
    read = scanned(run)
    findings = sorted({f"{f['rule_id']} {f['location']['table']}.{f['location'].get('column') or ''}".rstrip(".")
                       for f in run.output["findings"]})
    print(f"\n{'mode':<30} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}")
    print(f"{'dynamodb (--read-budget ' + format(read_budget, ',g') + ')':<30} {run.wall:>8.2f} {run.cpu or 0:>8.2f} "
          f"{mib(run.peak_rss):>9}   {len(run.output['findings'])} findings: {', '.join(findings)}")
    if read is None:
        print("the audit's report has no coverage entry for the Scan: items read and capacity unknown")
        return 0
    items_read, consumed = read
    aws_units = items_read * filled.item_bytes / 4096 * 0.5
    print(f"items read: {items_read:,} of {filled.items:,}; read capacity consumed: {consumed:,g} of a budget of "
          f"{read_budget:,g} units as moto counts (1 per Scan page); AWS would charge about {aws_units:,.0f} "
          f"units for these items ({filled.item_bytes} bytes each, eventually consistent)")
    print(f"{verdict(consumed <= read_budget)} within the read budget ({consumed:,g} <= {read_budget:,g})")
    print(f"{verdict(items_read == filled.items)} every item read ({items_read:,} of {filled.items:,})")
    print(f"(peak RSS of the plumbline process: {mib(run.peak_rss)} MiB for {items_read:,} items read; the audit "
          "keeps counters, not items: see DISTINCT_VALUES_KEPT in src/plumbline/audit/dynamodb.py)")
    for error in run.output.get("errors", []):
        print(f"audit error entry: {error.get('target')}: {error.get('message')}")
    return 0
