"""Browser tests: the real admin on pytest-django's live server, driven by Playwright in
Debian's headless Chromium (/usr/bin/chromium; Playwright's own browser downloads are
never used). Screenshots of every step land in test-artifacts/e2e/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from opsconsole.testing import artifacts_dir, skip_or_fail

# The live server binds 127.0.0.1 on an ephemeral port (never 8000, never another host).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path(os.environ.get("OPSCONSOLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STAFF_USERNAME, STAFF_PASSWORD = "ops", "pw-ops-123"  # the root conftest's staff_user


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium per test module.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running on
    the main thread while it lives, and Django refuses ORM calls under a running loop
    unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Scoping both to the browser tests keeps that
    switch away from the rest of the suite.
    """
    if not CHROMIUM.exists():
        skip_or_fail(f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("browser tests need playwright: pip install -r requirements.txt")
    patch = pytest.MonkeyPatch()
    patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        patch.undo()


@pytest.fixture
def outside_requests() -> list[str]:
    """URLs the page tried to load from anywhere but the live server (aborted; should stay empty)."""
    return []


@pytest.fixture
def page(browser, live_server, outside_requests):
    """A fresh browser context on the live server; requests to other hosts are aborted and recorded."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)

    def keep_local(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", keep_local)
    tab = context.new_page()
    tab.console_errors = []  # type: ignore[attr-defined]
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    yield tab
    context.close()


@pytest.fixture
def screenshot(page, request) -> Callable[[str], Path]:
    """`screenshot("step")` saves the full page (or `tab=`) as test-artifacts/e2e/<test>-<nn>-<step>.png."""
    folder = artifacts_dir() / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for stale in folder.glob(f"{test_name}-*.png"):  # a previous run's steps would mix with this run's
        stale.unlink()
    steps = iter(range(1, 100))

    def take(step: str, tab=None) -> Path:
        path = folder / f"{test_name}-{next(steps):02d}-{step}.png"
        (tab or page).screenshot(path=str(path), full_page=True)
        return path

    return take


def admin_login(page, *, username: str = STAFF_USERNAME, password: str = STAFF_PASSWORD) -> None:
    """Log in through the admin's own login form and land on the dashboard."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


@pytest.fixture
def logged_in(page, staff_user):
    """The page, logged in to the admin as the staff superuser."""
    admin_login(page, username=staff_user.username)
    return page


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver's sink on 127.0.0.1 (never another interface), on an ephemeral port."""
    return ("127.0.0.1", 0)
