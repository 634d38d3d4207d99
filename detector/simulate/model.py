"""The simulated world's objects, constants and small text helpers: parameters, chats, posts,
notices, the clock, the daily cycles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

SCENARIOS = ("campaign", "organic", "failed", "null", "mixed", "aftermath", "partial", "multichannel", "demo")
NOTICE_HEADER = ["notice_id", "platform", "received_at", "action", "policy", "target_url", "target_title",
                 "subject_url", "published_at", "sender", "reporter_id", "text"]
VIEWS_HEADER = ["video", "date", "views"]
OUR_FILES = ("notices.csv", "views.csv", "detector-case.json", "truth.json", "README.txt")
OUR_DIRS = ("telegram", "whatsapp")

HOUR = 3600
DAY = 86400
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ID_LAST = "AEIMQUYcgkosw048"   # the last of 11 characters carries only 4 bits
_SENDER = "YouTube <no-reply@youtube.com>"
_FILE_SKIPPED = "(File not included. Change data exporting settings to download.)"
_WA_ENCRYPTED = ("Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, "
                 "can read or listen to them. Tap to learn more.")
LRM = "\u200e"


@dataclass(frozen=True)
class SimParams:
    """Size and rates of a simulated case (keyword arguments of :func:`simulate_case`)."""

    n_videos: int = 200
    start: str = "2024-02-01"          # first local day of the case window
    days: int = 90
    tz: str = "Asia/Almaty"            # phone-local and export-machine zone
    first_upload: str = "2017-09-01"
    n_telegram: int = 5
    n_whatsapp: int = 3
    organic_rate: float = 2.5          # viewer complaints per day, whole channel
    automated_rate: float = 1.0        # automated notices per day
    automated_policy: str = "Violent criminal organizations"
    chatter_rate: float = 2.0          # ordinary posts per Telegram channel per day (WhatsApp: twice)
    link_share: float = 0.12           # share of ordinary posts that link one of the subject's videos
    views_videos: int = 400            # at most this many videos in views.csv (events' videos first)
    reporters: float = 35.0            # mean reporters in a campaign wave
    second_wave: bool | None = None    # None: decided by the seed
    suspension: bool | None = None     # None: decided by the seed
    channel_call: bool | None = None   # campaign: a call on the whole channel and a termination (None: seed)
    thanks_share: float = 0.04         # share of ordinary posts that thank people or report work done
    second_videos: int = 100           # multichannel: videos of the second channel


DEMO = {
    "n_videos": 11000, "start": "2025-01-01", "days": 196, "first_upload": "2017-05-01",
    "n_telegram": 7, "n_whatsapp": 5, "organic_rate": 6.0, "automated_rate": 2.0,
    "chatter_rate": 2.0, "views_videos": 260, "reporters": 55.0,
}


# --------------------------------------------------------------------------------------------
# model objects

@dataclass
class _Chat:
    platform: str                 # telegram | whatsapp
    title: str
    lang: str
    role: str                     # hostile | neutral | sympathetic
    key: str                      # tg<id> for Telegram, the group name for WhatsApp
    username: str = ""
    tg_id: int = 0
    os: str = ""                  # android | ios (WhatsApp)
    exported: bool = True         # False: the chat carries posts but is not in the collection
    members: list[str] = field(default_factory=list)
    first_msg_id: int = 1
    posts: list[_Post] = field(default_factory=list)


@dataclass
class _Post:
    t: int
    seq: int
    author: str
    parts: list                   # str | ("link", url) | ("text_link", text, url) | ("bold", s) | ("hashtag", s)
    kind: str                     # chatter, link, call, boast, alert, other_call, media, deleted, service, system,
    #                               thanks, news_quote, reaction
    lang: str = ""
    forwarded_from: str | None = None
    forwarded_at: int | None = None   # the original's time (what a live collection gives; exports do not)
    media: str | None = None      # photo | video | image | sticker | audio
    edited: int | None = None
    pin: _Post | None = None      # Telegram pin_message service: the pinned post
    system: str = ""              # WhatsApp system line text
    msg_id: int = 0               # Telegram id, assigned when written
    shown: str = ""               # WhatsApp local time as written, assigned when written
    shown_author: str = ""


@dataclass
class _Notice:
    t: int
    seq: int
    action: str
    policy: str                   # raw wording
    video: int | None             # index into videos; None = the channel ``channel``
    sender: str = _SENDER
    reporter: str = ""
    text: str = ""
    cause: str = "organic"        # organic | automated | campaign id | organic burst id
    filterable: bool = True       # dropped if the video is down at t (complaints, background)
    wave: int = 0                 # campaign wave the notice answers (0: none)
    channel: int = 0              # the channel a channel-level notice concerns (index into channels)


class _Clock:
    """The case window in UTC epoch seconds, with local (phone) time helpers."""

    def __init__(self, tz: str, start: str, days: int):
        self.zone = ZoneInfo(tz)
        self.start_date = date.fromisoformat(start)
        self.days = days
        self.t0 = self.at(0, 0)
        self.t1 = self.at(days, 0)
        self.hours = np.arange(self.t0, self.t1, HOUR, dtype=np.int64)
        local = [datetime.fromtimestamp(int(h), self.zone) for h in self.hours]
        self.hour_of_day = np.array([d.hour for d in local])
        self.weekday = np.array([d.weekday() for d in local])

    def at(self, day: float, hour: float) -> int:
        """Epoch of local ``start + day`` days at ``hour`` (fractional hours allowed)."""
        d = self.start_date + timedelta(days=int(day))
        base = datetime(d.year, d.month, d.day, tzinfo=self.zone)
        return int(base.timestamp()) + int(round((day - int(day)) * DAY + hour * HOUR))

    def local(self, t: int) -> datetime:
        return datetime.fromtimestamp(int(t), self.zone)

    def day_index(self, t: int) -> int:
        return (self.local(t).date() - self.start_date).days

    def hour(self, t: int) -> int:
        return self.local(t).hour


def _iso(t: int | float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _profile(peaks: list[tuple[float, float, float]], floor: float) -> np.ndarray:
    """A 24-value daily cycle: a floor plus Gaussian bumps (centre hour, width, height)."""
    h = np.arange(24, dtype=float)
    p = np.full(24, floor)
    for centre, width, height in peaks:
        d = np.minimum(np.abs(h - centre), 24 - np.abs(h - centre))
        p = p + height * np.exp(-0.5 * (d / width) ** 2)
    return p / p.mean()


_VIEWER_CYCLE = _profile([(21.0, 2.5, 1.0), (13.0, 3.0, 0.5)], 0.25)      # complaints, views
_CHAT_CYCLE = _profile([(20.0, 3.0, 1.0), (10.0, 2.5, 0.6)], 0.05)        # people posting
_CALL_HOURS = _profile([(21.0, 1.5, 1.0), (12.0, 2.0, 0.4)], 0.01)         # organisers posting calls
_WEEKLY = np.array([0.95, 0.95, 0.97, 1.0, 1.05, 1.2, 1.15])




# --------------------------------------------------------------------------------------------
# small pure helpers

def _id_tokens(url: str) -> list[str]:
    return re.findall(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{11}(?![A-Za-z0-9_-])", url)


def _video_target(url: str) -> str:
    return "youtube:video:" + _id_tokens(url)[-1]


def _merge_plain(parts: list) -> list:
    out: list = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
            else:
                out.append(part)
        else:
            out.append(part)
    return out


def _removal_text(title: str, policy: str, strike: str) -> str:
    tail = {"warning": " Because it's the first time, this is just a warning.",
            "strike": " Your channel has received a strike.", "": ""}[strike]
    return (f"Our team has reviewed your content, and, unfortunately, we think it violates our {policy} policy. "
            f"We've removed the following content from YouTube: Video: {title}.{tail}")


def _plain_text(parts: list, platform: str) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "text_link":
            out.append(part[2] if platform == "whatsapp" else part[1])
        else:
            out.append(part[1])
    return "".join(out)


