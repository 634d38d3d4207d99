"""Early warning: follow public channels and alert while a call to report is fresh.

The groups that organise mass reporting post their calls in public channels hours before the
notices arrive. ``detector watch`` reads those channels on a schedule (the web preview, or
Telethon when configured), stores every new post through the same ingest path as ``collect``,
classifies it with the calls classifier (:func:`detector.features.calls.classify_calls`) and
raises an alert when

* **names_subject**: a call names one of the watched subject's videos or channels (the subject
  is the links, ids and handles the user gives, resolved with :mod:`detector.identity` and the
  case's aliases, plus every video the case's notices file under that channel), or
* **copy_in_new_chat**: a call is a near-copy (:func:`detector.features.copies.near_duplicate_pairs`)
  of a known call (an analysed call of the case, an earlier alert, or a call seen earlier in this
  run) and appears in a chat where no copy of it was seen before.

Alerts are appended to the case's ``alerts`` table (never updated: one row per post and
reason, so a restart cannot alert twice), then delivered: to the terminal and, when configured,
by e-mail and to a webhook. Delivery failures are reported, never fatal.

The schedule: each channel is read every ``interval`` seconds (bounded by
:data:`INTERVAL_MIN` and :data:`INTERVAL_MAX`); a channel that fails waits
``interval * 2**failures`` (at most :data:`BACKOFF_MAX`) while the others go on. What was read
survives restarts: the resume point of each channel is the one ``collect`` keeps, and what was
classified is recorded with the alerts, in one transaction. The clock and the sleeper are
injected, so tests run hours of schedule in milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from detector.errors import DetectorError
from detector.store import Case

log = logging.getLogger(__name__)

INTERVAL_MIN = 60.0            # seconds: t.me is read no more often than once a minute per channel
INTERVAL_MAX = 24 * 3600.0     # a watch that looks less than daily is not an early warning
DEFAULT_INTERVAL = 300.0
BACKOFF_MAX = 6 * 3600.0
DEFAULT_LOOKBACK_H = 24.0      # a channel seen for the first time: its posts of the last day count
REASONS = ("names_subject", "copy_in_new_chat")
COPY_THRESHOLD = 0.5           # the Jaccard similarity copies.near_duplicate_pairs calls a near-copy

ENV_WEBHOOK = "DETECTOR_WEBHOOK_URL"
ENV_SMTP = {"host": "DETECTOR_SMTP_HOST", "port": "DETECTOR_SMTP_PORT", "user": "DETECTOR_SMTP_USER",
            "password": "DETECTOR_SMTP_PASSWORD", "sender": "DETECTOR_SMTP_FROM", "to": "DETECTOR_ALERT_EMAIL_TO",
            "starttls": "DETECTOR_SMTP_STARTTLS"}


def check_interval(seconds: float) -> float:
    """``seconds`` if it lies within the bounds, else an error naming them."""
    if not INTERVAL_MIN <= float(seconds) <= INTERVAL_MAX:
        raise DetectorError(f"--interval must be between {INTERVAL_MIN:.0f} and {INTERVAL_MAX:.0f} seconds, "
                            f"got {seconds}", hint="t.me is read at most once a minute per channel")
    return float(seconds)


# -- the subject ------------------------------------------------------------------------------

def subject_targets(values: Iterable[str], aliases: pd.DataFrame | None = None,
                    notices: pd.DataFrame | None = None) -> set[str]:
    """Every canonical target id that counts as the subject.

    ``values``: links, canonical ids, bare video or ``UC…`` ids, ``@handles`` (as ``check``
    takes them). Each is resolved with the case's aliases (``aliases``: DataFrame[alias,
    canonical]) so ``@handle`` and ``UC…`` are one channel; the videos that ``notices``
    (DataFrame[target, subject]) file under one of the subject's channels are added.
    """
    from detector.identity import case_aliases, resolve_aliases, target_from_input

    given = {target_from_input(v) for v in values}
    if not given:
        raise DetectorError("watch needs a subject: the videos or channels to protect",
                            hint="--subject https://youtube.com/@channel (repeatable)")
    stored = aliases if aliases is not None else pd.DataFrame(columns=["alias", "canonical", "origin"])
    notices = notices if notices is not None else pd.DataFrame(columns=["notice_id", "target", "subject"])
    mapping = resolve_aliases(case_aliases(stored, notices))
    resolved = {mapping.get(t, t) for t in given}
    names = given | resolved | {a for a, r in mapping.items() if r in resolved}
    if len(notices) and "subject" in notices:
        subj = notices["subject"].map(lambda s: mapping.get(s, s) if isinstance(s, str) else s)
        names |= set(notices.loc[subj.isin(resolved), "target"].dropna())
    return names


# -- alerts (pure) ----------------------------------------------------------------------------

ALERT_COLUMNS = ("alert_id", "alerted_at", "reason", "post_id", "chat", "chat_title", "message_id", "posted_at",
                 "permalink", "targets", "copy_of", "similarity", "p_call", "text", "detail")


def alerts_for_posts(posts: pd.DataFrame, calls: pd.DataFrame, subject: set[str], known_calls: pd.DataFrame,
                     now: datetime, aliases: Mapping[str, str] | None = None,
                     permalinks: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The alerts new posts raise.

    Parameters
    ----------
    posts : new ``posts`` rows (post_id, chat, chat_title, message_id, posted_at, text, …).
    calls : :func:`~detector.features.calls.classify_calls` of ``posts`` (post_id, is_call, targets, p_call).
    subject : canonical target ids of the subject (:func:`subject_targets`).
    known_calls : calls known before these posts: DataFrame[post_id, chat, posted_at, text].
    aliases : id -> representative, applied to the calls' targets before comparing.
    permalinks : chat key -> ``https://t.me/<username>`` for channels whose username is known.

    Returns
    -------
    DataFrame with :data:`ALERT_COLUMNS`, one row per (post, reason), in posting order.
    """
    aliases = aliases or {}
    permalinks = permalinks or {}
    frame = posts.merge(calls[["post_id", "is_call", "targets", "p_call"]].rename(columns={"targets": "call_targets"}),
                        on="post_id", how="inner")
    frame = frame[frame["is_call"]].sort_values(["posted_at", "post_id"], kind="stable")
    rows: list[dict] = []
    if frame.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    for r in frame.itertuples():
        named = [t for t in r.call_targets if t in subject or aliases.get(t, t) in subject]
        if named:
            rows.append(_alert("names_subject", r, now, permalinks, targets=named,
                               sentence=f"names {', '.join(named)}"))
    rows += _copy_alerts(frame, known_calls, now, permalinks)
    out = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    return out.sort_values(["posted_at", "post_id", "reason"], kind="stable", ignore_index=True)


