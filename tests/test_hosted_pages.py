"""The hosted pages as a person meets them in Chromium: every page a customer can land on,
in English and German, at desktop and phone width, branded with its business and free of
serious accessibility faults (axe-core)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from portal_gateway.core import clock
from portal_gateway.db import Database
from tests.api import token_of
from tests.browser import (
    VIEWPORTS,
    Portal,
    free_port,
    new_context,
    portal_served,
    serious_accessibility_violations,
    serving,
)
from tests.factories import World, unique_email

# What the browser asks for (its Accept-Language), and a heading each page must then show.
LANGUAGES = {
    "en-US": {
        "sign_in": "Your purchases",
        "check": "Check your email",
        "used": "This link has already been used",
        "limited": "Too many requests",
    },
    "de-DE": {
        "sign_in": "Ihre Einkäufe",
        "check": "Sehen Sie in Ihrem E-Mail-Postfach nach",
        "used": "Dieser Link wurde bereits verwendet",
        "limited": "Zu viele Anfragen",
    },
}


@pytest.fixture
async def portal(db: Database, tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_served(
        db, tmp_path / "mail", email_backend="file", sign_in_limit_per_client="1/hour"
    ) as served:
        yield served


@pytest.fixture(params=[(lang, width) for lang in LANGUAGES for width in sorted(VIEWPORTS)])
async def page(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Page]:
    language, width = request.param
    context = await new_context(browser, width, locale=language)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_every_page_is_in_the_visitors_language_branded_and_accessible(
    world: World, portal: Portal, page: Page
) -> None:
    language = await page.evaluate("navigator.language")
    headings = LANGUAGES[language]
    business = await world.business("Bäckerei & Söhne")
    await portal.api.gql(
        """mutation { updateBusinessSettings(input: {supportEmail: "hilfe@baeckerei.example",
             websiteUrl: "https://baeckerei.example", logoUrl: "https://cdn.example/logo.png"})
           { __typename } }""",
        token=business.api_key,
    )
    email = unique_email("pages")
    account = await world.account(business, email)
    static = f"{portal.url}/portal/login/test_{business.id}"
    violations: list[str] = []

    async def check(heading: str | None = None) -> None:
        if heading is not None:
            await page.get_by_role("heading", name=heading).wait_for()
        violations.extend(await serious_accessibility_violations(page))

    # The unified form, its error, and its answer.
    await page.goto(f"{portal.url}/portal/login")
    await check(headings["sign_in"])
    await page.get_by_role("textbox").fill("not an email")
    await page.get_by_role("button").click()
    await page.locator("#email-error").wait_for()
    assert await page.get_by_role("textbox").get_attribute("aria-describedby") == "email-error"
    await check()
    await page.get_by_role("textbox").fill(email)
    await page.get_by_role("button").click()
    await check(headings["check"])
    # A business's form: its name, logo, support email and website on the page.
    await page.goto(static)
    await check()
    assert await page.get_by_text("Bäckerei & Söhne").first.is_visible()
    assert await page.get_by_role("link", name="hilfe@baeckerei.example").is_visible()
    assert await page.locator("header img").get_attribute("src") == "https://cdn.example/logo.png"
    # A link: confirm, used, expired, unknown.
    link = (await portal.api.portal_link(business, account))["url"]
    await page.goto(link)
    await check()
    await page.get_by_role("button").click()
    await page.goto(link)
    await check(headings["used"])
    expiring = (await portal.api.portal_link(business, account, expiresIn=60))["url"]
    clock.advance(timedelta(minutes=2))
    await page.goto(expiring)
    await check()
    await page.goto(f"{portal.url}/portal/link?token=nonsense")
    await check()
    # No such page; a refused cross-origin form; too many attempts; signed in.
    await page.goto(f"{portal.url}/portal/login/test_nobody")
    await check()
    fresh = (await portal.api.portal_link(business, account))["url"]

    async def elsewhere(_: Request) -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="{portal.url}/portal/link"><input type="hidden" '
            f'name="token" value="{token_of(fresh)}"><button>Go</button></form>'
        )

    async with serving(Starlette(routes=[Route("/", elsewhere)]), free_port()) as other:
        await page.goto(other)
        await page.get_by_role("button").click()
        await page.wait_for_url(f"{portal.url}/portal/link")
    await check()
    await page.goto(fresh)  # the budget (one sign-in an hour here) went on the first link
    await page.get_by_role("button").click()
    await check(headings["limited"])
    await page.goto(f"{portal.url}/portal/signed-in")
    await check()
    assert violations == []
