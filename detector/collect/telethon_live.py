"""Live collection of public Telegram channels with Telethon: resumable, FloodWait-aware.

Three layers, each testable without Telegram's servers:

* :func:`message_to_row` maps one ``telethon.tl.types.Message`` onto a ``posts`` row (pure);
* :func:`collect_channel` is the async core. It talks to Telegram only through
  ``client.get_entity`` and ``client.iter_messages``, resumes after the last message id seen,
  sleeps through ``FloodWaitError`` and reports a private or missing channel as a
  :class:`ChannelUnavailable` problem instead of stopping the other channels;
* :func:`collect_channels` reads the credentials, resumes each channel from the last message id
  it is given, shows progress and hands each channel's rows, parsed, to a ``save`` callback.
  It never opens the case: :func:`detector.ingestion.collect_telegram` persists the rows and
  the resume state, like every other source, through the store.

Credentials come from the environment only (``TELEGRAM_API_ID``, ``TELEGRAM_API_HASH`` and
``TELEGRAM_SESSION`` or ``TELEGRAM_SESSION_FILE``). They are handed to the client and nowhere
else: never logged, printed, stored in the case, or put into an exception or a repr.

Rows use the same keys as Telegram Desktop exports (see ``telegram_common``): ``chat`` is
``tg<channel id>``, so a channel exported earlier and collected live now joins on ``chat`` and
``post_id``. The public username, which exports lack, is kept in the source's detail and is
the key of the resume state.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from telethon import errors
from telethon.tl.types import (
    Channel,
    Message,
    MessageEntityMention,
    MessageEntityTextUrl,
    MessageEntityUrl,
    PeerChannel,
    PeerChat,
    PeerUser,
)

from detector.collect.base import Parsed
from detector.collect.telegram_common import chat_key, post_id, urls_and_targets
from detector.errors import DetectorError
from detector.ids import canonical_target
from detector.schema import conform

log = logging.getLogger(__name__)

ENV_API_ID = "TELEGRAM_API_ID"
ENV_API_HASH = "TELEGRAM_API_HASH"
ENV_SESSION = "TELEGRAM_SESSION"
ENV_SESSION_FILE = "TELEGRAM_SESSION_FILE"
SESSION_HINT = (f"set {ENV_API_ID} and {ENV_API_HASH} (from my.telegram.org) and {ENV_SESSION} "
                f"(a logged-in Telethon StringSession string) or {ENV_SESSION_FILE} (a .session file)")
# Telethon pauses this long between history requests of 100 messages; it keeps long
# collections below the rate at which Telegram starts answering with FloodWait.
WAIT_TIME = 1.0
# Consecutive FloodWaits without a new message before a channel is given up for this run.
MAX_FLOOD_WAITS = 5

_MISSING = {
    errors.ChannelPrivateError: "the channel is private, or this account was banned from it",
    errors.ChannelInvalidError: "Telegram says this channel is invalid",
    errors.UsernameNotOccupiedError: "no channel has this username",
    errors.UsernameInvalidError: "not a valid Telegram username",
}


# -- credentials ---------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class Credentials:
    """API id, API hash and session, as the environment gave them. Its repr shows none of them."""

    api_id: int
    api_hash: str
    session: str | None = None
    session_file: Path | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def telethon_session(self):
        """The session object ``TelegramClient`` takes: a StringSession or a .session file path."""
        if self.session:
            from telethon.sessions import StringSession
            try:
                return StringSession(self.session)
            except Exception:   # binascii/ValueError messages may quote the string: say nothing of it
                raise DetectorError(f"{ENV_SESSION} is not a valid Telethon StringSession string",
                                    hint=SESSION_HINT) from None
        return str(self.session_file)


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials:
    """Read the credentials from ``environ`` (default ``os.environ``); name what is missing.

    Raises
    ------
    DetectorError
        naming the missing or malformed variables, never their values.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in (ENV_API_ID, ENV_API_HASH) if not env.get(name)]
    if not env.get(ENV_SESSION) and not env.get(ENV_SESSION_FILE):
        missing.append(f"{ENV_SESSION} or {ENV_SESSION_FILE}")
    if missing:
        raise DetectorError(f"Telegram credentials are missing from the environment: {', '.join(missing)}",
                            hint=SESSION_HINT)
    try:
        api_id = int(env[ENV_API_ID])
    except ValueError:
        raise DetectorError(f"{ENV_API_ID} must be a number", hint=SESSION_HINT) from None
    session_file = Path(env[ENV_SESSION_FILE]) if env.get(ENV_SESSION_FILE) else None
    if not env.get(ENV_SESSION) and session_file is not None and not session_file.is_file():
        raise DetectorError(f"{ENV_SESSION_FILE} names a file that does not exist", hint=SESSION_HINT)
    return Credentials(api_id, env[ENV_API_HASH], env.get(ENV_SESSION) or None, session_file)


