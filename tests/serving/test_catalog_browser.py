"""In a real browser: ``python -m feature_jobs serve`` over the test warehouse, the catalog
and a view page open, the SVG charts draw (visible, non-zero size, lines with length),
the quarantined day shows, nothing is fetched from elsewhere; a screenshot of the view
page is saved as ``test-artifacts/catalog_<view>.png`` (and of the list as
``catalog_index.png``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.serving.conftest import BAD, DAYS, Warehouse
from tests.support.browser import ARTIFACTS, ROOT, chromium, needs_chromium
from tests.support.http_server import wait_until_healthy
from tests.support.redis_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]
VIEW = "user_transaction_stats"


@pytest.fixture
def served(warehouse: Warehouse) -> Iterator[str]:
    """The serve command on a free port over the warehouse; its base URL."""
    settings, port = warehouse.settings, free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DELTA_ROOT"},
        "SKEWLESS_DATA_ROOT": str(settings.data_root),
        "SKEWLESS_PROJECT": settings.project,
        "REDIS_URL": settings.redis_url or "",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "feature_jobs", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, 90)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_catalog_renders_its_charts_in_chromium(served: str) -> None:
    from selenium.webdriver.common.by import By

    driver = chromium()
    try:
        driver.get(f"{served}/catalog")
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == [
            "merchant_transaction_stats", "user_risk_signals", VIEW,
        ]  # fmt: skip
        sparklines = driver.find_elements(By.CSS_SELECTOR, "svg.sparkline")
        assert len(sparklines) == 3 and all(_drawn(s) for s in sparklines)
        driver.save_screenshot(str(ARTIFACTS / "catalog_index.png"))
        driver.find_element(By.LINK_TEXT, VIEW).click()
        assert driver.current_url == f"{served}/catalog/{VIEW}"

        charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")
        assert len(charts) == 4
        for chart in charts:
            assert _drawn(chart), chart.get_attribute("aria-label")
        bars = driver.find_elements(By.CSS_SELECTOR, "rect.bar")
        assert len(bars) == len(DAYS) and all(_drawn(b) for b in bars)
        flagged = driver.find_elements(By.CSS_SELECTOR, "rect.bar.flagged")
        assert flagged and all(
            b.value_of_css_property("fill") == "rgb(214, 39, 40)" for b in flagged
        )
        lines = driver.find_elements(By.CSS_SELECTOR, "path.series")
        lengths = [driver.execute_script("return arguments[0].getTotalLength()", p) for p in lines]
        assert lines and all(length > 10 for length in lengths)
        points = driver.find_elements(By.CSS_SELECTOR, "circle.point")
        assert len(points) > len(DAYS) and all(p.is_displayed() for p in points[:20])

        day = driver.find_element(By.XPATH, f"//tr[@class='quarantined-day'][.//*[text()='{BAD}']]")
        assert day.is_displayed() and "in_range(0.0, 100000.0)" in day.text
        # Nothing but the page itself was loaded: no script, font or stylesheet from anywhere.
        resources = driver.execute_script("return performance.getEntriesByType('resource').length")
        assert resources == 0

        driver.refresh()  # the second render: the tables' reads are cached per version
        server_ms = float(driver.find_element(By.ID, "render-ms").text)
        timing = driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return [t.responseEnd - t.requestStart, t.loadEventEnd - t.startTime];"
        )
        print(f"catalog page {VIEW}: rendered on the server in {server_ms:.0f} ms, response "
              f"{timing[0]:.0f} ms, loaded in the browser in {timing[1]:.0f} ms")  # fmt: skip
        assert server_ms < 1000 and timing[0] < 1000

        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(int(height) + 40, 6000))
        shot = ARTIFACTS / f"catalog_{VIEW}.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    finally:
        driver.quit()


def _drawn(element: Any) -> bool:
    """Displayed with a non-zero box."""
    size = element.size
    return bool(element.is_displayed() and size["width"] > 0 and size["height"] > 0)
