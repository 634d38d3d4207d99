"""What every collector provides, and the helpers they share (ids, text decoding).

A collector module defines ``FORMAT = Format(...)``. Its reader works in three thin layers:
``iter_records(path)`` yields raw records with their line or message id, ``to_rows(records, …)``
maps them onto the schema, ``read(path, options)`` composes them into a :class:`Parsed`.
Readers never touch the case: they raise :class:`DetectorError` on bad input, and ingest
writes nothing unless every file parsed.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from detector.collect.limits import DEFAULT_LIMITS, ParseLimits
from detector.errors import DetectorError


@dataclass(frozen=True)
class ReadOptions:
    """User choices that a reader may need. ``tz`` applies to phone-local or naive times;
    ``limits`` bound what a file may be (:mod:`detector.collect.limits`)."""

    tz: str | None = None
    dayfirst: bool | None = None   # WhatsApp date order where a file's dates read both ways
    export_date: date | None = None  # when WhatsApp chats were exported: dates without a year count back from it
    limits: ParseLimits = DEFAULT_LIMITS


@dataclass
class Parsed:
    """What a reader returns: rows for one or more tables, and facts about the file."""

    kind: str
    frames: dict[str, pd.DataFrame]
    tz: str | None = None           # the zone actually applied, if the file needed one
    detail: dict = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.frames.values())


@dataclass(frozen=True)
class Format:
    """A recognised input format.

    ``sniff(path, head)`` gets the path and the first 64 KiB (decoded-agnostic bytes) and says
    whether the file is in this format; it must be cheap and must not raise.
    ``read(path, options)`` parses the whole file.
    ``stream(path, options, sink)``, where a format has it, parses the file in bounded batches:
    each batch of rows goes to ``sink`` as ``{table: frame}`` as soon as it is built, and the
    returned :class:`Parsed` holds the file's facts with no frames. Batches of one file never
    repeat a key, so they can be written as they come.
    """

    name: str
    description: str
    sniff: Callable[[Path, bytes], bool]
    read: Callable[[Path, ReadOptions], Parsed]
    stream: Callable[[Path, ReadOptions, Callable[[dict[str, pd.DataFrame]], None]], Parsed] | None = None


def stable_id(*parts: object) -> str:
    """A short stable id from the given parts (same parts, same id, across runs and machines)."""
    h = hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:20]


def decode_text(data: bytes, path: Path) -> str:
    """Decode file bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM; else a clear error."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DetectorError("not valid UTF-16 text", path, _line_at(data, exc.start),
                                "expected a UTF-8 or UTF-16 text file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DetectorError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", path,
                            _line_at(data, exc.start), "expected a UTF-8 text file") from None


def decode_head(head: bytes) -> str:
    """Best-effort decoding of a sniffed head (may be cut mid-character)."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="ignore")
    return head.decode("utf-8-sig", errors="ignore")


def looks_binary(head: bytes) -> bool:
    """True for data that is not text (NUL bytes outside UTF-16, or many control bytes)."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return False
    if b"\x00" in head:
        return True
    if not head:
        return False
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return ctrl / len(head) > 0.05


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
