"""Reports carry outside text (paths, messages, a target's answers): every format must stay valid with it."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from plumbline.findings import Finding, FindingsDocument, SourceLocation, ToolError
from plumbline.report import junit, sarif

pytestmark = pytest.mark.hostile

HOSTILE = "a\x1b[2J\x00b\x07\ufffe\u202e"


def _document() -> FindingsDocument:
    finding = Finding(rule_id="PL101", rule_name="sql-injection", severity="critical", confidence="high",
                      engine="scan", location=SourceLocation(path="dir with space/#x%.py", line=3),
                      message=f"SQL built from {HOSTILE}", fix=f"bind {HOSTILE}")
    errors = (ToolError(engine="scan", target=f"bad{HOSTILE}.py", message=HOSTILE, kind="internal"),)
    return FindingsDocument(findings=(finding,), errors=errors)


def test_junit_with_control_characters_parses_and_shows_them_escaped():
    root = ElementTree.fromstring(junit.render(_document(), ["PL101"]))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "\\u001b" in failure.get("message") and "\\u0000" in failure.get("message")
    assert "\\u0000" in root.find("testsuite/testcase[@classname='plumbline.scan.errors']/error").get("message")


def test_sarif_uris_are_percent_encoded_and_an_internal_error_is_not_a_successful_run():
    run = json.loads(sarif.render(_document()))["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/%23x%25.py"
    assert run["invocations"][0]["executionSuccessful"] is False
