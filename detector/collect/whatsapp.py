"""WhatsApp "Export chat" files: the ``.txt`` (Android or iOS) or the ``.zip`` WhatsApp makes.

Three layers: :func:`iter_records` finds the headers (the file's header shape, learnt from
all its lines, see :mod:`.whatsapp_shapes`) and yields each message raw with its line number;
:func:`to_rows` reads the dates (date order inferred per file, years inferred where none is
written, see :mod:`.whatsapp_dates`), sorts messages
from system lines (:mod:`.whatsapp_bodies`) and maps them onto the ``posts`` schema;
:func:`read` composes them. See FORMATS.md §3 for the line shapes.

Header shapes: numeric dates in any order and calendar, month names and clock words in any
CLDR language (:mod:`.whatsapp_locale`), the time before the date. Lines before the first
header (page numbers and titles of OCR'd page dumps, the tail of a cut-off message) are not
messages; ``detail["notes"]`` says so, and says what else was inferred.

Times are phone-local: ``--tz`` is required. Each post's ``message_id`` is its ordinal among
all the file's headers (system lines included) and ``source_ref`` its header's line number;
``post_id`` hashes chat, UTC time, author, text and the occurrence of that combination, so a
later export of the same chat gives its messages the same ids. WhatsApp exports carry no
forward flag (FORMATS.md §3.4): ``forwarded_from`` is always empty.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from detector.collect import whatsapp_bodies as bodies
from detector.collect import whatsapp_shapes as shapes
from detector.collect.base import (
    Format,
    Parsed,
    ReadOptions,
    decode_head,
    decode_text,
    looks_binary,
    stable_id,
)
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, read_bytes, read_zip_member
from detector.collect.whatsapp_dates import Anchor, local_times
from detector.errors import DetectorError
from detector.ids import canonical_target, extract_urls
from detector.schema import conform
from detector.timeutil import localize, require_zone

PLATFORM = "whatsapp"
EXAMPLE = "a WhatsApp header like '23/03/2022, 13:31 - Name: text' or '[23/03/2022, 13:31:05] Name: text'"

# Removed before matching: RLM, embedding/override/isolate marks, BOM. U+200E is kept until
# the body is classified (iOS marks system lines with it) and removed there.
_MARKS = re.compile("[\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")
_SPACES = re.compile("[\u00a0\u202f\u2007\u2009]")
# Something that looks like a header in a shape we do not read, for a precise error.
_STAMP_LIKE = re.compile(r"^\u200e*\[?[^\n\]]{0,40}?\d{1,2}[:.]\d{2}[^\n\]]{0,40}?(?:\] | - |: )")

# "WhatsApp Chat with X.txt", "WhatsApp Chat - X.zip" and localised forms (chat-analytics list,
# plus the Czech and Russian names of the whats_json samples); also with "_" for spaces.
_CHAT_FILE_PREFIXES = (
    "WhatsApp Chat - ", "WhatsApp Chat with ", "WhatsApp Chat mit ", "WhatsApp-Chat mit ",
    "Chat de WhatsApp con ", "Chat WhatsApp con ", "Conversa do WhatsApp com ",
    "Conversa no WhatsApp com ", "Discussion WhatsApp avec ", "Chat WhatsApp s uživatelem ",
    "Чат WhatsApp с контактом ", "Чат WhatsApp с ", "WhatsApp-chat met ", "WhatsApp Sohbeti: ",
)
_CHAT_FILE = re.compile(
    "(?:" + "|".join(re.escape(p).replace(r"\ ", "[ _]") for p in _CHAT_FILE_PREFIXES) + ")(?P<name>.+)$",
    re.IGNORECASE)
_IOS_MEMBER = "_chat.txt"
_SNIFF_LINES = 20
_SNIFF_PREAMBLE = 10     # non-empty lines a recognised chat may have before its first header
_HEAD_BYTES = 65536


class HeaderRecord(NamedTuple):
    """One message as written: its header's fields and everything up to the next header."""

    line: int               # 1-based line number of the header
    stamp: str              # the date and time as written (for messages)
    kind: str               # "numeric": a, b, c are the date numbers in written order, years
    a: str | None           # possibly with a Japanese era letter ("R4"); "named": day, month
    b: str                  # name, year or None; "kanji": year or None, month, day
    c: str | None
    be: bool                # Buddhist-era year
    hour: str
    minute: str
    second: str | None
    ampm: str | None
    body: str               # "author: text" or system text, continuation lines joined by "\n"


