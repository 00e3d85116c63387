"""The bank twins on the session's embedded PostgreSQL (SERIALIZABLE): every planted failure shows on the
vulnerable twin and is absent from the hardened one, money is conserved under load, invalid input is a 4xx,
and both twins serve one accurate OpenAPI document."""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter

import httpx
import psycopg
import pytest

from plumbline.lab.bank import scenarios as bank_scenarios
from plumbline.lab.bank.openapi import SPEC
from plumbline.lab.faults import FAULT_HEADER
from plumbline.lab.scenarios import SCENARIOS, burst, reproduce

BANK_SCENARIOS = [item for item in SCENARIOS if item.app == "bank"]
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def db(twin) -> psycopg.Connection:
    return psycopg.connect(twin.built.internals["db_url"], autocommit=True)


def scalar(twin, query: str, *params):
    with db(twin) as conn:
        return conn.execute(query, params).fetchone()[0]


def open_account(client: httpx.Client, balance: int) -> str:
    response = client.post("/accounts", json={"balance": balance})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_every_failure_class_has_a_scenario():
    assert len(BANK_SCENARIOS) == 9
    assert len({item.name for item in BANK_SCENARIOS}) == 9
    assert {item.name for item in BANK_SCENARIOS if item.race} == {
        "concurrent-withdrawals",
        "concurrent-registrations",
        "concurrent-session-refresh",
    }


@pytest.mark.parametrize("item", BANK_SCENARIOS, ids=lambda item: item.name)
def test_scenario_breaks_on_vulnerable_twin(bank_lab, item):
    outcome, tries = reproduce(item, bank_lab["vulnerable"])
    assert not outcome.held, f"{item.name} held on the vulnerable twin after {tries} tries: {outcome.observed}"
    assert outcome.observed


@pytest.mark.parametrize("item", BANK_SCENARIOS, ids=lambda item: item.name)
def test_scenario_holds_on_hardened_twin(bank_lab, item):
    # reproduce() runs a race several times and stops at the first break: all runs must hold.
    outcome, tries = reproduce(item, bank_lab["hardened"], attempts=5)
    assert outcome.held, f"{item.name} broke on the hardened twin (run {tries}): {outcome.observed} {outcome.evidence}"


def test_hardened_withdrawals_all_finish_and_add_up(bank_lab):
    outcome = bank_scenarios.concurrent_withdrawals(bank_lab["hardened"])
    evidence = outcome.evidence
    # 1000 allows exactly ten withdrawals of 100; every other request must be a clean 409, none a 500.
    assert evidence["successes"] == 10, outcome.observed
    assert evidence["final"] == evidence["api_balance"] == 0, outcome.observed
    assert evidence["statuses"] == {"200": 10, "409": 40}, outcome.observed


def test_vulnerable_withdrawals_fail_in_a_named_way(bank_lab):
    item = next(item for item in BANK_SCENARIOS if item.name == "concurrent-withdrawals")
    outcome, tries = reproduce(item, bank_lab["vulnerable"])
    evidence = outcome.evidence
    failures = []
    if evidence["lost_update"]:
        failures.append(f"lost update (balance {evidence['final']}, expected {evidence['expected']})")
    if evidence["overdraft"]:
        failures.append(f"overdraft (balance {evidence['final']})")
    if evidence["serialization_errors"]:
        failures.append(f"{evidence['serialization_errors']} x 5xx with a serialization error (40001, not retried)")
    report = "; ".join(failures) or "none"
    print(f"vulnerable concurrent withdrawals, run {tries}: {report} | {outcome.observed}")
    assert failures, f"expected a lost update, an overdraft or an unretried 40001; saw: {outcome.observed}"
    assert not outcome.held
    # Every 5xx of the vulnerable twin leaks the exception text: that is its planted error leak.
    assert all(re.match(r"^[A-Za-z]\w*: \S", sample) for sample in evidence["server_error_samples"]), evidence


