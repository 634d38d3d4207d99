"""Synthetic cases with known truth: a subject channel, its notices, the chats around it.

``simulate_case(out_dir, seed, scenario)`` writes a folder that ``detector ingest DIR`` reads
with no flags, in the real formats (FORMATS.md): one Telegram Desktop ``result.json`` per
public channel, WhatsApp exports (Android ``.txt``, iOS ``.zip`` holding ``_chat.txt``), the
notices CSV template, views per day, ``detector-case.json`` (the zone of phone-local times),
``truth.json`` (what really happened) and ``README.txt``. ``detector-case.json`` also maps each
subject channel's ``@handle`` to its ``UC…`` id (``aliases``): the owner knows its own channel.

The model, in brief:

* **Subject**: one YouTube channel with ``n_videos`` testimony videos published over years;
  each video has a popularity that decays with age and a weekly cycle (views per day).
* **Background notices**: viewer complaints at ``organic_rate`` per day for the whole channel,
  following a daily and weekly cycle and each video's views, with an occasional removal; and
  an automated stream at ``automated_rate`` per day citing one policy over and over, more
  regular than Poisson (gamma gaps), with no burst.
* **Chats**: public Telegram channels and WhatsApp groups in English, Russian, Chinese, Kazakh
  and Uyghur, each with a role (hostile, neutral, sympathetic): chatter, media, links to news
  and to the subject's videos in every URL shape *without* asking anyone to report (praise,
  attack, discussion, "report" in the sense of a document), and unrelated calls (scams).
* **Events** (by scenario): ``campaign`` — an origin channel posts a call naming videos and a
  reason; other channels forward it or copy it with edits within hours; WhatsApp groups get
  pasted copies; a network of reporters (reused across waves) flags the named videos in
  sessions a few seconds apart, with lognormal lags after the call they saw; the platform
  removes a video after enough complaints plus a review delay (warning, then strikes); some
  named videos are never touched; sometimes a second wave and a channel suspension with
  reinstatement three days later; boasts after removals. ``organic`` — a few videos go viral,
  views jump, complaints follow the views and the videos are removed within two days, while
  chats link them in ordinary posts. ``failed`` — calls that nobody acts on. ``null`` —
  background only. ``mixed`` — all of these. ``aftermath`` — an organic removal wave (no call
  anywhere), then supporters ("removed after reports, appeal filed: <links>"), news and hostile
  channels name the removed videos while complaints keep trickling in. ``partial`` — a campaign
  whose origin calls sit in chats that were not exported; only some copies, some of them late,
  are in the collection. ``multichannel`` — one notices log for two channels: a campaign against
  one, organic notices (and perhaps a suspension) on the other. ``demo`` — the motivating
  incident (see :data:`DEMO`). In the ``campaign`` family some seeds add a call to report the
  whole channel (its ``@handle`` or ``/channel/UC…`` link), channel complaints and a
  termination.
* **Confounds in every family**: thanks and everyday status posts ("thanks for the support this
  week") in the same chats as calls and boasts, and news posts that quote a call (with its links)
  while asking nobody to report.

Determinism: every draw comes from one ``numpy.random.Generator(seed)`` in a fixed order;
nothing depends on the clock, the locale or set ordering, so the same seed writes the same
bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from detector import simulate_text as T
from detector.errors import DetectorError

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
# the case builder

class _Case:
    def __init__(self, seed: int, scenario: str, p: SimParams):
        self.seed = seed
        self.scenario = scenario
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.clock = _Clock(p.tz, p.start, p.days)
        self._seq = 0
        self.notices: list[_Notice] = []
        self.down: dict[int, list[list[int]]] = {}   # video -> [[from, until], …] (until may be t1+)
        self.suspensions: list[list[int]] = []       # [from, until, channel]
        self.suspension_causes: list[str] = []       # campaign id or "organic", one per suspension
        self.strikes: dict[int, int] = {}            # channel -> strikes so far
        self.linked: dict[int, None] = {}            # videos linked in any post (ordered)
        self.campaigns: list[dict] = []
        self.organic: list[dict] = []
        self.failed: list[dict] = []
        self.other_calls: list[_Post] = []
        self.reactions: list[dict] = []              # posts reacting to an organic removal wave
        self.quotes: list[dict] = []                 # news posts quoting a call
        self.hidden: list[_Chat] = []                # chats with calls that are not exported
        self.spike_views: dict[int, dict[int, float]] = {}
        self.used: dict[int, None] = {}              # event targets, never removed by background
        self._make_subject()
        self._make_chats()

    # ---- helpers -------------------------------------------------------------------------
    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def lognormal(self, median: float, sigma: float) -> float:
        return float(median * np.exp(sigma * self.rng.standard_normal()))

    def _rand_chars(self, n: int, alphabet: str = _ID_CHARS) -> str:
        return "".join(alphabet[i] for i in self.rng.integers(0, len(alphabet), n))

    def _hex(self, n: int) -> str:
        return "".join("0123456789abcdef"[i] for i in self.rng.integers(0, 16, n))

    def at_local_hour(self, day: int, cycle: np.ndarray) -> int:
        hour = int(self.rng.choice(24, p=cycle / cycle.sum()))
        return self.clock.at(day, hour + float(self.rng.random()))

    def thinned_after(self, t: int, median_h: float, sigma: float, cycle=_VIEWER_CYCLE) -> int:
        """A time after ``t`` with a lognormal lag, thinned by a daily cycle (people sleep)."""
        top = cycle.max()
        for _ in range(30):
            cand = t + int(self.lognormal(median_h, sigma) * HOUR) + 30
            if self.rng.random() < cycle[self.clock.hour(cand)] / top:
                return cand
        return cand

    # ---- subject and its videos ----------------------------------------------------------
    def _make_subject(self):
        p, rng = self.p, self.rng
        specs = [dict(T.SUBJECT, first_upload=p.first_upload, videos=p.n_videos)]
        if self.scenario == "multichannel":
            specs.append(dict(T.SECOND_SUBJECT, videos=p.second_videos))
        self.channels = []
        pubs, owner, offsets = [], [], []
        for k, spec in enumerate(specs):
            cid = "UC" + self._rand_chars(22)
            self.channels.append({"id": cid, "handle": spec["handle"], "title": spec["title"],
                                  "url": f"https://www.youtube.com/channel/{cid}", "videos": spec["videos"]})
            pubs.append(self._publication_times(spec["videos"], spec["first_upload"]))
            offsets.append(len(owner))
            owner += [k] * spec["videos"]
        self.channel_id = self.channels[0]["id"]
        self.handle = self.channels[0]["handle"]
        self.channel_title = self.channels[0]["title"]
        self.channel_url = self.channels[0]["url"]
        pub = np.concatenate(pubs)
        n = len(pub)
        self.n_total = n
        self.owner = np.array(owner, dtype=np.int64)
        self.published = pub
        ids: dict[str, None] = {}
        while len(ids) < n:
            ids.setdefault(self._rand_chars(10) + _ID_LAST[int(rng.integers(16))], None)
        self.video_ids = list(ids)
        self._vid_index = {vid: i for i, vid in enumerate(self.video_ids)}
        self.titles, self.witnesses = [], []
        for i in range(n):
            tmpl = self.pick(T.TITLE_TEMPLATES)
            name = self.pick(T.WITNESSES)
            number = i + 1 - offsets[owner[i]]
            self.witnesses.append(name)
            self.titles.append(tmpl.format(n=number, name=name,
                                           initial=chr(65 + int(rng.integers(26))), place=self.pick(T.PLACES)))
        self.popularity = np.exp(rng.normal(np.log(6.0), 1.2, n))
        # expected views per video per local day (before events), zero before publication
        day_starts = np.array([self.clock.at(d, 0) for d in range(p.days)], dtype=np.int64)
        age = (day_starts[None, :] - pub[:, None]) / DAY
        weekday = np.array([self.clock.local(int(t)).weekday() for t in day_starts])
        self.day_starts = day_starts
        self.expected = np.where(age > 0, self.popularity[:, None] * (1 + np.maximum(age, 0) / 60.0) ** -0.6, 0.0)
        self.expected *= _WEEKLY[weekday][None, :]

    def _publication_times(self, n: int, first_upload: str) -> np.ndarray:
        """Upload times of one channel's ``n`` videos: accelerating over the years (Beta(1.6, 1))."""
        first = self.clock.at(0, 0) + int((date.fromisoformat(first_upload) - self.clock.start_date).days) * DAY
        last = self.clock.t1 - 2 * DAY
        frac = np.sort(self.rng.beta(1.6, 1.0, n))
        pub = (first + frac * (last - first)).astype(np.int64)
        return pub - pub % 60 + self.rng.integers(0, 60, n)

    def video_url(self, v: int, shape: str | None = None) -> str:
        vid = self.video_ids[v]
        shapes = ("watch", "watch_shared", "youtu.be", "youtu.be_si", "shorts", "shorts_www", "mobile", "music",
                  "embed", "live", "timestamp", "ab_channel", "bare", "bare_short", "nocookie", "defanged")
        weights = np.array([14, 5, 10, 14, 4, 3, 6, 3, 2, 2, 3, 3, 3, 3, 1, 1], dtype=float)
        if shape is None:
            shape = shapes[int(self.rng.choice(len(shapes), p=weights / weights.sum()))]
        si = self._rand_chars(16)
        return {
            "watch": f"https://www.youtube.com/watch?v={vid}",
            "watch_shared": f"https://youtube.com/watch?v={vid}&feature=shared",
            "youtu.be": f"https://youtu.be/{vid}",
            "youtu.be_si": f"https://youtu.be/{vid}?si={si}",
            "shorts": f"https://youtube.com/shorts/{vid}?si={si}",
            "shorts_www": f"https://www.youtube.com/shorts/{vid}",
            "mobile": f"https://m.youtube.com/watch?v={vid}",
            "music": f"https://music.youtube.com/watch?v={vid}&feature=share",
            "embed": f"https://www.youtube.com/embed/{vid}",
            "live": f"https://www.youtube.com/live/{vid}?si={si}",
            "timestamp": f"https://www.youtube.com/watch?v={vid}&t={int(self.rng.integers(5, 900))}s",
            "ab_channel": f"https://www.youtube.com/watch?v={vid}&ab_channel="
                          f"{self.channels[int(self.owner[v])]['title'].replace(' ', '')}",
            "bare": f"youtube.com/watch?v={vid}",
            "bare_short": f"youtu.be/{vid}",
            "nocookie": f"https://www.youtube-nocookie.com/embed/{vid}",
            "defanged": f"youtube[.]com/watch?v={vid}",
        }[shape]

    def channel_link(self, ch: int = 0) -> str:
        """A link to channel ``ch``: its ``/channel/UC…`` URL or one of its ``@handle`` URLs."""
        c = self.channels[ch]
        return self.pick([c["url"], f"https://www.youtube.com/@{c['handle']}",
                          f"https://youtube.com/@{c['handle']}?si={self._rand_chars(16)}",
                          f"https://m.youtube.com/@{c['handle']}"])

    def target_id(self, v: int | None, ch: int = 0) -> str:
        """Canonical id of video ``v``, or of channel ``ch`` when ``v`` is None."""
        return f"youtube:channel:{self.channels[ch]['id']}" if v is None else f"youtube:video:{self.video_ids[v]}"

    def suspended(self, ch: int, t: int) -> bool:
        return any(a < t < b and c == ch for a, b, c in self.suspensions)

    def is_up(self, v: int, t: int) -> bool:
        if t < self.published[v]:
            return False
        for a, b in self.down.get(v, ()):
            if a < t < b:
                return False
        return not self.suspended(int(self.owner[v]), t)

    def popular_videos(self, k: int, before: int, exclude=(), owner: int = 0) -> list[int]:
        """``k`` distinct videos of channel ``owner`` published at least 30 days before ``before``."""
        ok = np.flatnonzero((self.published < before - 30 * DAY) & (self.owner == owner))
        ok = np.array([v for v in ok if v not in self.used and v not in exclude], dtype=np.int64)
        w = np.sqrt(self.popularity[ok])
        chosen = self.rng.choice(ok, size=min(k, len(ok)), replace=False, p=w / w.sum())
        return [int(v) for v in chosen]

    # ---- chats ---------------------------------------------------------------------------
    def _make_chats(self):
        p = self.p
        self.chats: list[_Chat] = []
        for spec in T.TELEGRAM_CHANNELS[: p.n_telegram]:
            self.chats.append(self._new_chat(dict(spec, platform="telegram")))
        for spec in T.WHATSAPP_GROUPS[: p.n_whatsapp]:
            self.chats.append(self._new_chat(dict(spec, platform="whatsapp")))

    def _new_chat(self, spec: dict, exported: bool = True) -> _Chat:
        """A Telegram channel or a WhatsApp group (with members); ``spec`` as in the text tables."""
        rng = self.rng
        if spec["platform"] == "telegram":
            tg_id = int(rng.integers(1_100_000_000, 2_300_000_000))
            return _Chat("telegram", spec["title"], spec["lang"], spec["role"], f"tg{tg_id}",
                         username=spec["username"], tg_id=tg_id, first_msg_id=int(rng.integers(150, 6000)),
                         exported=exported)
        chat = _Chat("whatsapp", spec["name"], spec["lang"], spec["role"], spec["name"], os=spec["os"],
                     exported=exported)
        langs = [spec["lang"], spec["lang"], "ru", "kk"]
        names: dict[str, None] = {}
        while len(names) < int(rng.integers(5, 10)):
            names.setdefault(self.pick(T.PEOPLE[self.pick(langs)]), None)
        for _ in range(2):
            digits = f"{int(rng.integers(100, 1000))} {int(rng.integers(10, 100))} {int(rng.integers(10, 100))}"
            number = f"{self.pick(T.PHONE_PREFIXES)} {digits}"
            names.setdefault(number.replace(" ", "\u00a0") if spec["os"] == "ios" else number, None)
        chat.members = list(names)
        return chat

    def chats_where(self, platform: str | None = None, role: str | None = None) -> list[_Chat]:
        return [c for c in self.chats if (platform is None or c.platform == platform)
                and (role is None or c.role == role)]

    def author_for(self, chat: _Chat) -> str:
        if chat.platform == "telegram":
            return chat.title
        return self.pick(chat.members)

    def post(self, chat: _Chat, t: int, parts: list, kind: str, **kw) -> _Post:
        p = _Post(t=int(t), seq=self.seq(), author=kw.pop("author", None) or self.author_for(chat),
                  parts=parts, kind=kind, lang=kw.pop("lang", chat.lang), **kw)
        for part in parts:
            if isinstance(part, tuple) and part[0] in ("link", "text_link"):
                self._note_link(part[-1])
        chat.posts.append(p)
        return p

    def _note_link(self, url: str):
        for v in self._link_index(url):
            self.linked.setdefault(v, None)

    def _link_index(self, url: str) -> list[int]:
        return [self._vid_index[tok] for tok in _id_tokens(url) if tok in self._vid_index]

    # ---- text rendering -------------------------------------------------------------------
    def render(self, template: str, lang: str, chat: _Chat, links: list[int] | None = None,
               policy: str | None = None, hidden_links: float = 0.0, shapes: list[str] | None = None,
               urls: list[str] | None = None, channel: int = 0, **extra) -> list:
        """Template → text parts; ``{links}`` becomes one link per video (newline-separated).

        ``urls`` gives the links directly (videos of other people); ``extra`` fills other
        placeholders (``source``, ``n``, …) with plain text or a part list.
        """
        values: dict[str, list] = {}
        if links is not None or urls is not None:
            if urls is None:
                urls = [self.video_url(v, shapes[i] if shapes else None) for i, v in enumerate(links)]
            link_parts: list = []
            for i, url in enumerate(urls):
                if i:
                    link_parts.append("\n" if "\n" in template or len(urls) > 2 else " ")
                if url.startswith("youtube[.]"):
                    link_parts.append(url)
                elif chat.platform == "telegram" and self.rng.random() < hidden_links:
                    word = self.pick(T.LINK_WORDS[lang]).format(i=i + 1)
                    link_parts.append(("text_link", word, url))
                else:
                    link_parts.append(("link", url))
            values["links"] = link_parts
            values["link"] = link_parts[:1]
        if links:
            values["name"] = [self.witnesses[links[0]]]
            values["backup"] = [("link", T.BACKUP_URL.format(n=links[0] + 1))]
        if policy is not None:
            values["policy"] = [T.REPORT_REASONS[lang][policy]]
        values["channel"] = [("link", self.channel_link(channel))]
        values["place"] = [self.pick(T.PLACES)]
        values["n"] = [f"{int(self.rng.integers(3, 12)) * 1000}"]
        for name, value in extra.items():
            values[name] = value if isinstance(value, list) else [str(value)]
        parts: list = []
        rest = template
        while "{" in rest:
            head, _, tail = rest.partition("{")
            name, _, rest = tail.partition("}")
            parts.append(head)
            parts.extend(values.get(name, ["{" + name + "}"]))
        parts.append(rest)
        return _merge_plain(parts)

    # ---- background notices -----------------------------------------------------------------
    def background_notices(self):
        p, rng, clock = self.p, self.rng, self.clock
        # viewer complaints: Poisson per hour with daily and weekly cycles, videos by views
        rate = p.organic_rate / 24 * _VIEWER_CYCLE[clock.hour_of_day] * _WEEKLY[clock.weekday]
        counts = rng.poisson(rate)
        times = np.repeat(clock.hours, counts) + rng.integers(0, HOUR, int(counts.sum()))
        reasons = ["harassment", "hate_speech", "misinformation", "spam", "graphic", "violent_extremism", "privacy"]
        weights = np.array([0.3, 0.22, 0.15, 0.12, 0.1, 0.08, 0.03])
        for t in times:
            v = self._video_by_views(int(t))
            if v is None:
                continue
            key = reasons[int(rng.choice(len(reasons), p=weights))]
            self.notices.append(_Notice(int(t), self.seq(), "complaint", T.COMPLAINT_REASONS[key], v,
                                        sender="", reporter="rep-" + self._hex(10)))
            # a small share of complaints ends in a removal (no strike: e.g. privacy or borderline)
            if rng.random() < 0.015 and v not in self.used:
                tr = int(t + self.lognormal(20, 0.8) * HOUR)
                if tr < clock.t1 and self.is_up(v, tr):
                    self.notices.append(_Notice(tr, self.seq(), "removed", T.POLICY_NAMES[key], v,
                                                text=_removal_text(self.titles[v], T.POLICY_NAMES[key], strike=""),
                                                filterable=False))
                    self.down.setdefault(v, []).append([tr, clock.t1 + DAY])
        # automated stream: gamma gaps (more regular than Poisson), one policy, no bursts
        if p.automated_rate > 0:
            mean_gap = DAY / p.automated_rate
            t = clock.t0 + rng.exponential(mean_gap)
            while t < clock.t1:
                v = self._video_by_views(int(t), flat=True)
                if v is not None:
                    r = rng.random()
                    action = "removed" if r < 0.05 and v not in self.used else ("restricted" if r < 0.55 else "warning")
                    text = {"removed": "Our automated systems removed your video \"{}\".",
                            "restricted": "Our automated systems age-restricted your video \"{}\".",
                            "warning": "Our automated systems flagged your video \"{}\" for review."}[action]
                    self.notices.append(_Notice(int(t), self.seq(), action, p.automated_policy, v,
                                                text=text.format(self.titles[v]), cause="automated",
                                                filterable=action != "removed"))
                    if action == "removed":
                        self.down.setdefault(v, []).append([int(t), clock.t1 + DAY])
                t += rng.gamma(6.0, mean_gap / 6.0)

    def _video_by_views(self, t: int, flat: bool = False) -> int | None:
        d = min(max(self.clock.day_index(t), 0), self.p.days - 1)
        w = self.expected[:, d]
        w = np.sqrt(w) if flat else w
        total = w.sum()
        if total <= 0:
            return None
        cum = np.cumsum(w)
        for _ in range(12):
            v = int(np.searchsorted(cum, self.rng.random() * total, side="right"))
            v = min(v, len(w) - 1)
            if self.is_up(v, t):
                return v
        return None

    # ---- chatter ---------------------------------------------------------------------------
    def chatter(self):
        p, rng, clock = self.p, self.rng, self.clock
        for chat in self.chats:
            rate = p.chatter_rate * (2.0 if chat.platform == "whatsapp" else 1.0)
            hourly = rate / 24 * _CHAT_CYCLE[clock.hour_of_day] * _WEEKLY[clock.weekday]
            counts = rng.poisson(hourly)
            times = np.repeat(clock.hours, counts) + rng.integers(0, HOUR, int(counts.sum()))
            if chat.platform == "whatsapp":
                first = int(clock.t0 - rng.integers(HOUR, 20 * DAY))   # the phone joined before the window
                self.post(chat, first, [], "system", author=chat.title, system=_WA_ENCRYPTED)
            for t in times:
                self._ordinary_post(chat, int(t))
            if chat.platform == "whatsapp":   # joins and leaves
                for t in np.sort(rng.uniform(clock.t0 + 6 * HOUR, clock.t1, rng.poisson(p.days / 20))):
                    who = self.pick(chat.members)
                    what = self.pick([f"{who} joined using this group's invite link", f"{who} left",
                                      f"{self.pick(chat.members)} added {who}"])
                    self.post(chat, int(t), [], "system", author=chat.title, system=what)
            elif rng.random() < 0.5:
                # an ordinary pinned post (calls get pinned too, see campaigns)
                pinned = [q for q in chat.posts if q.kind == "chatter" and q.parts]
                if pinned:
                    q = self.pick(pinned)
                    self.post(chat, q.t + int(rng.integers(60, 3 * HOUR)), [], "service", pin=q)

    def _ordinary_post(self, chat: _Chat, t: int):
        rng, lang = self.rng, chat.lang
        if rng.random() < 0.25:  # some posts in another language of the region
            lang = self.pick(["ru", "kk", "en"]) if chat.lang != "zh" else "zh"
        r = rng.random()
        if r < self.p.link_share:
            v = self._video_by_views(t)
            if v is None:
                return
            bank = {"hostile": [T.ATTACK, T.DISCUSSION], "neutral": [T.DISCUSSION, T.PRAISE, T.ATTACK],
                    "sympathetic": [T.PRAISE, T.PRAISE, T.DISCUSSION]}[chat.role]
            self.post(chat, t, self.render(self.pick(self.pick(bank)[lang]), lang, chat, links=[v]), "link", lang=lang)
        elif r < self.p.link_share + 0.02:
            self.post(chat, t, self.render(self.pick(T.NEWS[lang]), lang, chat), "link", lang=lang)
        elif r < self.p.link_share + 0.07:
            tmpl = self.pick(T.CONFOUNDERS[lang])
            parts = _merge_plain([tmpl.split("{link}")[0], ("link", self.pick(T.NEWS_URLS)), *tmpl.split("{link}")[1:]]) \
                if "{link}" in tmpl else [tmpl]
            self.post(chat, t, parts, "chatter", lang=lang)
        elif r < self.p.link_share + 0.15:
            url = self.pick(T.NEWS_URLS) if rng.random() < 0.6 else \
                self.pick(["https://youtu.be/", "https://www.youtube.com/watch?v="]) + self._rand_chars(10) + \
                _ID_LAST[int(rng.integers(16))]
            self.post(chat, t, _merge_plain([self.pick(T.CHATTER[lang]) + " ", ("link", url)]), "chatter", lang=lang)
        elif r < self.p.link_share + 0.16 and chat.role == "hostile":
            tmpl = self.pick(T.OTHER_CALLS[lang])
            head, _, tail = tmpl.partition("{link}")
            q = self.post(chat, t, _merge_plain([head, ("link", self.pick(T.SCAM_URLS)), tail]), "other_call", lang=lang)
            self.other_calls.append(q)
        elif r < self.p.link_share + 0.30:
            media = self.pick(["photo", "photo", "video"] if chat.platform == "telegram" else
                              ["image", "image", "video", "sticker", "audio"])
            caption = [self.pick(T.CHATTER[lang])] if rng.random() < 0.5 else []
            if chat.platform == "whatsapp":
                caption = []
            self.post(chat, t, caption, "media", lang=lang, media=media)
        elif r < self.p.link_share + 0.32 and chat.platform == "whatsapp":
            self.post(chat, t, [], "deleted", lang=lang)
        elif r >= 1.0 - self.p.thanks_share:
            self.thanks_post(chat, t, lang)
        else:
            text = self.pick(T.CHATTER[lang])
            if chat.platform == "whatsapp" and rng.random() < 0.08:
                text = text + "\n" + self.pick(T.CHATTER[lang])   # multi-line message
            parts = [text]
            if chat.platform == "telegram" and rng.random() < 0.15:
                parts = [("bold", text), "\n", ("hashtag", "#" + self.pick(["news", "Xinjiang", "Алматы", "新疆"]))]
            edited = t + int(rng.integers(60, 2 * HOUR)) if chat.platform == "telegram" and rng.random() < 0.05 else None
            self.post(chat, t, parts, "chatter", lang=lang, edited=edited)

    def thanks_post(self, chat: _Chat, t: int, lang: str | None = None) -> _Post:
        """Thanks or an everyday status post ("subtitles are done"): neither a boast nor a call."""
        lang = lang or chat.lang
        return self.post(chat, t, [self.pick(T.THANKS[lang])], "thanks", lang=lang)

    def thanks_around(self, t: int, chats: list[_Chat], k: int):
        """``k`` thanks posts in ``chats`` within a day after ``t`` (next to boasts and reactions)."""
        for _ in range(k):
            if chats:
                chat = self.pick(chats)
                self.thanks_post(chat, self.thinned_after(t, 6.0, 0.8, _CHAT_CYCLE))

    # ---- events ----------------------------------------------------------------------------
    def call_post(self, chat: _Chat, t: int, targets: list[int], policy: str, lang: str,
                  channel_too: bool = False, owner: int = 0) -> _Post:
        """A call naming ``targets``; ``channel_too`` adds a call on the whole channel ``owner``."""
        tmpl = self.pick(T.CALLS[lang])
        parts = self.render(tmpl, lang, chat, links=targets, policy=policy,
                            hidden_links=0.2 if chat.platform == "telegram" else 0.0)
        if channel_too:
            parts = _merge_plain(parts + ["\n\n"] + self.render(self.pick(T.CHANNEL_CALLS[lang]), lang, chat,
                                                                   policy=policy, channel=owner))
        return self.post(chat, t, parts, "call", lang=lang)

    def spread(self, origin: _Post, origin_chat: _Chat, targets: list[int], policy: str,
               copiers: list[_Chat], late=()) -> list[tuple[_Chat, _Post, str]]:
        """Forwards and edited copies of a call in other chats, within hours.

        Chats whose key is in ``late`` get their copy many hours later (often after the
        complaints have begun).
        """
        out = []
        for chat in copiers:
            r = self.rng.random()
            slow = self.thinned_after(origin.t, 9.0, 0.5, _CHAT_CYCLE) if chat.key in late else None
            if chat.platform == "telegram" and origin_chat.platform == "telegram" and r < 0.45:
                t = slow or origin.t + int(self.lognormal(0.4, 0.9) * HOUR) + 20
                q = self.post(chat, t, list(origin.parts), "call", lang=origin.lang,
                              forwarded_from=origin_chat.title, author=chat.title)
                out.append((chat, q, "forward"))
                continue
            median = 1.2 if chat.platform == "telegram" else 2.5
            t = slow or min(self.thinned_after(origin.t, median, 0.9, _CHAT_CYCLE), origin.t + 18 * HOUR)
            if r < 0.8:
                parts = self._edited_copy(origin, origin_chat, chat, targets)
                kind = "copy"
            else:
                parts = self.render(self.pick(T.CALLS[chat.lang]), chat.lang, chat, links=targets, policy=policy)
                kind = "rephrased"
            q = self.post(chat, t, parts, "call", lang=origin.lang if kind == "copy" else chat.lang)
            out.append((chat, q, kind))
        return out

    def _edited_copy(self, origin: _Post, origin_chat: _Chat, chat: _Chat, targets: list[int]) -> list:
        """Small edits: a prefix or suffix, other URL shapes for the same videos, a dropped link."""
        lang = origin.lang
        parts = []
        drop = int(self.rng.integers(len(targets))) if len(targets) > 3 and self.rng.random() < 0.3 else -1
        k = 0
        for part in origin.parts:
            if isinstance(part, tuple) and part[0] in ("link", "text_link"):
                vids = self._link_index(part[-1])
                if k == drop:
                    k += 1
                    continue
                k += 1
                if vids and self.rng.random() < 0.6:
                    url = self.video_url(vids[0])
                    if url.startswith("youtube[.]"):
                        parts.append(url)
                        continue
                    part = ("link", url)
                elif part[0] == "text_link" and chat.platform == "whatsapp":
                    part = ("link", part[2])
                parts.append(part)
            else:
                parts.append(part)
        if self.rng.random() < 0.6:
            parts = [self.pick(T.COPY_PREFIXES[lang]) + " "] + parts
        if self.rng.random() < 0.5:
            parts = parts + [" " + self.pick(T.COPY_SUFFIXES[lang])]
        if chat.platform == "whatsapp" and self.rng.random() < 0.25:
            parts = [f"[Forwarded from {origin_chat.title}]\n"] + parts
        return _merge_plain(parts)

    def campaign(self, cid: str, waves: list[dict], suspension: bool, requested: str, cited: str,
                 owner: int = 0):
        """One campaign against channel ``owner``.

        ``waves`` = [{"t", "origin", "n", "hit", "repeat", "channel_too", "remove_p", "copiers",
        "late", "observed_weight"}, …]; ``copiers`` (optional) are the chats that copy the call,
        ``late`` the keys of those whose copy comes many hours later, ``observed_weight`` how
        often reporters saw an exported copy rather than an unexported one.
        """
        rng, clock = self.rng, self.clock
        network = ["rep-" + self._hex(10) for _ in range(int(self.p.reporters * 2.5))]
        channel_target = self.target_id(None, owner)
        truth = {"id": cid, "channel": channel_target, "targets": [], "hit_targets": [], "removed_targets": [],
                 "calls": [], "call_ids": [], "chats": [], "start": None, "end": None, "requested_policy": requested,
                 "requested_policy_raw": T.COMPLAINT_REASONS[requested], "cited_policy": cited,
                 "cited_policy_raw": T.POLICY_NAMES[cited], "waves": [], "suspension": None, "boasts": [],
                 "reporters": 0}
        untouched: list[int] = []
        last_notice = 0
        all_reporters: dict[str, None] = {}
        call_refs = []
        removals_all: list[tuple[int, int]] = []
        channel_times: list[int] = []
        for w_i, wave in enumerate(waves, start=1):
            origin_chat = wave["origin"]
            t_call = wave["t"]
            channel_too = bool(wave.get("channel_too"))
            targets = self.popular_videos(wave["n"], t_call, owner=owner)
            targets = targets + [v for v in untouched[: wave.get("repeat", 0)]]
            for v in targets:
                self.used.setdefault(v, None)
            n_hit = min(wave["hit"], len(targets))
            hit = [targets[int(i)] for i in np.sort(rng.choice(len(targets), n_hit, replace=False))]
            untouched = [v for v in targets if v not in hit]
            lang = wave.get("lang", origin_chat.lang)
            origin = self.call_post(origin_chat, t_call, targets, requested, lang, channel_too=channel_too,
                                    owner=owner)
            if origin_chat.platform == "telegram" and rng.random() < 0.6:
                self.post(origin_chat, t_call + int(rng.integers(30, 600)), [], "service", pin=origin)
            if "copiers" in wave:
                copiers = wave["copiers"]
            else:
                copiers = [c for c in self.chats if c is not origin_chat and
                           (c.role == "hostile" or (c.role == "neutral" and rng.random() < 0.5))]
            copies = self.spread(origin, origin_chat, targets, requested, copiers, late=wave.get("late", ()))
            posts = [(origin_chat, origin, "origin")] + copies
            call_refs.extend(posts)
            # reporters: sessions after the call they saw, a few seconds to minutes between targets
            n_rep = max(int(rng.poisson(self.p.reporters)), 8)
            reused = [network[int(i)] for i in rng.choice(len(network), n_rep, replace=False)]
            seen_weights = np.array([3.0] + [wave.get("observed_weight", 1.0) if c.exported else 2.0
                                             for c, _, _ in copies])
            complaints: dict[int, list[int]] = {v: [] for v in hit}
            wave_channel: list[int] = []
            for r_id in reused:
                _, seen, _ = posts[int(rng.choice(len(posts), p=seen_weights / seen_weights.sum()))]
                t = self.thinned_after(seen.t, 3.0, 1.1)
                order = [hit[int(i)] for i in rng.permutation(len(hit))]
                for v in order:
                    if rng.random() < 0.75:
                        reason = requested if rng.random() < 0.85 else self.pick(["hate_speech", "spam", "graphic"])
                        self.notices.append(_Notice(t, self.seq(), "complaint", T.COMPLAINT_REASONS[reason], v,
                                                    sender="", reporter=r_id, cause=cid, wave=w_i))
                        complaints[v].append(t)
                        all_reporters.setdefault(r_id, None)
                    t += int(rng.integers(8, 150))
                if channel_too and rng.random() < 0.6:
                    # the channel itself, reported from its About page after the videos
                    self.notices.append(_Notice(t, self.seq(), "complaint", T.COMPLAINT_REASONS[requested], None,
                                                sender="", reporter=r_id, cause=cid, wave=w_i, channel=owner))
                    wave_channel.append(t)
                    all_reporters.setdefault(r_id, None)
            channel_times.extend(wave_channel)
            removals = []
            for v in hit:
                times = sorted(complaints[v])
                k = int(rng.integers(4, 11))
                if len(times) >= k and rng.random() < wave.get("remove_p", 0.85):
                    tr = times[k - 1] + int(self.lognormal(6.0, 0.8) * HOUR)
                    removals.append((tr, v))
            removals.sort()
            for tr, v in removals:
                self._enforce(v, tr, cited, cid, w_i)
                last_notice = max(last_notice, tr)
            removals_all.extend(removals)
            if removals:
                tr, v = removals[0]
                tb = tr + int(self.lognormal(2.0, 0.8) * HOUR)
                boast = self.post(origin_chat, tb, self.render(self.pick(T.BOASTS[lang]), lang, origin_chat,
                                                               links=[v]), "boast", lang=lang)
                truth["boasts"].append(self._ref(origin_chat, boast, "boast"))
                friends = self.chats_where(role="sympathetic")
                if friends:
                    fc = self.pick(friends)
                    fl = fc.lang
                    alert = self.post(fc, tb + int(self.lognormal(5.0, 0.7) * HOUR),
                                      self.render(T.ALERTS[fl][0], fl, fc, links=[v]), "alert", lang=fl)
                    del alert
                # the same chats thank people for other things that day (not boasts)
                self.thanks_around(tb, [c for c, _, _ in posts if c.exported] + friends, int(rng.integers(1, 3)))
            for v in complaints:
                if complaints[v]:
                    last_notice = max(last_notice, max(complaints[v]))
            if wave_channel:
                last_notice = max(last_notice, max(wave_channel))
            truth["waves"].append({
                "wave": w_i, "start": _iso(t_call), "origin_chat": origin_chat.key,
                "targets": [self.target_id(v) for v in targets] + ([channel_target] if channel_too else []),
                "hit_targets": [self.target_id(v) for v in hit if complaints[v]] +
                               ([channel_target] if wave_channel else []),
                "removed_targets": [self.target_id(v) for _, v in removals],
                "calls": [self._ref(c, q, kind) for c, q, kind in posts],
                "reporters": n_rep,
                "channel_complaints": len(wave_channel),
            })
        anchors = [max(tr for tr, _ in removals_all)] if removals_all else []
        if channel_times:
            times = sorted(channel_times)
            anchors.append(times[min(int(rng.integers(6, 15)), len(times)) - 1])
        if suspension and anchors:
            # termination after repeated strikes or the channel's own complaints, reinstated on appeal
            ts = max(anchors) + int(self.lognormal(8.0, 0.6) * HOUR)
            te = ts + 3 * DAY + int(rng.integers(-4 * HOUR, 4 * HOUR))
            self.suspensions.append([ts, te, owner])
            self.suspension_causes.append(cid)
            self._suspension_notices(owner, ts, te, T.POLICY_NAMES[cited], cid, len(waves))
            last_notice = max(last_notice, te)
            truth["suspension"] = {"start": _iso(ts), "end": _iso(te), "target": channel_target}
            oc = waves[-1]["origin"]
            lang = waves[-1].get("lang", oc.lang)
            boast = self.post(oc, ts + int(self.lognormal(3.0, 0.5) * HOUR),
                              self.render(self.pick(T.CHANNEL_DOWN_BOASTS[lang]), lang, oc, channel=owner),
                              "boast", lang=lang)
            truth["boasts"].append(self._ref(oc, boast, "boast"))
            for fc in self.chats_where(role="sympathetic")[:1]:
                if len(T.ALERTS[fc.lang]) > 1:
                    self.post(fc, ts + int(self.lognormal(6.0, 0.5) * HOUR),
                              self.render(T.ALERTS[fc.lang][1], fc.lang, fc, channel=owner), "alert")
        # some removed videos come back after appeal
        for tr, v in removals_all:
            if rng.random() < 0.3:
                back = tr + int(self.lognormal(7.0, 0.5) * DAY)
                if back < clock.t1:
                    self.notices.append(_Notice(back, self.seq(), "reinstated", T.POLICY_NAMES[cited], v, cause=cid,
                                                filterable=False, text=f"Your video \"{self.titles[v]}\" has been "
                                                                       "reinstated after review of your appeal."))
                    self.down[v][-1][1] = back
        targets_all: dict[str, None] = {}
        hits: dict[str, None] = {}
        removed: dict[str, None] = {}
        for w in truth["waves"]:
            for x in w["targets"]:
                targets_all.setdefault(x, None)
            for x in w["hit_targets"]:
                hits.setdefault(x, None)
            for x in w["removed_targets"]:
                removed.setdefault(x, None)
        if truth["suspension"]:
            hits.setdefault(channel_target, None)
        chats: dict[str, None] = {}
        for c, _, _ in call_refs:
            chats.setdefault(c.key, None)
        truth.update(targets=list(targets_all), hit_targets=list(hits), removed_targets=list(removed),
                     chats=list(chats), start=_iso(waves[0]["t"]), end=_iso(last_notice),
                     reporters=len(all_reporters), channel_complaints=len(channel_times))
        truth["_posts"] = call_refs  # resolved to refs after writing (ids are known then)
        # news reports the call once enforcement has begun (or a day later)
        first = min([tr for tr, _ in removals_all] + sorted(channel_times)[:1] or [waves[0]["t"] + DAY])
        truth["_quote"] = (waves[0]["origin"], call_refs[0][1], first)
        self.campaigns.append(truth)

    def _suspension_notices(self, ch: int, ts: int, te: int | None, policy: str, cause: str, wave: int = 0):
        """A channel termination at ``ts`` (target: the /channel/UC… URL) and its reinstatement at ``te``."""
        title = self.channels[ch]["title"]
        self.notices.append(_Notice(ts, self.seq(), "suspended", policy, None, cause=cause, filterable=False,
                                    wave=wave, channel=ch,
                                    text=f"Your YouTube channel \"{title}\" has been terminated "
                                         f"for repeated violations of our {policy} policy."))
        if te is not None:
            self.notices.append(_Notice(te, self.seq(), "reinstated", policy, None, cause=cause, filterable=False,
                                        wave=wave, channel=ch,
                                        text=f"After reviewing your appeal, we have reinstated your channel "
                                             f"\"{title}\"."))

    def _enforce(self, v: int, t: int, policy_key: str, cause: str, wave: int):
        policy = T.POLICY_NAMES[policy_key]
        ch = int(self.owner[v])
        self.strikes[ch] = self.strikes.get(ch, 0) + 1
        strike = "warning" if self.strikes[ch] == 1 else "strike"
        self.notices.append(_Notice(t, self.seq(), "removed", policy, v, cause=cause, filterable=False,
                                    wave=wave, text=_removal_text(self.titles[v], policy, strike)))
        self.notices.append(_Notice(t + int(self.rng.integers(20, 240)), self.seq(), strike, policy, v, cause=cause,
                                    filterable=False, wave=wave,
                                    text=("This is a warning: no strike has been applied to your channel."
                                          if strike == "warning" else
                                          "Your channel has received a Community Guidelines strike.")))
        self.down.setdefault(v, []).append([t, self.clock.t1 + DAY])

    def _viral_complaints(self, v: int, t_start: int, peak: float, shape: list[float]) -> list[int]:
        """Complaints that follow a video's views (about one per 600 views), hour by hour."""
        rng = self.rng
        self.spike_views[v] = {self.clock.day_index(t_start) + k: peak * s for k, s in enumerate(shape)}
        t, complaints = t_start, []
        while t < t_start + len(shape) * DAY:
            k = (t - t_start) // DAY
            rate = peak * shape[int(k)] / 600 / 24 * _VIEWER_CYCLE[self.clock.hour(t)]
            for _ in range(int(rng.poisson(rate))):
                complaints.append(t + int(rng.integers(0, HOUR)))
            t += HOUR
        return sorted(complaints)

    def _complain(self, v: int, times: list[int], policy_key: str, cause: str):
        for tc in times:
            key = policy_key if self.rng.random() < 0.5 else self.pick(["harassment", "misinformation", "spam"])
            self.notices.append(_Notice(tc, self.seq(), "complaint", T.COMPLAINT_REASONS[key], v, sender="",
                                        reporter="rep-" + self._hex(10), cause=cause))

    def organic_spike(self, oid: str, t_start: int, n: int, owner: int = 0):
        """A few videos go viral: views jump, complaints follow views, removal within two days."""
        rng = self.rng
        targets = self.popular_videos(n, t_start, owner=owner)
        for v in targets:
            self.used.setdefault(v, None)
        shape = [0.35, 1.0, 0.6, 0.3, 0.15]
        removed = []
        last = t_start
        policy_key = self.pick(["graphic", "harassment", "hate_speech"])
        for v in targets:
            peak = self.lognormal(15000.0, 0.4)
            complaints = self._viral_complaints(v, t_start, peak, shape)
            k = int(rng.integers(4, 9))
            tr = min(complaints[k - 1] if len(complaints) >= k else t_start + DAY, t_start + 40 * HOUR)
            tr = tr + int(rng.integers(HOUR, 6 * HOUR))
            self._complain(v, complaints, policy_key, oid)
            self.notices.append(_Notice(tr, self.seq(), "removed", T.POLICY_NAMES[policy_key], v, cause=oid,
                                        filterable=False,
                                        text=_removal_text(self.titles[v], T.POLICY_NAMES[policy_key], "")))
            self.down.setdefault(v, []).append([tr, self.clock.t1 + DAY])
            removed.append(v)
            last = max(last, tr)
        # chats talk about the viral videos, nobody asks to report them
        mentions = []
        for _ in range(int(rng.integers(3, 8))):
            chat = self.pick(self.chats)
            v = self.pick(targets)
            bank = {"hostile": T.ATTACK, "neutral": T.DISCUSSION, "sympathetic": T.PRAISE}[chat.role]
            t = t_start + int(rng.uniform(1, 30) * HOUR)
            q = self.post(chat, t, self.render(self.pick(bank[chat.lang]), chat.lang, chat, links=[v]), "link")
            mentions.append((chat, q, "mention"))
        self.organic.append({"id": oid, "kind": "viral", "channel": self.target_id(None, owner),
                             "targets": [self.target_id(v) for v in targets],
                             "removed_targets": [self.target_id(v) for v in removed],
                             "start": _iso(t_start), "end": _iso(last), "policy": T.POLICY_NAMES[policy_key],
                             "views_peak": {self.target_id(v): int(max(self.spike_views[v].values())) for v in targets},
                             "_posts": mentions})
        return last

    def removal_wave(self, oid: str, t_start: int, n: int, owner: int = 0):
        """An organic removal wave, then the reactions that name its videos while complaints go on.

        Several videos draw complaints that follow their views (no call anywhere); most are
        removed within two days (some come back on appeal a few days later), the others are
        age-restricted and stay up. Afterwards supporters post the removed videos' links
        ("removed after reports, appeal filed"), news reports the removals and hostile channels
        gloat, while the complaints keep trickling in on every video that is online.
        """
        rng = self.rng
        targets = self.popular_videos(n, t_start, owner=owner)
        for v in targets:
            self.used.setdefault(v, None)
        shape = [0.35, 1.0, 0.7, 0.45, 0.3, 0.22, 0.16, 0.12, 0.1, 0.08, 0.07, 0.06, 0.05, 0.05]
        policy_key = self.pick(["graphic", "harassment", "hate_speech"])
        policy = T.POLICY_NAMES[policy_key]
        n_removed = max(2, len(targets) - int(rng.integers(0, 3)))
        removed, restricted, reinstated, enforced = [], [], [], []
        for i, v in enumerate(targets):
            peak = self.lognormal(12000.0, 0.4)
            complaints = self._viral_complaints(v, t_start, peak, shape)
            k = int(rng.integers(4, 9))
            tr = min(complaints[k - 1] if len(complaints) >= k else t_start + DAY, t_start + 44 * HOUR)
            tr = tr + int(rng.integers(HOUR, 6 * HOUR))
            self._complain(v, complaints, policy_key, oid)
            if i < n_removed:
                self.notices.append(_Notice(tr, self.seq(), "removed", policy, v, cause=oid, filterable=False,
                                            text=_removal_text(self.titles[v], policy, "")))
                back = tr + int(self.lognormal(3.0, 0.4) * DAY) if rng.random() < 0.6 else None
                if back is not None and back < self.clock.t1:
                    self.notices.append(_Notice(back, self.seq(), "reinstated", policy, v, cause=oid,
                                                filterable=False, text=f"Your video \"{self.titles[v]}\" has been "
                                                                       "reinstated after review of your appeal."))
                    reinstated.append(v)
                else:
                    back = self.clock.t1 + DAY
                self.down.setdefault(v, []).append([tr, back])
                removed.append(v)
            else:
                self.notices.append(_Notice(tr, self.seq(), "restricted", policy, v, cause=oid, filterable=False,
                                            text=f"We've age-restricted your video \"{self.titles[v]}\" after "
                                                 "review."))
                restricted.append(v)
            enforced.append((tr, v))
        enforced.sort()
        self.organic.append({"id": oid, "kind": "removal_wave", "channel": self.target_id(None, owner),
                             "targets": [self.target_id(v) for v in targets],
                             "removed_targets": [self.target_id(v) for v in removed],
                             "restricted_targets": [self.target_id(v) for v in restricted],
                             "reinstated_targets": [self.target_id(v) for v in reinstated],
                             "start": _iso(t_start), "end": _iso(enforced[-1][0]),
                             "trickle_end": _iso(min(t_start + len(shape) * DAY, self.clock.t1)),
                             "policy": policy,
                             "views_peak": {self.target_id(v): int(max(self.spike_views[v].values())) for v in targets},
                             "_posts": []})
        self._reactions(oid, enforced, removed, restricted)

    def _reactions(self, oid: str, enforced: list[tuple[int, int]], removed: list[int], restricted: list[int]):
        """Supporters, news and hostile channels name the removed videos after the removals."""
        rng = self.rng
        removed_at = {v: t for t, v in enforced if v in removed}
        enforced_at = dict((v, t) for t, v in enforced)
        t_first = min(removed_at.values())

        def gone_by(t: int) -> list[int]:
            return [v for v in removed if removed_at[v] < t]

        def add(chat: _Chat, t: int, template: str, links: list[int], reaction: str, **extra):
            lang = chat.lang
            q = self.post(chat, t, self.render(template, lang, chat, links=links, **extra), "reaction", lang=lang)
            self.reactions.append({"wave": oid, "reaction": reaction, "targets": [self.target_id(v) for v in links],
                                   "_chat": chat, "_post": q})

        supporters = self.chats_where(role="sympathetic") or self.chats_where(role="neutral")
        for i in range(int(rng.integers(2, 5))):
            chat = supporters[i % len(supporters)]
            t = self.thinned_after(t_first, 4.0 + 10.0 * i, 0.7, _CHAT_CYCLE)
            tmpl = self.pick(T.SUPPORT_REACTIONS[chat.lang])
            links = [self.pick(gone_by(t))] if "{backup}" in tmpl or rng.random() < 0.4 else gone_by(t)
            add(chat, t, tmpl, links, "supporter")
        for chat in (self.chats_where(role="neutral") or supporters)[:2]:
            t = self.thinned_after(t_first, 16.0, 0.5, _CHAT_CYCLE)
            shown = gone_by(t)
            add(chat, t, self.pick(T.NEWS_REACTIONS[chat.lang]), shown + [v for v in restricted if enforced_at[v] < t],
                "news", n=len(shown))
        hostile = self.chats_where(role="hostile")
        for v in removed[: int(rng.integers(1, 4))]:
            if hostile:
                chat = self.pick(hostile)
                add(chat, self.thinned_after(removed_at[v], 3.0, 0.8, _CHAT_CYCLE),
                    self.pick(T.GLOATS[chat.lang]), [v], "gloat")
        self.thanks_around(t_first, supporters + hostile, int(rng.integers(1, 4)))

    def failed_call(self, fid: str, t: int, chat: _Chat, n: int, policy: str, copies: int = 1):
        targets = self.popular_videos(n, t)
        for v in targets:
            self.used.setdefault(v, None)
        lang = chat.lang
        origin = self.call_post(chat, t, targets, policy, lang)
        others = [c for c in self.chats if c is not chat and c.role == "hostile"]
        chosen = [others[int(i)] for i in np.sort(self.rng.choice(len(others), min(copies, len(others)), replace=False))] \
            if others and copies else []
        posts = [(chat, origin, "origin")] + self.spread(origin, chat, targets, policy, chosen)
        self.failed.append({"id": fid, "channel": self.target_id(None), "targets": [self.target_id(v) for v in targets],
                            "requested_policy": policy, "times": [], "chats": [], "_posts": posts,
                            "_quote": (chat, origin, t + int(self.lognormal(20.0, 0.5) * HOUR))})

    # ---- news posts quoting calls -----------------------------------------------------------
    def quote_post(self, t: int, source: str, quoted: list, lang_src: str, about: str, targets: list[str],
                   other: bool = False, exclude: _Chat | None = None):
        """A news post in a neutral or sympathetic chat that quotes a call and asks nobody to report."""
        chats = [c for c in self.chats_where(role="neutral") + self.chats_where(role="sympathetic") if c is not exclude]
        if not chats or not (self.clock.t0 <= t < self.clock.t1):
            return
        chat = self.pick(chats)
        quote = [("link", p[2]) if isinstance(p, tuple) and p[0] == "text_link" else p for p in quoted]
        quote = [p.replace("\n", " ") if isinstance(p, str) else p for p in quote]
        table = T.NEWS_QUOTES_OTHER if other else T.NEWS_QUOTES
        q = self.post(chat, t, self.render(self.pick(table[chat.lang]), chat.lang, chat, source=source, quote=quote),
                      "news_quote")
        self.quotes.append({"quoted": about, "source": source, "quoted_language": lang_src, "targets": targets,
                            "_chat": chat, "_post": q})

    def quote_events(self):
        """News quotes the calls of campaigns (after enforcement began) and some failed calls."""
        for c in self.campaigns:
            chat, post, t = c.pop("_quote")
            if self.rng.random() < 0.8:
                self.quote_post(self.thinned_after(t, 12.0, 0.6, _CHAT_CYCLE), chat.title, post.parts, post.lang,
                                c["id"], [x for x in c["targets"]], exclude=chat)
        for f in self.failed:
            chat, post, t = f.pop("_quote")
            if self.rng.random() < 0.5:
                self.quote_post(t, chat.title, post.parts, post.lang, f["id"], list(f["targets"]), exclude=chat)
        if not self.campaigns and not self.failed:
            for _ in range(int(self.rng.integers(1, 3))):
                self.quote_outside()

    def quote_outside(self):
        """A news post quoting a call against someone else's videos (not the subject's)."""
        rng = self.rng
        lang = self.pick(T.LANGS)
        urls = [self.pick(["https://youtu.be/", "https://www.youtube.com/watch?v="]) + self._rand_chars(10)
                + _ID_LAST[int(rng.integers(16))] for _ in range(int(rng.integers(1, 3)))]
        holder = _Chat("telegram", "", lang, "hostile", "")   # the outside channel: renders, is never written
        quoted = self.render(self.pick(T.CALLS[lang]), lang, holder, urls=urls,
                             policy=self.pick(["harassment", "spam", "hate_speech"]))
        t = self.at_local_hour(int(rng.integers(0, self.p.days)), _CHAT_CYCLE)
        self.quote_post(t, self.pick(T.OUTSIDE_SOURCES), quoted, lang, "outside",
                        [canonical for canonical in (_video_target(u) for u in urls)], other=True)

    # ---- scenario plans ----------------------------------------------------------------------
    def plan(self):
        """The scenario's events, then the news posts that quote their calls."""
        if self.scenario == "demo":
            self._plan_demo()
        else:
            self._plan_events()
        self.quote_events()

    def _day_in(self, lo: float, hi: float) -> int:
        p = self.p
        return int(self.rng.integers(int(lo * p.days), max(int(hi * p.days), int(lo * p.days) + 1)))

    def _policies(self) -> tuple[str, str]:
        """The reason a call requests and the policy the platform cites (usually the same)."""
        requested = self.pick(["harassment", "harassment", "violent_extremism", "hate_speech", "misinformation"])
        cited = requested if self.rng.random() < 0.7 else self.pick(
            [k for k in ("harassment", "hate_speech", "violent_extremism") if k != requested])
        return requested, cited

    def _plan_events(self):
        rng, p = self.rng, self.p
        sc = self.scenario
        if sc == "null":
            return
        tg_hostile = self.chats_where("telegram", "hostile")
        hostile = self.chats_where(role="hostile")
        day_in = self._day_in
        if sc in ("campaign", "mixed"):
            d = day_in(0.3, 0.42) if sc == "mixed" else day_in(0.35, 0.5)
            second = p.second_wave if p.second_wave is not None else bool(rng.random() < 0.5)
            # campaign family: some seeds call on the whole channel, which ends in a termination
            channel_call = p.channel_call if p.channel_call is not None else \
                bool(sc == "campaign" and rng.random() < 0.4)
            suspension = p.suspension if p.suspension is not None else (channel_call or bool(rng.random() < 0.5))
            requested, cited = self._policies()
            n1 = int(rng.integers(4, 8))
            waves = [{"t": self.at_local_hour(d, _CALL_HOURS), "origin": tg_hostile[0], "n": n1,
                      "hit": n1 - int(rng.integers(1, 3)), "channel_too": bool(rng.random() < 0.25)}]
            if second:
                d2 = d + int(rng.integers(6, 11))
                n2 = int(rng.integers(3, 6))
                waves.append({"t": self.at_local_hour(d2, _CALL_HOURS), "origin": self.pick(tg_hostile), "n": n2,
                              "hit": n2, "repeat": 1})
            if channel_call:
                waves[-1]["channel_too"] = True
            self.campaign("C1", waves, suspension, requested, cited)
        if sc in ("organic", "mixed"):
            d = day_in(0.7, 0.8) if sc == "mixed" else day_in(0.4, 0.6)
            self.organic_spike("O1", self.at_local_hour(d, _VIEWER_CYCLE), int(rng.integers(2, 5)))
        if sc in ("failed", "mixed"):
            spans = [(0.2, 0.25), (0.6, 0.66), (0.88, 0.92)] if sc == "mixed" else [(0.3, 0.45), (0.55, 0.7)]
            for i, (lo, hi) in enumerate(spans, start=1):
                chat = self.pick(hostile)
                self.failed_call(f"F{i}", self.at_local_hour(day_in(lo, hi), _CALL_HOURS), chat,
                                 int(rng.integers(2, 5)), self.pick(["harassment", "violent_extremism", "hate_speech"]),
                                 copies=int(rng.integers(0, 2)))
        if sc == "aftermath":
            self.removal_wave("A1", self.at_local_hour(day_in(0.35, 0.55), _VIEWER_CYCLE), int(rng.integers(3, 7)))
        if sc == "partial":
            self._plan_partial()
        if sc == "multichannel":
            self._plan_multichannel()

    def _plan_partial(self):
        """A campaign called in unexported chats; some collected chats copy it, some of them late."""
        rng = self.rng
        self.hidden = [self._new_chat(spec, exported=False) for spec in T.HIDDEN_CHATS]
        collected = [c for c in self.chats if c.role in ("hostile", "neutral")]
        k = int(rng.integers(1, min(3, len(collected)) + 1))
        observed = [collected[int(i)] for i in np.sort(rng.choice(len(collected), k, replace=False))]
        late = {c.key for c in observed if rng.random() < 0.5}
        requested, cited = self._policies()
        n1 = int(rng.integers(4, 8))
        wave = {"t": self.at_local_hour(self._day_in(0.35, 0.55), _CALL_HOURS), "origin": self.hidden[0], "n": n1,
                "hit": n1 - int(rng.integers(0, 2)), "copiers": self.hidden[1:] + observed, "late": late,
                "observed_weight": 0.3}
        self.campaign("C1", [wave], False, requested, cited)

    def _plan_multichannel(self):
        """Two channels in one log: a campaign against one, a viral burst (and maybe a termination)
        on the other, close in time."""
        rng = self.rng
        target = int(rng.integers(2))
        other = 1 - target
        d = self._day_in(0.35, 0.5)
        requested, cited = self._policies()
        n1 = int(rng.integers(4, 8))
        channel_call = bool(rng.random() < 0.3)
        waves = [{"t": self.at_local_hour(d, _CALL_HOURS), "origin": self.chats_where("telegram", "hostile")[0],
                  "n": n1, "hit": n1 - int(rng.integers(1, 3)), "channel_too": channel_call}]
        self.campaign("C1", waves, channel_call, requested, cited, owner=target)
        t_other = self.at_local_hour(min(max(d + int(rng.integers(-3, 4)), 1), self.p.days - 6), _VIEWER_CYCLE)
        last = self.organic_spike("O1", t_other, int(rng.integers(2, 4)), owner=other)
        if rng.random() < 0.5:
            ts = last + int(self.lognormal(10.0, 0.5) * HOUR)
            te = ts + int(rng.uniform(1.0, 4.0) * DAY)
            self.suspensions.append([ts, te, other])
            self.suspension_causes.append("organic")
            self._suspension_notices(other, ts, te, T.POLICY_NAMES[self.pick(["spam", "harassment"])], "S1")

    def _plan_demo(self):
        tg = {c.username: c for c in self.chats if c.platform == "telegram"}
        wa = {c.title: c for c in self.chats if c.platform == "whatsapp"}
        c = self.clock
        d = lambda s: (date.fromisoformat(s) - c.start_date).days  # noqa: E731
        self.failed_call("F1", c.at(d("2025-02-11"), 21.3), tg["xj_zhenxiang"], 3, "misinformation", copies=1)
        self.organic_spike("O1", c.at(d("2025-03-18"), 9.6), 3)
        waves = [
            {"t": c.at(d("2025-04-14"), 20.7), "origin": tg["pravda_sinczyan"], "n": 6, "hit": 5, "remove_p": 0.95},
            {"t": c.at(d("2025-05-06"), 21.25), "origin": tg["pravda_sinczyan"], "n": 5, "hit": 5, "repeat": 1,
             "remove_p": 0.95, "channel_too": True},
            {"t": c.at(d("2025-06-03"), 19.9), "origin": tg["xj_zhenxiang"], "n": 4, "hit": 3, "remove_p": 0.95},
        ]
        self.campaign("C1", waves[:2], True, "harassment", "harassment")
        # the third wave is a new call by a Chinese-language channel asking for "hate speech"
        self.campaign("C2", waves[2:], False, "hate_speech", "harassment")
        self.failed_call("F2", c.at(d("2025-06-24"), 13.1), wa["Отан қорғаушылары"], 2, "violent_extremism", copies=0)

    # ---- views -----------------------------------------------------------------------------
    def views_rows(self) -> list[tuple[str, str, int]]:
        p, rng = self.p, self.rng
        chosen: dict[int, None] = {}
        for v in self.used:
            chosen.setdefault(v, None)
        for v in self.linked:
            if len(chosen) < p.views_videos:
                chosen.setdefault(v, None)
        rest = [v for v in range(self.n_total) if v not in chosen and self.published[v] < self.clock.t1]
        room = max(p.views_videos - len(chosen), 0)
        if room and rest:
            for v in np.sort(rng.choice(rest, size=min(room, len(rest)), replace=False)):
                chosen.setdefault(int(v), None)
        rows = []
        ends = np.append(self.day_starts[1:], self.clock.t1)
        day_iso = [self.clock.local(int(t)).date().isoformat() for t in self.day_starts]
        for v in sorted(chosen):
            url = f"https://www.youtube.com/watch?v={self.video_ids[v]}"
            noise = np.exp(rng.normal(0, 0.25, p.days))
            for d in range(p.days):
                if self.published[v] >= ends[d]:
                    continue
                lam = self.expected[v, d] * noise[d] + self.spike_views.get(v, {}).get(d, 0.0)
                lam *= self._up_fraction(v, int(self.day_starts[d]), int(ends[d]))
                rows.append((url, day_iso[d], int(rng.poisson(lam))))
        return rows

    def _up_fraction(self, v: int, a: int, b: int) -> float:
        """Share of the local day [a, b) in which the video was online (published, not down)."""
        start = max(a, int(self.published[v]))
        if b <= start:
            return 0.0
        spans = self.down.get(v, []) + [[x, y] for x, y, ch in self.suspensions if ch == self.owner[v]]
        down = sum(max(0, min(b, y) - max(start, x)) for x, y in spans)
        return max(0.0, (b - start - down) / (b - a))

    # ---- refs for truth ----------------------------------------------------------------------
    def _ref(self, chat: _Chat, post: _Post, kind: str) -> dict:
        return {"_chat": chat, "_post": post, "kind": kind}


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


