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

Speed: the file is read whole (bytes), repaired, then streamed with ijson's C backend
(yajl2_c) over ``messages.item``, or one chat at a time for account exports. Measured with
``bench/telegram_synthetic.py`` (~485 bytes a message, 40% with links): 10^6 messages
(485 MB) in 17.6 s of CPU, 2.4 GB peak memory; 10^5 in 1.7 s. Streaming won over the
alternatives: ``json.loads`` of the same bytes takes 10 s (6.8 s with GC paused) before any
row is built, and building the whole message list with ijson 15 s, against 3.2 s to stream it.
The limits at the door (:mod:`.limits`) scan the bytes for nesting depth first (ijson's memory
grows with the square of the depth) and check the rows after: on 10^5 messages the depth scan
took 0.7 s and the row checks 1.1 s, with the machine's load average at 10 to 13 (read: 33-50 s).
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, check_json_depth, read_bytes
from detector.collect.telegram_common import chat_key, post_id, urls_and_targets
from detector.errors import DetectorError
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


def _load_bytes(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> bytes:
    """The file as repaired UTF-8 JSON bytes; clear errors for empty, binary or UTF-16 junk, and
    for files over the size or nesting limits (deep nesting makes ijson's memory grow with the
    square of the depth: 200 KB of brackets reached 6.9 GB)."""
    data = read_bytes(path, limits)
    if not data.strip():
        raise DetectorError("empty file", path, None, EXPECTED)
    if looks_binary(data[:65536]):
        raise DetectorError("binary data, not JSON text", path, None, EXPECTED)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = decode_text(data, path).encode("utf-8")   # rare: files re-saved by an editor
    elif data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = repair(data)
    check_json_depth(data, path, limits)
    _check_surrogates(data, path)
    return data


# A lone UTF-16 surrogate written as an escape ("\ud800" not followed by a low half, or a low half
# alone) decodes to a string that cannot be stored or printed as UTF-8. Pairs (emoji escaped by an
# ASCII-only writer) are fine. A backslash before the escape ("\\ud800") is text, not an escape.
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _check_surrogates(data: bytes, path: Path) -> None:
    if b"\\ud" not in data and b"\\uD" not in data:
        return
    found = _LONE_SURROGATE.search(data)
    if found:
        raise DetectorError(f"a lone UTF-16 surrogate {found.group().decode()!r} in a string: not valid text",
                            path, data.count(b"\n", 0, found.start()) + 1, EXPECTED)


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


def _root_scan(data: bytes) -> tuple[str, dict[str, Any]]:
    """The export's shape ("chat" or "account") and the root's scalar keys seen before its messages.

    tdesktop writes ``name``, ``type`` and ``id`` before ``messages``, so scanning stops there
    and the messages themselves are left to the streaming pass. ``messages`` must be a list and
    ``chats`` an object holding a ``list``: anything else is not an export (it would read as an
    empty one).
    """
    scalars: dict[str, Any] = {}
    key = None
    events = ijson.parse(io.BytesIO(data), use_float=True)
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

    Raises
    ------
    DetectorError
        for an empty, binary, truncated or invalid file (naming the line where parsing
        stopped), for a file over ``limits``, and for JSON that is not a Telegram Desktop
        export (``messages`` or ``chats.list`` not lists, messages or chats not objects).
    """
    path = Path(path)
    data = _load_bytes(path, limits)
    try:
        try:
            shape, root = _root_scan(data)
        except _NotAnExport as exc:
            raise DetectorError(str(exc), path, _key_line(data, exc.key), EXPECTED) from None
        if shape == "chat":
            messages = ijson.items(io.BytesIO(data), "messages.item", use_float=True)
            yield from _records(_chat(root, path=path), messages, path)
            return
        for prefix, left in (("chats.list.item", False), ("left_chats.list.item", True)):
            if left and b'"left_chats"' not in data:
                break   # spares a second pass over a file that has no left chats
            for position, obj in enumerate(ijson.items(io.BytesIO(data), prefix, use_float=True), start=1):
                messages = obj.get("messages") if isinstance(obj, dict) else None
                if not isinstance(messages, list):
                    what = (f"has {_kind_of(messages)} for its messages" if isinstance(obj, dict)
                            else f"is {_kind_of(obj)}")
                    raise DetectorError(f"chat {position} of {prefix.split('.')[0]}.list {what}, not a list of "
                                        "messages", path, None, EXPECTED)
                yield from _records(_chat(obj, left, account=True, path=path), messages, path)
    except ijson.JSONError as exc:
        raise _parse_error(data, path, exc) from None


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


def to_rows(records: Iterable[Record], path: str | Path, tz: str | None = None,
            limits: ParseLimits = DEFAULT_LIMITS) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map raw records onto ``posts`` rows; return the frame and facts for the source's detail.

    Columns are built as lists (one append per field) rather than a dict per row, which keeps
    10^6 messages within seconds. ``tz`` applies only to messages without ``date_unixtime``;
    a ``date_unixtime`` outside the plausible range of ``limits`` is refused here, before it
    can overflow a conversion.
    """
    path = Path(path)
    first_epoch, last_epoch = limits.epoch_range()
    cols: dict[str, list] = {c: [] for c in (
        "post_id", "source_ref", "chat", "chat_title", "message_id", "author", "text", "urls",
        "targets", "forwarded_from", "reply_to")}
    epochs: list[int | None] = []
    local: list[str | None] = []
    local_at: list[int] = []
    first_local = ""
    chats: dict[str, dict[str, Any]] = {}
    skipped = {"service": 0, "unsupported": 0, "other": 0}
    without_id = 0
    for chat, message_id, message in records:
        facts = chats.get(chat.key)
        if facts is None:
            facts = chats[chat.key] = {"chat": chat.key, "title": chat.title, "type": chat.type,
                                       "left": chat.left, "account": chat.account, "messages": 0, "skipped": 0}
        kind = message.get("type", "message")
        if kind != "message":
            skipped[kind if kind in skipped else "other"] += 1
            facts["skipped"] += 1
            continue
        facts["messages"] += 1
        if "id" not in message:
            without_id += 1
        unixtime = message.get("date_unixtime")
        if unixtime not in (None, ""):
            try:
                epoch = int(unixtime)
            except (TypeError, ValueError, OverflowError):
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date_unixtime "
                                    f"{str(unixtime)[:40]!r} is not a number", path, None, EXPECTED) from None
            if not first_epoch <= epoch <= last_epoch:
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date_unixtime {epoch} is not a "
                                    "plausible date", path, None,
                                    f"expected a date from {limits.earliest} to {limits.future_days} day(s) from now "
                                    "(widen the range with --limit earliest=… if it is real)")
            epochs.append(epoch)
            local.append(None)
        elif message.get("date"):
            if not isinstance(message["date"], str):
                raise DetectorError(f"message {message_id} in chat {chat.title!r}: date is {_kind_of(message['date'])}"
                                    ", not a date", path, None, EXPECTED)
            if not local_at:
                first_local = (f"message {message_id} in chat {chat.title!r} has only a local 'date' "
                               "(no 'date_unixtime', as in exports before Telegram Desktop 3.7.6)")
            local_at.append(len(epochs))
            epochs.append(None)
            local.append(message["date"])
        else:
            raise DetectorError(f"message {message_id} in chat {chat.title!r} has no date", path, None, EXPECTED)
        try:
            text, entity_urls, mentions = flatten_text(message.get("text", message.get("text_entities")))
            author, reply_to, forwarded_from = _author(message), _reply_to(message), _scalar(message, "forwarded_from")
        except BadText as exc:
            raise DetectorError(f"message {message_id} in chat {chat.title!r}: {exc}", path, None, EXPECTED) from None
        urls, targets = urls_and_targets(text, entity_urls, mentions)
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
    frame = pd.DataFrame(cols)
    frame["platform"] = "telegram"
    frame["posted_at"] = _posted_at(epochs, local, local_at, tz, path, first_local)
    frame = conform(frame, "posts")
    duplicates = int(frame["post_id"].duplicated().sum())
    if duplicates:   # a chat listed twice (chats and left_chats), or overlapping hand-made lists
        frame = frame.drop_duplicates("post_id", keep="first").reset_index(drop=True)
    detail = {
        "chats": list(chats.values()),
        "messages": len(frame),
        "service_skipped": skipped["service"],
        "unsupported_skipped": skipped["unsupported"],
        "other_skipped": skipped["other"],
        "duplicates_dropped": duplicates,
        "local_dates": len(local_at),
        "messages_without_id": without_id,
    }
    return frame, detail


# -- layer 3: the format --------------------------------------------------------------------

@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsed JSON holds no reference cycles, yet a million new containers trigger repeated full
    collections that cost more than the parse itself; collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read(path: str | Path, options: ReadOptions | None = None) -> Parsed:
    """Parse a Telegram Desktop ``result.json`` into ``posts`` rows.

    ``options.tz`` is needed only when some message lacks ``date_unixtime``; without it such a
    file raises a :class:`DetectorError` naming the first such message and ``--tz``.
    """
    path = Path(path)
    options = options or ReadOptions()
    with _gc_paused():
        frame, detail = to_rows(iter_records(path, options.limits), path, options.tz, options.limits)
    in_account = [c.pop("account") for c in detail["chats"]]
    detail["export"] = "account" if any(in_account) else "chat"
    return Parsed(kind=FORMAT.name, frames={"posts": frame},
                  tz=options.tz if detail["local_dates"] else None, detail=detail)


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
)
