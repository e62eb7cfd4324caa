"""Emails from Jinja2 templates, text and HTML, in the recipient's language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from portal_gateway.notifications.outbox import Email

LOCALES = ("en", "de")

_environment = Environment(
    loader=PackageLoader("portal_gateway.notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def _locale(locale: str) -> str:
    language = locale.replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else "en"


def render(email: Email, *, sender: str, message_id: str) -> EmailMessage:
    locale = _locale(email.locale)
    context: dict[str, Any] = dict(email.context)

    def date(value: str) -> str:
        moment = datetime.fromisoformat(value)
        return str(format_datetime(moment, "long", tzinfo=moment.tzinfo, locale=locale))

    def money(value: dict[str, str]) -> str:
        return str(format_currency(Decimal(value["amount"]), value["currency"], locale=locale))

    context.update(date=date, money=money)
    if "expires_at" in context:
        context["expires"] = date(str(context["expires_at"]))
    subject = _environment.get_template(f"{locale}/{email.template}.subject.txt").render(context)
    text = _environment.get_template(f"{locale}/{email.template}.txt").render(context)
    html = _environment.get_template(f"{locale}/{email.template}.html").render(context)
    message = EmailMessage()
    message["Subject"] = subject.strip()
    message["From"] = sender
    message["To"] = email.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Content-Language"] = locale
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
