"""In a real browser: log in to Airflow, see the DAGs listed with what they do and the
navigation bar's link to the feature catalog; fill the training-set form, trigger, see it
succeed; then open the backfill form and see its fields.

Airflow runs as ``make airflow`` runs it (``scripts/airflow_local.py``: standalone,
SQLite, a free port); Debian's Chromium drives the UI headless through chromedriver.
Screenshots of the filled form and of the finished run are saved under
``test-artifacts/``.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from feature_jobs.definitions import load_registry
from feature_jobs.demo import generate
from feature_jobs.materialize import materialize_range
from feature_jobs.settings import Settings
from tests.dags.harness import ROOT, airflow_env
from tests.support.browser import chromium as _chromium
from tests.support.browser import needs_chromium

ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "skewless-ui-test"
#: Where the navigation bar's Catalog link must point (the test's SKEWLESS_CATALOG_URL).
CATALOG_URL = "http://127.0.0.1:8765/catalog"
END = date(2026, 3, 20)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    needs_chromium,
]


@pytest.fixture
def data(spark, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    """Demo data with the merchant view materialized for the last two days."""
    settings = Settings.from_env({"SKEWLESS_DATA_ROOT": str(tmp_path / "data")})
    generate(settings.data_root, days=4, end=END, users=30, merchants=6, seed=5)
    view = load_registry("features").view("merchant_transaction_stats")
    materialize_range(spark, settings, view, [END - timedelta(days=1), END], run_id="ui_test")
    return settings


@pytest.fixture
def airflow_url(data: Settings, tmp_path: Path) -> Iterator[str]:
    """``scripts/airflow_local.py`` on a free port; stopped (with its Airflow) afterwards."""
    home = tmp_path / "airflow"
    out = tmp_path / "airflow_local.out"
    env = airflow_env(home, SKEWLESS_AIRFLOW_PASSWORD=PASSWORD, SKEWLESS_CATALOG_URL=CATALOG_URL)
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "airflow_local.py"),
             "--home", str(home), "--data-root", str(data.data_root), "--timeout", "300"],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = _wait_for_line(out, "Airflow is up: ", process, 330)
        assert f"login: admin / {PASSWORD}" in out.read_text()
        yield url
    finally:
        process.send_signal(signal.SIGTERM)  # the script stops its Airflow on SIGTERM
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.copy(home / "standalone.log", ARTIFACTS / "airflow_standalone.log")


def test_trigger_training_set_from_the_ui(data: Settings, airflow_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = _chromium()
    try:
        driver.get(airflow_url)
        _visible(driver, By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _until(lambda: "/auth/login" not in driver.current_url, 60, "login")
        _dag_list_and_catalog_link(driver, airflow_url)

        driver.get(f"{airflow_url}/dags/skewless_training_set")
        _visible(driver, By.CSS_SELECTOR, "[data-testid=trigger-dag-button]", 120).click()
        spine = _visible(driver, By.ID, "element_spine")
        _choose(driver, "element_feature_service", "merchant_risk_v1")
        _choose(driver, "element_mode", "event-time")
        for field, value in (
            (spine, "raw/labels"),
            (_by_id(driver, "element_output_name"), "ui_set"),
        ):
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(Keys.BACKSPACE)
            field.send_keys(value)
        driver.save_screenshot(str(ARTIFACTS / "airflow_trigger_form.png"))
        driver.find_element(By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]").click()

        run = _wait_for_run(airflow_url, 600)
        assert run["state"] == "success", run
        assert run["conf"] == {
            "feature_service": "merchant_risk_v1",
            "spine": "raw/labels",
            "mode": "event-time",
            "output_name": "ui_set",
        }
        driver.get(f"{airflow_url}/dags/skewless_training_set/runs/{run['dag_run_id']}")
        _visible(driver, By.XPATH, "//*[contains(text(), 'build_training_set')]", 60)
        time.sleep(2)  # let the grid colour the finished tasks before the screenshot
        driver.save_screenshot(str(ARTIFACTS / "airflow_training_set_run.png"))
        _backfill_form_renders(driver, airflow_url)
    finally:
        driver.quit()

    output = data.data_root / "training_sets" / "ui_set"
    rows = pq.read_table(data.data_root / "raw" / "labels").num_rows
    assert pq.read_table(output).num_rows == rows > 0
    manifest = json.loads(Path(str(output) + ".manifest.json").read_text())
    assert manifest["feature_service"] == "merchant_risk_v1"
    assert manifest["output"]["rows"] == rows
    assert (ARTIFACTS / "airflow_training_set_run.png").stat().st_size > 10_000


def _dag_list_and_catalog_link(driver: Any, url: str) -> None:
    """The list of DAGs says what each one does, and the navigation bar links the feature
    catalog (the skewless plugin) at ``SKEWLESS_CATALOG_URL``, in a new tab."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/dags")
    for shown in (
        "skewless_daily: materialize, sync, check every view",
        "skewless_backfill: recompute a date range of views",
        "skewless_training_set: build a training set",
    ):
        _visible(driver, By.XPATH, f"//*[normalize-space(text())='{shown}']", 60)
    link = _visible(driver, By.CSS_SELECTOR, "[aria-label='Catalog'][href]", 60)
    assert link.get_attribute("href") == CATALOG_URL
    assert link.get_attribute("target") == "_blank"
    assert link.text.strip() == "Catalog"  # short enough for the navigation bar
    driver.save_screenshot(str(ARTIFACTS / "airflow_dag_list.png"))


