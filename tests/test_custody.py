"""Custody in the case: original inputs kept once per hash, and an append-only, hash-chained log."""

from __future__ import annotations

import gzip
import hashlib
import json

import duckdb
import pytest
from click.testing import CliRunner

from detector import custody
from detector.cli import main
from detector.errors import DetectorError
from detector.originals import CHUNKS, ORIGINALS, original_list, store_original
from detector.store import Case

NOTICES = (
    "received_at,target_url,action,policy\n"
    "2025-04-10T10:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed,Harassment and cyberbullying\n"
    "2025-04-10T11:00:00Z,https://www.youtube.com/watch?v=aaaaaaaaaaa,strike,Harassment & cyberbullying policy\n"
)


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture
def case(tmp_path):
    """A case with one notices file ingested through the CLI by a named operator."""
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "WhatsApp Chat with Dmitry S.csv"      # a private name in a file name
    src.write_text(NOTICES, encoding="utf-8")
    db = tmp_path / "case.duckdb"
    result = run("ingest", src, "--db", db, "--operator", "Analyst A")
    assert result.exit_code == 0, result.output
    return db


def _log(db):
    with Case.open(db, read_only=True) as c:
        return custody.read_log(c)


def _sql(db, sql, params=None):
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# -- originals -------------------------------------------------------------------------------------
def test_the_original_file_is_kept_compressed_and_extracts_byte_identical(case, tmp_path):
    src = tmp_path / "in" / "WhatsApp Chat with Dmitry S.csv"
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    with Case.open(case, read_only=True) as c:
        kept = original_list(c)
    assert kept["sha256"].tolist() == [sha] and int(kept["bytes"].iloc[0]) == src.stat().st_size
    chunks = b"".join(r[0] for r in _sql(case, f"SELECT data FROM {CHUNKS} ORDER BY seq"))
    assert gzip.decompress(chunks) == src.read_bytes()             # the chunks are one standard .gz stream
    out = tmp_path / "back.csv"
    result = run("sources", "--db", case, "--extract", sha[:10], "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == src.read_bytes() and sha in result.output


def test_reingest_stores_no_second_copy_and_logs_the_no_op(case, tmp_path):
    src = tmp_path / "in" / "WhatsApp Chat with Dmitry S.csv"
    before = _sql(case, f"SELECT count(*), sum(octet_length(data)) FROM {CHUNKS}")
    copy = tmp_path / "in" / "same bytes, other name.csv"
    copy.write_bytes(src.read_bytes())
    result = run("ingest", src, copy, "--db", case, "--operator", "Analyst B")
    assert result.exit_code == 0, result.output
    assert _sql(case, f"SELECT count(*), sum(octet_length(data)) FROM {CHUNKS}") == before
    assert _sql(case, f"SELECT count(*) FROM {ORIGINALS}") == [(1,)]
    log = _log(case)
    assert [e.action for e in log] == ["ingest", "ingest"]
    assert [(f["status"], f["original_kept"]) for f in log[1].record["files"]] == [("already ingested", False)] * 2
    assert log[1].operator == "Analyst B" and log[1].prev_hash == log[0].entry_hash


def test_a_case_without_copies_gets_them_when_its_files_are_ingested_again(case, tmp_path):
    _sql(case, f"DELETE FROM {CHUNKS}; DELETE FROM {ORIGINALS}")     # as a case made before copies were kept
    result = run("ingest", tmp_path / "in", "--db", case)
    assert result.exit_code == 0 and "1 original files kept" in result.output
    item = _log(case)[-1].record["files"][0]
    assert item["status"] == "already ingested" and item["original_kept"] is True


def test_a_file_that_changes_while_it_is_copied_is_refused(tmp_path):
    src = tmp_path / "n.csv"
    src.write_text(NOTICES, encoding="utf-8")
    with Case.open(tmp_path / "c.duckdb") as c, pytest.raises(DetectorError, match="changed while"):
        with c.transaction():
            store_original(c, src, hashlib.sha256(b"what the parser read").hexdigest())
    with Case.open(tmp_path / "c.duckdb", read_only=True) as c:
        assert original_list(c).empty


def test_a_large_file_is_stored_in_several_chunks_and_read_back_whole(tmp_path, monkeypatch):
    import detector.originals as originals

    monkeypatch.setattr(originals, "CHUNK_BYTES", 1000)
    data = hashlib.sha256(b"seed").digest() * 20_000                  # 640 kB; some compressible structure
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(b ^ (i % 251) for i, b in enumerate(data)))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    with Case.open(tmp_path / "c.duckdb") as c:
        with c.transaction():
            kept = store_original(c, src, sha)
        assert kept.chunks > 1 and kept.chunks == -(-kept.stored_bytes // 1000)
        sha_back, size = originals.extract_original(c, sha, tmp_path / "back.bin")
    assert (sha_back, size) == (sha, src.stat().st_size)
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()


# -- the log ---------------------------------------------------------------------------------------
def test_an_ingest_entry_names_files_by_hash_and_commits_to_their_names(case, tmp_path):
    entry = _log(case)[0]
    src = tmp_path / "in" / "WhatsApp Chat with Dmitry S.csv"
    item = entry.record["files"][0]
    assert item["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest() and item["rows_added"] == 2
    assert entry.names == {item["sha256"]: src.name}
    assert item["name_sha256"] == custody.name_digest(entry.salt, src.name)
    assert src.name not in json.dumps(entry.as_json())                # the shown form carries no names
    assert entry.operator == "Analyst A" and entry.software_version and entry.at.endswith("Z")


def test_the_operator_comes_from_the_option_the_environment_or_the_os_user():
    import getpass

    assert custody.operator_name("Given", {"DETECTOR_OPERATOR": "Env"}) == "Given"
    assert custody.operator_name(None, {"DETECTOR_OPERATOR": "Env"}) == "Env"
    assert custody.operator_name(None, {}) == getpass.getuser()


def test_log_and_status_show_an_intact_chain(case):
    result = run("log", "--db", case)
    assert result.exit_code == 0, result.output
    assert "#1" in result.output and "ingest by Analyst A" in result.output and "chain intact" in result.output
    assert "WhatsApp Chat with Dmitry S.csv" in result.output         # the case's own view keeps names
    status = run("status", "--db", case)
    assert status.exit_code == 0 and "custody log: 1 entries, chain intact" in status.output
    assert "original files kept in the case: 1 of 1 sources" in status.output


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE custody_log SET operator = 'Someone Else' WHERE seq = 1", "#1 does not hash"),
    ("UPDATE custody_log SET record = replace(record, '\"rows_added\":2', '\"rows_added\":3') WHERE seq = 1",
     "#1 does not hash"),
    ("DELETE FROM custody_log WHERE seq = 2", "#2..#2 are missing"),
    ("DELETE FROM custody_log WHERE seq = 1", "starts at #2"),
    ("UPDATE custody_log SET names = replace(names, 'Dmitry S', 'Someone') WHERE seq = 1", "name kept for file"),
])
def test_a_tampered_log_breaks_the_chain_and_log_exits_1(case, tmp_path, tamper, problem):
    assert run("ingest", tmp_path / "in", "--db", case).exit_code == 0            # entry #2
    assert run("ingest", tmp_path / "in", "--db", case).exit_code == 0            # entry #3
    _sql(case, tamper)
    result = run("log", "--db", case)
    assert result.exit_code == 1 and "CHAIN BROKEN" in result.output and problem in result.output
    assert run("status", "--db", case).exit_code == 1


def test_an_entry_rewritten_with_a_fresh_hash_still_breaks_the_next_link(case, tmp_path):
    assert run("ingest", tmp_path / "in", "--db", case).exit_code == 0
    first = _log(case)[0]
    forged = custody.Entry(**{**first.__dict__, "operator": "Someone Else"})
    _sql(case, "UPDATE custody_log SET operator = ?, entry_hash = ? WHERE seq = 1",
         [forged.operator, forged.computed_hash()])
    check = custody.check_chain(_log(case))
    assert check.problems == ["entry #2 does not link to #1 (an entry was changed or replaced)"]


def test_a_refused_ingest_writes_no_log_entry(case, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(NOTICES + "soon,https://youtu.be/dQw4w9WgXcQ,removed,Spam\n", encoding="utf-8")
    assert run("ingest", bad, "--db", case).exit_code == 2
    assert len(_log(case)) == 1


def test_log_json_lists_entries_without_names(case):
    result = run("log", "--db", case, "--json")
    data = json.loads(result.output)
    assert data["chain_intact"] and data["entries"][0]["action"] == "ingest"
    assert "Dmitry" not in result.output
