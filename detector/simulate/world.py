"""The simulated world: the subject channel and its videos, the chats, text rendering, background
notices, everyday chatter and views (a mixin of the case builder)."""

from __future__ import annotations

from datetime import date

import numpy as np

from detector import simulate_text as T
from detector.simulate.model import (
    _CHAT_CYCLE,
    _ID_CHARS,
    _ID_LAST,
    _VIEWER_CYCLE,
    _WA_ENCRYPTED,
    _WEEKLY,
    DAY,
    HOUR,
    _Chat,
    _id_tokens,
    _merge_plain,
    _Notice,
    _Post,
    _removal_text,
)


class World:
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


