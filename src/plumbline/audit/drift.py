"""The live schema against the one the repository declares (`audit --scan`): PL206 drift, and the columns the code
requires checked for NULLs.

PL206 is reported for a table or a column the code declares that the database lacks (a migration never run), and
for a UNIQUE, NOT NULL, CHECK or FOREIGN KEY the code declares that the live table does not enforce (never added,
dropped by hand, added NOT VALID). A missing constraint is proven on the rows as the heuristics' findings are
(PL210-PL213); where a heuristic finds the same gap (PL201 on `users.email` declared UNIQUE in the model), the
drift finding replaces it: it says why the constraint is missing and where the code wants it.
"""

from __future__ import annotations

from plumbline.audit.catalog import LiveTable
from plumbline.audit.code import CodeFacts, declared_at, said_of
from plumbline.audit.schema import _NUMBER, SCHEMA_RULES, Reference, Weakness
from plumbline.scan.facts import Column, Table


def drift(live: list[LiveTable], code: CodeFacts, schema: str = "public") -> list[Weakness]:
    """The declared tables, columns and constraints the live schema lacks. A table missing from the audited
    schemas is reported under `schema` (where the audit looked first)."""
    by_name = _by_name(live)
    found: list[Weakness] = []
    for name, declared in code.tables.items():
        table = by_name.get(name)
        if table is None:
            missing = LiveTable(schema=schema, table=declared.name, complete=False)
            found.append(_weakness(missing, None, declared, None, f"{declared.name} is declared {_in_code(declared)} "
                                   "but the database has no such table: a migration that was never run?",
                                   "missing table"))
            continue
        if not table.complete:
            continue  # its definition could not be read: reported as an error entry
        columns = {name.lower(): name for name in table.columns}
        for column in declared.columns.values():
            if not column.declared or column.span is None:
                continue
            live_name = columns.get(column.name.lower())
            if live_name is None:
                found.append(_weakness(table, column.name, declared, column, f"{table.name}.{column.name} is declared "
                                       f"{_in_code(declared, column)} but the live table has no such column: a "
                                       "migration that was never run?", "missing column"))
            else:
                found += _missing_constraints(table, live_name, declared, column, by_name)
        found += _missing_unique_sets(table, declared, columns)
    return found


def required(live: list[LiveTable], code: CodeFacts, reported: list[Weakness]) -> list[Weakness]:
    """PL202 on the live columns the code requires (CodeFacts.required) that are nullable and not reported yet."""
    by_name = _by_name(live)
    counted = {(w.table.name, w.column) for w in reported if w.proof == "PL211"}
    found = []
    for (name, column_name), why in code.required.items():
        table = by_name.get(name)
        column = table.column_named(column_name) if table and table.complete else None
        if column is None or not table.columns[column].nullable or column in table.primary_key or \
                (table.name, column) in counted:
            continue
        found.append(Weakness("PL202", table, column, f"{table.name}.{column} {why.reason} ({why.at}) but is nullable",
                              evidence={"required_at": why.at}))
    return found


def judged_by_code(heuristics: list[Weakness], live: list[LiveTable], code: CodeFacts) -> list[Weakness]:
    """The heuristics' findings as the scan judges them on the columns the code declares: the scan sees what the
    code does with a column (a `user_id` some insert leaves out is optional by design, a `value` the code lowers
    is an amount, a column nothing writes holds no duplicates), the heuristics see only its name. Kept: the
    heuristics' findings the scan makes too, and those on columns the code does not declare; added: the scan's
    own PL201 and PL203 where the live column lacks the constraint as well (PL202's are `required`'s)."""
    kept = [w for w in heuristics if not _overruled(w, code)]
    have = {(w.rule_id, w.table.name, w.column) for w in kept}
    by_name = _by_name(live)
    for finding in code.findings:
        column = finding.evidence.get("column")
        table = by_name.get(finding.evidence["table"].lower().rsplit(".", 1)[-1])
        if finding.rule_id not in ("PL201", "PL203") or not isinstance(column, str) or table is None or \
                not table.complete:
            continue
        live_name = table.column_named(column)
        if live_name is None or (finding.rule_id, table.name, live_name) in have:
            continue
        said = said_of(finding)
        if finding.rule_id == "PL201" and not (_unique_alone(table, live_name) or table.in_unique_set(live_name)):
            kept.append(Weakness("PL201", table, live_name, f"{table.name}.{live_name} {said}"))
        elif finding.rule_id == "PL203" and not table.validated_check_on(live_name):
            kept.append(Weakness("PL203", table, live_name, f"{table.name}.{live_name} {said}",
                                 number=bool(_NUMBER.match(table.columns[live_name].type))))
    return kept