# --------------------------------------------------------------------------------------------
# writers

def _tg_text(parts: list) -> tuple[object, list]:
    ents = []
    for part in parts:
        if isinstance(part, str):
            ents.append({"type": "plain", "text": part})
        elif part[0] == "text_link":
            ents.append({"type": "text_link", "text": part[1], "href": part[2]})
        else:
            ents.append({"type": part[0], "text": part[1]})
    if not ents:
        return "", []
    if len(ents) == 1 and ents[0]["type"] == "plain":
        return ents[0]["text"], ents
    text = [e["text"] if e["type"] == "plain" else e for e in ents]
    return text, ents


def _telegram_export(case: _Case, chat: _Chat) -> bytes:
    posts = sorted(chat.posts, key=lambda q: (q.t, q.seq))
    for i, q in enumerate(posts):
        q.msg_id = chat.first_msg_id + i
    messages = []
    for q in posts:
        local = case.clock.local(q.t).replace(tzinfo=None).isoformat(timespec="seconds")
        m: dict = {"id": q.msg_id, "type": "service" if q.kind == "service" else "message",
                   "date": local, "date_unixtime": str(q.t)}
        if q.edited:
            m["edited"] = case.clock.local(q.edited).replace(tzinfo=None).isoformat(timespec="seconds")
            m["edited_unixtime"] = str(q.edited)
        if q.kind == "service":
            m.update(actor=chat.title, actor_id=f"channel{chat.tg_id}", action="pin_message",
                     message_id=q.pin.msg_id if q.pin else 0)
        else:
            m.update({"from": chat.title, "from_id": f"channel{chat.tg_id}"})
            if q.forwarded_from:
                m["forwarded_from"] = q.forwarded_from
            if q.media == "photo":
                m.update(photo=_FILE_SKIPPED, width=1280, height=int(case.rng.choice([720, 853, 960])))
            elif q.media == "video":
                m.update(file=_FILE_SKIPPED, thumbnail=_FILE_SKIPPED, media_type="video_file",
                         mime_type="video/mp4", duration_seconds=int(case.rng.integers(8, 600)),
                         width=1280, height=720)
        m["text"], m["text_entities"] = _tg_text(q.parts)
        messages.append(m)
    doc = {"name": chat.title, "type": "public_channel", "id": chat.tg_id, "messages": messages}
    # tdesktop: one-space indentation, raw UTF-8, U+2028/U+2029 escaped, no trailing newline
    text = json.dumps(doc, ensure_ascii=False, indent=1).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode("utf-8")