# --- layer 1: the file -> raw records -------------------------------------------------------

def iter_records(path: str | Path, limits: ParseLimits = DEFAULT_LIMITS) -> Iterator[HeaderRecord]:
    """Yield each message of a WhatsApp export (``.txt`` or ``.zip``) with its header fields.

    Raises
    ------
    DetectorError
        for an empty or binary file, a zip without a chat, text with no WhatsApp header
        (naming its first line), or a header shape this reader does not know.
    """
    path = Path(path)
    text, _ = chat_text(path, limits)
    yield from records_in_text(text, path)


def records_in_text(text: str, path: Path) -> Iterator[HeaderRecord]:
    """The messages of an export's decoded text (see :func:`iter_records`)."""
    yield from scan_text(text, path).records


class Scan(NamedTuple):
    """An export's messages, the header shape they share, and what the user should know."""

    shapes: list[shapes.Shape]
    records: list[HeaderRecord]
    notes: list[str]


def scan_text(text: str, path: Path) -> Scan:
    """Learn the header shape of an export's decoded text and split it into messages."""
    text = normalise(text)
    if not text.strip():
        raise DetectorError("empty file", path, 1, "expected a WhatsApp chat export (.txt or .zip)")
    learnt = shapes.learn_shape(text)
    if learnt is None:
        raise _not_a_chat(text, path)
    accepted, others = learnt
    records: list[HeaderRecord] = []
    pending: re.Match | None = None
    pending_line = line = 1
    pos = first = 0
    for match in shapes.headers(text, accepted):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        if pending is None:
            first = match.start()
        else:
            records.append(_record(pending, text, match.start() - 1, pending_line))
        pending, pending_line = match, line
    if pending is None:
        raise _not_a_chat(text, path)
    records.append(_record(pending, text, len(text), pending_line))
    notes = [] if len(accepted) == 1 else [
        f"the file mixes {len(accepted)} header shapes ({'; '.join(s.describe() for s in accepted)}): "
        "several exports put together, read as one chat"]
    return Scan(accepted, records, notes + _preamble_note(text[:first]) + _other_shapes_note(text, others, records[0].stamp))


def _record(m: re.Match, text: str, end: int, line: int) -> HeaderRecord:
    f = shapes.fields(m)
    stamp = text[m.start():m.end()].strip("\u200e[]-: ")
    return HeaderRecord(line, stamp, f.kind, f.a, f.b, f.c, f.be, f.hour, f.minute, f.second, f.ampm,
                        text[m.end():max(m.end(), end)])


def _preamble_note(preamble: str) -> list[str]:
    """A note for text before the first header (a page number and title, a cut-off message)."""
    kept = [(i + 1, ln.strip()) for i, ln in enumerate(preamble.split("\n")) if ln.strip()]
    if not kept:
        return []
    shown = " / ".join(ln[:40] for _, ln in kept[:3]) + (" / …" if len(kept) > 3 else "")
    return [f"lines {kept[0][0]}–{kept[-1][0]} come before the first message and are not messages "
            f"(a page header or the end of a message cut off by the export): {shown!r}"]


