"""Telegram Desktop JSON exports (``result.json``): one chat, or a whole account's chats.

Layers: :func:`iter_records` streams the raw message objects with their chat;
:func:`to_rows` maps them onto the ``posts`` table; :func:`read` composes the two.

Decisions (see FORMATS.md §1 for the file itself):

* ``chat`` is ``tg<id>`` and the title goes to ``chat_title``: exports never carry the public
  username, and the live collector keys channels the same way (see ``telegram_common``).
* Every chat of an account export is ingested, personal chats and saved messages included;
  each chat's ``type`` is kept in the detail so the analysis can decide what counts.
* ``author`` is ``from`` (the sender's display name; the channel's title for channel posts),
  else the post signature ``author``, else ``from_id``, so deleted accounts keep an id.
* ``posted_at`` comes from ``date_unixtime`` (UTC). Exports before tdesktop 3.7.6 have only
  ``date``, the exporting machine's naive local time: those messages need ``--tz``.
* Service and ``unsupported`` messages are skipped and counted in the detail.
* ``reply_to`` is the replied message id; a reply across chats (``reply_to_peer_id``) is written
  ``<peer>:<id>`` so it never joins a message of this chat by mistake.
* Exports hold no view or forward counts and no forward source id: those columns stay empty.

Memory and speed: the file is streamed, never whole in memory. Blocks of 4 MiB are cut after a
newline, repaired (:func:`repair`), counted for nesting depth and searched for lone surrogates
before ijson's C backend (yajl2_c) parses them (:class:`_RepairedStream`), over ``messages.item``,
or one chat at a time for account exports. Rows are built in batches of :data:`BATCH_ROWS`
(:func:`stream`), which ingest checks and writes as they come, inside its one transaction; so
an ingest holds one batch, the post ids seen (to drop repeats) and, for an account export, its
largest chat. 10^6 messages (463 MB) peaked at 2.7 GB when the file and its rows were read
whole; see bench/RESULTS.md "Ingest throughput" for the streamed figure. ``json.loads`` of
the same bytes takes 10 s (6.8 s with GC paused) before any row is built, and building the
whole message list with ijson 15 s, against 3.2 s to stream it.
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import ijson
import numpy as np
import pandas as pd

from detector.collect.base import (
    Format,
    Parsed,
    ReadOptions,
    decode_head,
    decode_text,
    looks_binary,
    stable_id,
)
from detector.collect.limits import DEFAULT_LIMITS, JsonDepth, ParseLimits, check_size, too_deep
from detector.collect.telegram_common import chat_key, post_id, urls_and_targets
from detector.errors import DetectorError
from detector.gc_pause import gc_paused
from detector.schema import conform
from detector.timeutil import localize, require_zone

EXPECTED = "expected a complete Telegram Desktop export (result.json)"
_ROOT_SHAPES = ("messages", "chats", "left_chats")

# tdesktop writes control characters as \xNN, which JSON does not allow. Pairs of backslashes are
# consumed first so an escaped backslash followed by "x41" is left alone.
_BAD_ESCAPE = re.compile(rb"\\(\\|x(?=[0-9A-Fa-f]{2}))")
# tdesktop 4.1.x wrote custom-emoji document_id values (file paths) without quotes
# (tdesktop issues #24961, #24984); the value runs to the end of its line.
_BARE_DOCUMENT_ID = re.compile(rb'"document_id": ([^"\r\n][^\r\n]*?)(,?)(?=\r?\n)')
_JSON_LITERAL = re.compile(rb"^(-?\d+(\.\d+)?([eE][+-]?\d+)?|null|true|false)$")


@dataclass(frozen=True)
class Chat:
    """One chat of an export: its key, title, type and whether the user had left it."""

    key: str
    title: str | None
    type: str | None
    left: bool = False
    account: bool = False     # listed in an account export's chats or left_chats


class Record(NamedTuple):
    """A raw message object, its chat, and its id (the position in the chat when it has none)."""

    chat: Chat
    message_id: int | str
    message: dict[str, Any]


# -- reading and repairing the bytes --------------------------------------------------------

def _fix_escape(match: re.Match) -> bytes:
    return b"\\\\" if match.group(1) == b"\\" else b"\\u00"


def _quote_document_id(match: re.Match) -> bytes:
    value = match.group(1).rstrip()
    if _JSON_LITERAL.match(value) or value[:1] in (b"{", b"["):
        return match.group(0)
    quoted = json.dumps(value.decode("utf-8", errors="replace"), ensure_ascii=False).encode("utf-8")
    return b'"document_id": ' + quoted + match.group(2)


def repair(data: bytes) -> bytes:
    """Make tdesktop's output valid JSON: ``\\xNN`` escapes and unquoted ``document_id`` paths.

    Both repairs are skipped (no copy of the data) when their marker never occurs.
    """
    if b"\\x" in data:
        data = _BAD_ESCAPE.sub(_fix_escape, data)
    if b'"document_id": ' in data:
        data = _BARE_DOCUMENT_ID.sub(_quote_document_id, data)
    return data


_BLOCK = 4 * 2**20      # bytes read from the file at a time
_HEAD = 65536           # bytes looked at for binary junk, as every reader does


def _safe_cut(buf: bytes) -> int:
    """Where ``buf`` can be cut so that repairing and checking each side apart gives what doing it
    whole would (0: read more first).

    After a newline nothing straddles: the ``document_id`` repair runs to the end of its line, and
    an escape (``\\xNN``, ``\\\\``, a surrogate ``\\udXXX`` with its lookarounds) never spans a
    raw newline. A file without newlines (not tdesktop's, which indents) is cut before its last
    16 bytes with no backslash in the 12 bytes before the cut, unless a ``document_id`` waits for
    its line's end.
    """
    newline = buf.rfind(b"\n")
    if newline >= 0:
        return newline + 1
    if b'"document_id": ' in buf:
        return 0
    cut = len(buf) - 16
    while cut > 0 and b"\\" in buf[max(0, cut - 12):cut]:
        cut = buf.rfind(b"\\", max(0, cut - 12), cut)
    return max(cut, 0)


class _RepairedStream:
    """A file-like object (``read``) over an export's bytes, repaired and checked block by block.

    Each block is repaired (:func:`repair`), its nesting counted against ``max_json_depth`` and
    searched for lone surrogates before the parser sees it, so the file never sits whole in
    memory. ``saw_left_chats`` says whether a ``"left_chats"`` key went by.
    """

    def __init__(self, fh: BinaryIO, path: Path, limits: ParseLimits):
        self._chunks = self._repaired(fh, path, limits)
        self._buf = b""
        self._pos = 0
        self._tail = b""
        self.saw_left_chats = False

    def _repaired(self, fh: BinaryIO, path: Path, limits: ParseLimits) -> Iterator[bytes]:
        depth = JsonDepth()
        lines = 0
        pending = b""
        while True:
            block = fh.read(_BLOCK)
            buf = pending + block if pending else block
            cut = _safe_cut(buf) if block else len(buf)
            chunk, pending = buf[:cut], buf[cut:]
            if chunk:
                chunk = repair(chunk)
                if depth.feed(chunk) > limits.max_json_depth:
                    raise too_deep(path, limits)
                _check_surrogates(chunk, path, lines)
                lines += chunk.count(b"\n")
                if not self.saw_left_chats:   # the key may straddle two chunks
                    self.saw_left_chats = b'"left_chats"' in self._tail + chunk
                    self._tail = chunk[-16:]
                yield chunk
            if not block:
                return

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        while self._pos >= len(self._buf):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf, self._pos = chunk, 0
        end = len(self._buf) if size < 0 else self._pos + size
        out = self._buf[self._pos:end]
        self._pos += len(out)
        return out


@dataclass(frozen=True)
class _Export:
    """An export file that passed the checks at the door, opened as repaired JSON streams."""

    path: Path
    limits: ParseLimits
    utf16: bool = False
    skip: int = 0            # a UTF-8 byte order mark

    @classmethod
    def check(cls, path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> _Export:
        """Clear errors for empty, binary or oversized files, read from their head."""
        check_size(path, limits)
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
            if not head.strip() and not any(block.strip() for block in iter(lambda: fh.read(_BLOCK), b"")):
                raise DetectorError("empty file", path, None, EXPECTED)
        if looks_binary(head):
            raise DetectorError("binary data, not JSON text", path, None, EXPECTED)
        return cls(path, limits, utf16=head[:2] in (b"\xff\xfe", b"\xfe\xff"),
                   skip=3 if head.startswith(b"\xef\xbb\xbf") else 0)

    @contextmanager
    def open(self) -> Iterator[_RepairedStream]:
        """A fresh stream from the start of the file (deep nesting and lone surrogates refused
        as they pass: ijson's memory grows with the square of the depth, so the depth is
        counted before the parser sees a block)."""
        if self.utf16:   # rare: files re-saved by an editor; decoded whole
            raw: BinaryIO = io.BytesIO(decode_text(self.path.read_bytes(), self.path).encode("utf-8"))
        else:
            raw = open(self.path, "rb")
            raw.seek(self.skip)
        try:
            yield _RepairedStream(raw, self.path, self.limits)
        finally:
            raw.close()

    def whole(self) -> bytes:
        """The repaired bytes whole: for locating errors only."""
        data = self.path.read_bytes()
        if self.utf16:
            data = decode_text(data, self.path).encode("utf-8")
        return repair(data[self.skip:])


# A lone UTF-16 surrogate written as an escape ("\ud800" not followed by a low half, or a low half
# alone) decodes to a string that cannot be stored or printed as UTF-8. Pairs (emoji escaped by an
# ASCII-only writer) are fine. A backslash before the escape ("\\ud800") is text, not an escape.
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _check_surrogates(data: bytes, path: Path, lines_before: int = 0) -> None:
    if b"\\ud" not in data and b"\\uD" not in data:
        return
    found = _LONE_SURROGATE.search(data)
    if found:
        raise DetectorError(f"a lone UTF-16 surrogate {found.group().decode()!r} in a string: not valid text",
                            path, lines_before + data.count(b"\n", 0, found.start()) + 1, EXPECTED)


def _parse_error(data: bytes, path: Path, exc: Exception) -> DetectorError:
    """Locate where parsing stopped. yajl gives no position, so ask the stdlib parser (error path only)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            decode_text(data, path)
        except DetectorError as err:
            err.hint = EXPECTED
            return err
        text = data.decode("utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        return DetectorError(f"JSON parsing stopped at line {err.lineno}, column {err.colno}: {err.msg}",
                             path, err.lineno, EXPECTED)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DetectorError(f"not valid JSON: {first}", path, None, EXPECTED)


# -- layer 1: raw records -------------------------------------------------------------------

_KINDS = {"start_map": "an object", "start_array": "a list", "string": "a string", "number": "a number",
          "boolean": "true or false", "null": "null"}


class _NotAnExport(LookupError):
    """JSON whose shape is not a Telegram Desktop export; ``key`` is the key found at fault."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _root_scan(stream: _RepairedStream) -> tuple[str, dict[str, Any]]:
    """The export's shape ("chat" or "account") and the root's scalar keys seen before its messages.

    tdesktop writes ``name``, ``type`` and ``id`` before ``messages``, so scanning stops there
    and the messages themselves are left to the streaming pass. ``messages`` must be a list and
    ``chats`` an object holding a ``list``: anything else is not an export (it would read as an
    empty one).
    """
    scalars: dict[str, Any] = {}
    key = None
    events = ijson.parse(stream, use_float=True)
    for prefix, event, value in events:
        if prefix == "" and event == "start_array":
            raise _NotAnExport("JSON, but not a Telegram Desktop export: a list at the top level")
        if prefix == "" and event == "map_key":
            if value == "messages":
                kind = next(events)[1]
                if kind != "start_array":
                    raise _NotAnExport(f'"messages" is {_KINDS.get(kind, kind)}, not a list of messages', "messages")
                return "chat", scalars
            if value in ("chats", "left_chats"):
                _expect_chat_list(events, value)
                return "account", scalars
            key = value
        elif prefix == key and event in ("string", "number", "boolean", "null"):
            scalars[key] = value
    if "about" in scalars or "personal_information" in scalars:
        raise _NotAnExport("a Telegram Desktop account export without chats: tick the kinds of chats "
                           "to export (personal chats, groups, channels) in Telegram Desktop")
    raise _NotAnExport('JSON, but not a Telegram Desktop export: no "messages" list and no '
                       '"chats": {"list": …}')


def _expect_chat_list(events: Iterator[tuple[str, str, Any]], section: str) -> None:
    """Consume ``section``'s events up to its ``list``, which must be a list of chats."""
    first = next(events)[1]
    if first != "start_map":
        raise _NotAnExport(f'"{section}" is {_KINDS.get(first, first)}, not an object with a "list" of chats',
                           section)
    for prefix, event, value in events:
        if prefix == section and event == "map_key" and value == "list":
            kind = next(events)[1]
            if kind != "start_array":
                raise _NotAnExport(f'"{section}.list" is {_KINDS.get(kind, kind)}, not a list of chats', section)
            return
        if prefix == section and event == "end_map":
            break
    raise _NotAnExport(f'"{section}" has no "list" of chats', section)


def _key_line(data: bytes, key: str | None) -> int | None:
    """The line of the first ``"key":`` in the file (for errors about that key)."""
    if key is None:
        return None
    found = re.search(rb'"' + re.escape(key.encode()) + rb'"\s*:', data)
    return data.count(b"\n", 0, found.start()) + 1 if found else None


def _chat(obj: dict[str, Any], left: bool = False, account: bool = False, path: Path | None = None) -> Chat:
    title, chat_id = obj.get("name"), obj.get("id")
    if not isinstance(title, str | None) or isinstance(chat_id, bool) or not isinstance(chat_id, int | str | None):
        raise DetectorError(f"a chat's name or id is {_kind_of(title if not isinstance(title, str | None) else chat_id)}"
                            f", not text", path, None, EXPECTED)
    # Hand-made files (other tools' test fixtures) may lack the id: key on the title instead.
    key = chat_key(obj["id"]) if obj.get("id") is not None else "tg-" + stable_id("telegram", title)[:12]
    return Chat(key, title, obj.get("type") or None, left, account)


def _records(chat: Chat, messages: Iterable[Any], path: Path) -> Iterator[Record]:
    for position, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise DetectorError(f"message {position} of chat {chat.title!r} is {_kind_of(message)}, not a message "
                                "object", path, None, EXPECTED)
        message_id = message.get("id", position)
        if isinstance(message_id, bool) or not isinstance(message_id, int | str):
            raise DetectorError(f"message {position} of chat {chat.title!r} has an id that is {_kind_of(message_id)}",
                                path, None, EXPECTED)
        yield Record(chat, message_id, message)


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


def iter_records(path: str | Path, limits: ParseLimits = DEFAULT_LIMITS) -> Iterator[Record]:
    """Yield every message object of the export at ``path`` with its chat and message id.

    The file is streamed (:class:`_RepairedStream`): one message object at a time for a chat
    export, one chat at a time for an account export.

    Raises
    ------
    DetectorError
        for an empty, binary, truncated or invalid file (naming the line where parsing
        stopped), for a file over ``limits``, and for JSON that is not a Telegram Desktop
        export (``messages`` or ``chats.list`` not lists, messages or chats not objects).
    """
    path = Path(path)
    export = _Export.check(path, limits)
    try:
        with export.open() as stream:
            try:
                shape, root = _root_scan(stream)
            except _NotAnExport as exc:
                raise DetectorError(str(exc), path, _key_line(export.whole(), exc.key), EXPECTED) from None
        if shape == "chat":
            with export.open() as stream:
                messages = ijson.items(stream, "messages.item", use_float=True)
                yield from _records(_chat(root, path=path), messages, path)
            return
        has_left_chats = True
        for prefix, left in (("chats.list.item", False), ("left_chats.list.item", True)):
            if left and not has_left_chats:
                break   # spares a second pass over a file that has no left chats
            with export.open() as stream:
                for position, obj in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
                    messages = obj.get("messages") if isinstance(obj, dict) else None
                    if not isinstance(messages, list):
                        what = (f"has {_kind_of(messages)} for its messages" if isinstance(obj, dict)
                                else f"is {_kind_of(obj)}")
                        raise DetectorError(f"chat {position} of {prefix.split('.')[0]}.list {what}, not a list of "
                                            "messages", path, None, EXPECTED)
                    yield from _records(_chat(obj, left, account=True, path=path), messages, path)
                has_left_chats = stream.saw_left_chats
    except ijson.JSONError as exc:
        raise _parse_error(export.whole(), path, exc) from None


# -- layer 2: rows ---------------------------------------------------------------------------

class BadText(ValueError):
    """A message's ``text`` in a shape tdesktop never writes (a number, an object, a list of numbers)."""


def flatten_text(text: Any) -> tuple[str, list[str], list[str]]:
    """A message's ``text`` (str, or list of str and entity objects) as plain text, its entity URLs
    (``link`` text, ``text_link`` href) and its ``mention`` entities, by plain concatenation.

    Raises :class:`BadText` for any other shape: guessing at it would put made-up text in evidence.
    """
    if isinstance(text, str):
        return text, [], []
    if text is None:
        return "", [], []
    if not isinstance(text, list):
        raise BadText(f"its text is {_kind_of(text)}, not a string or a list of strings and entities")
    parts: list[str] = []
    urls: list[str] = []
    mentions: list[str] = []
    for part in text:
        if isinstance(part, str):
            parts.append(part)
            continue
        inner = part.get("text") if isinstance(part, dict) else None
        href = part.get("href") if isinstance(part, dict) else None
        if not isinstance(inner, str | None) or not isinstance(href, str | None) or not isinstance(part, dict):
            raise BadText(f"its text holds {_kind_of(part if not isinstance(part, dict) else inner)} where a string "
                          "or an entity object with text belongs")
        inner = inner or ""
        parts.append(inner)
        kind = part.get("type")
        if kind == "link":
            urls.append(inner)
        elif kind == "text_link" and href:
            urls.append(href)
        elif kind == "mention":
            mentions.append(inner)
    return "".join(parts), urls, mentions


def _scalar(message: dict[str, Any], key: str) -> str | None:
    """A field that must be text or a number, as text (None when absent or empty)."""
    value = message.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, dict | list):
        raise BadText(f"its {key!r} is {_kind_of(value)}, not text")
    return str(value)