_WA_MEDIA_IOS = {"image": "image omitted", "video": "video omitted", "sticker": "sticker omitted",
                 "audio": "audio omitted"}


def _whatsapp_export(case: _Case, chat: _Chat) -> bytes:
    posts = sorted(chat.posts, key=lambda q: (q.t, q.seq))
    ios = chat.os == "ios"
    lines = []
    for q in posts:
        d = case.clock.local(q.t)
        if ios:
            stamp = f"[{d.day:02d}.{d.month:02d}.{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d}:{d.second:02d}]"
            q.shown = d.replace(tzinfo=None).isoformat(timespec="seconds")
        else:
            stamp = f"{d.day}/{d.month}/{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d}"
            q.shown = d.replace(tzinfo=None, second=0).isoformat(timespec="seconds")
        author = q.author
        if ios and author.startswith("+"):
            author = "\u202a" + author + "\u202c"
        q.shown_author = q.author.replace("\u00a0", " ")
        if q.kind == "system":
            if ios:
                lines.append(f"{stamp} {chat.title}: {LRM}{q.system}" if q.system == _WA_ENCRYPTED
                             else f"{LRM}{stamp} {chat.title}: {LRM}{q.system}")
            else:
                lines.append(f"{stamp} - {q.system}")
            continue
        if q.kind == "media":
            lines.append(f"{LRM}{stamp} {author}: {LRM}{_WA_MEDIA_IOS[q.media]}" if ios
                         else f"{stamp} - {author}: <Media omitted>")
            continue
        if q.kind == "deleted":
            body = f"{LRM}This message was deleted." if ios else "This message was deleted"
            lines.append(f"{stamp} {author}: {body}" if ios else f"{stamp} - {author}: {body}")
            continue
        body = _plain_text(q.parts, "whatsapp")
        lines.append(f"{stamp} {author}: {body}" if ios else f"{stamp} - {author}: {body}")
    sep = "\r\n" if ios else "\n"
    text = sep.join(line.replace("\n", sep) if ios else line for line in lines) + sep
    return text.encode("utf-8")