def _backfill_form_renders(driver: Any, url: str) -> None:
    """The backfill DAG's form: every view picked by default, two date pickers (it is not
    submitted: test_backfill_dag runs the DAG)."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/dags/skewless_backfill")
    _visible(driver, By.CSS_SELECTOR, "[data-testid=trigger-dag-button]", 120).click()
    for date_field in ("element_start", "element_end"):
        assert _visible(driver, By.ID, date_field).get_attribute("type") == "date"
    picked = {e.get_attribute("value") for e in driver.find_elements(By.NAME, "element_views")}
    assert picked == set(load_registry("features").views)
    driver.save_screenshot(str(ARTIFACTS / "airflow_backfill_form.png"))


def _choose(driver: Any, name: str, value: str) -> None:
    """Pick ``value`` in the select box whose hidden input is ``name`` (a react-select)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(
        By.XPATH, f"//input[@name='{name}']/preceding::input[@role='combobox'][1]"
    )
    box.send_keys(value)
    box.send_keys(Keys.ENTER)
    _until(lambda: driver.find_element(By.NAME, name).get_attribute("value") == value, 10, name)


def _by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def _visible(driver: Any, by: str, what: str, timeout: float = 60) -> Any:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.visibility_of_element_located((by, what)))


def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_for_line(
    path: Path, prefix: str, process: subprocess.Popen[bytes], timeout: float
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        if process.poll() is not None:
            break
        time.sleep(1)
    raise AssertionError(f"Airflow did not start:\n{path.read_text(errors='replace')[-3000:]}")


def _api(url: str, path: str, token: str | None = None, body: dict | None = None) -> Any:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="POST" if body is not None else "GET",
    )
    for attempt in range(3):  # a busy CI machine may let one request time out
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return json.loads(reply.read())
        except (TimeoutError, urllib.error.URLError):
            if attempt == 2:
                raise
            time.sleep(5)


def _wait_for_run(url: str, timeout: float) -> dict[str, Any]:
    """The UI-triggered run of the training-set DAG, once it has finished."""
    token = _api(url, "/auth/token", body={"username": "admin", "password": PASSWORD})
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = _api(url, "/api/v2/dags/skewless_training_set/dagRuns", token["access_token"])[
            "dag_runs"
        ]
        if runs and runs[0]["state"] in ("success", "failed"):
            return dict(runs[0])
        time.sleep(3)
    raise AssertionError(f"the training-set run did not finish in {timeout:.0f}s: {runs}")
