"""Who may call a field, declared on the field."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal
from portal_gateway.core.errors import AccessError
from portal_gateway.schema.context import Info


class IsCustomer(BasePermission):
    """A portal session. A merchant key is the wrong principal (FORBIDDEN)."""

    message = "Sign in to the portal first."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if isinstance(principal, PortalPrincipal):
            return True
        if isinstance(principal, MerchantPrincipal):
            raise AccessError(
                "FORBIDDEN", "This mutation is for customers; API keys cannot call it."
            )
        raise AccessError("UNAUTHENTICATED", self.message)


class IsMerchant(BasePermission):
    """A business's API key. A portal session is the wrong principal (FORBIDDEN)."""

    message = "This mutation needs a business's API key."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if isinstance(principal, MerchantPrincipal):
            return True
        if isinstance(principal, PortalPrincipal):
            raise AccessError("FORBIDDEN", self.message)
        raise AccessError("UNAUTHENTICATED", self.message)