def _zip_bytes(name: str, data: bytes, when: datetime) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour, when.minute,
                                                 when.second - when.second % 2))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o644 << 16
        zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def _csv_bytes(header: list[str], rows: list) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _safe_name(name: str) -> str:
    return "".join("_" if ch in '<>:"/\\|?*' or ord(ch) < 32 else ch for ch in name).strip() or "chat"


# --------------------------------------------------------------------------------------------
# public API

def _params(scenario: str, overrides: dict) -> SimParams:
    known = {f.name for f in fields(SimParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise DetectorError(f"unknown simulation parameter(s): {', '.join(unknown)}",
                            hint=f"known parameters: {', '.join(sorted(known))}")
    base = replace(SimParams(), **DEMO) if scenario == "demo" else SimParams()
    p = replace(base, **overrides)
    if p.n_videos < 20 or p.days < 14:
        raise DetectorError("a simulated case needs at least 20 videos and 14 days",
                            hint="raise n_videos or days")
    if scenario == "demo" and (p.n_telegram < 2 or p.n_whatsapp < 1):
        raise DetectorError("the demo case needs n_telegram >= 2 and n_whatsapp >= 1")
    if not (1 <= p.n_telegram <= len(T.TELEGRAM_CHANNELS)) or not (0 <= p.n_whatsapp <= len(T.WHATSAPP_GROUPS)):
        raise DetectorError(f"n_telegram must be 1..{len(T.TELEGRAM_CHANNELS)} and n_whatsapp "
                            f"0..{len(T.WHATSAPP_GROUPS)}")
    try:
        ZoneInfo(p.tz)
        date.fromisoformat(p.start)
        date.fromisoformat(p.first_upload)
    except (ValueError, KeyError) as exc:
        raise DetectorError(f"bad simulation parameter: {exc}") from None
    return p


def _prepare_out(out: Path):
    if out.exists() and not out.is_dir():
        raise DetectorError("the output path exists and is not a folder", out)
    if out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()):   # .gitkeep is fine
        if not (out / "truth.json").is_file():
            raise DetectorError("the output folder is not empty and holds no simulated case", out,
                                hint="choose a new or empty folder")
        for name in OUR_FILES:
            (out / name).unlink(missing_ok=True)
        for name in OUR_DIRS:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
    out.mkdir(parents=True, exist_ok=True)


def simulate_case(out_dir, seed: int = 0, scenario: str = "mixed", **params) -> dict:
    """Write a simulated case to ``out_dir`` and return a summary.

    Parameters
    ----------
    out_dir : folder to write (created; a previous simulated case in it is replaced).
    seed : the one source of randomness; the same seed writes byte-identical files.
    scenario : ``campaign``, ``organic``, ``failed``, ``null``, ``mixed`` or ``demo``.
    **params : fields of :class:`SimParams` (``n_videos``, ``days``, ``start``, rates, …).

    Returns
    -------
    dict with ``out``, ``scenario``, ``seed``, ``tz``, ``files`` (relative path → bytes),
    ``counts`` and the ids of the campaigns, organic bursts and failed calls in ``truth.json``.

    Examples
    --------
    >>> summary = simulate_case("/tmp/case", seed=1, scenario="campaign")  # doctest: +SKIP
    >>> summary["counts"]["notices"] > 0  # doctest: +SKIP
    True
    """
    if scenario not in SCENARIOS:
        raise DetectorError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(SCENARIOS)}")
    p = _params(scenario, params)
    case = _Case(int(seed), scenario, p)
    case.plan()
    case.background_notices()
    case.chatter()
    files = _build_files(case)
    out = Path(out_dir)
    _prepare_out(out)
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    truth = json.loads(files["truth.json"])
    return {"out": str(out), "scenario": scenario, "seed": int(seed), "tz": p.tz,
            "files": {rel: len(data) for rel, data in files.items()}, "counts": truth["counts"],
            "campaigns": [c["id"] for c in truth["campaigns"]],
            "organic_bursts": [o["id"] for o in truth["organic_bursts"]],
            "failed_calls": [f["id"] for f in truth["failed_calls"]]}


