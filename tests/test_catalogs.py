"""Every catalog in portal_gateway/i18n is whole and safe to ship (README: Languages): it parses
and compiles, translates every sentence that any catalog has, keeps the placeholders and the
HTML of the English, has the plural forms its header declares, and, unless a person wrote it
(German), says in its header that it is a machine translation awaiting review."""

from __future__ import annotations

import ast
import re
from gettext import GNUTranslations, c2py
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal_gateway import i18n

PATHS = {
    path.parents[1].name: path for path in sorted(i18n.CATALOGS.glob("*/LC_MESSAGES/messages.po"))
}
WRITTEN_BY_A_PERSON = {"de"}
# %(name)s with its conversion (and any flags): what `text % values` fills in.
PLACEHOLDER = re.compile(r"%\((\w+)\)([-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])")
TAG = re.compile(r"</?[A-Za-z][^>]*>")
MACHINE_COMMENT = re.compile(r"machine[- ]?(translat|made|generated)", re.IGNORECASE)


def _read(locale: str) -> Catalog:
    with PATHS[locale].open("rb") as source:
        return read_po(source, locale=locale)


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _messages(catalog: Catalog) -> dict[str, Message]:
    return {_key(message): message for message in catalog if message.id}


def _strings(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (tuple, list)) else (string or "",)


def _header(path: Path) -> tuple[str, str]:
    """The comment and the fields of a .po file's header entry, as written (Babel keeps only the
    fields it knows, not X-...)."""
    head = path.read_text("utf-8").split("\n\n", 1)[0]
    lines = head.splitlines()
    assert 'msgid ""' in lines, f"{path} starts without a header entry"
    comment = "\n".join(line[1:].strip() for line in lines if line.startswith("# "))
    fields = "".join(ast.literal_eval(line) for line in lines if line.startswith('"'))
    return comment, fields


def _union() -> set[str]:
    return {key for locale in PATHS for key in _messages(_read(locale))}


class _AnyValue(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return 1


def test_there_are_catalogs_besides_german() -> None:
    assert "de" in PATHS and len(PATHS) > 1


@pytest.mark.parametrize("locale", PATHS)
def test_a_catalog_parses_and_compiles(locale: str) -> None:
    catalog = _read(locale)
    _, fields = _header(PATHS[locale])
    assert re.search(rf"^Language:\s*{re.escape(locale)}\s*$", fields, re.M)
    assert not list(catalog.check()), list(catalog.check())
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = GNUTranslations(compiled)  # parses the Plural-Forms expression as gettext does
    for message in catalog:
        if message.id and message.pluralizable:
            singular, plural = message.id[0], message.id[1]
            for n in (0, 1, 2, 5, 11, 21, 100):
                assert translations.ngettext(singular, plural, n) in _strings(message)


@pytest.mark.parametrize("locale", PATHS)
def test_every_sentence_of_every_catalog_is_translated(locale: str) -> None:
    messages = _messages(_read(locale))
    missing = sorted(_union() - set(messages))
    untranslated = sorted(
        key
        for key, message in messages.items()
        if message.fuzzy or not _strings(message) or not all(s.strip() for s in _strings(message))
    )
    assert (missing, untranslated) == ([], [])


@pytest.mark.parametrize("locale", PATHS)
def test_placeholders_and_markup_are_kept(locale: str) -> None:
    wrong = []
    for key, message in _messages(_read(locale)).items():
        source = message.id if isinstance(message.id, str) else message.id[-1]
        for text in _strings(message):
            if sorted(set(PLACEHOLDER.findall(text))) != sorted(set(PLACEHOLDER.findall(source))):
                wrong.append((key, text, "placeholders"))
            elif sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
                wrong.append((key, text, "markup"))
            else:
                # Jinja's new-style gettext always applies `%`: a stray % would break the page.
                try:
                    text % _AnyValue()
                except (ValueError, TypeError, KeyError) as error:
                    wrong.append((key, text, f"formatting: {error}"))
        if PLACEHOLDER.search(source) and not message.python_format:
            wrong.append((key, "", "not flagged python-format"))
    assert wrong == []


@pytest.mark.parametrize("locale", PATHS)
def test_plural_forms_match_the_header(locale: str) -> None:
    catalog = _read(locale)
    _, fields = _header(PATHS[locale])
    declared = re.search(r"^Plural-Forms:\s*nplurals=(\d+);\s*plural=(.+?);?\s*$", fields, re.M)
    assert declared, "no Plural-Forms header"
    count = int(declared.group(1))
    assert count == catalog.num_plurals
    plural = c2py(declared.group(2))
    assert {plural(n) for n in [*range(1001), 1_000_000, 2_000_000]} <= set(range(count))
    wrong = {
        _key(message): len(_strings(message))
        for message in catalog
        if message.pluralizable and len(_strings(message)) != count
    }
    # Babel drops extra msgstr[n] lines when reading, so count them in the file as written.
    for entry in PATHS[locale].read_text("utf-8").split("\n\n"):
        lines = entry.splitlines()
        if any(line.startswith("msgid_plural ") for line in lines):
            forms = sum(line.startswith("msgstr[") for line in lines)
            if forms != count:
                wrong[next(line for line in lines if line.startswith("msgid"))] = forms
    assert wrong == {}


@pytest.mark.parametrize("locale", sorted(set(PATHS) - WRITTEN_BY_A_PERSON))
def test_a_machine_translation_says_so_in_its_header(locale: str) -> None:
    """A comment for people, which a reviewer deletes once a native speaker has checked the
    catalog. (The `X-Machine-Translation: yes` field beside it is for tools, but
    `pybabel update` drops header fields it does not know, so the comment is what counts.)"""
    comment, _ = _header(PATHS[locale])
    assert MACHINE_COMMENT.search(comment), "no header comment saying it is a machine translation"
