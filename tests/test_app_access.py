"""The app served to others: it listens on 127.0.0.1, opens cases only from its cases folder, hides tracebacks."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from detector_app import ui

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"


def test_config_binds_to_localhost_without_a_file_watcher_or_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["fileWatcherType"] in ("none", "poll")
    assert config["client"]["showErrorDetails"] in ("none", False)
    assert "--server.address 127.0.0.1" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_case_paths_outside_the_cases_folder_are_refused(tmp_path, monkeypatch):
    cases = tmp_path / "cases"
    cases.mkdir()
    monkeypatch.setenv(ui.ENV_CASES, str(cases))
    monkeypatch.delenv(ui.ENV_DB, raising=False)
    assert ui.case_allowed(cases / "a.duckdb") and ui.case_allowed(cases / "sub" / "b.duckdb")
    assert ui.case_allowed(ui.DEMO_DB)
    for outside in (tmp_path / "other.duckdb", cases / ".." / "other.duckdb", Path("/etc/passwd"),
                    cases / "notes.txt", Path("/root/.ssh/id_rsa.duckdb")):
        assert not ui.case_allowed(outside), outside
    (tmp_path / "secret.duckdb").write_bytes(b"")
    (cases / "link.duckdb").symlink_to(tmp_path / "secret.duckdb")
    assert not ui.case_allowed(cases / "link.duckdb")          # a symlink out of the folder counts as outside
    monkeypatch.setenv(ui.ENV_DB, str(tmp_path / "operator.duckdb"))
    assert ui.case_allowed(tmp_path / "operator.duckdb")        # the operator's own choice is allowed


def test_the_path_box_refuses_a_server_path_with_a_clear_message(app_case, tmp_path, monkeypatch):
    cases = tmp_path / "cases"
    cases.mkdir()
    monkeypatch.setenv(ui.ENV_CASES, str(cases))
    monkeypatch.setenv(ui.ENV_DB, str(app_case))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.sidebar.selectbox(key="case_choice").set_value(ui.OTHER).run()
    at.sidebar.text_input(key="case_typed").set_value("/etc/passwd").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("only inside" in e and ui.ENV_CASES.replace("_", "\\_") in e for e in errors), errors
    assert not any("passwd" in str(m.value) for m in [*at.markdown, *at.error])
    assert at.session_state["case"] != "/etc/passwd"


def test_an_unexpected_error_shows_one_line_and_no_traceback(app_case, monkeypatch, tmp_path):
    monkeypatch.setenv(ui.ENV_DB, str(app_case))

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"boom in {tmp_path}/secret/place.py")

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    monkeypatch.setattr(ui, "campaigns", broken)
    at.run()
    assert not at.exception                       # nothing reaches st.exception
    shown = " ".join(str(e.value) for e in [*at.error, *at.markdown])
    assert "unexpected error" in shown
    assert str(tmp_path) not in shown and "Traceback" not in shown


@pytest.mark.parametrize("name", ["cases", "data"])
def test_default_case_folders_are_the_apps_cases_and_data(monkeypatch, name):
    monkeypatch.delenv(ui.ENV_CASES, raising=False)
    assert (ui.ROOT / name).resolve() in ui.case_roots()
    assert ui.case_allowed(ui.ROOT / name / "x.duckdb")
    assert not ui.case_allowed(ui.ROOT / "x.duckdb")
    shutil.disk_usage(ui.ROOT)       # the app folder exists
