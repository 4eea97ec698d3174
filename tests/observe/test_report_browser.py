"""The HTML report opened in Debian's headless Chromium: every chart drawn (an SVG in each
container), no console error, no request leaving the file, and a screenshot saved.

Chromium comes from the `chromium` package (scripts/ensure_chromium.py installs it for
`make test`); playwright only drives it, it never downloads a browser. The tests skip,
saying so, only where /usr/bin/chromium is absent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_report import (
    CHARTS,
    HOSTILE,
    HOSTILE_CHECK,
    NOW,
    open_warehouse,
    sample_report,
)

from dataward.observe.report import chart_specs, render_report, write_atomically
from dataward.observe.report_data import collect_report_data

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium absent): "
    "run `python scripts/ensure_chromium.py` as root, or `apt-get install chromium`",
)


@dataclass
class Opened:
    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # anything not from the file itself
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def open_page(browser, path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    opened = Opened(page)
    page.on(
        "console",
        lambda message: opened.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))

    def only_the_file(route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            opened.requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_file)
    page.goto(path.as_uri(), wait_until="load")
    return opened


def wait_for_charts(opened: Opened, expected: int) -> int:
    """Every chart container holds vega-embed's drawing; how many containers there are."""
    opened.page.wait_for_function(
        """() => [...document.querySelectorAll('.dataward-chart')].every(
             el => el.dataset.rendered === 'true' && el.querySelector('svg, canvas'))""",
        timeout=20_000,
    )
    return opened.page.locator(".dataward-chart").count()


def test_the_report_draws_every_chart_without_errors(browser, tmp_path):
    data = sample_report(tmp_path / "ledger")
    path = tmp_path / "report.html"
    write_atomically(path, render_report(data))
    opened = open_page(browser, path)
    assert wait_for_charts(opened, len(CHARTS)) == len(chart_specs(data)) == len(CHARTS)
    page = opened.page
    for key in CHARTS:
        svg = page.locator(f"#{key} svg")
        assert svg.count() == 1, key
        assert svg.locator("path, rect, line").count() > 0, key
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, key
    # What the charts say, read from the drawn SVG text.
    assert "orders" in page.locator("#chart-volume svg").text_content()
    assert "email" in page.locator("#chart-null-rates svg").text_content()
    assert "customers: unique (amount)" in page.locator("#chart-rejects svg").text_content()
    assert "No history yet" not in page.content()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 50_000
    assert opened.errors == []
    assert opened.requests == []


def test_hostile_names_stay_text(browser, tmp_path):
    data = sample_report(tmp_path / "ledger", tables=(HOSTILE, HOSTILE_CHECK))
    path = tmp_path / "report.html"
    write_atomically(path, render_report(data))
    opened = open_page(browser, path)
    assert wait_for_charts(opened, len(CHARTS)) == len(CHARTS)
    assert HOSTILE in opened.page.locator("#chart-volume svg").text_content()
    assert opened.page.locator("img").count() == 0
    opened.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert opened.dialogs == []
    assert opened.errors == []
    assert opened.requests == []


def test_an_empty_ledger_opens_as_a_page_saying_no_history_yet(browser, tmp_path):
    wh = open_warehouse(tmp_path)
    try:
        data = collect_report_data(wh, project="shop", now=NOW)
    finally:
        wh.close()
    path = tmp_path / "report.html"
    write_atomically(path, render_report(data))
    opened = open_page(browser, path)
    assert opened.page.locator("#no-history h2").inner_text() == "No history yet"
    assert wait_for_charts(opened, 0) == 0
    opened.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert opened.errors == []
    assert opened.requests == []
