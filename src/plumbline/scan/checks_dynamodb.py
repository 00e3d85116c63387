"""PL3xx checks: the DynamoDB accesses of a handler (or a stream/queue consumer), with the key schemas the
project declares.

Each check reads the `DataOp`s whose api is "dynamodb" (see scan/models/dynamodb.py for their fields). Where a
table's keys are not declared anywhere, they are learnt from the `Key` dicts the code uses on that table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plumbline.findings import Confidence
from plumbline.scan.checks import Report, unit_check
from plumbline.scan.facts import NO_TAINT, DataOp, KeySchema, Span, Taint
from plumbline.scan.models.dynamodb import IDEMPOTENT_DECORATOR, RECORD_ID
from plumbline.scan.models.pynamodb import BUILT_OBJECT
from plumbline.scan.project import Project, Unit
from plumbline.vocabulary import (
    ID_COLUMN,
    MONEY_COLUMN,
    OWNER_COLUMN,
    PERSON_IDENTIFIER,
    is_quantity,
)

WRITES = ("insert", "upsert", "update", "delete")
# Tables of principals: reading one by a client-chosen name is a profile, login or availability lookup.
PRINCIPAL = re.compile(r"^(users?|accounts?|members?|customers?|profiles?|people|persons?|players?|logins?)$")
NOISE_WORDS = {"table", "tbl", "name", "dynamodb", "ddb", "dynamo", "env", "stage", "dev", "prod", "test"}
OWNER_KEY = re.compile(rf"{OWNER_COLUMN.pattern}|^(user_?name|username|email|user_?id|owner_?name|author)$",
                       re.IGNORECASE)
RAW_REQUEST = re.compile(r"^request\.\w+(\[.*\])?$")  # request.json, request.form['cell']: raw, unvalidated


# ---- the project's key schemas ----------------------------------------------------------------------------------


def table_words(name: str | None) -> str:
    """A table name without deployment decoration: `${self:service}-users-${stage}`, `USERS_TABLE` -> `users`."""
    if not name:
        return ""
    name = re.sub(r"\$\{[^}]*\}", " ", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w]
    return "_".join(w for w in words if w not in NOISE_WORDS) or "_".join(words)


@dataclass
class Schemas:
    """Key schemas by table and model name, and the key attributes seen in the code for tables declared nowhere."""

    declared: list[KeySchema]
    by_name: dict[str, KeySchema] = field(default_factory=dict)
    observed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    guarded: set[str] = field(default_factory=set)  # tables some handler reads only after an access check
    principal_keys: set[str] = field(default_factory=set)  # key attributes of the tables of users, accounts...

    @classmethod
    def build(cls, project: Project) -> Schemas:
        declared = [schema for module in project.modules for schema in module.key_schemas]
        schemas = cls(declared)
        for schema in declared:
            for name in (schema.name, schema.model):
                if name:
                    schemas.by_name.setdefault(name, schema)
                    schemas.by_name.setdefault(table_words(name), schema)
        for module in project.modules:
            for function in module.functions:
                if function.vouched:
                    for op in function.ops:
                        declared = schemas.of(op) if op.api == "dynamodb" else None
                        schemas.guarded |= {table_words(op.table),
                                            table_words(declared.name) if declared else ""} - {""}
                for op in function.ops:
                    named = [k for k in op.keys if not k.startswith(("<", "*"))]
                    if op.api == "dynamodb" and op.action in ("read", "update", "delete") and named and op.table:
                        known = schemas.observed.get(table_words(op.table), ())
                        if len(named) > len(known):
                            schemas.observed[table_words(op.table)] = tuple(named)
        schemas.principal_keys = {name for schema in schemas.declared if _principal(schema.name) or
                                  _principal(schema.model) for name in (schema.hash_key, schema.range_key) if name}
        schemas.principal_keys |= {name for table, names in schemas.observed.items() if _principal(table)
                                   for name in names}
        return schemas

    def of(self, op: DataOp) -> KeySchema | None:
        if op.table:
            found = self.by_name.get(op.table) or self.by_name.get(table_words(op.table))
            if found is not None:
                return found
            normal = table_words(op.table)
            ends = [s for name, s in self.by_name.items() if name and normal and
                    (name.endswith(normal) or normal.endswith(name))]
            if len({(s.hash_key, s.range_key) for s in ends}) == 1:
                return ends[0]
        named = set(op.keys) | set(op.writes)
        candidates = {(s.hash_key, s.range_key): s for s in self.declared if s.hash_key in named and not s.model}
        return next(iter(candidates.values())) if len(candidates) == 1 else None

    def key_attributes(self, op: DataOp) -> tuple[str | None, tuple[str, ...]]:
        """The partition key and all key attributes of the op's table, when known."""
        schema = self.of(op)
        if schema is not None:
            return schema.hash_key, tuple(a for a in (schema.hash_key, schema.range_key) if a)
        observed = self.observed.get(table_words(op.table), ())
        return (observed[0] if len(observed) == 1 else None), observed

    def key_values(self, op: DataOp) -> tuple[dict[str, Taint], str | None]:
        """Attribute -> value of the op's key (from `Key`, positional PynamoDB keys or a put's item), and the
        name of the partition key when known."""
        hash_key, attributes = self.key_attributes(op)
        schema = self.of(op)
        values: dict[str, Taint] = {}
        for name, taint in op.keys.items():
            if name == "<hash>" and schema is not None:
                values[schema.hash_key] = taint
            elif name == "<range>" and schema is not None and schema.range_key:
                values[schema.range_key] = taint
            elif op.statement is None or ID_COLUMN.match(name.lower()) or OWNER_KEY.match(name):
                values[name] = taint  # (a PartiQL WHERE names keys and other attributes alike)
        if op.action in ("insert", "upsert") and not op.keys:
            writes = dict(op.writes)
            if schema is not None:
                for label, name in (("<hash>", schema.hash_key), ("<range>", schema.range_key)):
                    if label in writes and name:
                        writes[name] = writes.pop(label)
            if attributes:
                values = {name: writes[name] for name in attributes if name in writes}
            else:
                values = {name: taint for name, taint in writes.items()
                          if ID_COLUMN.match(name.lower()) or PERSON_IDENTIFIER.match(name.lower())}
        return values, hash_key

    def names_user(self, attribute: str) -> bool:
        """Whether an owner-like key attribute names one of the app's users: it keys the app's table of principals,
        when the app has one (`owner_name` of a catalogue of GitHub repositories names no user of a `users` table
        keyed by `username`)."""
        return not self.principal_keys or attribute in self.principal_keys

    def catalogue(self, op: DataOp) -> bool:
        """A declared table with known attributes, none of which names an owner: nobody's items to protect. A
        declaration of key attributes only (CloudFormation's AttributeDefinitions) tells nothing of the others."""
        schema = self.of(op)
        keys = {schema.hash_key, schema.range_key, *(name for index in schema.indexes for name in index)} \
            if schema is not None else set()
        return schema is not None and bool(set(schema.attributes) - keys) and not any(
            OWNER_KEY.match(name) for name in schema.attributes) and not (
            {table_words(schema.name), table_words(schema.model), table_words(op.table)} & self.guarded)

    def versioned(self, op: DataOp) -> bool:
        schema = self.of(op)
        return schema is not None and schema.version is not None


