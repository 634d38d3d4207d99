"""How bench/calls_boasts.py reads the boast definition from the labelled real posts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

_SPEC = importlib.util.spec_from_file_location(
    "calls_boasts", Path(__file__).resolve().parents[1] / "bench" / "calls_boasts.py")
calls_boasts = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(calls_boasts)


def test_a_post_follows_a_call_only_when_an_earlier_row_of_its_own_thread_is_one():
    groups = np.array(["a", "a", "b", "a", "b"])
    calls = np.array([False, True, False, False, False])
    assert calls_boasts.earlier_in_group(groups, calls).tolist() == [False, False, False, True, False]


def test_a_boast_naming_no_target_in_a_thread_without_a_call_is_turned_to_other_by_the_rule():
    real = pd.DataFrame({
        "text": ["Report this channel https://t.me/spamchan", "It's gone, finally!",
                 "It's gone, finally!", "The channel https://t.me/other was removed lol"],
        "label": ["call", "boast", "other", "boast"], "language": "en",
        "group": ["t1", "t1", "t2", "t3"]})
    predicted = np.array(["call", "boast", "boast", "boast"], dtype=object)
    table = calls_boasts.score_split(real, predicted).set_index(["rule", "language"])
    model, rule = table.loc[("model", "all")], table.loc[("named_or_follows", "all")]
    assert (model["true"], model["false"]) == (2, 1)
    # t2's boast names nothing and follows no call; t1's follows the call, t3's names a channel.
    assert (rule["true"], rule["false"], rule["precision"]) == (2, 0, 1.0)
