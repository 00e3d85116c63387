"""JUnit XML for CI dashboards (GitLab, Jenkins, Azure DevOps...): one test suite per engine.

In each suite a rule that ran and found nothing is one passing test case; a rule that found something is one
failing test case per finding, named after its place, so that a dashboard lists every finding. What could not
be analysed is a test case too: skipped (a file that was not read, for the reason given), or in error (an
internal error, an interrupted run: the result may be incomplete).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree import ElementTree

from plumbline.findings import Finding, FindingsDocument, ToolError
from plumbline.report.correlate import found_in_code
from plumbline.report.text import location_of
from plumbline.rules import all_rules

ENGINES = ("scan", "probe", "audit")
# Characters XML 1.0 cannot hold at all (ElementTree writes them raw, and the document no longer parses).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Outside text (a path, a message, a target's answer) that XML can carry: forbidden characters as escapes."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def render(document: FindingsDocument, rule_ids: Iterable[str]) -> str:
    """`rule_ids`: the rules that ran; a rule with findings counts as run even when it is not among them."""
    engine_of = {rule.id: rule.engine for rule in all_rules()}
    groups: dict[tuple[str, str], list[Finding]] = {}  # (engine, rule id) -> findings: the engine that found them
    for finding in document.findings:
        groups.setdefault((finding.engine, finding.rule_id), []).append(finding)
    for rule_id in set(rule_ids) - {rule_id for _, rule_id in groups}:  # ran and found nothing
        groups[(engine_of.get(rule_id, "scan"), rule_id)] = []
    engines = [engine for engine in ENGINES if any(engine == group_engine for group_engine, _ in groups)
               or any(error.engine == engine for error in document.errors)] or ["scan"]
    suites = ElementTree.Element("testsuites", name="plumbline")
    for engine in engines:
        suite = ElementTree.SubElement(suites, "testsuite", name=f"plumbline {engine}")
        for rule_id in sorted(rule_id for group_engine, rule_id in groups if group_engine == engine):
            _rule_cases(suite, engine, rule_id, groups[(engine, rule_id)])
        for error in document.errors:  # an error of no engine (the command line) goes to the first suite
            if (error.engine or engines[0]) == engine:
                _error_case(suite, engine, error)
        _count(suite)
    _count(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)


def _rule_cases(suite: ElementTree.Element, engine: str, rule_id: str, found: list[Finding]) -> None:
    if not found:
        ElementTree.SubElement(suite, "testcase", classname=f"plumbline.{engine}.{rule_id}",
                               name=f"{rule_id} {_rule_name(rule_id)}")
        return
    for finding in found:
        case = ElementTree.SubElement(suite, "testcase", classname=f"plumbline.{engine}.{rule_id}",
                                      name=_xml(f"{rule_id} {finding.rule_name} at {location_of(finding)}"))
        failure = ElementTree.SubElement(case, "failure", type=finding.severity,
                                         message=_xml(f"{location_of(finding)}: {finding.message}"))
        in_code = found_in_code(finding)
        failure.text = _xml(finding.message + (f"\nFound in code too: {in_code}" if in_code else "")
                            + (f"\nFix: {finding.fix}" if finding.fix else ""))


def _error_case(suite: ElementTree.Element, engine: str, error: ToolError) -> None:
    case = ElementTree.SubElement(suite, "testcase", classname=f"plumbline.{engine}.errors", name=_xml(error.target))
    ElementTree.SubElement(case, "skipped" if error.kind == "skipped" else "error", message=_xml(error.message),
                           **({} if error.kind == "skipped" else {"type": error.kind}))


def _rule_name(rule_id: str) -> str:
    return next((rule.name for rule in all_rules() if rule.id == rule_id), "")


def _count(element: ElementTree.Element) -> None:
    """The tests, failures, errors and skipped attributes, counted from the test cases below `element`."""
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
