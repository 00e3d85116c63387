"""The HTML report in a real headless browser (Debian's chromium driven by Playwright): it renders without a
console error, the burst timeline is visible, the filters work, dark mode applies, and hostile markup stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.report import html

CHROMIUM = Path("/usr/bin/chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="needs Playwright: pip install playwright (no browser "
                                                       "download: the test drives the system's chromium)"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: "
                                                     "apt-get install chromium"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


class Opened:
    """A report open in a page, with every console error and uncaught exception it caused."""

    def __init__(self, browser, path: Path, scheme: str = "light") -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(message.text))
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.goto(path.as_uri())

    def visible_cards(self) -> list[dict[str, str]]:
        return self.page.eval_on_selector_all(".card", """cards => cards.filter(c => !c.hidden).map(c => ({
            severity: c.dataset.severity, engine: c.dataset.engine, rule: c.dataset.rule, text: c.textContent}))""")


@pytest.fixture(scope="module")
def report(bank_run, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html.render([bank_run.scan, bank_run.probe]), encoding="utf-8")
    return path


def test_the_report_renders_with_its_timeline_and_no_console_error(browser, report):
    opened = Opened(browser, report)
    page = opened.page
    assert page.title() == "plumbline report"
    cards = page.locator(".card")
    assert cards.count() > 10 and page.locator(".card .badge.confirmed").count() > 0
    timeline = page.locator("svg.timeline").first
    timeline.scroll_into_view_if_needed()
    assert timeline.is_visible()
    box = timeline.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert timeline.locator("g.request").count() == 20
    assert timeline.locator("circle").count() >= 1 and timeline.locator("circle").first.is_visible()
    assert page.locator("#filter-count").inner_text() == f"{cards.count()} of {cards.count()} shown"
    assert opened.problems == []


def test_filters_show_only_the_matching_cards(browser, report):
    opened = Opened(browser, report)
    page = opened.page
    every = opened.visible_cards()
    severities = {s for card in every for s in card["severity"].split()}
    chosen = next(s for s in ("medium", "low", "critical", "high") if s in severities)
    page.click(f'button[data-filter="severity"][data-value="{chosen}"]')
    shown = opened.visible_cards()
    assert shown and len(shown) < len(every) and all(chosen in card["severity"].split() for card in shown)
    assert len(shown) == sum(chosen in card["severity"].split() for card in every)
    assert page.locator("#filter-count").inner_text() == f"{len(shown)} of {len(every)} shown"
    page.click(f'button[data-filter="severity"][data-value="{chosen}"]')
    assert len(opened.visible_cards()) == len(every)

    page.click('button[data-filter="engine"][data-value="scan"]')
    assert all("scan" in card["engine"].split() for card in opened.visible_cards())
    page.click("#filter-clear")

    page.select_option("#filter-rule", "PL101")
    shown = opened.visible_cards()
    assert shown and all("PL101" in card["rule"].split() for card in shown)
    page.click("#filter-clear")

    page.fill("#filter-text", "/users/search")
    shown = opened.visible_cards()
    assert shown and len(shown) < len(every) and all("/users/search" in card["text"] for card in shown)
    page.click("#filter-clear")
    assert len(opened.visible_cards()) == len(every)
    assert opened.problems == []


def test_dark_mode_follows_the_system(browser, report):
    def background(scheme: str) -> str:
        return Opened(browser, report, scheme).page.evaluate("getComputedStyle(document.body).backgroundColor")

    assert background("light") != background("dark")


def test_hostile_markup_is_shown_and_never_run(browser, hostile_documents, tmp_path):
    path = tmp_path / "hostile.html"
    path.write_text(html.render(hostile_documents), encoding="utf-8")
    opened = Opened(browser, path)
    page = opened.page
    assert page.locator("script").count() == 1 and page.locator("img").count() == 0
    assert page.locator("b, i").count() == 0
    assert page.title() == "plumbline report" and opened.dialogs == []
    assert "<script>alert('body')</script>" in page.locator(".exchange").first.inner_text()
    assert opened.problems == []
