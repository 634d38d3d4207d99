"""The analysis reads text and id columns Arrow-backed: its results are those of Python strings."""

import pandas as pd
import pytest

from detector.analysis import analyze_frames
from detector.store import Case


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == "str":
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def test_arrow_backed_inputs_give_the_same_analysis_as_python_strings(mixed_case):
    with Case.open(mixed_case, read_only=True) as case:
        inputs = {arrow: [case.table(n, arrow_text=arrow) for n in ("notices", "posts", "exposure")]
                  for arrow in (False, True)}
        aliases = case.aliases()
    assert (inputs[True][1]["text"].dtype == "str") and inputs[False][1]["text"].dtype == object
    plain = analyze_frames(*inputs[False], aliases=aliases, seed=1)
    arrow = analyze_frames(*inputs[True], aliases=aliases, seed=1)
    assert plain.tables.keys() == arrow.tables.keys()
    for name, frame in plain.tables.items():
        pd.testing.assert_frame_equal(_as_objects(arrow.tables[name]), _as_objects(frame), obj=name)
    assert len(plain.tables["campaigns"]) > 0


@pytest.mark.parametrize("reviewed", ["call, boast and other", "other only"])
def test_dropping_other_posts_before_the_join_gives_the_same_analysis(mixed_case, monkeypatch, reviewed):
    """The analysis keeps only calls and boasts from the calls step (``keep_other=False``); every
    table, dtypes included, is what the whole classified frame (a row per post, joined and
    reviewed) gave, whichever posts the analysts reviewed."""
    import detector.analysis as analysis
    from detector.features.calls import classify_calls
    from detector.review import apply_reviews, review_rows

    with Case.open(mixed_case, read_only=True) as case:
        notices, posts, exposure = (case.table(n, arrow_text=True) for n in ("notices", "posts", "exposure"))
        aliases = case.aliases()
        kinds = case.derived("calls").set_index("post_id")["kind"]
    calls, boasts = kinds[kinds == "call"].index, kinds[kinds == "boast"].index
    chatter = posts.loc[~posts["post_id"].isin(kinds.index), "post_id"]
    if reviewed == "other only":   # review columns all missing on the calls and boasts
        reviews = review_rows(chatter[:2], "confirmed", "ana")
    else:                          # a rejected call, a confirmed boast, a noted other post
        reviews = pd.concat([review_rows(calls[:1], "rejected", "ana"), review_rows(boasts[:1], "confirmed", "ana"),
                             review_rows(chatter[:1], "confirmed", "ana", notes=["not a call"])], ignore_index=True)
    fast = analyze_frames(notices, posts, exposure, aliases=aliases, seed=1, reviews=reviews)
    monkeypatch.setattr(analysis, "classify_calls", lambda *a, keep_other=True, **k: classify_calls(*a, **k))
    monkeypatch.setattr(analysis, "apply_reviews", lambda *a, all_ids=None, **k: apply_reviews(*a, **k))
    whole = analyze_frames(notices, posts, exposure, aliases=aliases, seed=1, reviews=reviews)
    assert fast.tables.keys() == whole.tables.keys()
    for name, frame in whole.tables.items():
        pd.testing.assert_frame_equal(fast.tables[name], frame, obj=name)
    assert fast.parameters["posts_classified"] == whole.parameters["posts_classified"] == len(posts)
    assert len(fast.tables["calls"]) > 0 and len(fast.tables["campaigns"]) > 0


def test_reading_tables_through_arrow_gives_the_frames_of_the_python_conversion(mixed_case, tmp_path):
    """``Case.table(arrow_text=True)`` reads DuckDB's Arrow result; the frames are those that
    conforming DuckDB's pandas result gives, on a simulated case and on odd rows (nulls, empty
    and missing lists, big integers, texts with NUL and astral characters)."""
    from detector.schema import conform

    odd = tmp_path / "odd.duckdb"
    with Case.open(odd) as case:
        rows = pd.DataFrame({"post_id": ["a", "b", "c"], "source_id": ["s", "s", None],
                             "text": ["x\x00y 😀", None, ""], "urls": [["u1", "u2"], [], None],
                             "targets": [None, ["t"], []], "views": [2**62 + 1, None, 0],
                             "posted_at": pd.to_datetime(["2026-01-01T00:00:00.123456Z", None,
                                                          "1999-12-31T23:59:59.000000Z"], utc=True)})
        case.con.register("rows", conform(rows, "posts"))
        case.con.execute("INSERT INTO posts SELECT * FROM rows").fetchall()
    for db in (mixed_case, odd):
        with Case.open(db, read_only=True) as case:
            for name in ("notices", "posts", "exposure"):
                plain = conform(case.con.execute(f'SELECT * FROM "{name}"').df(), name, arrow_text=True)
                pd.testing.assert_frame_equal(case.table(name, arrow_text=True), plain, obj=f"{db.name} {name}")


def test_reading_through_arrow_batches_gives_the_frame_a_whole_result_gave(mixed_case, monkeypatch):
    """The analysis' read streams DuckDB's rows in Arrow batches and joins each column into one
    chunk; with batches far smaller than the tables, every column is the one ``.df()`` gave."""
    from detector.schema import conform

    monkeypatch.setattr(Case, "ARROW_BATCH_ROWS", 97)
    with Case.open(mixed_case, read_only=True) as case:
        for name in ("notices", "posts", "exposure", "aliases"):
            whole = conform(case.con.execute(f'SELECT * FROM "{name}"').df(), name, arrow_text=True)
            batched = case.table(name, arrow_text=True)
            assert len(batched) == len(whole)
            pd.testing.assert_frame_equal(batched, whole, check_exact=True, obj=name)
            for col in batched.columns:
                if batched[col].dtype == "str":
                    assert batched[col].array._pa_array.num_chunks <= 1, (name, col)


def test_text_and_list_columns_are_read_with_64_bit_offsets(mixed_case):
    """Joining a text column's batches with 32-bit offsets overflows past 2 GiB (10^7 posts of ~240
    characters did, as `ArrowInvalid: offset overflow`); the read widens every text, bytes and list
    column, nested ones included, before it joins them."""
    import pyarrow as pa

    from detector.store import _wide

    assert _wide(pa.list_(pa.string())) == pa.large_list(pa.large_string())
    assert _wide(pa.binary()) == pa.large_binary() and _wide(pa.int64()) == pa.int64()
    with Case.open(mixed_case, read_only=True) as case:
        table = case._arrow_table("posts")
    kinds = {field.name: field.type for field in table.schema}
    assert kinds["text"] == pa.large_string() and kinds["urls"] == pa.large_list(pa.large_string())
    assert not any(pa.types.is_string(t) or pa.types.is_list(t) for t in kinds.values())
