"""PL205, PL206 and PL21x: what only a live database shows — a table without a primary key, the schema the code
declares that the database lacks, and the damage already done.

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
        id="PL206",
        name="schema-drift",
        engine="audit",
        severity="high",
        summary="The live schema lacks a table, column or constraint the code declares",
        cwe=(1284, 694),
        owasp="API8:2023",
        what="With `--scan PATH`, compares the schema the repository declares (its DDL files and ORM models, as the "
        "scan merges them) with the live one, and reports each declared table or column the database lacks and each "
        "declared UNIQUE, NOT NULL, CHECK or FOREIGN KEY that the live table does not enforce (absent, or added NOT "
        "VALID). A missing constraint is then counted on the rows: the duplicates (PL210), NULLs (PL211), negative "
        "values (PL212) or orphans (PL213) it let in prove the finding. The evidence names the declaration "
        "(`declared_at`) and what is missing (`missing`).",
        why="The code was reviewed against the schema it declares: a model's `unique=True` is why nobody wrote a "
        "duplicate check, a `nullable=False` is why nobody handles NULL. When a migration was never run, failed "
        "half-way, or a constraint was dropped by hand to unblock a deployment, the database accepts what the code "
        "believes impossible, and nothing says so until the data is damaged. A table or column that is missing "
        "breaks the requests that use it.",
        example='''
# models.py: what the code believes
class User(db.Model):
    email = db.Column(db.String, nullable=False, unique=True)

# the production database: the migration adding the constraints never ran
#   CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT);
''',
        use_instead={
            "cockroachdb": '''Run the pending migrations (or write the one that is missing), after resolving the rows that
break the constraint:
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```''',
            "postgres": '''Run the pending migrations (or write the one that is missing), after resolving the rows that break
the constraint:
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
-- added NOT VALID earlier: ALTER TABLE users VALIDATE CONSTRAINT <name>;
```''',
        },
        fix={
            "cockroachdb": "Bring the live schema to the declared one: run the missing migration, after fixing the rows "
            "that break its constraints.",
            "postgres": "Bring the live schema to the declared one: run the missing migration (or VALIDATE the "
            "constraint), after fixing the rows that break it.",
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

# PL31x: the DynamoDB audit (plumbline.audit.dynamodb) — a table's settings, and the items already written.
register(
    Rule(
        id="PL310",
        name="item-shape-drift",
        engine="audit",
        severity="medium",
        summary="DynamoDB attribute missing from part of the items, or stored with several types",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="Infers the shape of a table's items from a Scan: for each kind of item (in a single-table design, "
        "the items whose keys start with the same `PREFIX#`), the attributes most items have, and the DynamoDB "
        "types each attribute is stored with. Reports an attribute that at least half of the items of a kind have "
        "and the others lack (low), or that is stored with more than one type, such as `N` in some items and `S` "
        "in others (medium), with up to five keys of the items of the rarest type.",
        why="DynamoDB enforces no schema: an item written by an old version of the code, a partial `update_item`, "
        "a manual fix in the console or an import keeps whatever shape it was given. The code that reads "
        "`item['price']` raises on the items without it, a `ConditionExpression` comparing a number never matches "
        "a string, and a `balance` stored as `S` is compared as text (`'9' > '10'`).",
        example='''
table.put_item(Item={"pk": "ORDER#1", "total": Decimal("12.50")})
table.put_item(Item={"pk": "ORDER#2", "total": "12.50"})       # a string: sums and conditions break
table.put_item(Item={"pk": "ORDER#3"})                          # no total at all
''',
        use_instead={
            "dynamodb": '''Validate every item before it is written (one model for the table), and migrate the items
already written:

boto3:
```python
item = OrderSchema().load(request.json)            # marshmallow, pydantic...: the attributes and their types
orders.put_item(Item={"pk": f"ORDER#{item['id']}", "total": Decimal(item["total"])})
```
PynamoDB:
```python
class Order(Model):
    pk = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(null=False)              # typed and required on every save
```''',
        },
        fix={
            "dynamodb": "Validate items against one model before writing them, and migrate the items that lack the "
            "attribute or store it with another type.",
        },
    ),
    Rule(
        id="PL311",
        name="item-without-version",
        engine="audit",
        severity="medium",
        summary="DynamoDB items without the version attribute the code's optimistic locking relies on",
        cwe=(362, 667),
        owasp="API6:2023",
        what="With the scan's facts (the attribute a table's writes condition on, such as `version` in "
        "`ConditionExpression=Attr('version').eq(expected)`), counts the items of the table that have no such "
        "attribute.",
        why="Optimistic locking protects only the items that carry a version. An item without one is either never "
        "updatable (the condition always fails) or, when the code allows `attribute_not_exists(version)` for "
        "new items, overwritten blindly by two concurrent writers: the lost update the lock was written to "
        "prevent.",
        example='''
orders.update_item(Key=key, UpdateExpression="SET total = :t, version = :next",
                   ConditionExpression="attribute_not_exists(version) OR version = :expected", ...)
# an item written before the lock existed has no version: every writer passes the condition
''',
        use_instead={
            "dynamodb": '''Give every existing item a version (a one-off backfill with a condition, so that it does not
race with the application), and write new items with one:

boto3:
```python
orders.update_item(Key=key, UpdateExpression="SET version = :zero",
                   ConditionExpression="attribute_not_exists(version)", ExpressionAttributeValues={":zero": 0})
```
PynamoDB:
```python
class Order(Model):
    version = VersionAttribute()                     # set on create, checked and incremented on every save
```''',
        },
        fix={
            "dynamodb": "Backfill the version attribute on every item (conditionally), and write it on every create.",
        },
    ),
    Rule(
        id="PL312",
        name="orphaned-owner-attribute",
        engine="audit",
        severity="medium",
        summary="DynamoDB owner attribute pointing at no item of the users table",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="When the audited tables include a table of users (its name says so: `users`, `accounts`, "
        "`members`...), counts the items of the other tables whose owner attribute (`user_id`, `owner`, "
        "`ownerId`...) matches the partition key of no item of the users tables, and shows up to five of the "
        "values. Checked only when the users tables were read to the end.",
        why="DynamoDB has no foreign keys: an item outlives the user it belongs to when the user is deleted "
        "without its items, or is written for a user that never existed. Such items are invisible to their owner "
        "yet still counted, billed or served, and a new user who later receives the same id inherits them.",
        example='''
users.delete_item(Key={"user_id": user_id})            # the user's orders stay, owned by nobody
''',
        use_instead={
            "dynamodb": '''Delete (or reassign) a user's items with the user, in one transaction or through the
user table's stream; check that the owner exists when an item is created:

boto3:
```python
client.transact_write_items(TransactItems=[
    {"ConditionCheck": {"TableName": "users", "Key": {"user_id": {"S": owner}},
                        "ConditionExpression": "attribute_exists(user_id)"}},
    {"Put": {"TableName": "orders", "Item": order}},
])
```
PynamoDB:
```python
with TransactWrite(connection=connection) as transaction:
    transaction.condition_check(User, owner, condition=User.user_id.exists())
    transaction.save(order)
```''',
        },
        fix={
            "dynamodb": "Reattach or delete the orphaned items; create items with a ConditionCheck on their owner and "
            "delete a user's items with the user.",
        },
    ),
    Rule(
        id="PL313",
        name="duplicate-identity-attribute",
        engine="audit",
        severity="high",
        summary="DynamoDB attribute that identifies an item already holds duplicate values",
        cwe=(694, 362),
        owasp="API6:2023",
        what="For each attribute that names one thing in the world (an e-mail or user name in a table of people, "
        "a slug, an external id, an invite code... anywhere), counts the values held by more than one item, key "
        "attributes aside (DynamoDB keeps those unique). Uniqueness-marker items (partition key "
        "`EMAIL#alice@example.com` or `UNIQUE#email#...`) are not counted; the finding says when the table has "
        "none. Up to five values are shown (a token's as a digest).",
        why="DynamoDB enforces uniqueness on the primary key only. Two concurrent sign-ups that each check "
        "`query(email)` before `put_item` both succeed: two accounts share an e-mail, a login or a password reset "
        "picks either of them.",
        example='''
if not users.query(IndexName="by_email", KeyConditionExpression=Key("email").eq(email))["Items"]:
    users.put_item(Item={"user_id": new_id(), "email": email})    # two requests both pass the check
''',
        use_instead={
            "dynamodb": '''Reserve the value with a marker item in the same transaction, conditioned on its absence:

boto3:
```python
client.transact_write_items(TransactItems=[
    {"Put": {"TableName": "users", "Item": {"pk": {"S": f"USER#{user_id}"}, "email": {"S": email}},
             "ConditionExpression": "attribute_not_exists(pk)"}},
    {"Put": {"TableName": "users", "Item": {"pk": {"S": f"EMAIL#{email}"}},
             "ConditionExpression": "attribute_not_exists(pk)"}},
])
```
PynamoDB:
```python
with TransactWrite(connection=connection) as transaction:
    transaction.save(User(f"USER#{user_id}", email=email), condition=User.pk.does_not_exist())
    transaction.save(User(f"EMAIL#{email}"), condition=User.pk.does_not_exist())
```
Then merge or rename the duplicates already there.''',
        },
        fix={
            "dynamodb": "Resolve the duplicate items, then reserve each value with a uniqueness-marker item written in "
            "the same transaction (ConditionExpression attribute_not_exists).",
        },
    ),
    Rule(
        id="PL314",
        name="point-in-time-recovery-off",
        engine="audit",
        severity="medium",
        summary="DynamoDB table without point-in-time recovery",
        cwe=(693,),
        owasp="API8:2023",
        what="Reads the table's continuous backups (`DescribeContinuousBackups`) and reports a table whose "
        "point-in-time recovery is not enabled.",
        why="The damage the other rules find (lost updates, overwritten or deleted items, a bad migration) can be "
        "undone only by restoring the table as it was just before: without point-in-time recovery there is no "
        "such state to go back to, only the last on-demand backup, if any.",
        example='''
aws dynamodb describe-continuous-backups --table-name orders
# "PointInTimeRecoveryStatus": "DISABLED"
''',
        use_instead={
            "dynamodb": '''Enable it (35 days of per-second restore points), in the infrastructure code of the table:

```python
client.update_continuous_backups(TableName="orders",
                                 PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
```
CloudFormation: `PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}`; Terraform:
`point_in_time_recovery { enabled = true }`.''',
        },
        fix={"dynamodb": "Enable point-in-time recovery on the table (PointInTimeRecoveryEnabled: true)."},
    ),
    Rule(
        id="PL315",
        name="deletion-protection-off",
        engine="audit",
        severity="low",
        summary="DynamoDB table without deletion protection",
        cwe=(693,),
        owasp="API8:2023",
        what="Reads the table's description (`DescribeTable`) and reports a table whose deletion protection is "
        "not enabled.",
        why="One `DeleteTable` call (a cleanup script pointed at the wrong account, a stack removed, a click in the "
        "console) destroys every item at once, with no confirmation; deletion protection makes that call fail "
        "until someone turns it off on purpose.",
        example='''
aws dynamodb describe-table --table-name orders --query Table.DeletionProtectionEnabled
# false
''',
        use_instead={
            "dynamodb": '''Enable it in the infrastructure code of the table:

```python
client.update_table(TableName="orders", DeletionProtectionEnabled=True)
```
CloudFormation: `DeletionProtectionEnabled: true`; Terraform: `deletion_protection_enabled = true`.''',
        },
        fix={"dynamodb": "Enable deletion protection on the table (DeletionProtectionEnabled: true)."},
    ),
    Rule(
        id="PL316",
        name="negative-amount-attribute",
        engine="audit",
        severity="high",
        summary="DynamoDB money or quantity attribute already holds negative values",
        cwe=(362, 1284),
        owasp="API6:2023",
        what="For each number attribute whose name says it holds money or a quantity (a balance, an amount, a "
        "stock, credits, seats left...), counts the items where it is below zero, with the lowest value and up to "
        "five item keys.",
        why="A negative balance or stock is money or goods handed out that did not exist: the trace of a lost "
        "update, a double spend or an amount nobody validated. DynamoDB has no CHECK constraint: only a "
        "`ConditionExpression` on every write that lowers the value keeps it at zero or above.",
        example='''
table.update_item(Key=key, UpdateExpression="SET balance = balance - :a",
                  ExpressionAttributeValues={":a": amount})    # no condition: the balance goes below zero
''',
        use_instead={
            "dynamodb": '''Correct the items (they are incidents: find the writes that caused them), then condition every
write that lowers the value on what it needs:

boto3:
```python
table.update_item(Key=key, UpdateExpression="SET balance = balance - :a",
                  ConditionExpression="balance >= :a", ExpressionAttributeValues={":a": amount})
```
PynamoDB:
```python
account.update(actions=[Account.balance.add(-amount)], condition=Account.balance >= amount)
```
Validate amounts sent by clients as positive before they reach the write.''',
        },
        fix={"dynamodb": "Correct the negative items, then condition every write that lowers the attribute "
             "(ConditionExpression \"balance >= :amount\") and validate client amounts."},
    ),
)
