"""One workload per planted failure of the bank app, each with the invariant the hardened twin keeps.

Every scenario drives the API of a running twin, re-reads the state (through the API, and
through the twin's database where the failure is behind the API) and computes whether the
invariant held. The same function runs against both twins.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
import psycopg

from plumbline.lab.faults import FAULT_HEADER
from plumbline.lab.scenarios import Outcome, burst, scenario
from plumbline.lab.twin import RunningTwin

APP = "bank"
WITHDRAWALS = 50
WITHDRAWAL_THREADS = 25
OPENING_BALANCE = 1000
WITHDRAWAL = 100
REGISTRATIONS = 20
REFRESHES = 20


def _db(twin: RunningTwin) -> psycopg.Connection:
    """A connection to the twin's own database, for looking behind the API."""
    return psycopg.connect(twin.built.internals["db_url"], autocommit=True, connect_timeout=10)


def _open_account(client: httpx.Client, balance: int) -> str:
    response = client.post("/accounts", json={"balance": balance})
    if response.status_code != 201:
        raise RuntimeError(f"opening an account failed: {response.status_code} {response.text[:200]}")
    return response.json()["id"]


def _balance(twin: RunningTwin, account_id: str) -> int:
    """The balance as stored, read from the database so that no API behaviour can hide it."""
    with _db(twin) as conn:
        return conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]


def _count(twin: RunningTwin, query: str, params: tuple[Any, ...] = ()) -> int:
    with _db(twin) as conn:
        return conn.execute(query, params).fetchone()[0]


def _warm_up(client: httpx.Client, connections: int) -> None:
    """Open `connections` keep-alive connections first, so a burst races in the server, not in TCP handshakes."""
    burst(connections, lambda _: client.get("/openapi.json"))


def _status(result: httpx.Response | BaseException) -> int | str:
    return result.status_code if isinstance(result, httpx.Response) else type(result).__name__


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _mentions_serialization(response: httpx.Response) -> bool:
    text = _error_text(response).lower()
    return "40001" in text or "could not serialize" in text or "serializ" in text


def _counts(statuses: list[int | str]) -> str:
    return ", ".join(f"{count} x {status}" for status, count in sorted(Counter(statuses).items(), key=str))