def _copy_alerts(frame: pd.DataFrame, known: pd.DataFrame, now: datetime, permalinks) -> list[dict]:
    from detector.features.copies import copy_clusters, near_duplicate_pairs

    cols = ["post_id", "chat", "posted_at", "text"]
    known = known[cols] if len(known) else pd.DataFrame(columns=cols)
    pool = pd.concat([known.assign(_new=False), frame[cols].assign(_new=True)], ignore_index=True)
    pool = pool.drop_duplicates("post_id", keep="last")
    pool["posted_at"] = pd.to_datetime(pool["posted_at"], utc=True)
    pairs = near_duplicate_pairs(pool, threshold=COPY_THRESHOLD)
    if pairs.empty:
        return []
    clusters = copy_clusters(pool, pairs).merge(pool[["post_id", "_new"]], on="post_id")
    out = []
    for r in frame.itertuples():
        member = clusters[clusters["post_id"] == r.post_id]
        if member.empty:
            continue
        cluster = clusters[clusters["cluster_id"] == member["cluster_id"].iloc[0]]
        earlier = cluster[(pd.to_datetime(cluster["posted_at"], utc=True) < pd.Timestamp(r.posted_at))
                          | (~cluster["_new"] & (cluster["post_id"] != r.post_id))]
        earlier = earlier[earlier["post_id"] != r.post_id]
        if earlier.empty or r.chat in set(earlier["chat"]):
            continue
        mine = pairs[(pairs["post_a"] == r.post_id) | (pairs["post_b"] == r.post_id)]
        first = earlier.sort_values(["posted_at", "post_id"]).iloc[0]
        similarity = float(mine["similarity"].max()) if len(mine) else None
        out.append(_alert("copy_in_new_chat", r, now, permalinks, copy_of=first["post_id"], similarity=similarity,
                          sentence=f"copies call {first['post_id']} (first seen in {first['chat']}) into a new chat"))
    return out


