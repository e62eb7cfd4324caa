"""The fonts documents are drawn with: Noto Sans from pip packages, never from the system or
fetched at run time.

The packages ship variable fonts. fpdf2 can pick a weight of one (`variations=`), but it
takes seconds a page, so each weight used (400 and 700) is instanced once with fontTools
into a static copy kept in a cache directory that the caller owns. A copy's name holds a
digest of its source file, so a new package version never draws with a stale copy; it is
written to a temporary file and renamed into place, so two processes building the same copy
at once both end with a whole file. Copies are built when a document first needs their script.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

# The instancer tells every step at INFO: dozens of lines a font, nothing an operator needs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# The weights documents draw with: regular text and bold.
WEIGHTS = (400, 700)

# Part of every copy's digest: change it when copies must be made anew (how they are made
# changed), so that no cache keeps one made the old way.
_RECIPE = b"static instance v1"


class MissingFontsError(RuntimeError):
    """A document's language needs fonts whose package is not installed."""


@dataclass(frozen=True, slots=True)
class Face:
    """A typeface documents draw with, and the package that ships it."""

    name: str
    family: str  # the font files' stem: NotoSansJP[wght].ttf, NotoSansJP-Bold.ttf
    package: str  # the import name of the package holding the files
    requirement: str  # what to install to have it


LATIN = Face("latin", "NotoSans", "fontpkg_noto_sans", "fontpkg-noto-sans")  # and Cyrillic, Greek
ARABIC = Face("arabic", "NotoSansArabic", "justmytype_intl_rtl", "justmytype-intl-rtl")
HEBREW = Face("hebrew", "NotoSansHebrew", "justmytype_intl_rtl", "justmytype-intl-rtl")
THAI = Face("thai", "NotoSansThai", "fontpkg_noto_sans_thai", "fontpkg-noto-sans-thai")
CHINESE = Face("chinese", "NotoSansSC", "justmytype_intl_cjk", "portal-gateway[cjk]")
JAPANESE = Face("japanese", "NotoSansJP", "justmytype_intl_cjk", "portal-gateway[cjk]")
KOREAN = Face("korean", "NotoSansKR", "justmytype_intl_cjk", "portal-gateway[cjk]")
FACES = (LATIN, ARABIC, HEBREW, THAI, CHINESE, JAPANESE, KOREAN)

# The face of a language's own script, where Noto Sans does not cover it.
_LOCALE_FACES = {
    "ar": ARABIC, "he": HEBREW, "th": THAI, "zh": CHINESE, "ja": JAPANESE, "ko": KOREAN,
}  # fmt: skip

# Ideographs (and CJK punctuation) have a form per language: they are drawn in the face of
# the document's language when it is Chinese, Japanese or Korean, in Chinese otherwise.
_HAN = "han"
# Code point ranges (first, last) of the scripts Noto Sans lacks, and their face.
_RANGES: tuple[tuple[int, int, Face | str], ...] = (
    (0x0590, 0x05FF, HEBREW),
    (0x0600, 0x06FF, ARABIC),
    (0x0750, 0x077F, ARABIC),
    (0x0870, 0x08FF, ARABIC),
    (0x0E00, 0x0E7F, THAI),
    (0x1100, 0x11FF, KOREAN),
    (0x2E80, 0x2FDF, _HAN),
    (0x3000, 0x303F, _HAN),
    (0x3040, 0x30FF, JAPANESE),
    (0x3130, 0x318F, KOREAN),
    (0x3190, 0x31EF, _HAN),
    (0x31F0, 0x31FF, JAPANESE),
    (0x3200, 0x33FF, _HAN),
    (0x3400, 0x4DBF, _HAN),
    (0x4E00, 0x9FFF, _HAN),
    (0xA960, 0xA97F, KOREAN),
    (0xAC00, 0xD7FF, KOREAN),
    (0xF900, 0xFAFF, _HAN),
    (0xFB1D, 0xFB4F, HEBREW),
    (0xFB50, 0xFDFF, ARABIC),
    (0xFE30, 0xFE4F, _HAN),
    (0xFE70, 0xFEFF, ARABIC),
    (0xFF00, 0xFF64, _HAN),
    (0xFF65, 0xFF9F, JAPANESE),
    (0xFFA0, 0xFFEF, _HAN),
    (0x20000, 0x3FFFF, _HAN),
)
_STARTS = [start for start, _, _ in _RANGES]


