"""Invoices as PDFs: what a customer reads in them, in every language, drawn from the
document alone (no database): the words, the amounts to the minor unit, the pages, the
logo, and no missing glyph.

The fonts are instanced once into a cache in the system's temporary directory that outlives
the run (the first run of a machine takes minutes: Chinese, Japanese and Korean are large);
copies are named by a digest of their source, so a stale one is never used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from fpdf.fonts import TTFFont
from fpdf.line_break import Fragment
from PIL import Image
from pypdf import PdfReader

from portal_gateway.config import Settings
from portal_gateway.documents import fonts
from portal_gateway.documents.invoice_pdf import render_invoice_pdf
from portal_gateway.documents.model import (
    Buyer,
    DocumentAddress,
    DocumentLine,
    InvoiceDocument,
    PaymentSummary,
    Seller,
)
from portal_gateway.i18n import format_money, format_percent_bps

LOCALES = (
    "en", "ar", "ca", "zh", "nl", "fr", "de", "he", "ru", "sv", "tr",
    "id", "it", "ja", "ko", "ms", "pl", "pt", "ro", "es", "th",
)  # fmt: skip
CREATED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def fonts_dir() -> Path:
    """The machine's test font cache (PORTAL_FONT_CACHE_DIR, which conftest sets), made two
    copies at a time when it is cold: minutes once, since CJK fonts are large; nothing after."""
    directory = Settings().font_cache_path
    directory.mkdir(parents=True, exist_ok=True)
    wanted = [
        (face, weight) for face in fonts.FACES if fonts.locate(face) for weight in fonts.WEIGHTS
    ]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        faces, weights = zip(*wanted, strict=True)
        list(pool.map(fonts.static_font, faces, weights, [directory] * len(wanted)))
    return directory


def line(
    description: str,
    quantity: int,
    unit_minor: int,
    *,
    tax_rate_bps: int = 1900,
    proration: bool = False,
    period: tuple[datetime, datetime] | None = None,
) -> DocumentLine:
    amount = quantity * unit_minor
    return DocumentLine(
        description=description,
        quantity=quantity,
        unit_amount_minor=unit_minor,
        amount_minor=amount,
        tax_rate_bps=tax_rate_bps,
        tax_minor=round(amount * tax_rate_bps / 10_000),
        proration=proration,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
    )


STANDARD_LINES = (
    line("Pro plan", 1, 123450),
    line("Extra seats", 3, 5000),
)  # subtotal 138450, tax 26306, total 164756


def invoice(
    locale: str,
    currency: str = "EUR",
    *,
    lines: tuple[DocumentLine, ...] = STANDARD_LINES,
    buyer_name: str = "Grace Hopper",
    logo: bytes | None = None,
    credit_minor: int = 1000,
) -> InvoiceDocument:
    """A paid invoice: credit first, the card the rest, so its total is printed only once."""
    subtotal = sum(item.amount_minor for item in lines)
    tax = sum(item.tax_minor for item in lines)
    total = subtotal + tax
    return InvoiceDocument(
        locale=locale,
        number="INV-2026-0042",
        status="PAID",
        issued_at=MARCH,
        currency=currency,
        period_start=MARCH,
        period_end=APRIL,
        seller=Seller(
            name="Acme Cloud GmbH",
            address=DocumentAddress("Hauptstraße 1", None, "Berlin", None, "10115", "DE"),
            tax_id="DE123456789",
            support_email="support@acme.example",
            website_url="https://acme.example",
            logo=logo,
        ),
        buyer=Buyer(
            name=buyer_name,
            email="grace@example.com",
            address=DocumentAddress("1 Main St", "Suite 5", "Arlington", "VA", "22201", "US"),
            tax_id="US-99",
        ),
        lines=lines,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=total,
        credit_applied_minor=credit_minor,
        amount_paid_minor=total - credit_minor,
        amount_due_minor=0,
        payment=PaymentSummary(status="SUCCEEDED", card_brand="VISA", card_last4="4242"),
    )


def render(document: InvoiceDocument, fonts_dir: Path) -> bytes:
    return render_invoice_pdf(document, fonts_dir=fonts_dir, created_at=CREATED_AT)


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, with no-break and narrow spaces as plain ones."""
    reader = PdfReader(BytesIO(pdf))
    return [re.sub(r"[\xa0\u202f]", " ", page.extract_text()) for page in reader.pages]


