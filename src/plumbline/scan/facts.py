"""Facts the scan engine extracts once per file; the checks read nothing else.

The classes use __slots__: a large code base holds hundreds of thousands of them in memory.

Everything here is plain data (picklable, cached by content hash). A data access of any kind —
an SQL statement, an ORM load or flush, later a boto3 DynamoDB call — is one `DataOp`; a table
definition from DDL, an ORM model, a migration or (later) a live database is one `Table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

Action = Literal["read", "insert", "update", "delete", "upsert", "other"]
TxnKind = Literal["explicit", "implicit", "autocommit"]


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int = 1
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class Taint:
    """Where a value comes from."""

    client: frozenset[str] = frozenset()  # client-controlled origins: "path:account_id", "request.json['amount']"
    cast: bool = False  # every client part went through int()/float()/UUID(): not injectable
    identity: bool = False  # derives from the authenticated caller
    reads: frozenset[int] = frozenset()  # ids of the DataOps whose results it derives from
    params: frozenset[str] = frozenset()  # parameters of the enclosing function it derives from
    raw_params: frozenset[str] = frozenset()  # ... of which those that reach it without a cast (int(), an allow-list)

    def __or__(self, other: "Taint") -> "Taint":
        if other is NO_TAINT or other is self or not other:  # (most joins: the identity tests cost least)
            return self
        if not self:
            return other
        if other.client <= self.client and other.reads <= self.reads and other.params <= self.params and \
                other.raw_params <= self.raw_params and (self.identity or not other.identity) and \
                (other.cast or not other.client) and (self.cast or not self.client):
            return self  # nothing new (the common case when one value flows on): no new object
        return Taint(
            client=_joined(self.client, other.client),
            cast=(self.cast or not self.client) and (other.cast or not other.client),
            identity=self.identity or other.identity,
            reads=_joined(self.reads, other.reads),
            params=_joined(self.params, other.params),
            raw_params=_joined(self.raw_params, other.raw_params),
        )

    def __bool__(self) -> bool:
        return bool(self.client or self.identity or self.reads or self.params)

    def union(self, *others: "Taint") -> "Taint":
        result = self
        for other in others:
            result = result | other
        return result

    def casted(self) -> "Taint":
        """The taint after int()/float()/an allow-list: numbers and listed names cannot inject."""
        return Taint(client=self.client, cast=True, identity=self.identity, reads=self.reads, params=self.params)

    @property
    def injectable(self) -> bool:
        return bool(self.client) and not self.cast


@lru_cache(maxsize=8192)
def just(item: str) -> frozenset[str]:
    """`frozenset({item})`, one object per name: every function's parameters and every request field start a taint
    of their own, and the same names recur in every file."""
    return frozenset({item})


def _joined(mine: frozenset, theirs: frozenset) -> frozenset:
    """`mine | theirs`, reusing one of them when it already holds the other: taints are kept by the hundred
    thousand, and most joins add nothing to one side."""
    if theirs <= mine:
        return mine
    return theirs if mine <= theirs else mine | theirs


NO_TAINT = Taint()
# The class of what a project call returns is known only once the callee is: until then an object so returned
# has this class name followed by the call's result id, and the project stage names the class (`returns_class`).
RETURNED = "<returned>"
# A collection appended to on a loaded object (`attendee.workshops.append(workshop)`, scan/models/sqlalchemy.py) is an
# INSERT into "Model.attribute" whose keys name the owner and whose writes name the member with these two names.
COLLECTION_OWNER, COLLECTION_MEMBER = "<owner>", "<member>"
# An object a helper adds to the session that is its parameter (`def save(obj): session.add(obj)`) is an INSERT into
# this name followed by the parameter's; the project stage makes it an INSERT of each object the caller built and
# passed there (`Call.objects`), and drops it for anything else.
PASSED_OBJECT = "<passed>"


@dataclass(frozen=True, slots=True)
class DataOp:
    """One access to stored data, with where its keys and values come from."""

    id: int
    span: Span
    api: Literal["sql", "orm", "dynamodb"]
    action: Action
    table: str | None  # table name, or the ORM model's class name until the schema resolves it
    statement: str | None = None  # SQL text as written; interpolated parts shown as {…}
    keys: dict[str, Taint] = field(default_factory=dict)  # equality predicates: column -> value
    guards: tuple[str, ...] = ()  # columns in other predicates (balance >= %s, version = %s)
    writes: dict[str, Taint] = field(default_factory=dict)  # column -> value written
    atomic: tuple[str, ...] = ()  # columns updated relative to themselves: SET x = x - %s
    decrements: tuple[str, ...] = ()  # ... of which those that decrease
    moved: tuple[str, ...] = ()  # ... of which those moved by an amount that is not a literal: SET x = x + %s
    for_update: bool = False
    on_conflict: bool = False
    interpolated: Taint | None = None  # SQL text built by formatting from these values
    txn: int = 0  # transaction this op runs in (unique within the function)
    txn_kind: TxnKind = "implicit"
    retried: bool = False  # inside a retry of serialization failures
    handled: tuple[str, ...] = ()  # exception names caught around it
    dynamic_sql: bool = False  # the SQL text could not be recovered
    own_connection: bool = False  # inside a connection block the function opens itself (`with pool.connection()`)
    # SQL text unknown here because it is a parameter of this function (a `query_db(sql, args)` wrapper): the
    # parameters holding the text and the values bound to it; the project stage takes them from each caller.
    text_param: str | None = None
    params_param: str | None = None
    # The if/else and try/except arms it sits in: (branch point, arm). Ops in different arms of one
    # branch point never run together.
    branch: tuple[tuple[int, int], ...] = ()
    # DynamoDB (api="dynamodb", from scan/models/boto3.py, pynamodb.py, boto2.py). A put or save of a whole item
    # is an "upsert" ("insert" when its condition refuses an existing item); a non-literal item is written as "*".
    # What its condition asks: "absent" (attribute_not_exists, a new item of a versioned PynamoDB model, boto 2's
    # expectations of a new item), "present" (attribute_exists), "compare" (an attribute compared with a value or
    # the value read), "hollow" (an attribute-name position filled with a value: it protects nothing).
    condition: tuple[str, ...] = ()
    condition_values: dict[str, Taint] = field(default_factory=dict)  # attribute -> value the condition wants
    item: Taint | None = None  # client data that shapes the stored attributes: a whole item, a spread, names
    together: int = 0  # the items of one transact_write_items / TransactWrite share this number (0: alone)
    batched: bool = False  # one item of a batch write (batch_write_item, batch_writer, batch_write): not atomic
    sends: str | None = None  # not a write but an effect a replay repeats: "sns.publish", "ses.send_email"

    @property
    def mutates(self) -> bool:
        return self.action in ("insert", "update", "delete", "upsert")

    def exclusive_with(self, other: "DataOp") -> bool:
        arms = dict(self.branch)
        return any(point in arms and arms[point] != arm for point, arm in other.branch)


EntryKind = Literal["http", "graphql", "operation", "consumer"]


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A way a request reaches a function: a route, a GraphQL field, an operation of an OpenAPI document.

    The rules ask one question of every function — is it reachable from a request, with which client data,
    under which identity? — and framework models (`scan/models/`) answer it with entry points."""

    kind: EntryKind
    name: str  # "/accounts/<id>", "Mutation.transfer", "lockers.handlers.rent" (an operationId)
    methods: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # parameters that receive client data: path parameters, resolver arguments
    identity: tuple[str, ...] = ()  # parameters that receive the caller's identity (connexion's `user`)
    auth: bool = False  # the registration itself demands authentication (a before_request hook, spec security)
    privileged: bool = False  # ... and a role or permission: an admin area, where any object may be reached
    # Inputs every request carries, never null: a path parameter, a GraphQL argument of a non-null type (`title:
    # String!`, graphene's `required=True`)
    required: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a function that may be defined in the scanned project."""

    name: str  # the name as resolved through imports: "pkg.mod.func" or a bare local name
    span: Span
    arguments: dict[str, Taint]  # parameter position ("0", "1"…) or keyword -> value
    txn: int
    txn_kind: TxnKind
    retried: bool
    result_id: int  # id the call's result has in `reads` of values derived from it
    callables: dict[str, str] = field(default_factory=dict)  # argument position/keyword -> function passed
    # A method called on an object of a known class (`order.save()`, `Order.create(...)`): the class, and for an
    # object created here (not loaded) the values it was built with — a `session.add(self)` in the method
    # inserts it. The object itself is argument "self".
    receiver: str | None = None
    receiver_created: bool = False
    receiver_fields: dict[str, Taint] = field(default_factory=dict)
    branch: tuple[tuple[int, int], ...] = ()  # the if/else arms it sits in, as for a DataOp
    falsy: tuple[str, ...] = ()  # arguments passed as a constant False, None or 0 (`save(commit=False)`)
    # Arguments that are SQL-like text (position/keyword -> text with holes, the holes' taints) and literal
    # containers (-> items, fields): what a wrapper that executes its argument needs from its caller.
    texts: dict[str, tuple[str, tuple[Taint, ...]]] = field(default_factory=dict)
    containers: dict[str, tuple[tuple[Taint, ...] | None, dict[str, Taint] | None]] = field(default_factory=dict)
    # Not a call but an attribute of a loaded object used as an object (`for line in order.lines`): a property
    # (the class's function so decorated), else a relationship (its rows, read when first used), else a value.
    attribute: bool = False
    # Objects built here that it passes (`save(Ballot(...))`, `insert_all([b])` of a `b = Ballot(...)`): argument
    # position/keyword -> (class, the values it was built with) of each; a helper that adds its parameter to the
    # session inserts them.
    objects: dict[str, tuple[tuple[str, dict[str, Taint]], ...]] = field(default_factory=dict)


@dataclass(slots=True)
class Function:
    name: str
    qualname: str
    span: Span
    params: tuple[str, ...]
    entry_points: list[EntryPoint] = field(default_factory=list)
    decorators: tuple[str, ...] = ()
    authenticated: bool = False  # an auth decorator, a before_request hook or an explicit check
    privileged: bool = False  # only callers with a role or permission reach it (admin_required, an admin hook)
    ops: list[DataOp] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    returns: Taint = NO_TAINT
    checked_reads: frozenset[int] = frozenset()  # results tested in a condition (if row: …)
    owner_checked_reads: frozenset[int] = frozenset()  # results compared with the caller's identity
    # ... only when a flag of the row is not set (`if not case.is_shared and me != case.owner: deny`), then written:
    # the check shows the rows are someone's, but does not keep others from changing a flagged one
    flag_checked_reads: frozenset[int] = frozenset()
    vouched: Taint = NO_TAINT  # client values compared with the caller's identity (`if user_id != me: abort()`)
    # Attributes of loaded objects an `if` tests (`if invite.used:`), each with the object's taint: a later write of
    # that attribute acts on what was checked (scan/checks.py, PL102).
    tested: tuple[tuple[str, Taint], ...] = ()
    identity_source: bool = False  # returns the caller's identity (an auth helper)
    # Callable parameters it runs inside a transaction of its own: parameter -> whether it retries 40001.
    transaction_runner: dict[str, bool] = field(default_factory=dict)
    retries: bool = False  # the whole function is retried (a retry decorator)
    autocommit: bool = False  # it puts its connection in autocommit mode
    first_txn: int = 0  # the implicit transaction its first statements run in: the caller's, when inlined
    open_txn: int = 0  # ... and the one still open when it returns (after its last commit): the caller goes on in it
    commits: bool = False  # it commits or rolls back: its caller's later statements run in a new transaction
    keywords_param: str | None = None  # its `**kwargs` parameter: the keyword arguments no other parameter takes
    returns_class: str | None = None  # the class of the object it returns, when it returns one (a model lookup)
    commit_params: tuple[str, ...] = ()  # ... only under `if <one of these parameters>:` (`save(commit=True)`)


@dataclass(slots=True)
class Column:
    name: str
    type: str | None = None
    nullable: bool = True
    # How it was declared nullable: "explicit" (`nullable=True`, `NULL` in DDL), "typed" (`Mapped[Optional[str]]`,
    # the only way a typed mapping says nullable), or "" (by default, nothing said).
    optional: str = ""
    required: bool = False  # the model's constructor sets it from a parameter without a default: every row has one
    unique: bool = False
    primary_key: bool = False
    references: str | None = None  # "table.column"
    check: bool = False
    span: Span | None = None
    path: str | None = None  # file that declares it, when not the table's own
    declared: bool = True  # False when only a constraint or an ALTER mentions it
    default: str | None = None  # the function an ORM default calls (`default=generate_slug`, `lambda: token(40)`)


@dataclass(slots=True)
class Table:
    name: str
    path: str
    span: Span
    columns: dict[str, Column] = field(default_factory=dict)
    unique_sets: list[tuple[str, ...]] = field(default_factory=list)
    model: str | None = None  # ORM class name
    versioned: bool = False  # optimistic locking (version_id_col)
    defined: bool = False  # a full definition (CREATE TABLE, a model), not an alteration of one
    # A model's one-to-many relationships (no `secondary` table): attribute -> the related model's class name.
    relationships: dict[str, str] = field(default_factory=dict)


ResolverKind = Literal["resty", "relative"]


@dataclass(frozen=True, slots=True)
class OperationResolver:
    """A connexion resolver a module creates: how it names the handler of an OpenAPI operation.

    Every document is also read by connexion's default rule (operationId, with x-openapi-router-controller)."""

    document: str | None  # the document `add_api` serves with it ("openapi.yaml"); None when not seen together
    kind: ResolverKind  # RestyResolver (names from path and method) or RelativeResolver (operationId under a root)
    module: str  # RestyResolver's default module, RelativeResolver's root ("api")
    collection: str = "search"  # RestyResolver's function for GET on a collection


