"""Signing in from a real Chromium, clicked as a person would: no header or cookie set by
hand. Every journey runs at a desktop's width and at a 375 px phone's."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.payments.test_processor import TestProcessor
from portal_gateway.services.renewals import renew_due
from tests.api import token_of
from tests.browser import (
    VIEWPORTS,
    Portal,
    free_port,
    graphql_in_page,
    new_context,
    portal_served,
    serving,
)
from tests.factories import World, gid, unique_email

VIEWER = "{ viewer { email scope business { name } } }"
UPDATE_CARD = """mutation { updatePaymentMethod(input: {subscriptionId: "$id", token: "tok_visa"}) {
  ... on UpdatePaymentMethodSuccess { reactivated subscription { status } } } }"""


@pytest.fixture
async def portal(db: Database, tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_served(db, tmp_path / "mail", email_backend="file") as served:
        yield served


@pytest.fixture(params=sorted(VIEWPORTS))
async def page(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Page]:
    context: BrowserContext = await new_context(browser, request.param)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _continue(page: Page, link: str) -> int:
    """Open a sign-in link and press Continue; the status of the page it lands on."""
    await page.goto(link)
    async with page.expect_navigation() as landed:
        await page.get_by_role("button", name="Continue").click()
    response = await landed.value
    return response.status if response else 0


async def _ask_for_a_link(page: Page, form_url: str, email: str) -> None:
    await page.goto(form_url)
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Email me a link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()


async def test_a_merchants_dynamic_link_signs_in(world: World, portal: Portal, page: Page) -> None:
    business = await world.business("Acme Browser")
    email = unique_email("dyn")
    account = await world.account(business, email)
    link = (await portal.api.portal_link(business, account))["url"]
    assert link.startswith(portal.url)
    assert await _continue(page, link) == 200
    body = await graphql_in_page(page, portal.url, VIEWER)
    assert body["data"]["viewer"] == {
        "email": email,
        "scope": "BUSINESS",
        "business": {"name": "Acme Browser"},
    }


async def test_the_unified_form_emails_a_link_that_signs_in_to_every_business(
    world: World, portal: Portal, page: Page
) -> None:
    email = unique_email("unified")
    for name in ("Unified One", "Unified Two"):
        await world.account(await world.business(name), email)
    await _ask_for_a_link(page, f"{portal.url}/portal/login", email)
    assert await _continue(page, await portal.mailbox.link_for(email)) == 200
    body = await graphql_in_page(page, portal.url, VIEWER)
    assert body["data"]["viewer"] == {"email": email, "scope": "UNIFIED", "business": None}


async def test_a_static_link_emails_a_link_into_that_business_only(
    world: World, portal: Portal, page: Page
) -> None:
    email = unique_email("static")
    business = await world.business("Static Browser")
    await world.account(business, email)
    await world.account(await world.business("Elsewhere"), email)
    static = (
        await portal.api.gql("{ currentBusiness { staticPortalUrl } }", token=business.api_key)
    )["data"]["currentBusiness"]["staticPortalUrl"]
    await _ask_for_a_link(page, static, email)
    assert await _continue(page, await portal.mailbox.link_for(email)) == 200
    body = await graphql_in_page(page, portal.url, VIEWER)
    assert body["data"]["viewer"] == {
        "email": email,
        "scope": "BUSINESS",
        "business": {"name": "Static Browser"},
    }


async def test_a_used_link_and_an_expired_link_say_so(
    world: World, portal: Portal, page: Page
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email("used"))
    used = (await portal.api.portal_link(business, account))["url"]
    assert await _continue(page, used) == 200
    await page.goto(used)
    await page.get_by_role("heading", name="This link has already been used").wait_for()
    # The way forward: that business's form for a new link.
    await page.get_by_role("link", name="Get a new sign-in link").click()
    await page.get_by_role("heading", name=f"{business.name}: billing portal").wait_for()

    expiring = (await portal.api.portal_link(business, account, expiresIn=60))["url"]
    await page.goto(expiring)  # shown while valid ...
    clock.advance(timedelta(minutes=2))
    async with page.expect_navigation() as landed:  # ... pressed once it has expired
        await page.get_by_role("button", name="Continue").click()
    response = await landed.value
    assert response is not None and response.status == 404
    await page.get_by_role("heading", name="This link has expired").wait_for()


async def test_a_form_on_another_origin_of_the_same_host_is_refused(
    world: World, portal: Portal, page: Page
) -> None:
    """Another port of 127.0.0.1 is the same site but another origin: a page there that posts
    a stolen token to our link page must not sign its visitor in."""
    business = await world.business()
    account = await world.account(business, unique_email("csrf"))
    link = (await portal.api.portal_link(business, account))["url"]

    async def attacker(_: Request) -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="{portal.url}/portal/link">'
            f'<input type="hidden" name="token" value="{token_of(link)}">'
            '<button type="submit">Win a prize</button></form>'
        )

    port = free_port()
    async with serving(Starlette(routes=[Route("/", attacker)]), port) as elsewhere:
        await page.goto(elsewhere)
        async with page.expect_navigation() as landed:
            await page.get_by_role("button", name="Win a prize").click()
        response = await landed.value
    assert response is not None and response.status == 403
    assert (await graphql_in_page(page, portal.url, VIEWER))["data"]["viewer"] is None
    # The token was not spent: its owner still signs in with it.
    assert await _continue(page, link) == 200


async def test_serve_on_another_port_prints_links_that_sign_in(
    browser: Browser, tmp_path: Path
) -> None:
    """`PORTAL_PORT=8123 make run` with no PORTAL_PUBLIC_URL: the printed link points where
    the server listens, and its page accepts its own form."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "PORTAL_PORT": str(port),
    }

    async def cli(*args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portal_gateway.cli", *args, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

    assert await (await cli("db", "upgrade")).wait() == 0
    seed = await cli("demo", "seed", "--announce")
    announced = (await seed.communicate())[0].decode()
    match = re.search(r"http://\S+/portal/link\?token=[\w-]+", announced)
    assert match, announced
    link = match.group(0)
    assert link.startswith(f"http://127.0.0.1:{port}/portal/link?token=")
    server = await cli("serve")
    try:
        async with httpx.AsyncClient() as probe:
            for _ in range(200):
                try:
                    if (await probe.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        context = await new_context(browser, "desktop")
        page = await context.new_page()
        assert await _continue(page, link) == 200
        body = await graphql_in_page(page, f"http://127.0.0.1:{port}", VIEWER)
        assert body["data"]["viewer"]["email"] == "dana.demo@example.com"
        await context.close()
    finally:
        server.terminate()
        await server.communicate()


async def test_a_flow_link_opens_graphiql_on_that_subscription_and_never_jumps_to_return_url(
    world: World, portal: Portal, page: Page
) -> None:
    business = await world.business("Flow Browser")
    account = await world.account(business, unique_email("flow"))
    plan = await world.product(business, 1000)
    subscription = await world.subscription(account, plan)
    subscription_id = gid("Subscription", subscription.id)
    link = (
        await portal.api.portal_link(
            business, account, returnUrl="https://shop.example/account",
            flow={"type": "SUBSCRIPTION_CANCEL", "subscriptionId": subscription_id},
        )
    )["url"]  # fmt: skip
    assert await _continue(page, link) == 200
    assert page.url == f"{portal.url}/graphql"
    html = await page.content()
    assert f"Signed in as {account.email_normalized}, at Flow Browser." in html
    assert "This link was made to cancel the subscription below." in html
    assert "query Flow" in html
    assert subscription_id in html


async def test_without_graphiql_sign_in_ends_on_a_page_that_offers_the_way_back(
    world: World, db: Database, tmp_path: Path, page: Page
) -> None:
    """As in live mode: Continue ends on our signed-in page, in the account's language, whose
    link back is the merchant's returnUrl."""
    async with portal_served(db, tmp_path / "mail", graphiql=False) as portal:
        business = await world.business("Rückweg GmbH")
        account = await world.account(business, unique_email("back"), locale="de")
        link = (
            await portal.api.portal_link(business, account, returnUrl="https://shop.example/konto")
        )["url"]
        assert await _continue(page, link) == 200
        assert page.url == f"{portal.url}/portal/signed-in"
        await page.get_by_role("heading", name="Sie sind angemeldet").wait_for()
        back = page.get_by_role("link", name="Zurück zu Rückweg GmbH")
        assert await back.get_attribute("href") == "https://shop.example/konto"


async def test_the_sign_in_form_works_from_the_keyboard_alone(
    world: World, portal: Portal, page: Page
) -> None:
    email = unique_email("keys")
    await world.account(await world.business(), email)
    await page.goto(f"{portal.url}/portal/login")
    for _ in range(5):  # Tab until the email field has the focus
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "email":
            break
    await page.keyboard.type(email)
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Check your email").wait_for()
    await page.goto(await portal.mailbox.link_for(email))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Continue"
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    body = await graphql_in_page(page, portal.url, VIEWER)
    assert body["data"]["viewer"]["scope"] == "UNIFIED"


async def test_the_on_hold_email_leads_to_the_card_update_that_pays_the_dues(
    world: World, portal: Portal, page: Page, db: Database
) -> None:
    """A declined renewal mails a link; the customer opens it, presses Continue, lands on
    that subscription's card update, and a new card pays what is owed."""
    business = await world.business("Hold Browser")
    account = await world.account(business, unique_email("hold"))
    plan = await world.product(business, 1000)
    card = await world.card(account, "tok_declined")
    subscription = await world.subscription(account, plan, payment_method=card)
    subscription_id = gid("Subscription", subscription.id)
    clock.advance(subscription.current_period_end - clock.now() + timedelta(minutes=1))
    await renew_due(db, TestProcessor(db, live=False))
    assert await _continue(page, await portal.mailbox.link_for(account.email)) == 200
    html = await page.content()
    assert "This link was made to update the card of the subscription below." in html
    assert subscription_id in html
    body = await graphql_in_page(
        page,
        portal.url,
        UPDATE_CARD.replace("$id", subscription_id),
    )
    assert body["data"]["updatePaymentMethod"] == {
        "reactivated": True, "subscription": {"status": "ACTIVE"},
    }  # fmt: skip
