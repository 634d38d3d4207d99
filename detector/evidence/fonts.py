"""The fonts report.pdf draws with, found by path: DejaVu Sans, then Noto fallbacks per script.

DejaVu Sans ships with matplotlib, so it is always there; it covers Latin, Greek, Cyrillic with
the Kazakh letters, and the Arabic script with Uyghur's letters (shaped by HarfBuzz through
fpdf2). What it lacks comes from fallback fonts the project installs from Debian's packages
(``make fonts``: :data:`DEBIAN_PACKAGES`, all under the SIL Open Font Licence):

- ``cjk``: Noto Sans CJK SC (Chinese; also Japanese kana and Korean hangul);
- ``arabic``: Noto Sans Arabic (Arabic-script letters DejaVu lacks);
- ``emoji``: Noto Color Emoji (fpdf2 draws its bitmaps as a Type 3 font).

A folder named by ``$DETECTOR_FONT_DIR`` is searched first (the same file names), for machines
without Debian's packages. A missing fallback is not an error: the PDF marks what it cannot draw
and the packet warns with a count (:mod:`.render_pdf`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

FONT_DIR_ENV = "DETECTOR_FONT_DIR"
DEBIAN_PACKAGES = ("fonts-noto-cjk", "fonts-noto-core", "fonts-noto-color-emoji")
INSTALL_HINT = ("install the fonts with `make fonts` (as root; Debian packages " + ", ".join(DEBIAN_PACKAGES)
                + f") or put Noto font files in ${FONT_DIR_ENV}")


@dataclass(frozen=True)
class FontFile:
    """One font file (``index``: the face in a .ttc collection) and what it is there for."""

    role: str
    path: str
    index: int = 0


# role -> (what it draws, candidates: (file name, face index in a collection), Debian folders)
_FALLBACKS: dict[str, tuple[str, tuple[tuple[str, int], ...], tuple[str, ...]]] = {
    "cjk": ("Chinese, Japanese and Korean", (("NotoSansCJK-Regular.ttc", 2), ("NotoSansCJKsc-Regular.otf", 0),
                                             ("NotoSansSC-Regular.otf", 0), ("NotoSansSC-Regular.ttf", 0)),
            ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")),
    "arabic": ("Arabic-script letters beyond DejaVu Sans", (("NotoSansArabic-Regular.ttf", 0),
                                                           ("NotoNaskhArabic-Regular.ttf", 0)),
               ("/usr/share/fonts/truetype/noto",)),
    "emoji": ("emoji", (("NotoColorEmoji.ttf", 0),), ("/usr/share/fonts/truetype/noto",)),
}
ROLES = tuple(_FALLBACKS)


def dejavu(name: str = "DejaVuSans.ttf") -> str:
    """Path of a DejaVu font file shipped with matplotlib."""
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


def describe(role: str) -> str:
    return _FALLBACKS[role][0]


def _folders(role: str) -> list[Path]:
    extra = os.environ.get(FONT_DIR_ENV)
    return ([Path(extra)] if extra else []) + [Path(p) for p in _FALLBACKS[role][2]]


@lru_cache(maxsize=8)
def _find(role: str, font_dir: str | None) -> FontFile | None:
    for folder in _folders(role):
        for name, index in _FALLBACKS[role][1]:
            path = folder / name
            if path.is_file():
                return FontFile(role, str(path), index)
    return None


def fallback_fonts() -> list[FontFile]:
    """The fallback fonts found on this machine, in drawing order (CJK, Arabic, emoji)."""
    found = [_find(role, os.environ.get(FONT_DIR_ENV)) for role in ROLES]
    return [f for f in found if f is not None]


def missing_roles() -> list[str]:
    """The fallback roles no font was found for (empty when ``make fonts`` has run)."""
    have = {f.role for f in fallback_fonts()}
    return [role for role in ROLES if role not in have]
