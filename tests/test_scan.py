"""The scan statistic's compiled window loops, and a stream's cost following its events."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from detector.features.baseline import hourly_bins
from detector.features.bursts import Period, detect_bursts, notice_streams
from detector.features.scan import _llr_terms, scan, scan_events
from detector.features.windows import best_dense, best_sparse, pack_terms
from detector.params import DEFAULTS

WIDTHS = DEFAULTS.scan_widths_h


def _shape(rng, length):
    shape = rng.uniform(0.2, 3.0, length)
    return shape / shape.sum()


@pytest.mark.parametrize("total", [1, 3, 12, 64, 200])
@pytest.mark.parametrize("start_range", [None, (40, 300)])
def test_windows_holding_events_give_the_best_window_of_all_windows(total, start_range):
    rng = np.random.default_rng(total)
    length = 700
    shape = _shape(rng, length)
    pos = np.sort(rng.choice(length, size=(25, total), p=shape), axis=1)
    table, terms = _llr_terms(shape, total, WIDTHS, start_range)
    packed = pack_terms(terms)
    c = np.zeros((25, length + 1), dtype=np.int32)
    for r in range(25):
        c[r, 1:] = np.cumsum(np.bincount(pos[r], minlength=length))
    dense, sparse = best_dense(c, table, *packed), best_sparse(pos, table, *packed)
    for a, b in zip(dense, sparse, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (dense[0] > 0).any()


def test_scan_of_counts_and_of_event_bins_agree_and_threads_change_nothing():
    rng = np.random.default_rng(3)
    shape = _shape(rng, 24 * 60)
    events = np.sort(rng.choice(len(shape), size=80, p=shape))
    counts = np.bincount(events, minlength=len(shape))
    alone = scan(counts, shape, replicates=299, seed=11)
    with ThreadPoolExecutor(2) as pool:
        threaded = scan_events(events, shape, replicates=299, seed=11, pool=pool)
    assert (alone.p_value, alone.start_bin, alone.width, alone.statistic) == \
        (threaded.p_value, threaded.start_bin, threaded.width, threaded.statistic)
    np.testing.assert_array_equal(alone.null_max, threaded.null_max)


def _notices(times: pd.DatetimeIndex, rng) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({"notice_id": [f"n{i}" for i in range(n)], "received_at": times,
                         "action": "complaint", "policy": rng.choice(["harassment", "spam"], n),
                         "target": rng.choice([f"youtube:video:{i:011d}" for i in range(6)], n),
                         "subject": "youtube:channel:UCx"})


def test_a_streams_arrays_follow_its_notices_not_the_span_of_the_case():
    rng = np.random.default_rng(5)
    times = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 24 * 60, 300), unit="h")
    notices = _notices(pd.DatetimeIndex(times).floor("s"), rng)
    sizes = []
    for years in (0, 8):
        period = Period(pd.Timestamp("2025-03-01", tz="UTC") - pd.Timedelta(days=365 * years),
                        pd.Timestamp("2025-05-01", tz="UTC"))
        bins = hourly_bins(period.start, period.end)
        rows = notices.assign(subject_key="youtube:channel:UCx",
                              bin=((notices["received_at"] - bins[0]) // pd.Timedelta(hours=1)).astype("int64"))
        streams = notice_streams(rows, None, period, bins, rows.groupby("target")["bin"].min() * 0, DEFAULTS)
        sizes.append(sorted((st.sid, st.events.size) for st in streams))
    assert sizes[0] == sizes[1] and sum(n for _, n in sizes[0]) > 300


def test_a_burst_in_a_long_quiet_case_is_found():
    rng = np.random.default_rng(8)
    start = pd.Timestamp("2017-01-01", tz="UTC")
    quiet = start + pd.to_timedelta(rng.uniform(0, 24 * 365 * 8, 400), unit="h")
    burst = pd.Timestamp("2024-06-01 12:00", tz="UTC") + pd.to_timedelta(rng.uniform(0, 6, 60), unit="h")
    notices = _notices(pd.DatetimeIndex(np.concatenate([quiet, burst])).floor("s"), rng)
    scans, bursts = detect_bursts(notices, params=DEFAULTS.replace(stream_replicates=99, target_replicates=99))
    subject = scans[scans["scope"] == "subject"].iloc[0]
    assert subject["p_burst"] <= 0.01
    assert pd.Timestamp("2024-06-01", tz="UTC") <= subject["best_start"] <= pd.Timestamp("2024-06-02", tz="UTC")


def test_position_draws_and_multinomial_draws_give_the_same_null_distribution():
    """Above 64 events a long stream draws event positions instead of a multinomial row: both are
    exact draws of the same null, so the Monte Carlo maxima must agree in distribution."""
    from scipy.stats import ks_2samp

    from detector.features.scan import _null_maxima, draws_positions

    rng = np.random.default_rng(3)
    length, total = 24 * 120, 200
    shape = (1 + 0.8 * np.sin(np.arange(length) / 24 * 2 * np.pi)) * rng.uniform(0.5, 1.5, length)
    shape /= shape.sum()
    assert draws_positions(total, length)
    by_position = _null_maxima(shape, total, (1, 6, 24), 400, np.random.default_rng(0))
    multinomial = []
    table, terms = _llr_terms(shape, total, (1, 6, 24))
    packed = pack_terms(terms)
    draws = np.random.default_rng(1).multinomial(total, shape, size=400)
    c = np.zeros((400, length + 1), dtype=np.int32)
    np.cumsum(draws, axis=1, out=c[:, 1:])
    multinomial = best_dense(c, table, *packed)[0]
    assert ks_2samp(by_position, multinomial).pvalue > 0.01
    assert abs(np.median(by_position) - np.median(multinomial)) < 0.15 * np.median(multinomial)


def test_a_long_span_draws_positions_and_a_dense_stream_draws_rows():
    from detector.features.scan import draws_positions

    eight_years = 8 * 365 * 24
    assert draws_positions(1_000, eight_years)          # cost follows the 1,000 events
    assert not draws_positions(5_000, 24 * 200)         # more events than bins: one row is cheaper
    assert draws_positions(64, 24)                      # small streams always draw positions
