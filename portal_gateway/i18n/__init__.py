"""Languages: the gettext catalogs that the hosted pages and the emails share, and how a
page or an email picks its language.

English is the source text. Every other language is one catalog,
`i18n/<locale>/LC_MESSAGES/messages.po`, read with Babel when first needed: adding a
language is adding a catalog (README: Languages). Right-to-left languages get
`dir="rtl"` from CLDR's character order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, localcontext
from functools import cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_percent, parse_pattern
from babel.support import Translations
from jinja2 import BaseLoader, Environment, StrictUndefined, select_autoescape

from portal_gateway.core.money import Money

CATALOGS = Path(__file__).parent
SOURCE_LOCALE = "en"


@cache
def available() -> tuple[str, ...]:
    """The source language and every language with a catalog."""
    catalogs = sorted(path.parents[1].name for path in CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LOCALE, *catalogs)


def supported(locale: str | None) -> str:
    """The available locale for `locale` ("de-AT" and "de_AT" give "de"); English when none."""
    return _match(locale or "") or SOURCE_LOCALE


def negotiate(accept_language: str | None) -> str:
    """The available locale that an Accept-Language header prefers most; English otherwise."""
    preferences: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            preferences.append((-quality, position, tag))
    for _, _, tag in sorted(preferences):
        if tag == "*":
            return SOURCE_LOCALE
        if match := _match(tag):
            return match
    return SOURCE_LOCALE


def match(tag: str) -> str | None:
    """The available locale for a language tag ("de-AT", "de_AT" and "DE" give "de"), or None
    when its language has no catalog."""
    return _match(tag)


def _match(tag: str) -> str | None:
    wanted = tag.strip().replace("-", "_")
    if not wanted:
        return None
    by_lower = {locale.lower(): locale for locale in available()}
    return by_lower.get(wanted.lower()) or by_lower.get(wanted.split("_")[0].lower())


def direction(locale: str) -> str:
    """ "rtl" for a right-to-left language, else "ltr"."""
    try:
        order = Locale.parse(locale).character_order
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog of an available locale, compiled in memory; the source text for English."""
    if locale == SOURCE_LOCALE:
        return NullTranslations()
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def environment(loader: BaseLoader, locale: str) -> Environment:
    """A Jinja2 environment speaking `locale` ({% trans %}, _(), ngettext) over `loader`;
    templates whose names end in .html are autoescaped, plain-text ones are not."""
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(locale=locale, direction=direction(locale))
    return env


def format_money(minor: int, currency: str, locale: str) -> str:
    """An amount as `locale` writes money ("1.234,50 €" in German, "¥1,234" in English),
    with as many decimals as ISO 4217 gives `currency` (CLDR's differ for IDR and HUF)."""
    amount = Money(minor, currency)
    parsed = Locale.parse(locale)
    # A fresh pattern: the locale's own is shared, and its precision is CLDR's.
    pattern = parse_pattern(parsed.currency_formats["standard"].pattern)
    pattern.frac_prec = (amount.exponent, amount.exponent)
    with localcontext() as context:
        # Every digit of however large an amount: rounding to the exponent changes nothing.
        context.prec = max(context.prec, len(str(abs(minor))) + 2)
        return str(
            pattern.apply(amount.to_decimal(), parsed, currency=currency, currency_digits=False)
        )


def format_date(moment: datetime, locale: str) -> str:
    """The day of `moment` in UTC, as `locale` writes a date in full ("1. März 2026")."""
    return str(babel_format_date(moment.astimezone(UTC).date(), "long", locale=locale))


def format_percent_bps(bps: int, locale: str) -> str:
    """A rate in basis points as `locale` writes a percentage: 1900 is "19 %" in German,
    825 is "8.25%" in English."""
    return str(
        format_percent(
            Decimal(bps).scaleb(-4).normalize(), locale=locale, decimal_quantization=False
        )
    )