def schemas_of(project: Project) -> Schemas:
    """The project's key schemas, built once per scan (the checks run unit by unit) and kept with the project."""
    if "dynamodb key schemas" not in project.derived:
        project.derived["dynamodb key schemas"] = Schemas.build(project)
    return project.derived["dynamodb key schemas"]


# ---- shared reading ---------------------------------------------------------------------------------------------


def _ops(unit: Unit, schemas: Schemas) -> list[DataOp]:
    """The unit's DynamoDB accesses; those of a class used like a PynamoDB model count only when the project
    declares that model (a `get` on a class of another library looks the same)."""
    return [op for op in unit.ops if op.api == "dynamodb" and
            not (_positional(op) and (schemas.of(op) is None or schemas.of(op).model is None))]


def _positional(op: DataOp) -> bool:
    return any(name in ("<hash>", "<range>", BUILT_OBJECT) for name in (*op.keys, *op.writes))


def _where(unit: Unit, op: DataOp) -> tuple[str, Span, Confidence]:
    return unit.paths.get(op.id, unit.module.path), op.span, "high" if unit.is_direct(op) else "medium"


def _kinds(unit: Unit) -> set[str]:
    return {entry.kind for entry in unit.function.entry_points}


def _handles_requests(unit: Unit) -> bool:
    return bool(_kinds(unit) - {"consumer"})


