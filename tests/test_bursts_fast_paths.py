"""The burst rows' fast paths give what the filters they replace gave.

:class:`detector.features.bursts.StreamRows` finds a burst's notices by two searches in its
stream's rows sorted by bin, ranks its policies by counting codes and sorts its notice ids in
Arrow; each is checked here against the boolean mask, ``value_counts`` and ``sorted`` over the
whole subject, as ``detect_bursts`` computed them before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detector.features.baseline import Cycle
from detector.features.bursts import Stream, StreamRows


def _subject(rng: np.random.Generator, n: int) -> pd.DataFrame:
    policies = np.array(["harassment", "spam", "hate_speech", "privacy", None, "Ünïcode", "中文"], dtype=object)
    ids = [f"n:{rng.integers(0, 10**6)}" if rng.random() < 0.7 else f"ID-{i}-é中" for i in range(n)]
    return pd.DataFrame({
        "notice_id": pd.array(ids, dtype="str"),
        "received_at": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 500 * 3600, n), unit="s"),
        "policy": pd.array(rng.choice(policies, n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05]), dtype="str"),
    }).assign(bin=lambda f: ((f["received_at"] - pd.Timestamp("2025-01-01", tz="UTC")) // pd.Timedelta(hours=1)))


def _stream(frame: pd.DataFrame, positions: np.ndarray | None) -> Stream:
    bins = frame["bin"].to_numpy(dtype=np.int64)
    events = np.sort(bins if positions is None else bins[positions])
    return Stream("s", "subject", "x", "x", frame, positions, events, np.ones(500) / 500, False, Cycle.flat())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("whole_subject", [True, False])
def test_stream_rows_give_the_mask_value_counts_and_sorted_ids_of_every_interval(seed, whole_subject):
    rng = np.random.default_rng(seed)
    frame = _subject(rng, int(rng.integers(1, 400)))
    positions = None if whole_subject else np.flatnonzero(rng.random(len(frame)) < 0.4)
    rows = StreamRows(_stream(frame, positions), {})
    sbins = frame["bin"].to_numpy(dtype=np.int64)
    policies = frame["policy"].to_numpy(dtype=object, na_value=None)
    ids = frame["notice_id"].astype(str).to_numpy(dtype=object)
    if positions is not None:                 # the old columns_of: the stream's rows, in row order
        sbins, policies, ids = sbins[positions], policies[positions], ids[positions]
        index = positions
    else:
        index = np.arange(len(frame))
    for _ in range(40):
        lo = int(rng.integers(-5, 505))
        hi = lo + int(rng.integers(0, 200))
        mask = (sbins >= lo) & (sbins < hi)
        inside = rows.inside(lo, hi)
        assert list(inside) == list(index[mask])
        top = pd.Series(policies[mask], dtype=object).value_counts()
        expected = (top.index[0], float(top.iloc[0] / top.sum())) if len(top) else (None, None)
        assert rows.policy_top(inside) == expected
        assert rows.notice_ids(inside) == sorted(ids[mask])


def test_policy_ties_go_to_the_policy_met_first_as_value_counts_ranks_them():
    frame = pd.DataFrame({"notice_id": pd.array(["a", "b", "c", "d", "e"], dtype="str"),
                          "received_at": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(range(5), unit="h"),
                          "policy": pd.array(["spam", None, "harassment", "harassment", "spam"], dtype="str"),
                          "bin": np.arange(5)})
    rows = StreamRows(_stream(frame, None), {})
    assert rows.policy_top(rows.inside(0, 5)) == ("spam", 0.5)
    assert rows.policy_top(rows.inside(1, 5)) == ("harassment", 2 / 3)
    assert rows.policy_top(rows.inside(1, 2)) == (None, None)
