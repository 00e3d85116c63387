"""The DynamoDB audit: each table's settings and the shape of its items, read-only, within a read budget.

Settings (DescribeTable, DescribeContinuousBackups): PL314 point-in-time recovery off, PL315 deletion protection
off. A stream is no integrity risk by itself: its state is only noted in the table's coverage entry.

Items (a parallel Scan in `segments` segments, ReturnConsumedCapacity=TOTAL, stopped once the table's read budget
in capacity units is spent): PL310 shape drift, PL311 items without the version attribute the code locks on (from
the scan of the code, `DynamoOptions.scan`: audit/code.py; or given, `DynamoOptions.version_attributes`), PL312
owner attributes that match no key of a users-like table, PL313 duplicate values of an identity attribute, PL316
negative money or quantity values. Each finding cites the scan's findings on the same table that explain it
(`EXPLAINED_BY`), when the code was scanned too. Pages
are folded into counters as they arrive: memory is bounded by the number of attributes and `DISTINCT_VALUES_KEPT`
values per checked attribute, never by the size of the table.

The client can only read: an event hook refuses, before anything is sent, every operation but `READ_OPERATIONS`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from plumbline.audit import audit_rule_ids
from plumbline.audit.code import CodeFacts, Version, place
from plumbline.audit.connection import AuditError
from plumbline.audit.data import SAMPLE_KEYS, count_of, shown_values
from plumbline.findings import Coverage, Finding, FindingsDocument, SchemaLocation, ToolError
from plumbline.rules import get as rule
from plumbline.scan.checks_dynamodb import table_words  # the scan's own: `orders-prod` -> `orders`
from plumbline.vocabulary import (
    EVENT_TABLE,
    IDENTITY_LIKE,
    MONEY_COLUMN,
    OWNER_COLUMN,
    PERSON_IDENTIFIER,
    PRINCIPAL_TABLE,
)

READ_OPERATIONS = frozenset({"ListTables", "DescribeTable", "DescribeContinuousBackups", "Scan"})
ITEM_RULES = frozenset({"PL310", "PL311", "PL312", "PL313", "PL316"})  # the rules that need the items: a Scan
# The scan's findings that explain what an item rule finds (cited when the code is scanned too), each as the rule
# and the evidence values it must have: items of odd shape, without a version or pointing at nobody are request
# data stored as sent (PL302) or written under a key the client chose (PL301); duplicates are what a
# check-then-put leaves (PL303); negative amounts, amounts stored unvalidated, rewritten from a stale read or
# lowered with no condition.
_WRITTEN = frozenset({"insert", "upsert", "update"})
EXPLAINED_BY: dict[str, tuple[tuple[str, dict[str, frozenset[str]]], ...]] = {
    "PL310": (("PL302", {}),),
    "PL311": (("PL302", {}),),
    "PL312": (("PL301", {"operation": _WRITTEN}), ("PL302", {})),
    "PL313": (("PL303", {"pattern": frozenset({"check-then-put"})}),),
    "PL316": (("PL302", {}), ("PL303", {"pattern": frozenset({"read-modify-write", "unguarded-decrement"})})),
}
DEFAULT_READ_BUDGET = 20_000.0  # capacity units per table: about 160 MB read with eventually consistent reads
DEFAULT_SEGMENTS = 4
PAGE_ITEMS = 1_000  # items per Scan page: the budget is overshot by at most one page per segment
DISTINCT_VALUES_KEPT = 200_000  # per attribute counted for duplicates or orphans
KINDS_KEPT = 100  # kinds of item per table; items of the others are counted together
LONGEST_VALUE_KEPT = 256  # characters of a counted value (longer ones are counted by a digest)
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
DENIED = {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
          "ExpiredTokenException", "MissingAuthenticationTokenException", "IncompleteSignature"}
_PATTERN = re.compile(r"[*?\[]")  # a --table that is a shell-style pattern (no table name has these characters)


class WriteRefused(RuntimeError):
    """The audit tried an operation that is not a read: a bug of ours, stopped before the request was sent."""


@dataclass(frozen=True)
class DynamoOptions:
    endpoint: str | None = None  # default: AWS's endpoint for the region
    region: str | None = None  # default: the AWS configuration's (AWS_REGION, ~/.aws/config)
    tables: tuple[str, ...] = ()  # default: every table ListTables returns
    selected: frozenset[str] = field(default_factory=lambda: audit_rule_ids(dynamodb=True))
    read_budget: float = DEFAULT_READ_BUDGET  # read capacity units each table's Scan may consume
    segments: int = DEFAULT_SEGMENTS
    # PL311: table -> the attribute its optimistic locking conditions on; `scan` adds the code's (audit/code.py).
    version_attributes: dict[str, str] = field(default_factory=dict)
    scan: tuple[Path, ...] = ()  # the app's code (`--scan`)
    credentials: tuple[str, str] | None = None  # (key id, secret) of a local endpoint; default: the AWS configuration


def same_table(live: str, code: str) -> bool:
    """Whether the live table `live` is the table the code calls `code`: the same name once deployment decoration
    is dropped (`orders-prod` is `orders`), or a name that ends with the code's after a prefix the deployment adds
    (`shop-eu-orders`, `lab-1a2b-vulnerable-records`)."""
    live_name, code_name = table_words(live), table_words(code)
    return bool(code_name) and (live_name == code_name or live_name.endswith("_" + code_name))


def snake(name: str) -> str:
    """`userId` -> `user_id`: DynamoDB attributes are often camelCase, the vocabulary is snake_case."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class _Tally:
    """How often each value of one attribute occurs, for at most DISTINCT_VALUES_KEPT distinct values."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.not_kept = 0  # values read once the limit was reached: not counted

    def add(self, value: str) -> None:
        if len(value) > LONGEST_VALUE_KEPT:
            value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
        if value in self.counts or len(self.counts) < DISTINCT_VALUES_KEPT:
            self.counts[value] += 1
        else:
            self.not_kept += 1


@dataclass
class _Kind:
    """Items of one kind (in a single-table design, those whose keys start with the same `PREFIX#`)."""

    items: int = 0
    present: Counter[str] = field(default_factory=Counter)  # attribute -> items that have it
    types: dict[str, Counter[str]] = field(default_factory=dict)  # attribute -> DynamoDB type -> items
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (attribute, type) -> item keys


@dataclass
class _Table:
    """One table: its description, and what its Scan has counted so far (by all segments, under `lock`)."""

    name: str
    keys: tuple[str, ...]  # the partition key, then the sort key if any
    principal: bool  # a table of users (PRINCIPAL_TABLE): owner attributes elsewhere point at its partition keys
    stream: str = "no stream"
    roles: dict[str, str | None] = field(default_factory=dict)  # attribute -> "identity", "owner" or None
    items: int = 0
    consumed: float = 0.0  # read capacity units
    kinds: dict[str, _Kind] = field(default_factory=dict)
    values: dict[str, _Tally] = field(default_factory=dict)  # identity and owner attributes, partition keys
    markers: Counter[str] = field(default_factory=Counter)  # identity attribute -> uniqueness-marker items
    negatives: dict[str, "_Negatives"] = field(default_factory=dict)  # amount attribute -> its values below zero
    complete: bool = False  # every item was read
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, items: list[dict], consumed: float) -> None:
        with self.lock:
            self.consumed += consumed
            for item in items:
                self._add(item)

    def _add(self, item: dict) -> None:
        self.items += 1
        key_values = [_plain(item.get(name)) or "" for name in self.keys]
        prefixes = "/".join(v.split("#", 1)[0] + "#" if "#" in v else "" for v in key_values)
        kind = self.kinds.get(prefixes) or self.kinds.setdefault(
            prefixes if len(self.kinds) < KINDS_KEPT else "(other kinds)", _Kind())
        kind.items += 1
        shown_key = "/".join(key_values)
        reserved = _reserved_attribute(key_values[0])
        if reserved:
            self.markers[reserved] += 1
        for attribute, value in item.items():
            (type_,) = value.keys()
            kind.present[attribute] += 1
            types = kind.types.get(attribute)
            if types is None:
                types = kind.types[attribute] = Counter()
            types[type_] += 1
            samples = kind.samples.setdefault((attribute, type_), [])
            if len(samples) < SAMPLE_KEYS:
                samples.append(shown_key)
            role = self.roles[attribute] if attribute in self.roles else self.roles.setdefault(
                attribute, _role(self, attribute))
            if role == "amount":
                self._amount(attribute, value, shown_key)
            elif role is not None and not (reserved and role == "identity" and reserved == snake(attribute)):
                self.count_of(attribute, _plain(value))
        if self.principal:
            self.count_of(self.keys[0], key_values[0])

    def count_of(self, attribute: str, value: str | None) -> None:
        if value is not None:
            tally = self.values.get(attribute)
            if tally is None:
                tally = self.values[attribute] = _Tally()
            tally.add(value)

    def _amount(self, attribute: str, value: dict, key: str) -> None:
        number = _number(value)
        if number is not None and number < 0:
            negatives = self.negatives.get(attribute) or self.negatives.setdefault(attribute, _Negatives(number))
            negatives.add(number, key)

    def having(self, role: str) -> list[str]:
        return sorted(attribute for attribute, found in self.roles.items() if found == role)


@dataclass
class _Negatives:
    """The values below zero of one money or quantity attribute: how many, the lowest, the first items' keys."""

    lowest: Decimal
    items: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, number: Decimal, key: str) -> None:
        self.items += 1
        self.lowest = min(self.lowest, number)
        if len(self.samples) < SAMPLE_KEYS:
            self.samples.append(key)


