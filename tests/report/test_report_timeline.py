"""The burst timeline: the per-request times the probe records, and the geometry the report draws from them."""

from __future__ import annotations

from collections import Counter

import pytest

from plumbline.probe.burst import PreparedRequest, last_byte_burst
from plumbline.report.timeline import LABEL_WIDTH, MARGIN, PLOT_WIDTH, timelines


def test_each_burst_of_a_race_records_when_each_request_left_and_came_back(bank_run):
    bursts = [b for f in bank_run.probe.findings if f.rule_id in ("PL401", "PL402", "PL403")
              for b in f.evidence["bursts"]]
    assert bursts
    for burst in bursts:
        requests = burst["requests"]
        assert Counter(str(r["status"]) for r in requests) == Counter(burst["statuses"])
        sent = [r["sent_ms"] for r in requests if r["sent_ms"] is not None]
        assert min(sent) == 0 and max(sent) - min(sent) == pytest.approx(burst["send_spread_ms"], abs=0.002)
        assert all(r["received_ms"] >= r["sent_ms"] for r in requests if r["status"] is not None)


def test_requests_never_sent_have_no_times(bank_lab):
    alive = bank_lab["vulnerable"].url + "/openapi.json"
    result = last_byte_burst([PreparedRequest("GET", alive, {}), PreparedRequest("GET", "http://127.0.0.1:9/", {})],
                             timeout=10)
    answered, refused = result.responses
    assert answered.status == 200 and answered.sent_ms == 0.0 and answered.elapsed_ms > 0
    assert refused.status is None and refused.sent_ms is None and refused.error == "connection refused"


def test_rows_are_placed_by_time_and_coloured_by_status():
    evidence = {"bursts": [{
        "statuses": {"200": 2, "409": 1, "500": 1, "None": 1},
        "requests": [{"sent_ms": 0, "received_ms": 10, "status": 200},
                     {"sent_ms": 0.5, "received_ms": 20, "status": 409},
                     {"sent_ms": 1, "received_ms": 40, "status": 500}, {"sent_ms": 1, "received_ms": 5, "status": 200},
                     {"sent_ms": None, "received_ms": None, "status": None, "error": "connection refused"}],
        "before": {"n": 1}, "expected_after": {"n": 3}, "after": {"n": 2}}]}
    (line,) = timelines(evidence)
    left = LABEL_WIDTH + MARGIN
    assert [row.kind for row in line.rows] == ["ok", "refused", "error", "ok", "none"]
    assert [row.received_x for row in line.rows[:4]] == [left + PLOT_WIDTH * t / 40 for t in (10, 20, 40, 5)]
    assert line.rows[2].sent_x == left + PLOT_WIDTH / 40 and line.rows[4].sent_x is None
    assert line.rows[4].received_x is None and "never sent" in line.rows[4].label
    assert [row.y for row in line.rows] == sorted(row.y for row in line.rows) and line.height > line.rows[-1].y
    assert [(s.field, s.before, s.expected, s.after, s.differs) for s in line.state] == [("n", 1, 3, 2, True)]
    assert ("none", "no answer × 1") in line.legend and ("ok", "200 × 2") in line.legend


def test_duplicate_creates_show_the_copies_made_against_the_one_expected():
    (line,) = timelines({"burst": {"statuses": {"201": 3}, "copies_listed": 3, "successes": 3}})
    assert [(s.field, s.expected, s.after, s.differs) for s in line.state] == [("copies", 1, 3, True)]
    assert line.rows == () and line.summary.startswith("3 requests; 3 accepted")


@pytest.mark.parametrize("evidence", [{}, {"bursts": "x"}, {"bursts": [1, None]}, {"burst": []},
                                      {"bursts": [{"requests": "x", "after": [], "statuses": {"200": "many"}}]},
                                      {"bursts": [{"requests": [{"sent_ms": "0", "received_ms": float("nan"),
                                                                 "status": True}]}]}])
def test_evidence_of_unexpected_shapes_draws_what_it_can(evidence):
    for line in timelines(evidence):
        assert all(row.sent_x is None and row.kind == "none" for row in line.rows)
