"""`plumbline probe --active` against the zoo: small APIs shaped unlike the lab (tests/probe/zoo/).

On each vulnerable twin every planted failure must be reported with its rule; on each hardened twin no
finding of medium or above may be reported, and on either twin nothing marked SOUND. What the probe cannot
do yet is written down in the app module, never skipped silently:

- a planted failure with `known_miss=<why>` is reported here as a warning; once the probe finds it, the test
  fails so that the mark gets dropped;
- a finding listed in KNOWN_FALSE_ALARMS (a probe bug) is reported as a warning; once the probe stops raising
  it, the test fails so that the entry gets dropped.

Each test serves one twin on fresh storage (the session's embedded PostgreSQL or moto) and runs the probe
as a user does: the command, with the identities in a plumbline.toml and their secrets in the environment.
Apart from the probe, each app's PROOFS show every planted failure by hand, so a miss is the probe's.
bench/zoo.py (`make bench-zoo`) runs the same judgement ten times per twin.
"""

from __future__ import annotations

import re
import warnings

import pytest
from zoo import APPS, TWINS, Backends, app_module
from zoo.clients import Clients
from zoo.harness import judge, probe, serving

from plumbline.rules import all_rules

PROBE_RULES = {rule.id for rule in all_rules() if rule.engine == "probe"}
WALL_TIME_LIMIT = 30.0  # seconds for a full --active probe of any zoo app (issue 10, Numbers)
TRIES = 3


@pytest.fixture(scope="module")
def backends(postgres_url, dynamodb_endpoint) -> Backends:
    return Backends(postgres_url, dynamodb_endpoint)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("app", APPS)
def test_probe_proves_what_is_planted_and_nothing_else(app, twin, backends, tmp_path):
    with serving(app, twin, backends) as running:
        run = probe(running, tmp_path)
    verdict = judge(app, twin, run.document)
    for planted in verdict.known_missed:
        warnings.warn(f"known miss: {app}: {planted.label}: {planted.known_miss}", stacklevel=1)
    for alarm in verdict.known_false_alarms:
        warnings.warn(f"known false alarm: {app}: {alarm}", stacklevel=1)
    assert not verdict.problems, f"{app} {twin}:\n" + "\n".join(verdict.problems)
    assert run.seconds < WALL_TIME_LIMIT, f"the probe of {app} {twin} took {run.seconds:.1f} s"


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("app", APPS)
def test_planted_failures_are_real_without_the_probe(app, twin, backends):
    """Each app's PROOFS drive every planted failure by hand: broken on the vulnerable twin (a race within
    TRIES tries), held on the hardened twin every time."""
    module = app_module(app)
    with serving(app, twin, backends) as running:
        clients = Clients(running.url, running.identities, running.secrets)
        try:
            for planted in module.PLANTED:
                proof = module.PROOFS[(planted.method, planted.route)]
                outcomes = [proof(clients) for _ in range(TRIES if twin == "vulnerable" else 1)]
                if twin == "vulnerable":
                    assert any(outcomes), f"{app}: {planted.label} did not break: {planted.what}"
                else:
                    assert not any(outcomes), f"{app}: {planted.label} broke on the hardened twin: {outcomes}"
        finally:
            clients.close()


@pytest.mark.parametrize("app", APPS)
def test_app_writes_down_its_failures_with_probe_rules(app):
    module = app_module(app)
    assert module.PLANTED, f"{app} plants nothing"
    assert set(module.PROOFS) == {(p.method, p.route) for p in module.PLANTED}, f"{app}: one proof per failure"
    for planted in module.PLANTED:
        assert set(planted.rules) <= PROBE_RULES, planted
    for item in [*module.SOUND, *module.KNOWN_FALSE_ALARMS]:
        assert item.rule in PROBE_RULES, item
    for alarm in module.KNOWN_FALSE_ALARMS:
        assert set(alarm.twins) <= set(TWINS), alarm


def _documented(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def _served(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "openapi"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


@pytest.mark.parametrize("app", APPS)
def test_both_twins_serve_the_same_documented_api(app, backends):
    documents = {}
    for twin in TWINS:
        built = app_module(app).build(twin, backends)
        try:
            with built.app.test_client() as client:
                documents[twin] = client.get("/openapi.json").get_json()
            served = _served(built.app)
        finally:
            built.close()
        assert served == _documented(documents[twin]), f"{app} {twin}: routes and OpenAPI document differ"
    assert documents["vulnerable"] == documents["hardened"]