def _build_files(case: _Case) -> dict[str, bytes]:
    p, clock = case.p, case.clock
    files: dict[str, bytes] = {}
    # chats first: writing assigns the message ids and shown times that truth.json cites
    export_day = clock.local(clock.t1 + 10 * HOUR)
    for chat in case.chats:
        if chat.platform == "telegram":
            files[f"telegram/{chat.username}/result.json"] = _telegram_export(case, chat)
        elif chat.os == "android":
            files[f"whatsapp/WhatsApp Chat with {_safe_name(chat.title)}.txt"] = _whatsapp_export(case, chat)
        else:
            data = _whatsapp_export(case, chat)
            files[f"whatsapp/WhatsApp Chat - {_safe_name(chat.title)}.zip"] = _zip_bytes("_chat.txt", data, export_day)
    for chat in case.hidden:   # not in the collection: written only to number their posts for truth.json
        (_telegram_export if chat.platform == "telegram" else _whatsapp_export)(case, chat)
    notices = _final_notices(case)
    files["notices.csv"] = _csv_bytes(NOTICE_HEADER, [_notice_row(case, i, n) for i, n in enumerate(notices, 1)])
    views = case.views_rows()
    files["views.csv"] = _csv_bytes(VIEWS_HEADER, views)
    files["detector-case.json"] = (json.dumps({
        "tz": p.tz,
        "note": f"Simulated case (scenario {case.scenario}, seed {case.seed}) written by detector.simulate. "
                f"WhatsApp times and Telegram 'date' fields are local times in {p.tz}.",
        "aliases": {f"@{c['handle']}": c["id"] for c in case.channels},
    }, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    truth = _truth(case, notices, views)
    files["truth.json"] = (json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    files["README.txt"] = _readme(case, truth).encode("utf-8")
    return dict(sorted(files.items()))


def _final_notices(case: _Case) -> list[_Notice]:
    kept = []
    for n in sorted(case.notices, key=lambda n: (n.t, n.seq)):
        if not (case.clock.t0 <= n.t < case.clock.t1):
            continue
        if n.filterable and n.video is not None and not case.is_up(n.video, n.t):
            continue
        if n.filterable and case.suspended(n.channel if n.video is None else int(case.owner[n.video]), n.t):
            continue
        kept.append(n)
    return kept


def _notice_row(case: _Case, i: int, n: _Notice) -> list:
    if n.video is None:   # channel notices (complaints, terminations) name the /channel/UC… URL
        channel = case.channels[n.channel]
        url, title, published = channel["url"], channel["title"], ""
    else:
        channel = case.channels[int(case.owner[n.video])]
        url = f"https://www.youtube.com/watch?v={case.video_ids[n.video]}"
        title, published = case.titles[n.video], _iso(case.published[n.video])
    return [f"yt-{i:06d}", "youtube", _iso(n.t), n.action, n.policy, url, title, channel["url"], published,
            n.sender, n.reporter, n.text]


def _resolve(case: _Case, chat: _Chat, post: _Post, kind: str) -> dict:
    ref = {"platform": chat.platform, "chat": chat.key, "chat_title": chat.title, "kind": kind,
           "language": post.lang, "observed": chat.exported}
    if chat.platform == "telegram":
        ref["post_id"] = f"telegram:{chat.key}:{post.msg_id}"
        ref["message_id"] = post.msg_id
        ref["posted_at"] = _iso(post.t)
    else:
        ref["local_time"] = post.shown
        ref["author"] = post.shown_author
        shown = datetime.fromisoformat(post.shown).replace(tzinfo=case.clock.zone)
        ref["posted_at"] = _iso(shown.timestamp())
    if post.forwarded_from:
        ref["forwarded_from"] = post.forwarded_from
    return ref


def _truth(case: _Case, notices: list[_Notice], views: list) -> dict:
    p = case.p
    subjects = [{"channel_id": c["id"], "target": case.target_id(None, k), "handle": c["handle"],
                 "title": c["title"], "url": c["url"], "videos": c["videos"]} for k, c in enumerate(case.channels)]
    # which named targets really received notices, after the final filtering (a complaint that
    # arrives while a video or the channel is down never reaches the platform's log)
    answered = {(n.cause, n.wave, case.target_id(n.video, n.channel)) for n in notices}
    answered_any = {(cause, target) for cause, _, target in answered}
    campaigns = []
    for c in case.campaigns:
        c = dict(c)
        for w in c["waves"]:
            w["hit_targets"] = [x for x in w["targets"] if (c["id"], w["wave"], x) in answered]
            w["channel_complaints"] = sum(1 for n in notices if n.cause == c["id"] and n.wave == w["wave"]
                                          and n.video is None and n.action == "complaint")
        c["channel_complaints"] = sum(w["channel_complaints"] for w in c["waves"])
        c["hit_targets"] = [x for x in c["targets"] if (c["id"], x) in answered_any]
        if c["suspension"] and c["channel"] not in c["hit_targets"]:
            c["hit_targets"].append(c["channel"])
        mine = [n.t for n in notices if n.cause == c["id"]]
        first = _iso(min(mine)) if mine else None
        refs = [_resolve(case, chat, q, kind) for chat, q, kind in c.pop("_posts")]
        for r in refs:
            r["after_first_notice"] = bool(first and r["posted_at"] > first)
        c["calls"] = refs
        # calls in the collected (exported) chats; unexported calls are in "calls" with observed false
        c["call_ids"] = [r["post_id"] for r in refs if "post_id" in r and r["observed"]]
        c["observed_calls"] = [r for r in refs if r["observed"]]
        c["observed_chats"] = list(dict.fromkeys(r["chat"] for r in refs if r["observed"]))
        c["first_notice"] = first
        c["boasts"] = [_resolve(case, b["_chat"], b["_post"], b["kind"]) for b in c["boasts"]]
        for w in c["waves"]:
            w["calls"] = [_resolve(case, r["_chat"], r["_post"], r["kind"]) for r in w["calls"]]
        c["notices"] = sum(1 for n in notices if n.cause == c["id"])
        campaigns.append(c)
    organic = []
    for o in case.organic:
        o = dict(o)
        o["mentions"] = [_resolve(case, chat, q, kind) for chat, q, kind in o.pop("_posts")]
        o["notices"] = sum(1 for n in notices if n.cause == o["id"])
        organic.append(o)
    failed = []
    for f in case.failed:
        f = dict(f)
        refs = [_resolve(case, chat, q, kind) for chat, q, kind in f.pop("_posts")]
        f.update(calls=refs, call_ids=[r["post_id"] for r in refs if "post_id" in r],
                 times=[r["posted_at"] for r in refs], chats=list(dict.fromkeys(r["chat"] for r in refs)))
        failed.append(f)
    other_calls = []
    thanks = []
    for chat in case.chats:
        for q in chat.posts:
            if q.kind == "other_call":
                other_calls.append(_resolve(case, chat, q, "other_call"))
            elif q.kind == "thanks":
                thanks.append(_resolve(case, chat, q, "thanks"))
    reactions = [_resolve(case, r["_chat"], r["_post"], "reaction") |
                 {k: v for k, v in r.items() if not k.startswith("_")} for r in case.reactions]
    quotes = [_resolve(case, r["_chat"], r["_post"], "news_quote") |
              {k: v for k, v in r.items() if not k.startswith("_")} for r in case.quotes]
    tg_msgs = sum(1 for c in case.chats if c.platform == "telegram" for q in c.posts if q.kind != "service")
    tg_service = sum(1 for c in case.chats if c.platform == "telegram" for q in c.posts if q.kind == "service")
    wa_msgs = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind != "system")
    wa_deleted = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind == "deleted")
    wa_system = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind == "system")
    by_action: dict[str, int] = {}
    for n in notices:
        by_action[n.action] = by_action.get(n.action, 0) + 1
    by_cause: dict[str, int] = {}
    for n in notices:
        key = n.cause if n.cause in ("organic", "automated") else "events"
        by_cause[key] = by_cause.get(key, 0) + 1
    chats = [{"platform": c.platform, "chat": c.key, "title": c.title, "language": c.lang, "role": c.role,
              **({"username": c.username, "file": f"telegram/{c.username}/result.json"} if c.platform == "telegram"
                 else {"os": c.os, "file": (f"whatsapp/WhatsApp Chat with {_safe_name(c.title)}.txt" if c.os == "android"
                                            else f"whatsapp/WhatsApp Chat - {_safe_name(c.title)}.zip")}),
              "messages": sum(1 for q in c.posts if q.kind not in ("service", "system"))}
             for c in case.chats]
    link_posts = sum(1 for c in case.chats for q in c.posts if q.kind in ("link", "alert", "reaction"))
    unexported = [{"platform": c.platform, "chat": c.key, "title": c.title, "language": c.lang, "role": c.role,
                   "calls": sum(1 for q in c.posts if q.kind == "call")} for c in case.hidden]
    return {
        "generator": "detector.simulate",
        "scenario": case.scenario,
        "seed": case.seed,
        "params": {f.name: getattr(p, f.name) for f in fields(SimParams)},
        "tz": p.tz,
        "window": {"start": _iso(case.clock.t0), "end": _iso(case.clock.t1)},
        "subject": subjects[0],
        "subjects": subjects,
        "automated_policy": p.automated_policy,
        "campaigns": campaigns,
        "organic_bursts": organic,
        "failed_calls": failed,
        "other_calls": other_calls,
        "reaction_posts": reactions,
        "news_quotes": quotes,
        "thanks_posts": thanks,
        "suspensions": [{"start": _iso(a), "end": _iso(b), "channel": case.target_id(None, ch), "cause": cause}
                        for (a, b, ch), cause in zip(case.suspensions, case.suspension_causes, strict=True)],
        "chats": chats,
        "unexported_chats": unexported,
        "counts": {
            "videos": case.n_total,
            "notices": len(notices),
            "notices_by_action": dict(sorted(by_action.items())),
            "notices_by_cause": dict(sorted(by_cause.items())),
            "telegram_messages": tg_msgs,
            "telegram_service": tg_service,
            "whatsapp_messages": wa_msgs,
            "whatsapp_deleted": wa_deleted,
            "whatsapp_system": wa_system,
            # messages with content: Telegram service messages, WhatsApp system lines and
            # "This message was deleted" placeholders carry no post
            "posts": tg_msgs + wa_msgs - wa_deleted,
            "subject_link_posts_without_call": link_posts,
            "views_rows": len(views),
            "views_videos": len({r[0] for r in views}),
            "campaigns": len(campaigns),
            "organic_bursts": len(organic),
            "failed_calls": len(failed),
            "reaction_posts": len(reactions),
            "news_quotes": len(quotes),
            "thanks_posts": len(thanks),
        },
    }


