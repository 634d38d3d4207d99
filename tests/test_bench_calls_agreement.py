"""How bench/calls_agreement.py joins the second annotation to the real labelled posts and scores it."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "calls_agreement", Path(__file__).resolve().parents[1] / "bench" / "calls_agreement.py")
calls_agreement = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(calls_agreement)


def test_every_second_annotation_names_a_real_row_of_its_language():
    real = calls_agreement.real_rows()
    second = pd.read_csv(calls_agreement.SECOND, dtype={"row": int}, keep_default_na=False)
    sample = calls_agreement.joined(real, second)
    assert len(sample) == len(second) == 450
    assert set(sample["second_label"]) <= {"call", "boast", "other"}
    languages = real.set_index(["file", "row"])["language"]
    assert (languages.loc[list(zip(second["file"], second["row"], strict=True))].to_numpy()
            == second["language"].to_numpy()).all()
    # the stratified sample weighs back to the real rows' label counts
    assert sample.groupby("label")["weight"].sum().round().to_dict() == real["label"].value_counts().to_dict()


def test_a_row_that_is_not_a_real_labelled_row_is_refused():
    real = calls_agreement.real_rows()
    bogus = pd.DataFrame({"file": ["en.csv"], "row": [10**6], "language": ["en"], "second_label": ["call"],
                          "confidence": ["high"], "note": [""]})
    with pytest.raises(SystemExit, match="row 1000000 is not a real labelled row"):
        calls_agreement.joined(real, bogus)


def test_weighted_scores_count_each_row_by_its_weight():
    truth = pd.Series(["call", "call", "other", "other"])
    guess = pd.Series(["call", "other", "call", "other"])
    weight = pd.Series([1.0, 1.0, 3.0, 1.0])
    assert calls_agreement.scores(truth, guess, weight, "call") == {"precision": 0.25, "recall": 0.5}
