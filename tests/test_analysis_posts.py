"""The analysis of a stored case reads the posts' texts apart, in batches from a file beside the
case: the frames, batches and every derived table are those of the whole posts table."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import detector.analysis as analysis
from detector.analysis import analyze_case, analyze_frames
from detector.analysis_posts import FRAME_COLUMNS, AnalysisPosts
from detector.schema import conform
from detector.store import Case


@pytest.fixture
def odd_case(mixed_case, tmp_path) -> Path:
    """The mixed case with posts that have no text, an empty one, no links or targets, a list of links."""
    db = tmp_path / "odd.duckdb"
    shutil.copy(mixed_case, db)
    with Case.open(db) as case:
        first = case.table("posts").iloc[0]
        rows = pd.DataFrame({"post_id": ["odd:1", "odd:2", "odd:3", "odd:4"], "source_id": first["source_id"],
                             "platform": "telegram", "chat": first["chat"], "message_id": ["1", "2", "3", "4"],
                             "text": [None, "", "Report this video for harassment: https://youtu.be/dQw4w9WgXcQ 😀",
                                      "x\x00y"],
                             "urls": [None, [], ["https://youtu.be/dQw4w9WgXcQ", "u2"], None],
                             "targets": [[], None, ["t"], []],
                             "posted_at": pd.to_datetime([first["posted_at"]] * 4, utc=True)})
        case.con.register("rows", conform(rows, "posts"))
        case.con.execute("INSERT INTO posts SELECT * FROM rows").fetchall()
    return db


def test_a_cases_posts_with_their_texts_apart_hold_the_columns_every_step_reads(odd_case, tmp_path):
    with Case.open(odd_case, read_only=True) as case:
        whole = case.table("posts", arrow_text=True)
        posts = case.analysis_posts(tmp_path)
    kept = [c for c in whole.columns if c in FRAME_COLUMNS]
    assert len(kept) == len(FRAME_COLUMNS) and "text" not in kept
    pd.testing.assert_frame_equal(posts.frame, whole[kept], check_exact=True)
    assert len(posts) == len(whole) and whole["text"].isna().any()


@pytest.mark.parametrize(("rows", "sizes"), [(5, [5] * 406), (40, [40] * 50 + [30]), (1000, [1015, 1015]),
                                            (1400, [2030]), (10**6, [2030])])
def test_the_batches_of_a_cases_posts_join_into_the_whole_posts_table(odd_case, tmp_path, monkeypatch, rows, sizes):
    """DuckDB's record batches (of 7 rows here) are written apart and read back in equal batches
    of about ``rows`` posts (2,030 posts in about 1,000: two); joined, the batches are the posts table,
    index included, and each batch's texts are one chunk."""
    monkeypatch.setattr(Case, "ARROW_BATCH_ROWS", 7)
    with Case.open(odd_case, read_only=True) as case:
        whole = case.table("posts", arrow_text=True)
        posts = case.analysis_posts(tmp_path)
    assert len(whole) == 2030
    batches = list(posts.batches(rows))
    assert [len(b) for b in batches] == sizes
    pd.testing.assert_frame_equal(pd.concat(batches), whole, check_exact=True)
    assert all(b[c].array._pa_array.num_chunks == 1 for b in batches for c in ("text", "post_id", "source_id"))


def test_posts_given_as_a_frame_are_one_batch(mixed_case):
    with Case.open(mixed_case, read_only=True) as case:
        whole = case.table("posts", arrow_text=True)
    posts = AnalysisPosts.of(whole)
    assert posts.frame is whole and [b is whole for b in posts.batches(3)] == [True]


def test_a_case_without_posts_reads_as_no_posts(tmp_path):
    db = tmp_path / "empty.duckdb"
    with Case.open(db):
        pass
    with Case.open(db, read_only=True) as case:
        posts = case.analysis_posts(tmp_path)
        whole = case.table("posts", arrow_text=True)
    assert len(posts) == 0
    pd.testing.assert_frame_equal(pd.concat(list(posts.batches())), whole)