@dataclass(frozen=True, slots=True)
class KeySchema:
    """A DynamoDB table's keys, from a `create_table` call, a CloudFormation/SAM/Serverless/Terraform file or a
    PynamoDB model. Kept apart from `Table`: DynamoDB has no columns, constraints or SQL rules to check."""

    name: str  # the table name as declared (a logical name when the real one is computed)
    hash_key: str
    path: str
    span: Span
    range_key: str | None = None
    model: str | None = None  # the PynamoDB model class
    version: str | None = None  # the PynamoDB VersionAttribute: every save/update is conditional on it
    attributes: tuple[str, ...] = ()  # attributes a model or the definitions declare
    indexes: tuple[tuple[str, str | None], ...] = ()  # (hash key, range key) of each secondary index


@dataclass(slots=True)
class ModuleFacts:
    path: str  # relative to the scan root, "/"-separated
    module: str  # dotted name, for resolving imports
    functions: list[Function] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    backend_hints: set[str] = field(default_factory=set)  # "cockroachdb", "postgres", "serializable"
    autocommit: bool = False  # the module puts connections in autocommit mode
    auth_decorators: set[str] = field(default_factory=set)  # decorators defined here that answer 401/403
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)  # line -> rule ids ("*" = all)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class -> its bases' last names (mixins)
    # Views this module registers that another module defines (`bp.add_url_rule("/x", view_func=imported_view)`):
    # the view's dotted name as the imports resolve it -> its entry points.
    foreign_views: dict[str, list[EntryPoint]] = field(default_factory=dict)
    operation_resolvers: list[OperationResolver] = field(default_factory=list)  # connexion resolvers made here
    key_schemas: list[KeySchema] = field(default_factory=list)  # DynamoDB tables declared here
    # Alembic: table -> the times this module's upgrade() creates it, less the times it drops it (see alembic.py)
    migrated: dict[str, int] = field(default_factory=dict)

