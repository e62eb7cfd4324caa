"""Businesses: creating them and their API keys (the CLI's merchant onboarding), and the
settings a business changes with its key."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.api_keys import new_api_key
from portal_gateway.core.errors import InvalidInputError
from portal_gateway.db import Database
from portal_gateway.models import Business, BusinessLogo
from portal_gateway.models.enums import ApiKeyMode
from portal_gateway.services.accounts import AddressInput, checked_address, checked_tax_id
from portal_gateway.services.logos import LogoFetcher
from portal_gateway.services.sign_in import checked_email
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work
from portal_gateway.services.urls import checked_url


def invoice_prefix_for(name: str) -> str:
    letters = re.sub(r"[^A-Za-z0-9]", "", name).upper()
    return (letters[:6] or "INV").ljust(3, "X")


async def create_business(
    session: AsyncSession,
    name: str,
    mode: ApiKeyMode,
    *,
    business_id: str | None = None,
    support_email: str | None = None,
    website_url: str | None = None,
    tax_rate_bps: int = 0,
    invoice_prefix: str | None = None,
) -> tuple[Business, str]:
    """A new business and its first API key (the plaintext, shown once)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInputError("name must be 1 to 200 characters.", "name")
    if not 0 <= tax_rate_bps <= 10000:
        raise InvalidInputError("tax rate must be between 0 and 10000 basis points.", "taxRate")
    live = mode is ApiKeyMode.LIVE
    business = Business(
        name=name,
        support_email=checked_email(support_email, field="supportEmail") if support_email else None,
        website_url=checked_url(website_url, field="websiteUrl", live=live)
        if website_url
        else None,
        tax_rate_bps=tax_rate_bps,
        invoice_prefix=invoice_prefix or invoice_prefix_for(name),
    )
    if business_id:
        business.id = business_id
    session.add(business)
    await session.flush()
    return business, await issue_api_key(session, business.id, mode)


async def issue_api_key(session: AsyncSession, business_id: str, mode: ApiKeyMode) -> str:
    plaintext, row = new_api_key(business_id, mode)
    session.add(row)
    await session.flush()
    return plaintext


async def update_business_settings(
    db: Database,
    actor: Actor,
    business_id: str,
    *,
    live: bool,
    allow_subscription_updates: bool | None = None,
    logo_url: str | None = None,
    support_email: str | None = None,
    website_url: str | None = None,
    address: AddressInput | None = None,
    tax_id: str | None = None,
    logos: LogoFetcher | None = None,
) -> Business:
    """updateBusinessSettings, for the business whose key calls it. What is None stays as it
    is; an empty string removes the logo, support email, website or tax id. A new logo is
    fetched here, before anything changes, and kept for the invoices issued from now on."""

    def url_or_none(value: str, field: str) -> str | None:
        return checked_url(value.strip(), field=field, live=live) if value.strip() else None

    changes: dict[str, str | None] = {}
    if logo_url is not None:
        changes["logo_url"] = url_or_none(logo_url, "logoUrl")
    checked = checked_address(address, "address") if address is not None else None
    if tax_id is not None:
        changes["tax_id"] = checked_tax_id(tax_id)
    if support_email is not None:
        changes["support_email"] = (
            checked_email(support_email, field="supportEmail") if support_email.strip() else None
        )
    if website_url is not None:
        changes["website_url"] = url_or_none(website_url, "websiteUrl")
    fetched = None
    if changes.get("logo_url"):
        fetched = await (logos or LogoFetcher()).fetch(changes["logo_url"] or "")

    async def work(session: AsyncSession) -> Business:
        business = await session.get_one(Business, business_id, with_for_update=True)
        if allow_subscription_updates is not None:
            business.allow_subscription_updates = allow_subscription_updates
        for column, value in changes.items():
            setattr(business, column, value)
        if "logo_url" in changes:
            business.logo_id = None
        if fetched is not None:
            # The same image set again is the same row: logos are never changed, only shared.
            logo = await session.scalar(
                select(BusinessLogo).where(
                    BusinessLogo.business_id == business_id, BusinessLogo.sha256 == fetched.sha256
                )
            )
            if logo is None:
                logo = BusinessLogo(
                    business_id=business_id,
                    source_url=changes["logo_url"] or "",
                    sha256=fetched.sha256,
                    png=fetched.png,
                )
                session.add(logo)
                await session.flush()
            business.logo_id = logo.id
        if checked is not None:
            business.address_line1 = checked.line1
            business.address_line2 = checked.line2
            business.address_city = checked.city
            business.address_state = checked.state
            business.address_postal_code = checked.postal_code
            business.address_country = checked.country
        await session.flush()
        return business

    return await in_unit_of_work(
        db, actor, "updateBusinessSettings", work, target_type="Business", target_id=business_id
    )
