"""The app's long writes run in the background: they survive page changes and show their step."""

import threading
import time

import pytest

from detector.errors import DetectorError
from detector_app import jobs


def _wait(job, timeout=10.0):
    deadline = time.time() + timeout
    while job.running and time.time() < deadline:
        time.sleep(0.02)
    assert not job.running


def test_a_job_reports_its_step_and_refuses_a_second_job_on_the_same_case(tmp_path):
    db = tmp_path / "case.duckdb"
    release = threading.Event()

    def work(report):
        report(0.4, "Analysing: bursts")
        release.wait(5)
        return "the report"

    job = jobs.start(db, "Re-analysing the case", work)
    deadline = time.time() + 5
    while job.step != "Analysing: bursts" and time.time() < deadline:
        time.sleep(0.01)
    assert jobs.current(db) is job and job.running and job.fraction == pytest.approx(0.4)
    with pytest.raises(DetectorError, match="already being updated"):
        jobs.start(db, "Another", lambda report: None)
    release.set()
    _wait(job)
    assert job.state == "done" and job.result == "the report" and job.fraction == 1.0


def test_a_failed_job_keeps_one_line_for_the_user_and_no_traceback(tmp_path):
    def user_error(report):
        raise DetectorError("expected a date", "notices.csv", 3)

    def crash(report):
        raise RuntimeError(f"boom at {tmp_path}/secret/path")

    first = jobs.start(tmp_path / "a.duckdb", "Ingesting", user_error)
    second = jobs.start(tmp_path / "b.duckdb", "Ingesting", crash)
    _wait(first)
    _wait(second)
    assert first.state == "failed" and first.error == "notices.csv:3: expected a date"
    assert second.state == "failed" and str(tmp_path) not in second.error and "server's log" in second.error


def test_uploaded_files_are_removed_when_the_job_ends(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "x.csv").write_text("a")
    job = jobs.start(tmp_path / "c.duckdb", "Ingesting", lambda report: None, cleanup=folder)
    _wait(job)
    assert not folder.exists()


def test_every_page_shows_a_running_job_and_keeps_working(app_case, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from detector_app import ui

    release = threading.Event()
    job = jobs.start(app_case, "Ingesting 2 files and re-analysing",
                     lambda report: (report(0.7, "Analysing: campaigns"), release.wait(30)))
    try:
        monkeypatch.setenv(ui.ENV_DB, str(app_case))
        app = Path(__file__).resolve().parents[1] / "app.py"
        for page in (ui.PAGES["campaigns"], ui.PAGES["add"]):
            at = AppTest.from_file(str(app), default_timeout=120)
            at.run()
            at.switch_page(page).run()
            assert not at.exception
            bars = [str(e.proto) for e in at.get("progress")]
            assert any("Analysing: campaigns" in b for b in bars), page
    finally:
        release.set()
        _wait(job)


def test_the_early_warning_page_keeps_the_watch_list_and_lists_alerts(app_case, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from detector.store import Case
    from detector_app import ui

    db = tmp_path / "data" / "case.duckdb"
    db.parent.mkdir()
    shutil.copy(app_case, db)
    with Case.open(db, command="watch") as case:
        case.add_alerts(pd.DataFrame([{"alert_id": "names_subject:p1", "alerted_at": pd.Timestamp("2025-05-01", tz="UTC"),
                                       "reason": "names_subject", "post_id": "p1", "chat": "tg1", "chat_title": "Chat",
                                       "message_id": "1", "posted_at": pd.Timestamp("2025-05-01", tz="UTC"),
                                       "permalink": None, "targets": ["youtube:video:dQw4w9WgXcQ"], "copy_of": None,
                                       "similarity": None, "p_call": 0.9, "text": "report it **now**"}]))
    monkeypatch.setenv(ui.ENV_DB, str(db))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(ui.PAGES["watch"]).run()
    assert not at.exception
    assert any("Alerts (1)" in h.value for h in at.header)
    at.text_area[0].set_value("tchantest\nhttps://t.me/s/other_channel")
    at.text_area[1].set_value("https://youtu.be/dQw4w9WgXcQ")
    at.button[0].click().run()            # the form's save button
    assert not at.exception and not at.error
    with Case.open(db, read_only=True) as case:
        from detector.results import watch_state

        saved, _ = watch_state(case)
    assert saved == {"channels": ["tchantest", "https://t.me/s/other_channel"],
                     "subject": ["https://youtu.be/dQw4w9WgXcQ"]}
    at.text_area[0].set_value("not a channel!")
    at.button[0].click().run()
    assert at.error and "not a public channel" in at.error[0].value


def test_a_failed_jobs_message_is_shown_as_typed_not_as_markdown(app_case, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from detector_app import ui

    def hostile(report):
        raise DetectorError("expected a date, got '[Click to fix](https://evil.example) ![x](https://evil.example/t.png)'",
                            "notices.csv", 2)

    job = jobs.start(app_case, "Ingesting 1 file and re-analysing", hostile)
    _wait(job)
    job.seen = True               # as after the page that started it showed the outcome once
    monkeypatch.setenv(ui.ENV_DB, str(app_case))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(ui.PAGES["add"]).run()
    assert not at.exception
    shown = [e.value for e in at.error if "evil" in e.value]
    assert shown, [e.value for e in at.error]
    # every Markdown character escaped: no link and no image can be rendered from it
    assert all("\\[Click to fix\\]\\(https\\://evil\\.example\\)" in v and "!\\[x\\]" in v for v in shown)
