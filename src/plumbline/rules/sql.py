"""PL1xx: how handlers use SQL — injection, races, transactions, ownership."""

from plumbline.rules import Rule, register

RETRY_LOOP = '''
```python
import random, time
from psycopg import errors

def run_transaction(pool, work, attempts=10):
    for attempt in range(attempts):
        try:
            with pool.connection() as conn, conn.transaction():
                return work(conn)
        except errors.SerializationFailure:          # SQLSTATE 40001
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(1.0, 0.01 * 2 ** attempt)))   # backoff, full jitter
```
With SQLAlchemy, `sqlalchemy_cockroachdb.run_transaction(sessionmaker, work)` does the same.
'''

register(
    Rule(
        id="PL101",
        name="sql-injection",
        engine="scan",
        severity="critical",
        summary="SQL text built from client-controlled data",
        cwe=(89,),
        owasp=None,
        what="Finds SQL statements whose text is built by f-strings, `%`, `.format`, `+` or `join` from "
        "values the client controls (request data, path parameters), then executed.",
        why="The client can close the quoted value and append SQL of its own: read other users' rows, "
        "bypass a WHERE clause, or change data. Interpolated constants, numbers that went through `int()` and "
        "identifiers checked against an allow-list are not findings.",
        example='''
@app.get("/users/search")
def search():
    email = request.args["email"]
    rows = conn.execute(f"SELECT id, email FROM users WHERE email = '{email}'").fetchall()
''',
        use_instead={
            "cockroachdb": '''Pass values as parameters; the driver sends them apart from the SQL text.
```python
rows = conn.execute("SELECT id, email FROM users WHERE email = %s", (email,)).fetchall()
```
For identifiers (a sort column), check against an allow-list or use `psycopg.sql.Identifier`.''',
            "postgres": '''Pass values as parameters; the driver sends them apart from the SQL text.
```python
rows = conn.execute("SELECT id, email FROM users WHERE email = %s", (email,)).fetchall()
```
With SQLAlchemy: `session.execute(text("... WHERE email = :email"), {"email": email})`.''',
        },
        fix={
            "cockroachdb": "Pass client values as bound parameters (%s / :name), never inside the SQL text.",
            "postgres": "Pass client values as bound parameters (%s / :name), never inside the SQL text.",
        },
    ),
    Rule(
        id="PL102",
        name="lost-update",
        engine="scan",
        severity="high",
        summary="Read-modify-write of a row without a lock, an atomic update or a guard",
        cwe=(362, 367),
        owasp="API6:2023",
        what="Finds a value read from a row (SQL `SELECT`, ORM load) that is used to compute a value written "
        "back to the same row, with no `FOR UPDATE`, no atomic `SET x = x - %s` and no guard predicate "
        "(`WHERE balance >= %s`, a version column). Also check-then-act: a quantity read, checked in Python, "
        "then decremented; a state tested, then set; a row checked, then deleted as the price of an insert (a "
        "single-use code or invite spent twice).",
        why="Two concurrent requests read the same value and both write their result: one update is lost, or a "
        "balance checked as sufficient by both goes below zero. When the read and the write are in separate "
        "transactions (autocommit, a commit between), no isolation level can save it.",
        example='''
row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
if row[0] < amount:
    abort(409)
conn.execute("UPDATE accounts SET balance = %s WHERE id = %s", (row[0] - amount, account_id))
''',
        use_instead={
            "cockroachdb": '''One guarded, atomic statement in a transaction that is retried on SQLSTATE 40001:
```python
def withdraw(conn):
    return conn.execute(
        "UPDATE accounts SET balance = balance - %s "
        "WHERE id = %s AND owner_id = %s AND balance >= %s RETURNING balance",
        (amount, account_id, user_id, amount),
    ).fetchone()

row = run_transaction(pool, withdraw)   # retry loop: see PL103
if row is None:
    abort(409)
```
Or `SELECT ... FOR UPDATE` then `UPDATE` in the same retried transaction. Add `CHECK (balance >= 0)`.''',
            "postgres": '''One guarded, atomic statement (atomic at any isolation level):
```python
row = conn.execute(
    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s RETURNING balance",
    (amount, account_id, amount),
).fetchone()
```
Or `SELECT ... FOR UPDATE` then `UPDATE` in one transaction. With the ORM:
`session.get(Account, id, with_for_update=True)`, or `update(Account).values(balance=Account.balance - amount)`.''',
        },
        fix={
            "cockroachdb": "Make it one guarded atomic UPDATE (SET x = x - %s WHERE ... AND x >= %s), or SELECT ... FOR "
            "UPDATE in the same transaction, retried on SQLSTATE 40001.",
            "postgres": "Make it one guarded atomic UPDATE (SET x = x - %s WHERE ... AND x >= %s), or SELECT ... FOR "
            "UPDATE in the same transaction.",
        },
    ),
    Rule(
        id="PL103",
        name="missing-retry",
        engine="scan",
        severity="high",
        summary="CockroachDB transaction with several statements and no retry of serialization failures",
        cwe=(362, 755),
        owasp="API8:2023",
        what="On CockroachDB, finds explicit transactions of more than one statement that are not retried when "
        "they fail with SQLSTATE 40001 (no `run_transaction`, no loop catching `SerializationFailure`, no "
        "`SAVEPOINT cockroach_restart`).",
        why="CockroachDB runs every transaction at SERIALIZABLE and aborts one of two conflicting transactions "
        "with `40001 restart transaction`; it expects the client to run it again. Without a retry, contention "
        "turns into 500 errors (often with the database error text in the response). Single-statement implicit "
        "transactions are retried by the server and are not findings.",
        example='''
with pool.connection() as conn, conn.transaction():
    conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
    conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
''',
        use_instead={
            "cockroachdb": "Run the transaction through a retry loop with backoff and jitter:\n" + RETRY_LOOP,
        },
        fix={
            "cockroachdb": "Retry the whole transaction on SQLSTATE 40001 (SerializationFailure) with backoff and "
            "jitter, e.g. sqlalchemy_cockroachdb.run_transaction or a retry loop.",
        },
    ),
    Rule(
        id="PL104",
        name="check-then-insert",
        engine="scan",
        severity="high",
        summary="Uniqueness enforced by querying before inserting",
        cwe=(362, 367),
        owasp="API6:2023",
        what="Finds handlers that look a value up (`SELECT ... WHERE email = %s`, `filter_by(email=...)`) and "
        "insert it when absent, where the column has no UNIQUE constraint or index in the known schema. With a "
        "UNIQUE constraint, reports (low) an insert that does not handle the unique violation.",
        why="Concurrent requests all see \"absent\" and all insert: duplicate accounts, coupons redeemed twice. "
        "Only the database can make a value unique. When it does, the losing insert raises a unique violation "
        "that must become a 409, not a 500.",
        example='''
if conn.execute("SELECT 1 FROM users WHERE email = %s", (email,)).fetchone():
    return {"error": "taken"}, 409
conn.execute("INSERT INTO users (email, name) VALUES (%s, %s)", (email, name))
''',
        use_instead={
            "cockroachdb": '''Declare the constraint and let the insert decide:
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```
```python
try:
    conn.execute("INSERT INTO users (email, name) VALUES (%s, %s)", (email, name))
except psycopg.errors.UniqueViolation:
    return {"error": "email already registered"}, 409
```
Or `INSERT ... ON CONFLICT (email) DO NOTHING RETURNING id`.''',
            "postgres": '''Declare the constraint and let the insert decide:
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```
Catch `psycopg.errors.UniqueViolation` (SQLAlchemy: `IntegrityError`) and answer 409, or use
`INSERT ... ON CONFLICT (email) DO NOTHING RETURNING id`.''',
        },
        fix={
            "cockroachdb": "Add a UNIQUE constraint and handle the unique violation (or INSERT ... ON CONFLICT) instead "
            "of checking first.",
            "postgres": "Add a UNIQUE constraint and handle the unique violation (or INSERT ... ON CONFLICT) instead "
            "of checking first.",
        },
    ),
    Rule(
        id="PL105",
        name="unscoped-object-access",
        engine="scan",
        severity="high",
        summary="Row selected by a client-supplied id with no tie to the caller",
        cwe=(639, 284),
        owasp="API1:2023",
        what="Finds handlers that read, update or delete a row selected by a client-controlled id when the "
        "table has an owner column and neither the query nor a check before use ties the row to the "
        "authenticated caller. Also an unauthenticated handler that modifies a row by id.",
        why="Any authenticated user can walk the id space and read or change other users' objects (broken "
        "object level authorization, the first risk of the OWASP API Top 10). Random UUIDs make guessing harder "
        "but ids leak through URLs, logs and other responses.",
        example='''
@app.get("/accounts/<account_id>")
@login_required
def get_account(account_id):
    row = conn.execute("SELECT id, owner_id, balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
''',
        use_instead={
            "cockroachdb": '''Put the caller in the predicate, so other users' rows do not exist for this query:
```python
row = conn.execute(
    "SELECT id, owner_id, balance FROM accounts WHERE id = %s AND owner_id = %s",
    (account_id, g.user_id),
).fetchone()
if row is None:
    abort(404)
```''',
            "postgres": '''Put the caller in the predicate (`WHERE id = %s AND owner_id = %s`), or with the ORM
`Account.query.filter_by(id=account_id, owner_id=current_user.id).first_or_404()`. Row-level security
policies are a second line of defence.''',
        },
        fix={
            "cockroachdb": "Add the owner to the predicate (AND owner_id = <authenticated user>) and answer 404 when "
            "no row matches.",
            "postgres": "Add the owner to the predicate (AND owner_id = <authenticated user>) and answer 404 when no "
            "row matches.",
        },
    ),
    Rule(
        id="PL106",
        name="partial-write",
        engine="scan",
        severity="high",
        summary="Dependent writes committed separately",
        cwe=(362, 662),
        owasp="API6:2023",
        what="Finds handlers that make two or more mutations (INSERT, UPDATE, DELETE, ORM flushes) that are "
        "not in one transaction: autocommit, or a commit between them.",
        why="A crash, a timeout or an exception between the writes leaves half of the change: money debited "
        "and never credited, an order without its lines. Retrying the request then applies the first half twice.",
        example='''
conn.autocommit = True
conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
''',
        use_instead={
            "cockroachdb": "Put both writes in one transaction, and retry it on 40001:\n" + RETRY_LOOP,
            "postgres": '''Put both writes in one transaction:
```python
with conn.transaction():
    conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s", (amount, src, amount))
    conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
```
With SQLAlchemy: one `with session.begin():` block, one commit at the end.''',
        },
        fix={
            "cockroachdb": "Make the writes one transaction (one commit), retried as a whole on SQLSTATE 40001.",
            "postgres": "Make the writes one transaction (one commit at the end).",
        },
    ),
)
