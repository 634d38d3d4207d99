"""Kleinberg's burst automaton: row-for-row agreement with R bursts 1.0-2 and pybursts 0.1.1."""

from __future__ import annotations

import doctest
import importlib.util
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector.features import kleinberg
from detector.features.kleinberg import burst_intervals, burst_levels, kleinberg_bursts

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _read_events(oracles: Path, name: str) -> np.ndarray:
    return np.loadtxt(oracles / f"events_{name}.csv", dtype=np.float64)


def _read_r_rows(path: Path) -> pd.DataFrame:
    # First line is the run's timing, then a tab-separated header; R pads numbers with spaces.
    return pd.read_csv(path, sep="\t", skiprows=1, skipinitialspace=True)


def _assert_same_rows(ours: pd.DataFrame, level, start, end) -> None:
    assert len(ours) == len(level)
    np.testing.assert_array_equal(ours["level"].to_numpy(), np.asarray(level, dtype=np.int64))
    np.testing.assert_allclose(ours["start"].to_numpy(), np.asarray(start, dtype=float), rtol=1e-9, atol=0)
    np.testing.assert_allclose(ours["end"].to_numpy(), np.asarray(end, dtype=float), rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def oracles(shared_dir: Path) -> Path:
    return shared_dir / "oracles" / "kleinberg"


@pytest.fixture(scope="module")
def pybursts():
    spec = importlib.util.spec_from_file_location("pybursts_live", BENCH / "pybursts_live.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_pybursts()


def _poisson(rng, rate_per_hour: float, hours: float) -> np.ndarray:
    count = rng.poisson(rate_per_hour * hours)
    return np.sort(rng.uniform(0, hours, count))


def _utc(hours: np.ndarray, origin: str = "2024-03-01T00:00:00Z") -> pd.Series:
    micros = np.round(np.asarray(hours) * 3.6e9).astype(np.int64)
    return pd.Series(pd.Timestamp(origin) + pd.to_timedelta(micros, unit="us")).astype("datetime64[us, UTC]")


@pytest.mark.parametrize(("events", "oracle", "s"), [
    ("small", "r_bursts_small_s2_g1.tsv", 2.0),
    ("small", "r_bursts_small_s3_g1.tsv", 3.0),
    ("1e4", "r_bursts_1e4_s2_g1.tsv", 2.0),
])
def test_rows_match_r_bursts(oracles, events, oracle, s):
    expected = _read_r_rows(oracles / oracle)
    ours = kleinberg_bursts(_read_events(oracles, events), s=s, gamma=1.0)
    _assert_same_rows(ours, expected["level"], expected["start"], expected["end"])


def test_rows_match_pybursts_at_1e5_events(oracles):
    expected = np.array(json.loads((oracles / "pybursts_1e5_s2_g1.json").read_text())["result"])
    ours = kleinberg_bursts(_read_events(oracles, "1e5"), s=2.0, gamma=1.0)
    _assert_same_rows(ours, expected[:, 0], expected[:, 1], expected[:, 2])


def test_log_density_form_gives_the_same_rows_on_the_r_oracle(oracles):
    times = _read_events(oracles, "1e4")
    pd.testing.assert_frame_equal(kleinberg_bursts(times, stable=True), kleinberg_bursts(times))


def _random_streams():
    """Small streams a live pybursts run finishes in milliseconds: steady, bursty, nested."""
    for seed in range(8):
        rng = np.random.default_rng(seed)
        background = _poisson(rng, 1.0, 60 + 10 * seed)
        burst = 30 + rng.uniform(0, 1 + seed % 3, 5 + 4 * seed)
        inner = 30.2 + rng.uniform(0, 0.1, 6 * (seed % 2))
        yield seed, np.unique(np.concatenate([background, burst, inner]))


@pytest.mark.parametrize(("s", "gamma"), [(2.0, 1.0), (3.0, 0.5), (1.5, 2.0)])
def test_rows_match_live_pybursts_on_random_streams(pybursts, s, gamma):
    with_bursts = 0
    for _seed, times in _random_streams():
        theirs = np.array(pybursts.kleinberg(list(times), s=s, gamma=gamma), dtype=float)
        ours = kleinberg_bursts(times, s=s, gamma=gamma)
        _assert_same_rows(ours, theirs[:, 0] + 1, theirs[:, 1], theirs[:, 2])
        with_bursts += int(len(ours) > 2)
    assert with_bursts >= 3  # the comparison exercises nested bursts opening and closing


def test_equal_times_are_refused_like_pybursts(pybursts):
    times = [0.0, 1.0, 2.0, 2.0, 3.0, 7.5]
    with pytest.raises(ValueError, match="zero time between") as theirs:
        pybursts.kleinberg(times)
    with pytest.raises(ValueError, match="zero time between") as ours:
        kleinberg_bursts(times)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="zero time between"):
        kleinberg_bursts([4.0, 4.0, 4.0])


def _stream_with_long_silence(seed: int = 7) -> tuple[np.ndarray, float]:
    """A burst that comes after a silence of ~1000 mean gaps, and the hour it was injected at."""
    rng = np.random.default_rng(seed)
    before = np.cumsum(rng.exponential(1.0, 600))
    after = before[-1] + 1e5 + np.cumsum(rng.exponential(1.0, 600))
    burst = after[300] + np.sort(rng.uniform(0, 1.0, 40))
    return np.sort(np.concatenate([before, after, burst])), float(after[300])


def test_reference_form_loses_the_burst_after_a_long_silence_as_pybursts_does(pybursts):
    times, injected_at = _stream_with_long_silence()
    theirs = np.array(pybursts.kleinberg(list(times)), dtype=float)
    reference = kleinberg_bursts(times)
    _assert_same_rows(reference, theirs[:, 0] + 1, theirs[:, 1], theirs[:, 2])
    assert not ((reference["level"] > 1) & (reference["end"] > injected_at)).any()

    stable = kleinberg_bursts(times, stable=True)
    late = stable[(stable["level"] > 1) & (stable["start"] <= injected_at) & (stable["end"] >= injected_at + 1)]
    assert not late.empty
    # Before the silence both forms agree row for row.
    early = stable[stable["start"] < injected_at - 1e4].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, reference)


