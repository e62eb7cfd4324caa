"""What a business sets with its API key: plan changes, and the branding of its pages."""

from __future__ import annotations

from typing import Any

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
