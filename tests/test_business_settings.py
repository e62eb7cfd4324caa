"""What a business sets with its API key: plan changes, and the branding of its pages."""

from __future__ import annotations

from typing import Any

import httpx

from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.models.enums import ApiKeyMode
from tests.api import Api, app_client
from tests.factories import Merchant, World

SETTINGS = """mutation($input: UpdateBusinessSettingsInput!) {
  updateBusinessSettings(input: $input) {
    __typename
    ... on UpdateBusinessSettingsSuccess { business { logoUrl supportEmail websiteUrl } }
    ... on InvalidInputError { code field message }
  }
}"""
BRANDING = "{ currentBusiness { logoUrl supportEmail websiteUrl } }"


async def _update(api: Api, business: Merchant, **input: Any) -> dict[str, Any]:
    body = await api.gql(SETTINGS, {"input": input}, token=business.api_key)
    result: dict[str, Any] = body["data"]["updateBusinessSettings"]
    return result


async def test_a_business_sets_and_removes_its_branding(world: World, api: Api) -> None:
    business = await world.business()
    branded = await _update(
        api, business, logoUrl="https://cdn.shop.example/logo.png",
        supportEmail=" Help@Shop.example ", websiteUrl="http://shop.example",
    )  # fmt: skip
    assert branded["business"] == {
        "logoUrl": "https://cdn.shop.example/logo.png",
        "supportEmail": "help@shop.example",
        "websiteUrl": "http://shop.example",
    }
    untouched = await _update(api, business, allowSubscriptionUpdates=False)
    assert untouched["business"] == branded["business"]
    removed = await _update(api, business, logoUrl="", supportEmail="", websiteUrl=" ")
    assert removed["business"] == {"logoUrl": None, "supportEmail": None, "websiteUrl": None}


async def test_bad_branding_names_the_field_and_changes_nothing(world: World, api: Api) -> None:
    business = await world.business()
    await _update(api, business, logoUrl="https://cdn.shop.example/logo.png")
    for field, value in (
        ("logoUrl", "/logo.png"),
        ("logoUrl", "javascript:alert(1)"),
        ("logoUrl", "https://cdn.example/" + "x" * 2000),
        ("supportEmail", "not an email"),
        ("websiteUrl", "shop.example"),
    ):
        result = await _update(api, business, **{field: value}, allowSubscriptionUpdates=False)
        assert (result["__typename"], result["field"]) == ("InvalidInputError", field), value
    body = await api.gql(BRANDING, token=business.api_key)
    assert body["data"]["currentBusiness"] == {
        "logoUrl": "https://cdn.shop.example/logo.png",
        "supportEmail": None,
        "websiteUrl": None,
    }


async def test_live_mode_takes_only_https_for_a_logo(
    world: World, db: Database, live_settings: Settings
) -> None:
    business = await world.business(mode=ApiKeyMode.LIVE)
    async with app_client(live_settings, db) as client:
        api = Api(client)
        refused = await _update(api, business, logoUrl="http://cdn.shop.example/logo.png")
        assert (refused["__typename"], refused["field"]) == ("InvalidInputError", "logoUrl")
        assert "https" in refused["message"]
        taken = await _update(api, business, logoUrl="https://cdn.shop.example/logo.png")
        assert taken["business"]["logoUrl"] == "https://cdn.shop.example/logo.png"


async def test_a_logo_url_is_taken_only_in_one_plain_form(world: World, api: Api) -> None:
    """It ends up in an img src and in the page's CSP: an international host in punycode,
    and nothing that could smuggle a CSP source, a user name or a control character."""
    business = await world.business()
    plain = await _update(api, business, logoUrl="https://例え.jp/ロゴ.png")
    assert plain["business"]["logoUrl"] == "https://xn--r8jz45g.jp/%E3%83%AD%E3%82%B4.png"
    for url in (
        "https://a.example\x0b/x.png",
        "https://a.example;sandbox/x.png",
        "https://*/x.png",
        "https://user:pass@cdn.example/x.png",
        "https://cdn.example:99999/x.png",
    ):
        result = await _update(api, business, logoUrl=url)
        assert (result["__typename"], result["field"]) == ("InvalidInputError", "logoUrl"), url


async def test_a_support_email_cannot_add_headers_to_the_mailto_link(
    world: World, api: Api, client: httpx.AsyncClient
) -> None:
    """x?cc=…@… is a valid address, and in a mailto: link it would add a Cc."""
    business = await world.business()
    await _update(api, business, supportEmail="x?cc=attacker@evil.example")
    page = await client.get(f"/portal/login/test_{business.id}")
    assert 'href="mailto:x%3Fcc%3Dattacker%40evil.example"' in page.text
