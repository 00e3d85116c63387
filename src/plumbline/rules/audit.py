"""PL205 and PL21x: what only a live database shows — a table without a primary key, and the damage already done.

The audit also reports PL201-PL204 (rules/schema.py) against the live schema. The data rules here each prove one
of those schema findings on the rows themselves: a finding carries the id of the schema finding it proves in its
`evidence.proves`.
"""

from plumbline.rules import Rule, register

register(
    Rule(
        id="PL205",
        name="missing-primary-key",
        engine="audit",
        severity="medium",
        summary="Table without a primary key",
        cwe=(694,),
        owasp=None,
        what="Finds tables of the live database that have no PRIMARY KEY (on CockroachDB: only the hidden "
        "`rowid` column it adds to such tables).",
        why="Without a primary key nothing stops two identical rows, an ORM cannot address one row for an update "
        "or a delete (it may touch all copies, or refuse), logical replication and change feeds lose the identity "
        "of a row, and every other table that wants to refer to one of its rows has nothing to point at.",
        example='''
CREATE TABLE payments (user_id INT8 NOT NULL, amount DECIMAL(12,2) NOT NULL, paid_at TIMESTAMPTZ NOT NULL);
''',
        use_instead={
            "cockroachdb": '''```sql
ALTER TABLE payments ADD COLUMN id UUID NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE payments ALTER PRIMARY KEY USING COLUMNS (id);
```''',
            "postgres": '''```sql
ALTER TABLE payments ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
-- or, when a natural key exists: ALTER TABLE payments ADD PRIMARY KEY (user_id, paid_at);
```''',
        },
        fix={
            "cockroachdb": "Give the table a primary key (ALTER TABLE ... ALTER PRIMARY KEY USING COLUMNS (...)).",
            "postgres": "Give the table a primary key (ALTER TABLE ... ADD PRIMARY KEY (...)).",
        },
    ),
    Rule(
        id="PL210",
        name="duplicate-identity-values",
        engine="audit",
        severity="high",
        summary="Identity-like column without UNIQUE already holds duplicate values",
        cwe=(694, 362),
        owasp="API6:2023",
        what="For each column PL201 reports (an e-mail, a user name, a slug, an external id... with no UNIQUE "
        "constraint or unique index), counts the values that appear in more than one row, and shows up to five of "
        "them (the values only, never the rows; a token's or a key's value as a digest).",
        why="Each duplicate is a race that already happened or a validation that was skipped: two accounts share "
        "an e-mail, a login picks either, a `.one()` raises, a password reset goes to the wrong row. The UNIQUE "
        "constraint PL201 asks for cannot even be added until they are resolved.",
        example='''
SELECT email, count(*) FROM users GROUP BY email HAVING count(*) > 1;
--        email        | count
-- alice@example.com   |     2
''',
        use_instead={
            "cockroachdb": '''Merge or rename the duplicates, then add the constraint so that they cannot come back:
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```''',
            "postgres": '''Merge or rename the duplicates, then add the constraint so that they cannot come back:
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```''',
        },
        fix={
            "cockroachdb": "Resolve the duplicate rows, then add a UNIQUE constraint (or unique index) on the column.",
            "postgres": "Resolve the duplicate rows, then add a UNIQUE constraint (or unique index) on the column.",
        },
    ),
    Rule(
        id="PL211",
        name="null-in-required-column",
        engine="audit",
        severity="medium",
        summary="Owner or identity column declared nullable already holds NULLs",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="For each column PL202 reports (a row's owner or identity, declared nullable), counts the rows where "
        "it is NULL.",
        why="A row without an owner belongs to nobody: `WHERE user_id = %s` never returns it, so it is invisible "
        "to its author and yet still counted, billed or served by listings that do not filter. A row without its "
        "identity (an account without an e-mail) cannot be looked up nor made unique.",
        example='''
SELECT count(*) FROM orders WHERE user_id IS NULL;
--  count
--     12
''',
        use_instead={
            "cockroachdb": '''Give the rows their owner (or delete them), then forbid NULL:
```sql
ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;
```''',
            "postgres": '''Give the rows their owner (or delete them), then forbid NULL:
```sql
ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;
```''',
        },
        fix={
            "cockroachdb": "Fill or remove the rows with NULL, then declare the column NOT NULL.",
            "postgres": "Fill or remove the rows with NULL, then declare the column NOT NULL.",
        },
    ),
    Rule(
        id="PL212",
        name="negative-amount",
        engine="audit",
        severity="high",
        summary="Money or quantity column without a CHECK already holds negative values",
        cwe=(362, 1284),
        owasp="API6:2023",
        what="For each numeric column PL203 reports (a balance, an amount, a stock, a quantity... with no "
        "validated CHECK), counts the rows where it is below zero.",
        why="A negative balance or stock is money or goods handed out that did not exist: the trace of a lost "
        "update, a double spend or a missing validation. A `CHECK (balance >= 0)` would have made the transaction "
        "fail instead; it cannot be added while such rows remain (or only as NOT VALID).",
        example='''
SELECT count(*) FROM accounts WHERE balance < 0;
--  count
--      3
''',
        use_instead={
            "cockroachdb": '''Correct the rows (they are incidents: find the transfers that caused them), then:
```sql
ALTER TABLE accounts ADD CONSTRAINT balance_non_negative CHECK (balance >= 0);
```''',
            "postgres": '''Correct the rows (they are incidents: find the transfers that caused them), then:
```sql
ALTER TABLE accounts ADD CONSTRAINT balance_non_negative CHECK (balance >= 0);
-- already added as NOT VALID: ALTER TABLE accounts VALIDATE CONSTRAINT balance_non_negative;
```''',
        },
        fix={
            "cockroachdb": "Correct the negative rows, then add a CHECK (column >= 0) constraint.",
            "postgres": "Correct the negative rows, then add (or validate) a CHECK (column >= 0) constraint.",
        },
    ),
    Rule(
        id="PL213",
        name="orphaned-reference",
        engine="audit",
        severity="medium",
        summary="`<entity>_id` values that point at no row of the entity's table",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="For each reference PL204 reports (an `<entity>_id` column with no foreign key, or with one added "
        "NOT VALID, whose table is known), counts the rows whose value matches no primary key of that table, and "
        "shows up to five of the values.",
        why="An orphaned row points at an object that was deleted or never existed: joins drop it, ownership "
        "checks compare against nothing, and a new object that later receives the same id inherits it.",
        example='''
SELECT o.user_id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id);
''',
        use_instead={
            "cockroachdb": '''Reattach or delete the orphaned rows, then add (or validate) the foreign key:
```sql
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
```''',
            "postgres": '''Reattach or delete the orphaned rows, then add (or validate) the foreign key:
```sql
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
-- added NOT VALID earlier: ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
```''',
        },
        fix={
            "cockroachdb": "Reattach or delete the orphaned rows, then add (or validate) the FOREIGN KEY.",
            "postgres": "Reattach or delete the orphaned rows, then add (or validate) the FOREIGN KEY.",
        },
    ),
)