def test_hardened_money_is_conserved_under_load(bank_lab):
    twin = bank_lab["hardened"]
    rng = random.Random(20240611)
    opening = 10_000
    operations = 240
    with twin.client("alice") as alice:
        accounts = [open_account(alice, opening) for _ in range(4)]
        plan = []
        for _ in range(operations):
            if rng.random() < 0.5:
                plan.append(("withdraw", rng.choice(accounts), None, rng.randint(1, 700)))
            else:
                source, target = rng.sample(accounts, 2)
                plan.append(("transfer", source, target, rng.randint(1, 1500)))

        def run(index: int) -> httpx.Response:
            kind, source, target, amount = plan[index]
            if kind == "withdraw":
                return alice.post(f"/accounts/{source}/withdraw", json={"amount": amount})
            return alice.post("/transfers", json={"from_account": source, "to_account": target, "amount": amount})

        results = burst(operations, run, threads=24)
        api_balances = {account: alice.get(f"/accounts/{account}").json()["balance"] for account in accounts}

    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors[:3]
    statuses = Counter(result.status_code for result in results)
    assert set(statuses) <= {200, 409}, statuses
    assert statuses[200] > 0 and statuses[409] > 0, statuses
    withdrawn = sum(
        amount for (kind, _, _, amount), result in zip(plan, results) if kind == "withdraw" and result.status_code == 200
    )
    with db(twin) as conn:
        stored = dict(conn.execute("SELECT id::TEXT, balance FROM accounts WHERE id = ANY(%s)", (accounts,)).fetchall())
    assert stored == api_balances
    assert all(balance >= 0 for balance in stored.values()), stored
    assert sum(stored.values()) == 4 * opening - withdrawn, (stored, withdrawn, statuses)
    for result in results:
        body = result.json()
        if result.status_code == 200:
            balances = [body["balance"]] if "balance" in body else [body["from_account"]["balance"]]
            assert all(balance >= 0 for balance in balances), body


def test_fault_is_a_500_that_leaks_only_on_the_vulnerable_twin(bank_lab):
    bodies = {}
    for name, twin in bank_lab.items():
        with twin.client("alice") as alice:
            source, target = open_account(alice, 500), open_account(alice, 0)
            response = alice.post(
                "/transfers",
                json={"from_account": source, "to_account": target, "amount": 100},
                headers={FAULT_HEADER: "transfer.after_debit"},
            )
        assert response.status_code == 500
        bodies[name] = response.json()
    assert bodies["vulnerable"]["error"].startswith("InjectedFault: ")
    assert bodies["hardened"] == {"error": "internal error"}


def test_hardened_transfer_hides_other_users_balance(bank_lab):
    twin = bank_lab["hardened"]
    with twin.client("alice") as alice, twin.client("bob") as bob:
        mine, other = open_account(alice, 1000), open_account(bob, 50)
        response = alice.post("/transfers", json={"from_account": mine, "to_account": other, "amount": 100})
        own = alice.post("/transfers", json={"from_account": mine, "to_account": open_account(alice, 0), "amount": 1})
        assert bob.get(f"/accounts/{other}").json()["balance"] == 150
    assert response.status_code == 200
    assert response.json() == {"from_account": {"id": mine, "balance": 900}, "to_account": {"id": other, "balance": None}}
    assert own.json()["to_account"]["balance"] == 1


PROTECTED = [
    ("GET", "/me"),
    ("GET", "/users/search?email=a@b.c"),
    ("POST", "/accounts"),
    ("GET", f"/accounts/{uuid.UUID(int=1)}"),
    ("POST", f"/accounts/{uuid.UUID(int=1)}/withdraw"),
    ("POST", "/transfers"),
    ("POST", "/orders"),
    ("GET", f"/orders/{uuid.UUID(int=1)}"),
    ("PUT", "/sessions"),
    ("GET", "/sessions"),
]


