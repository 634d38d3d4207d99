"""The analysis reads text and id columns Arrow-backed: its results are those of Python strings."""

import pandas as pd

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
