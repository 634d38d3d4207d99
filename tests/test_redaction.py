"""Redaction by policy: phone numbers in any common format, chats named after private people, cited sources only."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from test_packet import case_db, top  # noqa: F401  (session fixtures: the simulated, analysed case)

from detector.errors import DetectorError
from detector.evidence.packet import build_packet
from detector.evidence.redact import PHONE_MASK, is_phone_number, mask_phones, phone_regions
from detector.store import Case

# Kazakh, Russian-style national, US, Chinese, British with 00, Ukrainian: as people write them.
PHONES = ["+7 701 123 45 67", "8 (701) 123-45-67", "+1-202-555-0143", "(202) 555-0143", "+86 138 0013 8000",
          "0044 20 7946 0958", "+77011234567", "+380 44 123 4567", "87012345678", "0049 30 1234567"]
NOT_PHONES = ["report 15 videos by 12:30", "2025-04-10 10:00 UTC", "1234567 views in 2024", "order 12345678",
              "tg1234567890", "p = 0.12345678", "https://youtu.be/dQw4w9WgXcQ?t=1234567890", "ids 100 200 300 400"]
CHAT_PHONE = "+7 705 111 22 33"


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


@pytest.mark.parametrize("phone", PHONES)
def test_every_common_phone_format_is_masked(phone):
    text = f"Пишите в личку {phone}, жалобы только с 10:00"
    masked = mask_phones(text)
    assert masked == f"Пишите в личку {PHONE_MASK}, жалобы только с 10:00"


@pytest.mark.parametrize("text", NOT_PHONES)
def test_times_counts_and_ids_are_not_taken_for_phone_numbers(text):
    assert mask_phones(text) == text


def test_region_hints_decide_which_national_formats_count():
    assert mask_phones("call (202) 555-0143", ("KZ",)) == "call (202) 555-0143"   # a US format, KZ only
    assert mask_phones("call (202) 555-0143", ("US",)) == f"call {PHONE_MASK}"
    assert mask_phones("call +1-202-555-0143", ("KZ",)) == f"call {PHONE_MASK}"   # international: always
    assert phone_regions("kz, us") == ("KZ", "US")
    with pytest.raises(DetectorError, match="unknown phone region XX"):
        phone_regions("KZ,XX")


def test_a_chat_named_by_its_number_is_a_phone_number():
    assert is_phone_number(CHAT_PHONE) and is_phone_number("87012345678")
    assert not is_phone_number("Alatau Family") and not is_phone_number(f"Family {CHAT_PHONE}")


# -- in a packet ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted_case(tmp_path_factory, request):
    base_db = request.getfixturevalue("case_db")
    campaign = request.getfixturevalue("top")
    root = tmp_path_factory.mktemp("redaction")
    db = root / "case.duckdb"
    shutil.copyfile(base_db, db)
    con = duckdb.connect(str(db))
    calls = con.execute("SELECT post_id, chat, platform, source_id FROM posts WHERE post_id IN "
                        f"({','.join('?' * len(campaign['call_post_ids']))})", list(campaign["call_post_ids"])).fetchall()
    whatsapp = [c for c in calls if c[2] == "whatsapp"]
    assert whatsapp, "the top campaign has no WhatsApp call to plant a number-named chat in"
    post_id, chat, _, source_id = whatsapp[0]
    text_post = next(c[0] for c in calls if c[0] != post_id)
    planted_text = "Report it! Questions: " + "; ".join(PHONES)
    con.execute("UPDATE posts SET text = ? WHERE post_id = ?", [planted_text, text_post])
    con.execute("UPDATE calls SET text = ? WHERE post_id = ?", [planted_text, text_post])
    new_key = " ".join(CHAT_PHONE.casefold().split())
    for table, cols in (("posts", ("chat",)), ("calls", ("chat",)), ("clusters", ("chat",)),
                        ("pairs", ("chat_a", "chat_b"))):
        for col in cols:
            con.execute(f'UPDATE "{table}" SET "{col}" = ? WHERE "{col}" = ?', [new_key, chat])
    con.execute("UPDATE posts SET chat_title = ? WHERE chat = ?", [CHAT_PHONE, new_key])
    con.execute("UPDATE calls SET chat_title = ? WHERE chat = ?", [CHAT_PHONE, new_key])
    con.execute("UPDATE sources SET name = ? WHERE source_id = ?", [f"WhatsApp Chat with {CHAT_PHONE}.txt", source_id])
    notice = campaign["notice_ids"][0]
    con.execute("UPDATE notices SET target_title = ? WHERE notice_id = ?", [f"Call me {PHONES[3]}", notice])
    con.execute("INSERT INTO sources (source_id, kind, name, sha256, ingested_at, rows, tz, detail) VALUES "
                "(?, 'whatsapp', 'WhatsApp Chat with Dmitry S.txt', ?, ?, 0, NULL, '{}')",
                ["f" * 16, "f" * 64, datetime(2025, 1, 1, tzinfo=UTC)])
    con.close()
    return db, campaign


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is missing")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_no_phone_number_reaches_any_file_of_a_redacted_packet(planted_case, tmp_path):
    db, campaign = planted_case
    files = _files(build_packet(db, campaign["id"], tmp_path / "p.zip", allow_stale=True))
    plain = _files(build_packet(db, campaign["id"], tmp_path / "plain.zip", redact=False, allow_stale=True))
    texts = {name: body.decode("utf-8", "replace") for name, body in files.items() if name != "report.pdf"}
    texts["report.pdf (text)"] = _pdf_text(files["report.pdf"], tmp_path)
    for name, text in texts.items():
        squeezed = re.sub(r"[\s\-().]", "", text)
        for phone in [*PHONES, CHAT_PHONE]:
            assert phone not in text, f"{phone!r} in {name}"
            assert _digits(phone) not in squeezed, f"{phone!r} (digits) in {name}"
    assert PHONE_MASK in texts["calls.csv"] and PHONE_MASK in texts["notices.csv"]
    # the contact's chat is a pseudonym: as a chat title, and in its export's file name
    assert CHAT_PHONE in plain["calls.csv"].decode()
    sources = json.loads(files["sources.json"])
    assert any(re.fullmatch(r"WhatsApp Chat with Person-[0-9a-f]{8}\.txt", s["name"]) for s in sources)
    assert re.search(r"whatsapp,Person-[0-9a-f]{8},Person-[0-9a-f]{8}", texts["calls.csv"])


def test_sources_table_lists_only_the_cited_sources(planted_case, tmp_path):
    db, campaign = planted_case
    files = _files(build_packet(db, campaign["id"], tmp_path / "p.zip", allow_stale=True))
    sources = json.loads(files["sources.json"])
    cited = {s["sha256"] for s in sources}
    rows_cite = set()
    for name in ("calls.csv", "notices.csv"):
        header, *lines = files[name].decode().splitlines()
        col = header.split(",").index("source_sha256")
        rows_cite |= {line.split(",")[col] for line in lines if line.count(",") >= col}
    assert cited and cited <= rows_cite | {""}
    with Case.open(db, read_only=True) as case:
        assert len(case.table("sources")) > len(sources)      # the case holds more than the packet cites
    for name, body in files.items():
        assert b"Dmitry S" not in body and b"f" * 64 not in body, name


def test_one_to_one_chats_are_private_and_groups_keep_their_names():
    import pandas as pd

    from detector.evidence.redact import private_chats

    def chat(platform, key, title, authors):
        return [{"platform": platform, "chat": key, "chat_title": title, "author": a} for a in authors]

    posts = pd.DataFrame(
        chat("whatsapp", "dmitry s", "Dmitry S", ["Dmitry S", "Me"])                      # named after the contact
        + chat("whatsapp", "aunt", "Aunt", ["Me", "Aunt Gulnara"])                        # two people
        + chat("whatsapp", "+7 705 111 22 33", CHAT_PHONE, ["A", "B", "C"])              # a number
        + chat("whatsapp", "alatau family", "Alatau Family", ["A", "B", "C", "D"])        # a group
        + chat("telegram", "tg42", "Dmitry S", ["Dmitry S", "Me", "X"])                   # personal chat, by type
        + chat("telegram", "tg7", "Qazaq Ult", ["Qazaq Ult"]))                            # a public channel
    sources = pd.DataFrame({"detail": [json.dumps({"chats": [{"chat": "tg42", "type": "personal_chat"},
                                                             {"chat": "tg7", "type": "public_channel"}]})]})
    assert private_chats(posts, sources) == {"dmitry s": "Dmitry S", "aunt": "Aunt", "+7 705 111 22 33": CHAT_PHONE,
                                             "tg42": "Dmitry S"}
