"""detector watch: against the fixture server on 127.0.0.1, with a fake clock and sleeper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram_web_server import Server

from detector.collect.telegram_web import PreviewClient
from detector.errors import DetectorError
from detector.ingestion import collect_telegram
from detector.store import Case
from detector.watch import Watcher, email_notifier, smtp_settings_from_env, webhook_notifier

VIDEO = "https://youtu.be/dQw4w9WgXcQ"
CALL = f"Everyone report this video for harassment! Flag it now: {VIDEO}"
START = datetime(2023, 2, 24, 14, 0, tzinfo=UTC)      # after the saved posts of t.me/s/tchantest
INTERVAL = 300.0


class FakeClock:
    """Wall clock and sleeper in one: sleeping moves the clock; ``at`` runs planted events on time."""

    def __init__(self, start: datetime):
        self.t = start
        self.events: list[tuple[datetime, callable]] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        end = self.t + timedelta(seconds=seconds)
        for when, event in sorted(self.events, key=lambda e: e[0]):
            if self.t < when <= end:
                self.t = when
                event()
        self.events = [e for e in self.events if e[0] > end]
        self.t = end

    def at(self, when: datetime, event) -> None:
        self.events.append((when, event))


def _watcher(srv: Server, db: Path, clock: FakeClock, channels=("tchantest",), notify=()) -> Watcher:
    client = PreviewClient(srv.url, delay=0.0, sleep=lambda s: None)

    def collect(chans, since, max_pages_new):
        return collect_telegram(chans, since, db, web=True, preview_client=client, max_pages_new=max_pages_new)

    return Watcher(db, channels, [VIDEO], interval=INTERVAL, collect=collect, now=clock.now, sleep=clock.sleep,
                   notify=notify)


def _alerts(db: Path):
    with Case.open(db, read_only=True) as case:
        return case.table("alerts")


def test_planted_call_is_alerted_within_one_poll_interval_and_never_twice_even_after_a_restart(tmp_path):
    db = tmp_path / "case.duckdb"
    clock = FakeClock(START)
    with Server() as srv:
        planted_at = START + timedelta(seconds=40)
        clock.at(planted_at, lambda: srv.state.plant("tchantest", 95, planted_at, CALL))
        watcher = _watcher(srv, db, clock, notify=[webhook_notifier(srv.url + "/hook")])
        polls = []
        watcher.run(max_polls=4, on_poll=polls.append)
        assert [len(p.alerts) for p in polls] == [0, 1, 0, 0]
        assert polls[0].posts == 19          # the newest page only (20 messages, one a service message)
        alert = polls[1].alerts.iloc[0]
        lag = alert["alerted_at"] - planted_at
        assert timedelta(0) < lag <= timedelta(seconds=INTERVAL)
        assert alert["reason"] == "names_subject" and list(alert["targets"]) == ["youtube:video:dQw4w9WgXcQ"]
        assert alert["permalink"] == "https://t.me/tchantest/95" and CALL in alert["text"]
        assert len(srv.state.webhooks) == 1 and srv.state.webhooks[0]["post_id"] == alert["post_id"]

        restarted = _watcher(srv, db, clock)          # a new process on the same case
        again = restarted.run(max_polls=2, on_poll=polls.append)
    assert again == 2 and [len(p.alerts) for p in polls[4:]] == [0, 0] and [p.posts for p in polls[4:]] == [0, 0]
    assert len(_alerts(db)) == 1 and len(srv.state.webhooks) == 1


def test_near_copy_of_a_known_call_in_a_new_chat_is_alerted(tmp_path):
    db = tmp_path / "case.duckdb"
    clock = FakeClock(START)
    other = "Everyone report this video for harassment!! Flag it now please: https://youtube.com/watch?v=AAAAAAAAAAA"
    with Server() as srv:
        srv.state.plant("tchantest", 95, START - timedelta(minutes=5), other)
        srv.state.plant("otherchan", 10, START - timedelta(minutes=30), "hello, a quiet channel")
        watcher = _watcher(srv, db, clock, channels=("tchantest", "otherchan"))
        watcher.poll()                      # the call is seen in tchantest: not the subject, no alert
        copy_at = START + timedelta(minutes=2)
        srv.state.plant("otherchan", 11, copy_at, other.replace("please", "pls"))
        clock.sleep(INTERVAL)
        result = watcher.poll()
    assert result.alerts["reason"].tolist() == ["copy_in_new_chat"]
    alert = result.alerts.iloc[0]
    assert alert["copy_of"].endswith(":95") and alert["message_id"] == "11" and alert["similarity"] >= 0.5


def test_failing_channel_backs_off_exponentially_while_others_are_read(tmp_path):
    db = tmp_path / "case.duckdb"
    clock = FakeClock(START)
    errors = []
    with Server() as srv:
        watcher = _watcher(srv, db, clock, channels=("tchantest", "privatechan"))
        watcher.on_error = errors.append
        reads = []
        watcher.run(max_polls=8, on_poll=lambda r: reads.append((r.started, tuple(r.channels))))
    private = [t for t, chans in reads if "privatechan" in chans]
    gaps = [(b - a).total_seconds() for a, b in zip(private, private[1:], strict=False)]
    assert gaps == [2 * INTERVAL, 4 * INTERVAL]
    assert all("tchantest" in chans for _, chans in reads)
    assert "no public preview" in errors[0]


def test_interval_is_bounded_and_a_subject_is_required(tmp_path):
    with pytest.raises(DetectorError, match="--interval"):
        Watcher(tmp_path / "c.duckdb", ["tchantest"], [VIDEO], interval=5)
    with pytest.raises(DetectorError, match="subject"):
        Watcher(tmp_path / "c.duckdb", ["tchantest"], [], interval=300)


def test_email_alert_is_sent_with_the_environment_settings():
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, msg):
            sent.append(("send", msg["To"], msg.get_content()))

    env = {"DETECTOR_SMTP_HOST": "mail.example.org", "DETECTOR_SMTP_USER": "ngo", "DETECTOR_SMTP_PASSWORD": "pw-secret",
           "DETECTOR_SMTP_FROM": "watch@example.org", "DETECTOR_ALERT_EMAIL_TO": "a@example.org, b@example.org"}
    settings = smtp_settings_from_env(env)
    assert "pw-secret" not in repr(settings)
    alert = {"alert_id": "names_subject:p", "reason": "names_subject", "post_id": "p", "chat": "tg1", "chat_title": "c",
             "message_id": "5", "permalink": "https://t.me/c/5", "posted_at": START, "alerted_at": START,
             "targets": ["youtube:video:dQw4w9WgXcQ"], "copy_of": None, "similarity": None, "text": CALL,
             "detail": '{"summary": "Call to report in c"}'}
    email_notifier(settings, smtp_factory=FakeSMTP)(alert)
    assert sent[0] == ("connect", "mail.example.org", 587) and ("starttls",) in sent and ("login", "ngo") in sent
    assert sent[-1][1] == "a@example.org, b@example.org" and "https://t.me/c/5" in sent[-1][2]


def test_check_mentions_alerts_on_the_target(tmp_path):
    from detector.analysis import analyze_case
    from detector.results import check_target

    db = tmp_path / "case.duckdb"
    clock = FakeClock(START)
    with Server() as srv:
        srv.state.plant("tchantest", 95, START - timedelta(minutes=1), CALL)
        _watcher(srv, db, clock).poll()
    analyze_case(db)
    with Case.open(db, read_only=True) as case:
        result = check_target(case, VIDEO)
    assert len(result.alerts) == 1
    assert any("early-warning alert" in d for d in result.details)
    assert result.as_json()["alerts"][0]["permalink"] == "https://t.me/tchantest/95"


def test_sigterm_stops_the_watch_cleanly(tmp_path):
    db = tmp_path / "case.duckdb"
    with Server() as srv:
        env = {**os.environ, "DETECTOR_TELEGRAM_WEB_URL": srv.url, "PYTHONUNBUFFERED": "1"}
        for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_SESSION_FILE"):
            env.pop(name, None)
        proc = subprocess.Popen([sys.executable, "-m", "detector", "watch", "tchantest", "--subject", VIDEO,
                                 "--interval", "60", "--delay", "0.5", "--lookback-h", "100000", "--db", str(db)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            lines = []
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:       # wait for the first poll to finish
                line = proc.stdout.readline()
                lines.append(line)
                if "new posts" in line or not line:
                    break
            assert any("new posts" in ln for ln in lines), "".join(lines) + proc.stderr.read()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after 1 polls" in out and "Traceback" not in err
    with Case.open(db, read_only=True) as case:         # the case is whole and readable
        assert case.counts()["posts"] == 19