def _alert(reason: str, r, now: datetime, permalinks, targets=(), copy_of=None, similarity=None,
           sentence: str = "") -> dict:
    base = permalinks.get(r.chat)
    link = f"{base}/{r.message_id}" if base else None
    title = r.chat_title if isinstance(r.chat_title, str) else r.chat
    posted = pd.Timestamp(r.posted_at)
    text = r.text if isinstance(r.text, str) else ""
    summary = (f"Call to report in {title} at {posted:%Y-%m-%d %H:%M} UTC {sentence}"
               + (f": {link}" if link else f" (post {r.post_id})"))
    return {"alert_id": f"{reason}:{r.post_id}", "alerted_at": now, "reason": reason, "post_id": r.post_id,
            "chat": r.chat, "chat_title": r.chat_title, "message_id": r.message_id, "posted_at": posted,
            "permalink": link, "targets": list(targets), "copy_of": copy_of, "similarity": similarity,
            "p_call": float(r.p_call), "text": text, "detail": json.dumps({"summary": summary}, ensure_ascii=False)}


def alert_summary(alert: Mapping) -> str:
    """The one sentence an alert says (stored in its ``detail``)."""
    try:
        return json.loads(alert["detail"])["summary"]
    except (TypeError, ValueError, KeyError):
        return f"{alert['reason']}: {alert['post_id']}"


# -- delivery -----------------------------------------------------------------------------------

def alert_payload(alert: Mapping) -> dict:
    """An alert as JSON for a webhook or a log line: the post, the targets and the reason."""
    def iso(v):
        return pd.Timestamp(v).isoformat() if v is not None and not pd.isna(v) else None

    return {"alert_id": alert["alert_id"], "reason": alert["reason"], "summary": alert_summary(alert),
            "post_id": alert["post_id"], "chat": alert["chat"], "chat_title": alert["chat_title"],
            "message_id": alert["message_id"], "permalink": alert["permalink"], "posted_at": iso(alert["posted_at"]),
            "alerted_at": iso(alert["alerted_at"]), "targets": list(alert["targets"] or []),
            "copy_of": alert["copy_of"], "similarity": alert["similarity"], "text": alert["text"]}


def webhook_notifier(url: str, session=None, timeout: float = 10.0) -> Callable[[Mapping], None]:
    """POST each alert as JSON to ``url`` (raises on an HTTP error, which the watcher reports)."""
    import requests

    http = session or requests.Session()

    def send(alert: Mapping) -> None:
        resp = http.post(url, json=alert_payload(alert), timeout=timeout)
        resp.raise_for_status()

    return send


@dataclass(frozen=True, repr=False)
class SmtpSettings:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    starttls: bool = True

    def __repr__(self) -> str:       # the password never reaches a log or a traceback
        return f"SmtpSettings(host={self.host!r}, port={self.port}, to={len(self.to)} recipients)"


def smtp_settings_from_env(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """SMTP settings from ``DETECTOR_SMTP_*`` and ``DETECTOR_ALERT_EMAIL_TO``; None when no host is set."""
    env = os.environ if environ is None else environ
    if not env.get(ENV_SMTP["host"]):
        return None
    to = tuple(a.strip() for a in env.get(ENV_SMTP["to"], "").split(",") if a.strip())
    sender = env.get(ENV_SMTP["sender"]) or env.get(ENV_SMTP["user"])
    if not to or not sender:
        raise DetectorError(f"e-mail alerts need {ENV_SMTP['to']} and {ENV_SMTP['sender']} (or {ENV_SMTP['user']})")
    try:
        port = int(env.get(ENV_SMTP["port"]) or 587)
    except ValueError:
        raise DetectorError(f"{ENV_SMTP['port']} must be a number") from None
    return SmtpSettings(env[ENV_SMTP["host"]], port, sender, to, env.get(ENV_SMTP["user"]) or None,
                        env.get(ENV_SMTP["password"]) or None,
                        env.get(ENV_SMTP["starttls"], "1").lower() not in ("0", "false", "no"))


def email_notifier(settings: SmtpSettings, smtp_factory=None) -> Callable[[Mapping], None]:
    """Send each alert as a plain-text e-mail (STARTTLS on 587, TLS on 465)."""

    def send(alert: Mapping) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[detector watch] {alert_summary(alert)[:120]}"
        msg["From"], msg["To"] = settings.sender, ", ".join(settings.to)
        msg.set_content(json.dumps(alert_payload(alert), ensure_ascii=False, indent=1))
        factory = smtp_factory or (smtplib.SMTP_SSL if settings.port == 465 else smtplib.SMTP)
        with factory(settings.host, settings.port, timeout=30) as smtp:
            if settings.starttls and settings.port != 465:
                smtp.starttls()
            if settings.user and settings.password:
                smtp.login(settings.user, settings.password)
            smtp.send_message(msg)

    return send


# -- the watcher ------------------------------------------------------------------------------

@dataclass
class PollResult:
    """One poll: the channels read, the posts classified, the alerts raised, the problems met."""

    started: datetime
    channels: list[str] = field(default_factory=list)
    posts: int = 0
    alerts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ALERT_COLUMNS)))
    problems: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


