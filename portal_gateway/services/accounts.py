"""A customer's billing details at one business."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pycountry
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway import i18n
from portal_gateway.core.errors import InvalidInputError
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import CustomerAccount
from portal_gateway.queries.accounts import account_in_scope
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# The assigned ISO 3166-1 alpha-2 codes (pycountry's list: Babel's territories also hold
# reserved ones, ZZ, AC, CP, CQ, DG, EA, IC and TA, that no address is in), and XK, which
# card processors take for Kosovo.
COUNTRIES = frozenset({country.alpha_2 for country in pycountry.countries} | {"XK"})
# Where addresses carry no postal code (everywhere else one is required).
NO_POSTAL_CODES = frozenset(
    [
        "AE",
        "AG",
        "AO",
        "AW",
        "BF",
        "BI",
        "BJ",
        "BO",
        "BS",
        "BW",
        "BZ",
        "CD",
        "CF",
        "CG",
        "CI",
        "CK",
        "CM",
        "DJ",
        "DM",
        "ER",
        "FJ",
        "GA",
        "GD",
        "GH",
        "GM",
        "GQ",
        "GY",
        "HK",
        "HM",
        "JM",
        "KI",
        "KM",
        "KN",
        "KP",
        "LY",
        "MO",
        "ML",
        "MR",
        "MS",
        "MW",
        "NA",
        "NR",
        "NU",
        "QA",
        "RW",
        "SB",
        "SC",
        "SL",
        "SO",
        "SR",
        "SS",
        "ST",
        "SY",
        "TF",
        "TG",
        "TK",
        "TL",
        "TO",
        "TT",
        "TV",
        "UG",
        "VU",
        "YE",
        "ZW",
    ]
)
TAX_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ./-]{0,38}[A-Za-z0-9])$")
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")


@dataclass(frozen=True)
class AddressInput:
    line1: str
    city: str
    country: str
    line2: str | None = None
    state: str | None = None
    postal_code: str | None = None


def _text(value: str | None, field: str, *, maximum: int, required: bool) -> str | None:
    text = value.strip() if value is not None else None
    if not text:
        if required:
            raise InvalidInputError(f"{field} is required.", field=field)
        return None
    if len(text) > maximum:
        raise InvalidInputError(f"{field} is at most {maximum} characters.", field=field)
    return text


def checked_address(address: AddressInput, field: str = "billingAddress") -> AddressInput:
    """The address with its text trimmed, its country and postal code checked; errors name
    `field`.part (billingAddress.country, address.postalCode, ...)."""
    country = address.country.strip().upper()
    if country not in COUNTRIES:
        raise InvalidInputError(
            "country must be an ISO 3166-1 alpha-2 code, e.g. DE.", field=f"{field}.country"
        )
    postal_code = _text(address.postal_code, f"{field}.postalCode", maximum=20, required=False)
    if postal_code is None and country not in NO_POSTAL_CODES:
        raise InvalidInputError(
            f"A postal code is required for addresses in {country}.",
            field=f"{field}.postalCode",
        )
    if postal_code is not None and not POSTAL_CODE.match(postal_code):
        raise InvalidInputError("postalCode is not a postal code.", field=f"{field}.postalCode")
    line1 = _text(address.line1, f"{field}.line1", maximum=200, required=True)
    city = _text(address.city, f"{field}.city", maximum=100, required=True)
    assert line1 is not None and city is not None
    return AddressInput(
        line1=line1,
        line2=_text(address.line2, f"{field}.line2", maximum=200, required=False),
        city=city,
        state=_text(address.state, f"{field}.state", maximum=100, required=False),
        postal_code=postal_code,
        country=country,
    )


def checked_tax_id(tax_id: str, field: str = "taxId") -> str | None:
    """A tax registration as printed (e.g. DE123456789, GB 123 4567 89, 12-3456789): letters,
    digits and the separators people write, white space collapsed; empty removes it. The
    formats of the world's tax ids differ too much to check more than that here."""
    text = " ".join(unicodedata.normalize("NFKC", tax_id).split())
    if not text:
        return None
    if not TAX_ID.match(text):
        raise InvalidInputError(
            "taxId is 2 to 40 letters and digits (spaces, '-', '.' and '/' allowed), "
            "e.g. DE123456789.",
            field=field,
        )
    return text.upper()


def checked_locale(locale: str) -> str:
    """One of the supported locales ("pt-BR" is Portuguese); anything else is refused."""
    matched = i18n.match(locale)
    if matched is None:
        raise InvalidInputError(
            f"locale must be one of the supported locales: {', '.join(sorted(i18n.available()))}.",
            field="locale",
        )
    return matched


async def update_billing_details(
    db: Database,
    actor: Actor,
    account_id: str,
    *,
    name: str | None,
    phone: str | None,
    address: AddressInput | None,
    tax_id: str | None = None,
    locale: str | None = None,
) -> CustomerAccount:
    """updateBillingDetails: change what is given; invoices already issued keep the details
    they were issued with."""

    async def work(session: AsyncSession) -> CustomerAccount:
        require_id(account_id, "CustomerAccount")
        checked_name = _text(name, "name", maximum=200, required=True) if name is not None else None
        checked_phone = _checked_phone(phone) if phone is not None else None
        checked = checked_address(address) if address is not None else None
        checked_locale_ = checked_locale(locale) if locale is not None else None
        checked_tax = checked_tax_id(tax_id) if tax_id is not None else None
        account = await account_in_scope(session, actor.principal, account_id, for_update=True)
        if checked_name is not None:
            account.name = checked_name
        if checked_phone is not None:
            account.phone = checked_phone
        if checked is not None:
            account.address_line1 = checked.line1
            account.address_line2 = checked.line2
            account.address_city = checked.city
            account.address_state = checked.state
            account.address_postal_code = checked.postal_code
            account.address_country = checked.country
        if tax_id is not None:
            account.tax_id = checked_tax
        if checked_locale_ is not None:
            account.locale = checked_locale_
        await session.flush()
        return account

    return await in_unit_of_work(
        db, actor, "updateBillingDetails", work,
        target_type="CustomerAccount", target_id=account_id,
    )  # fmt: skip


def _checked_phone(phone: str) -> str:
    """E.164, after dropping the spaces, dots, dashes and brackets people type."""
    checked = re.sub(r"[\s().-]", "", phone)
    if not E164.match(checked):
        raise InvalidInputError(
            "phone must be in international format, e.g. +4930123456.", field="phone"
        )
    return checked