def visible(text: str) -> str:
    """Text without control and format characters: bidi marks, and the codes that a shaped
    glyph with no character of its own (a ligature, a contextual form) extracts as."""
    return "".join(
        char for char in text if char == "\n" or unicodedata.category(char) not in ("Cc", "Cf")
    )


# --- amounts -------------------------------------------------------------------------------


def test_amounts_have_the_currency_s_iso_decimals_in_the_locale_s_pattern() -> None:
    assert format_money(123450, "EUR", "de") == "1.234,50\xa0€"
    assert format_money(1234, "JPY", "en") == "¥1,234"
    assert format_money(1234, "KWD", "en") == "KWD1.234"
    # CLDR gives these no decimals; ISO 4217 (our table) gives them two.
    assert format_money(123450, "IDR", "id") == "Rp1.234,50"
    assert format_money(123450, "HUF", "de") == "1.234,50\xa0HUF"
    assert format_money(-500, "USD", "en") == "-$5.00"
    # Exact however large: no float, no context rounding.
    assert format_money(10**30 + 1, "USD", "en") == "$10,000,000,000,000,000,000,000,000,000.01"


def test_tax_rates_are_percentages_of_the_locale() -> None:
    assert format_percent_bps(1900, "de") == "19\xa0%"
    assert format_percent_bps(825, "en") == "8.25%"
    assert format_percent_bps(1900, "tr") == "%19"


# --- what the invoice says -----------------------------------------------------------------


def test_english_usd_invoice_shows_its_number_buyer_lines_and_total(fonts_dir: Path) -> None:
    (text,) = pages_text(render(invoice("en", "USD"), fonts_dir))

    assert "Invoice\n" in text and "Invoice number INV-2026-0042" in text
    assert "Grace Hopper" in text and "Bill to" in text
    assert "Pro plan 1 $1,234.50 $1,234.50" in text
    assert "Extra seats 3 $50.00 $150.00" in text
    assert "Subtotal $1,384.50" in text
    assert "Tax (19%) $263.06" in text
    assert "Total $1,647.56" in text
    assert "Credit applied -$10.00" in text
    assert "Amount paid $1,637.56" in text
    assert "Amount due $0.00" in text
    assert "Date of issue March 1, 2026" in text
    assert "Service period March 1, 2026 \u2013 April 1, 2026" in text
    assert "Status Paid" in text
    assert "Payment succeeded" in text and "Visa ending in 4242" in text
    assert "Tax ID: DE123456789" in text and "Tax ID: US-99" in text
    assert "Support: support@acme.example" in text
    assert "Germany" in text and "United States" in text
    assert "Page 1 of 1" in text


def test_german_eur_invoice_writes_amounts_the_german_way(fonts_dir: Path) -> None:
    (text,) = pages_text(render(invoice("de", "EUR"), fonts_dir))

    assert "INV-2026-0042" in text and "Grace Hopper" in text
    assert "Pro plan" in text and "Extra seats" in text
    assert "1.234,50 €" in text and "50,00 € 150,00 €" in text
    assert "1.647,56 €" in text
    assert "(19 %)" in text
    assert "Deutschland" in text and "1. März 2026" in text


