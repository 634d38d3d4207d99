"""Evidence packets: written by the CLI, verifiable, inert, redacted, free of secrets, deterministic, readable."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
import zlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from detector.analysis import analyze_case
from detector.cli import main
from detector.evidence.packet import MANIFEST, build_packet
from detector.evidence.verify import verify_packet
from detector.formatting import p_value
from detector.ingestion import ingest
from detector.results import campaign_list
from detector.simulate import simulate_case
from detector.store import Case

FAKE_ENV = {"TELEGRAM_API_ID": "918273", "TELEGRAM_API_HASH": "f4k3h4sh0123456789abcdefdeadbeef",
            "TELEGRAM_SESSION": "1BVtsOK4Bu_fake_session_string_Zq9xWv", "TELEGRAM_SESSION_FILE": "/home/someone/x.session"}
HOSTILE = ('<script>alert(1)</script> report this <img src=x onerror=alert(1)> '
           '<a href="javascript:alert(1)">link</a> javascript:alert(2)')


@pytest.fixture(scope="session")
def case_db(tmp_path_factory) -> Path:
    """The simulated 'mixed' case (seed 1), ingested and analysed once per session."""
    root = tmp_path_factory.mktemp("packet-case")
    simulate_case(root / "files", seed=1, scenario="mixed")
    db = root / "case.duckdb"
    ingest([root / "files"], db)
    analyze_case(db)
    return db


@pytest.fixture(scope="session")
def top(case_db) -> dict:
    with Case.open(case_db, read_only=True) as case:
        return campaign_list(case)[0]


@pytest.fixture(scope="session")
def packet(case_db, top, tmp_path_factory) -> Path:
    """The top campaign's packet, written through the CLI with fake Telegram secrets in the environment."""
    out = tmp_path_factory.mktemp("packet") / "top.zip"
    result = CliRunner().invoke(main, ["packet", top["id"], "-o", str(out), "--db", str(case_db)], env=FAKE_ENV)
    assert result.exit_code == 0, result.output
    return out


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


