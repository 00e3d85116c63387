"""PL2xx: what the schema itself does not enforce."""

from plumbline.rules import Rule, register

register(
    Rule(
        id="PL201",
        name="missing-unique",
        engine="scan",
        severity="medium",
        summary="Identity-like column without a UNIQUE constraint",
        cwe=(362, 367),
        owasp="API6:2023",
        what="Finds columns that identify something (email, username, login, slug, external or natural ids, "
        "tokens, API keys) with no UNIQUE constraint, unique index or primary key.",
        why="Application code cannot keep a value unique under concurrency: two requests check, both find "
        "nothing, both insert. Duplicates then break logins, lookups and every `.one()`.",
        example='''
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), nullable=False)
''',
        use_instead={
            "cockroachdb": '''```python
email = db.Column(db.String(255), nullable=False, unique=True)
```
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
-- case-insensitive: CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
```''',
            "postgres": '''```python
email = db.Column(db.String(255), nullable=False, unique=True)
```
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```''',
        },
        fix={
            "cockroachdb": "Add a UNIQUE constraint (or unique index) on the column.",
            "postgres": "Add a UNIQUE constraint (or unique index) on the column.",
        },
    ),
    Rule(
        id="PL202",
        name="missing-not-null",
        engine="scan",
        severity="medium",
        summary="Column the code always writes, or identity-like, declared nullable",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="Finds nullable columns that identify a row's owner or the row itself (email, user ids, tokens), "
        "or that every insert in the code provides.",
        why="NULL slips in through a forgotten field, a client that sends `null`, or a second code path; UNIQUE "
        "does not stop duplicate NULLs and `WHERE owner_id = %s` silently drops the row.",
        example='''
class Order(Base):
    __tablename__ = "orders"
    user_id = Column(ForeignKey("users.id"))      # nullable by default
''',
        use_instead={
            "cockroachdb": '''```python
user_id = Column(ForeignKey("users.id"), nullable=False)
# 2.0 style: user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
```
`ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;`''',
            "postgres": '''```python
user_id = Column(ForeignKey("users.id"), nullable=False)
```
`ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;`''',
        },
        fix={
            "cockroachdb": "Declare the column NOT NULL (nullable=False, or Mapped[T] without Optional).",
            "postgres": "Declare the column NOT NULL (nullable=False, or Mapped[T] without Optional).",
        },
    ),
    Rule(
        id="PL203",
        name="missing-check",
        engine="scan",
        severity="low",
        summary="Money or quantity column without a CHECK range",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="Finds money and quantity columns (balance, amount, price, stock, quantity, seats, uses_left, …) "
        "with no CHECK constraint bounding them.",
        why="A CHECK is the last line of defence when a race or a missing validation slips through: without "
        "`CHECK (balance >= 0)` a lost update becomes an overdraft instead of a failed transaction.",
        example='''
CREATE TABLE accounts (id UUID PRIMARY KEY, balance INT8 NOT NULL);
''',
        use_instead={
            "cockroachdb": '''```sql
ALTER TABLE accounts ADD CONSTRAINT balance_non_negative CHECK (balance >= 0);
```
SQLAlchemy: `__table_args__ = (CheckConstraint("balance >= 0"),)`.''',
            "postgres": '''```sql
ALTER TABLE accounts ADD CONSTRAINT balance_non_negative CHECK (balance >= 0);
```''',
        },
        fix={
            "cockroachdb": "Add a CHECK constraint bounding the value (e.g. CHECK (balance >= 0)).",
            "postgres": "Add a CHECK constraint bounding the value (e.g. CHECK (balance >= 0)).",
        },
    ),
    Rule(
        id="PL204",
        name="missing-foreign-key",
        engine="scan",
        severity="medium",
        summary="`<entity>_id` column without a foreign key to a known table",
        cwe=(20, 1284),
        owasp="API3:2023",
        what="Finds `<entity>_id` columns whose entity table is known in the schema but that have no FOREIGN "
        "KEY to it.",
        why="Rows can point at objects that never existed or were deleted, and a client can attach a row to an "
        "id it invented. Every join and ownership check downstream then works on garbage.",
        example='''
class Order(Base):
    __tablename__ = "orders"
    user_id = Column(Integer, nullable=False)
''',
        use_instead={
            "cockroachdb": '''```python
user_id = Column(ForeignKey("users.id"), nullable=False)
```
`ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);`''',
            "postgres": '''```python
user_id = Column(ForeignKey("users.id"), nullable=False)
```
`ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);`''',
        },
        fix={
            "cockroachdb": "Add a FOREIGN KEY to the entity's table.",
            "postgres": "Add a FOREIGN KEY to the entity's table.",
        },
    ),
)
