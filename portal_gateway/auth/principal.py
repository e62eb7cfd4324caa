"""Who is calling: a merchant's API key, a portal session, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from portal_gateway.models.enums import PortalFlowType, PortalScope


@dataclass(frozen=True, slots=True)
class MerchantPrincipal:
    business_id: str
    api_key_id: str


@dataclass(frozen=True, slots=True)
class PortalPrincipal:
    """A signed-in customer: UNIFIED sees every account with the email, BUSINESS one account."""

    session_id: str
    scope: PortalScope
    email_normalized: str
    business_id: str | None
    account_id: str | None
    flow_type: PortalFlowType | None = None
    flow_subscription_id: str | None = None
    return_url: str | None = None


@dataclass(frozen=True, slots=True)
class AnonymousPrincipal:
    pass


@dataclass(frozen=True, slots=True)
class SystemPrincipal:
    """The service itself (reconcile, renewals): audited, never scoped to a customer."""

    job: str


Principal = MerchantPrincipal | PortalPrincipal | AnonymousPrincipal | SystemPrincipal
ANONYMOUS = AnonymousPrincipal()


def principal_kind(principal: Principal) -> str:
    if isinstance(principal, MerchantPrincipal):
        return "merchant"
    if isinstance(principal, PortalPrincipal):
        return "portal_session"
    if isinstance(principal, SystemPrincipal):
        return "system"
    return "anonymous"


def principal_ref(principal: Principal) -> str | None:
    if isinstance(principal, MerchantPrincipal):
        return principal.api_key_id
    if isinstance(principal, PortalPrincipal):
        return principal.session_id
    if isinstance(principal, SystemPrincipal):
        return principal.job
    return None
