"""The scope of a compiled plan: stand-in principals whose values are bind parameters.

The scope condition is `auth`'s own: the plan's statements are built for a stand-in
principal of the request's kind whose values are bind parameters, so one compiled
statement serves every principal of that kind, its values bound per request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, String, bindparam

from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal, Principal
from portal_gateway.models.enums import PortalScope

# The principal kinds a plan is compiled for; anyone else reads through Strawberry.
MERCHANT, BUSINESS_SESSION, UNIFIED_SESSION = "merchant", "business", "unified"


def _value(name: str) -> Any:
    """A bind parameter where a principal holds a value: SQLAlchemy compares columns with it
    as with a literal, so `auth.scope` builds its condition unchanged."""
    return bindparam(name, type_=String())


STAND_INS: dict[str, Principal] = {
    MERCHANT: MerchantPrincipal(business_id=_value("scope_business"), api_key_id=""),
    BUSINESS_SESSION: PortalPrincipal(
        session_id="",
        scope=PortalScope.BUSINESS,
        email_normalized=_value("scope_email"),
        business_id=_value("scope_business"),
        account_id=_value("scope_account"),
    ),
    UNIFIED_SESSION: PortalPrincipal(
        session_id="",
        scope=PortalScope.UNIFIED,
        email_normalized=_value("scope_email"),
        business_id=None,
        account_id=None,
    ),
}


def kind_of(principal: Principal) -> str | None:
    if isinstance(principal, MerchantPrincipal):
        return MERCHANT
    if isinstance(principal, PortalPrincipal):
        return BUSINESS_SESSION if principal.scope is PortalScope.BUSINESS else UNIFIED_SESSION
    return None


def scope_values(principal: Principal) -> dict[str, Any]:
    """The stand-in's parameters, as this request's principal fills them."""
    if isinstance(principal, MerchantPrincipal):
        return {"scope_business": principal.business_id}
    if isinstance(principal, PortalPrincipal):
        return {
            "scope_business": principal.business_id,
            "scope_account": principal.account_id,
            "scope_email": principal.email_normalized,
        }
    return {}


def parameter(name: str, type_: Any) -> BindParameter[Any]:
    """A value bound per request (an argument, a parent's ids), named in the values a run binds."""
    return bindparam(name, type_=type_)