# -- layer 1: one message -------------------------------------------------------------------

def _peer_key(peer) -> str | None:
    """The ``tg<id>`` key of a peer, the same form as ``chat``, so forward chains join onto chats."""
    for kind, attr in ((PeerChannel, "channel_id"), (PeerChat, "chat_id"), (PeerUser, "user_id")):
        if isinstance(peer, kind):
            return chat_key(getattr(peer, attr))
    return None


def message_to_row(msg: Message, channel_username: str | None, channel_title: str | None) -> dict[str, Any]:
    """One ``posts`` row (without ``source_id``) for a channel or group message.

    Entity offsets are UTF-16 code units; ``get_entities_text`` converts them, so a URL after
    an emoji is cut where it really starts. ``forwarded_from`` is the hidden sender's name when
    Telegram gives one, else the origin's ``tg<id>`` key, so a forward is never unmarked;
    ``author`` is the channel's title for channel posts (as exports write ``from``), else the
    sender's key, else the post signature.
    """
    chat = _peer_key(msg.peer_id) or f"tg@{(channel_username or '').lower()}"   # peer_id is always set by Telegram
    text = msg.message or ""
    entity_urls: list[str] = []
    mentions: list[str] = []
    for entity, inner in msg.get_entities_text():
        if isinstance(entity, MessageEntityUrl):
            entity_urls.append(inner)
        elif isinstance(entity, MessageEntityTextUrl) and entity.url:
            entity_urls.append(entity.url)
        elif isinstance(entity, MessageEntityMention):
            mentions.append(inner)
    urls, targets = urls_and_targets(text, entity_urls, mentions)
    fwd = msg.fwd_from
    fwd_id = _peer_key(fwd.from_id) if fwd else None
    if msg.post:
        author = channel_title or msg.post_author
    else:
        author = _peer_key(msg.from_id) or msg.post_author
    return {
        "post_id": post_id(chat, msg.id),
        "source_ref": str(msg.id),
        "platform": "telegram",
        "chat": chat,
        "chat_title": channel_title,
        "message_id": str(msg.id),
        "author": author,
        "posted_at": msg.date,
        "text": text,
        "urls": urls,
        "targets": targets,
        "forwarded_from": (fwd.from_name or fwd_id) if fwd else None,
        "forwarded_from_id": fwd_id,
        "forwarded_post": str(fwd.channel_post) if fwd and fwd.channel_post else None,
        "reply_to": str(msg.reply_to_msg_id) if msg.reply_to_msg_id else None,
        "views": msg.views,
        "forwards": msg.forwards,
        # the original's date: a late copy of an early call is dated by it (detector.features.reaction)
        "forwarded_at": fwd.date if fwd else None,
    }


# -- layer 2: one channel, through the narrowest seam ---------------------------------------

class ChannelUnavailable(Exception):
    """A channel that could not be collected (or not to the end), with what was collected before.

    ``reason`` is plain words for the report; ``rows`` and ``last_id`` let the caller keep the
    messages read before the failure.
    """

    def __init__(self, channel: str, reason: str, rows: list[dict] | None = None, last_id: int = 0):
        super().__init__(f"@{channel}: {reason}")
        self.channel = channel
        self.reason = reason
        self.rows = rows or []
        self.last_id = last_id


def channel_username(name: str) -> str | None:
    """``name``, ``@name``, ``t.me/name``, ``https://t.me/s/name/123`` -> ``name`` (lower case);
    None for invite links and anything that is not a public username."""
    raw = name.strip()
    if "/" not in raw:
        raw = "https://t.me/" + raw.lstrip("@")
    target = canonical_target(raw)
    prefix = "telegram:channel:"
    return target[len(prefix):] if target.startswith(prefix) else None


def _to_utc(when: datetime | date | str | None) -> datetime | None:
    """``--since`` as an aware UTC datetime; a date or a time without offset is read as UTC."""
    if when is None or when == "":
        return None
    try:
        stamp = pd.Timestamp(when)
    except ValueError:
        raise DetectorError(f"--since: expected a date like 2024-05-01, got {when!r}") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