@pytest.mark.parametrize("rows", [50, 10**6])
def test_analysing_posts_whose_texts_are_apart_gives_the_tables_of_the_whole_posts_table(odd_case, tmp_path,
                                                                                      monkeypatch, rows):
    """Batches of 50 posts (41 batches) or one: every derived table, dtypes included, is the one
    the whole posts table gives, with channel aliases and reviews (a rejected call, a confirmed
    boast) applied."""
    from detector.review import review_rows

    monkeypatch.setattr(AnalysisPosts, "BATCH_ROWS", rows)
    monkeypatch.setattr(Case, "ARROW_BATCH_ROWS", 13)
    with Case.open(odd_case, read_only=True) as case:
        notices, whole, exposure = (case.table(n, arrow_text=True) for n in ("notices", "posts", "exposure"))
        posts = case.analysis_posts(tmp_path)
        aliases = case.aliases()
        kinds = case.derived("calls").set_index("post_id")["kind"]
    reviews = pd.concat([review_rows(kinds[kinds == "call"].index[:1], "rejected", "ana"),
                         review_rows(kinds[kinds == "boast"].index[:1], "confirmed", "ana")], ignore_index=True)
    classified = []
    real = analysis.classify_calls
    monkeypatch.setattr(analysis, "classify_calls", lambda p, **k: classified.append(len(p)) or real(p, **k))
    apart = analyze_frames(notices, posts, exposure, aliases=aliases, seed=1, reviews=reviews)
    assert classified == [len(b) for b in posts.batches()] and (len(classified) > 1) == (rows < len(whole))
    together = analyze_frames(notices, whole, exposure, aliases=aliases, seed=1, reviews=reviews)
    assert apart.tables.keys() == together.tables.keys()
    for name, frame in together.tables.items():
        pd.testing.assert_frame_equal(apart.tables[name], frame, check_exact=True, obj=name)
    assert apart.parameters == together.parameters
    assert len(apart.tables["calls"]) > 0 and len(apart.tables["campaigns"]) > 0 and len(apart.tables["forwards"])
    assert len(apart.tables["identities"]) > 0


def test_a_model_that_reads_the_thread_classifies_the_posts_in_one_batch(mixed_case, tmp_path, monkeypatch):
    """A reply's thread may be in another batch, so such a model reads every post at once."""
    monkeypatch.setattr(AnalysisPosts, "BATCH_ROWS", 50)
    monkeypatch.setattr(analysis, "reads_context", lambda model: True)
    with Case.open(mixed_case, read_only=True) as case:
        notices, exposure = (case.table(n, arrow_text=True) for n in ("notices", "exposure"))
        posts = case.analysis_posts(tmp_path)
    classified = []
    real = analysis.classify_calls
    monkeypatch.setattr(analysis, "classify_calls", lambda p, **k: classified.append(len(p)) or real(p, **k))
    analyze_frames(notices, posts, exposure, seed=1)
    assert classified == [len(posts)]


def test_analysing_a_case_leaves_no_texts_beside_it(mixed_case, tmp_path, monkeypatch):
    """The texts' file goes with the analysis, and with a failed one too."""
    db = tmp_path / "case" / "case.duckdb"
    db.parent.mkdir()
    shutil.copy(mixed_case, db)
    seen = []
    real = Case.analysis_posts
    monkeypatch.setattr(Case, "analysis_posts", lambda self, folder: seen.append(Path(folder)) or real(self, folder))
    analyze_case(db)
    assert seen and seen[0].parent == db.parent and not seen[0].exists()
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".analysis")]

    def fail(*_args, **_kwargs):
        assert any(seen[-1].iterdir())          # the texts were written before the analysis began
        raise RuntimeError("stopped")
    monkeypatch.setattr(analysis, "analyze_frames", fail)
    with pytest.raises(RuntimeError):
        analyze_case(db)
    assert len(seen) == 2 and not seen[1].exists()
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".analysis")]


def test_conforming_some_columns_gives_those_columns_of_the_whole_table():
    rows = pd.DataFrame({"post_id": ["a", "b"], "views": ["3", None], "urls": [None, ["u"]],
                         "posted_at": ["2026-01-01T00:00:00Z", None], "text": ["x", None]})
    some = ["views", "urls", "post_id", "posted_at"]
    for arrow_text in (False, True):
        whole = conform(rows, "posts", arrow_text=arrow_text)
        pd.testing.assert_frame_equal(conform(rows, "posts", arrow_text=arrow_text, columns=some),
                                      whole[[c for c in whole.columns if c in some]])


def test_the_analysis_read_caps_what_duckdb_holds(mixed_case):
    with Case.open(mixed_case, read_only=True) as case:
        case.cap_memory(analysis.READ_MEMORY)
        limit = case.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit.replace(" ", "").upper().startswith(("244.1MIB", "256.0MB", "256MB")), limit


def test_texts_left_by_a_killed_analysis_are_removed_and_a_running_ones_kept(mixed_case, tmp_path):
    """A killed analysis cannot clean up: its copy of the posts' texts must not stay beside the case."""
    import subprocess
    import sys

    db = tmp_path / "case" / "case.duckdb"
    db.parent.mkdir()
    shutil.copy(mixed_case, db)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = db.parent / f".analysis-{gone.stdout.strip()}-abc123"
    live = db.parent / f".analysis-{os.getpid()}-def456"
    other = db.parent / ".analysis-notes"             # not of our making: left alone
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "posts.arrow").write_bytes(b"texts")
    assert analysis.remove_abandoned_texts(db.parent) == [dead]
    assert not dead.exists() and live.exists() and other.exists()
    (dead).mkdir()
    analyze_case(db)                                  # the analysis sweeps before it writes its own
    assert not dead.exists() and live.exists()
