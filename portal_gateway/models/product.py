"""What a business sells, and the collections a subscription may move within."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import (
    Base,
    created_at_column,
    currency_column,
    enum_column,
    id_column,
    money_column,
)
from portal_gateway.models.enums import BillingInterval, ProductType


class ProductCollection(Base):
    __tablename__ = "product_collections"

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    collection_id: Mapped[str | None] = mapped_column(
        ForeignKey("product_collections.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[ProductType] = mapped_column(enum_column(ProductType))
    price_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    billing_interval: Mapped[BillingInterval | None] = mapped_column(enum_column(BillingInterval))
    # Whether the business's tax rate applies to this product.
    taxable: Mapped[bool] = mapped_column(Boolean, default=False)
    # For products that come with license keys: how many activations each key allows.
    license_activations_limit: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()
