"""The records app's planted failures as workloads: each breaks on the vulnerable twin, holds on the hardened one."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime, timezone

import httpx
from boto3.dynamodb.conditions import Key

from plumbline.lab.faults import FAULT_HEADER
from plumbline.lab.scenarios import Outcome, burst, scenario
from plumbline.lab.twin import RunningTwin

APP = "records"
CONSUMER_WAIT_SECONDS = 20


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def create_record(client: httpx.Client, *, balance: int = 0, data: dict | None = None) -> str:
    response = client.post("/records", json={"version": 0, "timestamp": now(), "data": data or {}, "balance": balance})
    if response.status_code != 201:
        raise RuntimeError(f"creating a record failed: {response.status_code} {response.text[:200]}")
    return response.json()["record_id"]


def read_record(client: httpx.Client, record_id: str) -> dict:
    response = client.get(f"/records/{record_id}")
    if response.status_code != 200:
        raise RuntimeError(f"reading record {record_id} failed: {response.status_code} {response.text[:200]}")
    return response.json()


def partition(twin: RunningTwin, user_id: str) -> list[dict]:
    """Every item in `user_id`'s partition of the records table, read behind the API."""
    table = twin.built.internals["storage"].records
    query = {"KeyConditionExpression": Key("user_id").eq(user_id), "ConsistentRead": True}
    items = []
    while True:
        page = table.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def has_marker(item: dict, marker: str) -> bool:
    data = item.get("data")
    return isinstance(data, dict) and data.get("marker") == marker


def statuses(responses: list) -> str:
    counts: dict[str, int] = {}
    for response in responses:
        label = str(response.status_code) if isinstance(response, httpx.Response) else type(response).__name__
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{count} x {label}" for label, count in sorted(counts.items()))


@scenario(
    app=APP,
    name="cross-user-record-read",
    failure="BOLA/IDOR",
    invariant="a user cannot read another user's record by its id",
)
def cross_user_read(twin: RunningTwin) -> Outcome:
    secret = f"diagnosis-{secrets.token_hex(8)}"
    with twin.client("alice") as alice, twin.client("bob") as bob:
        record_id = create_record(alice, data={"private": secret})
        response = bob.get(f"/records/{record_id}")
    leaked = secret in response.text
    return Outcome(
        held=response.status_code != 200 and not leaked,
        observed=f"bob GET alice's record -> {response.status_code}, private data {'returned' if leaked else 'withheld'}",
        evidence={"record_id": record_id, "status": response.status_code, "body": response.text[:300]},
    )


@scenario(
    app=APP,
    name="mass-assignment",
    failure="mass assignment",
    invariant="a client cannot choose the partition key or store attributes outside the schema",
)
def mass_assignment(twin: RunningTwin) -> Outcome:
    marker = f"planted-{secrets.token_hex(8)}"
    with twin.client("alice") as alice, twin.client("bob") as bob:
        alice_id = alice.get("/me").json()["id"]
        bob_id = bob.get("/me").json()["id"]
        response = alice.post(
            "/records",
            json={
                "user_id": bob_id,
                "is_admin": True,
                "version": 0,
                "timestamp": now(),
                "data": {"marker": marker},
            },
        )
        bob_listed = [item for item in bob.get("/records").json() if has_marker(item, marker)]
    stored = [item for user_id in (alice_id, bob_id) for item in partition(twin, user_id) if has_marker(item, marker)]
    in_bob = [item for item in stored if item["user_id"] == bob_id]
    unknown = sorted({name for item in stored for name in item} - {"user_id", "record_id", "version", "timestamp", "data", "balance"})
    held = 400 <= response.status_code < 500 and not bob_listed and not in_bob and not unknown
    if stored:
        where = f"stored in {'bob' if in_bob else 'alice'}'s partition with extra attributes {unknown or 'none'}"
    else:
        where = "nothing stored"
    return Outcome(
        held=held,
        observed=f"alice POST /records with user_id=bob, is_admin=true -> {response.status_code}; {where}; "
        f"bob's list shows {len(bob_listed)}",
        evidence={"status": response.status_code, "stored": [str(item) for item in stored][:3], "unknown_attributes": unknown},
    )


@scenario(
    app=APP,
    name="concurrent-increments",
    failure="lost update",
    invariant="final version == initial version + number of successful increments",
    race=True,
)
def concurrent_increments(twin: RunningTwin) -> Outcome:
    count = 30
    with twin.client("alice", limits=httpx.Limits(max_connections=count)) as alice:
        record_id = create_record(alice)
        initial = read_record(alice, record_id)["version"]
        responses = burst(count, lambda _: alice.post(f"/records/{record_id}/increment", json={"by": 1}))
        final = read_record(alice, record_id)["version"]
    succeeded = sum(1 for r in responses if isinstance(r, httpx.Response) and r.status_code == 200)
    expected = initial + succeeded
    return Outcome(
        held=final == expected,
        observed=f"version {initial} -> {final} after {count} concurrent increments by 1: "
        f"{statuses(responses)} ({expected - final} lost)",
        evidence={"record_id": record_id, "initial": initial, "final": final, "succeeded": succeeded},
    )


