"""One defect seen by two engines, shown as one issue: a scan finding in the code and a probe finding over HTTP, or
a scan finding and the audit's findings on the same table and column of the live database.

A scan finding and a probe finding concern the same defect when
- the scan rule predicts what the probe rule proves (`PROVEN_BY`: a read-modify-write in the code, PL102, is what
  a burst shows as lost updates, PL401, or an overrun limit, PL403), and
- they are about the same operation: the route and method the scan saw reaching the code (the `entry_points` of
  its evidence) are the probe's (a Flask route `/accounts/<int:id>` is the OpenAPI template `/accounts/{id}`,
  placeholder names aside; the probe's route may carry a prefix the code does not, such as a blueprint's mount
  point), or, for a finding about a table's definition (no request reaches a `CREATE TABLE`), the table is the
  resource the probe's route names and the column one of the fields the probe moved or sent.

An audit run with `--scan` names, in each finding's `evidence.scan_findings`, the scan findings on its table and
column (rule and `path:line`); a scan finding so named and the audit findings that name it make one issue.

Every output format can use `correlate`; none needs to know how the match is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from plumbline.findings import Finding, SourceLocation, severity_rank
from plumbline.report.evidence import as_dict, as_list, bursts_of, number

# What a scan rule predicts, as the probe rules that prove it.
PROVEN_BY: dict[str, frozenset[str]] = {
    "PL101": frozenset({"PL409"}),  # SQL built from client data: an injection answered differently
    "PL102": frozenset({"PL401", "PL403"}),  # read-modify-write: lost updates, a limit overrun
    "PL103": frozenset({"PL404"}),  # no retry of 40001: 5xx under a burst
    "PL104": frozenset({"PL402"}),  # check-then-insert: duplicate creates
    "PL105": frozenset({"PL405"}),  # a row by a client's id, unscoped: another identity's object
    "PL201": frozenset({"PL402"}),  # no UNIQUE on an identity column: duplicate creates
    "PL203": frozenset({"PL403"}),  # no CHECK on a quantity: a limit overrun
    "PL301": frozenset({"PL405"}),  # a DynamoDB key chosen by the client: another identity's object
    "PL302": frozenset({"PL407", "PL408"}),  # request data stored unvalidated: invalid input, mass assignment
    "PL303": frozenset({"PL401", "PL402", "PL403"}),  # an unconditional write: lost updates, duplicates, overrun
}

_FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?[^<>]+>")
_OPENAPI_PARAMETER = re.compile(r"\{[^{}/]+\}")


@dataclass(frozen=True)
class Issue:
    """A defect two engines found: where the code has it, and how a request proved it or the database shows it."""

    operation: str  # "POST /accounts/{account_id}/withdraw", as the probe names it; "users.email" for the audit's
    scan: tuple[Finding, ...]
    probe: tuple[Finding, ...]
    audit: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (*self.scan, *self.probe, *self.audit)

    @property
    def proof(self) -> Finding:
        """The finding that confirms the code's: the first of the probe's, else of the audit's."""
        return (self.probe or self.audit)[0]

    @property
    def severity(self) -> str:
        return max((f.severity for f in self.findings), key=severity_rank)

    def headline(self) -> str:
        """`found in code at app.py:85, proven over HTTP: 20 requests, 12 lost updates`."""
        code = sorted(dict.fromkeys(_place(f) for f in self.scan if f.location.kind == "source"))
        schema = sorted(dict.fromkeys(_place(f) for f in self.scan if f.location.kind != "source"))
        found = ([f"in code at {_and(code)}"] if code else []) + ([f"in the schema at {_and(schema)}"] if schema else [])
        if self.audit:
            proofs = "; ".join(dict.fromkeys(_shortened(f.message) for f in self.audit))
            return f"found {' and '.join(found)}, confirmed in the live database: {proofs}"
        proofs = "; ".join(dict.fromkeys(_shortened(proof(f)) for f in self.probe))
        return f"found {' and '.join(found)}, proven over HTTP: {proofs}"


def correlate(findings: Iterable[Finding]) -> list[Issue]:
    """The issues that a scan finding and a probe finding both show, in the order of the probe findings.

    Probe findings on one operation that the same code explains make one issue (the lost update and the limit
    overrun of one withdrawal, both from one read-modify-write), with every scan finding that explains any of them
    (the table's missing CHECK beside the code). A finding that no other engine confirms is in no issue."""
    findings = list(findings)
    scanned = [f for f in findings if f.engine != "probe" and f.rule_id in PROVEN_BY]
    grouped: dict[tuple[str, tuple[int, ...]], list[tuple[Finding, tuple[int, ...]]]] = {}
    for proved in (f for f in findings if f.engine == "probe" and f.location.kind == "http"):
        explained = tuple(index for index, found in enumerate(scanned) if _same_defect(found, proved))
        in_code = tuple(index for index in explained if _entry_points(scanned[index]))
        if explained:
            operation = f"{proved.location.method} {proved.location.route}"
            grouped.setdefault((operation, in_code or explained), []).append((proved, explained))
    over_http = [Issue(operation, tuple(scanned[i] for i in sorted({i for _, found in members for i in found})),
                       tuple(proved for proved, _ in members))
                 for (operation, _), members in grouped.items()]
    return over_http + _in_the_database(findings)


