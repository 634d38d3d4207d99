"""Reaction or cause: was a call posted before enforcement on its targets began, or after?

Real incidents are full of posts that name a video *because* it was just removed: the owner's
supporters ("another one removed after reports, appeal filed: <link>"), news, and hostile
channels gloating. Posted after a removal wave, such a post is followed by the rest of the
wave, so a test that only asks "did notices follow the post?" finds a strong link where the
post caused nothing. The rule here: a call posted after enforcement on its target had begun is
a **reaction** until shown otherwise, and reactions are left out of the link and burst tests.

For every (call, target) pair:

- ``pre_notices``: the target's notices in the ``window_h`` hours before the call;
- ``expected_pre``: what the target's own average rate over the observation period gives for
  that many hours;
- ``enforced_before``: the target was removed, struck, restricted or suspended in the
  ``enforced_lookback_h`` hours before the call;
- ``reaction``: ``enforced_before``, or ``pre_notices >= min_notices`` and
  ``pre_notices >= ratio * expected_pre`` (the target was already in a burst).

:func:`event_study` compares, around each target's first call, the notices in the window
before with those after it, and the window before that (the pre-trend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.features.linkage import to_hours
from detector.vocab import ENFORCEMENT

ENFORCEMENT_ACTIONS = ENFORCEMENT
REACTION_COLUMNS = ["post_id", "target", "posted_at", "pre_notices", "expected_pre", "enforced_before",
                    "first_enforcement_before", "reaction"]


def _per_target_hours(notices: pd.DataFrame) -> dict[str, np.ndarray]:
    if notices.empty:
        return {}
    hours = to_hours(notices["received_at"])
    # One sort by (target, hour) and views into it, rather than a frame per target.
    # Factorised as stored (an Arrow-backed column is encoded in Arrow, not as 10^6 Python strings).
    codes, targets = pd.factorize(notices["target"], sort=False)
    hours, codes = hours[codes >= 0], codes[codes >= 0]
    order = np.lexsort((hours, codes))
    hours, codes = hours[order], codes[order]
    bounds = np.searchsorted(codes, np.arange(len(targets) + 1))
    return {t: hours[bounds[i]:bounds[i + 1]] for i, t in enumerate(targets)}


def date_by_originals(calls: pd.DataFrame, earliest: pd.Timestamp) -> pd.DataFrame:
    """Calls dated by when they were first posted.

    A forward collected live carries its original's date (``forwarded_at``, Telethon's
    ``fwd_from.date``; Desktop exports do not give it). When that is earlier than the copy, the
    call existed from then on, in its origin chat, so the reaction rule and the tests date it
    there: a late copy of an early call is not a reaction, and what followed the original is what
    the call may have caused. ``posted_at`` becomes that date, not before ``earliest`` (the
    observation period's start, where the tests' hours begin); ``copied_at`` keeps the copy's own
    time where the date moved (NaT elsewhere).

    calls : DataFrame[posted_at, forwarded_at (optional), …]; returns a copy with ``copied_at``.
    """
    posted = pd.to_datetime(calls["posted_at"], utc=True)
    original = (pd.to_datetime(calls["forwarded_at"], utc=True) if "forwarded_at" in calls
                else pd.Series(pd.NaT, index=calls.index, dtype=posted.dtype))
    original = original.astype(posted.dtype).clip(lower=pd.Timestamp(earliest))
    moved = original.notna() & (original < posted)
    return calls.assign(posted_at=posted.where(~moved, original),
                        copied_at=posted.where(moved, pd.NaT).astype(posted.dtype))


def reaction_flags(pairs: pd.DataFrame, notices: pd.DataFrame, period_hours: float, window_h: float,
                   enforced_lookback_h: float, min_notices: int, ratio: float) -> pd.DataFrame:
    """Flag each (call, target) pair posted after enforcement on the target had begun.

    Parameters
    ----------
    pairs : DataFrame[post_id, target, posted_at] — one row per call and target it names.
    notices : DataFrame[target, received_at, action] — complaints and enforcement (no
        reinstatements).
    period_hours : length of the observation period, for the target's own average rate.
    window_h, enforced_lookback_h, min_notices, ratio : the rule in the module docstring.

    Returns
    -------
    DataFrame with ``REACTION_COLUMNS``, one row per input pair, in input order.
    """
    out = pairs[["post_id", "target", "posted_at"]].reset_index(drop=True).copy()
    if out.empty:
        return pd.DataFrame(columns=REACTION_COLUMNS)
    all_hours = _per_target_hours(notices)
    enforcement = notices[notices["action"].isin(ENFORCEMENT_ACTIONS)]
    enf_hours = _per_target_hours(enforcement)
    call_h = to_hours(out["posted_at"])
    pre = np.zeros(len(out), dtype=int)
    expected = np.zeros(len(out))
    enforced = np.zeros(len(out), dtype=bool)
    first_enf = np.full(len(out), np.nan)
    for i, (target, t) in enumerate(zip(out["target"], call_h, strict=True)):
        h = all_hours.get(target)
        if h is not None:
            pre[i] = np.searchsorted(h, t, side="left") - np.searchsorted(h, t - window_h, side="left")
            expected[i] = len(h) * window_h / max(period_hours, window_h)
        e = enf_hours.get(target)
        if e is not None:
            lo, hi = np.searchsorted(e, t - enforced_lookback_h, side="left"), np.searchsorted(e, t, side="left")
            if hi > lo:
                enforced[i] = True
                first_enf[i] = e[lo]
    out["pre_notices"] = pre
    out["expected_pre"] = expected
    out["enforced_before"] = enforced
    out["first_enforcement_before"] = pd.to_datetime(first_enf * 3600, unit="s", utc=True)
    out["reaction"] = enforced | ((pre >= min_notices) & (pre >= ratio * expected))
    return out[REACTION_COLUMNS]


def event_study(first_calls: pd.Series, notices: pd.DataFrame, window_h: float) -> dict:
    """Notices around each target's first call: two windows before it and one after.

    ``first_calls``: Series target -> time of the first call naming it; ``notices``:
    DataFrame[target, received_at]. Returns counts summed over the targets:
    ``before_2`` (from -2W to -W), ``before`` (-W to 0), ``after`` (0 to W], and
    ``pre_trend`` (True when notices were already rising before the calls: ``before`` at least
    3 and above ``before_2``).
    """
    counts = {"before_2": 0, "before": 0, "after": 0}
    hours = _per_target_hours(notices)
    for target, t in first_calls.items():
        h = hours.get(target)
        if h is None:
            continue
        t = float(to_hours(pd.DatetimeIndex([t]))[0])
        counts["before_2"] += int(np.sum((h >= t - 2 * window_h) & (h < t - window_h)))
        counts["before"] += int(np.sum((h >= t - window_h) & (h < t)))
        counts["after"] += int(np.sum((h > t) & (h <= t + window_h)))
    counts["pre_trend"] = counts["before"] >= 3 and counts["before"] > counts["before_2"]
    return counts