@scenario(
    app=APP,
    name="transfer-partial-write",
    failure="partial write",
    invariant="a transfer that fails midway leaves the total balance unchanged",
)
def transfer_fault(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice:
        source = create_record(alice, balance=1000)
        target = create_record(alice, balance=0)
        response = alice.post(
            "/records/transfer",
            json={"source_record_id": source, "target_record_id": target, "amount": 300},
            headers={FAULT_HEADER: "transfer.after_debit"},
        )
        after = (read_record(alice, source)["balance"], read_record(alice, target)["balance"])
    total = sum(after)
    return Outcome(
        held=total == 1000,
        observed=f"balances 1000 + 0 -> {after[0]} + {after[1]} (total {total}) "
        f"after a transfer of 300 crashed between its writes: {response.status_code}",
        evidence={"status": response.status_code, "source": after[0], "target": after[1], "body": response.text[:300]},
    )


@scenario(
    app=APP,
    name="stream-redelivery",
    failure="non-idempotent stream consumer",
    invariant="delivering the same stream records again leaves the aggregates unchanged",
)
def stream_redelivery(twin: RunningTwin) -> Outcome:
    # A fresh user, so the aggregates this scenario checks hold only its own records.
    email = f"stream-{uuid.uuid4().hex[:12]}@lab.example"
    registered = httpx.post(f"{twin.url}/users", json={"email": email, "name": "Stream Check"}, timeout=30)
    registered.raise_for_status()
    user_id, token = registered.json()["id"], registered.json()["token"]
    balances = [100, 250, 400]
    with httpx.Client(base_url=twin.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as user:
        record_ids = [create_record(user, balance=balance) for balance in balances]
        user.post(f"/records/{record_ids[0]}/increment", json={"by": 1}).raise_for_status()
        expected = {"record_count": len(balances), "balance_total": sum(balances)}
        deadline = time.monotonic() + CONSUMER_WAIT_SECONDS
        while True:
            applied = user.get("/aggregates").json()
            if {key: applied[key] for key in expected} == expected or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if {key: applied[key] for key in expected} != expected:
            return Outcome(
                held=False,
                observed=f"the stream consumer did not apply the writes within {CONSUMER_WAIT_SECONDS} s: "
                f"aggregates {applied}, expected {expected}",
                evidence={"applied": applied, "expected": expected},
            )
        poller = twin.built.internals["poller"]
        redelivered = [
            record for record in poller.read_all()
            if any(image.get("user_id", {}).get("S") == user_id
                   for image in (record["dynamodb"].get("NewImage", {}), record["dynamodb"].get("OldImage", {})))
        ]
        twin.built.internals["stream_handler"]({"Records": redelivered})
        after = user.get("/aggregates").json()
    unchanged = all(after[key] == applied[key] for key in expected)
    return Outcome(
        held=unchanged,
        observed=f"aggregates count {applied['record_count']}, total {applied['balance_total']} -> after redelivering "
        f"{len(redelivered)} stream records: count {after['record_count']}, total {after['balance_total']}",
        evidence={"before": applied, "after": after, "redelivered": len(redelivered)},
    )


INVALID_RECORDS = {
    "string version": {"version": "7", "timestamp": "2024-05-01T12:00:00+00:00", "data": {}},
    "missing timestamp": {"version": 0, "data": {}},
    "naive timestamp": {"version": 0, "timestamp": "2024-05-01T12:00:00", "data": {}},
    "garbage timestamp": {"version": 0, "timestamp": "yesterday-ish", "data": {}},
    "negative balance": {"version": 0, "timestamp": "2024-05-01T12:00:00+00:00", "data": {}, "balance": -500},
    "extra user_id": {"version": 0, "timestamp": "2024-05-01T12:00:00+00:00", "data": {}, "user_id": "self"},
    "data too large": {"version": 0, "timestamp": "2024-05-01T12:00:00+00:00", "data": {"blob": "x" * 20_000}},
    "non-object JSON": [0, "2024-05-01T12:00:00+00:00", {}],
}


@scenario(
    app=APP,
    name="invalid-records",
    failure="unvalidated input",
    invariant="every malformed record is refused with a 4xx JSON error and nothing is stored",
)
def invalid_records(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice:
        alice_id = alice.get("/me").json()["id"]
        before = {item["record_id"] for item in alice.get("/records").json()}
        results = {}
        for label, payload in INVALID_RECORDS.items():
            if label == "extra user_id":
                payload = {**payload, "user_id": alice_id}
            response = alice.post("/records", json=payload)
            try:
                has_error = isinstance(response.json().get("error"), str)
            except (ValueError, AttributeError):
                has_error = False
            results[label] = (response.status_code, has_error)
        after = {item["record_id"] for item in alice.get("/records").json()}
    refused = [label for label, (status, has_error) in results.items() if 400 <= status < 500 and has_error]
    server_errors = [label for label, (status, _) in results.items() if status >= 500]
    stored = len(after - before)
    return Outcome(
        held=len(refused) == len(results) and stored == 0,
        observed=f"{len(results)} invalid records -> {len(refused)} refused with 4xx, {len(server_errors)} x 5xx, "
        f"{stored} stored",
        evidence={"statuses": {label: status for label, (status, _) in results.items()}, "stored": stored},
    )
