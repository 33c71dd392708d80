"""Browser tests: Playwright driving Debian's Chromium against the app on a loopback port.

They never skip: without /usr/bin/chromium (or CHROMIUM_PATH) they fail with a clear message.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.factories import PASSWORD
from tests.live import LiveServer

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium is required for the browser tests (Debian: apt-get install -y chromium; "
            "`make test` installs it). Not skipping.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server


def recording_page(browser, live_server, width: int, height: int):
    """A page of the live server at this size that records console errors and CSP violations
    (``page.console_errors``); yields it and closes its context."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page (390×844) that records console errors and CSP violations."""
    yield from recording_page(browser, live_server, 390, 844)


def sign_in(
    page, email: str, password: str = PASSWORD, *, lands_on: str | None = "**/wallet/"
) -> None:
    """Sign in through the login form as a person would; returns once the browser is at
    ``lands_on`` (a URL glob: the wallet for employees, the console for employer admins), or
    right after the click with ``lands_on=None`` (a second step follows)."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if lands_on is not None:
        page.wait_for_url(lands_on)


def sign_out(page) -> None:
    """Sign out from the header as a person would. On the wallet it asks first (the offline copies
    are wiped): confirm it. Staff consoles sign out at once."""
    page.locator("header form.logout-form button").click()
    dialog = page.locator("dialog#sign-out-dialog")
    if dialog.count():
        dialog.get_by_role("button", name="Sign out and wipe").click()


def save_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"  # npm axe-core, tests only


@pytest.fixture
def a11y_page(browser, live_server):
    """A phone-sized page whose CSP is bypassed so that axe-core can be injected."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the current page (WCAG 2.x A and AA rules and best practices)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
