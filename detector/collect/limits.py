"""Limits at the door: what an input file may be before a reader refuses it, declared once.

The inputs come from the people being investigated, so every reader treats every byte as
hostile. One :class:`ParseLimits` object (``ReadOptions.limits``) bounds them all:

* before reading: the file's size (:func:`read_bytes`), a zip member's unpacked size and its
  ratio to its packed size (:func:`read_zip_member`), JSON nesting depth (:func:`check_json_depth`);
* after reading, on every table a reader returns (:func:`check_rows`): times and days inside
  the plausible range, texts no longer than the longest message a platform allows many times
  over, view and forward counts whole and in range.

Breaking a limit refuses the file with a :class:`DetectorError` naming the file and its line
or message: ingest then writes nothing, and the refused file is not recorded as a source.
Rows are refused rather than quarantined: a refusal names the row, and the user decides
(correct the row, or widen the limit with ``detector ingest --limit NAME=VALUE`` when the
value is real), instead of evidence silently shrinking. Texts within the limit are stored
whole; only displays shorten them.

``python -m detector.collect.limits`` prints the README's table of limits.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from detector.errors import DetectorError

_MiB = 2**20


def _limit(default, doc: str, unit: str = "", lo=None, hi=None):
    return field(default=default, metadata={"doc": doc, "unit": unit, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class ParseLimits:
    """The limits every reader applies (see the module docstring); validated when made."""

    max_file_mb: int = _limit(1024, "a file larger than this is refused before it is read (a Telegram export "
                                    "of a million messages is about 500 MiB)", "MiB", 1, 64 * 1024)
    max_unpacked_mb: int = _limit(256, "a chat inside a zip that unpacks to more than this is refused, read in "
                                       "blocks so a zip bomb never fills the memory", "MiB", 1, 16 * 1024)
    max_zip_ratio: int = _limit(100, "a zip member that unpacks to more than this many times its packed size "
                                     "(past its first MiB) is refused as a zip bomb; chat text packs 3 to 10 times",
                                "×", 2, 10_000)
    max_json_depth: int = _limit(64, "JSON nested deeper than this is refused before parsing (Telegram exports "
                                     "nest 6 levels, Lumen notices 5)", "levels", 8, 10_000)
    max_text_chars: int = _limit(1_000_000, "a message, post or notice text (or any other field) longer than this "
                                            "is refused (Telegram allows 4,096 characters, WhatsApp 65,536); "
                                            "shorter texts are stored whole", "characters", 4096, 100_000_000)
    earliest: str = _limit("2005-01-01", "a time or day before this date is refused (YouTube opened in 2005, "
                                         "WhatsApp in 2009, Telegram in 2013)", "date")
    future_days: int = _limit(1, "a time or day later than now plus this many days is refused", "days", 0, 3650)
    max_daily_views: int = _limit(10_000_000_000, "a views count above this (or below 0) is refused",
                                  "views", 1, 10**15)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "earliest":
                try:
                    date.fromisoformat(str(value))
                except ValueError:
                    raise DetectorError(f"limit earliest must be a date like 2005-01-01, got {value!r}") from None
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise DetectorError(f"limit {f.name} must be a whole number, got {value!r}")
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            if not lo <= value <= hi:
                raise DetectorError(f"limit {f.name} must be between {lo} and {hi}, got {value!r}")

    # -- derived bounds ----------------------------------------------------------------------
    @property
    def earliest_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.earliest, tz="UTC")

    def latest_time(self) -> pd.Timestamp:
        """Now plus ``future_days`` (a clock a few hours off must not refuse today's notices)."""
        return pd.Timestamp.now(tz="UTC").ceil("D") + pd.Timedelta(days=self.future_days)

    def epoch_range(self) -> tuple[int, int]:
        """The plausible range as unix seconds, for readers that get raw epochs."""
        return int(self.earliest_time.timestamp()), int(self.latest_time().timestamp())

    # -- making ------------------------------------------------------------------------------
    def with_settings(self, pairs: Iterable[str]) -> ParseLimits:
        """A validated copy with ``NAME=VALUE`` settings (as ``detector ingest --limit`` takes them)."""
        known = {f.name: f for f in dataclasses.fields(self)}
        changes = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in known:
                raise DetectorError(f"unknown limit {pair!r}", hint="--limit takes NAME=VALUE with NAME one of: "
                                    + ", ".join(known))
            if name == "earliest":
                changes[name] = value.strip()
                continue
            try:
                changes[name] = int(value.strip().replace("_", ""))
            except ValueError:
                raise DetectorError(f"limit {name} must be a whole number, got {value.strip()!r}") from None
        return dataclasses.replace(self, **changes)


DEFAULT_LIMITS = ParseLimits()


def _refuse_hint(name: str, what: str) -> str:
    return f"{what}; if the file is genuine, raise the limit with --limit {name}=…"


# -- before reading -----------------------------------------------------------------------------

def check_size(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """Refuse a file larger than ``max_file_mb``."""
    size = Path(path).stat().st_size
    if size > limits.max_file_mb * _MiB:
        raise DetectorError(f"the file is {size / _MiB:,.0f} MiB, more than the {limits.max_file_mb:,} MiB limit",
                            path, None, _refuse_hint("max_file_mb", "split the export or check the file"))


def read_bytes(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, after :func:`check_size`."""
    check_size(path, limits)
    return Path(path).read_bytes()


def read_zip_member(archive: zipfile.ZipFile, member: str, path: Path,
                    limits: ParseLimits = DEFAULT_LIMITS) -> bytes:
    """A zip member's bytes, read in 1 MiB blocks and refused past ``max_unpacked_mb`` or past
    ``max_zip_ratio`` times its packed size (checked on the bytes actually produced, not only on
    the sizes the archive claims)."""
    info = archive.getinfo(member)
    cap = limits.max_unpacked_mb * _MiB
    if info.file_size > cap:
        raise _bomb(member, path, f"{limits.max_unpacked_mb:,} MiB", "max_unpacked_mb")
    ratio_cap = max(_MiB, limits.max_zip_ratio * max(info.compress_size, 1))
    chunks, total = [], 0
    with archive.open(member) as fh:
        while block := fh.read(_MiB):
            total += len(block)
            if total > cap:
                raise _bomb(member, path, f"{limits.max_unpacked_mb:,} MiB", "max_unpacked_mb")
            if total > ratio_cap:
                raise _bomb(member, path, f"{limits.max_zip_ratio} times its packed size", "max_zip_ratio")
            chunks.append(block)
    return b"".join(chunks)


def _bomb(member: str, path: Path, bound: str, name: str) -> DetectorError:
    return DetectorError(f"{member!r} in this zip unpacks to more than {bound}", path, None,
                         _refuse_hint(name, "a zip bomb, or not a chat export"))


_JSON_BLOCK = 32 * _MiB
_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')   # every byte except quotes and brackets


class JsonDepth:
    """The nesting depth of JSON fed block by block (brackets inside strings do not count).

    ``feed`` takes consecutive blocks of one document; a block must not end inside a run of
    backslashes (except the last), so an escape is never split. ``deepest`` is exact for valid
    JSON (and for the valid prefix of a broken file, where a parser stops), in bounded memory
    and without recursion: escaped quotes and backslashes are removed, the block is reduced to
    its quotes and brackets (``bytes.translate``, C speed), and numpy counts the depth of the
    brackets outside strings. About 0.35 s per 50 MB.
    """

    def __init__(self) -> None:
        self.depth = self.deepest = 0
        self.in_string = False

    def feed(self, block: bytes) -> int:
        """Count ``block``; return the deepest nesting so far."""
        if b"\\" in block:
            block = block.replace(b"\\\\", b"").replace(b'\\"', b"")
        marks = np.frombuffer(block.translate(None, _STRUCTURE), dtype=np.uint8)
        if not len(marks):
            return self.deepest
        quotes = marks == 0x22
        inside = (np.cumsum(quotes) + self.in_string) % 2 == 1
        self.in_string = bool((int(quotes.sum()) + self.in_string) % 2)
        brackets = marks[~quotes & ~inside]
        if len(brackets):
            levels = self.depth + np.cumsum(np.where((brackets == 0x5B) | (brackets == 0x7B), 1, -1))
            self.deepest = max(self.deepest, int(levels.max()))
            self.depth = int(levels[-1])
        return self.deepest


def json_depth(data: bytes, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in JSON ``data`` (see :class:`JsonDepth`), counted
    in blocks of 32 MiB. Stops early once the depth exceeds ``stop_above``.
    """
    counter = JsonDepth()
    start, n = 0, len(data)
    while start < n:
        end = min(start + _JSON_BLOCK, n)
        while end < n and data[end - 1] == 0x5C:   # never split a run of backslashes
            end += 1
        deepest = counter.feed(data[start:end])
        start = end
        if stop_above is not None and deepest > stop_above:
            break
    return counter.deepest


def check_json_depth(data: bytes, path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """Refuse JSON nested deeper than ``max_json_depth`` (parsers would recurse or fill the memory)."""
    if json_depth(data, stop_above=limits.max_json_depth) > limits.max_json_depth:
        raise too_deep(path, limits)


def too_deep(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> DetectorError:
    """The refusal of JSON nested deeper than ``max_json_depth``."""
    return DetectorError(f"JSON nested more than {limits.max_json_depth} levels deep", path, None,
                         _refuse_hint("max_json_depth", "not an export any platform writes"))


# -- after reading: the rows --------------------------------------------------------------------

def _where(frame: pd.DataFrame, position: int):
    return frame["source_ref"].iloc[position] if "source_ref" in frame else None


def check_rows(frames: dict[str, pd.DataFrame], path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """Refuse rows out of range: times and days, text lengths, views and forwards.

    ``frames`` maps table names to the rows a reader returned (schemas in :mod:`detector.schema`);
    the first offending row is named by its ``source_ref`` (line or message id).
    """
    from detector.schema import TABLES

    earliest, latest = limits.earliest_time, limits.latest_time()
    for table, frame in frames.items():
        if frame.empty:
            continue
        types = TABLES.get(table, {})
        for col, ty in types.items():
            if col not in frame:
                continue
            if ty in ("TIMESTAMPTZ", "DATE"):
                values = frame[col]
                if ty == "DATE":
                    values = pd.to_datetime(values.astype("object"), errors="coerce").dt.tz_localize("UTC")
                times = pd.to_datetime(values, utc=True, errors="coerce")
                bad = ((times < earliest) | (times > latest)).to_numpy()
                if bad.any():
                    i = int(bad.nonzero()[0][0])
                    shown = f"{times.iloc[i]:%Y-%m-%d}" if ty == "DATE" else f"{times.iloc[i]:%Y-%m-%d %H:%M} UTC"
                    raise DetectorError(f"{col} {shown} is not a plausible date", path, _where(frame, i),
                                        f"expected a date from {earliest:%Y-%m-%d} to {latest:%Y-%m-%d}; check the "
                                        f"file's dates and zone (or widen the range with --limit earliest=… or "
                                        f"--limit future_days=…)")
            elif ty in ("VARCHAR", "VARCHAR[]"):
                _check_text(frame, col, path, limits, is_list=ty == "VARCHAR[]")
            elif col in ("views", "forwards"):
                numbers = pd.to_numeric(frame[col], errors="coerce")
                bad = ((numbers < 0) | (numbers > limits.max_daily_views)).fillna(False).to_numpy()
                if bad.any():
                    i = int(bad.nonzero()[0][0])
                    raise DetectorError(f"{col} {numbers.iloc[i]:,.0f} is out of range", path, _where(frame, i),
                                        _refuse_hint("max_daily_views",
                                                     f"expected 0 to {limits.max_daily_views:,}"))


_BATCH = 20_000


def _check_text(frame: pd.DataFrame, col: str, path: Path, limits: ParseLimits, is_list: bool = False) -> None:
    """Refuse a text longer than ``max_text_chars`` and text that is not valid Unicode (lone
    surrogates, from ``\\ud800`` escapes in JSON or undecodable e-mail headers: they cannot be
    stored, printed or put in a packet). Checked in C-level batches (``max(map(len, …))`` and one
    ``encode`` per 20,000 rows); only a failing batch is searched row by row for its culprit."""
    series = frame[col]
    values = (series if is_list else series[series.notna()]).tolist()
    for start in range(0, len(values), _BATCH):
        batch = values[start:start + _BATCH]
        try:
            texts = list(chain.from_iterable(batch)) if is_list else batch
            fine = max(map(len, texts), default=0) <= limits.max_text_chars
            "".join(texts).encode("utf-8")
        except (TypeError, UnicodeEncodeError):
            fine = False
        if not fine:
            _name_the_bad_text(frame, col, path, limits, is_list)


def _name_the_bad_text(frame: pd.DataFrame, col: str, path: Path, limits: ParseLimits, is_list: bool) -> None:
    for i, value in enumerate(frame[col].tolist()):
        for text in (value if is_list and isinstance(value, list | tuple | np.ndarray) else [value]):
            if not isinstance(text, str):
                continue
            if len(text) > limits.max_text_chars:
                raise DetectorError(f"{col} is {len(text):,} characters long, more than the "
                                    f"{limits.max_text_chars:,} limit", path, _where(frame, i),
                                    _refuse_hint("max_text_chars", "no platform allows messages this long"))
            if not _encodes(text):
                raise DetectorError(f"{col} holds a character that is not valid Unicode (a lone surrogate)", path,
                                    _where(frame, i), "the file is damaged or was written by a broken tool")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- the README's table -------------------------------------------------------------------------

def markdown_table(limits: ParseLimits = DEFAULT_LIMITS) -> str:
    """The limits as the README lists them."""
    lines = ["| limit | default | what it does |", "|---|---|---|"]
    for f in dataclasses.fields(limits):
        value = getattr(limits, f.name)
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        unit = f.metadata["unit"]
        if unit and unit != "date":
            unit = unit[:-1] if value == 1 and unit.endswith("s") else unit
            shown = f"{shown}×" if unit == "×" else f"{shown} {unit}"
        lines.append(f"| `{f.name}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(lines)


if __name__ == "__main__":   # python -m detector.collect.limits: the README's table
    print(markdown_table())