@pytest.mark.parametrize(
    ("locale", "currency", "total"),
    [
        # 164756 minor units: yen and won have none below the unit, the yuan has cents.
        ("ja", "JPY", "￥164,756"),
        ("ko", "KRW", "₩164,756"),
        ("zh", "CNY", "¥1,647.56"),
    ],
)
def test_east_asian_invoices_show_their_words_and_exact_total(
    fonts_dir: Path, locale: str, currency: str, total: str
) -> None:
    lines = (line("Pro plan 年間", 1, 123450), line("Extra seats 席", 3, 5000))
    document = invoice(locale, currency, lines=lines, buyer_name="山田 花子")
    (text,) = pages_text(render(document, fonts_dir))

    assert "INV-2026-0042" in text
    assert "山田 花子" in text
    assert "Pro plan 年間" in text and "Extra seats 席" in text
    assert total in text


@pytest.mark.parametrize(
    ("locale", "currency", "total", "line_amount"),
    [
        ("ar", "EUR", "1,647.56", "1,234.50"),
        ("he", "ILS", "1,647.56", "1,234.50"),
        ("th", "THB", "1,647.56", "1,234.50"),
    ],
)
def test_right_to_left_and_thai_invoices_show_the_number_and_exact_total(
    fonts_dir: Path, locale: str, currency: str, total: str, line_amount: str
) -> None:
    # Extracted text comes in the order it is drawn (right to left reads reversed) and with
    # codes for shaped glyphs; numbers run left to right in every one of these, so their
    # digits must appear as written.
    (text,) = pages_text(render(invoice(locale, currency), fonts_dir))
    shown = visible(text)

    assert_shows(shown, "INV-2026-0042")
    assert_shows(shown, total)
    assert_shows(shown, line_amount)
    assert "Grace Hopper" in shown and "Pro plan" in shown and "Extra seats" in shown


def assert_shows(text: str, expected: str) -> None:
    """The number `expected` stands in `text` as a whole, not as part of a longer one."""
    assert re.search(rf"(?<![\d.,]){re.escape(expected)}(?![\d.,]*\d)", text), (
        f"{expected!r} not in {text!r}"
    )


def test_the_right_to_left_check_fails_on_a_wrong_total_or_number(fonts_dir: Path) -> None:
    shown = visible(pages_text(render(invoice("ar", "EUR"), fonts_dir))[0])

    for wrong in ("1,647.57", "647.56", "1,647.5", "INV-2026-0043"):
        with pytest.raises(AssertionError):
            assert_shows(shown, wrong)


def test_a_proration_line_shows_that_it_is_one_and_its_period(fonts_dir: Path) -> None:
    lines = (
        line("Pro plan", 1, 123450),
        line("Pro plan (remaining time)", 1, 61725, proration=True, period=(MARCH, APRIL)),
    )
    (text,) = pages_text(render(invoice("en", "USD", lines=lines), fonts_dir))

    assert "Pro plan (remaining time)\nProration, March 1, 2026 \u2013 April 1, 2026" in text


def test_one_tax_row_per_rate_that_was_charged(fonts_dir: Path) -> None:
    lines = (
        line("Pro plan", 1, 10000, tax_rate_bps=1900),
        line("E-book", 1, 2000, tax_rate_bps=700),
        line("Donation", 1, 500, tax_rate_bps=0),
    )
    (text,) = pages_text(render(invoice("en", "USD", lines=lines), fonts_dir))

    assert "Tax (7%) $1.40" in text and "Tax (19%) $19.00" in text
    assert "Tax (0%)" not in text


def test_no_credit_row_without_credit(fonts_dir: Path) -> None:
    (text,) = pages_text(render(invoice("en", "USD", credit_minor=0), fonts_dir))

    assert "Credit applied" not in text
    assert "Amount paid $1,647.56" in text


# --- pages ---------------------------------------------------------------------------------


