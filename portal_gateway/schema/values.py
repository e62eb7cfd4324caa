"""Value types: Money and Address, and the address as input."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from portal_gateway.core.addresses import address_of
from portal_gateway.core.money import Money as MoneyValue
from portal_gateway.services import accounts


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

    @classmethod
    def of(cls, row: object, prefix: str) -> Address | None:
        """The address kept in a row's `<prefix>line1`, ... columns; None when it has none."""
        parts = address_of(row, prefix)
        return None if parts is None else cls(**parts)  # type: ignore[arg-type]


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: str

    def to_address(self) -> accounts.AddressInput:
        return accounts.AddressInput(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            country=self.country,
        )