async def collect_channel(client, channel: str, since: datetime | None, min_id: int,
                          on_progress: Callable[[str, int, int], None] | None = None, *,
                          sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                          wait_time: float = WAIT_TIME, stats: dict | None = None
                          ) -> tuple[list[dict], int]:
    """Collect the messages of ``channel`` after ``min_id`` (and not before ``since``).

    Uses only ``client.get_entity`` and ``client.iter_messages(reverse=True, min_id=…)``.
    A ``FloodWaitError`` is slept through with ``sleep(e.seconds)`` and iteration resumes after
    the last id seen, so nothing is lost or repeated. ``on_progress(channel, rows, last_id)``
    is called after each message. ``stats``, if given, receives the channel's id key, title,
    username and the service messages skipped and waits slept.

    Returns
    -------
    (rows, last_id) : the ``posts`` rows (oldest first) and the highest message id seen
        (``min_id`` when there was nothing new).

    Raises
    ------
    ChannelUnavailable
        when the channel is private, missing, not a channel, or Telegram refuses it; it carries
        the rows collected before the refusal.
    DetectorError
        when the session itself is no longer authorised (no channel could be collected).
    """
    stats = {} if stats is None else stats
    stats.setdefault("services_skipped", 0)
    stats.setdefault("flood_waits", [])
    try:
        entity = await client.get_entity(channel)
    except tuple(_MISSING) as exc:
        raise ChannelUnavailable(channel, _MISSING[type(exc)], [], min_id) from None
    except ValueError:   # "No user has … as username" / "Cannot find any entity corresponding to …"
        raise ChannelUnavailable(channel, "no channel or user has this name", [], min_id) from None
    except errors.UnauthorizedError:
        raise DetectorError("the Telegram session is not authorised any more", hint=SESSION_HINT) from None
    if not isinstance(entity, Channel):
        # iter_messages on a user would read this account's private chat with that user
        raise ChannelUnavailable(channel, "this name is a user account, not a public channel or group", [], min_id)
    title = entity.title
    stats.update(username=(entity.username or channel).lower(), title=title, chat=chat_key(entity.id))
    rows: list[dict] = []
    last_id = min_id
    idle_waits = 0
    while True:
        seen_before = last_id
        try:
            async for msg in client.iter_messages(entity, reverse=True, min_id=last_id, offset_date=since,
                                                  wait_time=wait_time):
                if msg.id <= last_id:
                    continue   # a resumed request may overlap the last page; never count a message twice
                last_id = msg.id
                if not isinstance(msg, Message):
                    stats["services_skipped"] += 1
                elif since is None or msg.date >= since:
                    rows.append(message_to_row(msg, channel, title))
                if on_progress:
                    on_progress(channel, len(rows), last_id)
            return rows, last_id
        except errors.FloodWaitError as exc:
            idle_waits = 0 if last_id > seen_before else idle_waits + 1
            if idle_waits > MAX_FLOOD_WAITS:
                raise ChannelUnavailable(channel, f"Telegram kept asking to wait ({exc.seconds} s); run again "
                                         "later to continue from the last message kept", rows, last_id) from None
            stats["flood_waits"].append(exc.seconds)
            log.info("FloodWait on @%s: sleeping %s s, then resuming after message %s", channel, exc.seconds,
                     last_id)
            await sleep(exc.seconds)
        except tuple(_MISSING) as exc:
            raise ChannelUnavailable(channel, _MISSING[type(exc)], rows, last_id) from None
        except errors.UnauthorizedError:
            raise DetectorError("the Telegram session is not authorised any more", hint=SESSION_HINT) from None
        except errors.RPCError as exc:
            raise ChannelUnavailable(channel, f"Telegram refused: {exc.__class__.__name__}", rows, last_id) from None


# -- layer 3: a collection run into the case ------------------------------------------------

@dataclass
class ChannelResult:
    """What one channel gave in one run."""

    channel: str
    chat: str | None = None
    title: str | None = None
    collected: int = 0
    added: int = 0
    first_id: int = 0          # the resume point this run started after
    last_id: int = 0
    problem: str | None = None


@dataclass
class CollectReport:
    channels: list[ChannelResult] = field(default_factory=list)

    @property
    def rows_added(self) -> int:
        return sum(c.added for c in self.channels)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(c.channel, c.problem) for c in self.channels if c.problem]


ClientFactory = Callable[[Credentials], AbstractAsyncContextManager]


