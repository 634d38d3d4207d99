"""Public Telegram channels without an account: the web preview at ``https://t.me/s/<channel>``.

Telegram serves a read-only preview of every public channel that allows it: about twenty posts
per page, newest last, and ``?before=<message id>`` for the page before. It needs no API id, no
phone number and no session, so no researcher's account can be banned for reading it. It shows
what a visitor sees: text with its links, date, views, forwarded-from, replies, the "edited"
mark, media kinds and the post signature. It does not show forward counts, a forward's
original date, or anything of a channel without a public preview; a forward from a public
channel links its original post, whose date :func:`date_forwards_web` reads off that channel's
preview (a late copy of an early call is dated by it).

Three layers, like every collector:

* :func:`parse_page` reads one page's HTML (lxml) into :class:`PreviewPage`: its messages as
  raw records, the ``before`` cursor and what the page is (pure; tested on real saved pages);
* :func:`record_to_row` maps one record onto a ``posts`` row with the same keys as Telegram
  Desktop exports and Telethon (``chat`` is ``tg<channel id>``, read from the page's
  ``data-view`` token; ``post_id`` ``telegram:tg<id>:<message id>``), so the same post
  collected three ways is stored once;
* :func:`collect_channel_web` pages back from the newest page to the last stored message id
  (or ``since``, or ``limit`` messages), through a :class:`PreviewClient` that waits
  politely between requests, honours 429 ``Retry-After`` and backs off on server errors.

Every page read is kept (:class:`FetchedPage`: URL, time, status, the raw bytes and their
SHA-256) so the case can store it, compressed, as the provenance of the posts taken from it.
A channel that has no public preview (``t.me/s/x`` redirects to ``t.me/x``, or the page holds
no message history) is reported as such, never as "no new posts".
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin, urlparse

import lxml.html
import pandas as pd
import requests

from detector.collect.base import Parsed
from detector.collect.telegram_common import chat_key, post_id, urls_and_targets
from detector.collect.telethon_live import (
    ChannelResult,
    ChannelUnavailable,
    CollectReport,
    _to_utc,
    channel_username,
)
from detector.schema import conform

log = logging.getLogger(__name__)

ENV_BASE_URL = "DETECTOR_TELEGRAM_WEB_URL"
DEFAULT_BASE_URL = "https://t.me"
# Honest and identifiable: who reads, and why, for Telegram's operators.
USER_AGENT = ("Mozilla/5.0 (compatible; mass-report-detector/0.1; public channel preview reader; "
              "+https://t.me/s/ pages only)")
# Seconds between two requests to the preview. Scrapers that read t.me/s at one request a second
# report 429s within minutes; two seconds keeps a channel of 2,000 posts to about three minutes.
DEFAULT_DELAY = 2.0
TIMEOUT = 30.0
MAX_ATTEMPTS = 5           # per page: the first try and four retries
BACKOFF_BASE = 2.0         # seconds before the first retry of a 5xx or a network error, doubling
BACKOFF_MAX = 120.0        # no single wait is longer, whatever Retry-After says
NO_PREVIEW = ("no public preview: t.me/s/{channel} shows no message history (the channel is private, "
              "has its preview turned off, is a user or group, or does not exist)")

_MEDIA_CLASSES = (   # class on the message -> media kind, in the order they are reported
    ("tgme_widget_message_photo_wrap", "photo"),
    ("tgme_widget_message_video_player", "video"),
    ("tgme_widget_message_roundvideo_player", "round_video"),
    ("tgme_widget_message_voice_player", "voice"),
    ("tgme_widget_message_audio_player", "audio"),
    ("tgme_widget_message_document_wrap", "document"),
    ("tgme_widget_message_poll", "poll"),
    ("tgme_widget_message_sticker_wrap", "sticker"),
    ("tgme_widget_message_location_wrap", "location"),
    ("tgme_widget_message_link_preview", "link_preview"),
)
_ENTITY_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
                "s": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
                "blockquote": "blockquote", "tg-spoiler": "spoiler"}


def _has_class(cls: str) -> str:
    """XPath predicate: the element's class list holds ``cls`` as a whole token."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')"


# -- layer 1: one page ---------------------------------------------------------------------

@dataclass
class PreviewPage:
    """What one preview page holds.

    ``kind`` is ``"history"`` (a channel's message list, possibly empty) or ``"no_preview"``
    (a ``tgme_page`` card or anything without a message history). ``before`` is the cursor of
    the previous page (None at the channel's start). ``records`` are oldest first.
    """

    kind: str
    records: list[dict] = field(default_factory=list)
    before: int | None = None
    title: str | None = None
    username: str | None = None