def _role(table: _Table, attribute: str) -> str | None:
    """What PL313, PL312 or PL316 counts an attribute's values for, by its name (the vocabulary's, as the SQL
    audit): "identity" (an e-mail, a user name... of a table of people, a slug or an external id anywhere), "owner"
    (user_id, owner... outside the tables of users: a partition key too, the usual way to keep a user's items
    together), "amount" (a balance, a stock, a quantity...), or None. Key attributes are unique by construction."""
    name = snake(attribute)
    owner = OWNER_COLUMN.match(name) and not table.principal
    if attribute in table.keys:
        return "owner" if owner else None
    if IDENTITY_LIKE.match(name) and not EVENT_TABLE.search(table.name) and (
            table.principal or not PERSON_IDENTIFIER.match(name)):
        return "identity"
    if owner:
        return "owner"
    if MONEY_COLUMN.match(name):
        return "amount"
    return None


def _number(value: dict) -> Decimal | None:
    """A number attribute's value; None for any other type."""
    (type_, content), = value.items()
    if type_ != "N":
        return None
    try:
        return Decimal(content)
    except InvalidOperation:  # not from DynamoDB, which validates numbers
        return None


def _plain(value: dict | None) -> str | None:
    """A string, number or binary attribute value as text; None for any other type (or no value)."""
    if not value:
        return None
    (type_, content), = value.items()
    if type_ in ("S", "N"):
        return content
    if type_ == "B":
        return "0x" + bytes(content).hex()
    return None


