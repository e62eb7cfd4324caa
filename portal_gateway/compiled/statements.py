"""SQL compiled once per plan, run by asyncpg with the request's values bound.

The scope condition is `auth`'s own: the plan's statements are built for a stand-in
principal of the request's kind whose values are bind parameters, so one compiled
statement serves every principal of that kind, its values bound per request.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import BindParameter, String, bindparam
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal, Principal
from portal_gateway.models.enums import PortalScope

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]

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
    """A value bound per request (an argument, a parent's ids), named in `Statement.run`."""
    return bindparam(name, type_=type_)


def _constant(value: Any) -> Any:
    # Enums are stored by name (models.base.enum_column); nothing else a plan holds as a
    # constant needs converting for asyncpg.
    return value.name if isinstance(value, enum.Enum) else value


@dataclass(frozen=True)
class Statement:
    """One statement: its text with $n placeholders, and where each value comes from."""

    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]

    @classmethod
    def of(cls, stmt: Any) -> Statement:
        compiled = stmt.compile(dialect=_DIALECT)
        names = tuple(compiled.positiontup or ())
        params = compiled.params
        constants = {name: _constant(params[name]) for name in names if params[name] is not None}
        return cls(compiled.string, names, constants)

    async def fetch(
        self, connection: asyncpg.Connection, values: Mapping[str, Any]
    ) -> Sequence[asyncpg.Record]:
        constants = self.constants
        args = [values[name] if name in values else constants.get(name) for name in self.names]
        return cast(Sequence[asyncpg.Record], await connection.fetch(self.sql, *args))