def _author(message: dict[str, Any]) -> str | None:
    for key in ("from", "author", "from_id"):
        value = _scalar(message, key)
        if value is not None:
            return value
    return None


def _reply_to(message: dict[str, Any]) -> str | None:
    reply = _scalar(message, "reply_to_message_id")
    if reply is None:
        return None
    peer = _scalar(message, "reply_to_peer_id")
    return f"{peer}:{reply}" if peer else reply


def _posted_at(epochs: list[int | None], local: list[str | None], local_at: list[int],
               tz: str | None, path: Path, first_local: str) -> pd.Series:
    if not local_at:
        return pd.Series(pd.to_datetime(np.array(epochs, dtype="int64"), unit="s", utc=True))
    zone = require_zone(tz, path, None, first_local)
    posted = pd.Series(pd.to_datetime(pd.array(epochs, dtype="Int64"), unit="s", utc=True))
    naive = pd.Series([local[i] for i in local_at])
    try:
        posted.iloc[local_at] = localize(naive, zone).to_numpy()
    except (ValueError, TypeError) as exc:
        raise DetectorError(f"a message's date is not a date: {exc}", path, None, EXPECTED) from None
    return posted


_COLUMNS = ("post_id", "source_ref", "chat", "chat_title", "message_id", "author", "text", "urls", "targets",
            "forwarded_from", "reply_to")
