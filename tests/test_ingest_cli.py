"""The ingest contract as a user meets it: exit codes, one-line errors, all-or-nothing, idempotent."""

import codecs
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.store import Case

GOOD_CSV = (
    "received_at,target_url,action,policy\n"
    "2025-04-10T10:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed,Harassment and cyberbullying\n"
    "2025-04-10T11:00:00Z,https://www.youtube.com/watch?v=aaaaaaaaaaa,strike,Harassment & cyberbullying policy\n"
)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def counts(db):
    with Case.open(db, read_only=True) as case:
        return case.counts()


@pytest.fixture
def case_with_rows(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    db = tmp_path / "case.duckdb"
    result = run("ingest", good, "--db", db)
    assert result.exit_code == 0, result.output
    return db


def test_reingest_adds_nothing(case_with_rows, tmp_path):
    before = counts(case_with_rows)
    result = run("ingest", tmp_path / "good.csv", "--db", case_with_rows)
    assert result.exit_code == 0
    assert "already ingested" in result.output
    assert counts(case_with_rows) == before
    assert before["notices"] == 2 and before["sources"] == 1


def _bad_inputs(tmp_path, samples):
    truncated = (samples / "telegram" / "chatstyle" / "result.json").read_bytes()[:1500]
    return {
        "empty": ("empty.csv", b"", None),
        "truncated_json": ("result.json", truncated, "telegram_json"),
        "binary_junk": ("junk.bin", bytes(range(256)) * 8, "whatsapp"),
        "not_a_chat": ("notes.txt", b"Shopping list\nmilk\nbread\n", "whatsapp"),
        "missing_column": ("notices.csv", b"received_at,target_url,action\n2025-04-10T10:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed\n",
                           "notices_csv"),
        "bad_date": ("notices.csv", (GOOD_CSV + "soon,https://youtu.be/dQw4w9WgXcQ,removed,Spam\n").encode(), None),
        "unknown_format": ("notes.txt", b"Shopping list\nmilk\nbread\n", None),
    }


@pytest.mark.parametrize("kind", ["empty", "truncated_json", "binary_junk", "not_a_chat", "missing_column",
                                  "bad_date", "unknown_format"])
def test_bad_input_exits_2_with_one_line_and_leaves_the_case_unchanged(kind, case_with_rows, tmp_path, samples):
    name, data, fmt = _bad_inputs(tmp_path, samples)[kind]
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_bytes(data)
    before = counts(case_with_rows)
    args = ["ingest", bad, "--db", case_with_rows, "--tz", "UTC"] + (["--format", fmt] if fmt else [])
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    if kind in {"truncated_json", "bad_date", "not_a_chat"}:
        assert f"{name}:" in lines[0] and any(ch.isdigit() for ch in lines[0].split(name + ":")[1][:8])
    if kind == "bad_date":
        assert f"{name}:4" in lines[0]
    if kind == "missing_column":
        assert "policy" in lines[0]
    assert counts(case_with_rows) == before


def test_a_bad_file_in_a_folder_adds_nothing_from_the_good_ones(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "a_good.csv").write_text(GOOD_CSV, encoding="utf-8")
    (folder / "b_bad.csv").write_text(GOOD_CSV + "not a date,https://youtu.be/dQw4w9WgXcQ,removed,Spam\n",
                                      encoding="utf-8")
    db = tmp_path / "case.duckdb"
    result = run("ingest", folder, "--db", db)
    assert result.exit_code == 2
    assert counts(db)["notices"] == 0 and counts(db)["sources"] == 0


def test_folder_lists_the_files_it_skips(tmp_path, samples):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(samples / "telegram" / "chatstyle" / "result.json", folder / "result.json")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    result = run("ingest", folder, "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 0, result.output
    assert "skipped photo.jpg" in result.output
    assert counts(tmp_path / "c.duckdb")["posts"] == 11


def test_phone_local_times_need_a_zone_and_the_case_remembers_it(tmp_path, samples):
    chat = samples / "whatsapp" / "rwhatsapp" / "sample.txt"
    db = tmp_path / "c.duckdb"
    result = run("ingest", chat, "--db", db)
    assert result.exit_code == 2
    assert "--tz" in result.stderr
    assert counts(db)["posts"] == 0
    assert run("ingest", chat, "--db", db, "--tz", "Asia/Almaty").exit_code == 0
    other = samples / "whatsapp" / "chat-miner" / "test_ddmmyy_24hrs.txt"
    result = run("ingest", other, "--db", db)
    assert result.exit_code == 0, result.output
    with Case.open(db, read_only=True) as case:
        assert case.meta("tz") == "Asia/Almaty"
        assert set(case.table("sources")["tz"]) == {"Asia/Almaty"}


def test_utf16_export_with_bom_is_not_bad_input(tmp_path, samples):
    text = (samples / "whatsapp" / "rwhatsapp" / "sample.txt").read_text(encoding="utf-8")
    utf16 = tmp_path / "WhatsApp Chat with Sample.txt"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    db = tmp_path / "c.duckdb"
    result = run("ingest", utf16, "--db", db, "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert counts(db)["posts"] > 0


def test_every_row_points_back_to_its_source(case_with_rows):
    with Case.open(case_with_rows, read_only=True) as case:
        notices = case.table("notices")
        sources = case.table("sources")
    assert set(notices["source_id"]) == set(sources["source_id"])
    assert list(notices["source_ref"]) == ["2", "3"]
    assert sources["sha256"].str.len().eq(64).all()


def test_status_prints_rows_and_span(case_with_rows):
    result = run("status", "--db", case_with_rows)
    assert result.exit_code == 0
    assert "notices" in result.output and "2025-04-10" in result.output


def test_template_notices_writes_the_header():
    result = run("template", "notices")
    header = result.output.splitlines()[0].split(",")
    assert {"received_at", "target_url", "action", "policy"} <= set(header)


def test_unknown_path_is_an_error(tmp_path):
    result = run("ingest", tmp_path / "nope.csv", "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr


def test_list_columns_survive_the_round_trip_through_the_store(tmp_path, samples):
    db = tmp_path / "c.duckdb"
    assert run("ingest", samples / "telegram" / "chatstyle" / "result.json", "--db", db).exit_code == 0
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts")
    assert all(isinstance(v, list) for v in posts["urls"])
    assert posts["urls"].map(len).sum() > 0


@pytest.mark.parametrize("when", ["9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z", "1969-12-31T23:59:59Z"])
def test_an_implausible_date_is_refused_with_its_line_and_nothing_is_written(tmp_path, when):
    from click.testing import CliRunner

    from detector.cli import main

    csv_path = tmp_path / "notices.csv"
    csv_path.write_text("received_at,target_url,action,policy\n"
                        "2024-05-01T10:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed,harassment\n"
                        f"{when},https://youtu.be/dQw4w9WgXcQ,removed,harassment\n", encoding="utf-8")
    db = tmp_path / "case.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(csv_path), "--db", str(db)])
    assert result.exit_code == 2
    assert "notices.csv:3" in result.stderr and "not a plausible date" in result.stderr
    assert "Traceback" not in result.output
    if db.exists():
        from detector.store import Case

        with Case.open(db, read_only=True) as case:
            assert case.counts()["notices"] == 0 and case.counts()["sources"] == 0


def test_a_negative_unix_time_in_a_telegram_export_is_refused(tmp_path):
    import json

    from click.testing import CliRunner

    from detector.cli import main

    export = {"name": "C", "type": "public_channel", "id": 5, "messages": [
        {"id": 1, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600", "text": "hi"},
        {"id": 2, "type": "message", "date": "1969-12-31T23:00:00", "date_unixtime": "-3600", "text": "old"}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(tmp_path / "case.duckdb")])
    assert result.exit_code == 2 and "not a plausible date" in result.stderr and "result.json" in result.stderr


def test_terminal_escapes_in_file_names_and_chat_titles_are_printed_visibly(tmp_path):
    import json

    from click.testing import CliRunner

    from detector.cli import main

    export = {"name": "Chat\x1b[2J\x1b]0;owned\x07", "type": "public_channel", "id": 5, "messages": [
        {"id": 1, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600",
         "text": "report this https://youtu.be/dQw4w9WgXcQ"}]}
    path = tmp_path / "res\x1bult.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    db = tmp_path / "case.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "res\\x1bult.json" in result.output
    status = CliRunner().invoke(main, ["status", "--db", str(db)])
    assert "\x1b" not in status.output
    bad = CliRunner().invoke(main, ["ingest", str(tmp_path / "no\x1bsuch"), "--db", str(db)])
    assert bad.exit_code == 2 and "\x1b" not in bad.stderr and "\\x1b" in bad.stderr


def _demo_zip() -> Path:
    return next((Path(__file__).resolve().parents[1] / "detector" / "data" / "demo" / "whatsapp").glob("*.zip"))


def test_a_damaged_whatsapp_zip_is_refused_cleanly(tmp_path):
    from click.testing import CliRunner

    from detector.cli import main

    data = bytearray(_demo_zip().read_bytes())
    for i in range(200, min(len(data) - 200, 1200), 7):     # corrupt the compressed stream
        data[i] ^= 0x5A
    bad = tmp_path / "WhatsApp Chat - broken.zip"
    bad.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["ingest", str(bad), "--db", str(tmp_path / "c.duckdb"), "--tz", "UTC"])
    assert result.exit_code == 2, result.output
    assert "WhatsApp Chat - broken.zip" in result.stderr and "Traceback" not in result.output


def test_a_zip_that_unpacks_past_the_limit_is_refused_before_it_fills_memory(tmp_path):
    import zipfile

    from click.testing import CliRunner

    from detector.cli import main

    chat = "".join(f"01/05/2024, 10:{i % 60:02d} - Ann: hello {i}\n" for i in range(40_000))
    bomb = tmp_path / "WhatsApp Chat with Ann.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WhatsApp Chat with Ann.txt", chat)
    assert len(chat) > 2**20
    result = CliRunner().invoke(main, ["ingest", str(bomb), "--db", str(tmp_path / "c.duckdb"), "--tz", "UTC",
                                       "--limit", "max_unpacked_mb=1"])
    assert result.exit_code == 2 and "unpacks to more than 1 MiB" in result.stderr
    assert "--limit max_unpacked_mb" in result.stderr


def test_telegram_text_of_the_wrong_shape_is_refused_not_a_traceback(tmp_path):
    import json

    from click.testing import CliRunner

    from detector.cli import main

    export = {"name": "C", "type": "public_channel", "id": 5, "messages": [
        {"id": 1, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600", "text": [1, 2, 3]}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "result.json: message 1 in chat 'C': its text holds a number" in result.stderr