class Watcher:
    """Follows ``channels`` for calls against ``subject``, storing everything in the case at ``db``.

    ``collect(channels, since, max_pages_new)`` reads the due channels into the case and returns
    a :class:`~detector.collect.telethon_live.CollectReport` (default: the web preview, or
    Telethon when the environment has credentials). ``now()`` is the wall clock (UTC) and
    ``sleep(seconds)`` waits; both are injected for tests. ``notify`` are delivery functions
    called with each new alert; ``on_error(text)`` hears what went wrong without stopping.
    """

    def __init__(self, db: str | Path, channels: Iterable[str], subject: Iterable[str], *,
                 interval: float = DEFAULT_INTERVAL, lookback_h: float = DEFAULT_LOOKBACK_H,
                 collect: Callable | None = None, now: Callable[[], datetime] | None = None,
                 sleep: Callable[[float], object] = time.sleep, notify: Iterable[Callable[[Mapping], None]] = (),
                 on_error: Callable[[str], None] | None = None, model=None):
        from detector.collect.telethon_live import channel_username

        self.db = Path(db)
        self.interval = check_interval(interval)
        self.lookback = timedelta(hours=lookback_h)
        self.channels = []
        for name in dict.fromkeys(channels):
            username = channel_username(name)
            if username is None:
                raise DetectorError(f"{name!r} is not a public channel username or t.me link")
            self.channels.append(username)
        if not self.channels:
            raise DetectorError("watch needs at least one channel", hint="detector watch CHANNEL… --subject URL")
        self.subject_values = list(subject)
        self.now = now or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.notify = list(notify)
        self.on_error = on_error or (lambda text: log.warning("%s", text))
        self.model = model
        self.collect = collect or self._default_collect
        self.next_due: dict[str, datetime] = {}
        self.failures: dict[str, int] = {}
        self.session_calls = pd.DataFrame(columns=["post_id", "chat", "posted_at", "text"])
        with Case.open(self.db) as case:
            self.subject = subject_targets(self.subject_values, case.aliases(), case.table("notices"))

    def _default_collect(self, channels, since, max_pages_new):
        from detector.ingestion import collect_telegram

        return collect_telegram(channels, since, self.db, progress=False, max_pages_new=max_pages_new)

    # -- one poll ------------------------------------------------------------------------
    def due(self) -> list[str]:
        now = self.now()
        return [c for c in self.channels if self.next_due.get(c, now) <= now]

    def poll(self) -> PollResult:
        """Read the due channels once, classify what is new, store and deliver the alerts."""
        started = self.now()
        clock = time.perf_counter()
        result = PollResult(started=started, channels=self.due())
        if not result.channels:
            return result
        report = self.collect(result.channels, started - self.lookback, 1)
        problems = dict(report.problems)
        for ch in result.channels:
            if ch in problems:
                self.failures[ch] = self.failures.get(ch, 0) + 1
                wait = min(BACKOFF_MAX, self.interval * 2 ** self.failures[ch])
                self.next_due[ch] = started + timedelta(seconds=wait)
                result.problems.append((ch, problems[ch]))
                self.on_error(f"@{ch}: {problems[ch]} (next try in {wait / 60:.0f} min)")
            else:
                self.failures[ch] = 0
                self.next_due[ch] = started + timedelta(seconds=self.interval)
        chats = {r.channel: r.chat for r in report.channels if r.chat}
        firsts = {r.channel: r.first_id for r in report.channels}
        with Case.open(self.db) as case:
            posts, marks = self._new_posts(case, chats, firsts, result.channels)
            result.posts = len(posts)
            alerts = self._alerts(case, posts, chats) if len(posts) else result.alerts
            with case.transaction():
                added = case.add_alerts(alerts.assign(alerted_at=self.now()) if len(alerts) else alerts)
                for ch, mark in marks.items():
                    case.set_meta(f"watch:{ch}", json.dumps(mark))
        result.alerts = added
        for alert in added.to_dict("records"):
            for send in self.notify:
                try:
                    send(alert)
                except Exception as exc:    # a mail server or webhook down must not stop the watch
                    self.on_error(f"could not deliver alert {alert['alert_id']} ({exc.__class__.__name__}: "
                                  f"{str(exc)[:120]})")
        result.seconds = time.perf_counter() - clock
        return result

    def _new_posts(self, case: Case, chats: dict[str, str], firsts: dict[str, int], channels: list[str]
                   ) -> tuple[pd.DataFrame, dict]:
        """Posts of ``channels`` not yet classified by watch: after each channel's mark, or (a
        channel new to watch) after the resume point this poll's collection started from."""
        frames, marks = [], {}
        state = case.collect_state()
        for ch in channels:
            stored = json.loads(case.meta(f"watch:{ch}") or "{}")
            chat = chats.get(ch) or stored.get("chat")
            if chat is None:
                continue
            through = int(stored.get("through", firsts.get(ch, 0)))
            rows = case.query("SELECT * FROM posts WHERE chat = ? AND TRY_CAST(message_id AS BIGINT) > ? "
                              "ORDER BY posted_at", [chat, through])
            marks[ch] = {"chat": chat, "through": max(through, state.get(ch, through))}
            frames.append(rows)
        frames = [f for f in frames if len(f)]
        return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), marks

    def _alerts(self, case: Case, posts: pd.DataFrame, chats: dict[str, str]) -> pd.DataFrame:
        from detector.features.calls import call_model, classify_calls
        from detector.identity import case_aliases, resolve_aliases

        self.model = self.model if self.model is not None else call_model()
        # the default model gets the tuned encoder's second opinion, as in analyze
        calls = classify_calls(posts, self.model, second_opinion=self.model is call_model())
        mapping = resolve_aliases(case_aliases(case.aliases(), case.table("notices")))
        known = self._known_calls(case)
        permalinks = {chat: f"https://t.me/{ch}" for ch, chat in chats.items()}
        for ch in self.channels:
            stored = json.loads(case.meta(f"watch:{ch}") or "{}")
            if stored.get("chat"):
                permalinks.setdefault(stored["chat"], f"https://t.me/{ch}")
        alerts = alerts_for_posts(posts, calls, self.subject, known, self.now(), mapping, permalinks)
        found = posts.merge(calls[calls["is_call"]][["post_id"]], on="post_id")[["post_id", "chat", "posted_at", "text"]]
        self.session_calls = pd.concat([self.session_calls, found], ignore_index=True).drop_duplicates("post_id")
        return alerts

    def _known_calls(self, case: Case) -> pd.DataFrame:
        cols = ["post_id", "chat", "posted_at", "text"]
        frames = [self.session_calls[cols]]
        analysed = case.derived("calls")
        if len(analysed):
            frames.append(analysed.loc[analysed["kind"] == "call", cols])
        logged = case.table("alerts")
        if len(logged):
            frames.append(logged[cols])
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True).drop_duplicates("post_id") if frames else pd.DataFrame(columns=cols)

    # -- the loop ------------------------------------------------------------------------
    def seconds_to_next(self) -> float:
        now = self.now()
        due = [self.next_due.get(c, now) for c in self.channels]
        return max(0.0, (min(due) - now).total_seconds())

    def run(self, should_stop: Callable[[], bool] = lambda: False, max_polls: int | None = None,
            on_poll: Callable[[PollResult], None] | None = None) -> int:
        """Poll until ``should_stop()`` (checked between polls and after each sleep) or ``max_polls``.

        Returns the number of polls made. A stop request during a poll lets it finish, so the
        case is never left half-written.
        """
        polls = 0
        while not should_stop() and (max_polls is None or polls < max_polls):
            result = self.poll()
            polls += 1
            if on_poll:
                on_poll(result)
            if should_stop() or (max_polls is not None and polls >= max_polls):
                break
            self.sleep(self.seconds_to_next())
        return polls
