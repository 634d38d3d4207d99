"""Collectors: one module per input format, each exposing ``FORMAT`` (see :mod:`.base`).

``FORMATS`` is ordered: the first format whose ``sniff`` accepts a file wins, so specific
formats come before general ones.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from detector.collect.base import Format, Parsed, ReadOptions
from detector.errors import DetectorError

_MODULES = (
    "telegram_export",
    "whatsapp",
    "lumen",
    "notice_email",
    "views_csv",
    "notices_csv",
)


def _load() -> tuple[Format, ...]:
    return tuple(importlib.import_module(f"{__name__}.{name}").FORMAT for name in _MODULES)


FORMATS: tuple[Format, ...] = _load()
HEAD_BYTES = 65536


def format_named(name: str) -> Format:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise DetectorError(f"unknown format {name!r}", hint=f"--format takes one of: {known}")


def detect_format(path: Path) -> Format | None:
    """The format of ``path`` by content (and name), or None if no collector recognises it."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    for fmt in FORMATS:
        try:
            if fmt.sniff(path, head):
                return fmt
        except Exception:  # a sniffer must never break detection of the others
            continue
    return None


__all__ = ["FORMATS", "Format", "Parsed", "ReadOptions", "detect_format", "format_named"]
