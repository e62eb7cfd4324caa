"""An invoice as an A4 PDF, drawn with fpdf2 in the document's language.

Every word comes from the gettext catalogs the pages and emails use; amounts, dates and
countries are written the locale's way. Text is shaped with HarfBuzz (Arabic and Hebrew
run right to left, and the whole page is mirrored for them; Thai is shaped), in static
fonts made by `documents.fonts`. The same document and `created_at` always give the same
bytes: fpdf2's file id is a digest of the content and the creation date, and its font
subsets are tagged the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.errors import FPDFException
from PIL import Image, UnidentifiedImageError

from portal_gateway import i18n
from portal_gateway.core.cards import CardBrand
from portal_gateway.documents import fonts
from portal_gateway.documents.model import DocumentAddress, DocumentLine, InvoiceDocument


def N_(message: str) -> str:
    """Marks a message for `pybabel extract` (babel.cfg) where it is translated later."""
    return message


INVOICE_STATUSES = {"PAID": N_("Paid"), "OPEN": N_("Open"), "VOID": N_("Void")}
PAYMENT_STATUSES = {
    "SUCCEEDED": N_("Payment succeeded"),
    "FAILED": N_("Payment failed"),
    "PENDING": N_("Payment pending"),
    "REFUNDED": N_("Refunded"),
}

# A4 in millimetres, and the page's frame.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
MARGIN = 18.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = PAGE_HEIGHT - 24.0  # content stops here; the footer is below
FOOTER_Y = PAGE_HEIGHT - 14.0
LOGO_BOX = (52.0, 20.0)  # width, height
# A logo larger than this many pixels is not drawn (nor decoded past its header).
LOGO_MAX_PIXELS = 25_000_000

# Columns of the lines' table: where each starts (from the start margin) and its width.
DESCRIPTION = (0.0, 88.0)
QUANTITY = (90.0, 16.0)
UNIT_PRICE = (108.0, 32.0)
AMOUNT = (142.0, 32.0)
# The two columns of the header: the seller and buyer at the start, the invoice's facts at
# the end; and the summary's: the payment at the start, the totals at the end.
START_COLUMN = (0.0, 84.0)
END_LABELS = (90.0, 36.0)
END_VALUES = (128.0, 46.0)

TEXT = (33, 33, 33)
MUTED = (110, 110, 110)
RULE = (210, 210, 210)

Edge = Literal["start", "end"]


def render_invoice_pdf(
    document: InvoiceDocument, *, fonts_dir: Path, created_at: datetime
) -> bytes:
    """The invoice as PDF bytes. Synchronous and CPU-bound (shaping, font subsetting): run
    it off the event loop. The first document of a script builds its fonts into `fonts_dir`
    (see `fonts.build_fonts` to do it ahead).

    Raises fonts.MissingFontsError when the document's language needs fonts that are not
    installed (Chinese, Japanese and Korean need `portal-gateway[cjk]`).
    """
    sheet = _Sheet.of(document)
    faces = fonts.faces_for(document.locale, sheet.strings())
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    for face in faces:
        pdf.add_font(face.name, "", fonts.static_font(face, 400, fonts_dir))
        pdf.add_font(face.name, "B", fonts.static_font(face, 700, fonts_dir))
    pdf.set_font(faces[0].name, size=9)
    if len(faces) > 1:
        pdf.set_fallback_fonts([face.name for face in faces[1:]])
    # "Page N of M" is written knowing M, so no text is searched for fpdf2's "{nb}".
    pdf.alias_nb_pages(None)  # type: ignore[arg-type]
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.c_margin = 0
    pdf.set_creation_date(created_at)
    pdf.set_lang(document.locale)
    pdf.set_title(f"{sheet.title} {document.number}")
    pdf.set_author(document.seller.name)

    # Laid out twice: once to count the pages, then drawn with "Page N of M" on each. The
    # first page is there for both (fpdf2 measures text on a page).
    pdf.add_page()
    pages = _Layout(pdf, sheet, draw=False).run(pages=0)
    _Layout(pdf, sheet, draw=True).run(pages=pages)
    return bytes(pdf.output())


class _Pdf(FPDF):
    """fpdf2 with one fix: a line of text that begins in a fallback font (an Arabic word in
    Noto Sans Arabic) has fpdf2 (2.8.9) set the page's font inside a q...Q pair, which the
    Q undoes, yet it counts the font as set; the next line in that font then draws with
    whatever font the page had, as garbage. After each line it is counted as unset, so the
    next line sets it again."""

    def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super()._render_styled_text_line(*args, **kwargs)
        finally:
            self.current_font_is_set_on_page = False


@dataclass(frozen=True, slots=True)
class _Line:
    """One piece of text of a block: its words, and how they are set."""

    text: str
    size: float = 9.0
    bold: bool = False
    color: tuple[int, int, int] = TEXT
    # As the seller or buyer wrote it (a name, an address): it runs in the direction of its
    # own first letter, not in the language's.
    verbatim: bool = False


@dataclass(frozen=True, slots=True)
class _Row:
    description: str
    note: str | None  # under the description: a proration and its period
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True, slots=True)
class _Sheet:
    """Every string the invoice prints, in its language, before any is placed."""

    locale: str
    rtl: bool
    title: str
    number: str
    logo: bytes | None
    logo_size: tuple[int, int]  # in pixels
    seller: tuple[_Line, ...]
    facts: tuple[tuple[str, str], ...]
    bill_to: str
    buyer: tuple[_Line, ...]
    columns: tuple[str, str, str, str]
    rows: tuple[_Row, ...]
    totals: tuple[tuple[str, str, bool], ...]
    payment: tuple[_Line, ...]
    page_label: Callable[[int, int], str] = field(repr=False)

    @classmethod
    def of(cls, document: InvoiceDocument) -> _Sheet:
        locale = document.locale
        _ = _translator(locale)

        def money(minor: int) -> str:
            return i18n.format_money(minor, document.currency, locale)

        def period(start: datetime, end: datetime) -> str:
            return f"{i18n.format_date(start, locale)} \u2013 {i18n.format_date(end, locale)}"

        seller = document.seller
        seller_lines = [_Line(seller.name, size=11, bold=True, verbatim=True)]
        seller_lines += [_Line(line, verbatim=True) for line in _address(seller.address, locale)]
        if seller.tax_id:
            seller_lines.append(_Line(_("Tax ID: %(tax_id)s", tax_id=seller.tax_id)))
        contact = ", ".join(part for part in (seller.support_email, seller.website_url) if part)
        if contact:
            seller_lines.append(_Line(_("Support: %(contact)s", contact=contact), color=MUTED))

        status = INVOICE_STATUSES.get(document.status)
        facts = [
            (_("Invoice number"), document.number),
            (_("Date of issue"), i18n.format_date(document.issued_at, locale)),
        ]
        if document.period_start and document.period_end:
            facts.append((_("Service period"), period(document.period_start, document.period_end)))
        facts.append((_("Status"), _(status) if status else document.status))

        buyer = document.buyer
        buyer_lines = [
            _Line(buyer.name, size=10, bold=True, verbatim=True),
            _Line(buyer.email, verbatim=True),
        ]
        buyer_lines += [_Line(line, verbatim=True) for line in _address(buyer.address, locale)]
        if buyer.tax_id:
            buyer_lines.append(_Line(_("Tax ID: %(tax_id)s", tax_id=buyer.tax_id)))

        rows = tuple(_row(line, money, period, _, locale) for line in document.lines)

        totals = [(_("Subtotal"), money(document.subtotal_minor), False)]
        for rate, tax in _taxes_by_rate(document.lines):
            label = _("Tax (%(rate)s)", rate=i18n.format_percent_bps(rate, locale))
            totals.append((label, money(tax), False))
        totals.append((_("Total"), money(document.total_minor), True))
        if document.credit_applied_minor:
            totals.append((_("Credit applied"), money(-document.credit_applied_minor), False))
        totals.append((_("Amount paid"), money(document.amount_paid_minor), False))
        totals.append((_("Amount due"), money(document.amount_due_minor), True))

        payment_lines: list[_Line] = []
        if document.payment:
            payment = document.payment
            payment_lines.append(_Line(_("Payment"), size=10, bold=True))
            word = PAYMENT_STATUSES.get(payment.status)
            payment_lines.append(_Line(_(word) if word else payment.status))
            if payment.card_brand and payment.card_last4:
                brand = CardBrand(payment.card_brand).display_name
                payment_lines.append(
                    _Line(_("%(brand)s ending in %(last4)s", brand=brand, last4=payment.card_last4))
                    if brand
                    else _Line(f"•••• {payment.card_last4}")
                )

        logo_size = _logo_size(seller.logo)
        return cls(
            locale=locale,
            rtl=i18n.direction(locale) == "rtl",
            title=_("Invoice"),
            number=document.number,
            logo=seller.logo if logo_size else None,
            logo_size=logo_size or (0, 0),
            seller=tuple(seller_lines),
            facts=tuple(facts),
            bill_to=_("Bill to"),
            buyer=tuple(buyer_lines),
            columns=(_("Description"), _("Qty"), _("Unit price"), _("Amount")),
            rows=rows,
            totals=tuple(totals),
            payment=tuple(payment_lines),
            page_label=lambda page, pages: _("Page %(page)s of %(pages)s", page=page, pages=pages),
        )

    def strings(self) -> list[str]:
        """What the fonts must cover (page labels are digits and words of the language)."""
        strings = [self.title, self.number, self.bill_to, *self.columns, self.page_label(1, 1)]
        strings += [line.text for line in (*self.seller, *self.buyer, *self.payment)]
        strings += [text for fact in self.facts for text in fact]
        strings += [text for label, value, _ in self.totals for text in (label, value)]
        for row in self.rows:
            strings += [row.description, row.note or "", row.quantity, row.unit_price, row.amount]
        return strings


def _row(
    line: DocumentLine,
    money: Callable[[int], str],
    period: Callable[[datetime, datetime], str],
    _: Callable[..., str],
    locale: str,
) -> _Row:
    note = None
    if line.proration and line.period_start and line.period_end:
        note = _("Proration, %(period)s", period=period(line.period_start, line.period_end))
    return _Row(
        description=line.description,
        note=note,
        quantity=str(format_decimal(line.quantity, locale=locale)),
        unit_price=money(line.unit_amount_minor),
        amount=money(line.amount_minor),
    )


def _taxes_by_rate(lines: tuple[DocumentLine, ...]) -> list[tuple[int, int]]:
    """(rate in basis points, tax) for each rate some line was taxed at, lowest first."""
    taxes: dict[int, int] = {}
    for line in lines:
        if line.tax_minor:
            taxes[line.tax_rate_bps] = taxes.get(line.tax_rate_bps, 0) + line.tax_minor
    return sorted((rate, tax) for rate, tax in taxes.items() if tax)


def _address(address: DocumentAddress | None, locale: str) -> list[str]:
    if address is None:
        return []
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    if address.state:
        city = f"{city}, {address.state}" if city else address.state
    country = Locale.parse(locale).territories.get(address.country.upper(), address.country)
    return [part for part in (address.line1, address.line2, city, country) if part]


def _translator(locale: str) -> Callable[..., str]:
    """gettext for `locale` (English while it has no catalog), then the message's %(name)s
    placeholders filled in."""
    catalog = locale if locale in i18n.available() else i18n.SOURCE_LOCALE
    gettext = i18n.translations(catalog).gettext

    def translate(message: str, **values: object) -> str:
        translated = gettext(message)
        if not values:
            return translated
        try:
            return translated % values
        except (KeyError, ValueError, TypeError):
            # A translation whose placeholders do not match: the English says it right.
            return message % values

    return translate


def _logo_size(logo: bytes | None) -> tuple[int, int] | None:
    """The logo's size in pixels if it is a PNG or JPEG that decodes and is of a sane size;
    None otherwise: a logo that cannot be drawn is left out, never a reason to fail."""
    if not logo:
        return None
    try:
        with Image.open(BytesIO(logo)) as image:
            if (
                image.format not in ("PNG", "JPEG")
                or not 0 < image.width * image.height <= LOGO_MAX_PIXELS
            ):
                return None
            image.load()
            return image.width, image.height
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        EOFError,
        SyntaxError,
    ):
        # SyntaxError is what Pillow raises for a broken PNG chunk.
        return None


class _Layout:
    """Places a sheet on pages: the header, the lines (new pages as they need, the table's
    head repeated on each), then the totals and the payment. With draw=False it only
    measures, to count the pages."""

    def __init__(self, pdf: FPDF, sheet: _Sheet, *, draw: bool) -> None:
        self.pdf = pdf
        self.sheet = sheet
        self.draw = draw
        self.page = 0
        self.pages = 0

    def run(self, *, pages: int) -> int:
        """Lays the sheet out on `pages` pages (0 while counting); how many it took."""
        self.pages = pages
        y = self.table_head(self.header(self.new_page()) + 8)
        for row in self.sheet.rows:
            height = self.row(row, y, draw=False)
            if y + height > BOTTOM:
                y = self.table_head(self.new_page())
            if self.draw:
                self.row(row, y, draw=True)
            y += height
        y += 6
        height = self.summary(y, draw=False)
        if y + height > BOTTOM:
            y = self.new_page()
        if self.draw:
            self.summary(y, draw=True)
        return self.page

    def new_page(self) -> float:
        self.page += 1
        if self.draw:
            if self.page > 1:
                self.pdf.add_page()
            self.footer()
        return MARGIN

    def footer(self) -> None:
        label = self.sheet.page_label(self.page, self.pages)
        number = _Line(self.sheet.number, size=8, color=MUTED, verbatim=True)
        self.text(0, CONTENT_WIDTH, number, y=FOOTER_Y)
        self.text(0, CONTENT_WIDTH, _Line(label, size=8, color=MUTED), y=FOOTER_Y, edge="end")

    def header(self, top: float) -> float:
        start, end = top, top
        if self.sheet.logo is not None:
            start += self.logo(top) + 4
        for line in self.sheet.seller:
            start += self.text(*START_COLUMN, line, y=start)
        title = _Line(self.sheet.title, size=20, bold=True)
        end += self.text(0, CONTENT_WIDTH, title, y=top, edge="end")
        end += 3
        for label, value in self.sheet.facts:
            label_height = self.text(*END_LABELS, _Line(label, color=MUTED), y=end)
            value_height = self.text(*END_VALUES, _Line(value, bold=True), y=end, edge="end")
            end += max(label_height, value_height) + 1
        y = max(start, end) + 8
        y += self.text(
            *START_COLUMN, _Line(self.sheet.bill_to, size=8, bold=True, color=MUTED), y=y
        )
        y += 1
        for line in self.sheet.buyer:
            y += self.text(*START_COLUMN, line, y=y)
        return y

    def logo(self, top: float) -> float:
        assert self.sheet.logo is not None
        (box_width, box_height), (pixels_wide, pixels_high) = LOGO_BOX, self.sheet.logo_size
        scale = min(box_width / pixels_wide, box_height / pixels_high)
        width, height = pixels_wide * scale, pixels_high * scale
        if self.draw:
            try:
                image = BytesIO(self.sheet.logo)
                self.pdf.image(image, x=self.x(0, width), y=top, w=width, h=height)
            except FPDFException:
                return 0.0  # Pillow read it, fpdf2 does not: left out, as an unreadable one
        return height

    def table_head(self, y: float) -> float:
        description, quantity, unit_price, amount = self.sheet.columns

        def head(text: str) -> _Line:
            return _Line(text, size=8, bold=True, color=MUTED)

        height = max(
            self.text(*DESCRIPTION, head(description), y=y),
            self.text(*QUANTITY, head(quantity), y=y, edge="end"),
            self.text(*UNIT_PRICE, head(unit_price), y=y, edge="end"),
            self.text(*AMOUNT, head(amount), y=y, edge="end"),
        )
        self.rule(y + height + 1.5, weight=0.4)
        return y + height + 3.5

    def row(self, row: _Row, y: float, *, draw: bool) -> float:
        description = self.text(*DESCRIPTION, _Line(row.description, verbatim=True), y=y, draw=draw)
        if row.note:
            note = _Line(row.note, size=8, color=MUTED)
            description += self.text(*DESCRIPTION, note, y=y + description, draw=draw)
        height = max(
            description,
            self.text(*QUANTITY, _Line(row.quantity), y=y, edge="end", draw=draw),
            self.text(*UNIT_PRICE, _Line(row.unit_price), y=y, edge="end", draw=draw),
            self.text(*AMOUNT, _Line(row.amount), y=y, edge="end", draw=draw),
        )
        if draw:
            self.rule(y + height + 1.5, weight=0.2)
        return height + 3.5

    def summary(self, top: float, *, draw: bool) -> float:
        start = top
        for line in self.sheet.payment:
            start += self.text(*START_COLUMN, line, y=start, draw=draw)
        end = top
        for label, value, bold in self.sheet.totals:
            if bold and draw:
                self.rule(end - 0.8, weight=0.3, start=END_LABELS[0])
            label_height = self.text(*END_LABELS, _Line(label, bold=bold), y=end, draw=draw)
            value_line = _Line(value, bold=bold)
            value_height = self.text(*END_VALUES, value_line, y=end, edge="end", draw=draw)
            end += max(label_height, value_height) + 1.6
        return max(start, end) - top

    def text(
        self,
        start: float,
        width: float,
        line: _Line,
        *,
        y: float,
        edge: Edge = "start",
        draw: bool | None = None,
    ) -> float:
        """Sets `line` in the column `start`..`start + width` (from the start margin: the
        left one, the right one for right-to-left languages), wrapping it; its height."""
        pdf = self.pdf
        direction = None if line.verbatim else ("rtl" if self.sheet.rtl else "ltr")
        pdf.set_text_shaping(True, direction=direction, language=self.sheet.locale)
        pdf.set_font(style="B" if line.bold else "", size=line.size)
        pdf.set_text_color(*line.color)
        align = Align.L if (edge == "start") != self.sheet.rtl else Align.R
        line_height = line.size * 0.3528 * 1.3
        x = self.x(start, width)
        if not (self.draw if draw is None else draw):
            measured = pdf.multi_cell(
                width, line_height, line.text, align=align,
                dry_run=True, output=MethodReturnValue.HEIGHT,
            )  # fmt: skip
            return float(measured)  # type: ignore[arg-type]
        pdf.set_xy(x, y)
        pdf.multi_cell(width, line_height, line.text, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)
        return pdf.get_y() - y

    def rule(self, y: float, *, weight: float, start: float = 0.0) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(weight)
        x = self.x(start, CONTENT_WIDTH - start)
        pdf.line(x, y, x + CONTENT_WIDTH - start, y)

    def x(self, start: float, width: float) -> float:
        """The page's x of a box `start` from the start margin: mirrored right to left."""
        if self.sheet.rtl:
            return PAGE_WIDTH - MARGIN - start - width
        return MARGIN + start
