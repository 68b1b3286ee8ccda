"""The UI tier: one Airflow for every test, and headless Debian Chromium driven by Playwright.

Playwright's own browser download cannot work here, so the tier launches the system's Chromium
(``make test-ui`` installs Debian's package when it is missing). Each test gets a fresh page, logged in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import TIER_LOGS, keep_tier_out_unless_asked, point_failures_at_tier_logs
from tests.running_airflow import ADMIN
from tests.standalone import StandaloneAirflow

PROJECT = Path(__file__).resolve().parents[2]
#: Where the screenshots the docs show are written.
SCREENSHOTS = PROJECT / "docs" / "img"
CHROMIUM = os.environ.get("TENGR_UI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[StandaloneAirflow]:
    root = tmp_path_factory.mktemp("ui")
    request.config.stash[TIER_LOGS] = root / "logs"
    with StandaloneAirflow(root) as running:
        yield running


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Any]]:
    """Start a headless Chromium profile of its own: each Airflow gets one, since both sit on
    127.0.0.1 and a browser keeps cookies by host, not by port (one login would replace the other)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test-ui` (it installs Debian's chromium)")
    contexts: list[Any] = []
    with sync_playwright() as playwright:

        def new_profile() -> Any:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")),
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
                viewport={"width": 1400, "height": 1000},
            )
            context.set_default_timeout(20_000)
            contexts.append(context)
            return context

        try:
            yield new_profile
        finally:
            for context in contexts:
                context.close()


def log_in(context: Any, airflow: StandaloneAirflow) -> Any:
    """Log in on Airflow's login page as a person does; return the context, now logged in."""
    page = context.new_page()
    page.goto(f"{airflow.url}/")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password").fill(airflow.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url and "/login" not in url, timeout=30_000)
    page.close()
    return context


@pytest.fixture(scope="session")
def logged_in(airflow: StandaloneAirflow, chromium: Callable[[], Any]) -> Any:
    """A browser profile in which a person logged in on Airflow's login page (once for the session)."""
    return log_in(chromium(), airflow)


@pytest.fixture
def page(logged_in: Any) -> Iterator[Any]:
    page = logged_in.new_page()
    try:
        yield page
    finally:
        page.close()


def screenshot(page: Any, name: str) -> Path:
    """Save what the page shows as ``docs/img/<name>.png`` (the docs show these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target))
    return target


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    point_failures_at_tier_logs(item, outcome.get_result(), "ui tier logs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier out of ``make test``: it runs only when asked for with ``-m ui``."""
    keep_tier_out_unless_asked(config, items, "ui", Path(__file__).parent)
