"""A real server thread and Debian's Chromium driven by Playwright, with axe-core checks."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.factories import load_demo_data
from tests.helpers import skip_or_fail

CHROMIUM = os.environ.get("RELAIS_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    if app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        pytest.fail("the browser tests need a database file shared with the server thread")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # The loop looks for shutdown() at each poll: every 0.5 s by default, half a second lost per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def demo(app):
    """The demo data set (seed 7, for today), committed: the server thread reads it."""
    from app.domain.clock import utcnow

    load_demo_data(seed=7, today=utcnow().date())
