"""What a sampled audit reads on a real PostgreSQL (audit/data.py's `Sample`): a table bigger than --sample-rows
gets a random sample (blocks for the checks of rows, a share of the values for duplicates) that finds damage spread
through it and at its end, a small one is read whole, and every finding says which.

Not flaky: the draws are deterministic (TABLESAMPLE ... REPEATABLE with the audit's fixed seed, hashtext on the
values; the estimates come from ANALYZE, which reads every block of tables this small, and autovacuum is off for
them), so every run gives the same result. The assertions would also hold for a seed drawn at random, with the odds
given beside each (and checked with 200 seeds while writing them).
"""

from __future__ import annotations

import pytest
from audit_postgres import start_server

from plumbline.audit import Audit, AuditOptions
from plumbline.audit.catalog import read_catalog
from plumbline.audit.connection import Database, Target
from plumbline.audit.data import prove
from plumbline.audit.schema import weaknesses
from plumbline.findings import FindingsDocument

pytestmark = pytest.mark.timeout(120)

ROWS = 100_000
BUDGET = 10_000  # --sample-rows of these tests: 10% of ROWS
USERS = 1_000
DATA_RULES = ("PL210", "PL211", "PL212", "PL213")

# `accounts`: damage spread evenly through all of it. Every 40th row of the second half repeats the e-mail of the row
# 50,000 before it (1,250 values held twice, the two copies never in one block), every 50th row has no owner, every
# 70th another an owner that is no user, every 60th a negative balance.
# `members`: the same kinds of damage, in the last 25% of its rows only (copies of an e-mail side by side).
# `customers`: 3,000 rows of `accounts`, 37 e-mails among them held twice, smaller than the budget. `profiles`:
# 12,000 damaged rows of `members`, never analysed.
BIG_TABLES = f"""
CREATE TABLE users (id BIGINT PRIMARY KEY) WITH (autovacuum_enabled = false);
INSERT INTO users SELECT n FROM generate_series(1, {USERS}) AS n;
CREATE TABLE accounts (id BIGINT PRIMARY KEY, email TEXT, user_id BIGINT, balance INTEGER NOT NULL)
  WITH (autovacuum_enabled = false);
INSERT INTO accounts
SELECT n, 'user' || CASE WHEN n > 50000 AND n % 40 = 0 THEN n - 50000 ELSE n END || '@example.com',
       CASE WHEN n % 50 = 0 THEN NULL WHEN n % 70 = 0 THEN {USERS} + n ELSE 1 + n % {USERS} END,
       CASE WHEN n % 60 = 0 THEN -n ELSE n END
FROM generate_series(1, {ROWS}) AS n;
CREATE TABLE members (LIKE accounts INCLUDING ALL) WITH (autovacuum_enabled = false);
INSERT INTO members
SELECT n, 'member' || CASE WHEN n > 75000 AND n % 25 = 0 THEN n - 1 ELSE n END || '@example.com',
       CASE WHEN n > 75000 AND n % 50 = 0 THEN NULL WHEN n > 75000 AND n % 70 = 0 THEN {USERS} + n
            ELSE 1 + n % {USERS} END,
       CASE WHEN n > 75000 AND n % 60 = 0 THEN -n ELSE n END
FROM generate_series(1, {ROWS}) AS n;
CREATE TABLE customers (LIKE accounts INCLUDING ALL) WITH (autovacuum_enabled = false);
INSERT INTO customers SELECT * FROM accounts WHERE id <= 1500 OR id BETWEEN 50001 AND 51500;
CREATE TABLE profiles (LIKE accounts INCLUDING ALL) WITH (autovacuum_enabled = false);
INSERT INTO profiles SELECT * FROM members WHERE id > 88000;
ANALYZE users, accounts, members, customers;
"""


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def big(server) -> str:
    return server.create_database("sampling", BIG_TABLES)


def data_findings(document: FindingsDocument) -> dict[tuple[str, str, str], dict]:
    """rule, table, column -> the data finding, as JSON."""
    return {(f.rule_id, f.location.table, f.location.column): f.model_dump(mode="json")
            for f in document.findings if f.rule_id in DATA_RULES}