@asynccontextmanager
async def telethon_client(credentials: Credentials) -> AsyncIterator[Any]:
    """A connected, authorised ``TelegramClient``; never prompts (no phone or code on a terminal)."""
    from telethon import TelegramClient

    client = TelegramClient(credentials.telethon_session(), credentials.api_id, credentials.api_hash)
    try:
        await client.connect()
    except OSError as exc:
        raise DetectorError(f"cannot reach Telegram ({exc.__class__.__name__})",
                            hint="check the network connection") from None
    try:
        if not await client.is_user_authorized():
            raise DetectorError("the Telegram session is not logged in", hint=SESSION_HINT)
        yield client
    finally:
        await client.disconnect()


def _posts_parsed(rows: list[dict], result: ChannelResult, since: datetime | None, stats: dict) -> Parsed:
    detail = {"channel": result.channel, "username": stats.get("username"), "chat": result.chat,
              "title": result.title, "since": since.isoformat() if since else None,
              "after_message_id": result.first_id, "last_message_id": result.last_id,
              "services_skipped": stats.get("services_skipped", 0), "flood_waits": stats.get("flood_waits", []),
              "problem": result.problem}
    return Parsed(kind="telethon", frames={"posts": conform(pd.DataFrame(rows), "posts")}, detail=detail)


async def _collect_all(client_cm: AbstractAsyncContextManager, channels: list[ChannelResult], since: datetime | None,
                       state: dict[str, int], save: Callable[[list[dict], ChannelResult, dict], None],
                       on_progress, sleep) -> None:
    async with client_cm as client:
        for result in (r for r in channels if not r.problem):
            stats: dict = {}
            result.first_id = state.get(result.channel, 0)
            try:
                rows, result.last_id = await collect_channel(client, result.channel, since, result.first_id,
                                                             on_progress, sleep=sleep, stats=stats)
            except ChannelUnavailable as exc:
                rows, result.last_id, result.problem = exc.rows, exc.last_id, exc.reason
            result.chat, result.title, result.collected = stats.get("chat"), stats.get("title"), len(rows)
            save(rows, result, stats)


class _Display:
    """A rich progress line per channel on stderr (or nothing when progress is off)."""

    def __init__(self, enabled: bool):
        self.progress = None
        self.tasks: dict[str, Any] = {}
        if enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=Console(stderr=True))

    def __enter__(self):
        if self.progress:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)

    def update(self, channel: str, rows: int, last_id: int) -> None:
        if not self.progress:
            return
        if channel not in self.tasks:
            self.tasks[channel] = self.progress.add_task("", total=None)
        self.progress.update(self.tasks[channel], description=f"@{channel}: {rows} messages (last id {last_id})")

    def done(self, result: ChannelResult) -> None:
        if not self.progress:
            return
        self.update(result.channel, result.collected, result.last_id)
        task = self.tasks[result.channel]
        note = f"problem: {result.problem}" if result.problem else f"{result.added} new"
        self.progress.update(task, description=f"@{result.channel}: {result.collected} messages, {note}",
                             total=1, completed=1)


def collect_channels(channels: Iterable[str], since: datetime | date | str | None, state: dict[str, int],
                     save: Callable[[Parsed | None, ChannelResult], int], client_factory: ClientFactory | None = None,
                     progress: bool = True, *, environ: Mapping[str, str] | None = None,
                     sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> CollectReport:
    """Collect public channels, each from the message id ``state`` gives it; parse only.

    ``channels`` are usernames, ``@names`` or ``t.me`` links. ``since`` bounds the first
    collection of a channel (later runs resume by message id). ``client_factory(credentials)``
    returns an async context manager yielding a connected client (default: Telethon's, from
    the environment's credentials). After each channel, ``save(parsed, result)`` receives its rows
    as a :class:`Parsed` of kind ``telethon`` (None when there are none) and returns how many were
    new; a channel that fails is reported in :attr:`CollectReport.problems` while the others
    are collected.
    """
    credentials = credentials_from_env(environ)
    since_utc = _to_utc(since)
    report = CollectReport()
    for name in dict.fromkeys(channels):
        username = channel_username(name)
        if username is None:
            report.channels.append(ChannelResult(channel=name, problem="not a public username or t.me link "
                                                 "(invite links cannot be collected without joining)"))
        elif username not in {r.channel for r in report.channels}:
            report.channels.append(ChannelResult(channel=username))
    factory = client_factory or telethon_client
    with _Display(progress) as display:

        def on_channel(rows: list[dict], result: ChannelResult, stats: dict) -> None:
            result.added = save(_posts_parsed(rows, result, since_utc, stats) if rows else None, result)
            display.done(result)

        asyncio.run(_collect_all(factory(credentials), report.channels, since_utc, state, on_channel,
                                 display.update, sleep))
    return report