def _client(taint: Taint) -> frozenset[str]:
    return frozenset(o for o in taint.client if o != RECORD_ID)


def _principal(table: str | None) -> bool:
    words = table_words(table).split("_")
    return bool(words) and bool(PRINCIPAL.match(words[-1]))


def _same_table(a: DataOp, b: DataOp) -> bool:
    return not a.table or not b.table or table_words(a.table) == table_words(b.table) or a.table == b.table


def _shares_source(a: Taint, b: Taint) -> bool:
    """Both come from the same data; a whole body counts as the source of each of its fields."""
    return bool(a.reads & b.reads or a.params & b.params or any(
        x == y or y.startswith(f"{x}[") or x.startswith(f"{y}[") for x in _client(a) for y in _client(b)))


def _describe(op: DataOp) -> str:
    verb = {"read": "read", "insert": "put", "upsert": "put", "update": "update", "delete": "delete"}
    return f"{verb.get(op.action, op.action)} of {op.table or 'an item'} (line {op.span.line})"


# ---- PL301 -------------------------------------------------------------------------------------------------------


@unit_check("PL301")
def client_controlled_key(unit: Unit, report: Report) -> None:
    if not _handles_requests(unit):
        return
    project = report.project
    schemas = schemas_of(project)
    ops = _ops(unit, schemas)
    reads = {op.id: op for op in ops if op.action == "read"}
    vouched = unit.vouched
    tied_groups = {op.together for op in ops if op.together and any(v.identity for v in op.condition_values.values())}
    chosen: dict[int, frozenset[str]] = {}  # read id -> the client origins that chose its key, when nothing ties it
    reported: set[str] = set()  # tables already reported for this handler: one finding per table, at its first access
    for op in ops:  # in the order the handler runs them (a helper's lines are not the handler's)
        if op.action not in ("read", "upsert", "update", "delete") or op.sends:
            continue  # a conditional insert creates an item, it cannot reach one that exists
        values, hash_key = schemas.key_values(op)
        partition = {hash_key: values[hash_key]} if hash_key in values else values
        origins = frozenset().union(*(_client(v) for v in partition.values())) if partition else frozenset()
        loaded = [reads[r] for v in values.values() for r in v.reads if r in chosen]
        if not origins and loaded:
            origins = chosen[loaded[0].id]
        elif not loaded and any(r in reads for v in partition.values() for r in v.reads):
            continue  # a reference stored in rows read first, which the client did not choose: the rows' own
        if not origins or any(v.identity for v in values.values()):
            continue
        if op.action == "upsert" and any(OWNER_KEY.match(n) and v.identity for n, v in op.writes.items()):
            continue  # the caller's own new item: what it may overwrite is PL303's
        if origins & vouched or schemas.catalogue(op) or op.id in unit.owner_checked or op.together in tied_groups or \
                any(v.identity for v in op.condition_values.values()) or \
                any(read.id in unit.owner_checked for read in loaded):
            continue
        if op.action == "read":
            chosen[op.id] = origins
        if not project.has_callers:
            owner_keys = [name for name in values if OWNER_KEY.match(name) and schemas.names_user(name)]
            if op.action == "read" or not owner_keys or op.action in ("insert", "upsert") and _principal(op.table):
                continue  # an app without users protects no one's items, except those named by a user
        elif _principal(op.table) and op.action in ("read", "insert", "upsert"):
            continue  # a lookup by name (login, profile, availability) or a sign-up (PL303 judges overwrites)
        if table_words(op.table) in reported or \
                loaded and all(unit.is_direct(r) for r in loaded) and unit.is_direct(op):
            continue  # reported at the read that chose the item, or at the table's first access
        reported.add(table_words(op.table))
        path, where, confidence = _where(unit, op)
        key = ", ".join(sorted(partition)) or "key"
        report("PL301", path, where,
               f"{_describe(op)} uses a {key} chosen by the client ({', '.join(sorted(origins))}) and nothing ties "
               "the item to the caller: any caller reaches other users' items", confidence=confidence,
               evidence={"table": op.table, "operation": op.action, "key": sorted(partition),
                         "origins": sorted(origins)})


# ---- PL302 -------------------------------------------------------------------------------------------------------