def _other_shapes_note(text: str, others: list[shapes.Shape], example: str) -> list[str]:
    """A note for lines shaped like another kind of header, read as message text."""
    notes = []
    for other in others:
        found = list(itertools.islice(shapes.headers(text, [other]), 1000))
        if found:
            line = text.count("\n", 0, found[0].start()) + 1
            shown = text[found[0].start():found[0].end()].strip()
            notes.append(f"{len(found)}{'+' if len(found) == 1000 else ''} lines shaped like another kind of "
                         f"header (e.g. line {line}: {shown[:40]!r}) are read as message text, a pasted or "
                         f"quoted message: this export's headers read like {example!r}")
    return notes


def _not_a_chat(text: str, path: Path) -> DetectorError:
    lines = [(i + 1, ln) for i, ln in enumerate(text.split("\n", 200)[:200]) if ln.strip()]
    for line, content in lines[:_SNIFF_PREAMBLE]:
        if _STAMP_LIKE.match(content):
            shown = content[:60].replace("\u200e", "")
            return DetectorError(f"unsupported date shape on line {line}: {shown!r}", path, line,
                                 "this reader knows " + EXAMPLE + ", their regional variants, month names and "
                                 "clock words in the languages of CLDR, and the time before the date")
    line, content = lines[0]
    shown = content[:60].replace("\u200e", "")
    return DetectorError(f"not a WhatsApp chat: line {line} reads {shown!r}", path, line, "expected " + EXAMPLE)


def normalise(text: str) -> str:
    """Line ends to LF, invisible marks (except U+200E) removed, NBSP/NNBSP to plain spaces."""
    return _SPACES.sub(" ", _MARKS.sub("", text.replace("\r\n", "\n")))


