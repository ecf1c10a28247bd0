"""Browser journeys: one headless Chromium per test session, a fresh context (cookies, storage) per test.

Debian's /usr/bin/chromium is used rather than a browser Playwright downloads (nothing may be downloaded at run
time). Without it the journeys are skipped locally with a reason; under CI (CI=true) they fail instead, and
.ci/run installs it before the suite starts, so CI never skips them.

Every test here is marked ``e2e`` and runs against ``live_server`` with a transactional database, which is
emptied after each transactional test; ``_reference_data`` puts back what the migrations load (role groups,
species and breeds; see tests/reference_data.py) before each journey. Serialized rollback is not used: after a
plain transactional test the content types come back with new ids and reloading the serialized copy fails.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls made by the test
# itself (creating a user, checking a row) as "async unsafe". They are in fact synchronous, so allow them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No calls home: the machines have no network beyond package registries, and each refused connection slows
    # the browser down.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


def _artifact_name(nodeid: str, suffix: str = "") -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}{suffix}.png"


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} is missing: install Debian's chromium package (`make test` does it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _journeys_are_transactional(transactional_db):
    """A journey's browser talks to the live server on another connection: every e2e test is transactional (and so
    starts with the migrations' reference rows, see tests/conftest.py)."""


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    """A page in a fresh browser context whose relative URLs go to the live server.

    A full-page screenshot of where the journey ended is saved in test-artifacts/ (also when it failed).
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    try:
        page.screenshot(path=str(_artifact_name(request.node.nodeid)), full_page=True)
    finally:
        context.close()


@pytest.fixture
def screenshot(page, request):
    """screenshot("after-save") keeps a named screenshot of the current page in test-artifacts/."""

    def take(label: str) -> Path:
        path = _artifact_name(request.node.nodeid, f"--{label}")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(page):
    """log_in(username, password) signs in through the login form, as a person would."""

    def go(username: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.locator("form [type=submit]").first.click()
        page.wait_for_load_state()

    return go
