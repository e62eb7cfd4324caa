"""updateBillingDetails."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import accounts as account_resolvers
from portal_gateway.schema.accounts.types import CustomerAccount
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidInputError, NotFoundError, mutation
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.services.accounts import AddressInput as Address


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: str


@strawberry.input
class UpdateBillingDetailsInput:
    account_id: strawberry.ID
    name: str | None = None
    phone: str | None = None
    billing_address: AddressInput | None = None


@strawberry.type
class UpdateBillingDetailsSuccess:
    account: CustomerAccount


UpdateBillingDetailsResult = Annotated[
    UpdateBillingDetailsSuccess | NotFoundError | InvalidInputError,
    strawberry.union("UpdateBillingDetailsResult"),
]


async def update_billing_details(
    info: Info, input: UpdateBillingDetailsInput
) -> UpdateBillingDetailsResult:
    given = input.billing_address
    address = None
    if given is not None:
        address = Address(
            line1=given.line1,
            line2=given.line2,
            city=given.city,
            state=given.state,
            postal_code=given.postal_code,
            country=given.country,
        )
    account = await account_resolvers.update_billing_details(
        info.context, input.account_id, name=input.name, phone=input.phone, address=address
    )
    return UpdateBillingDetailsSuccess(account=CustomerAccount(row=account))


field = mutation(update_billing_details, permission_classes=[IsCustomer])
