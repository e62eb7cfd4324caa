"""Emails from Jinja2 templates, text and HTML, in the recipient's language: one template
per email, its sentences translated through the catalogs the hosted pages use too."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache
from typing import Any

from babel.dates import format_datetime
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from portal_gateway import i18n
from portal_gateway.core.money import parse_major
from portal_gateway.notifications.outbox import Email


@cache
def _templates(locale: str) -> Environment:
    return i18n.environment(PackageLoader("portal_gateway.notifications", "templates"), locale)


def render(email: Email, *, sender: str, message_id: str) -> EmailMessage:
    locale = i18n.supported(email.locale)
    context: dict[str, Any] = dict(email.context)

    def date(value: str) -> str:
        moment = datetime.fromisoformat(value)
        return str(format_datetime(moment, "long", tzinfo=moment.tzinfo, locale=locale))

    def money(value: dict[str, str]) -> str:
        amount = parse_major(value["amount"], value["currency"])
        return i18n.format_money(amount.minor, amount.currency, locale)

    def strong(value: str) -> Markup:
        """A name set in bold in the HTML part (its sentence is the text part's)."""
        return Markup("<strong>%s</strong>") % value

    context.update(date=date, money=money, strong=strong)
    if "expires_at" in context:
        context["expires"] = date(str(context["expires_at"]))
    templates = _templates(locale)
    subject = templates.get_template(f"{email.template}.subject.txt").render(context)
    text = templates.get_template(f"{email.template}.txt").render(context)
    html = templates.get_template(f"{email.template}.html").render(context)
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