def faces_for(locale: str, texts: Iterable[str]) -> tuple[Face, ...]:
    """The faces a document in `locale` drawing `texts` needs, the one to try first first:
    Noto Sans, then the face of the language's script, then those of other scripts in the
    text (a buyer's name, say) whose package is installed.

    Raises MissingFontsError when the language's own face is not installed.
    """
    own = _LOCALE_FACES.get(locale.replace("-", "_").split("_")[0])
    han = own if own in (CHINESE, JAPANESE, KOREAN) else CHINESE
    wanted = {LATIN} | ({own} if own else set())
    for text in texts:
        for char in text:
            code = ord(char)
            if code < 0x0590:
                continue
            index = bisect.bisect_right(_STARTS, code) - 1
            if index >= 0 and code <= _RANGES[index][1]:
                face = _RANGES[index][2]
                wanted.add(face if isinstance(face, Face) else han)
    for required in (LATIN, own):
        if required is not None and locate(required) is None:
            raise MissingFontsError(
                f"the {required.name} fonts for {locale!r} documents are not installed: "
                f"install {required.requirement}"
            )
    ordered = [
        LATIN,
        *([own] if own else []),
        *(face for face in FACES if face not in (LATIN, own)),
    ]
    return tuple(face for face in ordered if face in wanted and locate(face) is not None)


@dataclass(frozen=True, slots=True)
class FontSource:
    """Where a face's files are: a static file per weight, or one variable font to instance."""

    static: dict[int, Path]
    variable: Path | None


def locate(face: Face) -> FontSource | None:
    """The files of `face` in its installed package; None when the package is not installed."""
    directory = _package_directory(face.package)
    if directory is None:
        return None
    static = {
        weight: path
        for weight, style in ((400, "Regular"), (700, "Bold"))
        for path in sorted(directory.rglob(f"{face.family}-{style}.[ot]tf"))[:1]
    }
    variable = next(iter(sorted(directory.rglob(f"{face.family}[[]*].ttf"))), None)
    if len(static) < len(WEIGHTS) and variable is None:
        return None
    return FontSource(static=static, variable=variable)


def _package_directory(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def static_font(face: Face, weight: int, fonts_dir: Path) -> Path:
    """A static font file of `face` at `weight` (400 or 700): the package's own if it ships
    one, else the copy instanced from its variable font in `fonts_dir`, made if missing."""
    target, variable = _static_file(face, weight, fonts_dir)
    if variable is not None and not target.exists():
        with _lock_for(target):
            if not target.exists():
                _instance(variable, weight, target)
    return target


def _static_file(face: Face, weight: int, fonts_dir: Path) -> tuple[Path, Path | None]:
    """Where the static font of `face` at `weight` is, and the variable font it is made
    from when it is a copy of ours (None when the package ships it)."""
    source = locate(face)
    if source is None:
        raise MissingFontsError(
            f"the {face.name} fonts are not installed: install {face.requirement}"
        )
    if weight in source.static:
        return source.static[weight], None
    assert source.variable is not None  # locate() returns no source that has neither
    return fonts_dir / f"{face.family}-{weight}-{_digest(source.variable)}.ttf", source.variable


@dataclass(frozen=True, slots=True)
class FontBuild:
    face: Face
    weight: int
    path: Path
    built: bool  # made now: neither in the cache nor shipped static by the package
    seconds: float


def build_fonts(fonts_dir: Path) -> list[FontBuild]:
    """Make every static copy that the installed packages call for, ahead of the first
    document (`portal-gateway fonts build`); copies already in `fonts_dir` are kept."""
    builds = []
    for face in FACES:
        if locate(face) is None:
            continue
        for weight in WEIGHTS:
            target, variable = _static_file(face, weight, fonts_dir)
            built = variable is not None and not target.exists()
            started = time.perf_counter()
            path = static_font(face, weight, fonts_dir)
            builds.append(FontBuild(face, weight, path, built, time.perf_counter() - started))
    return builds


def _instance(variable: Path, weight: int, target: Path) -> None:
    # The source's timestamp, not now: the same source makes the same bytes.
    font = TTFont(variable, recalcTimestamp=False)
    location = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
    location["wght"] = float(weight)
    static = instancer.instantiateVariableFont(font, location, updateFontNames=True, static=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(descriptor, 0o644)  # mkstemp's 0600 would keep other users' workers out
        with os.fdopen(descriptor, "wb") as out:
            static.save(out, reorderTables=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_digests: dict[tuple[Path, int, int], str] = {}
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _digest(path: Path) -> str:
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256(_RECIPE)
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
        _digests[key] = digest.hexdigest()[:16]
    return _digests[key]


def _lock_for(target: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(target, threading.Lock())


if __name__ == "__main__":  # what `serve` runs, in a process of its own, at start-up
    os.nice(10)
    build_fonts(Path(sys.argv[1]))
