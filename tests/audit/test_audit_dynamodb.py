"""The DynamoDB audit on a real moto server seeded with damage: drift, orphaned owners, duplicate e-mails, and a
clean table that must give no item finding. The server logs every operation it receives (proof that the audit
only reads) and can be told to refuse or throttle the Scans of one table (the errors AWS sends)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from interrupt_support import takes_ctrl_c
from plumbline.audit.connection import AuditError
from plumbline.audit.dynamodb import READ_OPERATIONS, DynamoAudit, DynamoOptions, WriteRefused
from plumbline.findings import FindingsDocument

pytestmark = pytest.mark.timeout(120)

PLUMBLINE = Path(sys.executable).with_name("plumbline")
REGION = "eu-west-1"
SECRET = "audit-Secret-Key-42"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "audit-key-id", "AWS_SECRET_ACCESS_KEY": SECRET}

USERS = {f"u{n}": f"user{n}@example.com" for n in range(1, 7)}
USERS["u5"] = USERS["u1"]  # two e-mails each held twice
USERS["u6"] = USERS["u2"]
ORDER_OWNERS = ["u1", "u2", "u3", "u4", "u1", "u2", "u3", "ghost-1", "ghost-1", "ghost-2"]
TOTAL_AS_TEXT = {3}  # orders whose total is a string
WITHOUT_TOTAL = {7}  # orders with no total at all
WITHOUT_VERSION = {0, 4, 9}
NOTE_OWNERS = ["u1", "u2", "u3", "u4"]  # the clean table
WALLETS = 5  # every wallet has its revision: the code's locking has left no item behind

# The app's code for PL311 (`--scan`): a PynamoDB model of `orders` with a VersionAttribute, and a write to
# `wallets` whose ConditionExpression compares `revision` (no model declares it).
CODE = {
    "app/models.py": """from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model


class Order(Model):
    class Meta:
        table_name = "orders"

    order_id = UnicodeAttribute(hash_key=True)
    total = NumberAttribute()
    version = VersionAttribute()
""",
    "app/wallets.py": """import boto3
from flask import Flask, request

app = Flask(__name__)
wallets = boto3.resource("dynamodb").Table("wallets")


@app.post("/wallets/<wallet_id>")
def pay(wallet_id):
    body = request.get_json()
    wallets.update_item(Key={"wallet_id": wallet_id}, UpdateExpression="SET balance = :b, revision = :n",
                        ConditionExpression="revision = :r",
                        ExpressionAttributeValues={":b": body["balance"], ":n": body["rev"] + 1, ":r": body["rev"]})
    return {}