def parse_views(text: str | None) -> int | None:
    """``"44"`` -> 44, ``"1.2K"`` -> 1200, ``"3.1M"`` -> 3100000 (exactly: no float rounding)."""
    if text is None:
        return None
    raw = text.strip().replace(",", "").replace("\u00a0", "").upper()
    if not raw:
        return None
    scale = {"K": 1000, "M": 1_000_000, "B": 1_000_000_000}.get(raw[-1], 1)
    number = raw[:-1] if scale != 1 else raw
    try:
        return int(Decimal(number) * scale)
    except InvalidOperation:
        return None


def _chat_id_from_view(token: str | None) -> int | None:
    """The channel's bare id from a message's ``data-view`` (base64url JSON ``{"c": -<id>, …}``)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        chat = int(data["c"])
    except (ValueError, KeyError, TypeError):
        return None
    return abs(chat) if chat else None


def _collapse(text: str) -> str:
    """Whitespace as a browser shows it: Telegram writes line breaks as ``<br>``, so a raw newline
    (and the indentation a pretty-printer adds after it) is layout, not text."""
    if "\n" not in text and "\r" not in text and "\t" not in text:
        return text
    return " ".join(text.split()) if not text.strip() else _join_runs(text)


def _join_runs(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + " ".join(text.split()) + trail


def message_text(node) -> tuple[str, list[dict]]:
    """The text of a ``tgme_widget_message_text`` element (``<br>`` as line breaks, emoji as
    characters) and its entities: ``{"type", "text", "href"}`` for links, mentions, hashtags and
    formatting, in document order."""
    parts: list[str] = []
    entities: list[dict] = []

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "br":
            parts.append("\n")
            return
        start = len("".join(parts))
        slot = len(entities)
        entities.append(None)          # reserve the slot: entities stay in document order
        if el.text:
            parts.append(_collapse(el.text))
        for child in el:
            walk(child)
            if child.tail:
                parts.append(_collapse(child.tail))
        entities[slot] = _entity(el, tag, "".join(parts)[start:])

    if node.text:
        parts.append(_collapse(node.text))
    for child in node:
        walk(child)
        if child.tail:
            parts.append(_collapse(child.tail))
    lines = "".join(parts).split("\n")
    text = "\n".join(line.strip(" ") for line in lines).strip("\n ")
    return text, [e for e in entities if e is not None]


def _entity(el, tag: str, inner: str) -> dict | None:
    text = inner.strip()
    if tag == "a":
        href = el.get("href") or ""
        if href.startswith("?q=%23") or href.startswith("?q=#"):
            kind = "hashtag"
        elif href.startswith("?q=%24"):
            kind = "cashtag"
        elif text.startswith("@"):
            kind = "mention"
        elif text == href or text.rstrip("/") == href.rstrip("/"):
            kind = "url"
        else:
            kind = "text_link"
        return {"type": kind, "text": text, "href": href}
    if tag == "span" and "tg-spoiler" in (el.get("class") or ""):
        return {"type": "spoiler", "text": text, "href": None}
    if tag in _ENTITY_TAGS and not (tag == "i" and "emoji" in (el.get("class") or "")):
        if tag == "b" and el.getparent() is not None and "emoji" in (el.getparent().get("class") or ""):
            return None   # the <b> inside an emoji <i> holds the emoji character, not bold text
        return {"type": _ENTITY_TAGS[tag], "text": text, "href": None}
    return None


def _first(node, xpath: str):
    found = node.xpath(xpath)
    return found[0] if found else None


def _int_after_slash(href: str | None) -> int | None:
    if not href:
        return None
    tail = urlparse(href).path.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def parse_message(node, page_url: str) -> dict | None:
    """One ``tgme_widget_message`` element as a raw record (None when it has no ``data-post``)."""
    data_post = node.get("data-post") or ""
    channel, _, number = data_post.rpartition("/")
    if not channel or not number.isdigit():
        return None
    when = _first(node, f".//a[{_has_class('tgme_widget_message_date')}]//time/@datetime") or \
        _first(node, ".//time/@datetime")
    text_node = _first(node, f".//div[{_has_class('tgme_widget_message_text')}]"
                             f"[not(ancestor::a[{_has_class('tgme_widget_message_reply')}])]")
    text, entities = message_text(text_node) if text_node is not None else ("", [])
    meta = _first(node, f".//span[{_has_class('tgme_widget_message_meta')}]")
    meta_text = " ".join(meta.itertext()) if meta is not None else ""
    fwd = _first(node, f".//*[{_has_class('tgme_widget_message_forwarded_from_name')}]")
    reply = _first(node, f".//a[{_has_class('tgme_widget_message_reply')}]/@href")
    signature = _first(node, f".//span[{_has_class('tgme_widget_message_from_author')}]")
    classes = " ".join(node.xpath(".//@class"))
    media = [kind for cls, kind in _MEDIA_CLASSES if cls in classes]
    if not {"video", "round_video"} & set(media) and node.xpath(".//video"):
        media.insert(0, "video")   # a video shown inline, without the player link
    links = [urljoin(page_url, e["href"]) for e in entities if e["type"] in ("url", "text_link") and e["href"]]
    return {
        "channel": channel,
        "message_id": int(number),
        "chat_id": _chat_id_from_view(node.get("data-view")),
        "posted_at": datetime.fromisoformat(when) if when else None,
        "text": text,
        "entities": entities,
        "links": links,
        "mentions": [e["text"] for e in entities if e["type"] == "mention"],
        "views": parse_views(_first(node, f".//span[{_has_class('tgme_widget_message_views')}]/text()")),
        "edited": "edited" in meta_text.split(),
        "signature": " ".join(signature.itertext()).strip() if signature is not None else None,
        "forwarded_from": " ".join(" ".join(fwd.itertext()).split()) if fwd is not None else None,
        "forwarded_url": fwd.get("href") if fwd is not None else None,
        "reply_to": _int_after_slash(reply),
        "service": "service_message" in (node.get("class") or ""),
        "media": media,
    }


def parse_page(html: str | bytes, page_url: str = DEFAULT_BASE_URL + "/s/") -> PreviewPage:
    """Parse one preview page (or a fragment holding message elements)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return PreviewPage(kind="no_preview")
    tree = lxml.html.fromstring(html)
    history = tree.xpath(f"//section[{_has_class('tgme_channel_history')}]")
    messages = tree.xpath(f"//div[{_has_class('tgme_widget_message')}][@data-post]")
    if not history and not messages:
        return PreviewPage(kind="no_preview")
    records = [r for r in (parse_message(m, page_url) for m in messages) if r is not None]
    records.sort(key=lambda r: r["message_id"])
    before = _first(tree, f"//a[{_has_class('tme_messages_more')}][@data-before]/@data-before")
    title = _first(tree, f"//div[{_has_class('tgme_channel_info_header_title')}]")
    username = _first(tree, f"//div[{_has_class('tgme_channel_info_header_username')}]")
    return PreviewPage(
        kind="history", records=records,
        before=int(before) if before and before.isdigit() else None,
        title=" ".join(" ".join(title.itertext()).split()) if title is not None else None,
        username=" ".join(username.itertext()).strip().lstrip("@") if username is not None else None)


