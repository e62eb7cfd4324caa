"""Invoice PDF benchmark: how long one document takes to draw, per language, and how long
the fonts' fixed weights take to make.

    .venv/bin/python bench/invoice_pdf.py [--rounds 5] [--fonts-dir DIR] [--cold]

Draws the tests' two-line invoice in each of the 21 locales, `--rounds` times, straight
through the renderer (no cache, no HTTP), and prints the median and the slowest round in
milliseconds, and the PDF's size. `--cold` first makes the fonts into an empty directory
and prints how long each weight took.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal_gateway.config import Settings
from portal_gateway.documents.fonts import build_fonts
from portal_gateway.documents.invoice_pdf import render_invoice_pdf
from tests.test_invoice_pdf import LOCALES, invoice

CURRENCY = {"ja": "JPY", "ko": "KRW", "zh": "CNY", "en": "USD", "ar": "KWD", "he": "ILS"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fonts-dir", type=Path, default=None)
    parser.add_argument("--cold", action="store_true", help="make the fonts anew first")
    args = parser.parse_args()
    fonts_dir = args.fonts_dir or Settings().font_cache_path
    if args.cold:
        fonts_dir = Path(tempfile.mkdtemp(prefix="bench-fonts-"))
        started = time.perf_counter()
        for font in build_fonts(fonts_dir):
            print(f"font {font.face.name} {font.weight}: {font.seconds:.1f} s")
        print(f"fonts made in {time.perf_counter() - started:.1f} s")
    else:
        build_fonts(fonts_dir)  # warm: what a running server has
    created = datetime(2026, 1, 1, tzinfo=UTC)
    print(f"{'locale':<7}{'median ms':>10}{'max ms':>9}{'bytes':>9}")
    for locale in LOCALES:
        document = invoice(locale, CURRENCY.get(locale, "EUR"))
        times, size = [], 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            size = len(render_invoice_pdf(document, fonts_dir=fonts_dir, created_at=created))
            times.append((time.perf_counter() - started) * 1000)
        print(f"{locale:<7}{statistics.median(times):>10.0f}{max(times):>9.0f}{size:>9}")


if __name__ == "__main__":
    main()