BATCH_ROWS = 50_000     # messages per batch of rows: bounds the memory of a streamed ingest


class _RowBatches:
    """Raw records mapped onto ``posts`` rows, handed out in batches, with the facts of the file.

    Columns are built as lists (one append per field) rather than a dict per row, which keeps
    10^6 messages within seconds. A post id already handed out (a chat listed twice, or
    overlapping hand-made lists) is dropped from later rows, keeping the first, so batches of
    one file never repeat a key.
    """

    def __init__(self, path: Path, tz: str | None, limits: ParseLimits):
        self.path, self.tz = path, tz
        self.first_epoch, self.last_epoch = limits.epoch_range()
        self.limits = limits
        self.chats: dict[str, dict[str, Any]] = {}
        self.skipped = {"service": 0, "unsupported": 0, "other": 0}
        self.without_id = self.local_dates = self.messages = self.duplicates = 0
        self.first_local = ""
        self.seen: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self.cols: dict[str, list] = {c: [] for c in _COLUMNS}
        self.epochs: list[int | None] = []
        self.local: list[str | None] = []
        self.local_at: list[int] = []

    def __len__(self) -> int:
        return len(self.epochs)

    def add(self, chat: Chat, message_id: int | str, message: dict[str, Any]) -> None:
        path = self.path
        facts = self.chats.get(chat.key)
        if facts is None:
            facts = self.chats[chat.key] = {"chat": chat.key, "title": chat.title, "type": chat.type,
                                            "left": chat.left, "account": chat.account, "messages": 0, "skipped": 0}
        kind = message.get("type", "message")
        if kind != "message":
            self.skipped[kind if kind in self.skipped else "other"] += 1
            facts["skipped"] += 1
            return
        facts["messages"] += 1
        if "id" not in message:
            self.without_id += 1
        unixtime = message.get("date_unixtime")
        if unixtime not in (None, ""):
            try:
                epoch = int(unixtime)
            except (TypeError, ValueError, OverflowError):
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date_unixtime "
                                    f"{str(unixtime)[:40]!r} is not a number", path, None, EXPECTED) from None
            if not self.first_epoch <= epoch <= self.last_epoch:
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date_unixtime {epoch} is not a "
                                    "plausible date", path, None,
                                    f"expected a date from {self.limits.earliest} to {self.limits.future_days} "
                                    "day(s) from now (widen the range with --limit earliest=… if it is real)")
            self.epochs.append(epoch)
            self.local.append(None)
        elif message.get("date"):
            if not isinstance(message["date"], str):
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date is {_kind_of(message['date'])}"
                                    ", not a date", path, None, EXPECTED)
            if not self.local_dates:
                self.first_local = (f"message {message_id} in chat {chat.title!r} has only a local 'date' "
                                    "(no 'date_unixtime', as in exports before Telegram Desktop 3.7.6)")
            self.local_dates += 1
            self.local_at.append(len(self.epochs))
            self.epochs.append(None)
            self.local.append(message["date"])
        else:
            raise DetectorError(f"message {message_id} in chat {chat.title!r} has no date", path, None, EXPECTED)
        try:
            text, entity_urls, mentions = flatten_text(message.get("text", message.get("text_entities")))
            author, reply_to, forwarded_from = _author(message), _reply_to(message), _scalar(message, "forwarded_from")
        except BadText as exc:
            raise DetectorError(f"message {message_id} in chat {chat.title!r}: {exc}", path, None, EXPECTED) from None
        urls, targets = urls_and_targets(text, entity_urls, mentions)
        cols = self.cols
        cols["post_id"].append(post_id(chat.key, message_id))
        cols["source_ref"].append(str(message_id))
        cols["chat"].append(chat.key)
        cols["chat_title"].append(chat.title)
        cols["message_id"].append(str(message_id))
        cols["author"].append(author)
        cols["text"].append(text)
        cols["urls"].append(urls)
        cols["targets"].append(targets)
        cols["forwarded_from"].append(forwarded_from)
        cols["reply_to"].append(reply_to)

    def take(self) -> pd.DataFrame:
        """The rows added since the last batch, conformed to ``posts``, without repeated post ids."""
        frame = pd.DataFrame(self.cols)
        frame["platform"] = "telegram"
        frame["posted_at"] = _posted_at(self.epochs, self.local, self.local_at, self.tz, self.path, self.first_local)
        self._reset()
        frame = conform(frame, "posts")
        seen = self.seen
        fresh = [not (key in seen or seen.add(key)) for key in frame["post_id"].tolist()]
        if not all(fresh):
            self.duplicates += len(fresh) - sum(fresh)
            frame = frame[np.array(fresh)].reset_index(drop=True)
        self.messages += len(frame)
        return frame

    def detail(self) -> dict[str, Any]:
        return {
            "chats": list(self.chats.values()),
            "messages": self.messages,
            "service_skipped": self.skipped["service"],
            "unsupported_skipped": self.skipped["unsupported"],
            "other_skipped": self.skipped["other"],
            "duplicates_dropped": self.duplicates,
            "local_dates": self.local_dates,
            "messages_without_id": self.without_id,
        }


