"""Value types: Money and Address, and the address as input."""

from __future__ import annotations

from decimal import Decimal

import strawberry

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
        line1, city, country = (
            getattr(row, f"{prefix}{part}") for part in ("line1", "city", "country")
        )
        if not (line1 and city and country):
            return None
        return cls(
            line1=line1,
            line2=getattr(row, f"{prefix}line2"),
            city=city,
            state=getattr(row, f"{prefix}state"),
            postal_code=getattr(row, f"{prefix}postal_code"),
            country=country,
        )


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
