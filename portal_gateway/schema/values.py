"""Value types: Money and Address."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from portal_gateway.core.money import Money as MoneyValue


@strawberry.type
class Money:
    amount: Decimal = strawberry.field(
        description='Exact decimal in major units: "12.50" USD, "1000" JPY.'
    )
    currency: str = strawberry.field(description="ISO 4217, upper case.")

    @classmethod
    def of(cls, minor: int, currency: str) -> Money:
        return cls(amount=MoneyValue(minor, currency).to_decimal(), currency=currency)


@strawberry.type
class Address:
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str | None = strawberry.field(
        description="Required where the country uses postal codes."
    )
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