@pytest.fixture(scope="module")
def sampled(big) -> dict:
    return data_findings(Audit(AuditOptions(dsn=big, sample_rows=BUDGET)).run())


@pytest.fixture(scope="module")
def exact(big) -> dict:
    return data_findings(Audit(AuditOptions(dsn=big, sample_rows=None)).run())


COUNTS = {"PL210": "duplicated_values", "PL211": "null_rows", "PL212": "negative_rows", "PL213": "orphan_rows"}
PLACES = [("PL210", "email"), ("PL211", "user_id"), ("PL212", "balance"), ("PL213", "user_id")]


def test_damage_spread_through_a_big_table_is_found_in_a_random_sample(sampled, exact):
    for rule, column in PLACES:
        found, whole = sampled[(rule, "accounts", column)], exact[(rule, "accounts", column)]["evidence"]
        evidence = found["evidence"]
        assert evidence["sampled"] is True and evidence["estimated_rows"] == ROWS
        assert whole["sampled"] is False and whole["sample"] == "all"
        assert "--exact reads every row" in found["message"]
        if rule == "PL210":
            continue  # a draw of values: the next test
        # A random share of the blocks, aimed under the budget so that the LIMIT does not cut it (a cut would
        # drop the end of the table): 4 standard deviations of its size, 5.86% of the blocks here.
        assert evidence["sample"] == "blocks" and "TABLESAMPLE SYSTEM;" in found["message"]
        assert 0.05 < evidence["sample_fraction"] < BUDGET / ROWS
        assert 0 < evidence["rows_examined"] < BUDGET
        # The rate of damage among the rows drawn is the table's, within half (2,000 NULLs, 1,667 negative
        # balances, 1,400 orphans spread evenly; over 200 seeds tried, the rates were within 23%).
        rate, true_rate = (evidence[COUNTS[rule]] / evidence["rows_examined"],
                           whole[COUNTS[rule]] / whole["rows_examined"])
        assert abs(rate - true_rate) < true_rate / 2, (rule, rate, true_rate)


def test_duplicates_are_counted_over_a_share_of_the_values_with_every_copy(sampled, exact):
    """The copies of each duplicated e-mail are 50,000 rows apart: a sample of 10% of the rows would hold both
    copies of a pair 1 time in 100; a share of 10% of the values holds both copies of each value it holds."""
    found = sampled[("PL210", "accounts", "email")]
    evidence = found["evidence"]
    assert evidence["sample"] == "values" and evidence["sample_fraction"] == pytest.approx(0.1)
    assert evidence["duplicate_rows"] == 2 * evidence["duplicated_values"]  # every copy of each value counted
    total = exact[("PL210", "accounts", "email")]["evidence"]["duplicated_values"]
    assert total == 1_250 and abs(evidence["duplicated_values"] * 10 - total) < total / 2  # 125 expected, sd 11
    # ~10% of the 100,000 e-mails are chosen (sd 95): about BUDGET rows examined
    assert abs(evidence["rows_examined"] - BUDGET) < BUDGET / 10
    assert "holding 1 in 10 of its values (chosen by hash" in found["message"]