def chat_text(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> tuple[str, str | None]:
    """The decoded chat text of a ``.txt`` or WhatsApp ``.zip``, and the zip member it came from
    (within ``limits``: the file's size, the member's unpacked size and packing ratio)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                member = chat_member(archive)
                if member is None:
                    raise DetectorError("the zip holds no WhatsApp chat (.txt)", path, None,
                                        "expected '_chat.txt' or 'WhatsApp Chat with <name>.txt' inside")
                data = read_zip_member(archive, member, path, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
                zlib.error, OSError) as exc:
            raise DetectorError(f"not a readable zip archive ({exc.__class__.__name__}: {str(exc)[:120]})", path,
                                None, "export the chat again (a damaged, encrypted or unusually compressed zip)"
                                ) from None
        return _decode(data, path), member
    return _decode(read_bytes(path, limits), path), None


def _decode(data: bytes, path: Path) -> str:
    if looks_binary(data[:_HEAD_BYTES]):
        raise DetectorError("binary data, not a text chat export", path, 1, "expected a WhatsApp chat export (.txt or .zip)")
    return decode_text(data, path)


def chat_member(archive: zipfile.ZipFile) -> str | None:
    """The chat ``.txt`` inside a WhatsApp zip (media files and nested zips are ignored)."""
    texts = [n for n in archive.namelist()
             if n.lower().endswith(".txt") and not n.startswith("__MACOSX/") and not n.endswith("/")]
    for name in texts:
        if Path(name).name == _IOS_MEMBER:
            return name
    for name in texts:
        if _CHAT_FILE.search(Path(name).stem):
            return name
    return texts[0] if len(texts) == 1 else None


def chat_name(path: Path, member: str | None = None) -> str:
    """The chat's name from the export's file names ("WhatsApp Chat with X.txt" -> "X")."""
    candidates = [Path(member).stem] if member and Path(member).name != _IOS_MEMBER else []
    for candidate in candidates + [path.stem]:
        candidate = _SPACES.sub(" ", candidate)
        found = _CHAT_FILE.search(candidate)
        if found:
            prefix, name = candidate[found.start():found.start("name")], found.group("name")
            return (name.replace("_", " ") if "_" in prefix else name).strip()
    return _SPACES.sub(" ", path.stem)


def chat_key(name: str) -> str:
    """A stable key for a chat name: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


# --- layer 2: raw records -> posts rows -----------------------------------------------------

def to_rows(records: Iterable[HeaderRecord], *, chat_title: str, tz: str | None, dayfirst: bool | None,
            path: Path, anchor: Anchor | None = None) -> tuple[pd.DataFrame, dict]:
    """Map raw records onto the ``posts`` schema; return the rows and facts for ``Parsed.detail``.

    System lines and deleted messages are dropped and counted; media placeholders are kept.
    ``tz`` is the zone the phone wrote its times in (required); ``dayfirst`` settles a file
    whose dates read both ways (without it the file's chronology or conventions may);
    ``anchor`` dates back headers written without a year. ``detail["notes"]`` holds what the
    user should be told (date order or years inferred, calendars, dates flagged
    ``date_suspect``, whose header lines ``detail["date_suspect_lines"]`` lists).
    """
    records = list(records)
    columns = dict(zip(HeaderRecord._fields, zip(*records, strict=True), strict=True))
    zone = require_zone(tz, path, records[0].line, what="WhatsApp times are phone-local")
    authors, texts, kinds, edited = _split_bodies(columns["body"])
    keep = [i for i, kind in enumerate(kinds) if kind in ("post", "media")]
    messages = np.zeros(len(records), dtype=bool)
    messages[keep] = True
    naive, order, reason, notes, suspect_lines = local_times(columns, dayfirst, path, kind=records[0].kind,
                                                             anchor=anchor, messages=messages)

    posted_at = localize(naive, zone).iloc[keep].reset_index(drop=True)
    # A file of system lines only keeps no row (and ingest refuses it as empty).
    seconds = posted_at.to_numpy(dtype="datetime64[s]") if len(keep) else np.array([], dtype="datetime64[s]")
    iso = [t + "Z" for t in np.datetime_as_string(seconds, unit="s")]
    authors, texts = [authors[i] for i in keep], [texts[i] for i in keep]
    chat = chat_key(chat_title)
    urls = [extract_urls(t) for t in texts]
    target_of: dict[str, str] = {}   # campaigns repeat the same links: resolve each once
    # Object columns: conform() reads every value in Python anyway; arrow strings would add copies.
    text_columns = {
        "post_id": _post_ids(chat, iso, authors, texts),
        "source_ref": [str(columns["line"][i]) for i in keep],
        "platform": [PLATFORM] * len(keep), "chat": [chat] * len(keep), "chat_title": [chat_title] * len(keep),
        "message_id": [str(i + 1) for i in keep],
        "author": authors, "text": texts, "urls": urls,
        "targets": [[target_of.get(u) or target_of.setdefault(u, canonical_target(u)) for u in found]
                    for found in urls],
    }
    posts = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in text_columns.items()})
    posts["posted_at"] = posted_at

    detail = {
        "chat": chat_title, "date_order": order, "date_order_reason": reason,
        "messages": len(records), "posts": len(keep),
        "system_lines": kinds.count("system"), "deleted": kinds.count("deleted"),
        "media_messages": kinds.count("media"), "edited": sum(edited[i] for i in keep),
        "date_suspect_lines": suspect_lines, "notes": notes,
    }
    return conform(posts, "posts"), detail


def _post_ids(chat: str, iso: list[str], authors: list, texts: list[str]) -> list[str]:
    """Ids stable across exports: the same message (chat, UTC time, author, text) gets the same
    id; identical messages with the same time stamp are told apart by their occurrence number."""
    seen: dict[tuple, int] = {}
    ids = []
    for key in zip(iso, authors, texts, strict=True):
        n = seen[key] = seen.get(key, -1) + 1
        ids.append(f"{PLATFORM}:" + stable_id(chat, *key, n))
    return ids