@pytest.mark.parametrize("twin_name", ["vulnerable", "hardened"])
def test_every_protected_route_needs_a_known_token(bank_lab, twin_name):
    twin = bank_lab[twin_name]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWxpY2U6cHc="}):
        with httpx.Client(base_url=twin.url, headers=headers, timeout=60) as client:
            for method, path in PROTECTED:
                response = client.request(method, path, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert isinstance(response.json()["error"], str)


def test_hardened_rejects_invalid_input(bank_lab):
    twin = bank_lab["hardened"]
    with twin.client("alice") as alice, twin.client("bob") as bob:
        me = alice.get("/me").json()
        account, second = open_account(alice, 1000), open_account(alice, 0)
        bobs = open_account(bob, 700)
        order = alice.post("/orders", json={"amount": 5, "note": "kept"}).json()["id"]
        session = alice.put("/sessions", json={"device": "laptop"}).json()

        users_before = scalar(twin, "SELECT count(*) FROM users")
        accounts_before = scalar(twin, "SELECT count(*) FROM accounts WHERE owner_id = %s", me["id"])
        orders_before = scalar(twin, "SELECT count(*) FROM orders")
        sessions_before = alice.get("/sessions").json()

        missing = str(uuid.uuid4())
        bad_json = {"content": b'{"amount": ', "headers": {"Content-Type": "application/json"}}
        not_json = {"content": b"amount=5", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
        json_null = {"content": b"null", "headers": {"Content-Type": "application/json"}}
        user = {"email": f"new-{uuid.uuid4().hex[:8]}@lab.example", "name": "New"}
        transfer = {"from_account": account, "to_account": second, "amount": 10}
        withdraw = f"/accounts/{account}/withdraw"
        # (client, method, path, request kwargs, expected status)
        cases = [
            (None, "POST", "/users", bad_json, 400),
            (None, "POST", "/users", not_json, 415),
            (None, "POST", "/users", json_null, 422),
            (None, "POST", "/users", {"json": []}, 422),
            (None, "POST", "/users", {"json": {"email": user["email"]}}, 422),
            (None, "POST", "/users", {"json": {**user, "email": 5}}, 422),
            (None, "POST", "/users", {"json": {**user, "email": "no-at-sign"}}, 422),
            (None, "POST", "/users", {"json": {**user, "email": "a" * 250 + "@lab.example"}}, 422),
            (None, "POST", "/users", {"json": {**user, "name": ""}}, 422),
            (None, "POST", "/users", {"json": {**user, "name": "n" * 101}}, 422),
            (None, "POST", "/users", {"json": {**user, "id": str(uuid.uuid4())}}, 422),
            (None, "POST", "/users", {"json": {**user, "name": "Nul\x00"}}, 422),
            (None, "POST", "/users", {"json": {**user, "email": "nul\x00@lab.example"}}, 422),
            (None, "POST", "/users", {"json": {"email": me["email"], "name": "Again"}}, 409),
            (alice, "GET", "/users/search", {}, 400),
            (alice, "GET", "/users/search?email=", {}, 400),
            (alice, "GET", "/users/search", {"params": {"email": "e" * 255}}, 400),
            (alice, "GET", "/users/search", {"params": {"email": "a\x00@b.c"}}, 400),
            (alice, "POST", "/accounts", bad_json, 400),
            (alice, "POST", "/accounts", not_json, 415),
            (alice, "POST", "/accounts", {"json": {}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": -1}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": 10**12 + 1}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": "100"}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": 1.5}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": True}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": None}}, 422),
            (alice, "POST", "/accounts", {"json": {"balance": 1, "owner_id": me["id"]}}, 422),
            (alice, "GET", "/accounts/not-a-uuid", {}, 404),
            (alice, "GET", "/accounts/1' OR '1'='1", {}, 404),
            (alice, "GET", f"/accounts/{missing}", {}, 404),
            (alice, "GET", f"/accounts/{bobs}", {}, 404),
            (alice, "POST", "/accounts/not-a-uuid/withdraw", {"json": {"amount": 1}}, 404),
            (alice, "POST", f"/accounts/{missing}/withdraw", {"json": {"amount": 1}}, 404),
            (alice, "POST", f"/accounts/{bobs}/withdraw", {"json": {"amount": 1}}, 404),
            (alice, "POST", withdraw, bad_json, 400),
            (alice, "POST", withdraw, not_json, 415),
            (alice, "POST", withdraw, json_null, 422),
            (alice, "POST", withdraw, {"json": {}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": 0}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": -500}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": 10**12 + 1}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": "10"}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": 10.0}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": True}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": None}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": 1, "balance": 10**9}}, 422),
            (alice, "POST", withdraw, {"json": {"amount": 1001}}, 409),
            (alice, "POST", "/transfers", bad_json, 400),
            (alice, "POST", "/transfers", not_json, 415),
            (alice, "POST", "/transfers", {"json": {"amount": 10}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "from_account": "not-a-uuid"}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "to_account": 12}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "amount": 0}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "amount": -5}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "amount": "5"}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "amount": 10**12 + 1}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "owner_id": me["id"]}}, 422),
            (alice, "POST", "/transfers", {"json": {**transfer, "to_account": account}}, 400),
            (alice, "POST", "/transfers", {"json": {**transfer, "from_account": missing}}, 404),
            (alice, "POST", "/transfers", {"json": {**transfer, "to_account": missing}}, 404),
            (alice, "POST", "/transfers", {"json": {**transfer, "from_account": bobs, "to_account": account}}, 404),
            (alice, "POST", "/transfers", {"json": {**transfer, "amount": 1001}}, 409),
            (alice, "POST", "/orders", bad_json, 400),
            (alice, "POST", "/orders", not_json, 415),
            (alice, "POST", "/orders", {"json": {}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": None}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": -5}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 0}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": "12"}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 10**12 + 1}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 5, "note": "x" * 501}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 5, "note": 7}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 5, "note": "nul\x00"}}, 422),
            (alice, "POST", "/orders", {"json": {"amount": 5, "user_id": me["id"]}}, 422),
            (alice, "GET", "/orders/not-a-uuid", {}, 404),
            (alice, "GET", f"/orders/{missing}", {}, 404),
            (bob, "GET", f"/orders/{order}", {}, 404),
            (alice, "PUT", "/sessions", bad_json, 400),
            (alice, "PUT", "/sessions", not_json, 415),
            (alice, "PUT", "/sessions", {"json": {}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": ""}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": "d" * 101}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": 5}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": "nul\x00"}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": None}}, 422),
            (alice, "PUT", "/sessions", {"json": {"device": "laptop", "refreshes": 100}}, 422),
        ]
        anonymous = twin.client()
        mismatches = []
        for client, method, path, kwargs, expected in cases:
            response = (client or anonymous).request(method, path, **kwargs)
            body = response.json()
            if response.status_code != expected or not isinstance(body, dict) or not isinstance(body.get("error"), str):
                mismatches.append((method, path, kwargs, expected, response.status_code, response.text[:200]))
                continue
            operation = SPEC["paths"][template_of(path)][method.lower()]
            assert str(expected) in operation["responses"], f"{method} {path}: {expected} is not documented"
        anonymous.close()
        assert not mismatches, "\n".join(map(repr, mismatches))

        assert scalar(twin, "SELECT count(*) FROM users") == users_before
        assert scalar(twin, "SELECT count(*) FROM accounts WHERE owner_id = %s", me["id"]) == accounts_before
        assert scalar(twin, "SELECT count(*) FROM orders") == orders_before
        assert alice.get("/sessions").json() == sessions_before
        assert [s for s in sessions_before if s["device"] == "laptop"] == [session]
        assert alice.get(f"/accounts/{account}").json()["balance"] == 1000
        assert alice.get(f"/accounts/{second}").json()["balance"] == 0
        assert bob.get(f"/accounts/{bobs}").json()["balance"] == 700