def test_damage_at_the_end_of_a_big_table_is_found_where_the_first_rows_miss_it(big, sampled):
    """`members` is damaged in its last 25,000 rows only. The random sample finds every kind of damage there: it
    draws 5.86% of the table's 935 blocks, ~14 of the 234 holding them (none drawn: 1 chance in 10^6 for a seed
    chosen at random); the first BUDGET rows the database returns, which is what the audit reads where no random
    sample can be drawn (CockroachDB's path, run here on PostgreSQL: there is no CockroachDB binary), hold none of
    it."""
    for rule, column in PLACES:
        evidence = sampled[(rule, "members", column)]["evidence"]
        assert evidence["sampled"] is True and evidence["sample"] in ("blocks", "values"), (rule, evidence)
        assert evidence[COUNTS[rule]] > 0
    database = Database.connect(Target.parse(big), statement_timeout=30)
    try:
        database.backend = "cockroachdb"  # no TABLESAMPLE: the first rows it returns
        tables, _ = read_catalog(database)
        members = next(table for table in tables if table.table == "members")
        found = [w for w in weaknesses(tables) if w.table is members]
        assert {w.proof for w in found} >= set(DATA_RULES)
        assert list(prove(database, members, found, BUDGET)) == []
        accounts = next(table for table in tables if table.table == "accounts")
        first = list(prove(database, accounts, [w for w in weaknesses(tables) if w.table is accounts], BUDGET))
    finally:
        database.close()
    nulls = next(proof for proof in first if proof.rule_id == "PL211")
    assert nulls.evidence["sample"] == "first" and nulls.evidence["sampled"] is True
    assert nulls.evidence["rows_examined"] == BUDGET and "sample_fraction" not in nulls.evidence
    assert "the first 10,000 rows read (in the database's order, not a random sample: CockroachDB has no " \
           "TABLESAMPLE" in nulls.message


def test_a_table_smaller_than_the_budget_is_read_whole_and_says_so(sampled, exact):
    for rule, column in PLACES:
        found = sampled[(rule, "customers", column)]
        evidence = found["evidence"]
        assert evidence["sampled"] is False and evidence["sample"] == "all", (rule, evidence)
        assert evidence == exact[(rule, "customers", column)]["evidence"]  # the same counts as --exact
        assert " among all " in found["message"] and "sample" not in found["message"]
    assert sampled[("PL210", "customers", "email")]["evidence"]["duplicated_values"] == 37
    assert sampled[("PL211", "customers", "user_id")]["evidence"]["rows_examined"] == 3_000
    assert sampled[("PL213", "customers", "user_id")]["evidence"]["rows_examined"] == 3_000 - 60  # with a value


def test_a_table_never_analysed_is_read_from_its_first_rows_and_says_why(big, sampled):
    """`profiles` (12,000 rows) has no row estimate: PostgreSQL cannot size a random sample for it."""
    evidence = sampled[("PL211", "profiles", "user_id")]["evidence"]
    assert (evidence["sample"], evidence["sampled"], evidence["rows_examined"]) == ("first", True, BUDGET)
    assert "not a random sample: the table was never analysed" in sampled[("PL211", "profiles", "user_id")]["message"]
    whole = data_findings(Audit(AuditOptions(dsn=big, sample_rows=12_000)).run())
    assert whole[("PL211", "profiles", "user_id")]["evidence"]["sample"] == "first"  # 12,000: the budget reached
    assert data_findings(Audit(AuditOptions(dsn=big, sample_rows=12_001)).run())[
        ("PL211", "profiles", "user_id")]["evidence"]["sample"] == "all"


def test_a_table_grown_since_its_last_analyze_is_still_sampled(server):
    """The estimate scales the last ANALYZE's rows per block by the blocks the table has now, as the planner
    does: 1,000 rows analysed, then 99,000 more, is a table of ~100,000 rows, sampled at random."""
    url = server.create_database("grown", f"""
        CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance INTEGER NOT NULL) WITH (autovacuum_enabled = false);
        INSERT INTO accounts SELECT n, n FROM generate_series(1, 1000) AS n;
        ANALYZE accounts;
        INSERT INTO accounts SELECT n, CASE WHEN n % 100 = 0 THEN -1 ELSE n END
        FROM generate_series(1001, {ROWS}) AS n;""")
    found = data_findings(Audit(AuditOptions(dsn=url, sample_rows=BUDGET)).run())
    evidence = found[("PL212", "accounts", "balance")]["evidence"]
    assert evidence["sample"] == "blocks" and ROWS / 2 < evidence["estimated_rows"] < ROWS * 2
    assert 0 < evidence["negative_rows"] < 990


def test_a_sampled_audit_gives_the_same_findings_every_run(big, sampled):
    """A CI gate on the audit does not flap on an unchanged database."""
    assert data_findings(Audit(AuditOptions(dsn=big, sample_rows=BUDGET)).run()) == sampled