# -- layer 2: records onto the posts schema ------------------------------------------------

def record_to_row(record: dict, username: str, title: str | None) -> dict[str, Any]:
    """One ``posts`` row (without ``source_id``) for a preview record.

    ``chat`` is ``tg<id>`` when the page gave the channel's id (it always has, in every saved
    page we know), else ``tg@<username>``, the key Telethon falls back to. ``author`` is the
    channel's title, as exports and Telethon write channel posts. ``forwarded_from`` is the
    origin's shown name; its id is not on the page.
    """
    chat = chat_key(record["chat_id"]) if record.get("chat_id") else f"tg@{username.lower()}"
    urls, targets = urls_and_targets(record["text"], record["links"], record["mentions"])
    fwd_post = _int_after_slash(record.get("forwarded_url"))
    return {
        "post_id": post_id(chat, record["message_id"]),
        "source_ref": str(record["message_id"]),
        "platform": "telegram",
        "chat": chat,
        "chat_title": title,
        "message_id": str(record["message_id"]),
        "author": title or record.get("signature"),
        "posted_at": record["posted_at"],
        "text": record["text"],
        "urls": urls,
        "targets": targets,
        "forwarded_from": record.get("forwarded_from"),
        "forwarded_from_id": None,
        "forwarded_post": str(fwd_post) if record.get("forwarded_from") and fwd_post else None,
        "reply_to": str(record["reply_to"]) if record.get("reply_to") else None,
        "views": record.get("views"),
        "forwards": None,
        "forwarded_at": record.get("forwarded_at"),
    }


