"""A notice stream's own baseline: its hour-of-day and day-of-week cycle, and its exposure.

The baseline is the *shape* of the expected intensity over hourly bins, not its level: the
scan statistic conditions on the number of notices, so only where in time they are expected
matters. Earlier bursts must not teach the baseline that bursts are normal, so days far above
the typical day are left out when the cycle is estimated.

Model (separable, multiplicative)::

    lambda(t) ∝ hour_profile[hour(t)] * dow_profile[weekday(t)] * exposure(day(t))

where ``exposure`` is ``0.5 + 0.5 * views(day) / mean views`` (1 when no views are known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)
EXPOSURE_SHARE = 0.5


@dataclass(frozen=True)
class Cycle:
    """Relative intensity by hour of day (24, UTC) and weekday (7, Monday = 0); each has mean 1."""

    hour: np.ndarray
    dow: np.ndarray
    days_used: int
    days_dropped: int

    @classmethod
    def flat(cls) -> Cycle:
        return cls(np.ones(24), np.ones(7), 0, 0)


def robust_cycle(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp, prior_weight: float = 20.0,
                 burst_mad: float = 5.0) -> Cycle:
    """Estimate the hour-of-day and weekday cycle of ``times`` over ``[start, end)``.

    Days whose count exceeds ``median + burst_mad * MAD`` (at least median + 3) are left out,
    so that earlier bursts do not enter the baseline. Each profile is shrunk toward flat with
    ``prior_weight`` pseudo-events, so a sparse stream gets an almost flat cycle.

    Parameters
    ----------
    times : UTC datetimes of the events.
    start, end : the observation period (UTC, hour-aligned).
    """
    times = pd.to_datetime(times, utc=True)
    times = times[(times >= start) & (times < end)]
    if times.empty:
        return Cycle.flat()
    days = pd.date_range(start.floor("D"), end.ceil("D"), freq="D", inclusive="left")
    per_day = times.dt.floor("D").value_counts().reindex(days, fill_value=0)
    med = float(np.median(per_day.to_numpy()))
    mad = float(np.median(np.abs(per_day.to_numpy() - med)))
    limit = max(med + burst_mad * 1.4826 * mad, med + 3)
    keep_days = per_day.index[per_day.to_numpy() <= limit]
    kept = times[times.dt.floor("D").isin(keep_days)]
    hour = _shrunk_profile(kept.dt.hour.to_numpy(), 24, prior_weight)
    # Weekday counts are divided by how many of each weekday were observed.
    dow_counts = np.bincount(kept.dt.day_of_week.to_numpy(), minlength=7).astype(float)
    dow_days = np.bincount(pd.DatetimeIndex(keep_days).day_of_week, minlength=7).astype(float)
    rate = np.where(dow_days > 0, dow_counts / np.maximum(dow_days, 1), 0.0)
    mean_rate = rate[dow_days > 0].mean() if (dow_days > 0).any() else 0.0
    if mean_rate > 0:
        n_per = dow_counts.sum() / 7
        dow = (rate / mean_rate * n_per + prior_weight / 7) / (n_per + prior_weight / 7)
        dow = np.where(dow_days > 0, dow, 1.0)
        dow = dow / dow.mean()
    else:
        dow = np.ones(7)
    return Cycle(hour=hour, dow=dow, days_used=len(keep_days), days_dropped=len(days) - len(keep_days))


def _shrunk_profile(values: np.ndarray, size: int, prior_weight: float) -> np.ndarray:
    counts = np.bincount(values, minlength=size).astype(float)
    profile = (counts + prior_weight / size) / (counts.sum() + prior_weight) * size
    return profile / profile.mean()


def hourly_bins(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Left edges of the hourly bins covering ``[start, end)``."""
    return pd.date_range(start.floor("h"), end.ceil("h"), freq="h", inclusive="left", tz="UTC")


def exposure_factor(bins: pd.DatetimeIndex, views: pd.DataFrame | None) -> np.ndarray:
    """Views per day relative to the period's mean, per hourly bin; 1 where views are unknown.

    ``views`` has columns ``day`` (date) and ``views`` (summed over the series' targets).
    """
    if views is None or views.empty:
        return np.ones(len(bins))
    daily = views.groupby(pd.to_datetime(views["day"]).dt.tz_localize("UTC"))["views"].sum().astype(float)
    bin_days = bins.floor("D")
    per_bin = daily.reindex(bin_days).to_numpy()
    known = ~np.isnan(per_bin)
    if not known.any() or np.nanmean(per_bin) <= 0:
        return np.ones(len(bins))
    per_bin = np.where(known, per_bin, np.nanmean(per_bin))
    ratio = per_bin / per_bin.mean()
    # Half of the expected notices follow views, half do not: complaints grow with the audience,
    # but automated flags and old grudges do not stop on a quiet day, and a day with almost no
    # views must not make a single notice look impossible.
    blended = EXPOSURE_SHARE * ratio + (1 - EXPOSURE_SHARE)
    return blended / blended.mean()


def expected_shape(bins: pd.DatetimeIndex, cycle: Cycle, exposure: np.ndarray | None = None) -> np.ndarray:
    """Relative expected intensity per hourly bin (sums to 1)."""
    shape = cycle.hour[bins.hour] * cycle.dow[bins.day_of_week]
    if exposure is not None:
        shape = shape * exposure
    total = shape.sum()
    return shape / total if total > 0 else np.full(len(bins), 1.0 / max(len(bins), 1))


def bin_counts(times: pd.Series, bins: pd.DatetimeIndex) -> np.ndarray:
    """Number of ``times`` in each hourly bin (times outside the bins are ignored)."""
    if len(bins) == 0:
        return np.zeros(0, dtype=np.int64)
    t = pd.to_datetime(times, utc=True)
    idx = ((t - bins[0]) // HOUR).to_numpy()
    idx = idx[(idx >= 0) & (idx < len(bins))].astype(np.int64)
    return np.bincount(idx, minlength=len(bins)).astype(np.int64)