@scenario(
    app=APP,
    name="concurrent-withdrawals",
    failure="lost update / missing 40001 retry",
    invariant="final balance == opening - 100 x successful withdrawals, never negative, no 5xx",
    race=True,
)
def concurrent_withdrawals(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice:
        account = _open_account(alice, OPENING_BALANCE)
        _warm_up(alice, WITHDRAWAL_THREADS)
        results = burst(
            WITHDRAWALS,
            lambda _: alice.post(f"/accounts/{account}/withdraw", json={"amount": WITHDRAWAL}),
            threads=WITHDRAWAL_THREADS,
        )
        api_balance = alice.get(f"/accounts/{account}").json()["balance"]
    final = _balance(twin, account)
    statuses = [_status(result) for result in results]
    successes = statuses.count(200)
    server_errors = [r for r in results if isinstance(r, httpx.Response) and r.status_code >= 500]
    serialization_errors = sum(1 for r in server_errors if _mentions_serialization(r))
    transport_errors = sum(1 for status in statuses if isinstance(status, str))
    expected = OPENING_BALANCE - WITHDRAWAL * successes
    lost_update = final != expected
    overdraft = final < 0
    held = not lost_update and not overdraft and not server_errors and not transport_errors
    observed = (
        f"balance {OPENING_BALANCE} -> {final} after {WITHDRAWALS} concurrent withdrawals of {WITHDRAWAL}: "
        f"{successes} ok (expected balance {expected}); {_counts([s for s in statuses if s != 200]) or 'no failures'}"
    )
    if server_errors:
        observed += f"; {serialization_errors} of {len(server_errors)} x 5xx say 40001/could not serialize"
    return Outcome(
        held=held,
        observed=observed,
        evidence={
            "account_id": account,
            "opening": OPENING_BALANCE,
            "final": final,
            "api_balance": api_balance,
            "expected": expected,
            "successes": successes,
            "statuses": dict(Counter(map(str, statuses))),
            "lost_update": lost_update,
            "overdraft": overdraft,
            "server_errors": len(server_errors),
            "serialization_errors": serialization_errors,
            "server_error_samples": sorted({_error_text(r)[:160] for r in server_errors})[:3],
        },
    )


@scenario(
    app=APP,
    name="concurrent-registrations",
    failure="check-then-insert",
    invariant="one email, one user: exactly one 201 and one row",
    race=True,
)
def concurrent_registrations(twin: RunningTwin) -> Outcome:
    email = f"race-{uuid.uuid4().hex[:12]}@lab.example"
    with twin.client() as anonymous:
        _warm_up(anonymous, REGISTRATIONS)
        results = burst(REGISTRATIONS, lambda _: anonymous.post("/users", json={"email": email, "name": "Racer"}))
    with _db(twin) as conn:
        rows = conn.execute("SELECT count(*) FROM users WHERE email = %s", (email,)).fetchone()[0]
    statuses = [_status(result) for result in results]
    created = statuses.count(201)
    held = created == 1 and rows == 1
    return Outcome(
        held=held,
        observed=f"{REGISTRATIONS} concurrent registrations of one email: {_counts(statuses)}; {rows} user rows",
        evidence={"email": email, "created": created, "rows": rows, "statuses": dict(Counter(map(str, statuses)))},
    )


@scenario(
    app=APP,
    name="cross-user-read",
    failure="BOLA/IDOR",
    invariant="bob receives none of alice's account data",
)
def cross_user_read(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice, twin.client("bob") as bob:
        account = _open_account(alice, 4242)
        response = bob.get(f"/accounts/{account}")
    body = response.text
    leaked = account in body or "4242" in body
    held = not response.is_success and not leaked
    return Outcome(
        held=held,
        observed=f"bob GET alice's account: {response.status_code}"
        + (f", balance {response.json().get('balance')} disclosed" if response.is_success else ""),
        evidence={"account_id": account, "status": response.status_code, "body": body[:300]},
    )


@scenario(
    app=APP,
    name="cross-user-withdrawal",
    failure="BOLA/IDOR",
    invariant="bob cannot withdraw from alice's account; her balance is unchanged",
)
def cross_user_withdrawal(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice, twin.client("bob") as bob:
        account = _open_account(alice, OPENING_BALANCE)
        response = bob.post(f"/accounts/{account}/withdraw", json={"amount": 300})
    final = _balance(twin, account)
    held = 400 <= response.status_code < 500 and final == OPENING_BALANCE
    return Outcome(
        held=held,
        observed=f"bob withdraws 300 from alice's account: {response.status_code}, balance {OPENING_BALANCE} -> {final}",
        evidence={"account_id": account, "status": response.status_code, "final": final},
    )


@scenario(
    app=APP,
    name="negative-withdrawal",
    failure="unvalidated input",
    invariant="a negative amount is refused (4xx) and the balance is unchanged",
)
def negative_withdrawal(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice:
        account = _open_account(alice, OPENING_BALANCE)
        response = alice.post(f"/accounts/{account}/withdraw", json={"amount": -500})
    final = _balance(twin, account)
    held = 400 <= response.status_code < 500 and final == OPENING_BALANCE
    return Outcome(
        held=held,
        observed=f"withdraw -500: {response.status_code}, balance {OPENING_BALANCE} -> {final}",
        evidence={"account_id": account, "status": response.status_code, "final": final},
    )


INJECTIONS = ("' OR '1'='1", "nobody@lab.example' OR email LIKE '%")


@scenario(
    app=APP,
    name="search-sql-injection",
    failure="SQL injection",
    invariant="search returns only users whose email equals the query exactly",
)
def search_sql_injection(twin: RunningTwin) -> Outcome:
    leaks: dict[str, int] = {}
    statuses: dict[str, int] = {}
    with twin.client("bob") as bob, _db(twin) as conn:
        for payload in INJECTIONS:
            response = bob.get("/users/search", params={"email": payload})
            statuses[payload] = response.status_code
            exact = {str(row[0]) for row in conn.execute("SELECT id FROM users WHERE email = %s", (payload,))}
            returned = response.json() if response.is_success else []
            leaks[payload] = sum(1 for user in returned if user.get("id") not in exact)
    total_users = _count(twin, "SELECT count(*) FROM users")
    held = not any(leaks.values())
    observed = "; ".join(f"{payload!r}: {statuses[payload]}, {leaks[payload]} rows" for payload in INJECTIONS)
    return Outcome(
        held=held,
        observed=f"{observed} (exact match: 0, users in table: {total_users})",
        evidence={"leaked_rows": leaks, "statuses": statuses, "users_in_table": total_users},
    )


@scenario(
    app=APP,
    name="transfer-partial-write",
    failure="partial write",
    invariant="a crash between debit and credit loses no money: the total stays 1000",
)
def transfer_partial_write(twin: RunningTwin) -> Outcome:
    with twin.client("alice") as alice:
        source = _open_account(alice, OPENING_BALANCE)
        target = _open_account(alice, 0)
        response = alice.post(
            "/transfers",
            json={"from_account": source, "to_account": target, "amount": 300},
            headers={FAULT_HEADER: "transfer.after_debit"},
        )
    source_balance, target_balance = _balance(twin, source), _balance(twin, target)
    total = source_balance + target_balance
    held = total == OPENING_BALANCE
    return Outcome(
        held=held,
        observed=(
            f"transfer 300 with a crash after the debit: {response.status_code}; "
            f"balances {source_balance} + {target_balance} = {total} (was {OPENING_BALANCE})"
        ),
        evidence={"status": response.status_code, "from": source_balance, "to": target_balance, "total": total},
    )


@scenario(
    app=APP,
    name="concurrent-session-refresh",
    failure="check-then-insert",
    invariant="one session row per (user, device), refreshes == number of 200 responses",
    race=True,
)
def concurrent_session_refresh(twin: RunningTwin) -> Outcome:
    device = f"device-{uuid.uuid4().hex[:12]}"
    with twin.client("alice") as alice:
        _warm_up(alice, REFRESHES)
        results = burst(REFRESHES, lambda _: alice.put("/sessions", json={"device": device}))
        user_id = alice.get("/me").json()["id"]
    with _db(twin) as conn:
        rows = conn.execute(
            "SELECT refreshes FROM sessions WHERE user_id = %s AND device = %s", (user_id, device)
        ).fetchall()
    statuses = [_status(result) for result in results]
    ok = statuses.count(200)
    refreshes = [row[0] for row in rows]
    held = len(rows) == 1 and refreshes[0] == ok
    return Outcome(
        held=held,
        observed=(
            f"{REFRESHES} concurrent first refreshes of one device: {_counts(statuses)}; "
            f"{len(rows)} session rows, refreshes {refreshes}"
        ),
        evidence={"device": device, "rows": len(rows), "refreshes": refreshes, "ok": ok},
    )


@scenario(
    app=APP,
    name="invalid-orders",
    failure="mass assignment / unvalidated input",
    invariant="every invalid order is a 4xx with a JSON error; no stored order has a NULL/<=0 amount or another owner",
)
def invalid_orders(twin: RunningTwin) -> Outcome:
    marker = f"invalid-orders-{uuid.uuid4().hex[:12]}"
    with twin.client("alice") as alice, twin.client("bob") as bob:
        alice_id = alice.get("/me").json()["id"]
        bob_id = bob.get("/me").json()["id"]
        bodies = {
            "amount null": {"amount": None, "note": marker},
            "amount -5": {"amount": -5, "note": marker},
            'amount "12"': {"amount": "12", "note": marker},
            "amount missing": {"note": marker},
            "user_id of bob": {"amount": 100, "note": marker, "user_id": bob_id},
        }
        responses = {label: alice.post("/orders", json=body) for label, body in bodies.items()}
    refused = {
        label: 400 <= response.status_code < 500 and bool(_error_text(response))
        for label, response in responses.items()
    }
    with _db(twin) as conn:
        stored = conn.execute("SELECT user_id, amount FROM orders WHERE note = %s", (marker,)).fetchall()
    bad_rows = [
        {"user_id": None if user_id is None else str(user_id), "amount": amount}
        for user_id, amount in stored
        if amount is None or amount <= 0 or str(user_id) != alice_id
    ]
    held = all(refused.values()) and not bad_rows
    statuses = ", ".join(f"{label}: {response.status_code}" for label, response in responses.items())
    return Outcome(
        held=held,
        observed=f"{statuses}; {len(stored)} stored, {len(bad_rows)} with NULL/<=0 amount or another owner",
        evidence={
            "statuses": {label: response.status_code for label, response in responses.items()},
            "stored": len(stored),
            "bad_rows": bad_rows,
        },
    )