def _rezip(src: Path, dst: Path, change=None, drop=(), add=None) -> Path:
    files = _files(src)
    for name in drop:
        files.pop(name)
    if change:
        name = change
        body = bytearray(files[name])
        body[len(body) // 2] ^= 0x01
        files[name] = bytes(body)
    files.update(add or {})
    with zipfile.ZipFile(dst, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return dst


def test_cli_writes_a_packet_that_verifies_intact(packet):
    names = set(_files(packet))
    assert names == {"report.html", "report.pdf", "notices.csv", "calls.csv", "links.csv", "findings.json",
                     "sources.json", "appeal/appeal.txt", "appeal/counter_notification.txt", "appeal/routes.txt",
                     MANIFEST}
    result = CliRunner().invoke(main, ["verify", str(packet)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "intact"
    manifest = json.loads(_files(packet)[MANIFEST])
    assert set(manifest["files"]) == names - {MANIFEST}


def test_one_changed_byte_is_named(packet, tmp_path):
    bad = _rezip(packet, tmp_path / "bad.zip", change="notices.csv")
    result = CliRunner().invoke(main, ["verify", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[:2] == ["NOT INTACT", "changed: notices.csv"] and not any(" added" in x or "missing" in x for x in lines)
    assert f"manifest.json SHA-256: {hashlib.sha256(_files(packet)[MANIFEST]).hexdigest()}" in lines


def test_a_byte_flipped_in_the_zip_itself_is_named(packet, tmp_path):
    raw = bytearray(packet.read_bytes())
    with zipfile.ZipFile(packet) as zf:
        info = zf.getinfo("calls.csv")
    raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF   # inside calls.csv's compressed data
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(raw))
    result = verify_packet(bad)
    assert result.changed == ["calls.csv"] and not result.missing and not result.added


def test_missing_and_added_files_are_named(packet, tmp_path):
    bad = _rezip(packet, tmp_path / "bad.zip", drop=["links.csv"], add={"note.txt": b"added later"})
    result = CliRunner().invoke(main, ["verify", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "NOT INTACT" and sorted(x for x in lines if x.startswith(("added", "missing", "changed"))) \
        == ["added: note.txt", "missing: links.csv"]


def test_unknown_campaign_and_non_zip_are_user_errors(case_db, tmp_path):
    result = CliRunner().invoke(main, ["packet", "C999", "-o", str(tmp_path / "x.zip"), "--db", str(case_db)])
    assert result.exit_code == 2 and "no campaign 'C999'" in result.output
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    result = CliRunner().invoke(main, ["verify", str(junk)])
    assert result.exit_code == 2 and "not a readable ZIP" in result.output


def test_packet_has_the_campaign_numbers_and_rows(packet, top):
    files = _files(packet)
    findings = json.loads(files["findings.json"])
    assert findings["campaign"]["id"] == top["id"] and findings["campaign"]["p_link"] == top["p_link"]
    cited = {r for f in findings["findings"] for r in f["rows"]}
    assert cited <= set(findings["rows"]["posts"]) | set(findings["rows"]["notices"])
    calls = files["calls.csv"].decode().splitlines()
    assert len(calls) - 1 >= top["calls"] - 1                      # a header and one line per call (texts may span lines)
    assert set(top["call_post_ids"]) <= set(findings["rows"]["posts"])
    links = files["links.csv"].decode().splitlines()
    assert links[0].startswith("target,") and {line.split(",")[0] for line in links[1:]} <= set(top["targets"])
    sources = json.loads(files["sources.json"])
    assert sources and all(re.fullmatch(r"[0-9a-f]{64}", s["sha256"]) for s in sources)
    assert all("/" not in s["name"] and "\\" not in s["name"] for s in sources)
    html = files["report.html"].decode()
    assert f"p_link = {p_value(top['p_link'], top['p_link_floor'])}" in html and "What this packet cannot show" in html
    assert "Words and numbers used here" in html and "not a probability" in html


def test_same_case_gives_same_bytes_but_the_timestamp(case_db, top, tmp_path):
    a = build_packet(case_db, top["id"], tmp_path / "a.zip", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    b = build_packet(case_db, top["id"], tmp_path / "b.zip", created_at=datetime(2026, 6, 30, 12, tzinfo=UTC))
    fa, fb = _files(a), _files(b)
    assert list(fa) == sorted(fa) and list(fa) == list(fb)
    assert {n for n in fa if fa[n] != fb[n]} == {MANIFEST}
    ma, mb = json.loads(fa[MANIFEST]), json.loads(fb[MANIFEST])
    assert ma.pop("created_at") != mb.pop("created_at")
    # The custody record grows: the second packet's log holds the first packet's entry, and the case changed.
    ca, cb = ma.pop("custody"), mb.pop("custody")
    assert ma == mb and cb["log"][:-1] == ca["log"] and cb["log"][-1]["action"] == "packet"
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# -- safe to share ---------------------------------------------------------------------------
class _Inert(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self.bad_urls, self.texts = 0, [], [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed"):
            self.scripts += 1
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            if name.lower() in ("href", "src", "action", "formaction") and value:
                v = re.sub(r"\s", "", value).lower()
                if not v.startswith(("https://", "#", "data:image/png;base64,")):
                    self.bad_urls.append((tag, value))

    def handle_data(self, data):
        self.texts.append(data)


@pytest.fixture(scope="session")
def hostile_packet(case_db, top, tmp_path_factory) -> Path:
    """The top campaign with markup, an event handler and javascript: links planted in one call."""
    root = tmp_path_factory.mktemp("hostile")
    db = root / "hostile.duckdb"
    shutil.copy(case_db, db)
    post = top["call_post_ids"][0]
    con = duckdb.connect(str(db))
    con.execute("UPDATE posts SET text = ?, author = ?, chat_title = ?, urls = ['javascript:alert(3)'] "
                "WHERE post_id = ?", [HOSTILE, '<img src=x onerror=alert(4)>', "<b onmouseover=alert(5)>chat</b>",
                                      post])
    con.execute("UPDATE calls SET targets = replace(targets, '[', '[\"url:javascript:alert(6)\", ') "
                "WHERE post_id = ?", [post])
    con.close()
    return build_packet(db, top["id"], root / "hostile.zip", redact=False)


def test_report_html_is_inert(hostile_packet):
    files = _files(hostile_packet)
    html = files["report.html"].decode()
    parser = _Inert()
    parser.feed(html)
    assert parser.scripts == 0
    assert parser.handlers == []
    assert parser.bad_urls == []
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html)).lower()
    # The hostile text is shown, as text: a reader sees exactly what the chat posted.
    assert any("<script>alert(1)</script>" in t for t in parser.texts)
    assert any("<img src=x onerror=alert(1)>" in t for t in parser.texts)
    assert "default-src 'none'" in html


def test_pdf_and_csv_keep_hostile_text_as_text(hostile_packet):
    files = _files(hostile_packet)
    assert b"/JavaScript" not in files["report.pdf"] and b"/JS " not in files["report.pdf"]
    assert b"javascript:" not in files["report.pdf"].lower()          # no link annotation points there
    calls = files["calls.csv"].decode()
    assert "<script>alert(1)</script>" in calls


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text (pdftotext) and every decompressed stream, for scanning."""
    parts = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(m.group(1)).decode("latin-1"))
        except zlib.error:
            parts.append(m.group(1).decode("latin-1"))
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        parts.append(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                                    text=True).stdout)
    elif os.environ.get("CI") == "true":
        pytest.fail("pdftotext (poppler-utils) is missing under CI=true")
    return "\n".join(parts)


def test_no_secret_or_local_path_anywhere_in_the_packet(packet, case_db, tmp_path):
    forbidden = [*FAKE_ENV.values(), "/work", "/tmp", "/home", str(case_db), str(case_db.parent),
                 case_db.name, os.getcwd()]
    for name, body in _files(packet).items():
        text = body.decode("utf-8", "replace")
        if name == "report.pdf":
            text += _pdf_text(body, tmp_path)
        for secret in forbidden:
            assert secret not in text, f"{secret!r} found in {name}"


def test_private_people_are_pseudonyms_unless_no_redact(case_db, top, packet, tmp_path):
    with Case.open(case_db, read_only=True) as case:
        posts = case.table("posts")
    calls = posts[posts["post_id"].isin(top["call_post_ids"])]
    private = sorted(set(calls.loc[calls["platform"] == "whatsapp", "author"]))
    public = sorted(set(calls.loc[(calls["platform"] == "telegram") & (calls["author"] == calls["chat_title"]),
                                  "author"]))
    assert private and public
    redacted = _files(packet)
    plain = _files(build_packet(case_db, top["id"], tmp_path / "plain.zip", redact=False))
    for name in ("report.html", "calls.csv", "findings.json"):
        r, p = redacted[name].decode(), plain[name].decode()
        for person in private:
            assert person not in r, f"{person!r} in redacted {name}"
            assert person in p
        for channel in public:
            assert channel in r
        assert re.search(r"Person-[0-9a-f]{8}", r) and not re.search(r"Person-[0-9a-f]{8}", p)
    # Stable: the same person has the same pseudonym in every file and every build.
    again = _files(build_packet(case_db, top["id"], tmp_path / "again.zip"))
    assert again["calls.csv"] == redacted["calls.csv"]


# -- readable --------------------------------------------------------------------------------
def test_pdf_pages_render_on_a4_and_are_not_blank(packet, tmp_path):
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is missing under CI=true")
        pytest.skip("pdftoppm is missing: install poppler-utils (make test does, as root)")
    from PIL import Image

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_files(packet)["report.pdf"])
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    for page in pages:
        with Image.open(page) as im:
            w, h = im.size
            assert abs(h / w - 297 / 210) < 0.01, f"{page.name} is not A4: {w}x{h}"
            gray = im.convert("L")
            dark = sum(gray.histogram()[:200])
            assert dark > 0.002 * w * h, f"{page.name} is blank"


def test_the_figures_are_in_both_reports(packet):
    files = _files(packet)
    html = files["report.html"].decode()
    assert html.count('src="data:image/png;base64,') == 2
    assert files["report.pdf"].count(b"/Subtype /Image") >= 2
    with zipfile.ZipFile(io.BytesIO(packet.read_bytes())) as zf:
        assert zf.testzip() is None


def _strict(text: bytes | str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_every_json_the_tool_writes_parses_strictly(packet, case_db, top, tmp_path):
    from click.testing import CliRunner

    from detector.cli import main
    from detector.simulate import simulate_case

    for name, body in _files(packet).items():
        if name.endswith(".json"):
            _strict(body)
    run = lambda *a: CliRunner().invoke(main, [str(x) for x in a])  # noqa: E731
    _strict(run("campaigns", "--db", case_db, "--json").stdout)
    for target in top["targets"][:3] + ["https://youtu.be/zzzzzzzzzzA"]:
        _strict(run("check", target, "--db", case_db, "--json").stdout)
    simulate_case(tmp_path / "sim", seed=1, scenario="aftermath", days=30, n_videos=40)
    _strict((tmp_path / "sim" / "truth.json").read_text(encoding="utf-8"))
    _strict((tmp_path / "sim" / "detector-case.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [("Report this video for harassment, everyone! " * 94)[:4096],
                                  "report" + "x" * 4090, "举报" * 2048])
def test_a_call_at_telegrams_maximum_length_does_not_stop_the_packet(case_db, top, tmp_path, text):
    """An adversary cannot block the evidence with one 4,096-character message."""
    db = tmp_path / "long.duckdb"
    shutil.copy(case_db, db)
    post = top["call_post_ids"][0]
    con = duckdb.connect(str(db))
    con.execute("UPDATE posts SET text = ? WHERE post_id = ?", [text, post])
    con.execute("UPDATE calls SET text = ? WHERE post_id = ?", [text, post])
    con.close()
    out = build_packet(db, top["id"], tmp_path / "long.zip", redact=False)
    files = _files(out)
    assert files["report.pdf"].startswith(b"%PDF")
    assert text in files["calls.csv"].decode("utf-8")           # the exact text stays in the CSV
    assert text in html.unescape(files["report.html"].decode("utf-8"))


def test_a_forward_dated_by_its_original_shows_that_date_in_the_packet(case_db, top, tmp_path):
    """A live collection dates a forward by its original; the packet's calls.csv and findings.json
    give that date beside the forward's own, so a reviewer can check what the tests dated it by."""
    import csv

    import pandas as pd

    db = tmp_path / "case.duckdb"
    shutil.copy(case_db, db)
    with Case.open(db) as case:
        forwards = case.query("SELECT post_id, posted_at FROM posts WHERE forwarded_from IS NOT NULL AND post_id IN "
                              f"({', '.join('?' * len(top['call_post_ids']))})", list(top["call_post_ids"]))
        assert len(forwards), "the top campaign of the mixed case has a forwarded call"
        post_id, posted_at = forwards.iloc[0]["post_id"], forwards.iloc[0]["posted_at"]
        original = posted_at - pd.Timedelta(minutes=45)
        case.con.execute("UPDATE posts SET forwarded_at = ? WHERE post_id = ?", [original.to_pydatetime(), post_id])
    analyze_case(db)
    packet = build_packet(db, top["id"], tmp_path / "p.zip")
    with zipfile.ZipFile(packet) as zf:
        calls = {c["post_id"]: c for c in csv.DictReader(io.StringIO(zf.read("calls.csv").decode("utf-8")))}
        posts = json.loads(zf.read("findings.json"))["rows"]["posts"]
    stamp = original.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert calls[post_id]["forwarded_original_at_utc"] == stamp and posts[post_id]["forwarded_original_at"] == stamp
    assert all(c["forwarded_original_at_utc"] == "" for pid, c in calls.items() if pid != post_id)