@unit_check("PL302")
def unvalidated_item(unit: Unit, report: Report) -> None:
    if not _handles_requests(unit):
        return
    for op in _ops(unit, schemas_of(report.project)):
        if op.item is None:
            continue
        raw = sorted(o for o in op.item.client if RAW_REQUEST.match(o) or o.startswith("attribute name from request"))
        if not raw:
            continue
        path, where, confidence = _where(unit, op)
        how = "chooses attribute names of" if raw[0].startswith("attribute name") else "is stored as, or spread into,"
        report("PL302", path, where,
               f"request data ({', '.join(raw)}) {how} the item of this {_describe(op)} without validation: the "
               "client picks attributes such as keys, owner ids, versions or roles", confidence=confidence,
               evidence={"table": op.table, "origins": raw})


# ---- PL303 -------------------------------------------------------------------------------------------------------


@unit_check("PL303")
def unconditional_write(unit: Unit, report: Report) -> None:
    if not _handles_requests(unit):
        return  # a consumer replays what it was sent: PL305 judges what a replay repeats
    schemas = schemas_of(report.project)
    ops = _ops(unit, schemas)
    methods = {method for entry in unit.function.entry_points for method in entry.methods}
    lookups = _uniqueness_lookups(ops, schemas)
    for index, op in enumerate(ops):
        if op.action not in WRITES:
            continue
        before = [r for r in ops[:index] if r.action == "read"]  # (in the order the handler runs them)
        found = _overwrite(unit, op, before, schemas, methods, lookups.get(op.id))
        if found is None:
            continue
        message, how = found
        path, where, confidence = _where(unit, op)
        report("PL303", path, where, message, confidence=confidence, evidence={"table": op.table, **how})


def _overwrite(unit: Unit, op: DataOp, earlier: list[DataOp], schemas: Schemas, methods: set[str],
               lookup: DataOp | None) -> tuple[str, dict] | None:
    """Why this write, after the reads `earlier`, can silently destroy data, and how, as evidence: the `pattern`
    (hollow-condition, unguarded-decrement, delete-after-read, read-modify-write, check-then-put, key-overwrite,
    phantom-update) and, for a read-modify-write or a decrement, the `attributes` concerned; or None."""
    kinds = set(op.condition)
    if "hollow" in kinds:
        return (f"the condition of this {_describe(op)} puts a value where an attribute name belongs, so it holds "
                "for every item and protects nothing"), {"pattern": "hollow-condition"}
    spent = _unguarded_decrements(op)
    if spent and not schemas.versioned(op):
        return (f"this {_describe(op)} subtracts from {', '.join(spent)} with no condition on it "
                f"(ConditionExpression='{spent[0]} >= :amount'): an amount larger than what is left, or two "
                "concurrent requests, take it below zero"), {"pattern": "unguarded-decrement", "attributes": spent}
    protected = bool(kinds & {"compare", "absent"}) or schemas.versioned(op)
    if protected:
        return None
    values, _ = schemas.key_values(op)
    reads = {r.id: r for r in earlier}
    before = [r for r in earlier if _same_table(r, op) and not r.exclusive_with(op)]
    checked = [r for r in before if r.id in unit.checked and _checked_same(r, op, values)]
    if op.action == "delete" and op.batched and not checked and not any(values.values()):
        # Items handed to a batch from a list built in a loop: the ones the checks above looked at, as far as we know.
        checked = [r for r in before if r.id in unit.checked]
    if op.action == "delete":
        if checked:  # (a batch delete cannot carry a condition at all)
            return (f"this {_describe(op)} acts on what was read at line {checked[0].span.line} with no condition: "
                    "an item changed in between is deleted all the same"), {"pattern": "delete-after-read"}
        return None
    # A put that restores or copies another item (a revert to an archived revision) replaces by design.
    copy = op.action in ("insert", "upsert") and _copies_another_item(op, reads, values)
    # read, changed in Python, written back
    rewritten: dict[str, DataOp] = {}  # attribute -> the read it is written back from
    for name, value in op.writes.items() if not copy else ():
        for read in (reads[r] for r in value.reads if r in reads and _same_table(reads[r], op)):
            rewritten.setdefault(name, read)
    if rewritten and op.action in ("upsert", "update"):
        read = next(iter(rewritten.values()))
        return (f"{read.table or 'the item'} is read at line {read.span.line}, changed in Python and written "
                f"back by this {_describe(op)} without a condition on a version or the old value: a "
                "concurrent change between the read and the write is lost"), {
            "pattern": "read-modify-write", "attributes": sorted(rewritten)}
    # (a key the handler compared with the caller's identity names the caller's own item)
    client_key = any(_client(v) - unit.vouched and not v.identity for v in values.values())
    read_key = any(r in reads for v in values.values() for r in v.reads)
    if op.action in ("insert", "upsert") and checked and not copy:
        read = checked[0]
        return (f"{read.table or 'the table'} is checked at line {read.span.line} and then this put runs without "
                "attribute_not_exists: two concurrent requests both pass the check and the second silently "
                "replaces the first"), {"pattern": "check-then-put"}
    # A PUT to a client-named key replaces that item by design; a key derived from what was read (the next free
    # revision number) names an item the code means to be new.
    if op.action in ("insert", "upsert") and not op.batched and (client_key or read_key) and \
            (read_key or not (methods and methods <= {"PUT"})):
        _, attributes = schemas.key_attributes(op)
        if len(attributes) < 2 or read_key:
            chose = "derived from what was read (a probed next number)" if read_key else "the request chose"
            return (f"this {_describe(op)} stores a new item under a key {chose}, without "
                    "ConditionExpression='attribute_not_exists(...)': it silently replaces an existing item"), \
                {"pattern": "key-overwrite"}
    if lookup is not None:
        return (f"{lookup.table or 'the table'} is searched at line {lookup.span.line} for an item with the same "
                f"{', '.join(_looked_up(lookup, op, schemas))} and then this {_describe(op)} stores a new one: two "
                "concurrent requests both find none and both write (keep a uniqueness item keyed by that value, put "
                "with attribute_not_exists in the same transact_write_items)"), {"pattern": "check-then-put"}
    if op.action == "update" and client_key and op.writes and "present" not in kinds:
        return (f"this {_describe(op)} SETs attributes on a key the client chose without attribute_exists: for an "
                "unknown key it creates a phantom, half-built item"), {"pattern": "phantom-update"}
    return None


