"""Debian's Chromium driven headless through chromedriver, for the browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
#: Screenshots of the browser tests (ignored by git).
ARTIFACTS = ROOT / "test-artifacts"

needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium "
    "chromium-driver; .ci/run installs them)",
)


def chromium(window: str = "1400,1000") -> Any:
    """A headless Chromium WebDriver (``quit()`` it); creates ``ARTIFACTS``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", f"--window-size={window}",
    ):  # fmt: skip
        options.add_argument(flag)
    ARTIFACTS.mkdir(exist_ok=True)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
