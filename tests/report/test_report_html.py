"""The HTML report read as text: what each card shows, self-containment, and the escaping of outside text."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from plumbline.findings import FindingsDocument, HttpLocation
from plumbline.report import html
from plumbline.rules import get as rule


def section(page: str, anchor: str) -> str:
    """The HTML of one finding's section."""
    start = page.index(f'<section class="finding" id="{anchor}">')
    return page[start:page.index("</section>", start)]


def anchor_of(documents: list[FindingsDocument], wanted) -> str:
    """The anchor the report gives a finding: findings are numbered across the documents, in order."""
    findings = [f for document in documents for f in document.findings]
    return f"finding-{findings.index(wanted) + 1}"


def test_a_scan_finding_shows_its_lines_highlighted_from_the_scanned_tree(bank_run):
    page = html.render([bank_run.scan])
    handlers = [f for f in bank_run.scan.findings if Path(f.location.path).name == "vulnerable.py"]
    source = (Path(bank_run.scan.root) / handlers[0].location.path).read_text().splitlines()
    for finding in handlers:
        shown = section(page, anchor_of([bank_run.scan], finding))
        marked = [int(n) for n in re.findall(r'<span class="line marked"><span class="no">(\d+)</span>', shown)]
        assert marked == list(range(finding.location.line, (finding.location.end_line or finding.location.line) + 1))
        first_line = re.search(r'<span class="line marked"><span class="no">\d+</span>(.*?)</span>\n?<span class="line',
                               shown + '<span class="line', re.S).group(1)
        text = re.sub(r"<[^>]+>", "", first_line).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
        assert text.replace("&lt;", "<").replace("&gt;", ">") == source[finding.location.line - 1]
        assert finding.fix and "<strong>Fix:</strong> " in shown


def test_a_race_shows_each_request_of_its_burst_and_the_state_before_expected_and_after(bank_run):
    documents = [bank_run.scan, bank_run.probe]
    page = html.render(documents)
    races = [f for f in bank_run.probe.findings if f.rule_id in ("PL401", "PL403", "PL402")]
    assert races
    for race in races:
        shown = section(page, anchor_of(documents, race))
        last = race.evidence["bursts"][-1]
        drawn = shown[:shown.index("</svg>")]  # the last burst is drawn first, the earlier ones folded below
        assert drawn.count('<g class="request">') == len(last["requests"]) == sum(last["statuses"].values())
        answers = re.findall(r'<circle class="(\w+)"', drawn)
        expected = ["ok" if 200 <= r["status"] < 300 else "refused" if 400 <= r["status"] < 500 else "error"
                    for r in last["requests"] if r["status"] is not None]
        assert answers == expected
        table = shown[shown.index("<table>"):shown.index("</table>")]
        for field, after in last.get("after", {}).items():
            row = re.search(rf'<td class="mono">{re.escape(field)}</td><td>(.*?)</td>\s*<td>(.*?)</td>\s*'
                            rf'<td class="(differs)?">(.*?)</td>', table)
            assert row.groups() == (f"{last['before'][field]}", f"{last['expected_after'][field]}",
                                    "differs" if after != last["expected_after"][field] else None, f"{after}")
        assert shown.count('<svg class="timeline"') == len(race.evidence["bursts"])


def test_the_report_loads_nothing_and_runs_only_its_own_script_and_style(bank_run):
    page = html.render([bank_run.scan, bank_run.probe])
    for fetching in ("src=", "url(", "@import", "<link", "<iframe", "<object", "<embed"):
        assert fetching not in page
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    policy = policy.replace("&#39;", "'")
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(scripts[0])};" in policy and f"style-src {digest(styles[0])};" in policy
    assert policy.startswith("default-src 'none';")
    assert "@media (prefers-color-scheme: dark)" in styles[0]


def test_summary_counts_by_severity_engine_and_rule(bank_run):
    documents = [bank_run.scan, bank_run.probe]
    page = html.render(documents)
    findings = [f for d in documents for f in d.findings]
    for severity in ("critical", "high", "medium", "low"):
        count = sum(f.severity == severity for f in findings)
        assert f'<span class="badge {severity}">{severity}</span></td><td class="n">{count}</td>' in page
    for engine in ("scan", "probe"):
        assert f"<tr><td>{engine}</td><td class=\"n\">{sum(f.engine == engine for f in findings)}</td></tr>" in page
    for rule_id in {f.rule_id for f in findings}:
        count = sum(f.rule_id == rule_id for f in findings)
        assert re.search(rf'<li><span class="mono">{rule_id}</span><span>[a-z-]+</span><span class="n">{count}</span>',
                         page)
    # every finding is shown at least once, a scan finding that two issues share in each
    shown = set(re.findall(r'<section class="finding" id="(finding-\d+)">', page))
    assert shown == {f"finding-{n}" for n in range(1, len(findings) + 1)}


def test_markup_from_the_source_or_the_target_is_shown_as_text(hostile_documents):
    page = html.render(hostile_documents)
    assert page.count("<script") == 1 and "<img" not in page and "<b>" not in page and "<i>" not in page
    for shown in ("&lt;script&gt;alert(&#34;source&#34;)&lt;/script&gt;", "&lt;script&gt;alert(&#39;message&#39;)",
                  "&lt;img src=x onerror=alert(&#39;route&#39;)&gt;", "&lt;script&gt;alert(&#39;body&#39;)",
                  "&lt;/title&gt;&lt;script&gt;alert(&#39;t&#39;)", "&lt;i&gt;n&lt;/i&gt;", "&lt;b&gt;alice&lt;/b&gt;",
                  "&lt;/pre&gt;&lt;script&gt;alert(&#34;reproducer&#34;)"):
        assert shown in page, shown
    assert "\u202e" not in page and "\\u202e" in page  # a bidi override is named, not obeyed


def test_the_code_is_read_from_the_root_given_when_the_document_does_not_say(hostile_documents, tmp_path):
    documents = hostile_documents
    anonymous = documents[0].model_copy(update={"root": None})
    assert "--root DIR" in html.render([anonymous]) and 'class="line marked"' not in html.render([anonymous])
    assert 'class="line marked"' in html.render([anonymous], root=tmp_path)
    moved = documents[0].model_copy(update={"root": str(tmp_path / "gone")})
    assert 'class="line marked"' in html.render([moved], root=tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    assert "it changed since the scan" in html.render([documents[0]])


def test_a_burst_without_per_request_times_still_shows_its_state():
    older = rule("PL401").finding(
        location=HttpLocation(method="POST", route="/a/{id}/add", url="http://127.0.0.1:9/a/1/add"), message="lost",
        confidence="high", backend="any",
        evidence={"bursts": [{"send_spread_ms": 0.2, "statuses": {"200": 20}, "before": {"n": 0},
                              "expected_after": {"n": 20}, "after": {"n": 3}, "successes": 20}],
                  "single_request_delta": {"n": 1}})
    page = html.render([FindingsDocument(findings=(older,))])
    assert "<svg" not in page and "records no per-request times" in page
    assert '<td class="differs">3</td>' in page and "20 requests, final bytes sent within 0.2 ms; 20 accepted" in page
