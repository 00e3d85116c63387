"""The records lab app against moto's DynamoDB: every planted failure breaks the vulnerable twin and
holds on the hardened one, the hardened twin survives load, redelivery and bad input, and both
serve one accurate OpenAPI document."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

import httpx
import pytest

import plumbline.lab.records.scenarios  # noqa: F401  (registers the scenarios)
from plumbline.lab import TWINS
from plumbline.lab.faults import FAULT_HEADER
from plumbline.lab.records import hardened
from plumbline.lab.records.openapi import SPEC
from plumbline.lab.records.scenarios import create_record, read_record
from plumbline.lab.records.streams import StreamPoller
from plumbline.lab.scenarios import ATTEMPTS, SCENARIOS, burst, reproduce

RECORDS_SCENARIOS = [item for item in SCENARIOS if item.app == "records"]
TIMESTAMP = "2024-05-01T12:00:00+00:00"


def test_every_planted_failure_has_a_scenario():
    assert len(RECORDS_SCENARIOS) == 6
    assert len({item.name for item in RECORDS_SCENARIOS}) == 6


@pytest.mark.parametrize("item", RECORDS_SCENARIOS, ids=lambda item: item.name)
@pytest.mark.parametrize("twin", TWINS)
def test_scenario(records_lab, twin, item):
    expected = twin == "hardened"
    outcome, tries = reproduce(item, records_lab[twin], attempts=5 if expected else ATTEMPTS)
    assert outcome.held is expected, f"{twin} after {tries} tries: {outcome.observed} {outcome.evidence}"
    assert outcome.observed and "\n" not in outcome.observed


@pytest.mark.parametrize("twin", TWINS)
def test_happy_path_contract_is_the_same_on_both_twins(records_lab, twin):
    with records_lab[twin].client("alice") as alice:
        created = alice.post("/records", json={"version": 3, "timestamp": TIMESTAMP, "data": {"k": [1, "v"]}, "balance": 500})
        assert created.status_code == 201 and set(created.json()) == {"record_id"}
        source = created.json()["record_id"]
        target = create_record(alice, balance=0)

        record = alice.get(f"/records/{source}")
        assert record.status_code == 200
        assert record.json() == {
            "user_id": alice.get("/me").json()["id"],
            "record_id": source,
            "version": 3,
            "timestamp": TIMESTAMP,
            "data": {"k": [1, "v"]},
            "balance": 500,
        }
        assert source in {item["record_id"] for item in alice.get("/records").json()}

        incremented = alice.post(f"/records/{source}/increment", json={"by": 4})
        assert incremented.status_code == 200 and incremented.json() == {"record_id": source, "version": 7}
        default = alice.post(f"/records/{source}/increment")
        assert default.status_code == 200 and default.json()["version"] == 8

        moved = alice.post("/records/transfer", json={"source_record_id": source, "target_record_id": target, "amount": 120})
        assert moved.status_code == 200
        assert moved.json() == {
            "source": {"record_id": source, "balance": 380},
            "target": {"record_id": target, "balance": 120},
        }

        aggregates = alice.get("/aggregates")
        assert aggregates.status_code == 200 and set(aggregates.json()) == {"user_id", "record_count", "balance_total"}
        assert alice.get("/records/3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b").status_code == 404
    with records_lab[twin].client() as anonymous:
        assert anonymous.get("/records").status_code == 401
        assert anonymous.get("/records").json() == {"error": "missing or invalid bearer token"}


def test_injected_fault_is_a_500_that_only_the_vulnerable_twin_explains(records_lab):
    bodies = {}
    for twin in TWINS:
        with records_lab[twin].client("alice") as alice:
            source, target = create_record(alice, balance=50), create_record(alice, balance=0)
            response = alice.post(
                "/records/transfer",
                json={"source_record_id": source, "target_record_id": target, "amount": 10},
                headers={FAULT_HEADER: "transfer.after_debit"},
            )
            assert response.status_code == 500
            bodies[twin] = response.json()
    assert bodies["vulnerable"]["error"].startswith("InjectedFault: ")
    assert bodies["hardened"] == {"error": "internal error"}


def test_hardened_twin_under_concurrent_load(records_lab):
    twin = records_lab["hardened"]
    operations, threads = 240, 16
    with twin.client("alice", limits=httpx.Limits(max_connections=threads * 2)) as alice:
        initial = {create_record(alice, balance=balance): balance for balance in (5000, 3000, 1000, 0)}
        ids = list(initial)
        versions = {record_id: read_record(alice, record_id)["version"] for record_id in ids}

        def operation(index: int):
            rng = random.Random(index)
            if index % 5 < 2:
                record_id = ids[index % len(ids)]
                return "increment", record_id, alice.post(f"/records/{record_id}/increment", json={"by": 1})
            source, target = rng.sample(ids, 2)
            body = {"source_record_id": source, "target_record_id": target, "amount": rng.randint(1, 2500)}
            return "transfer", source, alice.post("/records/transfer", json=body)

        results = burst_checked(operations, operation, threads)
        final = {record_id: read_record(alice, record_id) for record_id in ids}

    statuses = Counter((kind, response.status_code) for kind, _, response in results)
    assert not [key for key in statuses if key[1] >= 500], statuses
    assert set(statuses) <= {("increment", 200), ("transfer", 200), ("transfer", 409)}, statuses
    assert statuses[("transfer", 200)] > 0

    balances = {record_id: record["balance"] for record_id, record in final.items()}
    assert sum(balances.values()) == sum(initial.values()), (balances, statuses)
    assert min(balances.values()) >= 0, balances
    increments = Counter(record_id for kind, record_id, response in results if kind == "increment" and response.status_code == 200)
    for record_id in ids:
        assert final[record_id]["version"] == versions[record_id] + increments[record_id]

    stored = {item["record_id"]: item for item in scan(twin.built.internals["storage"].records) if item["record_id"] in initial}
    assert {record_id: int(item["balance"]) for record_id, item in stored.items()} == balances


def burst_checked(count, call, threads):
    results = burst(count, call, threads=threads)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors[:3]
    return results


def aggregates_table(twin) -> dict:
    items = scan(twin.built.internals["storage"].aggregates)
    return {item["user_id"]: (int(item["record_count"]), int(item["balance_total"])) for item in items}


def scan(table) -> list[dict]:
    request, items = {"ConsistentRead": True}, []
    while True:
        page = table.scan(**request)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_hardened_whole_stream_redelivered_twice_changes_no_aggregate(records_lab):
    twin = records_lab["hardened"]
    internals = twin.built.internals
    with twin.client("bob") as bob:
        for balance in (10, 20):
            create_record(bob, balance=balance)
    internals["poller"].drain()
    before = aggregates_table(twin)

    truth: dict[str, tuple[int, int]] = {}
    for item in scan(internals["storage"].records):
        count, total = truth.get(item["user_id"], (0, 0))
        truth[item["user_id"]] = (count + 1, total + int(item.get("balance", Decimal(0))))
    assert before == truth

    stream = internals["poller"].read_all()
    assert len(stream) >= sum(count for count, _ in truth.values())
    for _ in range(2):
        internals["stream_handler"]({"Records": stream})
    internals["poller"].drain()
    assert aggregates_table(twin) == before


def test_stream_poller_survives_a_failing_handler_and_stops_promptly(records_lab):
    twin = records_lab["hardened"]
    with twin.client("alice") as alice:
        create_record(alice, balance=1)
    delivered, calls = [], []

    def flaky(event):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("transient failure")
        delivered.extend(event["Records"])

    poller = StreamPoller(twin.built.internals["dynamo"], twin.built.internals["tables"].records, flaky, interval=0.05)
    expected = len(poller.read_all())
    stop = threading.Event()
    worker = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while len(delivered) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(calls) >= 2
    assert len(delivered) >= expected
    assert [r["eventID"] for r in delivered[:expected]] == [r["eventID"] for r in poller.read_all()[:expected]]


LONG_ID = "a" * 2000
UNKNOWN_ID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"


@pytest.fixture(scope="module")
def hardened_records(records_lab):
    with records_lab["hardened"].client("alice") as alice, records_lab["hardened"].client("bob") as bob:
        return {
            "source": create_record(alice, balance=100),
            "target": create_record(alice, balance=0),
            "bobs": create_record(bob, balance=100),
        }


def invalid_requests(ids: dict) -> list[tuple[str, str, str, dict]]:
    """(label, method, path, httpx request kwargs) of requests the hardened twin must refuse with a 4xx."""
    record = {"version": 0, "timestamp": TIMESTAMP, "data": {}}
    transfer = {"source_record_id": ids["source"], "target_record_id": ids["target"], "amount": 1}
    increment = f"/records/{ids['source']}/increment"
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["n"] = {}
        node = node["n"]
    cases = [
        ("users: not JSON", "POST", "/users", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        ("users: text/plain", "POST", "/users", {"content": b'{"email": "a@b.c", "name": "A"}', "headers": {"Content-Type": "text/plain"}}),
        ("users: list", "POST", "/users", {"json": ["a@b.c", "A"]}),
        ("users: missing name", "POST", "/users", {"json": {"email": "a@b.c"}}),
        ("users: bad email", "POST", "/users", {"json": {"email": "nobody", "name": "A"}}),
        ("users: long name", "POST", "/users", {"json": {"email": "a@b.c", "name": "A" * 101}}),
        ("users: int name", "POST", "/users", {"json": {"email": "a@b.c", "name": 5}}),
        ("users: extra field", "POST", "/users", {"json": {"email": "a@b.c", "name": "A", "is_admin": True}}),
        ("records: empty body", "POST", "/records", {}),
        ("records: null", "POST", "/records", {"json": None}),
        ("records: not JSON", "POST", "/records", {"content": b"version=1", "headers": {"Content-Type": "application/json"}}),
        ("records: list", "POST", "/records", {"json": [record]}),
        ("records: string version", "POST", "/records", {"json": {**record, "version": "1"}}),
        ("records: float version", "POST", "/records", {"json": {**record, "version": 1.5}}),
        ("records: bool version", "POST", "/records", {"json": {**record, "version": True}}),
        ("records: negative version", "POST", "/records", {"json": {**record, "version": -1}}),
        ("records: huge version", "POST", "/records", {"json": {**record, "version": 10**40}}),
        ("records: missing version", "POST", "/records", {"json": {"timestamp": TIMESTAMP, "data": {}}}),
        ("records: missing timestamp", "POST", "/records", {"json": {"version": 0, "data": {}}}),
        ("records: naive timestamp", "POST", "/records", {"json": {**record, "timestamp": "2024-05-01T12:00:00"}}),
        ("records: garbage timestamp", "POST", "/records", {"json": {**record, "timestamp": "soon"}}),
        ("records: numeric timestamp", "POST", "/records", {"json": {**record, "timestamp": 1714564800}}),
        ("records: long timestamp", "POST", "/records", {"json": {**record, "timestamp": TIMESTAMP + " " * 100}}),
        ("records: missing data", "POST", "/records", {"json": {"version": 0, "timestamp": TIMESTAMP}}),
        ("records: list data", "POST", "/records", {"json": {**record, "data": [1, 2]}}),
        ("records: string data", "POST", "/records", {"json": {**record, "data": "x"}}),
        ("records: large data", "POST", "/records", {"json": {**record, "data": {"blob": "x" * 20_000}}}),
        ("records: deep data", "POST", "/records", {"json": {**record, "data": deep}}),
        ("records: unstorable number", "POST", "/records", {"json": {**record, "data": {"n": 10**50}}}),
        ("records: infinite number", "POST", "/records", {"content": b'{"version": 0, "timestamp": "2024-05-01T12:00:00Z", "data": {"n": 1e999}}', "headers": {"Content-Type": "application/json"}}),
        ("records: NaN", "POST", "/records", {"content": b'{"version": 0, "timestamp": "2024-05-01T12:00:00Z", "data": {"n": NaN}}', "headers": {"Content-Type": "application/json"}}),
        ("records: negative balance", "POST", "/records", {"json": {**record, "balance": -1}}),
        ("records: float balance", "POST", "/records", {"json": {**record, "balance": 10.5}}),
        ("records: string balance", "POST", "/records", {"json": {**record, "balance": "10"}}),
        ("records: huge balance", "POST", "/records", {"json": {**record, "balance": 10**12 + 1}}),
        ("records: user_id", "POST", "/records", {"json": {**record, "user_id": "someone"}}),
        ("records: record_id", "POST", "/records", {"json": {**record, "record_id": UNKNOWN_ID}}),
        ("records: is_admin", "POST", "/records", {"json": {**record, "is_admin": True}}),
        ("get: unknown id", "GET", f"/records/{UNKNOWN_ID}", {}),
        ("get: malformed id", "GET", "/records/not-a-record", {}),
        ("get: long id", "GET", f"/records/{LONG_ID}", {}),
        ("get: other user's record", "GET", f"/records/{ids['bobs']}", {}),
        ("increment: zero", "POST", increment, {"json": {"by": 0}}),
        ("increment: negative", "POST", increment, {"json": {"by": -5}}),
        ("increment: too large", "POST", increment, {"json": {"by": 1001}}),
        ("increment: string", "POST", increment, {"json": {"by": "1"}}),
        ("increment: float", "POST", increment, {"json": {"by": 1.5}}),
        ("increment: bool", "POST", increment, {"json": {"by": True}}),
        ("increment: extra field", "POST", increment, {"json": {"by": 1, "version": 99}}),
        ("increment: list", "POST", increment, {"json": [1]}),
        ("increment: not JSON", "POST", increment, {"content": b"by=1", "headers": {"Content-Type": "application/json"}}),
        ("increment: unknown id", "POST", f"/records/{UNKNOWN_ID}/increment", {"json": {"by": 1}}),
        ("increment: long id", "POST", f"/records/{LONG_ID}/increment", {"json": {"by": 1}}),
        ("increment: other user's record", "POST", f"/records/{ids['bobs']}/increment", {"json": {"by": 1}}),
        ("transfer: empty body", "POST", "/records/transfer", {}),
        ("transfer: list", "POST", "/records/transfer", {"json": [transfer]}),
        ("transfer: same record", "POST", "/records/transfer", {"json": {**transfer, "target_record_id": ids["source"]}}),
        ("transfer: zero", "POST", "/records/transfer", {"json": {**transfer, "amount": 0}}),
        ("transfer: negative", "POST", "/records/transfer", {"json": {**transfer, "amount": -50}}),
        ("transfer: float", "POST", "/records/transfer", {"json": {**transfer, "amount": 0.5}}),
        ("transfer: string", "POST", "/records/transfer", {"json": {**transfer, "amount": "1"}}),
        ("transfer: huge", "POST", "/records/transfer", {"json": {**transfer, "amount": 10**30}}),
        ("transfer: missing amount", "POST", "/records/transfer", {"json": {k: v for k, v in transfer.items() if k != "amount"}}),
        ("transfer: extra field", "POST", "/records/transfer", {"json": {**transfer, "user_id": "someone"}}),
        ("transfer: malformed id", "POST", "/records/transfer", {"json": {**transfer, "source_record_id": "x:y"}}),
        ("transfer: long id", "POST", "/records/transfer", {"json": {**transfer, "target_record_id": LONG_ID}}),
        ("transfer: int id", "POST", "/records/transfer", {"json": {**transfer, "source_record_id": 7}}),
        ("transfer: unknown source", "POST", "/records/transfer", {"json": {**transfer, "source_record_id": UNKNOWN_ID}}),
        ("transfer: unknown target", "POST", "/records/transfer", {"json": {**transfer, "target_record_id": UNKNOWN_ID}}),
        ("transfer: other user's source", "POST", "/records/transfer", {"json": {**transfer, "source_record_id": ids["bobs"]}}),
        ("transfer: other user's target", "POST", "/records/transfer", {"json": {**transfer, "target_record_id": ids["bobs"]}}),
        ("transfer: insufficient", "POST", "/records/transfer", {"json": {**transfer, "amount": 101}}),
        ("method not allowed", "DELETE", f"/records/{ids['source']}", {}),
        ("unknown route", "GET", "/admin", {}),
    ]
    return cases


def test_hardened_refuses_invalid_input_with_4xx_json(records_lab, hardened_records):
    twin = records_lab["hardened"]
    failures = []
    with twin.client("alice") as alice, twin.client("bob") as bob:
        listed_before = alice.get("/records").json()
        bobs_before = bob.get("/records").json()
        for label, method, path, kwargs in invalid_requests(hardened_records):
            response = alice.request(method, path, **kwargs)
            try:
                body = response.json()
            except ValueError:
                body = None
            if not (400 <= response.status_code < 500 and isinstance(body, dict) and isinstance(body.get("error"), str)):
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        assert not failures, "\n".join(failures)
        assert alice.get("/records").json() == listed_before
        assert bob.get("/records").json() == bobs_before


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWxpY2U6eA=="}],
    ids=["none", "empty", "unknown", "basic"],
)
@pytest.mark.parametrize("twin", TWINS)
def test_every_protected_operation_needs_a_known_bearer_token(records_lab, twin, headers):
    with httpx.Client(base_url=records_lab[twin].url, headers=headers, timeout=30) as anonymous:
        for path, operations in SPEC["paths"].items():
            for method, operation in operations.items():
                if operation.get("security") == []:
                    continue
                url = path.replace("{record_id}", UNKNOWN_ID)
                response = anonymous.request(method.upper(), url, json={})
                assert response.status_code == 401, (method, path, response.text)
                assert response.json() == {"error": "missing or invalid bearer token"}


def flask_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in (r for r in app.url_map.iter_rules() if not r.rule.startswith("/_lab/")):  # /_lab/: instrumentation
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def test_openapi_is_identical_on_both_twins_and_matches_the_routes(records_lab):
    documents = [httpx.get(f"{records_lab[twin].url}/openapi.json", timeout=30) for twin in TWINS]
    assert all(response.status_code == 200 for response in documents)
    assert documents[0].json() == documents[1].json() == SPEC
    assert SPEC["openapi"].startswith("3.1")

    documented = {(path, method) for path, operations in SPEC["paths"].items() for method in operations}
    for twin in TWINS:
        assert flask_operations(records_lab[twin].built.app) == documented, twin


def test_openapi_operations_parameters_and_links_are_consistent():
    operations = {
        operation["operationId"]: (path, operation)
        for path, methods in SPEC["paths"].items()
        for operation in methods.values()
    }
    assert len(operations) == sum(len(methods) for methods in SPEC["paths"].values())
    assert SPEC["security"] == [{"bearer": []}]
    assert SPEC["components"]["securitySchemes"]["bearer"] == {**SPEC["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    assert operations["CreateUser"][1]["security"] == []

    for operation_id, (path, operation) in operations.items():
        templated = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == templated, operation_id
        assert all("example" in parameter and parameter["required"] for parameter in declared.values()), operation_id
        if operation.get("security") != []:
            assert "401" in operation["responses"], operation_id
        for status, response in operation["responses"].items():
            assert response["description"]
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            for name, link in response.get("links", {}).items():
                assert link["operationId"] in operations, name
                target_path, target = operations[link["operationId"]]
                target_params = {p["name"] for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= target_params, name
                if "requestBody" in link:
                    properties = resolve(target["requestBody"]["content"]["application/json"]["schema"])["properties"]
                    assert set(link["requestBody"]) <= set(properties), name

    created_links = {link["operationId"] for link in operations["CreateRecord"][1]["responses"]["201"]["links"].values()}
    assert created_links == {"GetRecord", "IncrementRecord", "TransferBetweenRecords"}


def resolve(schema: dict) -> dict:
    return SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def test_openapi_bounds_match_the_hardened_validation():
    schemas = SPEC["components"]["schemas"]
    new_record = schemas["NewRecord"]
    assert new_record["additionalProperties"] is False
    assert set(new_record["required"]) == {name for name, field in hardened.NewRecord.model_fields.items() if field.is_required()}
    assert set(new_record["properties"]) == set(hardened.NewRecord.model_fields)
    assert new_record["properties"]["balance"]["maximum"] == hardened.MAX_BALANCE
    assert new_record["properties"]["version"]["maximum"] == hardened.MAX_VERSION
    assert schemas["Increment"]["properties"]["by"]["maximum"] == hardened.MAX_INCREMENT
    assert set(schemas["Transfer"]["properties"]) == set(hardened.Transfer.model_fields)
    assert schemas["Transfer"]["properties"]["amount"]["maximum"] == hardened.MAX_BALANCE
    assert str(hardened.MAX_DATA_BYTES // 1024) in new_record["properties"]["data"]["description"]


@pytest.mark.parametrize("twin", TWINS)
def test_registration_keeps_emails_unique_under_concurrency(records_lab, twin):
    """Registration is shared code, not a planted failure: both twins must refuse a duplicate email."""
    email = f"dup-{uuid.uuid4().hex[:8]}@lab.example"
    url = records_lab[twin].url

    def register(_):
        return httpx.post(f"{url}/users", json={"email": email, "name": "Dup"}, timeout=30).status_code

    statuses = burst(12, register)
    assert sorted(statuses) == [201] + [409] * 11, statuses
