"""The probe against the lab: every planted failure visible over HTTP is proven; the hardened twins stay clean."""

from __future__ import annotations

import json

import httpx
import pytest

from plumbline.findings import FindingsDocument, at_least
from plumbline.lab.tour import probe_twin as probe

# What each vulnerable twin plants that a black-box probe can prove (docs/lab.md). Partial writes forced by
# fault injection and the stream consumer are proven by the lab tests; they are not visible from outside.
# A race shows as lost updates (PL401) or as a limit overrun (PL403) depending on the interleaving: either proves it.
RACE = ("PL401", "PL403")
PLANTED = {
    "bank": {
        ("PL402", "POST", "/users"),
        ("PL402", "PUT", "/sessions"),
        ("PL405", "GET", "/accounts/{account_id}"),
        ("PL405", "GET", "/orders/{order_id}"),
        ("PL405", "POST", "/accounts/{account_id}/withdraw"),
        ("PL405", "POST", "/transfers"),
        (RACE, "POST", "/accounts/{account_id}/withdraw"),
        (RACE, "POST", "/transfers"),
        ("PL407", "POST", "/accounts"),
        ("PL407", "POST", "/orders"),
        ("PL408", "POST", "/orders"),
        ("PL409", "GET", "/users/search"),
        ("PL410", "GET", "/users/search"),
        ("PL410", "GET", "/accounts/{account_id}"),
    },
    "records": {
        ("PL401", "POST", "/records/{record_id}/increment"),
        (RACE, "POST", "/records/transfer"),
        ("PL405", "GET", "/records/{record_id}"),
        ("PL405", "POST", "/records/{record_id}/increment"),
        ("PL405", "POST", "/records/transfer"),
        ("PL407", "POST", "/records"),
        ("PL408", "POST", "/records"),
    },
}


def found(document: FindingsDocument) -> set[tuple[str, str, str]]:
    return {(f.rule_id, f.location.method, f.location.route) for f in document.findings}


@pytest.fixture(scope="module")
def labs(bank_lab, records_lab):
    return {"bank": bank_lab, "records": records_lab}


def without_links(twin, directory) -> str:
    """The twin's OpenAPI document with every link removed, as most real specs are: links must be inferred."""
    spec = httpx.get(f"{twin.url}/openapi.json", timeout=10).json()
    for item in spec["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values() if isinstance(operation, dict) else ():
                response.pop("links", None)
    path = directory / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.mark.parametrize("links", ["declared", "inferred"])
@pytest.mark.parametrize("app", ["bank", "records"])
def test_every_planted_failure_is_proven_on_the_vulnerable_twin(labs, app, links, tmp_path):
    twin = labs[app]["vulnerable"]
    source = "/openapi.json" if links == "declared" else without_links(twin, tmp_path)
    document, http = probe(twin, spec_source=source)
    reported = found(document)
    missing = {(rules, method, route) for rules, method, route in PLANTED[app]
               if not any((rule_id, method, route) in reported for rule_id in (rules if isinstance(rules, tuple)
                                                                                else (rules,)))}
    assert not missing, f"not found: {sorted(missing)}; found: {sorted(found(document))}"
    assert not document.errors, document.errors
    assert http.sent <= 3000


@pytest.mark.parametrize("app", ["bank", "records"])
def test_hardened_twin_has_no_finding_of_medium_or_above_over_repeated_runs(labs, app, tmp_path):
    sources = ["/openapi.json", "/openapi.json", without_links(labs[app]["hardened"], tmp_path)]
    for run, source in enumerate(sources):
        document, _ = probe(labs[app]["hardened"], spec_source=source)
        serious = [f for f in document.findings if at_least(f.severity, "medium")]
        assert not serious, f"run {run}: {[(f.rule_id, f.location.route, f.message) for f in serious]}"
        assert not document.errors, document.errors


def test_findings_carry_reproducible_redacted_evidence(labs):
    twin = labs["bank"]["vulnerable"]
    document, _ = probe(twin)
    tokens = list(twin.identities.values())
    text = document.to_json()
    assert not any(token in text for token in tokens), "a bearer token reached the report"
    race = next(f for f in document.findings if f.rule_id in RACE)
    assert race.location.url.startswith(twin.url) and "/withdraw" in race.location.url
    bursts = race.evidence["bursts"]
    assert all(b["send_spread_ms"] >= 0 for b in bursts)
    if race.rule_id == "PL401":
        assert any(b["after"] != b["expected_after"] for b in bursts)
    else:
        assert any(b["successes"] > 10 or min(b["after"].values()) < 0 for b in bursts)
    assert "reproduced" in race.message
    script = race.evidence["reproducer"]
    compile(script, "reproducer.py", "exec")
    assert "threading.Barrier(20)" in script and 'os.environ["PLUMBLINE_ALICE_AUTHORIZATION"]' in script
    bola = next(f for f in document.findings if f.rule_id == "PL405" and f.location.method == "GET")
    assert bola.evidence["owner_view"] == bola.evidence["other_view"]


def test_without_active_only_safe_requests_are_sent(labs):
    document, http = probe(labs["bank"]["vulnerable"], active=False)
    assert {e.method for e in http.exchanges} <= {"GET", "HEAD", "OPTIONS"}
    assert ("PL409", "GET", "/users/search") in found(document)
    assert not {f.rule_id for f in document.findings} & {"PL401", "PL402", "PL403", "PL407", "PL408"}
