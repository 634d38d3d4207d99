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