def row_batches(records: Iterable[Record], path: str | Path, tz: str | None = None,
                limits: ParseLimits = DEFAULT_LIMITS, batch_rows: int | None = None,
                ) -> Iterator[pd.DataFrame | dict[str, Any]]:
    """Map raw records onto ``posts`` rows, ``batch_rows`` messages at a time; the last item
    yielded is the dict of facts for the source's detail (after at least one frame).
    ``batch_rows`` defaults to :data:`BATCH_ROWS`.

    ``tz`` applies only to messages without ``date_unixtime``; a ``date_unixtime`` outside the
    plausible range of ``limits`` is refused here, before it can overflow a conversion.
    """
    rows = _RowBatches(Path(path), tz, limits)
    batch_rows = batch_rows or BATCH_ROWS
    for record in records:
        rows.add(*record)
        if len(rows) >= batch_rows:
            yield rows.take()
    if len(rows) or not rows.messages:
        yield rows.take()
    yield rows.detail()


def to_rows(records: Iterable[Record], path: str | Path, tz: str | None = None,
            limits: ParseLimits = DEFAULT_LIMITS) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map raw records onto ``posts`` rows; return the frame and facts for the source's detail."""
    *frames, detail = row_batches(records, path, tz, limits)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame, detail


# -- layer 3: the format --------------------------------------------------------------------