def template_of(path: str) -> str:
    """The OpenAPI path template a concrete request path is served by."""
    path = path.split("?", 1)[0]
    if path in SPEC["paths"]:
        return path
    for template in SPEC["paths"]:
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            return template
    raise AssertionError(f"no OpenAPI path serves {path}")


def flask_paths(app) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/_lab/"):  # /_lab/: instrumentation, not API
            continue
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        paths.setdefault(template, set()).update(rule.methods & HTTP_METHODS)
    return paths


def test_openapi_is_identical_and_matches_the_routes(bank_lab):
    documents = {name: twin.client().get("/openapi.json").json() for name, twin in bank_lab.items()}
    assert documents["vulnerable"] == documents["hardened"] == SPEC
    assert SPEC["openapi"].startswith("3.1")
    spec_paths = {path: {method.upper() for method in item} for path, item in SPEC["paths"].items()}
    for name, twin in bank_lab.items():
        assert flask_paths(twin.built.app) == spec_paths, name


def test_openapi_operations_parameters_and_links_are_consistent():
    operations = {
        operation["operationId"]: (path, method, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
    }
    assert len(operations) == sum(len(item) for item in SPEC["paths"].values()), "duplicate operationId"
    assert SPEC["security"] == [{"bearerAuth": []}]
    assert SPEC["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert operations["CreateUser"][2]["security"] == []
    for operation_id, (path, method, operation) in operations.items():
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), operation_id
        for parameter in operation.get("parameters", []):
            assert "example" in parameter, (operation_id, parameter["name"])
        if operation.get("security") != []:
            assert "401" in operation["responses"], operation_id
        for status, response in operation["responses"].items():
            assert "description" in response, (operation_id, status)
            for link_name, link in response.get("links", {}).items():
                assert link["operationId"] in operations, (operation_id, link_name)
                target_path, _, target = operations[link["operationId"]]
                target_params = {p["name"] for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= target_params, (operation_id, link_name)
                if "requestBody" in link:
                    schema_name = target["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
                    properties = SPEC["components"]["schemas"][schema_name]["properties"]
                    assert set(link["requestBody"]) <= set(properties), (operation_id, link_name)
    links = SPEC["paths"]["/accounts"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {"GetAccount", "Withdraw", "Transfer"}
    assert SPEC["paths"]["/orders"]["post"]["responses"]["201"]["links"]["GetOrder"]["operationId"] == "GetOrder"
