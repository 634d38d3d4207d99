"""Limits at the door: every class of hostile input the issue lists is refused in one line (exit 2),
leaves the case unchanged and is not recorded as a source; a bug becomes a crash report (exit 70)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.collect.base import ReadOptions
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, json_depth, markdown_table
from detector.errors import DetectorError
from detector.store import Case

ROOT = Path(__file__).resolve().parents[1]
CHAT = {"name": "C", "type": "public_channel", "id": 5, "messages": [
    {"id": 1, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600",
     "from": "Ann", "text": "report https://youtu.be/dQw4w9WgXcQ"}]}
NOTICES = ("received_at,target_url,action,policy\n"
           "2025-04-10T10:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed,Harassment\n")
WHATSAPP = "".join(f"25/05/2024, 10:{i:02d} - Ann: hello {i}\n" for i in range(5))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def case(tmp_path) -> Path:
    """A case holding one notices file, to prove that refusals leave it as it was."""
    good = tmp_path / "good.csv"
    good.write_text(NOTICES, encoding="utf-8")
    db = tmp_path / "case.duckdb"
    assert run("ingest", good, "--db", db).exit_code == 0
    return db


def _state(db: Path):
    with Case.open(db, read_only=True) as c:
        return c.counts(), sorted(c.query("SELECT name FROM sources")["name"])


def refuse(db: Path, path: Path, *options) -> str:
    """Ingest ``path``; assert exit 2, one line on stderr naming the file, the case unchanged."""
    before = _state(db)
    result = run("ingest", path, "--db", db, *options)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path.name}"), result.stderr
    assert "Traceback" not in result.output
    assert _state(db) == before
    return lines[0]


def _write(tmp_path: Path, name: str, data: bytes | str | object) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# -- structurally invalid Telegram exports ----------------------------------------------------

@pytest.mark.parametrize(("messages", "said"), [
    ({}, "an object"), ("messages", "a string"), (7, "a number"), (None, "null")])
def test_telegram_messages_that_are_not_a_list_are_refused_naming_the_line(case, tmp_path, messages, said):
    path = _write(tmp_path, "result.json", {**CHAT, "messages": messages})
    line = refuse(case, path, "--format", "telegram_json")
    assert f'result.json:1: "messages" is {said}, not a list of messages' in line


@pytest.mark.parametrize(("chats", "said"), [
    ({"list": {}}, '"chats.list" is an object'), ({"list": "x"}, '"chats.list" is a string'),
    ({"about": "x"}, '"chats" has no "list"'), ("x", '"chats" is a string'),
    ({"list": [1]}, "chat 1 of chats.list is a number"),
    ({"list": [{"name": "A", "id": 1, "messages": {}}]}, "chat 1 of chats.list has an object for its messages")])
def test_a_broken_chats_list_is_refused(case, tmp_path, chats, said):
    path = _write(tmp_path, "result.json", {"about": "Here is the data you requested.", "chats": chats})
    assert said in refuse(case, path, "--format", "telegram_json")


@pytest.mark.parametrize(("text", "said"), [
    ([1, 2, 3], "its text holds a number"), ({"a": 1}, "its text is an object"), (12, "its text is a number"),
    ([{"type": "link", "text": 5}], "its text holds a number"), ([[1]], "its text holds a list")])
def test_telegram_text_of_a_shape_tdesktop_never_writes_is_refused(case, tmp_path, text, said):
    chat = {**CHAT, "messages": [{**CHAT["messages"][0], "text": text}]}
    path = _write(tmp_path, "result.json", chat)
    assert f"message 1 in chat 'C': {said}" in refuse(case, path)


def test_a_message_that_is_not_an_object_is_refused(case, tmp_path):
    path = _write(tmp_path, "result.json", {**CHAT, "messages": [CHAT["messages"][0], 5]})
    assert "message 2 of chat 'C' is a number, not a message object" in refuse(case, path)


def test_a_lone_utf16_surrogate_in_telegram_json_is_refused_but_a_pair_is_read(case, tmp_path):
    raw = json.dumps(CHAT).replace("report ", "report \\ud800 ", 1)
    line = refuse(case, _write(tmp_path, "result.json", raw))
    assert "lone UTF-16 surrogate" in line
    paired = json.dumps(CHAT).replace("report ", "report \\ud83d\\ude00 ", 1)
    (tmp_path / "ok").mkdir()
    assert run("ingest", _write(tmp_path / "ok", "result.json", paired), "--db", case).exit_code == 0


def test_an_export_of_only_service_messages_adds_nothing_and_is_refused(case, tmp_path):
    service = {**CHAT, "messages": [{"id": 1, "type": "service", "date_unixtime": "1714557600", "action": "x"}]}
    line = refuse(case, _write(tmp_path, "result.json", service))
    assert "nothing to ingest: the file holds no messages (service skipped: 1)" in line


# -- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("epoch", ["-1", "0", "-62135596800", "253402300800", "99999999999999999999"])
def test_out_of_range_unix_times_are_refused_before_any_conversion(case, tmp_path, epoch):
    chat = {**CHAT, "messages": [{**CHAT["messages"][0], "date_unixtime": epoch}]}
    line = refuse(case, _write(tmp_path, "result.json", chat))
    assert f"date_unixtime {int(epoch)} is not a plausible date" in line


@pytest.mark.parametrize(("name", "content", "said"), [
    ("result.json", {**CHAT, "messages": [{**CHAT["messages"][0], "date_unixtime": None, "date": "9999-12-31T00:00:00"}]},
     "posted_at 9999-12-31"),
    ("notices.csv", NOTICES.replace("2025-04-10", "1900-01-01"), "notices.csv:2: received_at 1900-01-01"),
    ("notices.csv", NOTICES.replace("2025-04-10", "2004-12-31"), "received_at 2004-12-31"),
    ("views.csv", "video,date,views\nhttps://youtu.be/dQw4w9WgXcQ,9999-12-31,5\n", "views.csv:2: day 9999-12-31"),
    ("lumen.json", {"dmca": {"id": 1, "date_received": "1900-01-01T00:00:00Z",
                             "works": [{"infringing_urls": [{"url": "https://youtu.be/dQw4w9WgXcQ"}]}]}},
     "received_at 1900-01-01"),
    ("lumen.json", {"dmca": {"id": 1, "date_received": "99999-01-01T00:00:00Z",
                             "works": [{"infringing_urls": [{"url": "https://youtu.be/dQw4w9WgXcQ"}]}]}},
     "cannot read date '99999-01-01T00:00:00Z'"),
    ("WhatsApp Chat with Ann.txt", WHATSAPP.replace("2024", "1999"), "posted_at 1999-05-25"),
])
def test_implausible_dates_are_refused_in_every_format(case, tmp_path, name, content, said):
    line = refuse(case, _write(tmp_path, name, content), "--tz", "UTC")
    assert said in line and "not a plausible date" in line or "cannot read date" in line
    assert "--limit earliest" in line or "Lumen dates" in line


def test_an_email_notice_dated_1900_is_refused(case, tmp_path):
    eml = (ROOT / "tests" / "fixtures" / "email" / "cg_warning_harassment.eml").read_bytes()
    eml = re.sub(rb"(?m)^Date: .*$", b"Date: Mon, 01 Jan 1900 00:00:00 +0000", eml, count=1)
    assert "received_at 1900-01-01" in refuse(case, _write(tmp_path, "notice.eml", eml))


def test_the_date_range_is_a_limit_the_user_can_widen(case, tmp_path):
    old = _write(tmp_path, "old.csv", NOTICES.replace("2025-04-10", "2003-06-01"))
    refuse(case, old)
    result = run("ingest", old, "--db", case, "--limit", "earliest=2003-01-01")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("setting", ["earliest=yesterday", "max_json_depth=3", "nonsense=1", "max_file_mb"])
def test_a_bad_limit_setting_is_a_one_line_error(case, tmp_path, setting):
    result = run("ingest", tmp_path / "good.csv", "--db", case, "--limit", setting)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and "limit" in result.stderr


# -- Lumen, e-mail, views ----------------------------------------------------------------------

@pytest.mark.parametrize(("works", "said"), [
    ("works", "works is str, not a list"), (5, "works is int"), ([1], "a work is int"),
    ([{"infringing_urls": "x"}], "infringing_urls is str")])
def test_lumen_works_of_the_wrong_shape_are_refused(case, tmp_path, works, said):
    path = _write(tmp_path, "lumen.json", {"dmca": {"id": 7, "date_received": "2017-04-15T03:49:34.000Z",
                                                    "works": works}})
    assert f"notice 7: {said}" in refuse(case, path, "--format", "lumen")


@pytest.mark.parametrize(("name", "content"), [
    ("Takeout.mbox", b"\n\n"), ("Takeout.mbox", b"From nobody\n"),
    ("Takeout.mbox", b"From a@b Tue May 14 09:12:44 2024\nFrom: a@b.c\nSubject: hi\n\nhello\n")])
def test_empty_mailboxes_and_mailboxes_without_notices_are_refused(case, tmp_path, name, content):
    line = refuse(case, _write(tmp_path, name, content), "--format", "notice_email")
    assert "no e-mail" in line or "is a YouTube notice" in line or "empty" in line


@pytest.mark.parametrize(("views", "said"), [
    ("-5", "as a number of views"), ("1e30", "more views in a day than the limit"),
    ("99999999999999999999", "more views in a day than the limit"), ("NaN", "as a number of views"),
    ("inf", "more views in a day")])
def test_negative_or_absurd_view_counts_are_refused_naming_the_line(case, tmp_path, views, said):
    path = _write(tmp_path, "views.csv", f"video,date,views\nhttps://youtu.be/dQw4w9WgXcQ,2025-01-01,{views}\n")
    line = refuse(case, path)
    assert line.startswith("error: views.csv:2:") and said in line


# -- sizes: nesting, zips, files, texts ----------------------------------------------------------

def test_json_depth_counts_only_brackets_outside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [[1]], "c": "\\\\\\"[[[["}') == 3
    assert json_depth(b"[" * 100 + b"]" * 100) == 100
    assert json_depth(b'["\\\\", [[]]]') == 3


def _nested_array_export(depth: int) -> bytes:
    return b'{"name": "C", "id": 1, "messages": [' + b"[" * depth + b"]" * depth + b"]}"


def test_a_208_kb_nested_array_is_refused_fast_in_bounded_memory(tmp_path):
    """The variant that reached 6.9 GB: refused under a 1.5 GB address-space limit, in seconds."""
    path = _write(tmp_path, "result.json", _nested_array_export(104_000))
    assert 200_000 < path.stat().st_size < 220_000
    code = ("import resource, sys; soft, hard = resource.getrlimit(resource.RLIMIT_AS); "
            "cap = 1536 * 2**20 if hard == resource.RLIM_INFINITY else min(1536 * 2**20, hard); "
            "resource.setrlimit(resource.RLIMIT_AS, (cap, hard)); "
            "from detector.cli import main; sys.argv = ['detector'] + sys.argv[1:]; main()")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, "ingest", str(path), "--db", str(tmp_path / "c.duckdb"),
                             "--format", "telegram_json"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "JSON nested more than 64 levels deep" in result.stderr
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("where", ["root", "lumen", "case_file"])
def test_deep_nesting_that_would_raise_recursion_error_is_refused(case, tmp_path, where):
    deep = "[" * 5000 + "]" * 5000
    if where == "root":
        path = _write(tmp_path, "result.json", '{"x": ' + deep + ', "messages": []}')
    elif where == "lumen":
        path = _write(tmp_path, "lumen.json", '{"notices": [{"id": 1, "works": ' + deep + "}]}")
    else:
        folder = tmp_path / "folder"
        folder.mkdir()
        _write(folder, "notices.csv", NOTICES)
        _write(folder, "detector-case.json", '{"tz": ' + deep + "}")
        result = run("ingest", folder, "--db", case)
        assert result.exit_code == 2 and "detector-case.json: JSON nested more than" in result.stderr
        return
    assert "JSON nested more than 64 levels deep" in refuse(case, path, "--format",
                                                             "lumen" if where == "lumen" else "telegram_json")


def _zip(text: str, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr("WhatsApp Chat with Ann.txt", text)
    return buf.getvalue()


def test_a_zip_bomb_is_refused_by_its_packing_ratio_before_the_size_cap(case, tmp_path):
    bomb = _zip(WHATSAPP.split("\n")[0] + "\n" + " " * (40 * 2**20))
    assert len(bomb) < 100_000
    line = refuse(case, _write(tmp_path, "WhatsApp Chat with Ann.zip", bomb), "--tz", "UTC")
    assert "unpacks to more than 100 times its packed size" in line and "--limit max_zip_ratio" in line


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zips_in_other_standard_methods_are_read(tmp_path, method):
    path = _write(tmp_path, "WhatsApp Chat with Ann.zip", _zip(WHATSAPP, method))
    result = run("ingest", path, "--db", tmp_path / "c.duckdb", "--tz", "UTC")
    assert result.exit_code == 0 and "5 rows added" in result.output


@pytest.mark.parametrize("damage", ["encrypted_flag", "truncated", "flipped"])
def test_damaged_or_encrypted_zips_are_refused(case, tmp_path, damage):
    data = bytearray(_zip(WHATSAPP * 50))
    if damage == "encrypted_flag":   # the member's flag, in its local header and the central directory
        data[6] |= 1
        data[data.rfind(b"PK\x01\x02") + 8] |= 1
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        for i in range(40, 140, 5):
            data[i] ^= 0x5A
    refuse(case, _write(tmp_path, "WhatsApp Chat with Ann.zip", bytes(data)), "--tz", "UTC",
           "--format", "whatsapp")


@pytest.mark.parametrize("cut", [1, 9, 17, 30, 60])
def test_a_truncated_whatsapp_file_with_format_forced_is_refused_or_read(case, tmp_path, cut):
    data = "01/05/2024, 10:00 - Аня: привет\n".encode()[:cut]
    path = _write(tmp_path, "chat.txt", data)
    result = run("ingest", path, "--db", case, "--format", "whatsapp", "--tz", "UTC")
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and "chat.txt" in result.stderr


def test_a_file_over_the_size_limit_is_refused_before_it_is_hashed_or_read(case, tmp_path):
    path = _write(tmp_path, "notices.csv", NOTICES + "#" * (2**20 + 10))
    line = refuse(case, path, "--limit", "max_file_mb=1")
    assert "more than the 1 MiB limit" in line


def test_long_messages_are_stored_whole_and_absurd_ones_refused_naming_the_message(case, tmp_path):
    long_telegram = "ж" * 4096
    chat = {**CHAT, "messages": [{**CHAT["messages"][0], "text": long_telegram}]}
    assert run("ingest", _write(tmp_path, "result.json", chat), "--db", case).exit_code == 0
    long_whatsapp = "25/05/2024, 10:00 - Ann: " + "w" * 65_000 + "\n25/05/2024, 10:01 - Ann: ok\n"
    assert run("ingest", _write(tmp_path, "WhatsApp Chat with Ann.txt", long_whatsapp), "--db", case,
               "--tz", "UTC").exit_code == 0
    with Case.open(case, read_only=True) as c:
        lengths = sorted(c.con.execute("SELECT length(text) FROM posts").fetchall())
    assert lengths == [(2,), (4096,), (65_000,)]
    huge = "25/05/2024, 10:00 - Ann: ok\n25/05/2024, 10:01 - Ann: " + "w" * 1_000_001 + "\n"
    line = refuse(case, _write(tmp_path, "WhatsApp Chat with Bo.txt", huge), "--tz", "UTC", "--format", "whatsapp")
    assert line.startswith("error: WhatsApp Chat with Bo.txt:2: text is 1,000,001 characters long")


def test_limits_are_validated_once_where_they_are_made():
    with pytest.raises(DetectorError, match="max_zip_ratio must be between"):
        ParseLimits(max_zip_ratio=1)
    assert DEFAULT_LIMITS.with_settings(["future-days=3"]).future_days == 3
    assert ReadOptions().limits is DEFAULT_LIMITS


def test_the_readme_lists_every_limit_as_declared():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- limits: generated by python -m detector.collect.limits -->\n(.*?)\n<!-- /limits -->",
                      readme, re.S)
    assert block, "README has no limits table"
    assert block.group(1).strip() == markdown_table().strip(), "stale: run python -m detector.collect.limits"


# -- the crash handler ---------------------------------------------------------------------------

def test_a_bug_prints_one_line_without_local_paths_and_writes_a_crash_report(tmp_path, monkeypatch):
    import detector.ingestion

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom in {tmp_path}/secret/input.json")

    monkeypatch.setattr(detector.ingestion, "ingest", broken)
    monkeypatch.setenv("DETECTOR_CRASH_DIR", str(tmp_path / "crashes"))
    (tmp_path / "crashes").mkdir()
    result = run("ingest", tmp_path / "x.csv", "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 70
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: internal error (RuntimeError); a crash report was written")
    assert "secret" not in result.output and "Traceback" not in result.output
    reports = list((tmp_path / "crashes").iterdir())
    assert len(reports) == 1 and str(reports[0]) in lines[0]
    text = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "boom in" in text and "version:" in text


def test_user_errors_keep_exit_code_2_and_no_crash_report(tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_CRASH_DIR", str(tmp_path))
    result = run("ingest", tmp_path / "missing.csv", "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert not list(tmp_path.glob("detector-crash-*"))


def test_the_crash_handler_works_from_the_installed_command(tmp_path):
    env = {**os.environ, "DETECTOR_CRASH_DIR": str(tmp_path)}
    code = ("import sys, detector.ingestion as i; i.ingest = lambda *a, **k: 1 / 0; "
            "from detector.cli import main; sys.argv = ['detector', 'ingest', 'x', '--db', 'c.duckdb']; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 70
    assert result.stderr.strip().startswith("error: internal error (ZeroDivisionError)")
    assert len(list(tmp_path.glob("detector-crash-*.txt"))) == 1
