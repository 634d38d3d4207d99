"""Canonical target ids from URLs, and URL extraction from free text.

Every YouTube URL shape maps to one id:

=================================================  ==============================
URL                                                 canonical id
=================================================  ==============================
youtube.com/watch?v=ID, youtu.be/ID, /shorts/ID,    ``youtube:video:ID``
/live/ID, /embed/ID, /v/ID, m./music./www. hosts,
youtube-nocookie.com, tracking parameters
youtube.com/channel/UC…                             ``youtube:channel:UC…``
youtube.com/@name, /c/name, /user/name              ``youtube:handle:name`` (lower case)
t.me/name, t.me/s/name, t.me/name/123               ``telegram:channel:name`` (lower case)
anything else                                       ``url:<normalised url>``
=================================================  ==============================
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_YOUTUBE_HOSTS = {"youtube.com", "youtu.be", "youtube-nocookie.com"}
_TELEGRAM_HOSTS = {"t.me", "telegram.me", "telegram.dog"}
# Paths on t.me that are not channel names.
_TELEGRAM_RESERVED = {"joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv", "c",
                      "setlanguage", "login", "confirmphone", "invoice", "bg", "addtheme", "boost"}
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|si|feature|igshid|ref|ref_src|pp|ab_channel|"
                              r"embeds_\w+|source_ve_path|app|s|t|start|time_continue|list|index)$")

# URLs in text: with a scheme, or a bare known host. Defanged forms (hxxps://, youtube[.]com) too.
_URL_IN_TEXT = re.compile(
    r"(?:(?:https?|hxxps?)://|www\.|(?:m\.|music\.)?youtube(?:\[\.\]|\.)com/|youtu(?:\[\.\]|\.)be/|"
    r"t(?:\[\.\]|\.)me/)[^\s<>\"'«»“”‘’()\[\]{}（），。！？「」【】、]*"
    r"(?:\[\.\][^\s<>\"'«»“”‘’()\[\]{}（），。！？「」【】、]*)*",
    re.IGNORECASE)
_TRAILING = ".,;:!?…。，、！？)]}»”’'\""


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    for prefix in ("www.", "m.", "music.", "mobile.", "gaming."):
        if host.startswith(prefix):
            host = host[len(prefix):]
    return host


def _refang(url: str) -> str:
    url = url.strip().replace("[.]", ".").replace("(.)", ".")
    return re.sub(r"^hxxp", "http", url, flags=re.IGNORECASE)


def normalise_url(url: str) -> str:
    """A URL with scheme ``https``, lower-case host, no fragment and no tracking parameters."""
    url = _refang(url)
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "https://" + url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING_PARAMS.match(k.lower())]
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("https", parts.netloc.lower().removeprefix("www."), path, urlencode(query), ""))


def _youtube_target(host: str, path: str, query: dict[str, str]) -> str | None:
    segments = [unquote(s) for s in path.split("/") if s]
    if host == "youtu.be":
        if segments and _VIDEO_ID.match(segments[0]):
            return f"youtube:video:{segments[0]}"
        return None
    video = query.get("v") or query.get("vi")
    if segments and segments[0] in {"watch", "watch_popup"} and video and _VIDEO_ID.match(video):
        return f"youtube:video:{video}"
    if len(segments) >= 2 and segments[0] in {"shorts", "live", "embed", "v", "e", "vi"}:
        if _VIDEO_ID.match(segments[1]):
            return f"youtube:video:{segments[1]}"
    if video and _VIDEO_ID.match(video):  # /attribution_link?v=…, /oembed?… and other shapes
        return f"youtube:video:{video}"
    if len(segments) >= 2 and segments[0] == "channel" and _CHANNEL_ID.match(segments[1]):
        return f"youtube:channel:{segments[1]}"
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        return f"youtube:handle:{segments[0][1:].lower()}"
    if len(segments) >= 2 and segments[0] in {"c", "user"}:
        return f"youtube:handle:{segments[1].lower()}"
    return None


def _telegram_target(path: str) -> str | None:
    segments = [s for s in path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    if not segments:
        return None
    name = segments[0].lstrip("@")
    if name.lower() in _TELEGRAM_RESERVED or name.startswith("+"):
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9_]{3,31}$", name):
        return f"telegram:channel:{name.lower()}"
    return None


def canonical_target(url: str) -> str:
    """The canonical target id of a URL (see the module docstring); never raises on junk."""
    raw = _refang(str(url))
    if not re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
    except ValueError:
        return f"url:{raw}"
    host = _host(parts.netloc)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if host in _YOUTUBE_HOSTS:
        target = _youtube_target(host, parts.path, query)
        if target:
            return target
    if host in _TELEGRAM_HOSTS:
        target = _telegram_target(parts.path)
        if target:
            return target
    try:
        return f"url:{normalise_url(raw)}"
    except ValueError:
        return f"url:{raw}"


def target_url(target: str) -> str:
    """A browsable URL for a canonical target id (inverse of :func:`canonical_target`)."""
    kind, _, rest = target.partition(":")
    if kind == "youtube":
        sub, _, ident = rest.partition(":")
        return {"video": f"https://www.youtube.com/watch?v={ident}",
                "channel": f"https://www.youtube.com/channel/{ident}",
                "handle": f"https://www.youtube.com/@{ident}"}.get(sub, target)
    if kind == "telegram":
        return f"https://t.me/{rest.partition(':')[2]}"
    if kind == "url":
        return rest
    return target


def extract_urls(text: str) -> list[str]:
    """URLs found in free text, in order, de-duplicated, trailing punctuation stripped."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) > 8:
            seen.setdefault(url, None)
    return list(seen)


def is_target_id(value: str) -> bool:
    return bool(re.match(r"^(youtube:(video|channel|handle)|telegram:channel|url):.+", value or ""))
