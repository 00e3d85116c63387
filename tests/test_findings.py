import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from plumbline import __version__
from plumbline.findings import (
    SCHEMA_ID,
    Finding,
    FindingsDocument,
    HttpLocation,
    SchemaLocation,
    SourceLocation,
    ToolError,
    at_least,
    json_schema,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"


def finding(**overrides) -> Finding:
    fields = dict(
        rule_id="PL102",
        rule_name="lost-update",
        severity="high",
        confidence="high",
        engine="scan",
        location=SourceLocation(path="app.py", line=3, column=5),
        message="balance read then written back",
        cwe=(362, 367),
        owasp="API6:2023",
    )
    fields.update(overrides)
    return Finding(**fields)


def test_document_round_trips_through_json_with_every_location_kind():
    document = FindingsDocument(
        findings=(
            finding(),
            finding(engine="probe", location=HttpLocation(method="POST", route="/a/{id}", url="http://127.0.0.1:1/a/1")),
            finding(engine="audit", location=SchemaLocation(table="users", column="email"), owasp=None),
        ),
        errors=(ToolError(engine="scan", target="bad.py", message="cannot parse"),),
    )
    text = document.to_json()
    raw = json.loads(text)
    assert raw["schema"] == SCHEMA_ID
    assert raw["tool"] == {"name": "plumbline", "version": __version__}
    assert [f["location"]["kind"] for f in raw["findings"]] == ["source", "http", "schema"]
    assert FindingsDocument.from_json(text) == document


@pytest.mark.parametrize(
    "overrides",
    [
        {"rule_id": "PL12"},
        {"rule_name": "Lost_Update"},
        {"severity": "severe"},
        {"confidence": "certain"},
        {"engine": "fuzz"},
        {"owasp": "API8:2019"},
        {"location": {"kind": "source", "path": "a.py", "line": 0}},
    ],
)
def test_invalid_findings_are_rejected(overrides):
    with pytest.raises(ValidationError):
        finding(**overrides)


def test_unknown_fields_are_rejected_when_parsing():
    raw = json.loads(FindingsDocument(findings=(finding(),)).to_json())
    raw["findings"][0]["extra"] = 1
    with pytest.raises(ValidationError):
        FindingsDocument.model_validate(raw)


def test_severity_order():
    assert at_least("critical", "high") and at_least("high", "high")
    assert not at_least("medium", "high") and not at_least("info", "low")
    assert FindingsDocument(findings=(finding(severity="low"), finding(severity="critical"))).worst_severity() == "critical"
    assert FindingsDocument().worst_severity() is None


def test_published_json_schema_is_current():
    published = json.loads((DOCS / "findings.schema.json").read_text())
    assert published == json_schema(), "regenerate: python -m plumbline.findings > docs/findings.schema.json"


def test_documented_example_is_a_valid_document():
    text = (DOCS / "findings.md").read_text()
    example = re.search(r"## Example\n```json\n(.*?)\n```", text, re.S).group(1)
    document = FindingsDocument.from_json(example)
    assert {f.location.kind for f in document.findings} == {"source", "http", "schema"}
    assert document.errors


def test_documented_fields_match_the_model():
    text = (DOCS / "findings.md").read_text()
    finding_section = text.split("## Finding\n")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", finding_section, re.M))
    assert documented == set(Finding.model_fields)
