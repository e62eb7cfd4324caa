"""updateBillingDetails (customer) and updateBusinessSettings (merchant)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.core.errors import DomainError
from portal_gateway.models import Business, CustomerAccount
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.resolvers.unit_of_work import run_mutation
from portal_gateway.services import accounts, businesses
from portal_gateway.services.accounts import AddressInput


async def update_billing_details(
    ctx: Context,
    account_id: str,
    *,
    name: str | None,
    phone: str | None,
    address: AddressInput | None,
) -> CustomerAccount | DomainError:
    async def work(session: AsyncSession) -> CustomerAccount:
        return await accounts.update_billing_details(
            session,
            ctx.principal,
            input_id(account_id, "CustomerAccount"),
            name=name,
            phone=phone,
            address=address,
        )

    return await run_mutation(
        ctx, "updateBillingDetails", work, target_type="CustomerAccount", target_id=account_id
    )


async def update_business_settings(
    ctx: Context, *, allow_subscription_updates: bool | None
) -> Business | DomainError:
    principal = ctx.principal
    assert isinstance(principal, MerchantPrincipal)  # the field's permission ensures it

    async def work(session: AsyncSession) -> Business:
        return await businesses.update_settings(
            session, principal.business_id, allow_subscription_updates=allow_subscription_updates
        )

    return await run_mutation(
        ctx,
        "updateBusinessSettings",
        work,
        target_type="Business",
        target_id=principal.business_id,
    )
