"""The campaign step's shortcuts give what the full computations give, and workers change nothing.

The campaign step reads per-analysis lookups instead of filtering every notice per campaign,
tests all the sweep's windows from one conversion, settles a scan with nothing above expectation
without its Monte Carlo, and builds campaigns in several processes. Each is compared here with
the computation it replaces; ``test_stats_identical`` compares whole campaign tables with the
ones recorded before.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import detector.campaign as campaign
from detector.campaign import CampaignInputs, build_campaigns, unmentioned_notices
from detector.campaign_lookups import CampaignLookups
from detector.features.bursts import Period
from detector.features.linkage import link_test, link_tests, policy_match, policy_match_counts
from detector.features.scan import scan

START = pd.Timestamp("2025-03-01", tz="UTC")
END = pd.Timestamp("2025-09-01", tz="UTC")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stats"
WINDOWS = (6, 12, 24, 48, 72, 168)


def _link_case(seed: int):
    """Calls at odd minutes and notices on whole hours of a few targets: many shifts tie on the count."""
    rng = np.random.default_rng(seed)
    targets = [f"t{i}" for i in range(int(rng.integers(1, 5)))]
    n = int(rng.integers(0, 300))
    notices = pd.DataFrame({"target": rng.choice([*targets, "unnamed"], n),
                            "received_at": START + pd.to_timedelta(rng.integers(-5, 190, n) * 24
                                                                   + rng.integers(0, 24, n) * 1.0, unit="h")})
    m = int(rng.integers(1, 8))
    calls = pd.DataFrame({"target": rng.choice(targets, m),
                          "posted_at": START + pd.to_timedelta(rng.integers(0, 180, m) * 24 + rng.integers(0, 24, m)
                                                               + rng.random(m), unit="h")})
    published = (pd.Series({t: START + pd.Timedelta(days=int(rng.integers(0, 60))) for t in targets})
                 if seed % 2 else None)
    return calls, notices, published


@pytest.mark.parametrize("seed", range(16))
def test_link_tests_at_every_window_equal_one_link_test_per_window(seed):
    calls, notices, published = _link_case(seed)
    together = link_tests(calls, notices, START, END, WINDOWS, published=published)
    for w in WINDOWS:
        alone, ours = link_test(calls, notices, START, END, window_h=w, published=published), together[w]
        for name in ("window_h", "calls", "notices_total", "notices_within", "expected_within", "p_value",
                     "p_floor", "shifts"):
            a, b = getattr(alone, name), getattr(ours, name)
            assert a == b or (a is None and b is None) or (np.isnan(a) and np.isnan(b)), (w, name, a, b)
        assert np.array_equal(alone.lags_h, ours.lags_h)
        assert np.array_equal(alone.within_mask, ours.within_mask)


def test_ties_on_the_count_are_broken_by_closeness_as_in_the_single_test():
    """A target notified every day at 10:00, a call at 09:30: every shift catches one notice, at the same lag."""
    days = pd.date_range(START, END - pd.Timedelta(days=1), freq="D")
    notices = pd.DataFrame({"target": "t", "received_at": days + pd.Timedelta(hours=10)})
    calls = pd.DataFrame({"target": ["t"], "posted_at": [START + pd.Timedelta(days=90, hours=9, minutes=30)]})
    alone = link_test(calls, notices, START, END, window_h=48)
    ours = link_tests(calls, notices, START, END, (48,))[48]
    assert ours.notices_within == 2 and ours.p_value == alone.p_value and ours.expected_within == alone.expected_within


def _shape(length: int) -> np.ndarray:
    hours = np.arange(length) % 24
    shape = 1.0 + 0.8 * np.sin(hours / 24 * 2 * np.pi)
    return shape / shape.sum()


@pytest.mark.parametrize("events", [[10, 11, 12], [3000, 3001, 3002, 3003], [50, 2990]])
def test_a_scan_settled_at_zero_gives_the_full_scans_result(events):
    """Scanning only windows after bin 2000: nothing there (stat 0) gives p = 1 with or without the
    Monte Carlo; something there runs it either way, with the same draws."""
    length = 24 * 180
    counts = np.bincount(np.array(events), minlength=length)
    full = scan(counts, _shape(length), replicates=199, seed=7, start_range=(2000, 2100))
    settled = scan(counts, _shape(length), replicates=199, seed=7, start_range=(2000, 2100), settle_zero=True)
    for name in ("statistic", "start_bin", "width", "observed", "expected", "total", "p_value", "p_floor", "windows"):
        assert getattr(full, name) == getattr(settled, name)
    if full.statistic > 0:
        assert np.array_equal(full.null_max, settled.null_max)
    else:
        assert full.p_value == 1.0 and len(settled.null_max) == 0


def _notices(rng, n: int) -> pd.DataFrame:
    subjects = np.array(["youtube:channel:A", "youtube:channel:B", None], dtype=object)[rng.integers(0, 3, n)]
    return pd.DataFrame({"notice_id": [f"n{i}" for i in range(n)],
                         "target": rng.choice([f"youtube:video:v{i}" for i in range(30)], n),
                         "subject": subjects, "subject_key": pd.Series(subjects).fillna("(all)").astype(str),
                         "received_at": START + pd.to_timedelta(rng.integers(0, 180 * 24 * 60, n), unit="min"),
                         "policy": rng.choice(["harassment", "spam", None], n),
                         "action": rng.choice(["complaint", "removed", "suspended", "reinstated"], n),
                         "reporter_id": rng.choice(["r1", "r2", "r3", None], n)})


def _reference_controls(unmentioned, subjects, named, start, end, period):
    """The controls as computed before the lookups: a filter of the pool per campaign."""
    pool = unmentioned[unmentioned["subject_key"].isin(subjects) & ~unmentioned["target"].isin(set(named))]
    if pool.empty:
        return None
    days_total = (period.end - period.start) / pd.Timedelta(days=1)
    span = max((end - start) / pd.Timedelta(days=1), 1 / 24)
    inside = pool[(pool["received_at"] >= start) & (pool["received_at"] <= end)]
    expected = len(pool) * span / days_total
    ratio = len(inside) / expected if expected > 0 else float("nan")
    return {"days": span, "targets": pool["target"].nunique(), "notices": len(inside), "expected": expected,
            "ratio": ratio}


@pytest.mark.parametrize("seed", range(5))
def test_lookups_give_what_filtering_every_notice_gives(seed):
    rng = np.random.default_rng(seed)
    notices = _notices(rng, 400)
    period = Period(START, END)
    posts = pd.DataFrame({"targets": [[f"youtube:video:v{i}" for i in range(12)]]})
    unmentioned = unmentioned_notices(notices, posts)
    lookups = CampaignLookups(notices, notices, unmentioned, period)
    for subjects in (["youtube:channel:A"], ["(all)", "youtube:channel:B"], ["nobody"]):
        # Named targets inside the unmentioned pool (v20) and outside it (v3).
        for named in (["youtube:video:v3"], ["youtube:video:v3", "youtube:video:v20"]):
            start = START + pd.Timedelta(days=int(rng.integers(0, 150)), minutes=int(rng.integers(0, 1440)))
            end = start + pd.Timedelta(hours=int(rng.integers(1, 400)))
            assert campaign._controls(lookups, subjects, named, start, end, period) == \
                _reference_controls(unmentioned, subjects, named, start, end, period)
            pd.testing.assert_frame_equal(lookups.named(named), notices[notices["target"].isin(named)])
            subject_notices = notices[notices["subject_key"].isin(subjects)]
            pd.testing.assert_frame_equal(lookups.subject_notices(subjects), subject_notices)
            within = subject_notices.iloc[::3]
            others = subject_notices[~subject_notices["notice_id"].isin(set(within["notice_id"]))]
            if len(within):
                assert policy_match_counts("spam", within["policy"], *lookups.baseline_policy(subjects, within, "spam")) \
                    == policy_match("spam", within["policy"], others["policy"])
            expected = [(s, len(g), list(g[(g["received_at"] >= start) & (g["received_at"] <= end)]["notice_id"]))
                        for s, g in notices[~notices["subject_key"].isin(subjects)].groupby("subject_key")]
            ours = [(s, n, list(notices["notice_id"].iloc[pos])) for s, n, pos in
                    lookups.other_subjects(subjects, start, end)]
            assert ours == expected


def _recorded(name: str) -> dict:
    with gzip.open(FIXTURES / f"{name}.pkl.gz", "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - the project's own fixture files


@pytest.mark.parametrize("name", ["mixed-1", "demo"])
def test_campaigns_are_the_same_in_one_process_and_in_two(name, monkeypatch):
    monkeypatch.setattr(campaign, "PARALLEL_MIN_CAMPAIGNS", 2)
    args = _recorded(name)["campaigns_in"]
    serial = build_campaigns(CampaignInputs(**{**args, "params": args["params"].replace(workers=1)}))
    parallel = build_campaigns(CampaignInputs(**{**args, "params": args["params"].replace(workers=2)}))
    assert len(serial[0]) >= 2
    for ours, expected in zip(parallel, serial, strict=True):
        pd.testing.assert_frame_equal(ours, expected, check_exact=True)
