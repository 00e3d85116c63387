"""JUnit XML from every engine: the structure CI dashboards read (testsuites > testsuite > testcase), consistent
counts, one failing case per finding, skipped and errored inputs."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from integrations_support import APP, plumbline, write

from plumbline.findings import FindingsDocument, SchemaLocation, ToolError
from plumbline.report import junit
from plumbline.rules import get

OUTCOMES = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def check_junit(text: str) -> ElementTree.Element:
    """The JUnit XML shape (as Jenkins' and GitLab's readers take it), counts included; the root element."""
    root = ElementTree.fromstring(text.encode())
    assert root.tag == "testsuites"
    for element in [root, *root]:
        cases = list(element.iter("testcase"))
        assert int(element.get("tests")) == len(cases)
        for outcome, attribute in OUTCOMES.items():
            assert int(element.get(attribute)) == sum(case.find(outcome) is not None for case in cases)
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name", "").startswith("plumbline ")
        for case in suite:
            assert case.tag == "testcase" and case.get("name") and case.get("classname")
            outcomes = [child for child in case if child.tag in OUTCOMES]
            assert len(outcomes) <= 1 and all(child.get("message") for child in outcomes)
            assert all(child.tag in OUTCOMES for child in case)
    return root


def test_scan_junit_has_a_failing_case_per_finding_and_a_skipped_case_per_unread_file(tmp_path):
    write(tmp_path, {"app.py": APP, "broken.py": "def (:\n"})
    result = plumbline("scan", str(tmp_path), "--no-cache", "--format", "junit", "--select", "PL101,PL102,PL201")
    assert result.exit_code == 1
    root = check_junit(result.stdout)
    suite = root.find("testsuite")
    assert suite.get("name") == "plumbline scan"
    cases = {case.get("name"): case for case in suite}
    assert cases["PL101 sql-injection at app.py:12:12"].find("failure").get("type") == "critical"
    assert "Fix:" in cases["PL102 lost-update at app.py:19:5"].find("failure").text
    assert cases["PL201 missing-unique"].find("failure") is None, "a rule that ran clean passes"
    assert cases["broken.py"].find("skipped").get("message").startswith("cannot parse")
    assert (root.get("tests"), root.get("failures"), root.get("skipped"), root.get("errors")) == ("4", "2", "1", "0")


def test_probe_junit(api):
    result = plumbline("probe", api.url, "--openapi", "/openapi.yaml", "--identity",
                       "alice=Authorization: Bearer t1", "--format", "junit")
    assert result.exit_code == 1
    suite = check_junit(result.stdout).find("testsuite")
    assert suite.get("name") == "plumbline probe"
    failing = [case.get("name") for case in suite if case.find("failure") is not None]
    assert "PL406 unauthenticated-access at GET /items/{item_id}" in failing


def test_audit_findings_internal_errors_and_several_engines_in_one_document():
    audit = get("PL201").finding(location=SchemaLocation(table="users", column="email"), backend="postgres",
                                 message="users.email has no UNIQUE constraint", confidence="high")
    document = FindingsDocument(
        findings=(audit.model_copy(update={"engine": "audit"}),),
        errors=(ToolError(engine="probe", target="http://127.0.0.1:1", message="stopped", kind="interrupted"),
                ToolError(engine="scan", target="x.py", message="boom\x00", kind="internal")))
    root = check_junit(junit.render(document, []))
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["plumbline scan", "plumbline probe", "plumbline audit"]
    assert suites["plumbline audit"].find("testcase").get("name") == "PL201 missing-unique at users.email"
    assert suites["plumbline probe"].find("testcase/error").get("type") == "interrupted"
    assert suites["plumbline scan"].find("testcase/error").get("message") == "boom\\u0000"
    assert root.get("errors") == "2" and root.get("failures") == "1"


def test_a_finding_of_a_rule_not_listed_as_run_is_still_reported():
    finding = get("PL101").finding(location=SchemaLocation(table="t"), message="m", backend="postgres",
                                   confidence="high")
    root = check_junit(junit.render(FindingsDocument(findings=(finding,)), ["PL102"]))
    assert [case.get("name") for case in root.iter("testcase")] == ["PL101 sql-injection at t", "PL102 lost-update"]
    assert json.dumps(root.attrib) and root.get("failures") == "1"
