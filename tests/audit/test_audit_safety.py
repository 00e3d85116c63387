"""The audit never writes, never hangs on a locked table, never prints a password, and reports what it could not
read instead of failing: on a real PostgreSQL with roles, privileges, locks and tables dropped mid-audit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from audit_postgres import start_server, wait_until
from interrupt_support import takes_ctrl_c
from audit_seeds import DAMAGE, LOOSE_SCHEMA
from plumbline.audit import Audit, AuditOptions
from plumbline.audit.connection import APPLICATION_NAME, Database, Target
from plumbline.findings import FindingsDocument

pytestmark = pytest.mark.timeout(120)

PLUMBLINE = Path(sys.executable).with_name("plumbline")
READER_PASSWORD = "reader-Secret-42"
# Every statement a read-only audit may send: session settings, read-only transactions, queries.
READ = re.compile(r"^(SET (default_transaction_read_only = on|statement_timeout = '\d+ms'|TRANSACTION READ ONLY)$|"
                  r"(SELECT|WITH|BEGIN|COMMIT|ROLLBACK)\b)")
WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|LOCK|CALL|DO)\b|"
                   r"\bFOR (UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b|nextval|setval|pg_advisory", re.I)


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def shop(server) -> str:
    """The damaged shop, and a role `reader` that may only SELECT from it."""
    url = server.create_database("shop", LOOSE_SCHEMA + DAMAGE)
    with server.admin("shop") as connection:
        connection.execute(f"CREATE ROLE reader LOGIN PASSWORD '{READER_PASSWORD}'")
        connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    return url


def reader_url(server, database: str = "shop") -> str:
    return server.url(database, user="reader", password=READER_PASSWORD)


def plumbline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLUMBLINE), "audit", *args], capture_output=True, text=True, timeout=60)


def places(document: FindingsDocument) -> set[tuple[str, str, str | None]]:
    return {(f.rule_id, f.location.table, f.location.column) for f in document.findings}


def test_a_role_that_may_only_read_audits_everything_and_the_server_saw_only_reads(server, shop):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the role itself would refuse any write
        with psycopg.connect(reader_url(server), autocommit=True) as connection:
            connection.execute("UPDATE users SET balance = 0")
    as_reader = Audit(AuditOptions(dsn=reader_url(server))).run()
    as_owner = Audit(AuditOptions(dsn=shop)).run()
    assert as_reader.errors == ()
    assert places(as_reader) == places(as_owner) and {"PL210", "PL211", "PL212", "PL213"} <= {
        rule for rule, _, _ in places(as_reader)}
    statements = server.statements_of(APPLICATION_NAME, "reader")
    assert len(statements) > 10
    assert [s for s in statements if not READ.match(s) or WRITE.search(s)] == []
    begun = [position for position, statement in enumerate(statements) if statement == "BEGIN"]
    assert begun and all(statements[position + 1] == "SET TRANSACTION READ ONLY" for position in begun)


def test_the_session_refuses_writes_even_for_a_role_that_may_write(server, shop):
    database = Database.connect(Target.parse(shop), statement_timeout=5)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            with database.reading():
                database.rows("INSERT INTO users (email, username, balance) VALUES ('x@y.z', 'x', 1) RETURNING id")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # outside the audit's transactions too
            database.rows("CREATE TABLE written_by_audit (id INT) ")
    finally:
        database.close()
    with server.admin("shop") as connection:
        assert connection.execute("SELECT count(*) FROM users WHERE email = 'x@y.z'").fetchone()[0] == 0
        assert connection.execute("SELECT to_regclass('written_by_audit')").fetchone()[0] is None


def test_a_table_the_role_may_not_read_is_reported_and_every_other_one_audited(server, shop):
    server.create_database("partial", LOOSE_SCHEMA + DAMAGE)
    with server.admin("partial") as connection:
        connection.execute("REVOKE SELECT ON api_clients FROM reader")
        connection.execute("GRANT SELECT ON users, products, orders, ledger TO reader")
    document = Audit(AuditOptions(dsn=reader_url(server, "partial"))).run()
    assert [(e.target, e.kind) for e in document.errors] == [("api_clients", "skipped")]
    assert "may not SELECT" in document.errors[0].message
    found = places(document)
    assert ("PL201", "api_clients", "api_key") in found  # its schema, from pg_catalog, is still audited
    assert ("PL210", "api_clients", "api_key") not in found
    assert {("PL210", "users", "email"), ("PL213", "orders", "user_id")} <= found


def test_a_locked_table_costs_a_statement_timeout_and_only_the_queries_that_need_it(server, shop):
    with server.admin("shop") as locker:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        document = Audit(AuditOptions(dsn=shop, statement_timeout=0.5)).run()
        locker.execute("ROLLBACK")
    # users is locked; the orphans of orders and ledger are looked for in users
    assert {error.target for error in document.errors} == {"users", "orders", "ledger"}
    assert all("statement timeout (0.5 s)" in error.message for error in document.errors)
    found = places(document)
    assert ("PL212", "products", "stock") in found and ("PL204", "orders", "user_id") in found
    assert not {place for place in found if place[1] == "users"}  # its definition was not readable either
    assert ("PL211", "orders", "user_id") in found  # read before the query that met the lock
    assert ("PL213", "orders", "user_id") not in found and ("PL213", "ledger", "user_id") not in found


def test_a_table_dropped_during_the_audit_is_reported_and_the_audit_goes_on(server):
    url = server.create_database("shrinking", LOOSE_SCHEMA + DAMAGE)

    def drop_products(name: str, position: int, total: int) -> None:
        if name == "products":
            with server.admin("shrinking") as connection:
                connection.execute("DROP TABLE products CASCADE")

    document = Audit(AuditOptions(dsn=url)).run(on_table=drop_products)
    assert [(e.target, e.kind) for e in document.errors] == [("products", "skipped")]
    assert "dropped" in document.errors[0].message
    assert ("PL212", "users", "balance") in places(document)


def test_cockroachdb_urls_are_accepted_and_the_backend_is_told_by_the_server(server, shop):
    result = plumbline("--dsn", shop.replace("postgresql://", "cockroachdb://"), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "PL210" in {f.rule_id for f in FindingsDocument.from_json(result.stdout).findings}
    assert "on postgres" in result.stderr  # the server said PostgreSQL: fixes are written for it


def test_the_url_can_come_from_the_environment_out_of_the_process_list(server, shop):
    result = subprocess.run([str(PLUMBLINE), "audit", "--format", "json", "--select", "PL205"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PLUMBLINE_AUDIT_DSN": shop})
    assert result.returncode == 1, result.stderr
    assert {f.rule_id for f in FindingsDocument.from_json(result.stdout).findings} == {"PL205"}


@pytest.mark.parametrize("case", ["wrong password", "unknown database", "no such schema", "refused"])
def test_an_unusable_database_is_one_line_exit_2_and_no_password(server, shop, case):
    url = {"wrong password": reader_url(server).replace(READER_PASSWORD, "Wrong-Secret-99"),
           "unknown database": reader_url(server, "no_such_db"),
           "no such schema": reader_url(server),
           "refused": f"postgresql://reader:{READER_PASSWORD}@127.0.0.1:1/shop"}[case]
    expected = {"wrong password": "password authentication failed", "unknown database": "does not exist",
                "no such schema": "nothing to audit", "refused": "cannot connect"}[case]
    result = plumbline("--dsn", url, *(["--schema", "billing"] if case == "no such schema" else []))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert [line for line in output.splitlines() if line.strip()] == [output.strip().splitlines()[0]]
    assert output.startswith("error: ") and expected in output
    assert READER_PASSWORD not in output and "Wrong-Secret-99" not in output and "***" in output
    assert "Traceback" not in output


def test_an_interrupted_audit_writes_what_it_found_and_exits_130(server, shop):
    with server.admin("shop") as locker:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE")  # api_clients is read, then the audit waits
        running = subprocess.Popen([str(PLUMBLINE), "audit", "--dsn", shop, "--format", "json",
                                    "--statement-timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, preexec_fn=takes_ctrl_c)
        with server.admin("shop") as watcher:
            wait_until(lambda: watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
                (APPLICATION_NAME,)).fetchone()[0] == 1, timeout=30)
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=30)
        locker.execute("ROLLBACK")
    assert running.returncode == 130, stderr
    document = FindingsDocument.from_json(stdout)
    assert [error.kind for error in document.errors] == ["interrupted"]
    assert "***" in document.errors[0].target and server.password not in stdout + stderr
    found = places(document)
    assert ("PL210", "api_clients", "api_key") in found and ("PL205", "ledger", None) in found
    assert not {place for place in found if place[1] == "ledger" and place[0] >= "PL210"}


def test_hostile_table_and_schema_names_are_quoted_and_printed_harmlessly(server):
    table = 'users"; DROP TABLE victims; --\x1b[2J'
    quoted = '"' + table.replace('"', '""') + '"'
    url = server.create_database("hostile_names", f"""
        CREATE TABLE victims (id INT PRIMARY KEY);
        CREATE SCHEMA "Billing Dept";
        CREATE TABLE "Billing Dept".{quoted} (id SERIAL PRIMARY KEY, email TEXT NOT NULL);
        INSERT INTO "Billing Dept".{quoted} (email) VALUES ('a@b.c'), ('a@b.c');""")
    result = plumbline("--dsn", url)
    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stdout and "\\x1b[2J.email: PL210 [high]" in result.stdout
    assert 'Billing Dept.users"; DROP TABLE victims; --' in result.stdout
    with server.admin("hostile_names") as connection:
        assert connection.execute("SELECT to_regclass('victims')").fetchone()[0] == "victims"