# -- layer 3: fetching, politely -----------------------------------------------------------

@dataclass
class FetchedPage:
    """One HTTP response of the preview, kept whole as provenance."""

    channel: str
    url: str
    status: int
    fetched_at: datetime
    body: bytes
    elapsed_s: float = 0.0
    location: str | None = None      # where a redirect pointed
    taken: list[int] = field(default_factory=list)   # ids of the posts taken from this page
    dated: list[int] = field(default_factory=list)   # ids of originals whose date a forward took from it

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class PreviewClient:
    """Reads preview pages with a polite delay, retries and backoff; injectable clock and sleep.

    ``delay`` seconds pass between the start of two requests. A 429 waits ``Retry-After``
    (seconds or an HTTP date; ``BACKOFF_BASE`` doubled per attempt when absent), a 5xx or a
    network error waits ``BACKOFF_BASE * 2**attempt``; each wait is capped at ``BACKOFF_MAX``
    and a page is given up after ``MAX_ATTEMPTS``. Redirects are not followed: a redirect away
    from ``/s/`` is how Telegram says a channel has no preview.
    """

    def __init__(self, base_url: str | None = None, *, delay: float = DEFAULT_DELAY,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep, now: Callable[[], datetime] | None = None,
                 environ: Mapping[str, str] | None = None, user_agent: str = USER_AGENT):
        env = environ if environ is not None else __import__("os").environ
        self.base_url = (base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
        self.delay = max(0.0, float(delay))
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": user_agent, "Accept": "text/html",
                                     "Accept-Language": "en"})
        self.clock, self.sleep = clock, sleep
        self.now = now or (lambda: datetime.now(UTC))
        self._last_start: float | None = None
        self.waits: list[float] = []     # every pause taken for politeness or backoff, for reports

    def url(self, channel: str, before: int | None = None) -> str:
        return f"{self.base_url}/s/{channel}" + (f"?before={before}" if before else "")

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.waits.append(seconds)
            self.sleep(seconds)

    def _polite(self) -> None:
        if self._last_start is not None:
            self._pause(self.delay - (self.clock() - self._last_start))
        self._last_start = self.clock()

    def fetch(self, channel: str, before: int | None = None) -> FetchedPage:
        """GET one page. Raises :class:`ChannelUnavailable` when Telegram keeps refusing."""
        url = self.url(channel, before)
        problem = "no answer"
        for attempt in range(MAX_ATTEMPTS):
            self._polite()
            started = self.clock()
            try:
                resp = self.session.get(url, timeout=TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                problem = f"network error ({exc.__class__.__name__})"
                self._pause(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt))
                continue
            page = FetchedPage(channel, url, resp.status_code, self.now(), resp.content, self.clock() - started,
                               resp.headers.get("Location"))
            if resp.status_code == 429:
                problem = "Telegram kept answering 429 Too Many Requests"
                self._pause(min(BACKOFF_MAX, _retry_after(resp.headers.get("Retry-After"), self.now())
                                or BACKOFF_BASE * 2 ** attempt))
                continue
            if resp.status_code >= 500:
                problem = f"Telegram kept answering {resp.status_code}"
                self._pause(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt))
                continue
            return page
        raise ChannelUnavailable(channel, f"{problem} after {MAX_ATTEMPTS} attempts; run again later")


def _retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _is_redirect_away(page: FetchedPage) -> bool:
    return 300 <= page.status < 400


#: Preview pages read per channel collected to date its forwards (one request each, made politely).
DATING_PAGES = 20


def forward_origin(url: str | None) -> tuple[str, int] | None:
    """(username, message id) of a forward's original when the preview links it as a public
    channel's post (``https://t.me/<name>/<id>``); None for a user, a private channel
    (``t.me/c/…``) or no link."""
    if not url:
        return None
    parts = [p for p in urlparse(url).path.split("/") if p]
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    name = channel_username(parts[0])
    return (name, int(parts[1])) if name else None


