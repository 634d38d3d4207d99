"""A step run in a forked child gives what it gives in the process; its failure reaches the parent."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from detector.analysis import analyze_frames
from detector.errors import DetectorError
from detector.forked import Forked


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"pid": [os.getpid()] * n, "x": range(n)})


def _fails(message: str):
    raise DetectorError(message)


def test_a_forked_step_returns_what_it_returns_in_the_process_and_runs_apart():
    forked = Forked(_frame, 5)
    inline = Forked(_frame, 5, fork=False)
    got, here = forked.result(), inline.result()
    pd.testing.assert_frame_equal(got.drop(columns="pid"), here.drop(columns="pid"))
    assert set(here["pid"]) == {os.getpid()}
    if "fork" in __import__("multiprocessing").get_all_start_methods():
        assert set(got["pid"]) != {os.getpid()}


@pytest.mark.parametrize("fork", [True, False])
def test_a_forked_steps_error_is_raised_in_the_parent(fork):
    step = Forked(_fails, "no notices in file x.csv, line 3", fork=fork)
    with pytest.raises(DetectorError, match="line 3"):
        step.result()


def test_a_cancelled_step_leaves_no_child_running():
    import time

    step = Forked(time.sleep, 30)
    step.cancel()
    assert step._process is None or not step._process.is_alive()


def test_the_analysis_with_its_bursts_forked_equals_the_analysis_in_one_process(mixed_case, monkeypatch):
    """With more than one worker the bursts run in a forked child beside the campaigns; every
    table is what one worker (no fork) gives, and the child did run apart."""
    import detector.analysis as analysis
    from detector.params import DEFAULTS
    from detector.store import Case

    with Case.open(mixed_case, read_only=True) as case:
        notices, posts, exposure = (case.table(n, arrow_text=True) for n in ("notices", "posts", "exposure"))
        aliases = case.aliases()
    forks = []
    real = analysis.Forked

    def counted(*args, fork=True, **kwargs):
        forks.append(fork)
        return real(*args, fork=fork, **kwargs)

    monkeypatch.setattr(analysis, "Forked", counted)
    one = analyze_frames(notices, posts, exposure, aliases=aliases, seed=1, params=DEFAULTS.replace(workers=1))
    two = analyze_frames(notices, posts, exposure, aliases=aliases, seed=1, params=DEFAULTS.replace(workers=2))
    assert forks == [False, True]
    assert one.tables.keys() == two.tables.keys()
    for name, frame in one.tables.items():
        pd.testing.assert_frame_equal(two.tables[name], frame, obj=name, check_exact=True)
    assert len(one.tables["bursts"]) > 0 and len(one.tables["campaigns"]) > 0
