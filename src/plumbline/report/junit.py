"""JUnit XML for CI dashboards: one test case per rule that ran, failed by each finding of it."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from plumbline.findings import FindingsDocument
from plumbline.report.text import location_of

# Characters XML 1.0 cannot hold at all (ElementTree writes them raw, and the document no longer parses).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Outside text (a path, a message, a target's answer) that XML can carry: forbidden characters as escapes."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def render(document: FindingsDocument, rule_ids: list[str]) -> str:
    by_rule = {rule_id: [f for f in document.findings if f.rule_id == rule_id] for rule_id in rule_ids}
    suite = ElementTree.Element("testsuite", name="plumbline", tests=str(len(rule_ids)),
                                failures=str(sum(1 for found in by_rule.values() if found)),
                                errors=str(len(document.errors)))
    for rule_id, found in by_rule.items():
        name = found[0].rule_name if found else rule_id
        case = ElementTree.SubElement(suite, "testcase", classname=f"plumbline.{rule_id}", name=_xml(f"{rule_id} {name}"))
        for finding in found:
            failure = ElementTree.SubElement(case, "failure", type=finding.severity,
                                             message=_xml(f"{location_of(finding)}: {finding.message}"))
            failure.text = _xml(finding.fix) if finding.fix else None
    for error in document.errors:
        case = ElementTree.SubElement(suite, "testcase", classname="plumbline.errors", name=_xml(error.target))
        ElementTree.SubElement(case, "error", message=_xml(error.message))
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