def test_each_level_is_nested_in_the_level_below(oracles):
    rows = kleinberg_bursts(_read_events(oracles, "1e4"))
    parents: dict[int, tuple[float, float]] = {}
    for level, start, end in rows.itertuples(index=False):
        if level > 1:
            parent_start, parent_end = parents[level - 1]
            assert parent_start <= start <= end <= parent_end
        parents[level] = (start, end)


def test_levels_per_gap_agree_with_the_rows(oracles):
    times = _read_events(oracles, "small")
    states = burst_levels(times)
    rows = kleinberg_bursts(times)
    assert states.shape == (times.size - 1,)
    for level, start, end in rows.itertuples(index=False):
        first, last = np.searchsorted(times, [start, end])
        assert (states[first:last] >= level - 1).all()
    assert states.max() == rows["level"].max() - 1


def test_unsorted_times_give_the_rows_of_sorted_times(oracles):
    times = _read_events(oracles, "small")
    shuffled = np.random.default_rng(3).permutation(times)
    pd.testing.assert_frame_equal(kleinberg_bursts(shuffled), kleinberg_bursts(times))
    np.testing.assert_array_equal(burst_levels(shuffled), burst_levels(times))


def test_edge_cases_follow_r():
    assert kleinberg_bursts([]).empty  # R stops here; no events, no rows
    one = kleinberg_bursts([5.0])
    assert one.values.tolist() == [[0, 5.0, 5.0]]  # R's data.frame(level=0, start=x, end=x)
    two = kleinberg_bursts([9.0, 5.0])
    assert two.values.tolist() == [[1, 5.0, 9.0]]
    assert burst_levels([5.0]).size == 0 and burst_levels([5.0, 9.0]).tolist() == [0]


@pytest.mark.parametrize(("s", "gamma", "message"), [(1.0, 1.0, "s must be greater than 1"),
                                                     (2.0, 0.0, "gamma must be positive")])
def test_bad_parameters_are_refused_with_r_messages(s, gamma, message):
    with pytest.raises(ValueError, match=message):
        kleinberg_bursts([0.0, 1.0, 3.0], s=s, gamma=gamma)


def test_steady_poisson_stream_has_no_burst():
    hours = _poisson(np.random.default_rng(20240301), 1.0, 2000.0)
    assert burst_intervals(_utc(hours)).empty
    assert len(kleinberg_bursts(hours)) == 1


def test_injected_burst_is_found_where_it_was_injected():
    rng = np.random.default_rng(11)
    background = _poisson(rng, 0.5, 1000.0)
    injected = 400.0 + rng.uniform(0, 2.0, 30)
    found = burst_intervals(_utc(np.concatenate([background, injected])))
    assert (found["level"] == 2).sum() == 1  # one burst, the levels above nested in it
    outer, deepest = found.iloc[0], found.iloc[-1]
    assert _utc([380.0])[0] <= outer["start"] and outer["end"] <= _utc([420.0])[0]
    assert outer["events"] >= 30
    assert _utc([399.5])[0] <= deepest["start"] and deepest["end"] <= _utc([402.5])[0]
    assert ((found["start"] <= _utc([401.0])[0]) & (found["end"] >= _utc([401.0])[0])).all()


def test_notices_sharing_one_second_form_a_burst():
    rng = np.random.default_rng(5)
    background = np.floor(_poisson(rng, 1.0, 500.0) * 3600) / 3600  # whole seconds, like e-mail dates
    same_second = np.full(25, np.floor(250.5 * 3600) / 3600)
    found = burst_intervals(_utc(np.concatenate([background, same_second])))
    that_second = _utc(same_second[:1])[0]
    assert (found["level"] == 2).sum() == 1
    assert ((found["start"] <= that_second) & (found["end"] >= that_second)).all()
    deepest = found.iloc[-1]
    assert deepest["start"] == deepest["end"] == that_second
    assert deepest["events"] == 25 + int((background == same_second[0]).sum())