def _overruled(found: Weakness, code: CodeFacts) -> bool:
    """A heuristic's column finding on a column the code declares, which the scan, reading the code, does not make."""
    declared = code.tables.get(found.table.table.lower())
    if found.rule_id not in SCHEMA_RULES or found.column is None or declared is None or \
            found.column.lower() not in {name.lower() for name in declared.columns}:
        return False
    return not any(f.rule_id == found.rule_id for f in code.about(found.table.table, found.column))


def replace_heuristics(heuristics: list[Weakness], drifted: list[Weakness]) -> list[Weakness]:
    """The heuristics' findings but those a drift finding explains (same table, column and proof)."""
    explained = {(w.table.name, w.column, w.proof) for w in drifted if w.proof}
    return [w for w in heuristics if (w.table.name, w.column, w.proof) not in explained]


def _missing_constraints(table: LiveTable, column: str, declared: Table, spec: Column,
                         by_name: dict[str, LiveTable]) -> list[Weakness]:
    found = []
    where, code = f"{table.name}.{column}", _in_code(declared, spec)
    if not spec.nullable and not spec.primary_key and table.columns[column].nullable:
        found.append(_weakness(table, column, declared, spec, f"{where} is declared NOT NULL {code} but the live "
                               "column is nullable", "NOT NULL", proof="PL211"))
    if (spec.unique or (spec.name,) in declared.unique_sets) and not _unique_alone(table, column):
        found.append(_weakness(table, column, declared, spec, f"{where} is declared UNIQUE {code} but the live "
                               "table has no UNIQUE constraint or unique index on it", "UNIQUE", proof="PL210"))
    if spec.check and not table.validated_check_on(column):
        number = bool(_NUMBER.match(table.columns[column].type))
        found.append(_weakness(table, column, declared, spec, f"{where} has a CHECK {code} but the live table "
                               "has no validated CHECK on it", "CHECK", proof="PL212" if number else None,
                               number=number))
    if spec.references:
        key = table.foreign_key_of(column)
        if key is None or not key.validated:
            target_name, _, target_column = spec.references.partition(".")
            target = by_name.get(target_name.lower())
            reference = None
            if target is not None and target_column in target.columns:
                reference = Reference(target.schema, target.table, target_column,
                                      same_type=target.columns[target_column].type == table.columns[column].type)
            state = "a FOREIGN KEY added NOT VALID" if key is not None else "no FOREIGN KEY"
            found.append(_weakness(table, column, declared, spec, f"{where} references {spec.references} {code} "
                                   f"but the live table has {state}", "FOREIGN KEY", proof="PL213",
                                   references=reference))
    return found


def _missing_unique_sets(table: LiveTable, declared: Table, columns: dict[str, str]) -> list[Weakness]:
    """Composite UNIQUE constraints of the code that no live unique key matches."""
    found = []
    for names in declared.unique_sets:
        live_names = tuple(columns.get(name.lower()) for name in names)
        if len(names) < 2 or None in live_names or set(live_names) == set(table.primary_key) or \
                any(set(live_names) == set(unique) for unique in table.unique_sets):
            continue  # one column (see _missing_constraints), a column missing (reported), or enforced
        found.append(_weakness(table, None, declared, None, f"{table.name} is declared UNIQUE ({', '.join(names)}) "
                               f"{_in_code(declared)} but the live table enforces no such key", "UNIQUE",
                               columns=list(live_names)))
    return found


def _unique_alone(table: LiveTable, column: str) -> bool:
    """The column alone is a unique key (a composite key lets one value repeat)."""
    return table.primary_key == (column,) or (column,) in table.unique_sets


def _weakness(table: LiveTable, column: str | None, declared: Table, spec: Column | None, message: str, missing: str,
              proof: str | None = None, references: Reference | None = None, number: bool = False,
              **evidence) -> Weakness:
    return Weakness("PL206", table, column, message, references=references, number=number, proof=proof,
                    evidence={"missing": missing, "declared_at": declared_at(declared, spec), **evidence})


def _in_code(declared: Table, spec: Column | None = None) -> str:
    return f"in the code ({declared_at(declared, spec)})"


def _by_name(live: list[LiveTable]) -> dict[str, LiveTable]:
    """The live tables by lower-case name; one in `public` wins over its namesakes in other schemas."""
    tables: dict[str, LiveTable] = {}
    for table in sorted(live, key=lambda t: t.schema != "public", reverse=True):
        tables[table.table.lower()] = table
    return tables