def _readme(case: _Case, truth: dict) -> str:
    c = truth["counts"]
    lines = [
        f"Simulated case: scenario '{case.scenario}', seed {case.seed}",
        "",
        "Written by detector.simulate (detector simulate --out DIR --seed N --scenario NAME). Nothing here is real:",
        *[f"the subject is a fictional YouTube channel ({x['title']}, {x['url']}, @{x['handle']})"
          if k == 0 else f"a second fictional channel is in the same notices log ({x['title']}, {x['url']}, "
                         f"@{x['handle']})" for k, x in enumerate(truth["subjects"])],
        f"with {c['videos']} testimony videos in all; the chats and names are invented.",
        "",
        f"Window: {truth['window']['start']} to {truth['window']['end']} (UTC). Phone-local times are {case.p.tz};",
        "detector-case.json records the zone, so `detector ingest DIR` needs no --tz, and the channels'",
        "@handles (aliases of their UC… ids).",
        "",
        "Files:",
        f"  notices.csv            {c['notices']} notices and complaints (the project's notices template)",
        f"  views.csv              views per day for {c['views_videos']} videos ({c['views_rows']} rows)",
        f"  telegram/*/result.json Telegram Desktop exports of {sum(1 for x in truth['chats'] if x['platform'] == 'telegram')} public channels",
        f"  whatsapp/              WhatsApp exports of {sum(1 for x in truth['chats'] if x['platform'] == 'whatsapp')} groups "
        "(Android .txt, iOS .zip with _chat.txt)",
        "  truth.json             what really happened: campaigns, organic bursts, failed calls, posts that",
        "                         are not calls (reactions, news quotes, thanks) (do not read it before an",
        "                         analysis you want to be blind)",
        "",
        f"Events: {c['campaigns']} campaign(s), {c['organic_bursts']} organic burst(s), {c['failed_calls']} failed call(s).",
        f"Not calls: {c['reaction_posts']} reaction post(s), {c['news_quotes']} news post(s) quoting a call, "
        f"{c['thanks_posts']} thanks post(s).",
        _STORIES[case.scenario],
        "",
        "Notes: views.csv dates are local days in the case zone; notices.csv times are UTC. Complaints carry",
        "an anonymous reporter id (as a data-access request might give); enforcement e-mails do not.",
        "",
    ]
    return "\n".join(lines)


