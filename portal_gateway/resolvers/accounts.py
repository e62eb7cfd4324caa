"""A customer's billing details at one business."""

from __future__ import annotations

from portal_gateway.models import CustomerAccount
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.services import accounts
from portal_gateway.services.accounts import AddressInput


async def update_billing_details(
    ctx: Context,
    account_id: str,
    *,
    name: str | None,
    phone: str | None,
    address: AddressInput | None,
) -> CustomerAccount:
    return await accounts.update_billing_details(
        ctx.resources.db,
        ctx.actor,
        input_id(account_id, "CustomerAccount"),
        name=name,
        phone=phone,
        address=address,
    )