def stream(path: str | Path, options: ReadOptions | None = None,
           sink: Callable[[dict[str, pd.DataFrame]], None] = lambda frames: None,
           batch_rows: int | None = None) -> Parsed:
    """Parse a Telegram Desktop ``result.json`` in batches of at most ``batch_rows`` (default
    :data:`BATCH_ROWS`) ``posts`` rows, each handed to ``sink`` as ``{"posts": frame}`` as soon
    as it is built; return the file's facts (a :class:`Parsed` without frames).

    The file is never whole in memory (see :func:`iter_records`), nor are its rows: the memory
    an ingest needs is bounded by the batch, the post ids seen (to drop repeats) and the largest
    chat of an account export. ``options.tz`` is needed only when some message lacks
    ``date_unixtime``; without it such a file raises a :class:`DetectorError` naming the first
    such message and ``--tz``.
    """
    path = Path(path)
    options = options or ReadOptions()
    with gc_paused():
        for item in row_batches(iter_records(path, options.limits), path, options.tz, options.limits, batch_rows):
            if isinstance(item, dict):
                detail = item
            else:
                sink({"posts": item})
                # A batch's frames hold reference cycles; with collection paused they would
                # outlive it. The youngest generation is all this batch made: cheap to sweep.
                gc.collect(0)
    in_account = [c.pop("account") for c in detail["chats"]]
    detail["export"] = "account" if any(in_account) else "chat"
    return Parsed(kind=FORMAT.name, frames={}, tz=options.tz if detail["local_dates"] else None, detail=detail)


