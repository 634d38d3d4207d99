"""The fitted call classifier is kept on disk between runs, keyed by what made it."""

from __future__ import annotations

import joblib
import numpy as np

from detector import model_cache


def _cached(inputs, fits):
    def fit():
        fits.append(1)
        return {"weights": [1.0, 2.0], "n": len(fits)}

    return model_cache.cached("toy", inputs, fit, lambda m, p: joblib.dump(m, p), joblib.load)


def test_a_cached_model_is_read_back_instead_of_refitted(tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "train.csv"
    data.write_text("text,label\nreport it,call\n", encoding="utf-8")
    fits: list[int] = []
    first = _cached([data], fits)
    second = _cached([data], fits)
    assert fits == [1] and first == second
    assert len(list((tmp_path / "cache").glob("toy-*.joblib"))) == 1


def test_a_changed_input_gives_a_new_model_and_a_damaged_file_is_refitted(tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "train.csv"
    data.write_text("a\n", encoding="utf-8")
    fits: list[int] = []
    _cached([data], fits)
    data.write_text("b\n", encoding="utf-8")
    assert _cached([data], fits)["n"] == 2
    for f in (tmp_path / "cache").glob("toy-*.joblib"):
        f.write_bytes(b"not a pickle")
    assert _cached([data], fits)["n"] == 3
    assert not list((tmp_path / "cache").glob(".toy-*"))          # no temporary file left behind


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_CACHE_DIR", "off")
    data = tmp_path / "train.csv"
    data.write_text("a\n", encoding="utf-8")
    fits: list[int] = []
    _cached([data], fits)
    _cached([data], fits)
    assert fits == [1, 1] and model_cache.cache_dir() is None


def test_the_cached_call_classifier_predicts_what_a_fresh_fit_predicts(tmp_path, monkeypatch):
    from detector.features import calls

    monkeypatch.setenv("DETECTOR_CACHE_DIR", str(tmp_path / "cache"))
    calls.call_model.cache_clear()
    try:
        calls.call_model()                                       # fits and stores
        calls.call_model.cache_clear()
        stored = calls.call_model()                              # read from disk
    finally:
        calls.call_model.cache_clear()
    texts = ["Report this video for harassment: https://youtu.be/abcdefghijk", "Рахмет!", "大家去举报这个频道",
             "thanks everyone, it's gone"]
    fresh = calls.fit_call_model()
    np.testing.assert_array_equal(calls.call_probabilities(texts, model=stored).to_numpy(),
                                  calls.call_probabilities(texts, model=fresh).to_numpy())
    assert len(list((tmp_path / "cache").glob("calls-*.joblib"))) == 1
