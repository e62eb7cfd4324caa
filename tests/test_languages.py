"""Pages and emails in the customer's language: every sentence has its German translation,
with the same placeholders; a page follows the browser's Accept-Language."""

from __future__ import annotations

from pathlib import Path

import httpx
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal_gateway import i18n
from tests.factories import World

PACKAGE = Path(i18n.__file__).resolve().parents[1]
# Where sentences are: the pages' and emails' templates, and the invoice PDF's code.
TEMPLATES = [
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
    ("documents/**.py", "python"),
]
OPTIONS = {
    pattern: {"extensions": "jinja2.ext.i18n"} for pattern, kind in TEMPLATES if kind == "jinja2"
}


def _in_templates() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(PACKAGE, TEMPLATES, OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(path: Path, locale: str | None = None) -> dict[str, Message]:
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    assert not list(catalog.check()), list(catalog.check())  # placeholders kept, plurals whole
    return {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalog
        if message.id
    }


def test_the_message_template_is_current() -> None:
    """Re-extract (README: Languages) after changing a sentence in a template."""
    assert set(_catalog(i18n.CATALOGS / "messages.pot")) == _in_templates()


def test_every_sentence_has_its_german_translation() -> None:
    german = _catalog(i18n.CATALOGS / "de" / "LC_MESSAGES" / "messages.po", "de")
    assert set(german) == _in_templates()
    untranslated = []
    for message_id, message in german.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message_id)
    assert untranslated == []


def test_a_locale_is_chosen_from_what_is_asked_and_what_exists() -> None:
    assert i18n.available()[0] == "en"
    assert set(i18n.available()) == {
        *("en", "ar", "ca", "zh", "nl", "fr", "de", "he", "ru", "sv", "tr"),
        *("id", "it", "ja", "ko", "ms", "pl", "pt", "ro", "es", "th"),
    }
    assert i18n.negotiate("fr-CH, de;q=0.9, en;q=0.8") == "fr"
    assert i18n.negotiate("fi-FI, de;q=0.9, en;q=0.8") == "de"  # no Finnish: the next one asked
    assert i18n.negotiate("ja;q=0.5, ko;q=0.8, fi") == "ko"  # by quality, not by position
    assert i18n.negotiate("en-GB, de;q=0.5") == "en"
    assert i18n.negotiate("de;q=0, fi") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.supported("de_AT") == i18n.supported("de-AT") == "de"
    assert i18n.supported("pt-BR") == "pt"
    assert i18n.supported("fi-FI") == "en"
    assert (i18n.direction("ar"), i18n.direction("he"), i18n.direction("de")) == (
        "rtl",
        "rtl",
        "ltr",
    )


async def test_a_page_speaks_the_browsers_language(world: World, client: httpx.AsyncClient) -> None:
    business = await world.business("Bäckerei Weiß")
    static = f"/portal/login/test_{business.id}"
    german = await client.get(static, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert german.headers["content-language"] == "de"
    assert '<html lang="de" dir="ltr">' in german.text
    assert "Bäckerei Weiß: Kundenportal" in german.text
    assert "E-Mail-Adresse" in german.text
    english = await client.get(static, headers={"Accept-Language": "fi, en;q=0.1"})
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Email address" in english.text