def _split_bodies(raw_bodies: list[str]) -> tuple[list, list, list, list]:
    """Authors, clean texts, kinds and edited flags for raw bodies.

    A first line like ``John Doe:.`` (no space after the colon) is a message only when
    ``John Doe`` authors other messages in the file; otherwise such a line stays a system line.
    """
    parts = [body.partition("\n") for body in raw_bodies]
    split = [bodies.split_author(first) for first, _, _ in parts]
    known = {a for a, _ in split if a is not None}
    clean_authors: dict[str, str] = {}
    authors, texts, kinds, edited = [], [], [], []
    for (_, newline, more), (author, first) in zip(parts, split, strict=True):
        rest = newline + more
        if author is None and ":" in first:
            name, _, after = first.partition(":")
            if name in known:
                author, first = name, after
        kind = bodies.classify(first + rest, author is not None)
        text, was_edited = bodies.clean_text(first + rest)
        if author is not None:
            author = clean_authors.get(author) or clean_authors.setdefault(author, bodies.clean_author(author))
        authors.append(author)
        texts.append(text)
        kinds.append(kind)
        edited.append(was_edited)
    return authors, texts, kinds, edited


# --- layer 3: compose -----------------------------------------------------------------------

def read(path: str | Path, options: ReadOptions) -> Parsed:
    """Parse a WhatsApp export into ``posts`` rows (see the module docstring)."""
    path = Path(path)
    text, member = chat_text(path, options.limits)
    title = chat_name(path, member)
    scan = scan_text(text, path)
    frame, detail = to_rows(scan.records, chat_title=title, tz=options.tz, dayfirst=options.dayfirst,
                            path=path, anchor=export_anchor(path, member, options))
    detail.update(member=member, header_shape="; ".join(s.describe() for s in scan.shapes), notes=scan.notes + detail["notes"])
    return Parsed(kind=PLATFORM, frames={"posts": frame}, tz=options.tz, detail=detail)


def export_anchor(path: Path, member: str | None, options: ReadOptions) -> Anchor:
    """The day the chat was exported, or a later one, for headers written without a year: the
    folder's ``export_date`` setting, else the date the zip records for its chat, else the
    file's modification time (a copy may have a later one: the note says which was used)."""
    if options.export_date is not None:
        return Anchor(options.export_date, "export_date in detector-case.json")
    if member is not None:
        with zipfile.ZipFile(path) as archive:
            stamp = archive.getinfo(member).date_time
        return Anchor(date(*stamp[:3]), f"the date the zip records for {Path(member).name}")
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
    return Anchor(modified, "the file's modification time")


def sniff(path: Path, head: bytes) -> bool:
    """A zip holding a chat .txt, or text with a WhatsApp header among its first
    ``_SNIFF_PREAMBLE`` non-empty lines, at least two headers in its first lines (one in a file
    of at most three lines) and at least one message with an author in the head (so
    timestamped logs are not taken for chats)."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                member = chat_member(archive)
                if member is None:
                    return False
                if Path(member).name == _IOS_MEMBER or _CHAT_FILE.search(Path(member).stem):
                    return True
                with archive.open(member) as fh:
                    head = fh.read(_HEAD_BYTES)
        except (zipfile.BadZipFile, OSError):
            return False
    if looks_binary(head):
        return False
    lines = [line for line in normalise(decode_head(head)).split("\n") if line.strip()]
    if len(head) >= _HEAD_BYTES:
        lines = lines[:-1]   # the last line may be cut short
    text = "\n".join(lines)
    learnt = shapes.learn_shape(text)
    if learnt is None:
        return False
    starts = {m.start(): m for m in shapes.headers(text, learnt[0])}
    offsets = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    found = [(i, starts[offset]) for i, offset in enumerate(offsets[:-1]) if offset in starts]
    if not found or found[0][0] >= _SNIFF_PREAMBLE:
        return False
    within = sum(i < found[0][0] + _SNIFF_LINES for i, _ in found)
    enough = within >= 2 or (len(lines) <= 3 and len(head) < _HEAD_BYTES)
    authored = any(bodies.split_author(lines[i][m.end() - offsets[i]:])[0] for i, m in found)
    return enough and authored


FORMAT = Format(
    name="whatsapp",
    description="WhatsApp 'Export chat' .txt or .zip (Android and iOS; needs --tz)",
    sniff=sniff,
    read=read,
)
