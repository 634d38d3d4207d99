"""What happens in a simulated incident: calls and their spread, campaigns, organic waves,
reactions, failed calls, news quotes, and the scenario plans (a mixin of the case builder)."""

from __future__ import annotations

from datetime import date

import numpy as np

from detector import simulate_text as T
from detector.simulate.model import (
    _CALL_HOURS,
    _CHAT_CYCLE,
    _ID_LAST,
    _VIEWER_CYCLE,
    DAY,
    HOUR,
    _Chat,
    _iso,
    _merge_plain,
    _Notice,
    _Post,
    _removal_text,
    _video_target,
)


class Events:
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
                              forwarded_from=origin_chat.title, forwarded_at=origin.t, author=chat.title)
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

