"""An invoice's PDF from a real Chromium: the customer signs in, asks for the invoice's
pdfUrl, and the link downloads the document from anywhere, a browser without the session
included, as a link in a mail client or a front end on another origin would be opened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from portal_gateway.db import Database
from tests.browser import Portal, graphql_in_page, new_context, portal_served
from tests.factories import World, gid, unique_email
from tests.test_invoice_documents import pdf_text

INVOICE = '{ node(id: "$id") { ... on Invoice { number pdfUrl } } }'


@pytest.fixture
async def portal(db: Database, tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_served(db, tmp_path / "mail", email_backend="file") as served:
        yield served


async def test_the_pdf_link_downloads_in_a_browser_without_the_session(
    world: World, portal: Portal, browser: Browser
) -> None:
    business = await world.business("Download Browser")
    account = await world.account(business, unique_email("pdf"), name="Grace Hopper")
    [invoice] = await world.invoices(account, 1, amount=4990, currency="EUR")
    link = (await portal.api.portal_link(business, account))["url"]
    signed_in = await new_context(browser, "desktop")
    try:
        page = await signed_in.new_page()
        await page.goto(link)
        async with page.expect_navigation():
            await page.get_by_role("button", name="Continue").click()
        body = await graphql_in_page(
            page,
            portal.url,
            INVOICE.replace("$id", gid("Invoice", invoice.id)),
        )
    finally:
        await signed_in.close()
    number, url = body["data"]["node"]["number"], body["data"]["node"]["pdfUrl"]
    assert url.startswith(portal.url)
    elsewhere = await new_context(browser, "phone", accept_downloads=True)
    try:
        page = await elsewhere.new_page()
        await page.set_content(f'<a href="{url}">Download your invoice</a>')
        async with page.expect_download() as started:
            await page.get_by_role("link", name="Download your invoice").click()
        download = await started.value
        assert download.suggested_filename == f"{number}.pdf"
        pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
        tampered = await elsewhere.request.get(url.replace("signature=", "signature=x"))
        assert tampered.status == 403
    finally:
        await elsewhere.close()
    text = pdf_text(pdf)
    assert number in text and "Grace Hopper" in text and "€49.90" in text
