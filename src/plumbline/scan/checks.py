"""The scan checks: one small function per rule, over the facts of a function (`Unit`) or of the schema.

A check reads facts and calls `report`; the rule (plumbline.rules) supplies severity, CWE, OWASP id
and the fix for the project's backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Callable

from plumbline.findings import Confidence, Finding, Severity, SourceLocation, ToolError
from plumbline.rules import get as rule
from plumbline.scan.facts import (
    COLLECTION_MEMBER,
    COLLECTION_OWNER,
    Column,
    DataOp,
    EntryPoint,
    Function,
    NO_TAINT,
    Span,
    Table,
    Taint,
)
from plumbline.scan.inserts import Insert, RequiredInputs, inserts
from plumbline.scan.project import MAX_UNIT_INLINED, Project, Unit
from plumbline.scan.schema import is_unique, unique_covering
from plumbline.vocabulary import (
    EVENT_TABLE,
    ID_COLUMN,
    IDENTITY_LIKE,
    MONEY_COLUMN,
    OWNER_COLUMN,
    PERSON_IDENTIFIER,
    RANDOM_VALUE,
    COUNTED_AMOUNT,
    NUMERIC_TYPE,
    UNIQUE_VIOLATION,
    VERSION_COLUMN,
)

UnitCheck = Callable[[Unit, "Report"], None]
SchemaCheck = Callable[[Project, "Report"], None]
UNIT_CHECKS: dict[str, UnitCheck] = {}
SCHEMA_CHECKS: dict[str, SchemaCheck] = {}

# Rules that compare a handler's ops pair by pair cost n² for n ops; a scan spends at most this many pairs on them
# (real code bases need thousands; a generated or hostile file could ask for billions).
MAX_PAIRS = 20_000_000


@dataclass
class Report:
    project: Project
    selected: set[str]
    findings: list[Finding] = field(default_factory=list)
    _seen: set[tuple[str, str, int, str | None]] = field(default_factory=set)
    pairs_left: int = MAX_PAIRS
    uncompared: dict[str, set[str]] = field(default_factory=dict)  # rule -> functions it had no pairs left for
    # The requests that reach the unit being checked, named in its findings' evidence (a report matches them with
    # the probe's operations); empty for the schema checks.
    entry_points: list[EntryPoint] = field(default_factory=list)

    def may_compare(self, rule_id: str, unit: Unit) -> bool:
        """Whether `rule_id` may compare the ops of `unit` pair by pair within the scan's MAX_PAIRS."""
        cost = len(unit.ops) ** 2
        if cost > self.pairs_left:
            self.uncompared.setdefault(rule_id, set()).add(unit.function.qualname)
            return False
        self.pairs_left -= cost
        return True

    def __call__(self, rule_id: str, path: str, where: Span, message: str, *, confidence: Confidence = "high",
                 severity: Severity | None = None, evidence: dict | None = None) -> None:
        # One finding per rule and line, but per column for the schema's: `CREATE TABLE users (email TEXT, name
        # TEXT)` on one line has two columns to report.
        about = (evidence or {}).get("column")
        key = (rule_id, path, where.line, about if isinstance(about, str) else None)
        if rule_id not in self.selected or key in self._seen:
            return
        self._seen.add(key)
        location = SourceLocation(path=path, line=where.line, column=where.column, end_line=where.end_line)
        evidence = dict(evidence or {})
        if self.entry_points:
            evidence["entry_points"] = [{"kind": entry.kind, "name": entry.name, "methods": list(entry.methods)}
                                        for entry in self.entry_points]
        self.findings.append(rule(rule_id).finding(
            location=location, message=message, confidence=confidence, backend=self.project.backend,
            severity=severity, evidence=evidence,
        ))


def unit_check(rule_id: str):
    def register(function: UnitCheck) -> UnitCheck:
        UNIT_CHECKS[rule_id] = function
        return function
    return register


def schema_check(rule_id: str):
    def register(function: SchemaCheck) -> SchemaCheck:
        SCHEMA_CHECKS[rule_id] = function
        return function
    return register


