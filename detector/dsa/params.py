"""Parameters of the platform-data analysis (``detector dsa analyze`` and ``context``), declared once.

They follow :mod:`detector.params`: defaults with units and meaning, validated when made, and
recorded with every result (the analysis output and the case's platform-context table).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from detector.errors import DetectorError
from detector.params import _param


@dataclass(frozen=True)
class DsaParameters:
    """The parameters of one platform-data analysis."""

    seed: int = _param(0, "seeds the scan statistic's Monte Carlo draws (per stream, from the seed and the "
                          "stream's key, so engines and orderings give the same draws)", lo=0)
    replicates: int = _param(999, "Monte Carlo replicates of the scan statistic per stream", "", 99, 99_999)
    widths_days: tuple[int, ...] = _param((1, 2, 3, 5, 7), "burst widths scanned", "days")
    min_decisions: int = _param(20, "a stream is scanned only when it has at least this many decisions in the "
                                    "period", "decisions", 1, 10**9)
    alpha: float = _param(0.05, "a burst is reported when its Benjamini-Hochberg q-value across the scanned "
                                "streams is at or below this", "", 0.001, 0.2)
    trend_min_days: int = _param(14, "the baseline fits a trend (Theil-Sen slope of log counts) only when the "
                                     "period has at least this many days; shorter periods use the weekday cycle "
                                     "alone", "days", 7, 10_000)
    old_content_days: int = _param(30, "content older than this when the decision applied counts as old (waves "
                                       "that remove old content are a known signature of reporting campaigns)",
                                   "days", 1, 3650)
    baseline_days: int = _param(28, "context compares a burst's days with this many days before them (the usual "
                                    "rates)", "days", 7, 365)
    rise_ratio: float = _param(2.0, "context calls notice-driven (or own-initiative) decisions raised when their "
                                    "daily rate is at least this multiple of the usual rate (and, for notices, "
                                    "their share rose with p <= alpha)", "×", 1.0, 100.0)
    candidates: int = _param(50, "context lists at most this many candidate statements per burst", "", 0, 10_000)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            lo, hi, value = f.metadata.get("lo"), f.metadata.get("hi"), getattr(self, f.name)
            if lo is not None and value < lo or hi is not None and value > hi:
                raise DetectorError(f"parameter {f.name}={value} is outside [{lo}, {hi}]")
        if not self.widths_days or min(self.widths_days) < 1:
            raise DetectorError("widths_days must be positive day counts")

    def as_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}


DSA_DEFAULTS = DsaParameters()