def _in_the_database(findings: list[Finding]) -> list[Issue]:
    """The issues that scan findings and the audit's findings citing them (`evidence.scan_findings`) show, one per
    table and column, in the order of the audit's findings."""
    scanned = {(f.rule_id, _place(f)): f for f in findings if f.engine == "scan" and f.location.kind == "source"}
    grouped: dict[str, tuple[dict[int, Finding], list[Finding]]] = {}
    for audited in (f for f in findings if f.engine == "audit" and f.location.kind == "schema"):
        cited = [scanned.get((str(c.get("rule")), str(c.get("at")))) for c in as_list(audited.evidence.get(
            "scan_findings")) if isinstance(c, dict)]
        cited = [f for f in cited if f is not None]
        if cited:
            code, audit = grouped.setdefault(_place(audited), ({}, []))
            code.update((id(f), f) for f in cited)
            audit.append(audited)
    return [Issue(place, tuple(code.values()), (), tuple(audit)) for place, (code, audit) in grouped.items()]


def _same_defect(found: Finding, proved: Finding) -> bool:
    if proved.rule_id not in PROVEN_BY[found.rule_id]:
        return False
    method, route = proved.location.method.upper(), proved.location.route
    entry_points = _entry_points(found)
    if entry_points:  # code that requests reach: the same operation
        return any(isinstance(entry, dict) and entry.get("kind") == "http" and isinstance(entry.get("name"), str)
                   and (not as_list(entry.get("methods")) or method in {str(m).upper() for m in entry["methods"]})
                   and same_route(entry["name"], route) for entry in entry_points)
    table, column = _table_column(found)  # a table's definition: the resource the route names
    return table is not None and _names_resource(route, table) and (column is None or column in _fields(proved))


def _entry_points(found: Finding) -> list:
    return as_list(found.evidence.get("entry_points"))


def same_route(code_route: str, api_route: str) -> bool:
    """A Flask route and an OpenAPI path template for the same requests: equal once placeholders are unnamed, or
    the template ends with the route (a prefix the code does not show, such as a blueprint's mount point)."""
    code = "/" + _FLASK_PARAMETER.sub("{}", _OPENAPI_PARAMETER.sub("{}", code_route)).strip("/")
    api = "/" + _OPENAPI_PARAMETER.sub("{}", api_route).strip("/")
    return code == api or code != "/" and api.endswith(code)  # `code` starts with `/`: whole segments


def _table_column(found: Finding) -> tuple[str | None, str | None]:
    """The table (and column) a finding is about: an audit's schema location, or a scan of DDL's evidence."""
    location = found.location
    if location.kind == "schema":
        return location.table.lower(), location.column.lower() if location.column else None
    table, column = found.evidence.get("table"), found.evidence.get("column")
    if not isinstance(table, str):
        return None, None
    return table.lower().rsplit(".", 1)[-1], column.lower() if isinstance(column, str) else None


def _names_resource(route: str, table: str) -> bool:
    """Whether a route names a table among its literal segments (`users` is `/users` or `/user/{id}`)."""
    singular = table.removesuffix("s")
    return any(segment.lower().removesuffix("s") == singular
               for segment in route.strip("/").split("/") if segment and not segment.startswith("{"))


def _fields(proved: Finding) -> set[str]:
    """The fields a probe finding moved or sent: the delta one request made, the body of its creates."""
    evidence = proved.evidence
    names: set[str] = set()
    for key in ("single_request_delta", "body", "sent"):
        names |= {str(name).lower().rsplit(".", 1)[-1] for name in as_dict(evidence.get(key))}
    return names


def _place(found: Finding) -> str:
    location = found.location
    if isinstance(location, SourceLocation):
        return f"{location.path}:{location.line}"
    return f"{location.table}.{location.column}" if location.column else location.table


def proof(proved: Finding) -> str:
    """What the probe showed, in a few words: `20 requests, 12 lost updates`; the finding's message otherwise."""
    evidence = proved.evidence
    bursts = bursts_of(evidence)
    if not bursts:
        return proved.message
    last = bursts[-1]
    sent = requests_in(last)
    if proved.rule_id == "PL401":
        lost = lost_updates(last, evidence.get("single_request_delta"))
        if lost is not None:
            return f"{sent} requests, {lost} lost update{'s' if lost != 1 else ''}"
    copies = last.get("copies_listed") if last.get("copies_listed") is not None else last.get("distinct_ids")
    if proved.rule_id == "PL402" and number(copies):
        return f"{sent} requests, {copies:g} copies where one was expected"
    if proved.rule_id == "PL404" and number(last.get("server_errors")):
        return f"{sent} requests, {last['server_errors']:g} answered 5xx"
    return proved.message


def lost_updates(burst: dict[str, Any], delta: Any) -> int | None:
    """How many accepted requests' effect vanished: (expected - observed) / one request's change, on the first
    field that moved; None when the evidence does not say."""
    expected, observed = as_dict(burst.get("expected_after")), as_dict(burst.get("after"))
    for field, change in as_dict(delta).items():
        if number(change) and change and number(expected.get(field)) and number(observed.get(field)):
            return abs(round((expected[field] - observed[field]) / change))
    return None


def requests_in(burst: dict[str, Any]) -> int:
    """How many requests a burst sent, by its statuses (or its timeline)."""
    statuses = as_dict(burst.get("statuses"))
    if statuses:
        return sum(n for n in statuses.values() if number(n))
    return len(as_list(burst.get("requests")))


def _shortened(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def found_in_code(finding: Finding) -> str:
    """`PL201 at app/models.py:12, ...`: the scan findings an audit finding names as the same defect in the code
    (its `evidence.scan_findings`), for the formats that show one finding at a time; '' when it names none."""
    cited = [c for c in as_list(finding.evidence.get("scan_findings")) if isinstance(c, dict)]
    return ", ".join(f"{c.get('rule')} at {c.get('at')}" for c in cited)
