"""Human review: decisions stored with who and when, applied by the next analysis, shown in the packet."""

import csv
import io
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from detector.analysis import analyze_case
from detector.cli import main
from detector.errors import DetectorError
from detector.results import campaign_list, review_queue
from detector.review import apply_reviews, current_reviews, read_review_file, review_rows
from detector.store import Case

T0 = datetime(2025, 5, 1, tzinfo=UTC)


def _rows(post_id, decision, minutes, note=None, translation=None):
    return review_rows([post_id], decision, "ana", notes=[note], translations=[translation],
                       at=T0 + timedelta(minutes=minutes))


def test_latest_decision_on_a_post_is_in_force_and_clear_takes_it_back():
    log = pd.concat([_rows("p1", "rejected", 0, note="not a call"), _rows("p1", "confirmed", 5),
                     _rows("p2", "confirmed", 1), _rows("p2", "cleared", 2)], ignore_index=True)
    now = current_reviews(log)
    assert list(now["post_id"]) == ["p1"]
    assert now.iloc[0]["decision"] == "confirmed"
    assert now.iloc[0]["note"] == "not a call"      # an earlier note stays when a later decision has none


def test_rejected_posts_stop_counting_and_reviewed_only_keeps_only_confirmed():
    calls = pd.DataFrame({"post_id": ["a", "b", "c", "d"], "kind": ["call", "call", "boast", "other"],
                          "is_call": [True, True, False, False], "requested_policy": ["harassment"] * 4})
    log = pd.concat([_rows("a", "confirmed", 0), _rows("b", "rejected", 0, translation="hello")])
    applied = apply_reviews(calls, log)
    assert list(applied["kind"]) == ["call", "other", "boast", "other"]
    assert list(applied["review"]) == ["confirmed", "rejected", "unreviewed", "unreviewed"]
    assert applied.loc[1, "translation"] == "hello" and pd.isna(applied.loc[1, "requested_policy"])
    strict = apply_reviews(calls, log, reviewed_only=True)
    assert list(strict["kind"]) == ["call", "other", "other", "other"]


