"""Marking posts the classifier missed: an analyst's "call" or "boast" on any post of the case,
applied by the next analysis and said in every front end, with the machine's verdict kept."""

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
from detector.results import campaign_list, check_target, review_queue
from detector.review import (
    REVIEW_COLUMNS,
    apply_reviews,
    checked_decisions,
    current_reviews,
    parse_decision,
    review_rows,
)
from detector.store import Case

T0 = datetime(2025, 5, 1, tzinfo=UTC)


def _rows(post_id, decision, minutes, reviewer="ana"):
    return review_rows([post_id], decision, reviewer, at=T0 + timedelta(minutes=minutes))


def test_call_and_boast_spellings_are_marks_and_unknown_words_name_the_choices():
    assert {parse_decision(w) for w in ("call", "Mark call", "marked_call", "MARKED CALL")} == {"marked call"}
    assert {parse_decision(w) for w in ("boast", "b", "mark as boast")} == {"marked boast"}
    assert parse_decision("c") == "confirmed"          # c stays confirm: marking a call is spelled out
    with pytest.raises(DetectorError, match="confirm, reject, call, boast or clear"):
        parse_decision("calls")


def test_marked_posts_become_calls_or_boasts_and_clear_gives_back_the_machines_verdict():
    calls = pd.DataFrame({"post_id": ["a", "b", "c", "d"], "kind": ["other", "other", "call", "boast"],
                          "is_call": [False, False, True, False], "requested_policy": ["harassment", None, None, None]})
    log = pd.concat([_rows("a", "marked call", 0, "Dana"), _rows("b", "marked boast", 0),
                     _rows("c", "marked boast", 0), _rows("d", "marked call", 0), _rows("d", "cleared", 5)])
    applied = apply_reviews(calls, log)
    assert list(applied["kind"]) == ["call", "boast", "boast", "boast"]
    assert list(applied["is_call"]) == [True, False, False, False]
    assert list(applied["machine_kind"]) == ["other", "other", "call", "boast"]
    assert list(applied["review"]) == ["marked call", "marked boast", "marked boast", "unreviewed"]
    assert applied.loc[0, "reviewer"] == "Dana" and applied.loc[0, "requested_policy"] == "harassment"
    # only confirmed and marked posts count when only reviewed ones do
    strict = apply_reviews(calls, pd.concat([log, _rows("c", "confirmed", 9)]), reviewed_only=True)
    assert list(strict["kind"]) == ["call", "boast", "call", "other"]


def test_confirming_a_post_the_machine_did_not_classify_names_the_file_and_line(tmp_path):
    decided = pd.DataFrame({"post_id": ["p1", "p2", "p3"], "decision": ["confirmed", "marked call", "confirmed"],
                            "line": [2, 3, 4]})
    machine = {"p1": "call", "p2": "other", "p3": "other"}
    with pytest.raises(DetectorError, match="post p3 cannot be confirmed: the classifier called it other") as exc:
        checked_decisions(decided, {"p1", "p2", "p3"}, machine, path=tmp_path / "r.csv")
    assert exc.value.where() == "r.csv:4" and "write call or boast" in str(exc.value)
    # a post that is a call only because someone marked it: confirming would undo the mark
    with pytest.raises(DetectorError, match="only because a person marked it"):
        checked_decisions(decided.iloc[2:], {"p3"}, machine, {"p3": "marked call"})
    with pytest.raises(DetectorError, match="no post 'p2' in this case") as exc:
        checked_decisions(decided, {"p1", "p3"}, machine, path=tmp_path / "r.csv")
    assert exc.value.line == 3
    ok = checked_decisions(decided.iloc[:2], {"p1", "p2"}, machine)
    assert list(ok["kind"]) == ["call", "other"]      # what the machine said is what is recorded


# -- on a real analysed case, through the CLI ------------------------------------------------------

def _fresh(mixed_case: Path, tmp_path: Path) -> Path:
    db = tmp_path / "case.duckdb"
    shutil.copy(mixed_case, db)
    return db


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _candidate(db: Path, tmp_path: Path) -> tuple[dict, dict, str]:
    """The top campaign, and one post the export lists as a candidate: it names one of the
    campaign's targets and the classifier took it for other; and the target it names."""
    with Case.open(db, read_only=True) as case:
        top = campaign_list(case)[0]
    sheet = tmp_path / "candidates.csv"
    out = CliRunner().invoke(main, ["review", "export", top["id"], "--candidates", "-o", str(sheet), "--db", str(db)])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    others = [r for r in rows if r["kind"] == "other" and r["post_id"] not in top["call_post_ids"]]
    assert others, "the export lists posts naming the campaign's targets that are not calls"
    with Case.open(db, read_only=True) as case:
        targets = case.query("SELECT targets FROM posts WHERE post_id = ?", [others[0]["post_id"]])["targets"][0]
    named = next(t for t in targets if t in top["targets"])
    return top, others[0], named


