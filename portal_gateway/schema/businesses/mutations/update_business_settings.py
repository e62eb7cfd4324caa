"""updateBusinessSettings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import businesses as business_resolvers
from portal_gateway.schema.businesses.types import Business
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidInputError, mutation
from portal_gateway.schema.permissions import IsMerchant
from portal_gateway.schema.values import AddressInput


@strawberry.input
class UpdateBusinessSettingsInput:
    allow_subscription_updates: bool | None = None
    logo_url: str | None = strawberry.field(
        default=None,
        description="An https URL of the logo shown on hosted pages and invoices.",
    )
    support_email: str | None = strawberry.field(
        default=None, description="Shown on hosted pages; an empty string removes it."
    )
    website_url: str | None = strawberry.field(
        default=None, description="Your website, linked from hosted pages."
    )
    address: AddressInput | None = strawberry.field(
        default=None, description="Your address, printed on invoices issued from now on."
    )
    tax_id: str | None = strawberry.field(
        default=None,
        description="Your tax registration (e.g. a VAT id), printed on invoices issued from now "
        "on; an empty string removes it.",
    )


@strawberry.type
class UpdateBusinessSettingsSuccess:
    business: Business


UpdateBusinessSettingsResult = Annotated[
    UpdateBusinessSettingsSuccess | InvalidInputError,
    strawberry.union("UpdateBusinessSettingsResult"),
]


async def update_business_settings(
    info: Info, input: UpdateBusinessSettingsInput
) -> UpdateBusinessSettingsResult:
    business = await business_resolvers.update_business_settings(
        info.context,
        allow_subscription_updates=input.allow_subscription_updates,
        logo_url=input.logo_url,
        support_email=input.support_email,
        website_url=input.website_url,
        address=input.address.to_address() if input.address else None,
        tax_id=input.tax_id,
    )
    return UpdateBusinessSettingsSuccess(business=Business(row=business))


field = mutation(
    update_business_settings, description="Merchant API key.", permission_classes=[IsMerchant]
)