def test_sixty_lines_run_over_pages_each_saying_which_of_how_many(fonts_dir: Path) -> None:
    lines = tuple(line(f"Seat {number:02d}", 1, 1000 + number) for number in range(60))
    texts = pages_text(render(invoice("en", "USD", lines=lines), fonts_dir))

    assert len(texts) >= 2
    for page, text in enumerate(texts, start=1):
        assert f"Page {page} of {len(texts)}" in text
        assert "Description Qty Unit price Amount" in text  # the table's head on every page
    everything = "\n".join(texts)
    assert all(f"Seat {number:02d} 1" in everything for number in range(60))
    assert "Total $" in texts[-1] and "Total $" not in texts[0]


# --- the same bytes ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "ar", "ja"])
def test_the_same_document_gives_the_same_bytes(fonts_dir: Path, locale: str) -> None:
    document = invoice(locale, "EUR")

    first = render(document, fonts_dir)
    assert render(document, fonts_dir) == first
    later = render_invoice_pdf(
        document, fonts_dir=fonts_dir, created_at=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert later != first
    metadata = PdfReader(BytesIO(later)).metadata
    assert metadata is not None and metadata.creation_date == datetime(2027, 1, 1, tzinfo=UTC)


def test_static_copies_are_the_same_bytes_whoever_makes_them(tmp_path: Path) -> None:
    one = fonts.static_font(fonts.HEBREW, 400, tmp_path / "one")
    other = fonts.static_font(fonts.HEBREW, 400, tmp_path / "other")

    assert one.name == other.name and one.read_bytes() == other.read_bytes()
    assert list((tmp_path / "one").iterdir()) == [one]  # no temporary file left behind


def test_a_new_font_package_makes_new_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = fonts.locate(fonts.HEBREW)
    assert source is not None and source.variable is not None
    before = fonts.static_font(fonts.HEBREW, 400, tmp_path)

    upgraded = tmp_path / "package" / source.variable.name
    upgraded.parent.mkdir()
    font = TTFont(source.variable)
    font["head"].fontRevision += 1
    font.save(upgraded)
    monkeypatch.setattr(fonts, "locate", lambda face: replace(source, variable=upgraded))
    after = fonts.static_font(fonts.HEBREW, 400, tmp_path)

    assert after != before and after.exists()
    assert TTFont(after)["head"].fontRevision == font["head"].fontRevision


def test_threads_wanting_the_same_copy_make_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    instance = fonts._instance

    def counting(variable: Path, weight: int, target: Path) -> None:
        made.append(target)
        instance(variable, weight, target)

    monkeypatch.setattr(fonts, "_instance", counting)
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = set(pool.map(lambda _: fonts.static_font(fonts.THAI, 700, tmp_path), range(4)))

    assert len(paths) == 1 and made == list(paths)


def test_processes_making_the_same_copy_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        paths = set(pool.map(fonts.static_font, [fonts.HEBREW] * 2, [700] * 2, [tmp_path] * 2))

    (path,) = paths
    assert list(tmp_path.iterdir()) == [path]
    assert TTFont(path)["OS/2"].usWeightClass == 700


# --- the logo ------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, format="PNG")
    return out.getvalue()


def test_the_seller_s_logo_is_drawn(fonts_dir: Path) -> None:
    pdf = render(invoice("en", "USD", logo=png(400, 100)), fonts_dir)

    (image,) = PdfReader(BytesIO(pdf)).pages[0].images
    assert image.image is not None and image.image.size == (400, 100)


@pytest.mark.parametrize(
    "logo",
    [b"not an image", png(40, 40)[:60], b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"],
    ids=["garbage", "truncated PNG", "GIF"],
)
def test_a_logo_that_cannot_be_drawn_is_left_out(fonts_dir: Path, logo: bytes) -> None:
    pdf = render(invoice("en", "USD", logo=logo), fonts_dir)

    page = PdfReader(BytesIO(pdf)).pages[0]
    assert not page.images
    assert "Total $1,647.56" in page.extract_text()


# --- glyphs --------------------------------------------------------------------------------


@cache
def cmap_of(font_file: str) -> frozenset[int]:
    return frozenset(TTFont(font_file).getBestCmap())


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(font file, text) of every piece of text fpdf2 draws, each in the font that draws
    it (after fallback); fpdf2 reports no missing glyph itself while text is shaped."""
    pieces: list[tuple[str, str]] = []
    original: Callable[..., str] = Fragment.render_pdf_text

    def recording(self: Fragment, *args: Any, **kwargs: Any) -> str:
        assert isinstance(self.font, TTFFont)  # no core font is ever drawn with
        pieces.append((str(self.font.ttffile), self.string))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Fragment, "render_pdf_text", recording)
    yield pieces


def missing_glyphs(pieces: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """(font file name, character) of each character drawn in a font without it. Invisible
    format characters (bidi marks in amounts) are left to HarfBuzz, which hides them."""
    return {
        (Path(font_file).name, char)
        for font_file, text in pieces
        for char in text
        if char != "\n"
        and unicodedata.category(char) != "Cf"
        and ord(char) not in cmap_of(font_file)
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_every_character_is_in_the_font_that_draws_it(
    fonts_dir: Path, drawn: list[tuple[str, str]], locale: str
) -> None:
    lines = (*STANDARD_LINES, line("Pro plan", 1, 500, proration=True, period=(MARCH, APRIL)))
    render(invoice(locale, "EUR", lines=lines, logo=png(80, 40)), fonts_dir)

    assert len(drawn) > 40
    assert missing_glyphs(drawn) == set()


def test_a_buyer_name_in_other_scripts_is_drawn_in_their_fonts(
    fonts_dir: Path, drawn: list[tuple[str, str]]
) -> None:
    name = "Юлия Łukasiewicz محمد דוד สมชาย 王小明 さくら 김민수"
    pdf = render(invoice("de", "EUR", buyer_name=name), fonts_dir)

    assert missing_glyphs(drawn) == set()
    used = {Path(font_file).name.split("-")[0] for font_file, _ in drawn}
    assert {"NotoSans", "NotoSansArabic", "NotoSansHebrew", "NotoSansThai"} <= used
    # Kana are in the Chinese face too, the first of the ideograph faces tried.
    assert {"NotoSansSC", "NotoSansKR"} <= used
    text = pages_text(pdf)[0]
    assert "Юлия Łukasiewicz" in text and "王小明" in text and "さくら" in text


def test_the_glyph_check_catches_a_character_no_font_has(
    fonts_dir: Path, drawn: list[tuple[str, str]]
) -> None:
    render(invoice("en", "USD", buyer_name="ሰላም Grace"), fonts_dir)

    missing = {(name.split("-")[0], char) for name, char in missing_glyphs(drawn)}
    assert missing == {("NotoSans", char) for char in "ሰላም"}


# --- fonts that are not installed ----------------------------------------------------------


def without_cjk(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fonts._package_directory
    monkeypatch.setattr(
        fonts,
        "_package_directory",
        lambda package: None if package == "justmytype_intl_cjk" else real(package),
    )


@pytest.mark.parametrize("locale", ["zh", "ja", "ko"])
def test_an_east_asian_invoice_without_the_cjk_fonts_says_what_to_install(
    fonts_dir: Path, monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    without_cjk(monkeypatch)

    with pytest.raises(fonts.MissingFontsError, match=re.escape("portal-gateway[cjk]")):
        render(invoice(locale, "EUR"), fonts_dir)


def test_without_the_cjk_fonts_other_invoices_still_render(
    fonts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_cjk(monkeypatch)

    (text,) = pages_text(render(invoice("en", "USD", buyer_name="Grace 王"), fonts_dir))
    assert "Total $1,647.56" in text
    assert fonts.CHINESE not in fonts.faces_for("en", ["王"])
    built = {build.face for build in fonts.build_fonts(fonts_dir)}
    assert built == {fonts.LATIN, fonts.ARABIC, fonts.HEBREW, fonts.THAI}
