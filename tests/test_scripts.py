"""report.pdf draws every script of the evidence as real text: Chinese, Uyghur (Arabic script,
shaped, right to left), Kazakh and Russian Cyrillic, emoji; what it cannot draw is counted.

Needs the fonts `make fonts` installs and poppler's pdftotext/pdftoppm: skipped without them,
failed under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from detector.evidence.fonts import INSTALL_HINT, describe, missing_roles
from detector.evidence.render_pdf import MISSING_NOTE, UndrawnTextWarning, render_pdf
from detector.evidence.report import Cell, Para, Report, Section, Table

CREATED = datetime(2025, 1, 1, tzinfo=UTC)
SCRIPTS = {
    "chinese": "请大家帮忙举报以下视频，举报理由：仇恨或辱骂性内容",
    "uyghur": "ئارخىپنىڭ گۇۋاھلىق ۋىدېيولىرىغا شىكايەت قىلىشقا چاقىردى",
    "kazakh": "Кім үлгерсе, шағым тастаңыз: әріптестер, ұлт, өшірулер, қорғаушылары",
    "russian": "Задача на вечер: каждому по жалобе на каждое видео",
    "emoji": "🔥👇✅",
}


def _require(tool: str) -> None:
    if not shutil.which(tool):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} (poppler-utils) is missing under CI=true")
        pytest.skip(f"{tool} is missing: install poppler-utils (make test does, as root)")


@pytest.fixture(scope="module")
def fonts() -> None:
    absent = missing_roles()
    if absent:
        reason = f"no font for {', '.join(describe(r) for r in absent)}: {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    _require("pdftotext")
    _require("pdftoppm")


def _pdf_text(pdf: bytes, tmp_path: Path, name: str = "r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    assert b"No font in show" not in done.stderr, done.stderr.decode(errors="replace")
    return done.stdout.decode("utf-8")


def _letters(text: str) -> str:
    """Letters, marks and digits only, in logical order, for comparing text with what pdftotext extracts.

    pdftotext gives the lam-alef ligature back as alef-lam, so both are folded to one spelling;
    emoji variation selectors are not drawn, so they are not compared.
    """
    text = unicodedata.normalize("NFC", text).replace("لا", "ال")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LMN" and not 0xFE00 <= ord(ch) <= 0xFE0F)


def _words_missing(text: str, extracted: str) -> list[str]:
    """The words of ``text`` (links aside) that are not in ``extracted``, wherever lines wrapped."""
    haystack = _letters(extracted)
    words = [w for w in text.split() if not re.search(r"https?:|youtu|\.com|www\.", w)]
    return [w for w in words if _letters(w) and _letters(w) not in haystack]


def test_a_page_per_script_is_drawn_and_extracts_as_the_same_text(fonts, tmp_path):
    from PIL import Image

    sections = [Section(name, name, [Para(text), Table(["script", "text"], [[Cell(name), Cell(text)]], [1, 4])])
                for name, text in SCRIPTS.items()]
    report = Report("Scripts", "one section per script", sections)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndrawnTextWarning)
        pdf = render_pdf(report, CREATED, footer="scripts")
    extracted = _pdf_text(pdf, tmp_path)
    assert MISSING_NOTE not in extracted and "\ufffd" not in extracted
    for name, text in SCRIPTS.items():
        if name == "emoji":
            assert all(ch in extracted for ch in text), extracted
        else:
            assert _words_missing(text, extracted) == [], name
    for name in ("chinese", "kazakh", "russian"):
        assert SCRIPTS[name] in extracted.replace("\n", " "), name
    # Each script's paragraph really puts ink on the page: crop the line under its heading.
    (tmp_path / "p.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(tmp_path / "p.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    with Image.open(pages[0]) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
        coloured = int(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).sum())
    assert coloured > 20, "the colour emoji left no coloured pixels"


def test_uyghur_is_shaped_right_to_left(fonts, tmp_path):
    """Shaped Arabic script uses contextual forms: the joined word is narrower than its isolated letters."""
    from fpdf import FPDF

    from detector.evidence.fonts import dejavu

    word = "شىكايەت"
    pdf = FPDF()
    pdf.add_font("DejaVu", "", dejavu())
    pdf.set_font("DejaVu", "", 12)
    plain = pdf.get_string_width(word)
    pdf.set_text_shaping(True, direction="rtl", script="arab", language="uig")
    shaped = pdf.get_string_width(word)
    assert shaped < plain
    report = Report("ug", "", [Section("ug", "ug", [Para(word)])])
    extracted = _pdf_text(render_pdf(report, CREATED, footer=""), tmp_path)
    assert _letters(word) in _letters(extracted)


def test_characters_no_font_has_are_marked_and_counted(fonts, tmp_path):
    report = Report("x", "", [Section("s", "s", [Para("hieroglyphs 𓀀𓀁𓀂 end")])])
    with pytest.warns(UndrawnTextWarning, match=r"could not draw 3 characters") as caught:
        pdf = render_pdf(report, CREATED, footer="")
    undrawn = [w.message for w in caught if isinstance(w.message, UndrawnTextWarning)]
    assert sum(undrawn[0].missing.values()) == 3
    assert MISSING_NOTE in _pdf_text(pdf, tmp_path)


def test_packet_cli_prints_the_undrawable_count(fonts, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from detector.cli import main
    from detector.evidence import packet as packet_module

    def fake(db, campaign_id, out, **options):
        render_pdf(Report("x", "", [Section("s", "s", [Para("𓀀𓀁")])]), CREATED, footer="")
        # the smallest packet verify accepts: a manifest listing no other file
        Path(out).write_bytes(packet_module.zip_bytes({packet_module.MANIFEST: b'{"files": {}}'}))
        return Path(out)

    monkeypatch.setattr(packet_module, "build_packet", fake)
    result = CliRunner().invoke(main, ["packet", "C000000", "-o", str(tmp_path / "p.zip"),
                                       "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 0, result.output
    assert "could not draw 2 characters" in result.output


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory) -> Path:
    from detector.analysis import analyze_case
    from detector.bundled import DEMO_DIR
    from detector.ingestion import ingest

    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    ingest([DEMO_DIR], db)
    analyze_case(db)
    return db


def test_demo_packets_show_chinese_kazakh_and_russian_calls_as_text(fonts, demo_case, tmp_path):
    """Every strong campaign of the demo, and a campaign holding a Kazakh call, as their packets
    draw them. The demo's Uyghur channel only quotes a Kazakh call in a news item, which is not a
    call (detector.features.quoting); Uyghur script is drawn in test_uyghur_is_shaped_right_to_left."""
    from detector.evidence.data import packet_data
    from detector.evidence.report import build_report
    from detector.results import campaign_list
    from detector.store import Case

    languages = set()
    with Case.open(demo_case, read_only=True) as case:
        calls = case.derived("calls").set_index("post_id")["language"].to_dict()
        strong = [c["id"] for c in campaign_list(case) if c["tier"] == "strong"]
        kazakh = next(c["id"] for c in campaign_list(case) if any(calls.get(p) == "kk" for p in c["call_post_ids"]))
        data = [packet_data(case, cid) for cid in dict.fromkeys([*strong, kazakh])]
        uyghur_news = case.query("SELECT post_id FROM posts WHERE chat_title = 'ئۇيغۇر ئاۋازى' AND text LIKE '%«%'")
    assert len(data) >= 2 and len(uyghur_news) and not set(uyghur_news["post_id"]) & set(calls)
    for d in data:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UndrawnTextWarning)
            pdf = render_pdf(build_report(d), CREATED, footer=d.campaign["id"])
        extracted = _pdf_text(pdf, tmp_path, f"{d.campaign['id']}.pdf")
        assert MISSING_NOTE not in extracted and "\ufffd" not in extracted
        for call in d.calls.itertuples():
            assert _words_missing(call.text_shown, extracted) == [], (d.campaign["id"], call.post_id)
            languages.add(call.language)
    assert {"zh", "kk", "ru"} <= languages
