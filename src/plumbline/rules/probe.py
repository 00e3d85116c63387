"""PL4xx: what the probe proves against a running API."""

from plumbline.rules import Rule, register

SQL_FIX = "Make the change one guarded atomic statement (UPDATE ... SET x = x - %s WHERE ... AND x >= %s) in a " \
          "transaction retried on SQLSTATE 40001; on DynamoDB, update_item with an ADD/SET expression and a " \
          "ConditionExpression."

register(
    Rule(
        id="PL401", name="lost-update", engine="probe", severity="high",
        summary="Synchronized identical mutations lose updates",
        cwe=(362, 367), owasp="API6:2023",
        what="Learns what one request of a state-changing operation does to the resource (the delta of its numeric "
        "fields), then sends N synchronized identical requests with last-byte synchronisation and reads the "
        "resource back: the change must be N-successes times the delta.",
        why="A handler that reads, computes and writes back lets concurrent requests overwrite each other: counters "
        "lose increments, balances forget withdrawals. Only a burst fired within a millisecond shows it.",
        example="""
# 20 withdrawals of 1 from a balance of 10, fired together:
#   17 answered 200, the balance went 10 -> 6 (expected 10 - 17 = -7)
""",
        use_instead={
            "cockroachdb": "One guarded atomic UPDATE in a transaction retried on 40001 (see PL102, PL103).",
            "dynamodb": "`update_item(UpdateExpression='SET version = version + :inc', ConditionExpression=...)`, "
                        "never get_item then put_item.",
        },
        fix={"any": SQL_FIX},
    ),
    Rule(
        id="PL402", name="duplicate-create", engine="probe", severity="high",
        summary="Synchronized creates with the same unique value all succeed",
        cwe=(362, 367), owasp="API6:2023",
        what="Sends N synchronized identical creates carrying a unique-looking value (email, username, name, "
        "code) and counts successes, and the copies listed afterwards where the API lists them.",
        why="Uniqueness checked in code, not by the database, lets concurrent requests all pass the check: "
        "duplicate accounts, sessions, coupon redemptions.",
        example="# 10 concurrent POST /users with one email: 3 x 201",
        use_instead={
            "cockroachdb": "A UNIQUE constraint, and `INSERT ... ON CONFLICT` or a handled unique violation (409).",
            "dynamodb": "`put_item(..., ConditionExpression='attribute_not_exists(pk)')` on an item keyed by the "
                        "unique value (or a transaction with a uniqueness item).",
        },
        fix={"any": "Let the database enforce uniqueness: a UNIQUE constraint or a conditional put, and answer 409 "
                    "on conflict."},
    ),
    Rule(
        id="PL403", name="limit-overrun", engine="probe", severity="critical",
        summary="Synchronized requests take a guarded quantity past its limit",
        cwe=(362, 841), owasp="API6:2023",
        what="Creates a resource whose quantity allows half of a burst (a balance of 10 for 20 withdrawals of 1), "
        "fires the burst and reads back: more successes than the quantity allowed, or a quantity below its floor.",
        why="Check-then-act on a balance, a stock level, seats or uses left: every concurrent request passes the "
        "check before any of them writes. Money is overdrawn, coupons redeemed many times.",
        example="# balance 10, 20 synchronized withdrawals of 1: 14 x 200, balance -4",
        use_instead={
            "cockroachdb": "`UPDATE ... SET balance = balance - %s WHERE id = %s AND balance >= %s RETURNING balance` "
                           "and `CHECK (balance >= 0)`, retried on 40001.",
            "dynamodb": "`ConditionExpression='balance >= :amount'` on the update (or in transact_write_items).",
        },
        fix={"any": "Guard the decrement in the database: WHERE quantity >= :n (SQL) or a ConditionExpression "
                    "(DynamoDB), plus a CHECK constraint."},
    ),
    Rule(
        id="PL404", name="retry-error-leak", engine="probe", severity="medium",
        summary="Requests fail with 5xx under a burst",
        cwe=(362, 755), owasp="API8:2023",
        what="Counts 5xx answers to synchronized bursts, and whether they carry a serialization failure "
        "(40001, \"restart transaction\", \"could not serialize\").",
        why="Under contention CockroachDB (and PostgreSQL at SERIALIZABLE) abort transactions with 40001 and "
        "expect the client to retry; without a retry loop users get errors, often with database internals.",
        example="# 20 synchronized withdrawals: 6 x 500 'could not serialize access due to concurrent update'",
        use_instead={
            "cockroachdb": "Retry the transaction on 40001 with backoff and jitter (`run_transaction`).",
            "dynamodb": "Retry TransactionConflict/ConditionalCheckFailed where appropriate; map refusals to 409.",
        },
        fix={"any": "Retry serialization failures (SQLSTATE 40001) with backoff and jitter; never answer them as 500."},
    ),
    Rule(
        id="PL405", name="cross-identity-access", engine="probe", severity="high",
        summary="An object of identity A is readable or writable by identity B",
        cwe=(639, 284, 285), owasp="API1:2023",
        what="Identity A creates an object; identity B reads it through every operation linked to it (and, with "
        "--active, writes to it); a finding when B receives A's data or A's object changes.",
        why="Broken object level authorization: ids travel in URLs and bodies, so any user can reach any object "
        "the handler looks up by id alone.",
        example="# bob: GET /accounts/{alice's id} -> 200 with alice's balance",
        use_instead={
            "cockroachdb": "Tie the row to the caller in the query: `WHERE id = %s AND owner_id = %s`; 404 otherwise.",
            "dynamodb": "Take the partition key from the authenticated identity, never from the request.",
        },
        fix={"any": "Scope every lookup by id to the authenticated owner (owner predicate or partition key from the "
                    "identity), answering 404 otherwise."},
    ),
    Rule(
        id="PL406", name="unauthenticated-access", engine="probe", severity="high",
        summary="An operation that requires security answers without credentials",
        cwe=(306,), owasp="API2:2023",
        what="Calls operations whose spec requires security without credentials and with a garbage token.",
        why="A missing decorator or a fallback to anonymous exposes data and actions to anyone.",
        example="# GET /accounts/{id} without Authorization -> 200",
        use_instead={"cockroachdb": "Require authentication on every route the spec secures (a decorator or a "
                                    "before_request hook).",
                     "dynamodb": "Require authentication on every route the spec secures."},
        fix={"any": "Require valid credentials on every operation the spec marks as secured."},
    ),
    Rule(
        id="PL407", name="invalid-input-accepted", engine="probe", severity="medium",
        summary="Requests that violate the schema are accepted and change state",
        cwe=(20, 1284), owasp="API3:2023",
        what="Sends bodies that break the operation's schema (missing required fields, wrong types, out-of-range "
        "and negative numbers, over-long strings, null) and reads back: 2xx and changed state is a finding.",
        why="Unvalidated input becomes stored data: negative withdrawals deposit money, nulls break invariants.",
        example="# POST /accounts/{id}/withdraw {\"amount\": -500} -> 200, balance +500",
        use_instead={"cockroachdb": "Validate with a model (pydantic, extra='forbid', bounds) and back it with "
                                    "NOT NULL / CHECK constraints.",
                     "dynamodb": "Validate with a model before building the item; condition expressions for ranges."},
        fix={"any": "Validate every body against its schema (types, bounds, required, no extras) before it reaches "
                    "the database; back it with constraints."},
    ),
    Rule(
        id="PL408", name="mass-assignment", engine="probe", severity="high",
        summary="Extra properties are accepted and persisted",
        cwe=(915, 20), owasp="API3:2023",
        what="Adds properties that are not in the schema (owner ids set to another identity, role, is_admin, "
        "balance, version) to a create and reads the object back.",
        why="Binding the request body straight onto the stored object lets clients set fields they must never "
        "control: the owner, their role, their balance.",
        example="# POST /records {\"user_id\": \"<bob>\", ...} as alice -> stored in bob's partition",
        use_instead={"cockroachdb": "Build the row from an allow-listed model; owner from the token.",
                     "dynamodb": "Build the item from a validated model; keys from the identity and the server."},
        fix={"any": "Build stored objects from an allow-list of fields (extra='forbid'); set owners and keys on the "
                    "server."},
    ),
    Rule(
        id="PL409", name="sql-injection", engine="probe", severity="critical",
        summary="Boolean- or error-differential SQL injection in a parameter",
        cwe=(89,), owasp=None,
        what="Compares a string parameter's answer with the value, the value + `' OR '1'='1`, `' AND '1'='2` and "
        "a lone quote: more rows for the tautology, or a database error for the quote.",
        why="The parameter is spliced into SQL text: the client controls the query.",
        example="# GET /users/search?email=x' OR '1'='1 -> every user",
        use_instead={"cockroachdb": "Bound parameters (`%s`, `:name`), never string formatting.",
                     "postgres": "Bound parameters (`%s`, `:name`), never string formatting."},
        fix={"any": "Pass client values as bound parameters, never inside SQL text."},
    ),
    Rule(
        id="PL410", name="error-leak", engine="probe", severity="medium",
        summary="Responses leak database errors, SQL, stack traces or internal hosts",
        cwe=(209, 497), owasp="API8:2023",
        what="Searches every response of the run (and answers to malformed path parameters) for database error "
        "text, SQL, Python tracebacks, boto3 errors and internal host names.",
        why="Internals tell an attacker the schema, the queries and the stack, and turn blind injection into "
        "an easy one.",
        example="# GET /accounts/x' -> 500 {\"error\": \"InvalidTextRepresentation: invalid input syntax for type uuid\"}",
        use_instead={"cockroachdb": "A 500 handler that logs the exception and answers a generic body; validate ids "
                                    "(404 for a malformed one).",
                     "dynamodb": "A 500 handler that logs the exception and answers a generic body."},
        fix={"any": "Answer errors with a generic body and log the details server-side."},
    ),
    Rule(
        id="PL411", name="replay-not-idempotent", engine="probe", severity="medium",
        summary="The same Idempotency-Key is applied twice",
        cwe=(837, 841), owasp="API6:2023",
        what="Where the spec declares an Idempotency-Key header, sends one request twice with the same key.",
        why="Clients retry on timeouts; without idempotency a retried payment is a second payment.",
        example="# POST /payments with Idempotency-Key: k1, twice -> two payments",
        use_instead={"cockroachdb": "Store the key with the result in the same transaction (UNIQUE key); replay "
                                    "the stored answer.",
                     "dynamodb": "A conditional put of the key (attribute_not_exists) in the same transaction."},
        fix={"any": "Record each Idempotency-Key with its result atomically and replay the stored result."},
    ),
)
