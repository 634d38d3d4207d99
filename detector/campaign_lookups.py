"""Lookups every campaign of one analysis reads, built once: notices by target and by subject.

A case with many candidate calls has thousands of campaigns, most of them a few calls on a few
targets. Each used to filter the whole notices table several times (its named targets, its
subjects, the other subjects, the reinstatements and suspensions after its calls, every
reporter); here each of those is an index or a small prefiltered table, made once, and a
campaign's pieces are read from it in the same row order as the filters gave them, so the
campaigns' numbers and rows are the same.

``notices``: burst notices with ``subject_key`` (:func:`detector.campaign.build_campaigns`);
``all_notices``: the case's notices (reinstatements included); ``unmentioned``: the notices on
targets no post names (:func:`detector.campaign.unmentioned_notices`); ``chats``: the ids and
titles of the case's chats (:func:`detector.campaign.collected_chats`), what a forward's origin is
compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from detector.features.baseline import Cycle, hourly_bins, robust_cycle
from detector.features.bursts import Period, subject_of


def _positions(keys: pd.Series) -> dict:
    """Row positions (in row order) per distinct non-null key."""
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {uniques[i]: order[bounds[i]:bounds[i + 1]] for i in range(len(uniques))}


def _ns(times: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds (every comparison below is exact on them)."""
    return pd.to_datetime(times, utc=True).astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view(
        np.int64)


@dataclass
class SubjectPool:
    """The unmentioned notices of a set of subjects: the campaign controls' pool before its own targets
    are taken out, with its times sorted for counting."""

    frame: pd.DataFrame
    targets: set
    sorted_ns: np.ndarray
    n_targets: int


@dataclass
class CampaignLookups:
    """Indexes and prefiltered tables shared by the campaigns of one analysis (see the module doc)."""

    notices: pd.DataFrame
    all_notices: pd.DataFrame
    unmentioned: pd.DataFrame
    period: Period
    pairs: pd.DataFrame | None = None     # near-duplicate pairs of calls (post_a, post_b, …)
    chats: frozenset | None = None        # the case's chat ids and titles (None: not known here)
    by_target: dict = field(init=False)
    by_subject: dict = field(init=False)
    bins: pd.DatetimeIndex = field(init=False)
    ids_unique: bool = field(init=False)
    reinstated: pd.DataFrame = field(init=False)
    suspended: pd.DataFrame = field(init=False)
    suspended_subject: pd.Series = field(init=False)
    reporters: set = field(init=False)
    _subject_frames: dict = field(init=False, default_factory=dict)
    _cycles: dict = field(init=False, default_factory=dict)
    _policies: dict = field(init=False, default_factory=dict)
    _pools: dict = field(init=False, default_factory=dict)
    _networked: tuple | None = field(init=False, default=None)
    _pairs_by_a: dict = field(init=False, default_factory=dict)
    _subject_times: dict = field(init=False)

    def __post_init__(self) -> None:
        notices = self.notices
        self.by_target = _positions(notices["target"])
        self.by_subject = _positions(notices["subject_key"])
        self.bins = hourly_bins(self.period.start, self.period.end)
        self.ids_unique = bool(notices["notice_id"].is_unique)
        actions = self.all_notices["action"]
        self.reinstated = self.all_notices[actions == "reinstated"]
        self.suspended = self.all_notices[actions == "suspended"]
        self.suspended_subject = subject_of(self.suspended)
        self.reporters = set(self.all_notices["reporter_id"].dropna().astype(str))
        if self.pairs is not None and len(self.pairs):
            self._pairs_by_a = _positions(self.pairs["post_a"])
        times = _ns(notices["received_at"])
        # Per subject: its notices' times sorted, and their row positions in that order.
        self._subject_times = {}
        for subject, pos in self.by_subject.items():
            order = np.argsort(times[pos], kind="stable")
            self._subject_times[subject] = (times[pos][order], pos[order])

    # -- rows of the notices table ---------------------------------------------------------------
    def rows(self, index: dict, keys) -> pd.DataFrame:
        """The notices whose key (in ``index``) is one of ``keys``, in row order (as ``isin`` gives them)."""
        parts = [index[k] for k in keys if k in index]
        pos = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        return self.notices.iloc[pos]

    def named(self, targets) -> pd.DataFrame:
        """``notices[notices["target"].isin(targets)]``."""
        return self.rows(self.by_target, targets)

    def subject_notices(self, subjects) -> pd.DataFrame:
        """``notices[notices["subject_key"].isin(subjects)]``."""
        key = tuple(subjects)
        if key not in self._subject_frames:
            self._subject_frames[key] = self.rows(self.by_subject, key)
        return self._subject_frames[key]

    def cycle(self, subjects) -> Cycle:
        """The subjects' robust cycle (:func:`~detector.features.baseline.robust_cycle`)."""
        key = tuple(subjects)
        if key not in self._cycles:
            self._cycles[key] = robust_cycle(self.subject_notices(key)["received_at"], self.period.start,
                                             self.period.end)
        return self._cycles[key]

    def baseline_policy(self, subjects, within: pd.DataFrame, policy) -> tuple[int, int] | None:
        """(notices citing ``policy``, notices) among the subjects' notices other than ``within``'s, or
        None when notice ids repeat (then only the filter itself is exact)."""
        if not self.ids_unique:
            return None
        key = tuple(subjects)
        if key not in self._policies:
            self._policies[key] = self.subject_notices(key)["policy"].value_counts().to_dict()
        # ``within`` holds notices of these subjects (its targets' subjects are the subjects).
        base = self._policies[key].get(policy, 0) - int((within["policy"] == policy).sum())
        return int(base), len(self.subject_notices(key)) - len(within)

    # -- the findings' other tables --------------------------------------------------------------
    def pool(self, subjects) -> SubjectPool:
        """The unmentioned notices of ``subjects``, for the controls."""
        key = tuple(subjects)
        if key not in self._pools:
            frame = self.unmentioned[self.unmentioned["subject_key"].isin(key)]
            self._pools[key] = SubjectPool(frame, set(frame["target"].dropna()), np.sort(_ns(frame["received_at"])),
                                           int(frame["target"].nunique()))
        return self._pools[key]

    def pairs_within(self, posts: set) -> pd.DataFrame:
        """``pairs[pairs["post_a"].isin(posts) & pairs["post_b"].isin(posts)]``."""
        parts = [self._pairs_by_a[p] for p in posts if p in self._pairs_by_a]
        rows = self.pairs.iloc[np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)]
        return rows[rows["post_b"].isin(posts)]

    def networked(self, edges: pd.DataFrame) -> set:
        """The case's reporters that are in the co-reporting network ``edges``."""
        if self._networked is None or self._networked[0] is not edges:
            self._networked = (edges, (set(edges["reporter_a"]) | set(edges["reporter_b"])) & self.reporters)
        return self._networked[1]

    def other_subjects(self, subjects, start: pd.Timestamp, end: pd.Timestamp):
        """Per subject not in ``subjects`` (sorted): (subject, its notices, positions of those in ``[start,
        end]`` in row order)."""
        skip = set(subjects)
        lo, hi = pd.Timestamp(start).as_unit("ns").value, pd.Timestamp(end).as_unit("ns").value
        for subject in sorted(self._subject_times):
            if subject in skip:
                continue
            times, pos = self._subject_times[subject]
            a, b = np.searchsorted(times, lo, side="left"), np.searchsorted(times, hi, side="right")
            yield subject, len(times), np.sort(pos[a:b])