def run(project: Project, selected: set[str]) -> tuple[list[Finding], list[ToolError]]:
    """Findings, and the places where a check failed (a bug of ours costs that check there, not the scan)."""
    report = Report(project, selected)
    errors: list[ToolError] = []

    def guarded(rule_id: str, where: str, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception as exc:
            errors.append(ToolError(engine="scan", target=where, message=f"internal error in {rule_id} "
                                    f"({type(exc).__name__}: {exc}); please report it", kind="internal"))

    active = {rule_id: check for rule_id, check in UNIT_CHECKS.items() if rule_id in selected}
    for function, module in project.functions() if active else ():
        if not project.may_hold_ops(function, module):
            continue  # every unit check reads the unit's ops: none, nothing to check
        where = f"{module.path}:{function.qualname}"
        units: list[Unit] = []
        guarded("the project view", where, lambda: units.append(project.unit(function, module)))
        for unit in units:
            if unit.truncated:
                errors.append(_incomplete(where, f"stopped following its calls after taking {MAX_UNIT_INLINED:,} "
                                                 "data operations and calls from them"))
            sql_unit = _sql_view(unit)
            report.entry_points = unit.function.entry_points
            for rule_id, check in active.items():
                guarded(rule_id, where, lambda: check(sql_unit if rule_id in SQL_RULES else unit, report))
    report.entry_points = []
    for rule_id, check in SCHEMA_CHECKS.items():
        if rule_id in selected:
            guarded(rule_id, "schema", lambda: check(project, report))
    if active and project.inlining_left <= 0:
        errors.append(_incomplete("calls", "stopped following calls into other functions: together they hold "
                                           "more data operations than a scan follows"))
    for rule_id, functions in sorted(report.uncompared.items()):
        errors.append(_incomplete(rule_id, f"{rule_id} not checked in {len(functions)} functions (such as "
                                           f"{min(functions)}): comparing their data operations pair by pair "
                                           f"passes the scan's limit of {MAX_PAIRS:,} pairs"))
    return report.findings, errors


# Rules about SQL transactions, locks and constraints: DynamoDB accesses are the PL3xx checks' (PartiQL text still
# reaches PL101).
SQL_RULES = ("PL102", "PL103", "PL104", "PL105", "PL106", "PL201")


def _sql_view(unit: Unit) -> Unit:
    """The unit without its DynamoDB accesses, for the SQL rules."""
    if not any(op.api == "dynamodb" for op in unit.ops):
        return unit
    return replace(unit, ops=[op for op in unit.ops if op.api != "dynamodb"])


def _incomplete(target: str, reason: str) -> ToolError:
    """An analysis stopped short on purpose (a generated or hostile tree): findings may be missing there."""
    return ToolError(engine="scan", target=target, message=f"{reason} (generated code?): findings may be missing",
                     kind="internal")


def _where(unit: Unit, op: DataOp) -> tuple[str, Span, Confidence]:
    """File and place of an op, and how sure a finding about it is (less when it came through a helper)."""
    return unit.paths.get(op.id, unit.module.path), op.span, "high" if unit.is_direct(op) else "medium"


def _origins(taint: Taint) -> str:
    return ", ".join(sorted(taint.client)) or "client input"


def _describe(op: DataOp) -> str:
    verb = {"read": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "upsert": "UPSERT"}
    return f"{verb.get(op.action, op.action.upper())} {op.table or '?'} (line {op.span.line})"


def _describe_in(unit: Unit, op: DataOp, path: str) -> str:
    """`_describe`, naming the op's file when it is not `path` (a helper's statement, reported in the handler)."""
    written_in = unit.paths.get(op.id, unit.module.path)
    return _describe(op) if written_in == path else f"{_describe(op)[:-1]} of {written_in})"


def _line_in(unit: Unit, op: DataOp, path: str) -> str:
    """Where `op` is, for a message about `path`: its line, and its file when it is written in another one."""
    written_in = unit.paths.get(op.id, unit.module.path)
    return f"line {op.span.line}" if written_in == path else f"line {op.span.line} of {written_in}"


def _same_source(a: Taint, b: Taint) -> bool:
    return bool(a.client & b.client or a.params & b.params or a.reads & b.reads or a.identity and b.identity)


# ---- PL1xx: handlers and their SQL ---------------------------------------------------------------


@unit_check("PL101")
def sql_injection(unit: Unit, report: Report) -> None:
    """Client data interpolated into SQL text; or, in a function no caller in the project is seen to call, one of
    its parameters (nothing shows the value to be safe: medium confidence)."""
    for op in unit.ops:
        if op.interpolated is None:
            continue
        path, where, confidence = _where(unit, op)
        statement = f": {op.statement[:120]}" if op.statement else ""
        if op.interpolated.injectable:
            report("PL101", path, where, f"SQL text is built from {_origins(op.interpolated)}{statement}",
                   confidence="medium" if op.dynamic_sql else confidence,
                   evidence={"statement": op.statement, "interpolated": sorted(op.interpolated.client)})
        elif _unvouched_parameters(op, unit) and not report.project.is_called(unit.function):
            names = ", ".join(sorted(_unvouched_parameters(op, unit)))
            report("PL101", path, where, f"SQL text is built from parameter {names} of {unit.function.name}(), "
                   f"which no caller in the scanned code shows to be safe{statement}", confidence="medium",
                   evidence={"statement": op.statement, "parameters": sorted(op.interpolated.raw_params)})


def _unvouched_parameters(op: DataOp, unit: Unit) -> frozenset[str]:
    """Parameters of the unit's function interpolated into the text of `op` uncast, when nothing can tell what they
    hold: not `self` (the object's state), not in tests, not in a hook a library calls with its own values."""
    if op.dynamic_sql or unit.function.name.startswith("test") or "tests/" in f"/{unit.module.path}" or \
            any(d.endswith(("listens_for", "listen")) for d in unit.function.decorators):
        return frozenset()
    return op.interpolated.raw_params - {"self", "cls"}


@unit_check("PL102")
def lost_update(unit: Unit, report: Report) -> None:
    if not unit.is_entry_point:
        return  # a request-handling rule: helpers are judged inside the handlers that call them
    if not report.may_compare("PL102", unit):
        return
    project = report.project
    reads = {op.id: op for op in unit.ops if op.action == "read" and op.table}
    order = {op.id: position for position, op in enumerate(unit.ops)}  # the order the unit runs its ops in
    updates = (_column_append(op, unit, project) or op for op in unit.ops)
    for write in (op for op in updates if op.action == "update" and op.table):
        table = project.table(write.table, unit.module.path)
        if table is not None and table.versioned or any(VERSION_COLUMN.match(g) for g in write.guards):
            continue
        guarded = set(write.guards)
        for column, value in write.writes.items():
            if _not_a_column(table, column):
                continue
            sources = [reads[r] for r in value.reads if r in reads and reads[r].table == write.table
                       and _same_row(reads[r], write)]
            for read in sources:
                if column in guarded or _protected(read, write, project):
                    continue
                _report_lost_update(unit, report, read, write, column, project, kind="computed")
                break
        for column in write.decrements:
            if column in guarded:
                continue
            gating = [r for r in reads.values() if r.table == write.table and r.id in unit.checked
                      and r.span.line < write.span.line and not r.exclusive_with(write) and _same_row(r, write)]
            for read in gating:
                if _protected(read, write, project) or table is not None and column in table.columns and \
                        table.columns[column].check:
                    continue
                _report_lost_update(unit, report, read, write, column, project, kind="spent")
                break
        _state_change(unit, report, write, table, reads, order)
    for delete in (op for op in unit.ops if op.action == "delete" and op.table and "<loaded>" in op.keys):
        _spent_row(unit, report, delete, reads, order)


def _spent_row(unit: Unit, report: Report, delete: DataOp, reads: dict[int, DataOp], order: dict[int, int]) -> None:
    """`code = session.get(Code, cid); if code.value != given: abort(); session.delete(code); session.add(User(...))`:
    a row checked in Python, then deleted as the price of an INSERT (a single-use code, an invite, a reserved item).
    Two requests pass the check together; the second DELETE finds no row and says nothing (the ORM only warns), and
    both INSERTs go through. Deleting a row and inserting nothing (or only after re-reading it) is not reported."""
    checked = [r for r in reads.values() if r.id in delete.keys["<loaded>"].reads and r.id in unit.checked
               and r.table == delete.table and order[r.id] < order[delete.id] and not r.exclusive_with(delete)]
    for read in checked:
        if _protected(read, delete, report.project):
            continue
        bought = next((op for op in unit.ops if op.action == "insert" and op.table != delete.table
                       and order[op.id] > order[delete.id] and not op.exclusive_with(delete)
                       and collection_parts(op) is None), None)
        if bought is None:
            return
        path, where, confidence = _where(unit, delete)
        separate = read.txn != delete.txn or delete.txn_kind == "autocommit"
        scope = ("in separate transactions, so no isolation level prevents it" if separate
                 else "in one transaction at READ COMMITTED without FOR UPDATE")
        report("PL102", path, where,
               f"{delete.table} row read at line {read.span.line} is checked in Python, then deleted at line "
               f"{delete.span.line} as the price of {_describe_in(unit, bought, path)}, {scope}: concurrent requests "
               "both pass the check, the second DELETE removes nothing and both inserts go through",
               confidence=confidence, evidence={"read": read.statement, "write": delete.statement,
                                                "separate_transactions": separate})
        return


def _column_append(op: DataOp, unit: Unit, project: Project) -> DataOp | None:
    """`task.voter_ids.append(me)` (or `.remove(me)`) on an ARRAY/JSON column: the UPDATE that writes the loaded
    list back whole."""
    parts = collection_parts(op)
    table = project.table(parts[0], unit.module.path) if parts else None
    if table is None or parts[1] not in table.columns:
        return None
    owner = op.keys[COLLECTION_OWNER]
    return replace(op, action="update", table=project.table_name(parts[0]), keys={"<loaded>": owner},
                   writes={parts[1]: owner | op.writes[COLLECTION_MEMBER]})


def _not_a_column(table: Table | None, attribute: str) -> bool:
    """A plain attribute or a relationship of a model the schema knows: writing it writes back no column."""
    return table is not None and bool(table.columns) and attribute != "*" and attribute not in table.columns


def collection_parts(op: DataOp) -> tuple[str, str] | None:
    """The model and attribute of a collection append or removal (`("Attendee", "workshops")`), or None for any
    other op."""
    if op.api != "orm" or op.action not in ("insert", "delete") or COLLECTION_OWNER not in op.keys or not op.table:
        return None
    model, _, attribute = op.table.rpartition(".")
    return model, attribute


def _state_change(unit: Unit, report: Report, write: DataOp, table: Table | None, reads: dict[int, DataOp],
                  order: dict[int, int]) -> None:
    """`if invite.used: abort(); invite.used = True`: an attribute tested in Python, then set to a value that does
    not come from the client (a constant, the time, the caller) with nothing in the UPDATE asking for the old value
    (`WHERE used = false`). Two requests pass the check together and both act on it: reported when that matters,
    when each writes its own caller (`tool.lent_to = me`) or the check also gates another write (the attendee an
    invite admits). Setting a flag twice to one value and nothing else (`if msg.unread: msg.unread = False`) is not."""
    for column, value in write.writes.items():
        if column in write.guards or column in write.keys or value.client or value.reads:
            continue  # a compare-and-set, a client's edit, or a value computed from a read (see lost_update)
        if _not_a_column(table, column):
            continue
        tested = [r for r in reads.values() if (r.id, column) in unit.tested and r.table == write.table
                  and order[r.id] < order[write.id] and not r.exclusive_with(write) and _same_row(r, write)]
        for read in tested:
            if _protected(read, write, report.project):
                continue
            gated = (op.mutates and order[op.id] > order[read.id] and op.id != write.id and not op.exclusive_with(write)
                     and not (op.table == write.table and _same_row(read, op)) for op in unit.ops)
            if value.identity or any(gated):
                _report_lost_update(unit, report, read, write, column, report.project, kind="state")
                break


def _same_row(read: DataOp, write: DataOp) -> bool:
    """Both select the row by the same value (or the write targets the row the read returned)."""
    if "<loaded>" in write.keys:
        return read.id in write.keys["<loaded>"].reads
    shared = set(read.keys) & set(write.keys)
    if any(_same_source(read.keys[c], write.keys[c]) for c in shared):
        return True
    return any(read.id in value.reads for value in write.keys.values())


def _protected(read: DataOp, write: DataOp, project: Project) -> bool:
    """The read cannot go stale before the write: a row lock, or SERIALIZABLE isolation in one transaction."""
    same_transaction = read.txn == write.txn and write.txn_kind != "autocommit"
    if not same_transaction:
        return False
    if read.for_update:
        return True
    return project.backend == "cockroachdb" or bool({"serializable", "repeatable read"} & project.hints)


LOST_UPDATE_HOW = {
    "computed": "used to compute the value written back",
    "spent": "checked in Python, then decremented without a guard",
    "state": "tested in Python, then set without asking for its old value in the UPDATE",
}


def _report_lost_update(unit: Unit, report: Report, read: DataOp, write: DataOp, column: str, project: Project,
                        *, kind: str) -> None:
    """`kind`: how the read value leads to the write (LOST_UPDATE_HOW); a checked one is worse across transactions."""
    path, where, confidence = _where(unit, write)
    separate = read.txn != write.txn or write.txn_kind == "autocommit"
    how = LOST_UPDATE_HOW[kind]
    check_then_act = kind != "computed"
    scope = ("in separate transactions, so no isolation level prevents it" if separate
             else "in one transaction at READ COMMITTED without FOR UPDATE")
    report("PL102", path, where,
           f"{write.table}.{column} is read at line {read.span.line} and {how} at line {write.span.line}, {scope}: "
           f"{'concurrent requests both pass the check' if kind == 'state' else 'concurrent requests lose updates'}",
           confidence=confidence,
           severity="critical" if separate and check_then_act else None,
           evidence={"read": read.statement, "write": write.statement, "separate_transactions": separate})


@unit_check("PL103")
def missing_retry(unit: Unit, report: Report) -> None:
    if not unit.is_entry_point:
        return  # a request-handling rule: helpers are judged inside the handlers that call them
    if report.project.backend != "cockroachdb" or not report.may_compare("PL103", unit):
        return
    transactions: dict[int, list[DataOp]] = {}
    for op in unit.ops:
        if op.txn_kind != "autocommit" and op.action != "other":
            transactions.setdefault(op.txn, []).append(op)
    for ops in transactions.values():
        together = any(not a.exclusive_with(b) for a, b in combinations(ops, 2))
        if not together or all(op.retried for op in ops):
            continue
        if not any(op.mutates or op.for_update for op in ops):
            continue
        first = min(ops, key=lambda op: op.span.line)
        path, where, confidence = _where(unit, first)
        listed = ", ".join(_describe(op) for op in sorted(ops, key=lambda op: op.span.line)[:4])
        report("PL103", path, where,
               f"transaction of {len(ops)} statements ({listed}) is not retried on serialization failure "
               "(SQLSTATE 40001): under contention CockroachDB aborts it and the request fails",
               confidence=confidence if ops[0].txn_kind == "explicit" else "medium")


@unit_check("PL104")
def check_then_insert(unit: Unit, report: Report) -> None:
    if not unit.is_entry_point:
        return  # a request-handling rule: helpers are judged inside the handlers that call them
    if not report.may_compare("PL104", unit):
        return
    project = report.project
    order = {op.id: position for position, op in enumerate(unit.ops)}  # the order the unit runs its ops in
    for insert in unit.ops:
        if insert.action == "insert" and insert.table and collection_parts(insert) is not None:
            _collection_check_then_add(unit, report, insert, order)
        elif insert.action == "insert" and insert.api == "orm" and insert.table:
            _probing_default(unit, report, insert)
    for check, insert, columns in _checked_inserts(unit, order):
        table = project.table(insert.table, unit.module.path)
        path, where, confidence = _insert_site(unit, check, insert)
        names = ", ".join(sorted(columns))
        checked = f"{'deleted' if check.action == 'delete' else 'checked'} at {_line_in(unit, check, path)}"
        if table is not None and unique_covering(table, columns):
            if any(UNIQUE_VIOLATION.search(name) for name in insert.handled):
                continue
            report("PL104", path, where,
                   f"{insert.table} ({names}) is {checked} before this insert; the UNIQUE "
                   "constraint holds, but a concurrent duplicate raises a unique violation this code does not handle",
                   confidence=confidence, severity="low")
            continue
        what = "uniqueness of" if check.action == "read" else "the row of"
        report("PL104", path, where,
               f"{what} {insert.table} ({names}) is {checked} and then inserted, "
               f"with no UNIQUE constraint on ({names}){'' if table else ' in the known schema'}: "
               "concurrent requests insert duplicates",
               confidence=confidence if table is not None else "medium")


def _probing_default(unit: Unit, report: Report, insert: DataOp) -> None:
    """`slug = Column(default=generate_slug)`, the default looking its table up by the value until none is found
    (`while Dashboard.query.filter(Dashboard.slug == slug).first(): ...`): a check-then-insert the insert runs
    through the column default. Reported when the insert leaves the column to it and nothing keeps it unique."""
    project = report.project
    table = project.table(insert.table, unit.module.path)
    if table is None:
        return
    for column in table.columns.values():
        if not column.default or column.name in insert.writes or unique_covering(table, {column.name}):
            continue
        module = project.module_at(column.path or table.path)
        found = project.resolve(column.default, module) if module is not None else None
        probe = next((op for op in found[0].ops if op.action == "read" and column.name in op.keys
                      and project.table(op.table, module.path) is table), None) if found is not None else None
        if probe is None:
            continue
        path, where, confidence = _where(unit, insert)
        report("PL104", path, where,
               f"{table.name}.{column.name} is chosen by its default {column.default}(), which looks the value up at "
               f"line {probe.span.line} of {module.path} until none is found; with no UNIQUE constraint on "
               f"{column.name}, concurrent inserts take the same value", confidence="medium")


def _checked_inserts(unit: Unit, order: dict[int, int]):
    """(check, insert, columns) for each insert whose values were first looked up: an earlier read of its table,
    tested in a condition, keyed by `columns` with the values the insert writes (the first such read); or an earlier
    DELETE by them and by a value that names the row (`name`, not only ids), an upsert emulated by delete-then-insert.
    A relationship the insert sets (`user=me`) writes its foreign key (`user_id`)."""
    for insert in unit.ops:
        if insert.action != "insert" or not insert.table or collection_parts(insert) is not None:
            continue
        written = {**{f"{column}_id": value for column, value in insert.writes.items()}, **insert.writes}
        for check in unit.ops:
            if check.action not in ("read", "delete") or check.table != insert.table or \
                    order[check.id] > order[insert.id] or check.exclusive_with(insert):
                continue
            if check.action == "read" and check.id not in unit.checked or \
                    check.action == "delete" and all(ID_COLUMN.match(column) for column in check.keys):
                continue  # a DELETE by ids only clears a parent's rows to write new ones: a replaced collection
            columns = {c for c, value in check.keys.items() if c in written and value
                       and _same_source(value, written[c])}
            if any(c in ("id", "pk", "uuid") and c not in written for c in check.keys):
                continue  # a row looked up by its own id (`filter_by(id=rental_id, member_id=me)`): no duplicate sought
            if columns:
                yield check, insert, columns
                break


def _insert_site(unit: Unit, check: DataOp, insert: DataOp) -> tuple[str, Span, Confidence]:
    """Where a check-then-insert is reported: at the insert; at the handler's line of the call that inserts when
    the check and the insert are two steps of the handler (each in a helper of another file: `if
    user.get_task(name): ...` then `user.launch_task(name)`)."""
    path, where, confidence = _where(unit, insert)
    if path != unit.module.path and insert.id in unit.tops and unit.tops.get(check.id) != unit.tops[insert.id]:
        return unit.module.path, unit.tops[insert.id], confidence
    return path, where, confidence


@unit_check("PL201")
def natural_key_without_unique(unit: Unit, report: Report) -> None:
    """`tag = Tag.query.filter_by(name=name).first(); if not tag: add(Tag(name))`: the code treats `name` as what
    identifies a tag (one row per value), whatever the column is called; without UNIQUE, duplicates come in."""
    if not unit.is_entry_point or not report.may_compare("PL201", unit):
        return
    order = {op.id: position for position, op in enumerate(unit.ops)}
    for _, insert, columns in _checked_inserts(unit, order):
        table = report.project.table(insert.table, unit.module.path)
        name = next(iter(columns)) if len(columns) == 1 else None
        column = table.columns.get(name) if table is not None and name else None
        if column is None or not column.declared or column.span is None or ID_COLUMN.match(name) or \
                column.references or EVENT_TABLE.search(table.name) or unique_covering(table, columns):
            continue
        _report_column(report, "PL201", table, column, f"{table.name}.{name} is what the code looks a row up by "
                       "before inserting one (a natural key), but it has no UNIQUE constraint or unique index")


def _collection_check_then_add(unit: Unit, report: Report, insert: DataOp, order: dict[int, int]) -> None:
    """`if workshop not in attendee.workshops: attendee.workshops.append(workshop)`: a relationship's contents tested
    in Python, then a row added to its association table. Reported when the association tables that may be meant
    (Core tables of foreign keys to the owner's table and the member's) have no UNIQUE pair; an ARRAY/JSON column is
    PL102's."""
    project = report.project
    model, attribute = collection_parts(insert)
    owner = project.table(model, unit.module.path)
    if owner is None or attribute in owner.columns:
        return
    tests = {attribute} | _membership_tests(project, unit, model)
    tested = next((r for r in unit.ops if r.action == "read" and r.id in insert.keys[COLLECTION_OWNER].reads
                   and any((r.id, name) in unit.tested for name in tests) and order[r.id] < order[insert.id]
                   and not r.exclusive_with(insert)), None)
    if tested is None:
        return
    schema = project.schema(unit.module.path)
    ends = {owner.name} | {op.table for op in unit.ops if op.id in insert.writes[COLLECTION_MEMBER].reads and op.table}
    associations = []
    for table in schema.values():
        keys = {c.name for c in table.columns.values() if c.references}
        if table.model is None and len(keys) >= 2 and \
                ends <= {table.columns[k].references.partition(".")[0] for k in keys}:
            associations.append((table, keys))
    if not associations or any(unique_covering(table, keys) for table, keys in associations):
        return  # a one-to-many relationship, or a pair the schema keeps unique
    path, where, confidence = _where(unit, insert)
    names = ", ".join(table.name for table, _ in associations)
    report("PL104", path, where,
           f"{model}.{attribute} is tested at {_line_in(unit, tested, path)} and then appended to, adding a row to "
           f"{names} with no UNIQUE pair: concurrent requests add it twice", confidence=confidence)


def _membership_tests(project: Project, unit: Unit, model: str) -> set[str]:
    """Names the unit tests that are methods of the model taking an argument: `if not self.is_following(profile):`
    asks the model whether a row is in one of its collections (`is_published()`, with nothing to look for, not)."""
    found = set()
    for name in {name for _, name in unit.tested}:
        defined = project.resolve(f"{model}.{name}", unit.module, model)
        if defined is not None and defined[0].params and \
                defined[0].qualname in {f"{cls}.{name}" for cls in (model, *project.bases.get(model, ()))}:
            found.add(name)
    return found


@unit_check("PL105")
def unscoped_object_access(unit: Unit, report: Report) -> None:
    project = report.project
    if not unit.is_entry_point or not project.has_callers or not _identifies_callers(project):
        return  # an app without accounts (or that never asks which account calls) has no one's objects to protect
    # An admin area: reaching any user's object is what it is for; unless functions behind the same role decorator
    # check the rows themselves (a permission every user holds, `@require_permission("edit_dashboard")`).
    privileged = unit.function.privileged
    authenticated = project.authenticated(unit.function)
    caller_rows = {read.id for read in unit.ops if read.action == "read"
                   and any(value.identity for value in read.keys.values())}
    written = _written_rows(unit)
    # A tenant's rows (`org=current_org`) written here are not the caller's when other code checks such rows one by
    # one after loading them.
    tenant_rows = {read.id for read in unit.ops if read.id in caller_rows and read.id in written and read.table
                   and read.table.lower() in project.guarded and _tenant_only(read, unit)}
    caller_rows -= tenant_rows

    def callers_only(op: DataOp) -> bool:
        return op.id not in tenant_rows and _scoped(op, unit, caller_rows)

    scoped_tables = {op.table for op in unit.ops if callers_only(op)}
    reported: set[str] = set()
    vouched = set(unit.vouched)  # client values compared with the caller, or shown to be the caller's by a read
    for op in unit.ops:
        if op.action == "read" and op.id in unit.checked and callers_only(op):
            vouched |= {origin for c, v in op.keys.items() if ID_COLUMN.match(c) and not v.identity
                        for origin in v.client}
        if op.action not in ("read", "update", "delete") or not op.table or op.table in reported:
            continue
        name = op.table.lower()
        if privileged and not (project.checked_behind.get(name, set()) & set(unit.function.decorators) and
                               (op.mutates or op.id in written)):
            continue
        client_keys = [c for c, v in op.keys.items() if v.client and (ID_COLUMN.match(c) or
                                                                      c in project.guarded.get(name, ()))]
        if not client_keys or callers_only(op) or op.table in scoped_tables:
            continue
        if all(op.keys[c].client <= vouched for c in client_keys):
            continue  # the parent was shown to be the caller's: `note_id` of a note just loaded WHERE user_id = me
        table = project.table(op.table, unit.module.path)
        owner = owner_column(project, table, project.schema(unit.module.path)) if table else None
        learned = _learned_owner(project, name) if owner is None else None
        if owner is None and learned is None and (authenticated or not op.mutates):
            continue
        reported.add(op.table)
        path, where, confidence = _where(unit, op)
        if owner is not None or learned is not None:
            message = (f"{_describe(op)} selects the row by {', '.join(client_keys)} from "
                       f"{_origins(op.keys[client_keys[0]])} without tying "
                       f"{f'{op.table}.{owner}' if owner else learned} to the caller: "
                       "any user can reach other users' rows")
        else:
            message = (f"unauthenticated handler modifies {op.table} selected by {', '.join(client_keys)} from "
                       f"{_origins(op.keys[client_keys[0]])}")
        report("PL105", path, where, message, confidence=confidence if table is not None else "medium",
               evidence={"statement": op.statement, "authenticated": authenticated})


def _identifies_callers(project: Project) -> bool:
    """Some code acts on who the caller is (a lookup, a write or a comparison with the caller's identity, a project
    function given it, a handler taking it as a parameter): an app that only demands a login (`@jwt_required`
    around every request, the identity at most echoed back) treats every signed-in user alike: no row is anyone's."""
    if "identifies_callers" not in project.derived:
        project.derived["identifies_callers"] = any(
            function.owner_checked_reads or function.vouched or any(entry.identity for entry in function.entry_points)
            or any(value.identity for op in function.ops for value in (*op.keys.values(), *op.writes.values()))
            or any(any(value.identity for value in call.arguments.values()) and
                   project.resolve(call.name, module, call.receiver) is not None for call in function.calls)
            for module in project.modules for function in module.functions)
    return project.derived["identifies_callers"]


def owner_column(project: Project, table: Table, tables: dict[str, Table]) -> str | None:
    """The column that says whose a row is, as a path: an owner-like column (`user_id`); a reference to a table
    of callers (`renter_id` -> users, a table the code reads by the caller's identity or named like users);
    else `cart_id -> carts.user_id`, a parent whose own owner-like column makes it the caller's."""
    direct = next((c for c in table.columns if OWNER_COLUMN.match(c)), None)
    if direct is not None:
        return direct
    parents = []
    for name, column in table.columns.items():
        if not name.endswith("_id") or column.primary_key:
            continue
        target = (column.references or "").partition(".")[0] or \
            referenced_table(tables, project.suffixes(tables), table.name, name[:-3])
        if target is None or target == table.name:
            continue
        if target in project.principals:
            return name
        parents.append((name, target))
    for name, target in parents:
        parent = tables.get(target)
        above = next((c for c in parent.columns if OWNER_COLUMN.match(c)), None) if parent is not None else None
        if above is not None:
            return f"{name} -> {target}.{above}"
    return None


def _learned_owner(project: Project, table: str) -> str | None:
    """Whose rows `table` holds when no column says so by name, as other code shows it: a column it scopes the
    table's queries by (the caller's `office_id`), or an ownership check after loading a row."""
    scoped_by = project.scoped_by.get(table)
    if scoped_by:
        return f"{table}.{min(scoped_by)} (other queries scope {table} by the caller's)"
    if table in project.guarded:
        return f"the {table} row (other code compares it with the caller after loading it)"
    return None


def _written_rows(unit: Unit) -> set[int]:
    """The reads whose row the unit then writes back (`dashboard.is_archived = True`)."""
    return {read for op in unit.ops if op.mutates and "<loaded>" in op.keys for read in op.keys["<loaded>"].reads}


def _tenant_only(read: DataOp, unit: Unit) -> bool:
    """The caller's identity narrows the read only to a tenant's rows: it keys no owner column, and no check of the
    row against the caller follows."""
    return read.id not in unit.owner_checked and not any(
        value.identity and OWNER_COLUMN.match(column) for column, value in read.keys.items())


def _scoped(op: DataOp, unit: Unit, caller_rows: set[int]) -> bool:
    """The op reaches only the caller's rows: a key is the caller's identity or comes from a row read by it
    (`basket_id=basket.id` of the caller's basket: `caller_rows` are the reads keyed by the caller), or its
    result is compared with the caller."""
    if op.id in unit.owner_checked:
        return True
    return any(value.identity or value.reads & caller_rows for value in op.keys.values())


@unit_check("PL106")
def partial_write(unit: Unit, report: Report) -> None:
    if not unit.is_entry_point:
        return  # a request-handling rule: helpers are judged inside the handlers that call them
    if not report.may_compare("PL106", unit):
        return
    mutations = [op for op in unit.ops if op.mutates]  # in the order the unit runs them
    reported: set[str] = set()  # one finding on the handler's own steps (""), and one in each helper's file
    for index, later in enumerate(mutations):
        if later.txn == unit.open_txn != unit.function.first_txn and later.txn_kind == "implicit":
            continue  # written after the handler's last commit and never committed: not a partial write
        for earlier in mutations[:index]:
            if earlier.txn == later.txn and later.txn_kind != "autocommit":
                continue
            if earlier.exclusive_with(later):
                continue
            # Each write is paired with the first one it is not atomic with. Two steps of the handler (a write, then
            # a helper call that writes): reported on the handler's line of the later step. Both inside one helper
            # call: the helper is what is not atomic, reported inside it.
            path, where, confidence = _where(unit, later)
            if later.id in unit.tops and unit.tops.get(earlier.id) != unit.tops[later.id]:
                path, where = unit.module.path, unit.tops[later.id]
            scope = path if later.id in unit.tops and where != unit.tops[later.id] else ""
            if scope in reported:
                break
            reported.add(scope)
            why = "each statement commits on its own (autocommit)" if later.txn_kind == "autocommit" \
                else "a commit separates them"
            report("PL106", path, where,
                   f"{_describe_in(unit, earlier, path)} and {_describe_in(unit, later, path)} are not one "
                   f"transaction ({why}): a failure between them leaves a partial write", confidence=confidence)
            break


# ---- PL2xx: the schema -----------------------------------------------------------------------------


def _columns(project: Project):
    """Declared columns of fully defined tables, schema by schema (each app in the tree has its own), with the
    schema they are judged in: an ALTER alone says too little about a table to judge it."""
    for tables in project.schemas.values():
        for table in tables.values():
            if not table.defined or table.name.startswith("alembic"):
                continue
            for column in table.columns.values():
                if column.declared and column.span is not None:
                    yield table, column, tables


def _report_column(report: Report, rule_id: str, table: Table, column, message: str) -> None:
    report(rule_id, column.path or table.path, column.span, message,
           evidence={"table": table.name, "column": column.name})


def _unused(project: Project, table: Table, column: str) -> bool:
    """A model's column that none of the inserts the code makes writes, and no code looks rows up by, compares or
    updates: whatever its name says, the app stores nothing in it (a leftover) and relies on nothing about it.
    Only for a model whose inserts the scan sees, each naming the columns it writes (not `Model(**data)`, nor an
    object filled attribute by attribute or by position); never for tables known from DDL alone."""
    if table.model is None:
        return False
    if "columns_used" not in project.derived:
        project.derived["columns_used"] = _columns_used(project)
    used = project.derived["columns_used"].get(table.name, set())
    return "<insert>" in used and "*" not in used and column not in used


def _columns_used(project: Project) -> dict[str, set[str]]:
    """Per table, the columns some op or model method call of the code names; "<insert>" when the code inserts
    rows, "*" when an insert writes columns the scan cannot tell (a spread, by position, attribute by attribute)."""
    used: dict[str, set[str]] = {}
    inserting: dict[tuple[int, bool], bool] = {}

    def note(table: Table, names, insert: bool) -> None:
        columns = used.setdefault(table.name, set())
        if insert:
            columns.add("<insert>")
            if not names:
                columns.add("*")
        for name in names:
            if name in table.columns:
                columns.add(name)
            elif name in table.relationships:  # `Post(author=me)` writes the key that refers to the author's table
                related = project.table(table.relationships[name])
                keys = [c for c, spec in table.columns.items() if related is not None
                        and (spec.references or "").partition(".")[0] == related.name]
                columns.update(keys or ["*"])
            elif insert:  # by position, spread from data, or an attribute the scan cannot place
                columns.add("*")

    def inserts(function: Function, module, created: bool, depth: int = 0) -> bool:
        """Whether calling `function` inserts a row; `session.add(self)` only does on an object just `created`."""
        key = (id(function), created)
        if key not in inserting:
            inserting[key] = False
            inserting[key] = any(op.action == "insert" and (created or "<self>" not in op.keys)
                                 for op in function.ops) or depth < 2 and any(
                found is not None and inserts(*found, call.receiver_created, depth + 1)
                for call in function.calls for found in (project.resolve(call.name, module, call.receiver),))
        return inserting[key]

    for module in project.modules:
        for function in module.functions:
            for op in function.ops:
                table = project.table(op.table) if op.table else None
                if table is not None:
                    note(table, [*op.keys, *op.guards, *op.atomic], insert=False)
                    note(table, list(op.writes), insert=op.action == "insert")
            for call in function.calls:
                table = project.table(call.receiver) if call.receiver else None
                if table is None or table.model is None:
                    continue
                found = project.resolve(call.name, module, call.receiver)
                fields = call.receiver_fields if call.receiver_created else \
                    {k: v for k, v in call.arguments.items() if k != "self"}
                note(table, list(fields), insert=found is not None and inserts(*found, call.receiver_created))
    return used


@schema_check("PL201")
def missing_unique(project: Project, report: Report) -> None:
    for table, column, _ in _columns(project):
        if not IDENTITY_LIKE.match(column.name) or EVENT_TABLE.search(table.name) or column.references:
            continue  # a foreign key (invoices.customer_id -> customers) points at a row, it does not name this one
        if PERSON_IDENTIFIER.match(column.name) and table.name not in project.principals:
            continue  # posts.username is the author's name, not the post's identity
        if column.default and RANDOM_VALUE.search(column.default) or _unused(project, table, column.name):
            continue  # a random token drawn for each row, or a column nothing writes: no duplicates to fear
        if column.primary_key or is_unique(table, column.name) or \
                any(column.name in names for names in table.unique_sets):
            continue
        _report_column(report, "PL201", table, column,
                       f"{table.name}.{column.name} identifies a row but has no UNIQUE constraint or unique index")


@schema_check("PL202")
def missing_not_null(project: Project, report: Report) -> None:
    written = written_by_code(project)
    for table, column, tables in _columns(project):
        if not column.nullable or column.primary_key or column.optional == "explicit" or \
                _not_null_apart(project, table, column):
            continue  # NOT NULL, or declared nullable on purpose (`nullable=True`)
        if _unused(project, table, column.name):
            continue  # nothing writes it: NULL is all it holds
        if column.optional == "typed" and written.filled_later(table.name, column.name):
            continue  # `Mapped[Optional[str]]`, and the code agrees: rows start without one
        every = written.every.get(table.name, set())
        if IDENTITY_LIKE.match(column.name) and not EVENT_TABLE.search(table.name) or \
                OWNER_COLUMN.match(column.name) and not written.left_out(table.name, column.name):
            reason = "identifies its row or its owner"
        elif column.name in every and (
                MONEY_COLUMN.match(column.name) or column.references or column.name.endswith("_id") and
                referenced_table(tables, project.suffixes(tables), table.name, column.name[:-3]) is not None):
            reason = "is written by every insert in the code"
        elif column.required:
            reason = f"is set by every construction of {table.model or 'the model'} (its __init__ requires it)"
        elif written.carried(table.name, column.name):
            reason = "is written by every insert from a value each request must carry"
        else:
            continue
        _report_column(report, "PL202", table, column, f"{table.name}.{column.name} {reason} but is nullable")


def _not_null_apart(project: Project, table: Table, column: Column) -> bool:
    """A schema file no app in the tree owns (`db/sql/create.sql` beside `py-srv/`) creates a table of this name
    with the column NOT NULL: the model maps that table, which the file creates."""
    for key, tables in project.schemas.items():
        twin = tables.get(table.name)
        if key.endswith(":") and twin is not None and twin is not table:
            declared = twin.columns.get(column.name)
            if declared is not None and not declared.nullable:
                return True
    return False


def _relationship_keys(project: Project, table: Table | None, attributes: set[str]) -> set[str]:
    """The foreign keys the relationships an insert sets write: `Alert(query_rel=query)` writes `query_id`, the one
    column of alerts that references the related model's table."""
    keys = set()
    for attribute in attributes:
        related = project.table(table.relationships.get(attribute)) if table is not None else None
        if related is None:
            continue
        referring = [c.name for c in table.columns.values() if (c.references or "").partition(".")[0] == related.name]
        if len(referring) == 1:
            keys.add(referring[0])
    return keys


def _statements(project: Project) -> list[DataOp]:
    """`project.statements()`, listed once per scan for the schema checks."""
    if "statements" not in project.derived:
        project.derived["statements"] = list(project.statements())
    return project.derived["statements"]


@dataclass
class Written:
    """What the INSERTs and UPDATEs found in the code write, per table."""

    every: dict[str, set[str]] = field(default_factory=dict)  # the columns every insert provides
    some: dict[str, set[str]] = field(default_factory=dict)  # ... that some insert provides
    # Tables some insert may give more columns than it lists: `Model(**data)`, `form.populate_obj(row)`, an object
    # saved by a method of its own (`row.save()`: its columns are the caller's), a statement without a column list.
    open: set[str] = field(default_factory=set)
    updated: dict[str, set[str]] = field(default_factory=dict)  # the columns some UPDATE sets
    inserts: dict[str, list[Insert]] = field(default_factory=dict)  # each insert, its columns named as __init__ does
    required: RequiredInputs | None = None

    def left_out(self, table: str, column: str) -> bool:
        """Every insert into `table` lists its columns and none lists `column`: a row starts without it (it is set
        later, or never), so NULL is a state the code means it to have (`tickets.user_id` of unclaimed tickets)."""
        return table in self.some and table not in self.open and column not in self.some[table]

    def carried(self, table: str, column: str) -> bool:
        """Every insert into `table` names its columns and fills `column` from an input each request must carry
        (a path parameter, a non-null GraphQL argument), in the handler or through the helpers it calls."""
        found = self.inserts.get(table, [])
        return bool(found) and table not in self.open and all(
            self.required.carried(insert.writes.get(column, NO_TAINT), insert.function, insert.module)
            for insert in found)

    def filled_later(self, table: str, column: str) -> bool:
        """No insert that lists its columns lists `column`, and some insert is known or an UPDATE sets it (a token
        minted on request)."""
        inserted = table in self.some or table in self.open
        return column not in self.some.get(table, set()) and (inserted or column in self.updated.get(table, set()))


def written_by_code(project: Project) -> Written:
    """What the code's INSERTs and UPDATEs write. A relationship set by the constructor (`Widget(dashboard=d)`)
    writes its foreign key (`dashboard_id`); an insert spreading unknown data (`Model(name=n, **data)`) writes the
    columns it names, and may write any other."""
    written = Written()
    for op in _statements(project):
        if op.table and op.action == "update":
            written.updated.setdefault(project.table_name(op.table).lower(), set()).update(op.writes)
    written.required = RequiredInputs(project)
    for insert in inserts(project, _statements(project)):
        name = project.table_name(insert.table).lower()
        writes = project.constructed(insert.table, insert.writes)  # `Tag(name)`: positional arguments named by __init__
        known = set(writes) - {"*", "**"}  # `Model(title=t, **data)`: `title` and who knows what
        if known != set(writes) or not known:
            written.open.add(name)
        columns = known | {f"{column}_id" for column in known} | \
            _relationship_keys(project, project.table(insert.table), known)
        if known and known == set(writes):
            written.every[name] = written.every[name] & columns if name in written.every else columns
        written.some[name] = written.some.get(name, set()) | columns
        written.inserts.setdefault(name, []).append(replace(insert, writes=writes))
    return written


@schema_check("PL203")
def missing_check(project: Project, report: Report) -> None:
    """Money and quantities by name, and a number the code keeps as a running balance (`SET value = value + :delta`:
    a delta whose sign the caller chooses)."""
    moved = {(project.table_name(op.table).lower(), column) for op in _statements(project) if op.table
             for column in op.moved}
    for table, column, _ in _columns(project):
        amount = MONEY_COLUMN.match(column.name) or NUMERIC_TYPE.search(column.type or "") and \
            (COUNTED_AMOUNT.match(column.name) or (table.name, column.name) in moved)
        if amount and not column.check and not column.primary_key and not column.references:
            _report_column(report, "PL203", table, column,
                           f"{table.name}.{column.name} holds a money or quantity value but no CHECK bounds it")


def referenced_table(tables: dict[str, Table], suffixes: dict[str, set[str]], referring: str,
                      entity: str) -> str | None:
    """The table an `<entity>_id` column names, or None when there is none or the choice is ambiguous.

    Tried in order, the first with exactly one table wins: `entity` or its plural; a Django-style `<app>_<entity>`
    (`user_id` -> `account_user`; one-word prefixes before longer ones); the same for the entity's last words
    (`shipping_address_id` -> `address`, `from_user_id` -> `user`) and for its words run together
    (`shipping_method_id` -> `checkout_shippingmethod`); a table named `<entity>_<something>`
    (`conversation_id` -> `conversation_dialogue`). `parent_id` with no `parent` table is the table's own parent."""
    parts = entity.split("_")
    candidates = [entity, *("_".join(parts[i:]) for i in range(1, len(parts))), entity.replace("_", "")]
    for name in dict.fromkeys(c for c in candidates if c):
        forms = (name, f"{name}s", f"{name}es", f"{name[:-1]}ies")
        exact = [t for t in forms if t != referring and t in tables and tables[t].columns]
        if exact:
            return exact[0]
        prefixed = set().union(*(suffixes.get(form, ()) for form in forms)) - {referring}
        one_word = {t for t in prefixed if "_" not in t.rsplit("_", 1)[0]}
        for group in (one_word, prefixed):
            if len(group) == 1:
                return group.pop()
        if prefixed:
            return None  # several tables could be meant: say nothing
    started = {t for t in tables if t.startswith(f"{entity}_") and t != referring and tables[t].columns}
    if len(started) == 1:
        return started.pop()
    if entity == "parent":
        return referring
    return None


@schema_check("PL204")
def missing_foreign_key(project: Project, report: Report) -> None:
    for table, column, tables in _columns(project):
        if column.references or column.primary_key or not column.name.endswith("_id"):
            continue
        target = referenced_table(tables, project.suffixes(tables), table.name, column.name[:-3])
        if target is None:
            continue
        _report_column(report, "PL204", table, column,
                       f"{table.name}.{column.name} refers to {target} but has no FOREIGN KEY")


# The DynamoDB checks (PL3xx) register themselves on import.
from plumbline.scan import checks_dynamodb  # noqa: F401  (it imports this module: keep it last)
