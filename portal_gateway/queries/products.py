"""Products of a business's catalogue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core.errors import NotFoundError
from portal_gateway.models import Product
from portal_gateway.queries.readable import readable


async def product_of_business(
    session: AsyncSession, principal: Principal, product_id: str, business_id: str
) -> Product:
    """A product of `business_id` that the principal may see, or NotFoundError: a product of
    another business is no product of this one."""
    product = await session.scalar(
        readable(Product, principal, business_id=business_id).where(Product.id == product_id)
    )
    if product is None:
        raise NotFoundError("No such product.")
    return product