def date_forwards_web(client: PreviewClient, records: Iterable[dict], channel: str,
                      max_pages: int = DATING_PAGES, stats: dict | None = None) -> list[FetchedPage]:
    """Give the forwards among ``records`` their original's date, read off the origin's preview.

    The preview links a forward from a public channel to its original post but does not date it;
    the origin's page that holds the post does (``?before=<id + 1>`` ends at it, and holds about
    twenty posts, so forwards of nearby posts share a page). Originals in ``channel`` itself are
    dated from ``records``. At most ``max_pages`` pages are read; an origin without a public
    preview is given up at its first page. Sets ``record["forwarded_at"]`` where found and
    returns the pages read, each with the originals it dated in ``page.dated``.
    """
    stats = {} if stats is None else stats
    records = list(records)
    forwards = [(r, origin) for r in records if r.get("forwarded_from")
                and (origin := forward_origin(r.get("forwarded_url"))) is not None]
    wanted: dict[str, set[int]] = {}
    for _, (name, mid) in forwards:
        wanted.setdefault(name, set()).add(mid)
    known: dict[tuple[str, int], datetime] = {(channel, r["message_id"]): r["posted_at"] for r in records
                                              if r["posted_at"] is not None}
    pages: list[FetchedPage] = []
    for origin in sorted(wanted):
        missing = sorted((mid for mid in wanted[origin] if (origin, mid) not in known), reverse=True)
        while missing and len(pages) < max_pages:
            try:
                page = client.fetch(origin, missing[0] + 1)
            except ChannelUnavailable:
                break
            pages.append(page)
            parsed = parse_page(page.body, page.url) if page.status == 200 else None
            if parsed is None or parsed.kind == "no_preview":
                stats.setdefault("forwards_undatable", []).append(origin)
                break
            for rec in parsed.records:
                if rec["posted_at"] is not None:
                    known[(origin, rec["message_id"])] = rec["posted_at"]
            page.dated = [mid for mid in missing if (origin, mid) in known]
            # a deleted original is not on its page: give it up rather than read the page again
            missing = [mid for mid in missing[1:] if (origin, mid) not in known]
    dated = 0
    for r, origin in forwards:
        if origin in known:
            r["forwarded_at"] = known[origin]
            dated += 1
    stats["forwards_dated"] = stats.get("forwards_dated", 0) + dated
    return pages


def collect_channel_web(client: PreviewClient, channel: str, since: datetime | None = None, min_id: int = 0,
                        limit: int | None = None, max_pages: int | None = None,
                        stats: dict | None = None) -> tuple[list[dict], int, list[FetchedPage]]:
    """The posts of ``channel`` after message ``min_id`` (and not before ``since``), oldest first.

    Starts at the newest page and follows ``before`` until it reaches ``min_id``, ``since``,
    ``limit`` new messages (the newest are kept), ``max_pages`` pages, or the channel's start.
    Service messages ("channel created", "pinned …") are skipped but move the resume point.

    Returns
    -------
    (rows, last_id, pages) : ``posts`` rows, the highest message id seen (``min_id`` when there
        was nothing new) and every page fetched, each with the ids of the posts taken from it
        in ``page.taken``.

    Raises
    ------
    ChannelUnavailable
        when the channel has no public preview, or Telegram keeps refusing (with what was read).
    """
    stats = {} if stats is None else stats
    stats.setdefault("services_skipped", 0)
    stats.setdefault("media", {})
    pages: list[FetchedPage] = []
    records: dict[int, dict] = {}
    title = None
    last_id = min_id
    before = None
    while True:
        try:
            page = client.fetch(channel, before)
        except ChannelUnavailable as exc:
            exc.rows = _rows(records, channel, title, stats)
            exc.last_id = max([last_id, *records]) if records else last_id
            raise
        pages.append(page)
        if _is_redirect_away(page) or page.status == 404:
            raise ChannelUnavailable(channel, NO_PREVIEW.format(channel=channel) +
                                     (f"; it redirects to {page.location}" if _is_redirect_away(page) and page.location else ""))
        if page.status != 200:
            raise ChannelUnavailable(channel, f"t.me answered {page.status}", _rows(records, channel, title, stats),
                                     last_id)
        parsed = parse_page(page.body, page.url)
        if parsed.kind == "no_preview":
            raise ChannelUnavailable(channel, NO_PREVIEW.format(channel=channel))
        title = title or parsed.title
        stats.setdefault("username", parsed.username or channel)
        reached_old = False
        for record in reversed(parsed.records):          # newest first, so limit keeps the newest
            mid = record["message_id"]
            if mid <= min_id or (since is not None and record["posted_at"] is not None
                                 and record["posted_at"] < since):
                reached_old = True
                continue
            if mid in records or (limit is not None and len(records) >= limit):
                continue
            last_id = max(last_id, mid)
            if record["service"]:
                stats["services_skipped"] += 1
                continue
            records[mid] = record
            page.taken.append(mid)
        oldest = parsed.records[0]["message_id"] if parsed.records else None
        if (reached_old or oldest is None or parsed.before is None or (limit is not None and len(records) >= limit)
                or (max_pages is not None and len(pages) >= max_pages)):
            break
        before = min(parsed.before, oldest)
    if records:
        last_id = max(last_id, max(records))
    pages += date_forwards_web(client, records.values(), channel, stats=stats)
    return _rows(records, channel, title, stats), last_id, pages


