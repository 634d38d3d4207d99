"""Ingest in bounded batches: a Telegram export is never whole in memory, nor are its rows, and
ingest stays atomic and idempotent across batches."""

import importlib.util
import json
import random
from pathlib import Path

import pandas as pd
import pytest

from detector.collect import telegram_export
from detector.collect.telegram_export import _Export, read, repair, stream
from detector.errors import DetectorError
from detector.ingestion import ingest
from detector.store import Case, SourceWriter

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _synthetic():
    spec = importlib.util.spec_from_file_location("telegram_synthetic", BENCH / "telegram_synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_large_export_is_parsed_in_bounded_blocks_and_written_in_bounded_batches(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    path.write_bytes(_synthetic().synthetic_export(5000, seed=5))
    whole = read(path).frames["posts"]
    block = 64 * 1024
    monkeypatch.setattr(telegram_export, "_BLOCK", block)
    repaired = []

    def recording_repair(data: bytes) -> bytes:
        repaired.append(len(data))
        return repair(data)

    monkeypatch.setattr(telegram_export, "repair", recording_repair)
    batches = []
    parsed = stream(path, sink=lambda frames: batches.append(frames["posts"]), batch_rows=400)
    # The parser never saw more than two blocks at once: the file was never whole in memory.
    assert max(repaired) <= 2 * block and sum(repaired) >= path.stat().st_size
    assert max(map(len, batches)) <= 400 and len(batches) == -(-len(whole) // 400)
    streamed = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole)
    assert parsed.detail["messages"] == len(whole)


def _ragged_json(rng: random.Random, newlines: bool) -> bytes:
    """Bytes holding every shape the repairs and checks look at, in random order."""
    parts = [b'"a\\x01b"', b'"C:\\\\x41"', b'"\\\\\\x02"', b'"\\ud83d\\ude00"', b'"\\\\ud800"',
             b'"document_id": video_files/x (2).webm', b'"document_id": 5', b'"document_id": "q"', b"[[1]]",
             b'"plain text \xd0\xb6"', b"\\\\\\\\", b"\\x4", b"{}"]
    sep = [b"\n", b",\n", b"\r\n", b" "] if newlines else [b" ", b","]
    return b"".join(rng.choice(parts) + rng.choice(sep) for _ in range(400))


@pytest.mark.parametrize("newlines", [True, False])
def test_repairing_block_by_block_gives_what_repairing_the_whole_file_gives(tmp_path, monkeypatch, newlines):
    rng = random.Random(7)
    for block in (1, 7, 64, 4096):
        monkeypatch.setattr(telegram_export, "_BLOCK", block)
        data = _ragged_json(rng, newlines)
        path = tmp_path / "x.json"
        path.write_bytes(data)
        export = _Export(path, telegram_export.DEFAULT_LIMITS)
        with export.open() as fh:
            streamed = b"".join(iter(lambda: fh.read(100), b""))
        assert streamed == repair(data), block


def test_a_lone_surrogate_is_named_by_its_line_whichever_block_it_is_in(tmp_path, monkeypatch):
    monkeypatch.setattr(telegram_export, "_BLOCK", 64)
    lines = [f'  {{"id": {i}, "type": "message", "date_unixtime": "1714564800", "text": "t{i}"}},' for i in range(50)]
    lines[37] = '  {"id": 37, "type": "message", "date_unixtime": "1714564800", "text": "\\ud800"},'
    path = tmp_path / "result.json"
    path.write_text('{"name": "c", "type": "public_channel", "id": 1, "messages": [\n' + "\n".join(lines)
                    + '\n  {"id": 99, "type": "service"}\n]}\n')
    with pytest.raises(DetectorError, match="lone UTF-16 surrogate") as err:
        read(path)
    assert err.value.line == 39


def _export_bytes(messages: list[dict], chat_id: int = 1) -> bytes:
    return json.dumps({"name": "Chat", "type": "public_channel", "id": chat_id, "messages": messages},
                      ensure_ascii=False, indent=1).encode()


def _message(i: int, **extra) -> dict:
    return {"id": i, "type": "message", "date_unixtime": str(1714564800 + i), "text": f"message {i}", **extra}


def _counts(db: Path) -> dict:
    with Case.open(db, read_only=True) as case:
        return {t: case.con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in ("posts", "sources")}


def test_a_refusal_in_a_late_batch_leaves_the_case_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setattr(telegram_export, "BATCH_ROWS", 100)
    good = tmp_path / "good" / "result.json"
    good.parent.mkdir()
    good.write_bytes(_export_bytes([_message(i) for i in range(1, 251)], chat_id=2))
    db = tmp_path / "case.duckdb"
    ingest([good], db)
    before = _counts(db)
    assert before == {"posts": 250, "sources": 1}
    messages = [_message(i) for i in range(1, 451)]
    del messages[420]["date_unixtime"]   # the fifth batch holds a message without a date
    bad = tmp_path / "bad" / "result.json"
    bad.parent.mkdir()
    bad.write_bytes(_export_bytes(messages))
    with pytest.raises(DetectorError, match="message 421 in chat 'Chat' has no date"):
        ingest([bad], db)
    assert _counts(db) == before
    assert _staging_tables(db) == []


def _staging_tables(db: Path) -> list[str]:
    with Case.open(db, read_only=True) as case:
        return [r[0] for r in case.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE starts_with(table_name, '_staging_')").fetchall()]


def test_rows_a_killed_ingest_left_staged_are_dropped_by_the_next_writer(tmp_path):
    db = tmp_path / "case.duckdb"
    with Case.open(db) as case:
        writer = SourceWriter(case, "0123456789abcdef")
        writer.add({"posts": pd.DataFrame({"post_id": ["telegram:tg1:1"], "text": ["staged, never moved"]})})
    assert _staging_tables(db) == ["_staging_0123456789abcdef_posts"]
    with Case.open(db):
        pass
    assert _staging_tables(db) == [] and _counts(db) == {"posts": 0, "sources": 0}


def test_batches_keep_the_first_of_repeated_post_ids_and_ingest_stays_idempotent(tmp_path, monkeypatch):
    monkeypatch.setattr(telegram_export, "BATCH_ROWS", 7)
    messages = [_message(i) for i in range(1, 41)] + [_message(3, text="a later copy")] + [_message(41)]
    path = tmp_path / "result.json"
    path.write_bytes(_export_bytes(messages))
    db = tmp_path / "case.duckdb"
    report = ingest([path], db)
    assert report.rows == 41
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts").set_index("message_id")
        detail = json.loads(case.table("sources")["detail"].iloc[0])
    assert posts.loc["3", "text"] == "message 3"
    assert detail["duplicates_dropped"] == 1 and detail["messages"] == 41
    assert ingest([path], db).files[0].status == "already ingested"
    assert _counts(db) == {"posts": 41, "sources": 1}


def test_an_overlapping_export_adds_only_its_new_messages_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(telegram_export, "BATCH_ROWS", 10)
    first, second = tmp_path / "a" / "result.json", tmp_path / "b" / "result.json"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(_export_bytes([_message(i) for i in range(1, 31)]))
    second.write_bytes(_export_bytes([_message(i) for i in range(21, 61)]))
    db = tmp_path / "case.duckdb"
    report = ingest([first, second], db)
    assert [f.rows for f in report.files] == [30, 30]
    assert _counts(db) == {"posts": 60, "sources": 2}