def _unguarded_decrements(op: DataOp) -> list[str]:
    """Money or quantities the update lowers in place (`SET balance = balance - :a`) that its condition does not
    bound; none when the condition could not be read (it may bound them)."""
    if op.action != "update" or "compare" in op.condition and not op.guards:
        return []
    return [name for name in op.decrements if (MONEY_COLUMN.match(name) or is_quantity(name))
            and name not in op.guards]


def _checked_same(read: DataOp, op: DataOp, values: dict[str, Taint]) -> bool:
    """The write is about what the checked read looked up: a key or attribute from the same source."""
    looked_up = list(read.keys.values())
    written = list(values.values()) + list(op.writes.values())
    return read.id in _union(values.values()).reads or any(_shares_source(a, b) for a in looked_up for b in written)


def _same_item(read: DataOp, values: dict[str, Taint]) -> bool:
    """The read fetched the item these key values name: the key was taken from it, or chosen by the same inputs."""
    key = _union(values.values())
    looked_up = _union(read.keys.values())
    return read.id in key.reads or bool(_client(key) or key.params) and \
        (_client(key), key.params) == (_client(looked_up), looked_up.params)


def _copies_another_item(op: DataOp, reads: dict[int, DataOp], values: dict[str, Taint]) -> bool:
    """Most attributes the put writes come from a read of another item (an archived revision restored, a template
    copied); what it takes from the item it replaces, if anything, is bookkeeping such as the next revision."""
    if not values:
        return False  # which item it writes is unknown (a whole item put back as read)
    same = other = 0
    for name, value in op.writes.items():
        sources = [reads[r] for r in value.reads if r in reads and name not in values and _same_table(reads[r], op)]
        if any(_same_item(read, values) for read in sources):
            same += 1
        elif sources:
            other += 1
    return other > same


def _uniqueness_lookups(ops: list[DataOp], schemas: Schemas) -> dict[int, DataOp]:
    """Put -> the read before it that searched the table for an item with a value the put stores in a non-key
    attribute (`Credential.name == data["name"]` on an index, then a new credential with that name): the check of a
    uniqueness rule that no key enforces. One put per search, the last (a create may also write history items)."""
    found: dict[int, DataOp] = {}
    for index, read in enumerate(ops):
        if read.action != "read":
            continue
        stores = [op for op in ops[index + 1:] if op.action in ("insert", "upsert") and not op.batched and
                  _same_table(read, op) and _looked_up(read, op, schemas)]
        if stores:
            found[stores[-1].id] = read
    return found