def _rows(records: dict[int, dict], channel: str, title: str | None, stats: dict) -> list[dict]:
    rows = []
    for mid in sorted(records):
        record = records[mid]
        for kind in record["media"]:
            stats["media"][kind] = stats["media"].get(kind, 0) + 1
        rows.append(record_to_row(record, channel, title))
        stats.setdefault("chat", rows[-1]["chat"])
    stats.setdefault("title", title)
    return rows


# -- a collection run ------------------------------------------------------------------------

def _posts_parsed(rows: list[dict], result: ChannelResult, since: datetime | None, stats: dict,
                  pages: list[FetchedPage]) -> Parsed:
    detail = {"channel": result.channel, "username": stats.get("username"), "chat": result.chat,
              "title": result.title, "since": since.isoformat() if since else None,
              "after_message_id": result.first_id, "last_message_id": result.last_id,
              "services_skipped": stats.get("services_skipped", 0), "media": stats.get("media", {}),
              "pages": [{"url": p.url, "sha256": p.sha256, "status": p.status, "fetched_at": p.fetched_at.isoformat(),
                         "posts": len(p.taken)} for p in pages if p.taken],
              "forwards_dated": stats.get("forwards_dated", 0),
              "dating_pages": [{"url": p.url, "sha256": p.sha256, "status": p.status,
                                "fetched_at": p.fetched_at.isoformat(), "originals": p.dated} for p in pages if p.dated],
              "problem": result.problem, "via": "t.me/s web preview"}
    return Parsed(kind="telegram_web", frames={"posts": conform(pd.DataFrame(rows), "posts")}, detail=detail)


def collect_channels_web(channels: Iterable[str], since: datetime | str | None, state: dict[str, int],
                         save: Callable[[Parsed | None, ChannelResult, list[FetchedPage]], int],
                         client: PreviewClient | None = None, *, limit: int | None = None,
                         max_pages_new: int | None = None,
                         on_channel: Callable[[ChannelResult], None] | None = None) -> CollectReport:
    """Collect public channels from their web preview, each from the message id ``state`` gives it.

    ``save(parsed, result, pages)`` receives each channel's rows as a :class:`Parsed` of kind
    ``telegram_web`` (None when there are none) and the pages they came from, and returns how
    many rows were new. ``max_pages_new`` bounds how far back a channel with no state is read
    (``detector watch`` reads only the newest page of a channel it has never seen). A channel
    that fails is reported in :attr:`CollectReport.problems` while the others are collected.
    """
    since_utc = _to_utc(since)
    client = client or PreviewClient()
    report = CollectReport()
    for name in dict.fromkeys(channels):
        username = channel_username(name)
        if username is None:
            report.channels.append(ChannelResult(channel=name, problem="not a public username or t.me link "
                                                 "(invite links have no public preview)"))
        elif username not in {r.channel for r in report.channels}:
            report.channels.append(ChannelResult(channel=username))
    for result in (r for r in report.channels if not r.problem):
        stats: dict = {}
        result.first_id = state.get(result.channel, 0)
        pages: list[FetchedPage] = []
        try:
            rows, result.last_id, pages = collect_channel_web(
                client, result.channel, since_utc, result.first_id, limit,
                max_pages_new if result.first_id == 0 else None, stats)
        except ChannelUnavailable as exc:
            rows, result.last_id, result.problem = exc.rows, exc.last_id, exc.reason
        result.chat, result.title, result.collected = stats.get("chat"), stats.get("title"), len(rows)
        result.added = save(_posts_parsed(rows, result, since_utc, stats, pages) if rows else None, result,
                            [p for p in pages if p.taken or p.dated])
        if on_channel:
            on_channel(result)
    return report