def test_a_post_marked_as_a_call_counts_in_campaign_check_and_packet_until_cleared(mixed_case, tmp_path):
    db = _fresh(mixed_case, tmp_path)
    runner = CliRunner()
    top, candidate, target = _candidate(db, tmp_path)
    post_id = candidate["post_id"]
    with Case.open(db, read_only=True) as case:
        calls_before = case.derived("calls")
        chatter = case.query("SELECT post_id FROM posts WHERE len(targets) = 0 AND NOT list_contains(?, chat) "
                             "ORDER BY post_id LIMIT 1", [sorted(set(calls_before["chat"]))])["post_id"][0]
    assert post_id not in set(calls_before["post_id"])
    sheet = tmp_path / "marks.csv"
    _write(sheet, [{"post_id": post_id, "decision": "call", "note": "asks readers to flag it"},
                   {"post_id": chatter, "decision": "boast", "note": ""}])
    out = runner.invoke(main, ["review", "import", str(sheet), "--reviewer", "Aigerim", "--db", str(db)])
    assert out.exit_code == 0, out.output
    with Case.open(db, read_only=True) as case:
        assert "reviewed after the analysis" in case.stale_reason()
        stored = case.reviews()
    assert list(stored.columns) == list(REVIEW_COLUMNS)            # the append-only table keeps its shape
    assert dict(zip(stored["post_id"], stored["kind"], strict=True)) == {post_id: "other", chatter: "other"}

    out = runner.invoke(main, ["review", "list", top["id"], "--candidates", "--db", str(db)])
    assert out.exit_code == 0 and "marked call" in out.output and "by Aigerim" in out.output
    assert "1 marked as a call or boast" in out.output

    analyze_case(db)
    with Case.open(db, read_only=True) as case:
        assert case.stale_reason() is None
        calls = case.derived("calls").set_index("post_id")
        campaigns = campaign_list(case)
        checked = check_target(case, target)
    row = calls.loc[post_id]
    assert (row["kind"], row["machine_kind"], row["review"], row["reviewer"]) == ("call", "other", "marked call",
                                                                                  "Aigerim")
    assert 0 <= row["p_call"] < 0.5 and target in row["targets"]          # the machine's score stays visible
    assert calls.loc[chatter, "kind"] == "boast"         # a person's boast stands though it names no target
    assert len(calls) == len(calls_before) + 2
    holding = next(c for c in campaigns if post_id in c["call_post_ids"])
    assert target in holding["targets"]
    assert post_id in set(checked.calls["post_id"])

    packet = tmp_path / "marked.zip"
    out = runner.invoke(main, ["packet", holding["id"], "-o", str(packet), "--db", str(db)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(packet) as zf:
        rows = {r["post_id"]: r for r in csv.DictReader(io.StringIO(zf.read("calls.csv").decode("utf-8")))}
        html = zf.read("report.html").decode("utf-8")
    marked = rows[post_id]
    assert (marked["review"], marked["reviewer"], marked["classifier_kind"]) == ("marked call", "Aigerim", "other")
    assert marked["reviewed_at_utc"] and float(marked["p_call"]) == pytest.approx(row["p_call"], abs=1e-4)
    assert "marked as a call by Aigerim" in html
    assert f"the classifier had classified it as other, p_call {row['p_call']:.2f}" in html
    assert "marked as a call or claim of success by a person" in html

    _write(sheet, [{"post_id": post_id, "decision": "clear"}])
    out = runner.invoke(main, ["review", "import", str(sheet), "--reviewer", "Aigerim", "--db", str(db)])
    assert out.exit_code == 0, out.output
    analyze_case(db)
    with Case.open(db, read_only=True) as case:
        after = case.derived("calls")
        assert len(case.reviews()) == 3                    # clearing appended a row, erased nothing
        assert post_id not in set(check_target(case, target).calls["post_id"])
    assert post_id not in set(after["post_id"]) and chatter in set(after["post_id"])


def test_bad_rows_in_an_import_name_file_and_line_and_store_nothing(mixed_case, tmp_path):
    db = _fresh(mixed_case, tmp_path)
    top, candidate, _ = _candidate(db, tmp_path)
    good = top["call_post_ids"][0]
    runner = CliRunner()
    cases = [("maybe", candidate["post_id"], "review.csv:3: unknown review decision 'maybe'"),
             ("call", "telegram:nowhere:1", "review.csv:3: no post 'telegram:nowhere:1' in this case"),
             ("confirm", candidate["post_id"], f"review.csv:3: post {candidate['post_id']} cannot be confirmed")]
    for decision, post_id, message in cases:
        sheet = tmp_path / "review.csv"
        _write(sheet, [{"post_id": good, "decision": "confirm"}, {"post_id": post_id, "decision": decision}])
        out = runner.invoke(main, ["review", "import", str(sheet), "--db", str(db)])
        assert out.exit_code == 2 and message in out.output, out.output
        with Case.open(db, read_only=True) as case:
            assert case.reviews().empty                # the good first row was not stored either


def test_reviewed_only_counts_marked_posts_and_not_unreviewed_machine_calls(mixed_case, tmp_path):
    db = _fresh(mixed_case, tmp_path)
    top, candidate, _ = _candidate(db, tmp_path)
    confirmed = top["call_post_ids"][0]
    with Case.open(db) as case:
        case.add_reviews(pd.concat([review_rows([candidate["post_id"]], "marked call", "Dana", kinds=["other"]),
                                    review_rows([confirmed], "confirmed", "Dana", kinds=["call"])]))
    out = CliRunner().invoke(main, ["analyze", "--reviewed-only", "--db", str(db)])
    assert out.exit_code == 0, out.output
    with Case.open(db, read_only=True) as case:
        calls = case.derived("calls")
    assert set(calls["post_id"]) == {candidate["post_id"], confirmed}
    assert dict(zip(calls["post_id"], calls["review"], strict=True)) == {candidate["post_id"]: "marked call",
                                                                         confirmed: "confirmed"}


def test_interactive_review_of_a_target_marks_a_missed_call_and_refuses_to_confirm_it(mixed_case, tmp_path):
    db = _fresh(mixed_case, tmp_path)
    _top, candidate, target = _candidate(db, tmp_path)
    with Case.open(db, read_only=True) as case:
        queue = review_queue(case, target=target)
    assert candidate["post_id"] in set(queue["post_id"]) and queue["campaign_id"].isna().all()
    at = list(queue["kind"]).index("other")            # skip the calls before the first post the machine missed
    missed = queue.iloc[at]["post_id"]
    out = CliRunner().invoke(main, ["review", "start", "--target", target, "--reviewer", "Dana", "--db", str(db)],
                             input="s\n" * at + "c\ncall\nnamed in a call thread\nq\n")
    assert out.exit_code == 0, out.output
    assert "cannot be confirmed" in out.output         # said, then asked again about the same post
    with Case.open(db, read_only=True) as case:
        now = current_reviews(case.reviews()).set_index("post_id")
    assert now.loc[missed, "decision"] == "marked call"
    assert now.loc[missed, "note"] == "named in a call thread" and len(now) == 1


def test_the_apps_review_table_stores_a_mark_and_refuses_to_confirm_what_the_machine_missed(mixed_case, tmp_path):
    from detector_app.ui import save_reviews

    db = _fresh(mixed_case, tmp_path)
    _top, candidate, _ = _candidate(db, tmp_path)
    shown = pd.DataFrame({"post_id": [candidate["post_id"]], "kind": ["other"], "review": ["unreviewed"],
                          "review_note": [""], "translation": [""]})
    with pytest.raises(DetectorError, match="cannot be confirmed"):
        save_reviews(db, shown, shown.assign(review="confirmed"), "Dana")
    assert save_reviews(db, shown, shown.assign(review="marked boast"), "Dana") == 1
    with Case.open(db, read_only=True) as case:
        stored = case.reviews()
    assert list(stored["decision"]) == ["marked boast"] and list(stored["kind"]) == ["other"]


def test_marked_posts_in_every_batch_of_the_calls_step_give_the_tables_of_one_batch(mixed_case, tmp_path,
                                                                                    monkeypatch):
    from detector.analysis import analyze_frames
    from detector.analysis_posts import AnalysisPosts

    db = _fresh(mixed_case, tmp_path)
    with Case.open(db, read_only=True) as case:
        posts, notices, exposure = case.table("posts"), case.table("notices"), case.table("exposure")
        machine = case.derived("calls")
    spread = [posts["post_id"].iloc[i] for i in (3, 700, 1500, len(posts) - 1)]
    spread = [p for p in spread if p not in set(machine["post_id"])]
    marks = pd.concat([review_rows(spread[::2], "marked call", "Dana"),
                       review_rows(spread[1::2], "marked boast", "Dana"),
                       review_rows([machine["post_id"].iloc[0]], "marked boast", "Dana")], ignore_index=True)
    with Case.open(db) as case:
        case.add_reviews(marks)
    monkeypatch.setattr(AnalysisPosts, "BATCH_ROWS", 300)        # 2,026 posts: seven batches
    batched = analyze_case(db)["calls"]
    with Case.open(db, read_only=True) as case:
        reviews = case.reviews()
    whole = analyze_frames(notices, posts, exposure, reviews=reviews)["calls"]
    assert set(spread) <= set(batched["post_id"])
    columns = ["post_id", "kind", "machine_kind", "p_call", "targets", "requested_policy", "language", "review"]
    pd.testing.assert_frame_equal(batched.sort_values("post_id")[columns].reset_index(drop=True),
                                  whole.sort_values("post_id")[columns].reset_index(drop=True), check_dtype=False)
    assert batched.set_index("post_id").loc[machine["post_id"].iloc[0], "machine_kind"] == machine["kind"].iloc[0]
