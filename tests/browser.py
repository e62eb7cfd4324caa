"""A real Chromium against the app served on loopback, for the journeys a person clicks.

Debian's `chromium` driven by Playwright (its own browser download is out of reach here).
Without a Chromium the browser tests are skipped with the reason, except under CI=true,
where they are mandatory. Nothing here sets Origin, Referer or a cookie: the browser does.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright
from starlette.types import ASGIApp

from portal_gateway.app import create_app
from portal_gateway.config import Settings
from portal_gateway.db import Database
from tests.api import Api, web_of_logos
from tests.mail import Mailbox

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM") or shutil.which("chromium")
# What a person sees on a desktop, and on a small phone.
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}
# Only what this machine serves: GraphiQL's scripts from a CDN fail at once instead of hanging.
_NOT_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[str]:
    """`app` served by uvicorn on a loopback port, in this event loop; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Portal:
    """The app as a browser reaches it, with the mail it sends and a merchant's API client."""

    url: str
    settings: Settings
    mailbox: Mailbox
    api: Api


@asynccontextmanager
async def portal_served(db: Database, mail_dir: Path, **settings: Any) -> AsyncIterator[Portal]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = Settings(mode="test", database_url=db.url, public_url=url, **settings)
    app = create_app(config, db, background=False, logos=web_of_logos())
    async with serving(app, port), httpx.AsyncClient(base_url=url) as client:
        yield Portal(url, config, Mailbox(db, mail_dir, url), Api(client))


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        reason = "no Chromium on this machine (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true needs the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            # As root the sandbox must be off; the rest keeps Chromium off the closed network.
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            await browser.close()


async def new_context(browser: Browser, viewport: str, **options: Any) -> BrowserContext:
    context = await browser.new_context(viewport=VIEWPORTS[viewport], **options)
    context.set_default_timeout(10_000)

    async def offline(route: Route) -> None:
        await route.abort()

    await context.route(_NOT_LOOPBACK, offline)
    return context


async def graphql_in_page(page: Page, base_url: str, query: str) -> dict[str, Any]:
    """POST a query as a script of this origin would: the browser's cookie, nothing set by
    hand. From /healthz, since our pages' CSP lets no script of theirs fetch anything."""
    await page.goto(f"{base_url}/healthz")
    body: dict[str, Any] = await page.evaluate(
        """async (query) => {
             const response = await fetch('/graphql', {method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/json'}, body: JSON.stringify({query})});
             return await response.json();
           }""",
        query,
    )
    return body


_AXE = Axe()


async def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    results = await _AXE.run(page)
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