_STORIES = {
    "campaign": "A hostile channel posts a call to report several videos; other channels and groups copy it;\n"
                "complaints and removals follow.",
    "organic": "A few videos go viral; views jump, complaints follow the views and the videos are removed,\n"
               "with no call anywhere.",
    "failed": "Calls to report videos are posted and copied, and nothing happens.",
    "null": "Background only: ordinary complaints, an automated notice stream, chatter that links the videos.",
    "mixed": "Campaign, viral burst and failed calls in one case, at different times.",
    "aftermath": "Several videos draw complaints and are removed with no call anywhere; afterwards supporters,\n"
                 "news and hostile channels post their links, and complaints keep trickling in.",
    "partial": "A campaign called in chats that were not collected; only some copies (some late) are in the\n"
               "exports. truth.json marks each call observed or not.",
    "multichannel": "One notices log for two channels: a campaign against one, a viral burst (and perhaps a\n"
                    "termination) on the other. truth.json names the channel of every event.",
    "demo": "The motivating incident: testimony videos reported for harassment after calls in Telegram\n"
            "channels and WhatsApp groups (April to June 2025), a channel block lifted three days later, and\n"
            "automated 'Violent criminal organizations' notices all along; plus a viral burst and failed calls.",
}


__all__ = ["SCENARIOS", "SimParams", "simulate_case"]
