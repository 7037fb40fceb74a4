"""Browser tests: Playwright driving Debian's Chromium against a live server.

Without ``/usr/bin/chromium`` (``apt-get install chromium``) these tests skip
with the reason; under ``REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import need_service

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    need_service(os.path.exists(CHROMIUM), f"needs Chromium at {CHROMIUM}")
    # Playwright runs an event loop; Django refuses sync ORM calls inside one.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(params=[(1440, 900), (390, 844)], ids=["wide", "phone"])
def viewport(request) -> dict:
    width, height = request.param
    return {"width": width, "height": height}


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