""",
}


class RecordingMoto:
    """moto's WSGI app behind a recorder of every operation received; Scans of the tables in `refuse` are answered
    with that error code instead (on their second page and later when `after_first_page`)."""

    def __init__(self, app) -> None:
        self.app = app
        self.operations: list[tuple[str, str]] = []
        self.refuse: dict[str, tuple[str, bool]] = {}
        self.slow: dict[str, float] = {}  # table -> seconds each of its Scan pages takes
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        request = json.loads(body or b"{}")
        with self.lock:
            self.operations.append((operation, request.get("TableName", "")))
            refused = self.refuse.get(request.get("TableName", "")) if operation == "Scan" else None
        if operation == "Scan":
            time.sleep(self.slow.get(request.get("TableName", ""), 0))
        if refused and (not refused[1] or "ExclusiveStartKey" in request):
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
            return [json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{refused[0]}",
                                "message": "refused by the test server"}).encode()]
        with self.lock:  # moto's handling, one request at a time (as the lab's server)
            return list(self.app(environ, start_response))


@pytest.fixture(scope="module")
def moto_server():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    recorder = RecordingMoto(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, recorder, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorder
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def _table(client, name: str, *keys: str) -> None:
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))],
                        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys])


@pytest.fixture(scope="module")
def seeded(moto_server):
    """users (duplicate e-mails), orders (drift, orphans, missing versions), notes (clean, fully protected),
    customers (a single-table design: uniqueness markers, one duplicate), bulk (3,000 items)."""
    database = boto3.resource("dynamodb", endpoint_url=moto_server.endpoint, region_name=REGION,
                              aws_access_key_id="seed", aws_secret_access_key="seed")
    client = database.meta.client
    for name, keys in {"users": ("user_id",), "orders": ("order_id",), "notes": ("note_id",),
                       "customers": ("pk", "sk"), "bulk": ("item_id",), "wallets": ("wallet_id",)}.items():
        _table(client, name, *keys)
    for user_id, email in USERS.items():
        database.Table("users").put_item(Item={"user_id": user_id, "email": email, "age": 30})
    for n, owner in enumerate(ORDER_OWNERS):
        order = {"order_id": f"o{n}", "user_id": owner, "total": Decimal("12.50"), "version": 1}
        if n in TOTAL_AS_TEXT:
            order["total"] = "12.50"
        if n in WITHOUT_TOTAL:
            del order["total"]
        if n in WITHOUT_VERSION:
            del order["version"]
        database.Table("orders").put_item(Item=order)
    for n, owner in enumerate(NOTE_OWNERS):
        database.Table("notes").put_item(Item={"note_id": f"n{n}", "user_id": owner, "slug": f"note-{n}",
                                               "title": "t", "stars": n})
    client.update_continuous_backups(TableName="notes",
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    client.update_table(TableName="notes", DeletionProtectionEnabled=True)
    customers = database.Table("customers")
    for pk, email in (("USER#1", "a@example.com"), ("USER#2", "b@example.com"), ("USER#3", "c@example.com"),
                      ("USER#4", "c@example.com")):
        customers.put_item(Item={"pk": pk, "sk": "PROFILE", "email": email, "name": pk.lower()})
    for email in ("a@example.com", "b@example.com"):  # markers carry the value they reserve
        customers.put_item(Item={"pk": f"EMAIL#{email}", "sk": "UNIQUE", "email": email})
    for n in range(WALLETS):
        database.Table("wallets").put_item(Item={"wallet_id": f"w{n}", "balance": n, "revision": n + 1})
    with database.Table("bulk").batch_writer() as batch:
        for n in range(3000):
            batch.put_item(Item={"item_id": f"i{n:05}", "value": n})
    return moto_server


def audit(server, **options) -> FindingsDocument:
    return DynamoAudit(DynamoOptions(endpoint=server.endpoint, region=REGION, **options)).run()


def by_place(document: FindingsDocument) -> dict[tuple[str, str, str | None], dict]:
    return {(f.rule_id, f.location.table, f.location.column): f.evidence for f in document.findings}


def test_the_seeded_damage_is_found_and_the_clean_table_gives_no_item_finding(seeded):
    document = audit(seeded, tables=("users", "orders", "notes", "customers"))
    found = by_place(document)
    item_findings = {place for place in found if place[0] in {"PL310", "PL311", "PL312", "PL313"}}
    assert item_findings == {("PL313", "users", "email"), ("PL312", "orders", "user_id"),
                             ("PL310", "orders", "total"), ("PL310", "orders", "version"),
                             ("PL313", "customers", "email")}
    assert not [f for f in document.findings if f.location.table == "notes"]  # clean and protected
    assert {f.rule_id for f in document.findings if f.location.table == "users"} >= {"PL314", "PL315"}
    assert all(f.engine == "audit" and f.location.kind == "schema" for f in document.findings)

    duplicated = {email for email in USERS.values() if list(USERS.values()).count(email) > 1}
    emails = found[("PL313", "users", "email")]
    assert emails["duplicated_values"] == len(duplicated) and emails["duplicate_items"] == 2 * len(duplicated)
    assert set(emails["sample_keys"]) == duplicated and emails["uniqueness_markers"] == 0

    orphans = [owner for owner in ORDER_OWNERS if owner not in USERS]
    owners = found[("PL312", "orders", "user_id")]
    assert owners["orphan_items"] == len(orphans) and set(owners["sample_keys"]) == set(orphans)
    assert owners["orphan_values"] == len(set(orphans)) and owners["references"] == "customers, users"

    total = found[("PL310", "orders", "total")]
    assert total["missing_items"] == len(WITHOUT_TOTAL)
    assert total["types"] == {"N": len(ORDER_OWNERS) - len(WITHOUT_TOTAL) - len(TOTAL_AS_TEXT),
                              "S": len(TOTAL_AS_TEXT)}
    assert total["sample_keys"] == [f"o{n}" for n in TOTAL_AS_TEXT]
    assert [f.severity for f in document.findings if f.location.column == "total"] == ["medium"]  # mixed types
    assert [f.severity for f in document.findings if f.location.column == "version"] == ["low"]  # only missing
    assert found[("PL310", "orders", "version")]["missing_items"] == len(WITHOUT_VERSION)

    marked = found[("PL313", "customers", "email")]  # the markers' own e-mails are not duplicates
    assert marked["sample_keys"] == ["c@example.com"] and marked["uniqueness_markers"] == 2
    scans = {entry.operation: entry.note for entry in document.coverage}
    assert set(scans) == {"Scan users", "Scan orders", "Scan notes", "Scan customers"}
    assert "6 items read" in scans["Scan users"] and "read capacity units consumed" in scans["Scan users"]
    assert document.errors == ()


def test_items_without_the_version_the_code_locks_on_need_the_scans_facts(seeded):
    assert "PL311" not in {f.rule_id for f in audit(seeded, tables=("orders",)).findings}
    found = by_place(audit(seeded, tables=("orders",), version_attributes={"orders": "version"}))
    assert found[("PL311", "orders", "version")]["items_without"] == len(WITHOUT_VERSION)


@pytest.fixture
def code(tmp_path) -> Path:
    for name, text in CODE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_scan_of_the_code_names_the_version_attributes_and_pl311_counts_the_items_without(seeded, code):
    document = audit(seeded, tables=("orders", "wallets"), scan=(code,))
    found = by_place(document)
    versions = found[("PL311", "orders", "version")]  # the PynamoDB model's VersionAttribute
    assert versions["items_without"] == len(WITHOUT_VERSION) and versions["locked_at"] == "app/models.py:5"
    assert not [f for f in document.findings if f.rule_id == "PL311" and f.location.table == "wallets"]
    checked = {entry.operation: entry.rules for entry in document.coverage}
    assert "PL311" in checked["Scan wallets"]  # `revision`, from the write's condition: checked, and clean


def test_the_cli_takes_scan_with_dynamodb(seeded, code):
    result = plumbline("--dynamodb", "--endpoint", seeded.endpoint, "--region", REGION, "--table", "orders",
                       "--table", "wallets", "--scan", str(code), "--select", "PL311", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = FindingsDocument.from_json(result.stdout)
    assert set(by_place(document)) == {("PL311", "orders", "version")}
    missing = plumbline("--dynamodb", "--endpoint", seeded.endpoint, "--region", REGION,
                        "--scan", str(code / "nope"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: --scan") and "Traceback" not in missing.stderr


def test_the_server_received_only_reads_and_the_client_refuses_a_write_before_sending_it(seeded):
    before = len(seeded.operations)
    run = DynamoAudit(DynamoOptions(endpoint=seeded.endpoint, region=REGION, segments=3))
    run.run()
    received = {operation for operation, _ in seeded.operations[before:]}
    assert received <= READ_OPERATIONS and {"ListTables", "Scan", "DescribeTable"} <= received
    scans = [table for operation, table in seeded.operations[before:] if operation == "Scan"]
    assert scans.count("users") >= 3  # one Scan per segment at least

    before = len(seeded.operations)
    with pytest.raises(WriteRefused):
        run._client.put_item(TableName="users", Item={"user_id": {"S": "intruder"}})
    assert seeded.operations[before:] == []


def test_the_read_budget_stops_the_scan_and_says_the_findings_are_partial(seeded):
    document = DynamoAudit(DynamoOptions(endpoint=seeded.endpoint, region=REGION, tables=("bulk",), segments=1,
                                         read_budget=1)).run()
    (note,) = [entry.note for entry in document.coverage]
    read = int(note.split(" items read")[0].replace(",", ""))
    assert 0 < read < 3000 and "stopped at the read budget" in note
    assert [e.target for e in document.errors] == ["bulk"] and "read budget" in document.errors[0].message
    complete = DynamoAudit(DynamoOptions(endpoint=seeded.endpoint, region=REGION, tables=("bulk",))).run()
    assert "3,000 items read" in complete.coverage[0].note and complete.errors == ()


def refusing(server, refuse: dict[str, tuple[str, bool]], **options) -> FindingsDocument:
    server.refuse.update(refuse)
    try:
        return audit(server, **options)
    finally:
        server.refuse.clear()


def test_a_scan_refused_for_want_of_permission_costs_that_table_only(seeded):
    document = refusing(seeded, {"orders": ("AccessDeniedException", False)}, tables=("orders", "users"))
    (error,) = document.errors
    assert error.target == "orders" and "access denied (AccessDeniedException)" in error.message
    assert not [f for f in document.findings if f.location.table == "orders" and f.rule_id in {"PL310", "PL312"}]
    assert ("PL313", "users", "email") in by_place(document)  # the other table is audited all the same
    assert {"PL314", "PL315"} <= {f.rule_id for f in document.findings if f.location.table == "orders"}


def test_a_scan_throttled_past_the_retries_keeps_the_pages_read(seeded):
    document = refusing(seeded, {"bulk": ("ProvisionedThroughputExceededException", True)}, tables=("bulk",),
                        segments=1)
    (error,) = document.errors
    assert "throttled" in error.message and "1,000 items" in error.message  # the first page, then refused
    assert "1,000 items read" in document.coverage[0].note


def test_an_owner_check_against_a_users_table_not_read_to_the_end_is_not_a_finding(seeded):
    document = refusing(seeded, {"users": ("AccessDeniedException", False)}, tables=("orders", "users"))
    assert "PL312" not in {f.rule_id for f in document.findings}
    assert any(e.target == "orders" and "PL312 not checked" in e.message for e in document.errors)


def test_memory_is_bounded_by_the_values_kept_and_a_partial_count_says_so(seeded, monkeypatch):
    import plumbline.audit.dynamodb as dynamodb

    kept = 3
    monkeypatch.setattr(dynamodb, "DISTINCT_VALUES_KEPT", kept)
    document = audit(seeded, tables=("orders", "users"))
    emails = by_place(document)[("PL313", "users", "email")]
    emails_held = {email: list(USERS.values()).count(email) for email in USERS.values()}
    assert len(emails_held) == kept + 1  # the items of the distinct e-mail read last are not counted
    assert emails["values_not_counted"] in set(emails_held.values())
    assert "PL312" not in {f.rule_id for f in document.findings}  # users' keys were not all kept
    assert any(e.target == "orders" and "PL312 not checked" in e.message for e in document.errors)


def test_an_unknown_table_is_an_audit_error(seeded):
    with pytest.raises(AuditError, match="no table 'nope'"):
        audit(seeded, tables=("users", "nope"))


def plumbline(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLUMBLINE), "audit", *args], capture_output=True, text=True, timeout=90,
                          env=env if env is not None else os.environ.copy())


def test_the_cli_reports_in_json_and_exits_1(seeded):
    result = plumbline("--dynamodb", "--endpoint", seeded.endpoint, "--region", REGION, "--table", "users",
                       "--format", "json")
    assert result.returncode == 1, result.stderr
    document = FindingsDocument.from_json(result.stdout)
    assert ("PL313", "users", "email") in by_place(document)
    assert "read capacity units consumed" in result.stderr and SECRET not in result.stdout + result.stderr


def test_an_interrupted_audit_writes_the_findings_so_far_and_exits_130(seeded):
    seeded.slow["bulk"] = 1.0
    try:
        before = len(seeded.operations)
        running = subprocess.Popen([str(PLUMBLINE), "audit", "--dynamodb", "--endpoint", seeded.endpoint, "--region",
                                    REGION, "--table", "users", "--table", "bulk", "--segments", "1", "--format",
                                    "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=takes_ctrl_c)
        deadline = time.monotonic() + 30
        while ("Scan", "bulk") not in seeded.operations[before:] and time.monotonic() < deadline:
            time.sleep(0.05)
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=20)
    finally:
        seeded.slow.clear()
    assert running.returncode == 130, stderr
    document = FindingsDocument.from_json(stdout)
    assert ("PL313", "users", "email") in by_place(document)  # users was read before bulk
    assert [e.kind for e in document.errors] == ["interrupted"] and "Traceback" not in stderr
    assert seeded.operations[before:].count(("Scan", "bulk")) == 1  # stopped after the page under way


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case", ["unreachable", "unknown table", "no credentials", "both targets", "no target",
                                  "no region", "sql option", "endpoint with a password", "endpoint no URL"])
def test_bad_input_is_one_line_exit_2_and_no_secret(seeded, case):
    env = os.environ.copy()
    args = ["--dynamodb", "--endpoint", seeded.endpoint, "--region", REGION]
    expected = {"unreachable": "does not answer", "unknown table": "no table 'nope'",
                "no credentials": "no AWS credentials", "both targets": "not both", "no target": "--dynamodb",
                "no region": "--region", "sql option": "--exact", "endpoint with a password": "no user or password",
                "endpoint no URL": "not an http:// or https:// URL"}[case]
    if case == "unreachable":
        args[2] = f"http://127.0.0.1:{_closed_port()}"
    elif case == "unknown table":
        args += ["--table", "nope"]
    elif case == "no credentials":
        for name in CREDENTIALS:
            env.pop(name)
        env["AWS_EC2_METADATA_DISABLED"] = "true"
    elif case == "both targets":
        args += ["--dsn", "postgresql://u:pw@127.0.0.1/db"]
    elif case == "no target":
        args = []
    elif case == "no region":
        args = ["--dynamodb"]
        env.pop("AWS_REGION", None)
        env.pop("AWS_DEFAULT_REGION", None)
    elif case == "sql option":
        args += ["--exact"]
    elif case == "endpoint with a password":
        args[2] = f"http://user:{SECRET}@127.0.0.1:1"
    elif case == "endpoint no URL":
        args[2] = f"{SECRET}:not-a-port"
    result = plumbline(*args, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert expected in output and "Traceback" not in output and SECRET not in output
    if not output.startswith("Usage:"):  # click's usage errors add their usage line
        assert output.startswith("error: ") and output.count("\n") == 1