def _reserved_attribute(partition_key: str) -> str | None:
    """The identity attribute whose value an item reserves, when it is a uniqueness marker (partition key
    `EMAIL#alice@example.com`, `UNIQUE#email#...`): the usual way to make an attribute unique in DynamoDB, the
    marker written in the same transaction as the item with `attribute_not_exists`."""
    found = _MARKER_KEY.match(partition_key)
    return snake(found.group(1)) if found and IDENTITY_LIKE.match(snake(found.group(1))) else None


_MARKER_KEY = re.compile(r"(?:unique[#:_-])?([A-Za-z][A-Za-z_]*)[#:]", re.I)


class DynamoAudit:
    """One DynamoDB audit run. `run()` returns the report; after an interrupt, `document()` has what was found."""

    def __init__(self, options: DynamoOptions) -> None:
        self.options = options
        self.target = _endpoint(options.endpoint) if options.endpoint is not None else "AWS DynamoDB"
        # The code is read first: a wrong --scan path is said before any request is sent.
        self.code = CodeFacts.read(list(options.scan)) if options.scan else None
        given = {name: Version(attribute) for name, attribute in options.version_attributes.items()}
        # Table names as the code writes them, without deployment decoration: the live `orders-prod` is `orders`.
        self.versions = {table_words(name): version
                         for name, version in {**(self.code.versions if self.code else {}), **given}.items()}
        self.findings: list[Finding] = []
        self.errors: list[ToolError] = []
        self.coverage: list[Coverage] = []
        self.tables = 0  # tables described
        self.tables_examined = 0  # tables whose every item was read
        self.consumed = 0.0  # read capacity units, all Scans together
        self._client = None

    def run(self, on_table: Callable[[str, int, int], None] | None = None) -> FindingsDocument:
        """Describe the tables, report their settings, then scan them one after the other (principal tables first,
        for PL312). `on_table(name, position, total)` is called before each table's Scan (progress)."""
        self._client = _client(self.options, self.target)
        names = self._names()
        if not names:
            raise AuditError(f"nothing to audit: {self.target} has no table")
        tables = [table for name in names if (table := self._describe(name)) is not None]
        if not tables:
            raise AuditError(f"nothing to audit: no table of {self.target} could be described "
                             f"({self.errors[0].message})")
        self.tables = len(tables)
        if self.options.selected & ITEM_RULES:
            tables.sort(key=lambda t: not t.principal)
            scanned: list[_Table] = []
            try:
                for position, table in enumerate(tables):
                    if on_table is not None:
                        on_table(table.name, position, len(tables))
                    scanned.append(table)
                    self._scan(table)
            finally:  # interrupted too: the findings on what was read (a table cut short is not `complete`)
                self._item_findings(scanned)
        return self.document()

    def document(self) -> FindingsDocument:
        selected = sorted((f for f in self.findings if f.rule_id in self.options.selected),
                          key=lambda f: (f.location.table, f.location.column or "", f.rule_id))
        errors = (*self.code.errors, *self.errors) if self.code is not None else self.errors
        return FindingsDocument(findings=tuple(selected), errors=tuple(errors), coverage=tuple(self.coverage))

    # -- the calls ---------------------------------------------------------------------------------------------

    def _call(self, what: str, call: Callable):
        """`call()`; any failure that leaves nothing to audit is an AuditError, in one line."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"{what} on {self.target} failed: {_reason(exc, self.target)}") from None

    def _names(self) -> list[str]:
        """The tables to audit: those named, a pattern's matches among ListTables's (`shop-prod-*`), or all."""
        given = self.options.tables
        if not any(_PATTERN.search(name) for name in given):
            return list(given) or self._call("ListTables", self._list_tables)
        listed = self._call("ListTables", self._list_tables)
        names: list[str] = []
        for name in given:
            matched = [table for table in listed if fnmatch.fnmatchcase(table, name)] if _PATTERN.search(name) \
                else [name]
            if not matched:
                raise AuditError(f"--table {name}: no table of {self.target} matches (see `aws dynamodb list-tables`)")
            names += [table for table in matched if table not in names]
        return names

    def _list_tables(self) -> list[str]:
        return [name for page in self._client.get_paginator("list_tables").paginate() for name in page["TableNames"]]

    def _describe(self, name: str) -> _Table | None:
        """The table's settings findings and its `_Table`; None (and an error entry) when it cannot be described."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            description = self._client.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException" and name in self.options.tables:
                raise AuditError(f"no table {name!r} on {self.target} (in its region); "
                                 "see `aws dynamodb list-tables`") from None
            if _code(exc) not in DENIED | {"ResourceNotFoundException"}:
                raise AuditError(f"DescribeTable on {self.target} failed: {_reason(exc, self.target)}") from None
            self.errors.append(ToolError(engine="audit", target=name, message=f"not audited: {_reason(exc, name)}"))
            return None
        except BotoCoreError as exc:  # the endpoint itself failed: nothing else will work either
            raise AuditError(f"DescribeTable on {self.target} failed: {_reason(exc, self.target)}") from None
        keys = tuple(k["AttributeName"] for k in sorted(description["KeySchema"], key=lambda k: k["KeyType"]))
        table = _Table(name=name, keys=keys, principal=bool(PRINCIPAL_TABLE.search(name)))
        self._settings(table, description)
        return table

    def _settings(self, table: _Table, description: dict) -> None:
        """PL314 and PL315 from the table's description; the stream's state goes to the coverage note."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not description.get("DeletionProtectionEnabled", False):
            self._finding("PL315", table.name, None, f"{table.name} has deletion protection off: one DeleteTable "
                          "call (a script, a console click, a stack removal) destroys every item",
                          {"deletion_protection": False})
        try:
            backups = self._client.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"]
        except (BotoCoreError, ClientError) as exc:
            self.errors.append(ToolError(engine="audit", target=table.name,
                                         message=f"point-in-time recovery not checked: {_reason(exc, table.name)}"))
        else:
            status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")
            if status != "ENABLED":
                self._finding("PL314", table.name, None, f"{table.name} has point-in-time recovery off: items "
                              "corrupted by a bad deployment or a race cannot be restored as they were",
                              {"point_in_time_recovery": status})
        stream = description.get("StreamSpecification") or {}
        table.stream = (f"stream on ({stream.get('StreamViewType', '?')})" if stream.get("StreamEnabled")
                        else "no stream")

    # -- the scan ----------------------------------------------------------------------------------------------

    def _scan(self, table: _Table) -> None:
        """Every item of the table, or as many as the budget buys, in parallel segments, folded into counters."""
        budget, segments = self.options.read_budget, self.options.segments
        stopped: list[str] = []  # why a segment stopped early (the budget, or an error's reason)

        def read(segment: int) -> None:
            start: dict | None = None
            while not interrupted.is_set():
                if table.consumed >= budget:
                    stopped.append("budget")
                    return
                arguments = {"TableName": table.name, "Segment": segment, "TotalSegments": segments,
                             "Limit": PAGE_ITEMS, "ReturnConsumedCapacity": "TOTAL"}
                if start:
                    arguments["ExclusiveStartKey"] = start
                page = self._client.scan(**arguments)
                table.add(page.get("Items", []), float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0)))
                start = page.get("LastEvaluatedKey")
                if not start:
                    return

        interrupted = threading.Event()  # Ctrl-C: each segment stops after its current page
        with ThreadPoolExecutor(segments, thread_name_prefix="plumbline-scan") as pool:
            futures = [pool.submit(read, segment) for segment in range(segments)]
            try:
                wait(futures)
            except BaseException:
                interrupted.set()
                raise
        for future in futures:
            if future.exception() is not None:
                stopped.append(self._scan_failure(table, future.exception()))
        table.complete = not stopped
        self.tables_examined += table.complete
        self.consumed += table.consumed
        note = (f"{count_of(table.items, 'item')} read in {segments} segments, {table.consumed:g} read capacity units "
                f"consumed (budget {budget:,g}); {table.stream}")
        if "budget" in stopped:
            note += "; stopped at the read budget: item findings are on part of the table (--read-budget)"
            self.errors.append(ToolError(engine="audit", target=table.name, message=f"the read budget of {budget:g} "
                                         f"capacity units was spent after {count_of(table.items, 'item')}: item "
                                         "findings are on part of the table"))
        self.coverage.append(Coverage(engine="audit", operation=f"Scan {table.name}", check="items",
                                      rules=tuple(sorted(self._item_rules(table))), status="ran",
                                      note=note))

    def _item_rules(self, table: _Table) -> set[str]:
        """The item rules that run on `table`: PL311 only where the scan named its version attribute."""
        rules = self.options.selected & ITEM_RULES
        return rules if self._version(table.name) is not None else rules - {"PL311"}

    def _version(self, table: str) -> Version | None:
        """The version attribute the code locks `table`'s items on, if it has one."""
        exact = self.versions.get(table_words(table))
        return exact or next((version for name, version in self.versions.items() if same_table(table, name)), None)

    def _scan_failure(self, table: _Table, error: BaseException) -> str:
        """An error entry for a segment that failed; the items read before it still count."""
        if isinstance(error, WriteRefused):
            raise error
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(error, (BotoCoreError, ClientError)):
            self.errors.append(ToolError(engine="audit", target=table.name, kind="internal", message=(
                f"internal error ({type(error).__name__}: {error}); please report it")))
            return "internal"
        reason = _reason(error, table.name)
        if not any(e.target == table.name and reason in e.message for e in self.errors):  # once, not per segment
            self.errors.append(ToolError(engine="audit", target=table.name, message=(
                f"the Scan stopped after {count_of(table.items, 'item')} ({reason}): item findings are on part "
                "of the table")))
        return reason

    # -- the item findings -------------------------------------------------------------------------------------

    def _item_findings(self, tables: list[_Table]) -> None:
        principals = [t for t in tables if t.principal]
        for table in tables:
            self._drift(table)
            self._versions(table)
            self._duplicates(table)
            self._orphans(table, principals)
            self._negative(table)

    def _drift(self, table: _Table) -> None:
        """PL310: an attribute most items of a kind have but some lack, or that items of one kind store with
        several types (kinds of a single-table design may use one name for different things)."""
        missing: Counter[str] = Counter()
        mixed: dict[str, Counter[str]] = {}  # attribute -> its types, in the kinds where they differ
        samples: dict[str, list[str]] = {}  # attribute -> keys of items of its rarest type
        for kind in table.kinds.values():
            for attribute, present in kind.present.items():
                if attribute in table.keys:
                    continue
                if 2 * present >= kind.items:
                    missing[attribute] += kind.items - present
                if len(kind.types[attribute]) > 1:
                    mixed.setdefault(attribute, Counter()).update(kind.types[attribute])
                    rarest = kind.types[attribute].most_common()[-1][0]
                    samples.setdefault(attribute, kind.samples[(attribute, rarest)])
        for attribute in sorted(set(mixed) | {a for a, n in missing.items() if n}):
            parts = [f"missing in {count_of(missing[attribute], 'item')}"] if missing[attribute] else []
            if attribute in mixed:
                parts.append("stored as " + ", ".join(f"{type_} in {count_of(n, 'item')}"
                                                      for type_, n in mixed[attribute].most_common()))
            self._finding("PL310", table.name, attribute, f"{table.name}.{attribute}: {'; '.join(parts)}, among "
                          f"{self._scope(table)}", {
                              "items_examined": table.items, "complete": table.complete,
                              "missing_items": missing[attribute], "types": dict(mixed.get(attribute, {})),
                              **({"sample_keys": samples[attribute]} if attribute in samples else {})},
                          severity="medium" if attribute in mixed else "low")

    def _versions(self, table: _Table) -> None:
        """PL311: items without the attribute the code's optimistic locking conditions on (known from the scan)."""
        version = self._version(table.name)
        if version is None:
            return
        attribute = version.attribute
        without = table.items - sum(kind.present[attribute] for kind in table.kinds.values())
        if without:
            said = f" ({version.how}, {version.at})" if version.at else ""
            self._finding("PL311", table.name, attribute, f"{table.name}: {count_of(without, 'item')} without "
                          f"{attribute}, the attribute its writes condition on{said}, among {self._scope(table)}",
                          {"items_examined": table.items, "complete": table.complete, "items_without": without,
                           **({"locked_at": version.at} if version.at else {})})

    def _duplicates(self, table: _Table) -> None:
        """PL313: identity values held by several items (uniqueness-marker items aside)."""
        for attribute in table.having("identity"):
            tally = table.values.get(attribute)
            held = [(value, n) for value, n in tally.counts.most_common() if n > 1] if tally else []
            if not held:
                continue
            items = sum(n for _, n in held)
            markers = table.markers[snake(attribute)]
            self._finding("PL313", table.name, attribute, (
                f"{table.name}.{attribute}: {count_of(len(held), 'value')} held by more than one item "
                f"({count_of(items, 'item')} in all), among {self._scope(table)}"
                f"{'' if markers else '; no uniqueness-marker item guards it'}"), {
                "items_examined": table.items, "complete": table.complete, "duplicated_values": len(held),
                "duplicate_items": items, "uniqueness_markers": markers,
                "sample_keys": shown_values(attribute, [value for value, _ in held[:SAMPLE_KEYS]]),
                **_not_kept(tally)})

    def _orphans(self, table: _Table, principals: list[_Table]) -> None:
        """PL312: owner values that are the partition key of no item of any users-like table."""
        if not table.having("owner") or not principals:
            return
        unread = [p.name for p in principals if not p.complete or p.values.get(p.keys[0], _Tally()).not_kept]
        if unread:
            self.errors.append(ToolError(engine="audit", target=table.name, message=(
                f"PL312 not checked: {', '.join(unread)} was not read to the end, an owner missing from it proves "
                "nothing")))
            return
        known = set().union(*(p.values.get(p.keys[0], _Tally()).counts for p in principals))
        users = ", ".join(sorted(p.name for p in principals))
        for attribute in table.having("owner"):
            tally = table.values.get(attribute)
            orphans = [(value, n) for value, n in tally.counts.most_common() if value not in known] if tally else []
            if not orphans:
                continue
            items = sum(n for _, n in orphans)
            self._finding("PL312", table.name, attribute, (
                f"{table.name}.{attribute}: {count_of(items, 'item')} {'points' if items == 1 else 'point'} at "
                f"{count_of(len(orphans), 'owner')} that "
                f"no item of {users} has as its key, among {self._scope(table)}"), {
                "items_examined": table.items, "complete": table.complete, "orphan_items": items,
                "orphan_values": len(orphans), "references": users,
                "sample_keys": shown_values(attribute, [value for value, _ in orphans[:SAMPLE_KEYS]]),
                **_not_kept(tally)})

    def _negative(self, table: _Table) -> None:
        """PL316: money or quantity attributes holding values below zero."""
        for attribute, negatives in sorted(table.negatives.items()):
            self._finding("PL316", table.name, attribute, (
                f"{table.name}.{attribute}: {count_of(negatives.items, 'item')} with a negative value (lowest "
                f"{negatives.lowest}), among {self._scope(table)}"), {
                "items_examined": table.items, "complete": table.complete, "negative_items": negatives.items,
                "lowest": str(negatives.lowest), "sample_keys": negatives.samples})

    @staticmethod
    def _scope(table: _Table) -> str:
        scope = f"{count_of(table.items, 'item')} read"
        return scope if table.complete else scope + " (the Scan stopped early: part of the table)"

    def _finding(self, rule_id: str, table: str, attribute: str | None, message: str, evidence: dict,
                 severity: str | None = None) -> None:
        scanned = self._explaining(rule_id, table, attribute)
        if scanned:  # a report shows the code and the damage as one issue
            evidence = {**evidence, "scan_findings": [{"rule": f.rule_id, "at": place(f)} for f in scanned]}
        self.findings.append(rule(rule_id).finding(
            location=SchemaLocation(table=table, column=attribute), message=message, confidence="high",
            backend="dynamodb", severity=severity, evidence={"table": table, **evidence}))


    def _explaining(self, rule_id: str, table: str, attribute: str | None) -> list[Finding]:
        """The scan's findings on `table` (as the code names it) that explain a `rule_id` finding (`EXPLAINED_BY`);
        one about some attributes only (PL301's `key`, PL303's `attributes`) explains a finding on one of them."""
        if self.code is None or rule_id not in EXPLAINED_BY:
            return []
        return [f for f in self.code.findings if _explains(f, rule_id) and same_table(table, f.evidence["table"])
                and (attribute is None or _about(f, attribute))]


