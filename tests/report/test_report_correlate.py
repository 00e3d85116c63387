"""Correlation across engines: a scan finding and a probe finding of one defect make one confirmed issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.findings import HttpLocation, SourceLocation
from plumbline.report.correlate import PROVEN_BY, correlate, lost_updates, same_route
from plumbline.rules import get as rule

RACES = ("PL401", "PL403")


def test_scan_findings_name_their_entry_points_and_the_document_its_root(bank_run):
    in_handlers = [f for f in bank_run.scan.findings if Path(f.location.path).name == "vulnerable.py"]
    assert bank_run.scan.root is not None and (Path(bank_run.scan.root) / in_handlers[0].location.path).is_file()
    assert in_handlers and all(f.evidence.get("entry_points") for f in in_handlers)
    withdraw = [f for f in in_handlers if f.rule_id == "PL102" and any(
        e["name"] == "/accounts/<account_id>/withdraw" and e["methods"] == ["POST"]
        for e in f.evidence["entry_points"])]
    assert len(withdraw) == 1
    # Findings of the schema alone name no handler (PL201 may also come from a handler's check-then-insert: then
    # it names that handler).
    ddl = [f for f in bank_run.scan.findings if f.location.path.endswith(".sql") and f.rule_id != "PL201"]
    assert ddl and not any("entry_points" in f.evidence for f in ddl)
    assert bank_run.probe.root is None


def test_each_race_the_probe_proves_is_one_issue_with_the_code_that_has_it(bank_run):
    races = [f for f in bank_run.probe.findings if f.rule_id in RACES]
    assert races, "the probe proved no race on the vulnerable bank twin"
    issues = correlate([*bank_run.scan.findings, *bank_run.probe.findings])
    for race in races:
        issue = next(i for i in issues if race in i.probe)
        assert issue.operation == f"POST {race.location.route}"
        code = [f for f in issue.scan if f.rule_id == "PL102"]
        assert len(code) == 1 and Path(code[0].location.path).name == "vulnerable.py"
        flask_route = race.location.route.replace("{account_id}", "<account_id>")
        assert flask_route in {e["name"] for e in code[0].evidence["entry_points"]}
        assert issue.headline().startswith(f"found in code at {code[0].location.path}:{code[0].location.line}")
        if race.rule_id == "PL401":
            last = race.evidence["bursts"][-1]
            field, change = next(iter(race.evidence["single_request_delta"].items()))
            lost = abs(round((last["expected_after"][field] - last["after"][field]) / change))
            assert "proven over HTTP: " in issue.headline() and f"20 requests, {lost} lost update" in issue.headline()


def test_issues_pair_only_rules_that_predict_each_other(bank_run):
    issues = correlate([*bank_run.scan.findings, *bank_run.probe.findings])
    assert issues
    for issue in issues:
        assert issue.scan and issue.probe
        assert all(any(p.rule_id in PROVEN_BY[s.rule_id] for p in issue.probe) for s in issue.scan)
        assert all(p.engine == "probe" for p in issue.probe) and all(s.engine == "scan" for s in issue.scan)
    # the unscoped lookups the scan saw are the cross-identity reads the probe proved, each on its own route
    access = {i.operation: i for i in issues if i.probe[0].rule_id == "PL405"}
    proved = {f"{f.location.method} {f.location.route}" for f in bank_run.probe.findings if f.rule_id == "PL405"}
    assert "GET /accounts/{account_id}" in proved and set(access) <= proved
    assert {f.rule_id for f in access["GET /accounts/{account_id}"].scan} == {"PL105"}


def test_the_unique_constraint_a_table_lacks_explains_the_duplicates_of_its_resource(bank_run):
    duplicates = [f for f in bank_run.probe.findings if f.rule_id == "PL402" and f.location.route == "/users"]
    if not duplicates:
        pytest.skip("the probe made no duplicate user this run")
    issue = next(i for i in correlate([*bank_run.scan.findings, *duplicates]))
    assert {(f.rule_id, f.evidence.get("table"), f.evidence.get("column")) for f in issue.scan} >= {
        ("PL201", "users", "email")}


@pytest.mark.parametrize("code, api, same", [
    ("/accounts/<account_id>/withdraw", "/accounts/{account_id}/withdraw", True),
    ("/accounts/<int:id>", "/accounts/{account_id}", True),
    ("/accounts/<uuid:id>/", "/accounts/{account_id}", True),
    ("/accounts/<id>", "/api/v1/accounts/{id}", True),  # a blueprint mounted under a prefix
    ("/accounts/<id>", "/subaccounts/{id}", False),
    ("/accounts/<id>", "/accounts/{id}/withdraw", False),
    ("/", "/accounts", False),
    ("/", "/", True),
])
def test_routes_match_across_flask_and_openapi_spellings(code, api, same):
    assert same_route(code, api) is same


def _scan_finding(rule_id, route, methods=("POST",), **evidence):
    return rule(rule_id).finding(
        location=SourceLocation(path="app.py", line=10), message="m", confidence="high", backend="cockroachdb",
        evidence={"entry_points": [{"kind": "http", "name": route, "methods": list(methods)}], **evidence})


def _probe_finding(rule_id, method, route, **evidence):
    return rule(rule_id).finding(
        location=HttpLocation(method=method, route=route, url="http://127.0.0.1:1" + route), message="proved",
        confidence="high", backend="any", evidence=evidence)


def test_another_operation_another_method_or_an_unrelated_rule_is_no_issue():
    code = _scan_finding("PL102", "/carts/<cart_id>/checkout")
    assert correlate([code, _probe_finding("PL401", "POST", "/carts/{id}/checkout")])
    assert not correlate([code, _probe_finding("PL401", "POST", "/carts/{id}/cancel")])
    assert not correlate([code, _probe_finding("PL401", "PUT", "/carts/{id}/checkout")])
    assert not correlate([code, _probe_finding("PL405", "POST", "/carts/{id}/checkout")])


def test_evidence_of_unexpected_shapes_is_no_match_and_no_crash():
    odd = rule("PL102").finding(location=SourceLocation(path="app.py", line=3), message="m", confidence="high",
                                backend="postgres", evidence={"entry_points": ["/x", {"kind": "http", "name": 5},
                                                                               {"kind": "http", "name": "/x",
                                                                                "methods": "POST"}]})
    ddl = rule("PL201").finding(location=SourceLocation(path="s.sql", line=1), message="m", confidence="high",
                                backend="postgres", evidence={"table": ["users"], "column": {}})
    proved = _probe_finding("PL401", "POST", "/x", bursts="many", single_request_delta=[1])
    duplicate = _probe_finding("PL402", "POST", "/users", body="email", bursts=[{"statuses": "x"}])
    issues = correlate([odd, ddl, proved, duplicate])
    assert [(i.operation, [f.rule_id for f in i.findings]) for i in issues] == [("POST /x", ["PL102", "PL401"])]
    assert "proven over HTTP: proved" in issues[0].headline()  # no burst to count: the probe's own words


def test_lost_updates_are_counted_on_the_first_field_that_moved():
    burst = {"before": {"n": 0}, "expected_after": {"n": 20}, "after": {"n": 2}}
    assert lost_updates(burst, {"n": 1}) == 18
    assert lost_updates({"expected_after": {"b": 5}, "after": {"b": 8}}, {"b": -1}) == 3
    assert lost_updates(burst, {"n": 0}) is None
    assert lost_updates(burst, "n") is None


def test_an_audit_of_the_schema_confirms_what_the_probe_proved_on_its_resource():
    from plumbline.findings import SchemaLocation

    audited = rule("PL201").finding(location=SchemaLocation(table="users", column="email"), message="no unique",
                                    confidence="high", backend="cockroachdb")
    audited = audited.model_copy(update={"engine": "audit"})
    proved = _probe_finding("PL402", "POST", "/users", body={"email": "a@b.c"},
                            bursts=[{"statuses": {"201": 4}, "copies_listed": 4}])
    other = _probe_finding("PL402", "POST", "/users", body={"name": "n"})
    (issue,) = correlate([audited, proved, other])
    assert issue.probe == (proved,)
    assert issue.headline() == "found in the schema at users.email, proven over HTTP: 4 requests, 4 copies where " \
                               "one was expected"