def _looked_up(read: DataOp, op: DataOp, schemas: Schemas) -> list[str]:
    """Non-key attributes the put writes with the client value the read searched for by equality."""
    _, key_attributes = schemas.key_attributes(op)
    searched = {**read.keys, **read.condition_values}
    return sorted(name for name, value in op.writes.items() if name in searched and name not in key_attributes
                  and not name.startswith("<") and _client(searched[name]) and _client(value)
                  and _shares_source(searched[name], value))


def _union(taints) -> Taint:
    found = NO_TAINT
    for taint in taints:
        found = found | taint
    return found


# ---- PL304 -------------------------------------------------------------------------------------------------------


@unit_check("PL304")
def non_atomic_multi_write(unit: Unit, report: Report) -> None:
    if not unit.is_entry_point or not report.may_compare("PL304", unit):
        return
    writes = [op for op in _ops(unit, schemas_of(report.project)) if op.mutates]  # in the order they run
    moving = _moves(writes)
    for op in writes:
        if op.batched and op.id not in moving:
            path, where, confidence = _where(unit, op)
            report("PL304", path, where, f"this {_describe(op)} is part of a batch write, which is not atomic: a "
                   "failure or unprocessed item leaves the batch half applied", confidence=confidence)
            return
    for index, later in enumerate(writes):
        for earlier in writes[:index]:
            if earlier.span.line == later.span.line or earlier.together and earlier.together == later.together:
                continue
            if earlier.exclusive_with(later):
                continue
            if earlier.action in ("insert", "upsert") and later.action == "delete" and not _same_table(earlier, later):
                continue  # copy, then delete the original: a failure leaves the copy, and it can be re-run
            path, where, confidence = _where(unit, later)
            report("PL304", path, where,
                   f"{_describe(earlier)} and this {_describe(later)} are separate writes, not one "
                   "transact_write_items: a failure between them leaves half of the change", confidence=confidence)
            return


def _moves(writes: list[DataOp]) -> set[int]:
    """Ids of the writes that move items to another table: puts there, then deletes here (an archive). Each step
    can be re-run after a partial failure, and the originals go only once their copies are stored."""
    moving: set[int] = set()
    for index, put in enumerate(writes):
        if put.action not in ("insert", "upsert"):
            continue
        deletes = [op.id for op in writes[index + 1:] if op.action == "delete" and not _same_table(put, op)]
        if deletes:
            moving |= {put.id, *deletes}
    return moving


# ---- PL305 -------------------------------------------------------------------------------------------------------


@unit_check("PL305")
def non_idempotent_consumer(unit: Unit, report: Report) -> None:
    if "consumer" not in _kinds(unit) or any(IDEMPOTENT_DECORATOR.search(d) for d in unit.function.decorators):
        return
    ops = [op for op in unit.ops if op.api == "dynamodb"]
    if any(_deduplicates(op) for op in ops):
        return
    for op in ops:
        effect = _repeated_effect(op)
        if effect is None:
            continue
        path, where, confidence = _where(unit, op)
        report("PL305", path, where,
               f"this stream/queue consumer {effect} for every delivery and does not deduplicate on the record's "
               "eventID / sequence number / message id: a redelivered or retried batch applies it again",
               confidence=confidence)
        return


def _deduplicates(op: DataOp) -> bool:
    """A conditional put or check of the record's own id: a replay fails on it."""
    if "absent" not in op.condition and "compare" not in op.condition:
        return False
    values = list(op.keys.values()) + list(op.writes.values()) + list(op.condition_values.values())
    return any(RECORD_ID in value.client for value in values)


def _repeated_effect(op: DataOp) -> str | None:
    if op.sends:
        return f"sends a message ({op.sends})"
    if op.atomic and op.action in ("update", "upsert"):
        return f"adds to {', '.join(op.atomic)} ({_describe(op)})"
    if op.action in ("insert", "upsert") and "absent" not in op.condition and op.writes and \
            not any(value.client for value in op.writes.values()):
        return f"puts an item under a key of its own making ({_describe(op)})"
    return None
