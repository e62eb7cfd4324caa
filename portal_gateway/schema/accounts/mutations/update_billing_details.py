"""updateBillingDetails."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import accounts as account_resolvers
from portal_gateway.schema.accounts.types import CustomerAccount
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidInputError, NotFoundError, mutation
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.schema.values import AddressInput


@strawberry.input
class UpdateBillingDetailsInput:
    account_id: strawberry.ID
    name: str | None = None
    phone: str | None = None
    billing_address: AddressInput | None = None
    tax_id: str | None = strawberry.field(
        default=None,
        description="The buyer's tax registration (e.g. a VAT id), printed on invoices issued "
        "after it is set; an empty string removes it.",
    )
    locale: str | None = strawberry.field(
        default=None,
        description="One of the supported locales; anything else is an InvalidInputError on "
        "field locale.",
    )


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
    address = input.billing_address.to_address() if input.billing_address else None
    account = await account_resolvers.update_billing_details(
        info.context,
        input.account_id,
        name=input.name,
        phone=input.phone,
        address=address,
        tax_id=input.tax_id,
        locale=input.locale,
    )
    return UpdateBillingDetailsSuccess(account=CustomerAccount(row=account))


field = mutation(update_billing_details, permission_classes=[IsCustomer])
