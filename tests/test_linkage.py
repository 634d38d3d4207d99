import numpy as np
import pandas as pd
import pytest

from detector.features.linkage import benjamini_hochberg, link_test, per_target_links, window_sweep

START = pd.Timestamp("2025-03-01", tz="UTC")
END = pd.Timestamp("2025-06-01", tz="UTC")


def _daily_notices(rng, n, targets, hours=(9, 10)):
    """Notices that only ever arrive between 09:00 and 11:00 UTC (a strong daily cycle)."""
    days = rng.integers(0, (END - START).days, size=n)
    offs = rng.uniform(hours[0], hours[1] + 1, size=n)
    return pd.DataFrame({"target": rng.choice(targets, size=n),
                         "received_at": START + pd.to_timedelta(days * 24 + offs, unit="h")})


def _calls_at(rng, targets, hour=7.5):
    day = int(rng.integers(10, 80))
    return pd.DataFrame({"target": targets, "posted_at": [START + pd.Timedelta(days=day, hours=hour)] * len(targets)})


def test_notices_that_follow_calls_are_linked_at_the_floor():
    rng = np.random.default_rng(0)
    targets = ["t1", "t2", "t3"]
    background = _daily_notices(rng, 60, targets)
    calls = _calls_at(rng, targets)
    burst = pd.DataFrame({"target": rng.choice(targets, 12),
                          "received_at": calls["posted_at"].iloc[0] + pd.to_timedelta(rng.uniform(1, 20, 12), unit="h")})
    result = link_test(calls, pd.concat([background, burst]), START, END, window_h=48)
    assert result.notices_within >= 12
    assert result.p_value == pytest.approx(result.p_floor)
    assert result.rate_ratio > 5
    lo, hi = result.rate_ratio_interval()
    assert lo < result.rate_ratio < hi


def test_circular_shift_would_fail_where_day_permutation_holds():
    """Calls at 07:30 and notices only at 09-11: any 6 h window after a call catches notices of
    that morning. Moving calls to other hours (circular shift) makes the true hours look special;
    moving them to other days keeps the hour and stays calibrated."""
    rng = np.random.default_rng(1)
    day_p, circ_p = [], []
    for _ in range(120):
        targets = [f"t{i}" for i in range(3)]
        notices = _daily_notices(rng, 150, targets)
        calls = _calls_at(rng, targets)
        day_p.append(link_test(calls, notices, START, END, window_h=6).p_value)
        circ_p.append(link_test(calls, notices, START, END, window_h=6, null="circular").p_value)
    day_p, circ_p = np.array(day_p), np.array(circ_p)
    assert (day_p < 0.05).mean() <= 0.10
    assert (circ_p < 0.05).mean() >= 0.15          # three times the nominal rate, or worse
    assert (circ_p < 0.05).mean() >= 2 * (day_p < 0.05).mean()


def test_day_permutation_is_calibrated_without_a_link():
    rng = np.random.default_rng(2)
    hours = pd.date_range(START, END, freq="h", inclusive="left")
    weight = (1 + 0.9 * np.sin(np.arange(24) / 24 * 2 * np.pi))[hours.hour]
    weight /= weight.sum()
    ps = []
    for _ in range(300):
        targets = [f"t{i}" for i in range(int(rng.integers(1, 5)))]
        idx = rng.choice(len(hours), size=40, p=weight)
        notices = pd.DataFrame({"target": rng.choice(targets, 40),
                                "received_at": hours[idx] + pd.to_timedelta(rng.uniform(0, 3600, 40), unit="s")})
        c = hours[rng.choice(len(hours), p=weight)]
        calls = pd.DataFrame({"target": targets, "posted_at": [c] * len(targets)})
        ps.append(link_test(calls, notices, START, END, window_h=48).p_value)
    ps = np.array([p for p in ps if p is not None])
    assert 0.02 <= (ps < 0.05).mean() <= 0.08


def test_insufficient_data_when_too_few_days_can_be_compared():
    calls = pd.DataFrame({"target": ["t"], "posted_at": [START + pd.Timedelta(days=1)]})
    notices = pd.DataFrame({"target": ["t"], "received_at": [START + pd.Timedelta(days=1, hours=2)]})
    result = link_test(calls, notices, START, START + pd.Timedelta(days=10), window_h=48)
    assert result.insufficient and result.p_value is None
    assert result.p_floor > 0.05


def test_per_target_links_agree_with_the_single_target_test():
    rng = np.random.default_rng(3)
    targets = [f"t{i}" for i in range(20)]
    notices = _daily_notices(rng, 400, targets)
    calls = pd.DataFrame({"target": rng.choice(targets, 40),
                          "posted_at": START + pd.to_timedelta(rng.uniform(5 * 24, 80 * 24, 40), unit="h")})
    table = per_target_links(calls, notices, START, END, window_h=48).set_index("target")
    for t in targets[:6]:
        if t not in table.index:
            continue
        single = link_test(calls[calls["target"] == t], notices[notices["target"] == t], START, END, window_h=48)
        assert table.loc[t, "notices_within"] == single.notices_within
        assert table.loc[t, "shifts"] == single.shifts
        if single.p_value is not None:
            assert table.loc[t, "p_value"] == pytest.approx(single.p_value)


def test_window_sweep_reports_every_window():
    rng = np.random.default_rng(4)
    notices = _daily_notices(rng, 50, ["a"])
    calls = _calls_at(rng, ["a"])
    sweep = window_sweep(calls, notices, START, END)
    assert list(sweep["window_h"]) == [6, 12, 24, 48, 72, 168]
    assert (sweep["shifts"] > 0).all()


def test_benjamini_hochberg_matches_the_textbook_example():
    p = pd.Series([0.01, 0.04, 0.03, 0.005, np.nan])
    q = benjamini_hochberg(p)
    assert q.iloc[3] == pytest.approx(0.02)
    assert q.iloc[0] == pytest.approx(0.02)
    assert q.iloc[2] == pytest.approx(0.04)
    assert q.iloc[1] == pytest.approx(0.04)
    assert np.isnan(q.iloc[4])


@pytest.mark.parametrize("arrow", [False, True])
def test_notice_keys_made_once_give_the_same_per_target_links_as_looking_up_every_notice(arrow):
    """Notice codes and hours made once (``NoticeKeys``) for many tests: each test's rows are
    those of looking up every notice's target again, with notices without a target, on targets
    no call names, and calls naming targets with no notice."""
    from detector.features.linkage import NoticeKeys

    rng = np.random.default_rng(8)
    targets = [f"t{i}" for i in range(30)]
    notices = _daily_notices(rng, 900, targets)
    notices.loc[notices.sample(40, random_state=1).index, "target"] = None
    if arrow:
        notices["target"] = notices["target"].astype("string[pyarrow]")
    keys = NoticeKeys.of(notices)
    for named in (targets[:5], targets[3:17] + ["never-reported"], targets):
        calls = pd.DataFrame({"target": rng.choice(named, 25),
                              "posted_at": START + pd.to_timedelta(rng.uniform(5 * 24, 80 * 24, 25), unit="h")})
        index = pd.Index(sorted(set(calls["target"])))
        np.testing.assert_array_equal(keys.codes_in(index), index.get_indexer(notices["target"]))
        pd.testing.assert_frame_equal(per_target_links(calls, notices, START, END, notice_keys=keys),
                                      per_target_links(calls, notices, START, END), check_exact=True)
    empty = notices.iloc[:0]
    pd.testing.assert_frame_equal(per_target_links(calls, empty, START, END, notice_keys=NoticeKeys.of(empty)),
                                  per_target_links(calls, empty, START, END), check_exact=True)
