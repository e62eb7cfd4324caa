"""Invoices as documents, through HTTP as a front end and a browser use them: the signed
pdfUrl, the PDF it serves, and the business's and buyer's details an invoice keeps from the
moment it was issued."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal_gateway.auth.document_links import DocumentLinks, LinkVerdict
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.documents import fonts
from portal_gateway.models import BusinessLogo, CustomerAccount
from tests.api import Api
from tests.factories import Merchant, World, gid, unique_email

INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice { number pdfUrl } } }"""
BILLING = """mutation($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input) {
  __typename
  ... on UpdateBillingDetailsSuccess { account { taxId locale billingAddress { city country } } }
  ... on InvalidInputError { field code message }
} }"""
SETTINGS = """mutation($input: UpdateBusinessSettingsInput!) {
updateBusinessSettings(input: $input) {
  __typename
  ... on UpdateBusinessSettingsSuccess {
    business { taxId logoUrl address { line1 line2 city state postalCode country } }
  }
  ... on InvalidInputError { field code message }
} }"""


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)


async def _customer_with_invoice(
    world: World, api: Api, *, amount: int = 123450, currency: str = "USD", **account: Any
) -> tuple[Merchant, CustomerAccount, str, str]:
    business = await world.business()
    buyer = await world.account(business, unique_email("pdf"), name="Ada Lovelace", **account)
    card = await world.card(buyer)
    [invoice] = await world.invoices(
        buyer, 1, amount=amount, currency=currency, payment_method=card
    )
    token = await api.session_for(business, buyer)
    return business, buyer, token, gid("Invoice", invoice.id)


async def _pdf_url(api: Api, invoice_id: str, token: str) -> tuple[str, str]:
    body = await api.gql(INVOICE, {"id": invoice_id}, token=token)
    node = body["data"]["node"]
    return node["number"], node["pdfUrl"]


async def test_a_customer_downloads_the_pdf_without_a_session(world: World, api: Api) -> None:
    _, _, token, invoice_id = await _customer_with_invoice(world, api)
    number, url = await _pdf_url(api, invoice_id, token)
    response = await api.client.get(url)  # no Authorization, no cookie
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    text = pdf_text(response.content)
    assert number in text
    assert "Ada Lovelace" in text
    assert "Service" in text
    assert "$1,234.50" in text
    again = await api.client.get(url)
    assert again.content == response.content  # the same invoice, the same bytes


async def test_a_merchant_key_gets_the_pdf_of_its_invoices(world: World, api: Api) -> None:
    business, _, _, invoice_id = await _customer_with_invoice(world, api)
    number, url = await _pdf_url(api, invoice_id, business.api_key)
    response = await api.client.get(url)
    assert response.status_code == 200 and number in pdf_text(response.content)
    stranger = await world.business()
    body = await api.gql(INVOICE, {"id": invoice_id}, token=stranger.api_key)
    assert body["data"]["node"] is None  # another business sees neither invoice nor link