def test_equal_times_spread_within_their_clock_tick():
    minutes = np.array([0, 0, 0, 60, 120, 120], dtype=np.int64) * 60_000_000 + 1_700_000_040_000_000
    spread = kleinberg._spread_ties(minutes)
    assert (np.diff(spread) > 0).all()
    assert np.allclose(spread, [0, 20e6, 40e6, 3600e6, 7200e6, 7230e6])
    seconds = minutes + np.array([0, 0, 0, 1, 0, 0]) * 1_000_000
    assert np.allclose(kleinberg._spread_ties(seconds)[:3], [0, 1e6 / 3, 2e6 / 3])


def test_burst_intervals_needs_two_distinct_times():
    for hours in ([], [3.0], [3.0, 3.0, 3.0, 3.0]):
        found = burst_intervals(_utc(np.array(hours, dtype=float)))
        assert found.empty
        assert list(found.columns) == ["level", "start", "end", "events"]
        assert str(found["start"].dtype) == "datetime64[us, UTC]"


def test_burst_intervals_reads_other_zones_as_utc_and_refuses_naive_times():
    rng = np.random.default_rng(11)
    hours = np.concatenate([_poisson(rng, 0.5, 1000.0), 400.0 + rng.uniform(0, 2.0, 30)])
    in_utc = burst_intervals(_utc(hours))
    in_almaty = burst_intervals(_utc(hours).dt.tz_convert("Asia/Almaty"))
    pd.testing.assert_frame_equal(in_almaty, in_utc)
    with pytest.raises(ValueError, match="time zone-aware"):
        burst_intervals(_utc(hours).dt.tz_localize(None))


def test_docstring_example_holds():
    result = doctest.testmod(kleinberg, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


def _quadratic_viterbi(emission: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The O(n·k²) recursion as R writes it: first minimum over all predecessors, every step."""
    current = np.full(tau.shape[0], np.inf)
    current[0] = 0.0
    back = np.empty(emission.shape, dtype=np.int64)
    rows = np.arange(tau.shape[0])
    for t in range(emission.shape[0]):
        cost = tau + current[None, :]
        back[t] = cost.argmin(axis=1)
        current = cost[rows, back[t]] + emission[t]
    return back, current


@pytest.mark.parametrize("stable", [False, True])
def test_linear_predecessor_search_equals_the_quadratic_recursion_bit_for_bit(stable):
    # Integer gaps make exact ties between predecessors; a long silence makes R's densities
    # underflow to +inf costs; gamma and s vary the spacing of the transition costs.
    rng = np.random.default_rng(7)
    streams = [np.cumsum(rng.integers(1, 4, 800)).astype(float),
               np.cumsum(np.r_[rng.exponential(1.0, 300), [5e3], rng.exponential(0.01, 300)]),
               np.unique(np.r_[rng.uniform(0, 2000, 2000), rng.uniform(50, 51, 300)])]
    for times, s, gamma in itertools.product(streams, (1.5, 2.0, 3.0), (0.1, 1.0, 2.0)):
        gaps = np.diff(times)
        n, total = gaps.size, math.fsum(gaps)
        k = kleinberg._state_count(total, float(gaps.min()), s)
        alpha = np.power(s, np.arange(k, dtype=np.float64)) / (total / n)
        step_up = np.arange(k)[:, None] - np.arange(k)[None, :]
        step = gamma * math.log(n)
        tau = np.where(step_up > 0, step_up * step, 0.0)
        emission = kleinberg._emission_costs(gaps, alpha, stable)
        start = np.r_[0.0, np.full(k - 1, np.inf)]
        back = np.empty((n, k), dtype=np.int64)
        costs = kleinberg._viterbi_steps(emission, tau, step, start, back, kleinberg._TIE_MARGIN)
        expected_back, expected_costs = _quadratic_viterbi(emission, tau)
        np.testing.assert_array_equal(back, expected_back)
        np.testing.assert_array_equal(costs.view(np.int64), expected_costs.view(np.int64))


def test_predecessors_within_rounding_of_each_other_are_settled_by_the_exact_costs():
    # Costs C[l] = c0 + l·step plus a few ulps: every route into a higher state costs the same up
    # to rounding, so only the exact expression tau[j, l] + C[l] can say which comes first.
    rng = np.random.default_rng(11)
    k, step = 24, 0.1 * math.log(1000)
    step_up = np.arange(k)[:, None] - np.arange(k)[None, :]
    tau = np.where(step_up > 0, step_up * step, 0.0)
    for _ in range(300):
        start = 50.0 + np.arange(k) * step
        start = start + rng.integers(-4, 5, k) * np.spacing(start)
        emission = rng.uniform(0, 1, (3, k))
        back = np.empty((3, k), dtype=np.int64)
        costs = kleinberg._viterbi_steps(emission, tau, step, start, back, kleinberg._TIE_MARGIN)
        current = start.copy()
        for t in range(3):
            cost = tau + current[None, :]
            np.testing.assert_array_equal(back[t], cost.argmin(axis=1))
            current = cost[np.arange(k), back[t]] + emission[t]
        np.testing.assert_array_equal(costs.view(np.int64), current.view(np.int64))
