"""SARIF 2.1.0 from every engine: valid against the official schema, and within what GitHub code scanning accepts."""

from __future__ import annotations

import json

from integrations_support import APP, OPENAPI_YAML, check_sarif, plumbline, write

from plumbline.findings import Finding, FindingsDocument, HttpLocation, SchemaLocation
from plumbline.report import sarif
from plumbline.rules import get
from plumbline.rules import docs as rule_docs

ALICE = "alice=Authorization: Bearer t1"


def test_scan_uris_are_relative_to_the_directory_plumbline_runs_in(tmp_path, monkeypatch):
    write(tmp_path, {"services/shop/app.py": APP})
    monkeypatch.chdir(tmp_path)
    result = plumbline("scan", "services/shop", "--no-cache", "--format", "sarif", "--write-baseline", "base.json")
    results = check_sarif(json.loads(result.stdout))
    assert {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results} == {
        ("PL101", "services/shop/app.py", 12), ("PL102", "services/shop/app.py", 19)}
    baseline = json.loads((tmp_path / "base.json").read_text())
    assert [r["partialFingerprints"]["plumbline/v1"] for r in results] == [
        entry["fingerprint"] for entry in baseline["findings"]], "SARIF and the baseline share fingerprints"


def test_scan_sarif_of_a_baselined_run_holds_only_new_results(tmp_path, monkeypatch):
    write(tmp_path, {"app.py": APP})
    monkeypatch.chdir(tmp_path)
    assert plumbline("scan", ".", "--no-cache", "--write-baseline", "base.json").exit_code == 0
    write(tmp_path, {"app.py": APP.replace("(row[0] - 1,", "(row[0] - 3,")})
    result = plumbline("scan", ".", "--no-cache", "--format", "sarif", "--baseline", "base.json")
    assert result.exit_code == 1
    assert [r["ruleId"] for r in check_sarif(json.loads(result.stdout))] == ["PL102"]


def operation_line(text: str, route: str, method: str) -> int:
    lines = text.splitlines()
    start = lines.index(f"  {route}:")
    return next(n for n in range(start, len(lines)) if lines[n] == f"    {method}:") + 1


def test_probe_findings_point_at_the_operation_in_a_local_openapi_file(api, tmp_path, monkeypatch):
    write(tmp_path, {"api/openapi.yaml": OPENAPI_YAML})
    monkeypatch.chdir(tmp_path)
    result = plumbline("probe", api.url, "--openapi", "api/openapi.yaml", "--identity", ALICE, "--format", "sarif")
    assert result.exit_code == 1, result.output
    results = check_sarif(json.loads(result.stdout))
    found = next(r for r in results if r["ruleId"] == "PL406")
    location = found["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "api/openapi.yaml"
    assert location["physicalLocation"]["region"]["startLine"] == operation_line(OPENAPI_YAML, "/items/{item_id}",
                                                                                 "get")
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "/paths/~1items~1{item_id}/get"
    assert location["logicalLocations"][0]["name"] == "GET /items/{item_id}"
    assert found["properties"]["url"].startswith(api.url)


def test_probe_findings_of_a_remote_openapi_document_and_the_probe_baseline(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = [api.url, "--openapi", "/openapi.yaml", "--identity", ALICE]
    result = plumbline("probe", *common, "--format", "sarif", "--write-baseline", "probe-base.json")
    assert result.exit_code == 0, "every finding is now in the baseline"
    run = json.loads(result.stdout)["runs"][0]
    results = check_sarif(json.loads(result.stdout))
    physical = next(r for r in results if r["ruleId"] == "PL406")["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "/openapi.yaml", "uriBaseId": "OPENAPIROOT"}
    assert run["originalUriBaseIds"]["OPENAPIROOT"]["uri"] == api.url + "/"
    assert "automationDetails" not in run, "upload-sarif's category names the run"
    again = plumbline("probe", *common, "--format", "json", "--baseline", "probe-base.json")
    assert again.exit_code == 0 and json.loads(again.stdout)["findings"] == []
    assert "left out: in the baseline" in again.stderr


def audit_finding(table: str, column: str | None) -> Finding:
    finding = get("PL201").finding(location=SchemaLocation(table=table, column=column), backend="cockroachdb",
                                   message=f"{table}.{column} identifies a row but has no UNIQUE constraint",
                                   confidence="high")
    return finding.model_copy(update={"engine": "audit"})


def test_audit_findings_are_logical_locations_in_the_database():
    document = FindingsDocument(findings=(audit_finding("users", "email"), audit_finding("users", "email"),
                                          audit_finding("accounts", None)))
    rendered = json.loads(sarif.render(document))
    results = check_sarif(rendered)
    assert [r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results] == [
        "users.email", "users.email", "accounts"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "users",
                                                                                 "uriBaseId": "DATABASE"}


def test_help_uri_links_the_rule_page_once_the_docs_are_published(monkeypatch):
    document = FindingsDocument(findings=(audit_finding("users", "email"),))
    assert "helpUri" not in json.loads(sarif.render(document))["runs"][0]["tool"]["driver"]["rules"][0]
    monkeypatch.setattr(rule_docs, "PUBLISHED_AT", "https://example.org/plumbline/docs/rules/")
    rendered = json.loads(sarif.render(document))
    check_sarif(rendered)
    assert rendered["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == \
        "https://example.org/plumbline/docs/rules/PL201.md"


def test_a_run_never_holds_more_results_than_github_accepts(monkeypatch):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    document = FindingsDocument(findings=(audit_finding("a", "x"), audit_finding("b", "y"),
                                          get("PL101").finding(location=SchemaLocation(table="c"), message="worse",
                                                               backend="postgres", confidence="high")))
    run = json.loads(sarif.render(document))["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["PL101", "PL201"], "the most severe are kept"
    assert "1 less severe results left out" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_a_probe_document_rendered_without_its_openapi_document_names_the_route_on_the_target():
    finding = get("PL406").finding(location=HttpLocation(method="GET", route="/items/{item_id}",
                                                         url="http://user:pw@127.0.0.1:9/items/abc?token=x"),
                                   message="answered without credentials", backend="postgres", confidence="high")
    run = json.loads(sarif.render(FindingsDocument(findings=(finding,))))["runs"][0]
    check_sarif({"$schema": sarif.SCHEMA_URI, "version": "2.1.0", "runs": [run]})
    physical = run["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "/items/%7Bitem_id%7D", "uriBaseId": "OPENAPIROOT"}
    assert run["originalUriBaseIds"]["OPENAPIROOT"]["uri"] == "http://127.0.0.1:9/", "no credentials, no query"
