"""The invoice fonts' fixed weights, made in the background when `serve` starts, so that the
first PDF of a language does not wait minutes for them (a daemon thread: a process that
stops mid-build leaves no font behind, since each copy is written whole, then renamed)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from portal_gateway.documents.fonts import build_fonts

log = logging.getLogger(__name__)


def prepare_in_background(fonts_dir: Path) -> threading.Thread:
    def build() -> None:
        try:
            made = [font for font in build_fonts(fonts_dir) if font.built]
        except Exception:  # a font that cannot be made now is made, or reported, when asked for
            log.exception("making the invoice fonts failed; documents make them when needed")
            return
        if made:
            log.info("invoice fonts made: %s", ", ".join(f"{f.face.name} {f.weight}" for f in made))

    thread = threading.Thread(target=build, name="invoice-fonts", daemon=True)
    thread.start()
    return thread