def read(path: str | Path, options: ReadOptions | None = None) -> Parsed:
    """Parse a Telegram Desktop ``result.json`` into ``posts`` rows, all at once (see :func:`stream`)."""
    frames: list[pd.DataFrame] = []
    parsed = stream(path, options, lambda batch: frames.append(batch["posts"]))
    parsed.frames = {"posts": frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)}
    return parsed


_SNIFF_CHAT = re.compile(r'"messages"\s*:\s*\[')
_SNIFF_MESSAGE = re.compile(r'"(date|date_unixtime|type)"\s*:')
# An account export starts with "about" (its wording is translated) and may omit any other section.
_SNIFF_ACCOUNT = re.compile(r'"chats"\s*:\s*\{[^{}]*"list"|"personal_information"\s*:|^\s*\{\s*"about"\s*:')


def sniff(path: Path, head: bytes) -> bool:
    if path.suffix.lower() != ".json" or looks_binary(head):
        return False
    text = decode_head(head)
    if _SNIFF_CHAT.search(text) and _SNIFF_MESSAGE.search(text):
        return True
    return bool(_SNIFF_ACCOUNT.search(text))


FORMAT = Format(
    name="telegram_json",
    description="Telegram Desktop JSON export (result.json): one chat or the whole account",
    sniff=sniff,
    read=read,
    stream=stream,
)