def _explains(found: Finding, rule_id: str) -> bool:
    """Whether a scan finding is of a rule, with the evidence, that explains `rule_id` (`EXPLAINED_BY`)."""
    return any(found.rule_id == scanned and all(found.evidence.get(key) in values for key, values in wanted.items())
               for scanned, wanted in EXPLAINED_BY[rule_id])


def _about(found: Finding, attribute: str) -> bool:
    """Whether a scan finding concerns `attribute`: it names no attributes, or names it (or `*`, the whole item)."""
    named = found.evidence.get("key", found.evidence.get("attributes"))
    return not isinstance(named, list) or attribute in named or "*" in named


def _not_kept(tally: _Tally | None) -> dict:
    return {"values_not_counted": tally.not_kept} if tally and tally.not_kept else {}


def _code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def _reason(error: Exception, where: str) -> str:
    """Why a call failed, in one line and the user's terms (boto's messages carry no secret)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ("no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values "
                "for a local endpoint)")
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)):
        return f"DynamoDB does not answer at {where} (wrong --endpoint or --region, or no network)"
    if isinstance(error, ClientError):
        code, message = _code(error), error.response.get("Error", {}).get("Message", "")
        if code in THROTTLED:
            return f"throttled ({code}) after retries: lower --segments or --read-budget, or retry off-peak"
        if code in DENIED:
            return f"access denied ({code}): the credentials may not read it; {message}".rstrip("; ")
        if code == "ResourceNotFoundException":
            return "the table does not exist (deleted during the audit?)"
        return f"{code}: {message}"
    return " ".join(str(error).split())


def _endpoint(url: str) -> str:
    """The endpoint URL, as messages show it; AuditError for one that is no http(s) URL or carries credentials
    (AWS credentials sign DynamoDB requests: a URL never needs any, and so never shows one)."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is no number
        usable = False
    if not usable:
        raise AuditError("--endpoint: not an http:// or https:// URL (e.g. http://localhost:8000)")
    if parts.username is not None or parts.password is not None:
        raise AuditError("--endpoint: a DynamoDB endpoint takes no user or password (use AWS credentials)")
    return url


def _client(options: DynamoOptions, target: str):
    """A DynamoDB client that can only send `READ_OPERATIONS`; AuditError when it cannot be built."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, NoRegionError

    config = Config(connect_timeout=5, read_timeout=30, max_pool_connections=max(10, options.segments),
                    retries={"max_attempts": 5, "mode": "standard"})
    try:
        keys = dict(zip(("aws_access_key_id", "aws_secret_access_key"), options.credentials or ()))
        client = boto3.client("dynamodb", endpoint_url=options.endpoint, region_name=options.region, config=config,
                              **keys)
    except NoRegionError:
        raise AuditError("no AWS region: give --region, or set AWS_REGION or a profile's region") from None
    except BotoCoreError as exc:  # an unknown profile...
        raise AuditError(f"cannot use {target}: {_reason(exc, target)}") from None
    except ValueError as exc:  # an endpoint botocore cannot use
        raise AuditError(f"--endpoint: {exc}") from None
    client.meta.events.register("before-call.dynamodb", _refuse_writes)
    return client


def _refuse_writes(model, **_) -> None:
    if model.name not in READ_OPERATIONS:
        raise WriteRefused(f"the audit may only read; {model.name} refused")
