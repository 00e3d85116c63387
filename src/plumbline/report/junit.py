"""JUnit XML for CI dashboards: one test case per rule that ran, failed by each finding of it."""

from __future__ import annotations

from xml.etree import ElementTree

from plumbline.findings import FindingsDocument
from plumbline.report.text import location_of


def render(document: FindingsDocument, rule_ids: list[str]) -> str:
    by_rule = {rule_id: [f for f in document.findings if f.rule_id == rule_id] for rule_id in rule_ids}
    suite = ElementTree.Element("testsuite", name="plumbline", tests=str(len(rule_ids)),
                                failures=str(sum(1 for found in by_rule.values() if found)),
                                errors=str(len(document.errors)))
    for rule_id, found in by_rule.items():
        name = found[0].rule_name if found else rule_id
        case = ElementTree.SubElement(suite, "testcase", classname=f"plumbline.{rule_id}", name=f"{rule_id} {name}")
        for finding in found:
            failure = ElementTree.SubElement(case, "failure", type=finding.severity,
                                             message=f"{location_of(finding)}: {finding.message}")
            failure.text = finding.fix
    for error in document.errors:
        case = ElementTree.SubElement(suite, "testcase", classname="plumbline.errors", name=error.target)
        ElementTree.SubElement(case, "error", message=error.message)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