def test_review_file_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "review.csv"
    bad.write_text("post_id,decision\np1,confirm\np2,maybe\n", encoding="utf-8")
    with pytest.raises(DetectorError, match=r"review.csv:3"):
        read_review_file(bad)
    twice = tmp_path / "twice.csv"
    twice.write_text("post_id,decision\np1,confirm\np1,reject\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="two different decisions") as exc:
        read_review_file(twice)
    assert exc.value.line == 3
    missing = tmp_path / "missing.csv"
    missing.write_text("post,decision\np1,confirm\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="no post_id column"):
        read_review_file(missing)


@pytest.fixture(scope="module")
def analysed(mixed_case) -> Path:
    return mixed_case


def _fresh(analysed: Path, tmp_path: Path) -> Path:
    db = tmp_path / "case.duckdb"
    shutil.copy(analysed, db)
    return db


def test_reviewing_through_a_file_recomputes_the_campaign_on_the_decisions(analysed, tmp_path):
    db = _fresh(analysed, tmp_path)
    runner = CliRunner()
    with Case.open(db, read_only=True) as case:
        top = campaign_list(case)[0]
    sheet = tmp_path / "review.csv"
    out = runner.invoke(main, ["review", "export", top["id"], "-o", str(sheet), "--db", str(db)])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    assert {r["post_id"] for r in rows} >= set(top["call_post_ids"])
    rejected = top["call_post_ids"][0]
    for r in rows:
        r["decision"] = "reject" if r["post_id"] == rejected else "confirm"
        r["translation"] = "Report this video" if r["post_id"] == top["call_post_ids"][-1] else r["translation"]
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = runner.invoke(main, ["review", "import", str(sheet), "--reviewer", "Aigerim", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert f"stored {len(rows)} decisions by Aigerim" in out.output

    with Case.open(db, read_only=True) as case:
        assert "reviewed after the analysis" in case.stale_reason()
    analyze_case(db)
    with Case.open(db, read_only=True) as case:
        assert case.stale_reason() is None
        after = next(c for c in campaign_list(case) if c["id"] == top["id"])
        queue = review_queue(case, top["id"])
    assert rejected not in after["call_post_ids"]
    assert after["calls"] == top["calls"] - 1
    assert set(queue["review"]) == {"confirmed"} and set(queue["reviewer"]) == {"Aigerim"}

    packet = tmp_path / "top.zip"
    out = runner.invoke(main, ["packet", top["id"], "-o", str(packet), "--db", str(db)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(packet) as zf:
        calls = list(csv.DictReader(io.StringIO(zf.read("calls.csv").decode("utf-8"))))
        html = zf.read("report.html").decode("utf-8")
    assert {c["review"] for c in calls} == {"confirmed"} and {c["reviewer"] for c in calls} == {"Aigerim"}
    assert "Report this video" in {c["translation"] for c in calls}
    assert "confirmed by a person (Aigerim)" in html
    assert "translation by Aigerim: Report this video" in html


def test_packet_reviewed_only_needs_an_analysis_of_confirmed_posts_only(analysed, tmp_path):
    db = _fresh(analysed, tmp_path)
    runner = CliRunner()
    with Case.open(db, read_only=True) as case:
        top = campaign_list(case)[0]
    out = runner.invoke(main, ["packet", top["id"], "-o", str(tmp_path / "p.zip"), "--reviewed-only", "--db", str(db)])
    assert out.exit_code == 2 and "posts nobody reviewed" in out.output
    with Case.open(db) as case:
        case.add_reviews(review_rows(top["call_post_ids"], "confirmed", "ana"))
    out = runner.invoke(main, ["analyze", "--reviewed-only", "--db", str(db)])
    assert out.exit_code == 0, out.output
    with Case.open(db, read_only=True) as case:
        assert case.analysis_parameters().reviewed_only is True
        kinds = set(case.derived("calls")["review"])
        strict = next(c for c in campaign_list(case) if set(c["call_post_ids"]) & set(top["call_post_ids"]))
    assert kinds == {"confirmed"}          # nothing unreviewed counted
    out = runner.invoke(main, ["packet", strict["id"], "-o", str(tmp_path / "p.zip"), "--reviewed-only",
                               "--db", str(db)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        assert "this analysis counted only confirmed and marked posts" in zf.read("report.html").decode("utf-8")


def test_interactive_review_stores_each_answer_with_its_note(analysed, tmp_path):
    db = _fresh(analysed, tmp_path)
    with Case.open(db, read_only=True) as case:
        top = campaign_list(case)[0]
        first, second = review_queue(case, top["id"])["post_id"][:2]
    out = CliRunner().invoke(main, ["review", "start", top["id"], "--reviewer", "Dana", "--db", str(db)],
                             input="c\n\nr\nquoted in a news item\nq\n")
    assert out.exit_code == 0, out.output
    with Case.open(db, read_only=True) as case:
        now = current_reviews(case.reviews()).set_index("post_id")
    assert now.loc[first, "decision"] == "confirmed" and now.loc[second, "decision"] == "rejected"
    assert now.loc[second, "note"] == "quoted in a news item" and set(now["reviewer"]) == {"Dana"}


def test_a_review_of_an_unknown_post_is_refused_and_nothing_is_stored(analysed, tmp_path):
    db = _fresh(analysed, tmp_path)
    sheet = tmp_path / "r.csv"
    sheet.write_text("post_id,decision\nnot-a-post,confirm\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["review", "import", str(sheet), "--db", str(db)])
    assert out.exit_code == 2 and "no post 'not-a-post'" in out.output
    with Case.open(db, read_only=True) as case:
        assert case.reviews().empty


def test_appeal_texts_cite_the_packet_hash_and_fit_the_form(analysed, tmp_path):
    from detector.evidence.verify import verify_packet

    db = _fresh(analysed, tmp_path)
    with Case.open(db, read_only=True) as case:
        ranked = campaign_list(case)
    top, weak = ranked[0], next(c for c in ranked if c["tier"] == "weak")
    out = CliRunner().invoke(main, ["appeal", top["id"], "-o", str(tmp_path / "a"), "--max-chars", "700",
                                    "--db", str(db)])
    assert out.exit_code == 0, out.output
    packet = tmp_path / "a" / f"{top['id']}-evidence.zip"
    appeal = (tmp_path / "a" / "appeal.txt").read_text(encoding="utf-8").strip()
    assert len(appeal) <= 700
    assert verify_packet(packet).manifest_sha256 in appeal
    assert f"{top['calls']} public posts" in appeal and "organised" in appeal
    counter = (tmp_path / "a" / "counter_notification.txt").read_text(encoding="utf-8")
    assert "[YOUR FULL LEGAL NAME]" in counter and "penalty of perjury" in counter
    routes = (tmp_path / "a" / "routes.txt").read_text(encoding="utf-8")
    assert "Art. 21" in routes
    with zipfile.ZipFile(packet) as zf:      # the packet carries the texts too, and stays intact
        assert {"appeal/appeal.txt", "appeal/counter_notification.txt", "appeal/routes.txt"} <= set(zf.namelist())
    assert verify_packet(packet).intact

    out = CliRunner().invoke(main, ["appeal", weak["id"], "-o", str(tmp_path / "w"), "--db", str(db)])
    assert out.exit_code == 0, out.output
    weak_text = (tmp_path / "w" / "appeal.txt").read_text(encoding="utf-8")
    assert "organised" not in weak_text and "cannot show" in weak_text     # conservative: no claim for weak

    out = CliRunner().invoke(main, ["appeal", top["id"], "-o", str(tmp_path / "t"), "--max-chars", "200",
                                    "--packet", str(packet), "--db", str(db)])
    assert out.exit_code == 2 and "limit is 200" in out.output

    out = CliRunner().invoke(main, ["appeal", top["id"], "-o", str(tmp_path / "x"), "--packet",
                                    str(tmp_path / "w" / f"{weak['id']}-evidence.zip"), "--db", str(db)])
    assert out.exit_code == 2 and f"is for campaign {weak['id']}" in out.output