async def test_a_tampered_or_foreign_link_is_refused_alike(world: World, api: Api) -> None:
    _, _, token, invoice_id = await _customer_with_invoice(world, api)
    _, other_id = (await _customer_with_invoice(world, api))[2:]
    _, url = await _pdf_url(api, invoice_id, token)
    link = httpx.URL(url)
    signature = link.params["signature"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    base = f"{link.scheme}://{link.netloc.decode()}"
    arabic_indic = "".join(chr(0x660 + int(digit)) for digit in link.params["expires"])
    foreign = DocumentLinks({"d1": "another deployment's key, 32 bytes or more"}, 600)
    unknown = gid("Invoice", "0" * 32)
    refused = [
        str(link.copy_set_param("signature", flipped)),
        str(link.copy_set_param("expires", str(int(link.params["expires"]) + 3600))),
        str(link.copy_set_param("kid", "other")),
        str(link.copy_remove_param("signature")),
        str(link.copy_set_param("expires", "²")),  # a digit to str.isdigit, not to int()
        str(link.copy_set_param("expires", arabic_indic)),
        # one invoice's link cannot fetch another
        url.replace(quote(invoice_id, safe=""), quote(other_id, safe="")),
        foreign.invoice_pdf_url(base, invoice_id, clock.now()),
        foreign.invoice_pdf_url(base, unknown, clock.now()),
    ]  # fmt: skip
    assert len(set(refused)) == len(refused) and url not in refused
    bodies = set()
    for bad in refused:
        response = await api.client.get(bad)
        assert response.status_code == 403, bad
        assert response.headers["content-type"].startswith("text/plain")
        bodies.add(response.text)
    assert bodies == {"This link is not valid."}  # nothing tells an invoice that exists apart


async def test_an_expired_link_is_gone(world: World, api: Api) -> None:
    _, _, token, invoice_id = await _customer_with_invoice(world, api)
    _, url = await _pdf_url(api, invoice_id, token)
    try:
        clock.advance(timedelta(minutes=10))
        response = await api.client.get(url)
    finally:
        clock.reset()
    assert response.status_code == 410
    assert "expired" in response.text
    assert (await api.client.get(url)).status_code == 200  # within its 10 minutes it works


def test_a_link_is_valid_for_its_lifetime_only_and_under_any_key_of_the_ring() -> None:
    now = clock.now()
    old = DocumentLinks({"k1": "k" * 40}, 600)
    rotated = DocumentLinks({"k2": "j" * 40, "k1": "k" * 40}, 600)
    url = httpx.URL(old.invoice_pdf_url("https://p.example", "SW52b2ljZTph", now))
    params = dict(url.params)

    def verdict(links: DocumentLinks, at: Any) -> LinkVerdict:
        return links.check("SW52b2ljZTph", expires=params["expires"], kid=params["kid"],
                           signature=params["signature"], now=at)  # fmt: skip

    assert verdict(rotated, now + timedelta(seconds=599)) is LinkVerdict.VALID
    assert verdict(rotated, now + timedelta(seconds=600)) is LinkVerdict.EXPIRED
    assert verdict(DocumentLinks({"k2": "j" * 40}, 600), now) is LinkVerdict.FORBIDDEN
    assert rotated.invoice_pdf_url("https://p.example", "x", now).count("kid=k2") == 1


async def test_billing_details_changed_after_issue_leave_the_pdf_as_issued(
    world: World, api: Api
) -> None:
    business, buyer, token, invoice_id = await _customer_with_invoice(
        world, api, address_line1="1 Old Road", address_city="Springfield",
        address_postal_code="12345", address_country="US", tax_id="US-OLD-1",
    )  # fmt: skip
    _, url = await _pdf_url(api, invoice_id, token)
    before = pdf_text((await api.client.get(url)).content)
    assert "1 Old Road" in before and "US-OLD-1" in before
    changed = await api.gql(BILLING, {"input": {
        "accountId": gid("CustomerAccount", buyer.id), "name": "Ada King",
        "billingAddress": {"line1": "9 New Street", "city": "Berlin", "postalCode": "10115",
                           "country": "DE"},
        "taxId": "DE 123 456 789", "locale": "de-AT",
    }}, token=token)  # fmt: skip
    result = changed["data"]["updateBillingDetails"]
    assert result["account"] == {
        "taxId": "DE 123 456 789",
        "locale": "de",
        "billingAddress": {"city": "Berlin", "country": "DE"},
    }
    await api.gql(SETTINGS, {"input": {"taxId": "GB999", "address": {
        "line1": "Seller Lane 2", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"}}},
        token=business.api_key)  # fmt: skip
    _, url = await _pdf_url(api, invoice_id, token)
    after = pdf_text((await api.client.get(url)).content)
    assert after == before
    async with world.db.read_sessions() as session:
        buyer_now = await session.get_one(CustomerAccount, buyer.id)
    [later] = await world.invoices(buyer_now, 1)
    _, later_url = await _pdf_url(api, gid("Invoice", later.id), token)
    fresh = pdf_text((await api.client.get(later_url)).content)
    for now_true in ("Ada King", "9 New Street", "DE 123 456 789", "GB999", "Seller Lane 2"):
        assert now_true in fresh, now_true
    assert "Rechnung" in fresh  # the buyer's language from now on


@pytest.mark.parametrize(
    ("input", "field", "code"),
    [
        ({"locale": "xx"}, "locale", "INVALID_INPUT"),
        ({"locale": ""}, "locale", "INVALID_INPUT"),
        ({"taxId": "<script>"}, "taxId", "INVALID_INPUT"),
        ({"taxId": "D" * 41}, "taxId", "INVALID_INPUT"),
    ],
)
async def test_bad_buyer_details_name_the_field_and_change_nothing(
    world: World, api: Api, input: dict[str, str], field: str, code: str
) -> None:
    _, buyer, token, _ = await _customer_with_invoice(world, api, tax_id="KEEP1")
    account_id = gid("CustomerAccount", buyer.id)
    body = await api.gql(
        BILLING, {"input": {"accountId": account_id, "name": "Changed", **input}}, token=token
    )
    result = body["data"]["updateBillingDetails"]
    assert (result["__typename"], result["field"], result["code"]) == (
        "InvalidInputError", field, code,
    )  # fmt: skip
    read = await api.gql(
        "query($id: ID!) { node(id: $id) { ... on CustomerAccount { name taxId locale } } }",
        {"id": account_id},
        token=token,
    )
    assert read["data"]["node"] == {"name": "Ada Lovelace", "taxId": "KEEP1", "locale": "en"}


async def test_a_business_sets_its_address_tax_id_and_logo(world: World, api: Api) -> None:
    business = await world.business()
    body = await api.gql(SETTINGS, {"input": {
        "taxId": " de123456789 ", "logoUrl": "https://cdn.shop.example/logo.png",
        "address": {"line1": " Hauptstraße 1 ", "city": "Berlin", "postalCode": "10115",
                    "country": "de"},
    }}, token=business.api_key)  # fmt: skip
    assert body["data"]["updateBusinessSettings"]["business"] == {
        "taxId": "DE123456789",
        "logoUrl": "https://cdn.shop.example/logo.png",
        "address": {"line1": "Hauptstraße 1", "line2": None, "city": "Berlin", "state": None,
                    "postalCode": "10115", "country": "DE"},
    }  # fmt: skip
    for bad, field in (
        ({"address": {"line1": "x", "city": "y", "country": "ZZ"}}, "address.country"),
        ({"address": {"line1": "x", "city": "y", "country": "DE"}}, "address.postalCode"),
        ({"taxId": "!!"}, "taxId"),
        ({"logoUrl": "https://cdn.shop.example/not-there.gif"}, "logoUrl"),
    ):
        refused = await api.gql(SETTINGS, {"input": {**bad, "taxId": bad.get("taxId", "X1")}},
                                token=business.api_key)  # fmt: skip
        result = refused["data"]["updateBusinessSettings"]
        assert (result["__typename"], result["field"]) == ("InvalidInputError", field), bad
    read = await api.gql("{ currentBusiness { taxId address { city } } }", token=business.api_key)
    assert read["data"]["currentBusiness"] == {
        "taxId": "DE123456789",
        "address": {"city": "Berlin"},
    }
    cleared = await api.gql(SETTINGS, {"input": {"taxId": ""}}, token=business.api_key)
    assert cleared["data"]["updateBusinessSettings"]["business"]["taxId"] is None


async def test_the_pdf_prints_the_seller_as_it_was_with_its_logo(world: World, api: Api) -> None:
    business, buyer, token, _ = await _customer_with_invoice(world, api)
    await api.gql(SETTINGS, {"input": {"taxId": "DE111", "logoUrl": "https://cdn.example/a.png",
        "address": {"line1": "Alte Allee 1", "city": "Köln", "postalCode": "50667",
                    "country": "DE"}}}, token=business.api_key)  # fmt: skip
    async with world.db.read_sessions() as session:
        buyer_now = await session.get_one(CustomerAccount, buyer.id)
    [invoice] = await world.invoices(buyer_now, 1)
    _, url = await _pdf_url(api, gid("Invoice", invoice.id), token)
    pdf = (await api.client.get(url)).content
    text = pdf_text(pdf)
    assert "DE111" in text and "Alte Allee 1" in text and "Köln" in text
    images = [image for page in PdfReader(BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 1
    await api.gql(SETTINGS, {"input": {"taxId": "", "logoUrl": ""}}, token=business.api_key)
    kept = (await api.client.get(url)).content
    assert pdf_text(kept) == text
    assert len([image for page in PdfReader(BytesIO(kept)).pages for image in page.images]) == 1


async def test_the_same_logo_set_again_is_kept_once(world: World, api: Api) -> None:
    business = await world.business()
    for _ in range(3):
        await api.gql(SETTINGS, {"input": {"logoUrl": "https://cdn.example/same.png"}},
                      token=business.api_key)  # fmt: skip
    async with world.db.read_sessions() as session:
        logos = await session.scalar(
            select(func.count()).select_from(BusinessLogo).where(
                BusinessLogo.business_id == business.id)
        )  # fmt: skip
    assert logos == 1


async def test_without_the_cjk_fonts_a_japanese_invoice_says_so(
    world: World, api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The fonts for zh, ja and ko are an optional extra: without it the link answers 503
    (the customer can come back) and the log names what to install."""
    _, _, token, invoice_id = await _customer_with_invoice(world, api, locale="ja")
    real = fonts.locate
    monkeypatch.setattr(
        fonts, "locate", lambda face: None if face.package == "justmytype_intl_cjk" else real(face)
    )
    _, url = await _pdf_url(api, invoice_id, token)
    response = await api.client.get(url)
    assert response.status_code == 503
    assert "fonts" in response.text
    assert "portal-gateway[cjk]" in caplog.text


async def test_live_mode_needs_invoice_link_keys_of_its_own() -> None:
    live = {"mode": "live", "secret_key": "s" * 40, "jwt_keys": '{"k": "' + "k" * 40 + '"}',
            "public_url": "https://p.example", "payment_processor": "test",
            "email_backend": "smtp"}  # fmt: skip
    assert Settings(**live, document_keys='{"d": "' + "d" * 40 + '"}').document_signing_keys
    for keys in (None, '{"d": "' + "s" * 40 + '"}', '{"d": "' + "k" * 40 + '"}', '{"d": "short"}'):
        with pytest.raises(ValueError, match="PORTAL_DOCUMENT_KEYS"):
            Settings(**live, document_keys=keys)
    test_mode = Settings(mode="test")
    assert test_mode.document_signing_keys["dev"] not in (
        test_mode.secret_key.get_secret_value(),
        *test_mode.signing_keys.values(),
    )
