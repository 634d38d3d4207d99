"""Bursts of notices against each stream's own baseline: Kleinberg intervals, scan p-values.

A *stream* is a set of notices analysed together: all notices on one subject (channel), the
subject's notices citing one policy, or the notices on one target. For each stream:

1. the baseline shape (hour-of-day and weekday cycle of the subject, robust to earlier bursts,
   times the views per day of the stream's targets when the user supplied them);
2. the scan statistic (:mod:`.scan`): the most unusual window and its Monte Carlo p-value,
   corrected for every window scanned — the stream's ``p_burst``;
3. Kleinberg's automaton (:mod:`.kleinberg`) for the burst intervals a reader sees, each scored
   against the same Monte Carlo maxima, so a Kleinberg interval on a steady stream (automated
   notices arriving all along) is not significant and is not reported as a burst.

When views are known, each window is also scored without them: a burst significant without
views but not with them is one that views explain (an organic, viral spike).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from detector.features.baseline import (
    Cycle,
    expected_shape,
    exposure_factor,
    hourly_bins,
    robust_cycle,
)
from detector.features.kleinberg import burst_interval_arrays
from detector.features.linkage import benjamini_hochberg
from detector.features.scan import interval_p, scan_events, scan_many
from detector.params import DEFAULTS, Parameters, worker_count

BURST_ACTIONS = ("complaint", "removed", "strike", "restricted", "suspended", "warning", "other")

SCAN_COLUMNS = ["stream", "scope", "subject", "key", "notices", "p_burst", "p_floor", "best_start", "best_end",
                "best_observed", "best_expected", "rate_ratio", "windows", "replicates", "exposure"]
# scans also carry q_burst: Benjamini–Hochberg over every stream scanned.
BURST_COLUMNS = ["burst_id", "stream", "scope", "subject", "key", "level", "start", "end", "notices",
                 "expected", "rate_ratio", "p_burst", "q_burst", "significant", "explained_by_views",
                 "p_without_views", "policy_top", "policy_top_share", "notice_ids"]


@dataclass(frozen=True)
class Period:
    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def of(cls, *series: pd.Series) -> Period:
        """Whole UTC days covering every time in ``series``."""
        values = pd.concat([pd.to_datetime(s, utc=True) for s in series if len(s)], ignore_index=True)
        if values.empty:
            now = pd.Timestamp.now(tz="UTC").floor("D")
            return cls(now, now + pd.Timedelta(days=1))
        return cls(values.min().floor("D"), values.max().floor("D") + pd.Timedelta(days=1))


def burst_notices(notices: pd.DataFrame) -> pd.DataFrame:
    """Notices that count toward bursts: enforcement and complaints, not reinstatements."""
    return notices[notices["action"].isin(BURST_ACTIONS)]


def subject_of(notices: pd.DataFrame) -> pd.Series:
    """The subject key of each notice: its ``subject`` or, when unknown, one shared key."""
    return notices["subject"].fillna("(all)").astype(str)


def stream_shape(bins: pd.DatetimeIndex, cycle: Cycle, exposure: pd.DataFrame | None, targets) -> np.ndarray:
    """Baseline shape for a stream over ``targets`` (views summed over them when known)."""
    views = None
    if exposure is not None and len(exposure) and targets is not None:
        views = exposure[exposure["target"].isin(set(targets))][["day", "views"]]
    return expected_shape(bins, cycle, exposure_factor(bins, views))


@dataclass
class Stream:
    """One stream of notices scanned together: a subject's, one of its policies', or one target's.

    ``shape`` is its baseline (probabilities per hourly bin); ``shared`` is the key of the group
    whose members share one Monte Carlo null (targets without views of one subject published in
    the same bin), or None for a stream scanned alone; ``result`` is filled by :func:`scan_streams`.
    """

    sid: str
    scope: str                  # subject, policy or target
    subject: str
    key: str
    frame: pd.DataFrame         # its subject's notices, with their hourly ``bin``
    positions: np.ndarray | None  # its rows in ``frame`` (None: all of them)
    events: np.ndarray          # the hourly bin of each notice, sorted
    shape: np.ndarray
    has_views: bool
    cycle: Cycle
    shared: tuple | None = None
    result: object = None       # detector.features.scan.ScanResult


@dataclass
class SubjectColumns:
    """A subject's notices as arrays, converted once and shared by its streams: UTC µs, hourly
    bin, policy codes (-1: none; ``policy_names`` gives the rest) and notice ids (Arrow strings)."""

    micros: np.ndarray
    bins: np.ndarray
    policy_codes: np.ndarray
    policy_names: np.ndarray
    notice_ids: pa.Array

    @classmethod
    def of(cls, frame: pd.DataFrame) -> SubjectColumns:
        codes, names = pd.factorize(frame["policy"].to_numpy(dtype=object, na_value=None), use_na_sentinel=True)
        return cls(frame["received_at"].dt.tz_convert("UTC").to_numpy(dtype="datetime64[us]").view(np.int64),
                   frame["bin"].to_numpy(dtype=np.int64), codes.astype(np.int64), np.asarray(names, dtype=object),
                   pa.array(frame["notice_id"].astype(str).to_numpy(dtype=object), pa.string()))


class StreamRows:
    """One stream's rows of its subject's columns, and its rows by hourly bin, so the rows of any
    run of bins are found by two searches (a burst's cost follows its notices, not its subject's)."""

    def __init__(self, st: Stream, cache: dict) -> None:
        cols = cache.get(id(st.frame))
        if cols is None:
            cols = cache[id(st.frame)] = SubjectColumns.of(st.frame)
        self.cols = cols
        self.positions = np.arange(len(cols.bins)) if st.positions is None else np.asarray(st.positions)
        bins = cols.bins[self.positions]
        self.by_bin = np.argsort(bins, kind="stable")
        self.sorted_bins = bins[self.by_bin]

    @property
    def micros(self) -> np.ndarray:
        return self.cols.micros[self.positions]

    def inside(self, lo: int, hi: int) -> np.ndarray:
        """Positions (in the subject's rows, in row order) of the stream's notices in bins [lo, hi)."""
        a, b = np.searchsorted(self.sorted_bins, (lo, hi), side="left")
        return self.positions[np.sort(self.by_bin[a:b])]

    def policy_top(self, rows: np.ndarray) -> tuple[object, float | None]:
        """The most cited policy of ``rows`` and its share of the rows citing one, as
        ``value_counts`` ranks them (most first; a tie goes to the one met first in row order)."""
        codes = self.cols.policy_codes[rows]
        codes = codes[codes >= 0]
        if not len(codes):
            return None, None
        counts = np.bincount(codes)
        first_seen = np.full(len(counts), len(codes))
        np.minimum.at(first_seen, codes, np.arange(len(codes)))
        best = np.flatnonzero(counts == counts.max())
        top = best[np.argmin(first_seen[best])]
        return self.cols.policy_names[top], float(counts[top] / len(codes))

    def notice_ids(self, rows: np.ndarray) -> list[str]:
        """The rows' notice ids, sorted (UTF-8 byte order is code point order, as ``sorted`` compares)."""
        ids = self.cols.notice_ids.take(pa.array(rows, pa.int64()))
        return ids.take(pc.sort_indices(ids)).to_pylist()


def notice_streams(notices: pd.DataFrame, exposure: pd.DataFrame | None, period: Period, bins: pd.DatetimeIndex,
                   published: pd.Series, P: Parameters) -> list[Stream]:
    """Every stream to scan, in a fixed order: per subject, its own stream, its policies', the
    targets with views, then the targets without views grouped by publication bin.

    ``notices``: burst notices with ``subject_key`` and ``bin`` (see :func:`detect_bursts`).
    """
    views_targets = set(exposure["target"]) if exposure is not None and len(exposure) else set()
    streams: list[Stream] = []
    for subject, sub in notices.groupby("subject_key", sort=True):
        cycle = robust_cycle(sub["received_at"], period.start, period.end)
        flat_shape = expected_shape(bins, cycle)
        sub_bins = sub["bin"].to_numpy(dtype=np.int64)
        singles = [("subject", subject, None, None)]
        singles += [("policy", str(policy), pos, None) for policy, pos in _groups(sub["policy"])
                    if len(pos) >= P.min_policy_notices]
        shared: dict[int, list[tuple[str, np.ndarray, np.ndarray]]] = {}
        targets, order, bounds = _group_index(sub["target"])
        # Each target's bins sorted, all at once: rows by (target, bin), sliced per target.
        codes = np.empty(len(sub_bins), dtype=np.int64)
        codes[order] = np.repeat(np.arange(len(targets)), np.diff(bounds))
        sorted_bins = sub_bins[order[np.lexsort((sub_bins[order], codes[order]))]]
        first_bins = _first_bins(published, targets)
        for i in np.flatnonzero(np.diff(bounds) >= P.min_target_notices):
            target, pos = targets[i], order[bounds[i]:bounds[i + 1]]
            if target in views_targets:
                singles.append(("target", str(target), pos, [target]))
            else:
                shared.setdefault(int(first_bins[i]), []).append((str(target), pos,
                                                                   sorted_bins[bounds[i]:bounds[i + 1]]))
        for scope, key, pos, targets in singles:
            rows_target = sub["target"] if pos is None else sub["target"].iloc[pos]
            shape_targets = targets if targets is not None else sorted(rows_target.dropna().unique().tolist())
            has_views = bool(views_targets & set(shape_targets))
            shape = stream_shape(bins, cycle, exposure if has_views else None, shape_targets)
            if scope == "target":
                shape = _from_bin(shape, int(published.get(key, 0)))
            events = np.sort(sub_bins if pos is None else sub_bins[pos])
            streams.append(Stream(_stream_id(scope, subject, key), scope, subject, key, sub, pos, events, shape,
                                  has_views, cycle))
        # Targets without views share the subject's shape: one Monte Carlo null per notice count.
        for first_bin, members in sorted(shared.items()):
            shape = _from_bin(flat_shape, first_bin)
            for key, pos, events in members:
                streams.append(Stream(_stream_id("target", subject, key), "target", subject, key, sub, pos,
                                      events, shape, False, cycle, shared=(subject, first_bin)))
    return streams


def _group_index(keys: pd.Series) -> tuple[list, np.ndarray, np.ndarray]:
    """Distinct non-null keys (sorted, as Python objects), the rows in key order (row order within
    a key; rows with no key left out) and each key's bounds in it: key ``i``'s rows are
    ``order[bounds[i]:bounds[i + 1]]``."""
    codes, uniques = pd.factorize(keys, sort=True, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return list(uniques.tolist()), order[bounds[0]:], bounds - bounds[0]


def _groups(keys: pd.Series) -> list[tuple[object, np.ndarray]]:
    """(key, positions) per distinct non-null key, keys sorted, positions in row order: what
    ``groupby(sort=True)`` iterates, without building a frame per group."""
    uniques, order, bounds = _group_index(keys)
    return [(uniques[i], order[bounds[i]:bounds[i + 1]]) for i in range(len(uniques))]


def _first_bins(published: pd.Series, targets: list) -> np.ndarray:
    """``published.get(target, 0)`` of each target, in one lookup."""
    if not len(targets):
        return np.zeros(0, dtype=np.int64)
    if not len(published):
        return np.zeros(len(targets), dtype=np.int64)
    return published.reindex(pd.Index(targets, dtype=published.index.dtype)).fillna(0).to_numpy(dtype=np.int64)


def scan_streams(streams: list[Stream], P: Parameters) -> None:
    """Scan every stream (filling ``result``), each from its own random stream of draws.

    Streams scanned alone get ``stream_replicates`` (targets: ``target_replicates``); a shared
    group is scanned at once against one null (:func:`~detector.features.scan.scan_many`).
    With ``P.workers`` other than 1, streams run side by side in threads and the compiled scoring
    of their Monte Carlo chunks in a second set of threads (it releases the GIL); every stream
    still takes its own draws in its own order, so the results do not depend on the workers.
    """
    groups: dict[tuple, list[Stream]] = {}
    units: list[list[Stream]] = []
    for st in streams:
        if st.shared is not None:
            groups.setdefault(st.shared, []).append(st)
        else:
            units.append([st])
    units += list(groups.values())
    workers = worker_count(P.workers)
    if workers <= 1 or len(streams) < 2:
        for unit in units:
            _scan_unit(unit, P, None)
        return
    with ThreadPoolExecutor(workers) as scoring, ThreadPoolExecutor(workers) as pool:
        # The largest units first, so that no long one starts last.
        order = sorted(units, key=lambda u: -sum(len(m.events) for m in u))
        list(pool.map(lambda unit: _scan_unit(unit, P, scoring), order))


def _scan_unit(unit: list[Stream], P: Parameters, scoring) -> None:
    """One stream scanned alone, or one shared group against its one null."""
    st = unit[0]
    if st.shared is None:
        st.result = scan_events(st.events, st.shape, seed=P.rng_seed(f"stream {st.sid}"), widths=P.scan_widths_h,
                                replicates=P.stream_replicates if st.scope != "target" else P.target_replicates,
                                pool=scoring)
        return
    subject, first_bin = st.shared
    many = scan_many([m.events for m in unit], st.shape, replicates=P.target_replicates, widths=P.scan_widths_h,
                     seed=P.rng_seed(f"targets {subject} from bin {first_bin}"), pool=scoring)
    for m, res in zip(unit, many, strict=True):
        m.result = res


def detect_bursts(notices: pd.DataFrame, exposure: pd.DataFrame | None = None, period: Period | None = None,
                  params: Parameters | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scan every stream and return (scans, bursts).

    Parameters
    ----------
    notices : DataFrame[notice_id, received_at, action, policy, target, subject]
    exposure : DataFrame[target, day, views] or None
    period : observation period; default: whole days around the notices.
    params : the analysis parameters (default :data:`detector.params.DEFAULTS`): ``alpha``,
        ``stream_replicates`` and ``target_replicates`` (Monte Carlo replicates for subject and
        policy streams, and for target streams: with ``R + 1 = 200`` the share of null p-values
        below 0.05 is 9/200 = 0.045, since p moves on a grid of 1/(R+1)), ``scan_widths_h``,
        ``min_target_notices``, ``min_policy_notices``; each stream draws from its own seed
        (:meth:`~detector.params.Parameters.rng_seed`).

    Returns
    -------
    scans : one row per stream (columns ``SCAN_COLUMNS``): the stream's p_burst.
    bursts : one row per Kleinberg interval or best scan window (``BURST_COLUMNS``), with its
        corrected p-value, BH q-value across streams, and whether views explain it.
    """
    P = params or DEFAULTS
    alpha = P.alpha
    notices = burst_notices(notices).copy()
    period = period or Period.of(notices["received_at"])
    bins = hourly_bins(period.start, period.end)
    notices["subject_key"] = subject_of(notices)
    notices["bin"] = ((notices["received_at"] - bins[0]) // pd.Timedelta(hours=1)).astype("int64")
    notices = notices[(notices["bin"] >= 0) & (notices["bin"] < len(bins))]
    published = first_possible_bin(notices, bins)
    streams = notice_streams(notices, exposure, period, bins, published, P)
    scan_streams(streams, P)
    # One row per stream id (a target under two subjects keeps its first place and last scan).
    results = {st.sid: st for st in streams}
    scan_rows: list[dict] = []
    for sid, st in results.items():
        scope, subject, key, res, has_views = st.scope, st.subject, st.key, st.result, st.has_views
        scan_rows.append({
            "stream": sid, "scope": scope, "subject": subject, "key": key, "notices": res.total,
            "p_burst": res.p_value, "p_floor": res.p_floor,
            "best_start": res.start_bin, "best_end": min(res.start_bin + res.width, len(bins)),
            "best_observed": res.observed, "best_expected": res.expected, "rate_ratio": res.rate_ratio,
            "windows": res.windows, "replicates": res.replicates, "exposure": bool(has_views)})
    scans = pd.DataFrame(scan_rows, columns=SCAN_COLUMNS)
    if len(scans):
        # Bins to times in one step for every stream (best_end: the end of the window's last hour).
        scans["best_start"] = bins[scans["best_start"].to_numpy(dtype=np.int64)] if len(bins) else pd.NaT
        scans["best_end"] = (bins[scans["best_end"].to_numpy(dtype=np.int64) - 1] + pd.Timedelta(hours=1)
                             if len(bins) else pd.NaT)
    if len(scans):
        scans["q_burst"] = benjamini_hochberg(scans["p_burst"]).to_numpy()
    q_by_stream = dict(zip(scans["stream"], scans.get("q_burst", []), strict=False))
    burst_rows = []
    subject_columns: dict = {}
    # Intervals a reader sees, only for streams whose scan is unusual (Kleinberg alone flags about
    # one steady stream in ten, see detector.features.kleinberg).
    unusual = [st for st in results.values() if st.result.p_value <= alpha]
    rows_of = [StreamRows(st, subject_columns) for st in unusual]
    for st, rows, intervals in zip(unusual, rows_of, _intervals_of(unusual, rows_of, bins, P), strict=True):
        sid, res = st.sid, st.result
        scope, subject, key, events, shape, has_views, cycle = (st.scope, st.subject, st.key, st.events, st.shape,
                                                                st.has_views, st.cycle)
        if has_views:
            flat = _from_bin(expected_shape(bins, cycle), int(published.get(key, 0))) if scope == "target" \
                else expected_shape(bins, cycle)
            flat_null = scan_events(events, flat, replicates=res.replicates, widths=P.scan_widths_h,
                             seed=P.rng_seed(f"without views {sid}")).null_max
        for interval in intervals:
            lo, hi = interval["lo"], interval["hi"]
            p, n, e = interval_p(events, shape, lo, hi, res.null_max)
            p_plain = interval_p(events, flat, lo, hi, flat_null)[0] if has_views else None
            inside = rows.inside(lo, hi)
            policy_top, policy_share = rows.policy_top(inside)
            burst_rows.append({
                "stream": sid, "scope": scope, "subject": subject, "key": key, "level": interval["level"],
                "start": bins[lo], "end": _bin_end(bins, hi), "notices": n, "expected": e,
                "rate_ratio": n / e if e > 0 else float("inf"), "p_burst": p, "q_burst": q_by_stream.get(sid),
                "explained_by_views": bool(has_views and p > alpha and p_plain is not None and p_plain <= alpha),
                "p_without_views": p_plain, "policy_top": policy_top, "policy_top_share": policy_share,
                "notice_ids": rows.notice_ids(inside)})
    bursts = pd.DataFrame(burst_rows, columns=[c for c in BURST_COLUMNS if c not in ("burst_id", "significant")])
    if len(bursts):
        # An interval is significant when its own corrected p and its stream's BH q-value both are
        # (q_burst stays the stream's Benjamini–Hochberg q-value).
        bursts["significant"] = (bursts["q_burst"].astype(float) <= alpha) & (bursts["p_burst"].astype(float) <= alpha)
        bursts = bursts.sort_values(["p_burst", "start"], kind="stable").reset_index(drop=True)
        bursts["burst_id"] = [f"B{i + 1:04d}" for i in range(len(bursts))]
    else:
        bursts = pd.DataFrame(columns=BURST_COLUMNS)
    return scans, bursts[BURST_COLUMNS]


def _stream_id(scope: str, subject: str, key: str) -> str:
    return f"policy:{subject}:{key}" if scope == "policy" else f"{scope}:{key}"


def first_possible_bin(notices: pd.DataFrame, bins: pd.DatetimeIndex) -> pd.Series:
    """Per target, the first hourly bin it could receive notices in: its publication, if known.

    A video published mid-period cannot be reported before it existed; scanning it against the
    whole period would make its first weeks look like a burst. Never later than its first notice.
    """
    if not len(notices):
        return pd.Series(dtype="int64")
    first_notice = notices.groupby("target")["bin"].min()
    if "published_at" not in notices:
        return first_notice * 0
    pub = notices.dropna(subset=["published_at"]).groupby("target")["published_at"].min()
    pub_bin = ((pub - bins[0]) // pd.Timedelta(hours=1)).clip(lower=0).astype("int64")
    out = pub_bin.reindex(first_notice.index).fillna(0).astype("int64")
    return np.minimum(out, first_notice)


def _from_bin(shape: np.ndarray, first_bin: int) -> np.ndarray:
    """``shape`` with no probability before ``first_bin``, renormalised."""
    if first_bin <= 0:
        return shape
    out = shape.copy()
    out[:first_bin] = 0.0
    total = out.sum()
    return out / total if total > 0 else shape


def _bin_end(bins: pd.DatetimeIndex, hi: int) -> pd.Timestamp:
    return bins[hi - 1] + pd.Timedelta(hours=1)


def _intervals_of(streams: list[Stream], rows_of: list[StreamRows], bins: pd.DatetimeIndex, P: Parameters
                  ) -> list[list[dict]]:
    """:func:`_candidate_intervals` of each stream, in threads when ``P.workers`` allows (the
    Kleinberg automaton is compiled and releases the GIL; each stream's intervals are its own)."""
    def one(i: int) -> list[dict]:
        return _candidate_intervals(rows_of[i].micros, streams[i].result, bins)

    workers = worker_count(P.workers)
    if workers <= 1 or len(streams) < 2:
        return [one(i) for i in range(len(streams))]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(len(streams))))


def _candidate_intervals(micros: np.ndarray, res, bins: pd.DatetimeIndex) -> list[dict]:
    """Kleinberg intervals (outermost level-2 bursts) and the scan's best window, as bin ranges.

    ``micros``: the stream's notice times, UTC microseconds."""
    out = []
    if len(micros) >= 2:
        level, start, end, _events = burst_interval_arrays(micros, s=2.0, gamma=1.0, min_level=2)
        origin, hour = bins[0].value // 1000, 3_600_000_000   # µs (Timestamp.value is in ns)
        for i in np.flatnonzero(level == 2):
            # Whole hours from the first bin to the hour of the burst's first and last notice.
            lo = int((start[i] - origin) // hour)
            hi = int((end[i] - origin) // hour) + 1
            inner = level[(start >= start[i]) & (end <= end[i])]
            out.append({"lo": max(lo, 0), "hi": min(hi, len(bins)), "level": int(inner.max())})
    if res.total and res.statistic > 0:
        lo, hi = res.start_bin, res.start_bin + res.width
        if not any(o["lo"] <= lo and hi <= o["hi"] for o in out):
            out.append({"lo": lo, "hi": hi, "level": 0})
    return out
