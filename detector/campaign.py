"""Join calls, targets, bursts and chats into ranked campaigns with findings that cite rows.

A *campaign* is a connected group of calls to report: calls are joined when they name a
common target within ``group_gap_days`` of each other, or are near-duplicate copies of each
other. For each campaign (parameter names from :class:`detector.params.Parameters`):

- ``p_link``: day-shift permutation test (:mod:`.features.linkage`) of whether the notices on
  the named targets arrive within ``window_h`` after the calls more often than when the same
  calls are moved to other days (time of day kept); the sweep is in the findings. Calls posted
  after enforcement on their target began are reactions (:mod:`.features.reaction`) and are
  left out.
- ``p_burst``: scan statistic (:mod:`.features.scan`) over the named targets' notices, against
  the subject's own cycle (and views, when known), scanning windows that start between the
  first call and ``window_h`` after the last — a window fixed by the calls, not by the notices.
- tier: **strong** when ``p_link <= strong_link`` and ``p_burst <= strong_burst`` and at least
  two named targets (or a channel) were hit; **moderate** when both are ``<= moderate`` and the
  link rests on more than one call or more than one target hit (one post before one burst cannot
  be told from a post and a burst that share a cause); either needs at least
  ``min_alarm_notices`` notices after calls that were not reactions; otherwise **weak** (calls
  that changed nothing, or only reactions, are weak at most).

Bursts that no campaign explains are kept as *unexplained bursts*, never called campaigns.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from detector.campaign_lookups import CampaignLookups
from detector.features.baseline import Cycle, bin_counts, hourly_bins, robust_cycle
from detector.features.bursts import Period, burst_notices, stream_shape, subject_of
from detector.features.linkage import (
    NoticeKeys,
    benjamini_hochberg,
    link_tests,
    per_target_links,
    policy_match,
    policy_match_counts,
    sweep_rows,
)
from detector.features.reaction import date_by_originals, event_study, reaction_flags
from detector.features.scan import scan
from detector.findings import FINDING_COLUMNS, render
from detector.params import DEFAULTS, Parameters, worker_count
from detector.vocab import ENFORCEMENT

# Every threshold, window and count lives in detector.params.Parameters (one place, documented,
# stored with the results). Why the alarm floor (min_alarm_notices): one or two notices after a
# call happen by chance to some of the many calls that change nothing.

CAMPAIGN_COLUMNS = ["campaign_id", "rank", "tier", "score", "targets", "hit_targets", "start", "end",
                    "notices", "calls", "chats", "p_burst", "p_link", "p_link_floor", "link_shifts",
                    "rate_ratio", "excess", "requested_policy", "findings", "call_post_ids", "notice_ids",
                    "sweep"]


@dataclass
class CampaignInputs:
    """Everything a campaign is built from (all UTC; schemas as in :mod:`detector.schema`)."""

    posts: pd.DataFrame          # posts table
    calls: pd.DataFrame          # classify_calls output joined to posts (post_id, kind, targets, …)
    notices: pd.DataFrame        # notices table
    exposure: pd.DataFrame       # exposure table
    pairs: pd.DataFrame          # near-duplicate pairs (post_a, post_b, similarity, …)
    period: Period
    coreports: pd.DataFrame | None = None   # co-reporting edges (reporter_a, reporter_b, weight)
    previous: pd.DataFrame | None = None    # the earlier analysis's campaigns, for stable ids
    params: Parameters = DEFAULTS
    chats: frozenset | None = None          # the case's chat ids and titles (None: read from posts)


def group_calls(calls: pd.DataFrame, pairs: pd.DataFrame, gap: pd.Timedelta | None = None,
                copy_gap: pd.Timedelta | None = None) -> pd.Series:
    """Group id per call post: calls sharing a target within ``gap``, or copying each other
    within ``copy_gap``.

    ``calls``: DataFrame[post_id, posted_at, targets]. Returns a Series post_id -> group
    number (0, 1, … in order of each group's first call). ``gap`` defaults to ``group_gap_days``,
    ``copy_gap`` to ``copy_gap_days``.
    """
    gap = gap if gap is not None else pd.Timedelta(days=DEFAULTS.group_gap_days)
    copy_gap = copy_gap if copy_gap is not None else pd.Timedelta(days=DEFAULTS.copy_gap_days)
    ids = list(calls["post_id"])
    parent = {p: p for p in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    exploded = calls[["post_id", "posted_at", "targets"]].explode("targets").dropna(subset=["targets"])
    for _, grp in exploded.sort_values("posted_at").groupby("targets", sort=True):
        times = grp["posted_at"].to_numpy()
        posts = grp["post_id"].to_numpy()
        for i in range(1, len(grp)):
            if times[i] - times[i - 1] <= gap.to_timedelta64():
                union(posts[i - 1], posts[i])
    if len(pairs):
        posted = dict(zip(ids, calls["posted_at"], strict=True))
        for a, b in zip(pairs["post_a"], pairs["post_b"], strict=True):
            if a in posted and b in posted and abs(posted[a] - posted[b]) <= copy_gap:
                union(a, b)
    roots = pd.Series({p: find(p) for p in ids})
    first = calls.set_index("post_id")["posted_at"].groupby(roots).min().sort_values(kind="stable")
    number = {root: i for i, root in enumerate(first.index)}
    return roots.map(number)


def _jsonable(value):
    """A finding's data as JSON holds it: times as ISO 8601 UTC, numpy numbers as Python numbers, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else (float(value) if np.isfinite(value) else str(value))
    if value is None or isinstance(value, int | str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def campaign_burst_p(named_notices: pd.DataFrame, subject_notices: pd.DataFrame, exposure: pd.DataFrame,
                     targets: list[str], first_call: pd.Timestamp, last_call: pd.Timestamp, period: Period,
                     seed: int, replicates: int = DEFAULTS.campaign_replicates,
                     window_h: int = DEFAULTS.window_h, widths=DEFAULTS.scan_widths_h,
                     cycle: Cycle | None = None) -> tuple[float, int, float, pd.Timestamp | None]:
    """Scan p-value of the named targets' notices in windows starting after the calls.

    ``cycle``: the subjects' robust cycle, when already known (it is the same for every campaign
    on the same subjects). With no window above expectation the p-value is 1 and the Monte Carlo
    is skipped (``settle_zero`` of :func:`~detector.features.scan.scan`): the campaign's seed is
    its own, so no other campaign's draws move.

    Returns (p_burst, observed, expected, best window start).
    """
    bins = hourly_bins(period.start, period.end)
    if named_notices.empty or len(bins) == 0:
        return 1.0, 0, 0.0, None
    if cycle is None:
        cycle = robust_cycle(subject_notices["received_at"], period.start, period.end)
    shape = stream_shape(bins, cycle, exposure, targets)
    counts = bin_counts(named_notices["received_at"], bins)
    lo = int((first_call.floor("h") - bins[0]) / pd.Timedelta(hours=1))
    hi = int((last_call.floor("h") - bins[0]) / pd.Timedelta(hours=1)) + window_h + 1
    res = scan(counts, shape, widths=widths, replicates=replicates, seed=seed, start_range=(max(lo, 0), max(hi, 1)),
               settle_zero=True)
    best = bins[res.start_bin] if res.total else None
    return res.p_value, res.observed, res.expected, best


def call_reactions(calls: pd.DataFrame, notices: pd.DataFrame, period: Period,
                   params: Parameters = DEFAULTS) -> pd.DataFrame:
    """Reaction flags (:func:`detector.features.reaction.reaction_flags`) of every (call, target) pair."""
    pairs = calls[["post_id", "posted_at", "targets"]].explode("targets").dropna(subset=["targets"])
    pairs = pairs.rename(columns={"targets": "target"})
    return reaction_flags(pairs, notices, (period.end - period.start) / pd.Timedelta(hours=1),
                          window_h=params.window_h, enforced_lookback_h=params.reaction_lookback_h,
                          min_notices=params.min_alarm_notices, ratio=params.reaction_ratio)


def build_campaigns(inputs: CampaignInputs
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Campaigns, their findings, per-target link tests and the calls' reaction flags.

    Returns
    -------
    campaigns : ``CAMPAIGN_COLUMNS``, best first (``rank`` 1 = best).
    findings : ``FINDING_COLUMNS``, one row per sentence, citing row ids in ``rows`` (JSON list).
    links : per-target link tests for every target named by a call (``basis`` = "call"; calls
        that were reactions left out) and, as the calibration controls, every target named by any
        other post (``basis`` = "mention").
    reactions : one row per (call, target) pair, ``detector.features.reaction.REACTION_COLUMNS``.
    """
    notices = burst_notices(inputs.notices).copy()
    notices["subject_key"] = subject_of(notices)
    published = inputs.notices.dropna(subset=["published_at"]).groupby("target")["published_at"].min()
    calls = inputs.calls[inputs.calls["kind"] == "call"].copy()
    calls = date_by_originals(calls[calls["targets"].map(len) > 0], inputs.period.start)
    P = inputs.params
    reactions = call_reactions(calls, notices, inputs.period, P)
    links = _target_links(inputs, calls, notices, published, reactions)
    if calls.empty:
        return (pd.DataFrame(columns=CAMPAIGN_COLUMNS), pd.DataFrame(columns=FINDING_COLUMNS), links, reactions)
    calls["group"] = group_calls(calls, inputs.pairs, pd.Timedelta(days=P.group_gap_days),
                                 pd.Timedelta(days=P.copy_gap_days)).reindex(calls["post_id"]).to_numpy()
    boasts = inputs.calls[inputs.calls["kind"] == "boast"]
    campaigns, findings = [], []
    ids = campaign_ids(calls, inputs.previous)
    lookups = CampaignLookups(notices, inputs.notices, unmentioned_notices(notices, inputs.posts), inputs.period,
                              inputs.pairs,
                              inputs.chats if inputs.chats is not None else collected_chats(inputs.posts, calls))
    # Each campaign's reaction rows, in the reactions' order (what an isin per campaign selects).
    reaction_group = reactions["post_id"].map(dict(zip(calls["post_id"], calls["group"], strict=True)))
    reaction_rows = reactions.groupby(reaction_group, sort=False).indices
    jobs = [(ids[gid], grp, reactions.iloc[reaction_rows.get(gid, np.zeros(0, dtype=np.int64))])
            for gid, grp in calls.groupby("group", sort=True)]
    for row, rows in _campaigns_of(jobs, (inputs, notices, published, boasts, lookups), worker_count(P.workers)):
        campaigns.append(row)
        findings.extend(rows)
    out = pd.DataFrame(campaigns)
    tier_order = out["tier"].map({"strong": 0, "moderate": 1, "weak": 2})
    out = out.assign(_t=tier_order).sort_values(["_t", "score"], ascending=[True, False], kind="stable")
    out = out.drop(columns="_t").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    fdf = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    return out[CAMPAIGN_COLUMNS], fdf, links, reactions


#: Campaigns below which one process builds them all (starting workers would cost more than it saves).
PARALLEL_MIN_CAMPAIGNS = 8

# What forked workers read (set only while a pool runs, under the lock: the app may run two
# analyses in threads of one process): the campaigns' jobs and the shared tables.
_SHARED: tuple | None = None
_SHARED_LOCK = threading.Lock()


def _campaign_of(job: tuple, shared: tuple):
    cid, grp, reactions = job
    inputs, notices, published, boasts, lookups = shared
    return _campaign(cid, grp, inputs, notices, published, boasts, inputs.params.rng_seed(f"campaign {cid}"),
                     lookups, reactions)


def _campaign_job(i: int):
    jobs, shared = _SHARED
    return _campaign_of(jobs[i], shared)


def _campaigns_of(jobs: list, shared: tuple, workers: int) -> list:
    """(row, findings) of every campaign job (cid, calls, reaction rows), in the jobs' order.

    Campaigns are independent: each reads the shared tables and draws from its own seed, so
    running them in ``workers`` forked processes gives the same rows as one process.
    """
    import multiprocessing

    global _SHARED
    workers = min(workers, len(jobs))
    if workers <= 1 or len(jobs) < PARALLEL_MIN_CAMPAIGNS or "fork" not in multiprocessing.get_all_start_methods():
        return [_campaign_of(job, shared) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with _SHARED_LOCK:
        _SHARED = (jobs, shared)   # forked workers inherit it, nothing is sent but the job numbers
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(_campaign_job, range(len(jobs)), chunksize=max(1, len(jobs) // (8 * workers))))
        finally:
            _SHARED = None


def post_episodes(pairs: pd.DataFrame, gap: pd.Timedelta | None = None) -> pd.Series:
    """Episode number of each (post, target) row: a target's posts split where they pause > ``gap``.

    A video linked in March and again in June gives two episodes, each testable on its own
    (a single test over both could not shift the March posts without hitting June). ``gap``
    defaults to ``episode_gap_days``.
    """
    gap = gap if gap is not None else pd.Timedelta(days=DEFAULTS.episode_gap_days)
    ordered = pairs.sort_values(["target", "posted_at"], kind="stable")
    new_episode = ordered["target"].ne(ordered["target"].shift()) | (ordered["posted_at"].diff() > gap)
    episode = new_episode.astype(int).groupby(ordered["target"]).cumsum() - 1
    return episode.reindex(pairs.index)


def _episode_links(pairs: pd.DataFrame, notices: pd.DataFrame, period: Period, published: pd.Series,
                   params: Parameters = DEFAULTS, notice_keys: NoticeKeys | None = None) -> pd.DataFrame:
    """Per-target link tests, one per posting episode of each target."""
    if pairs.empty:
        return pd.DataFrame()
    pairs = pairs.reset_index(drop=True)
    pairs = pairs.assign(episode=post_episodes(pairs, pd.Timedelta(days=params.episode_gap_days)))
    frames = []
    for k, chunk in pairs.groupby("episode", sort=True):
        tested = per_target_links(chunk, notices, period.start, period.end, window_h=params.window_h,
                                  published=published, alpha=params.alpha, notice_keys=notice_keys)
        tested["episode"] = int(k)
        frames.append(tested)
    return pd.concat(frames, ignore_index=True)


def _target_links(inputs: CampaignInputs, calls: pd.DataFrame, notices: pd.DataFrame,
                  published: pd.Series, reactions: pd.DataFrame) -> pd.DataFrame:
    period = inputs.period
    frames = []
    keys = NoticeKeys.of(notices)     # every episode's test reads the same notices
    call_pairs = calls[["post_id", "posted_at", "targets"]].explode("targets").dropna(subset=["targets"])
    call_pairs = call_pairs.rename(columns={"targets": "target"})
    reacted = set(zip(reactions.loc[reactions["reaction"].astype(bool), "post_id"],
                      reactions.loc[reactions["reaction"].astype(bool), "target"], strict=True))
    causal = call_pairs[[(p, t) not in reacted for p, t in zip(call_pairs["post_id"], call_pairs["target"],
                                                                 strict=True)]]
    if len(causal):
        tested = _episode_links(causal, notices, period, published, inputs.params, keys)
        tested["basis"] = "call"
        frames.append(tested)
    call_ids = set(calls["post_id"])
    # The three columns first, then the rows (filtering the whole table first copied every post's text).
    mentions = inputs.posts[["post_id", "posted_at", "targets"]]
    mentions = mentions[~mentions["post_id"].isin(call_ids) & (mentions["targets"].map(len) > 0)]
    mentions = mentions.explode("targets").dropna(subset=["targets"]).rename(columns={"targets": "target"})
    mentions = mentions[~mentions["target"].isin(set(call_pairs["target"]))] if len(call_pairs) else mentions
    if len(mentions):
        tested = _episode_links(mentions, notices, period, published, inputs.params, keys)
        tested["basis"] = "mention"
        frames.append(tested)
    if not frames:
        return pd.DataFrame(columns=["basis", "target", "episode", "q_value"])
    links = pd.concat(frames, ignore_index=True)
    links["q_value"] = np.nan
    for basis in ("call", "mention"):
        mask = links["basis"] == basis
        links.loc[mask, "q_value"] = benjamini_hochberg(links.loc[mask, "p_value"]).to_numpy()
    return links


def campaign_ids(calls: pd.DataFrame, previous: pd.DataFrame | None) -> dict:
    """A stable id per call group: the id it had in the previous analysis, or one from its first call.

    ``calls``: DataFrame[post_id, posted_at, group]; ``previous``: the earlier analysis's
    campaigns (campaign_id, call_post_ids) or None. A group keeps the earlier id of the campaign
    it shares most calls with (so ingesting an older export, which adds calls or whole campaigns,
    renames nothing that existed); a new group gets ``C`` and six hex digits of the SHA-256 of its
    earliest call's post id, which no other group's order can change.
    """
    earlier: dict[str, str] = {}
    if previous is not None and len(previous) and "call_post_ids" in previous:
        for cid, posts in zip(previous["campaign_id"], previous["call_post_ids"], strict=True):
            for post in posts if isinstance(posts, list | tuple | np.ndarray) else []:
                earlier.setdefault(str(post), str(cid))
    out: dict = {}
    taken: set[str] = set()
    groups = sorted(calls.groupby("group", sort=True), key=lambda kv: kv[1]["posted_at"].min())
    for gid, grp in groups:
        votes = pd.Series([earlier[p] for p in grp["post_id"].astype(str) if p in earlier], dtype=object)
        reuse = next((c for c in votes.value_counts().index if c not in taken), None) if len(votes) else None
        if reuse is None:
            first = str(grp.sort_values(["posted_at", "post_id"]).iloc[0]["post_id"])
            digest = hashlib.sha256(first.encode("utf-8")).hexdigest().upper()
            n = 6
            while f"C{digest[:n]}" in taken:
                n += 1
            reuse = f"C{digest[:n]}"
        taken.add(reuse)
        out[gid] = reuse
    return out


@dataclass
class CampaignStats:
    """The statistics of one campaign: its tests, tier and the rows they rest on."""

    cid: str
    grp: pd.DataFrame            # its calls, by time
    pairs: pd.DataFrame          # (call, target) pairs
    targets: list[str]
    reacted: pd.DataFrame        # reaction flags of the pairs that were reactions
    causal: pd.DataFrame         # pairs that were not reactions (the ones tested)
    tested: pd.DataFrame         # causal, or every pair when all were reactions (for description)
    first_call: pd.Timestamp
    last_call: pd.Timestamp
    named: pd.DataFrame          # notices on the named targets
    link: object                 # detector.features.linkage.LinkResult
    sweep: pd.DataFrame
    within: pd.DataFrame         # notices within the window after a tested call
    hit_targets: list[str]
    subjects: list[str]
    subject_notices: pd.DataFrame
    p_burst: float
    burst: tuple                 # (observed, expected, window start)
    chats: list[str]
    p_link: float | None
    tier: str
    score: float
    requested: str | None
    end: pd.Timestamp
    uncorroborated: bool = False  # would be moderate, but rests on one call and one target hit


def campaign_statistics(cid: str, grp: pd.DataFrame, inputs: CampaignInputs, notices: pd.DataFrame,
                        published: pd.Series, seed: int, reactions: pd.DataFrame,
                        lookups: CampaignLookups | None = None) -> CampaignStats:
    """The link and burst tests of one group of calls, its tier and score (no sentences).

    ``lookups``: the analysis' :class:`~detector.campaign_lookups.CampaignLookups` (made here when
    not given)."""
    period, P = inputs.period, inputs.params
    if lookups is None:
        lookups = CampaignLookups(notices, inputs.notices, unmentioned_notices(notices, inputs.posts), period,
                                  inputs.pairs)
    W = P.window_h
    grp = grp.sort_values("posted_at", kind="stable")
    pairs = grp[["post_id", "posted_at", "targets"]].explode("targets").rename(columns={"targets": "target"})
    targets = sorted(set(pairs["target"]))
    # Reactions (calls posted after enforcement on their target began) are not tested as causes.
    reacted = reactions[reactions["reaction"].astype(bool)]
    reacted_keys = set(zip(reacted["post_id"], reacted["target"], strict=True))
    causal = pairs[[(p, t) not in reacted_keys for p, t in zip(pairs["post_id"], pairs["target"], strict=True)]]
    tested = causal if len(causal) else pairs
    first_call, last_call = tested["posted_at"].min(), tested["posted_at"].max()
    named = lookups.named(targets)
    # The test at the window and the sweep's windows, from one conversion of the calls and notices.
    tests = link_tests(tested, named, period.start, period.end, (W, *P.sweep_windows_h), published=published,
                       alpha=P.alpha)
    link = tests[W]
    sweep = sweep_rows([tests[w] for w in P.sweep_windows_h])
    within = named[link.within_mask]
    hit_targets = sorted(set(within["target"]))
    subjects = sorted(set(named["subject_key"])) or sorted(lookups.by_subject)
    subject_notices = lookups.subject_notices(subjects)
    p_burst, b_obs, b_exp, b_start = campaign_burst_p(named, subject_notices, inputs.exposure, targets,
                                                      first_call, last_call, period, seed,
                                                      replicates=P.campaign_replicates, window_h=W,
                                                      widths=P.scan_widths_h, cycle=lookups.cycle(subjects))
    chats = sorted(set(grp["chat"].astype(str)))
    channel_hit = any(t.startswith(("youtube:channel", "youtube:handle", "telegram:channel")) for t in hit_targets)
    p_link = link.p_value if len(causal) else None
    tier = "weak"
    enough = len(within) >= P.min_alarm_notices and len(causal) > 0
    # One call followed by notices on one target is one observation: the day-shift test cannot
    # tell it from a post and a burst that share a cause (a video drawing attention, a post about
    # it). An alarm needs a second: another target hit, a channel, or another call on the target.
    corroborated = (len(hit_targets) >= 2 or channel_hit
                    or causal.loc[causal["target"].isin(hit_targets), "post_id"].nunique() >= 2)
    significant = enough and p_link is not None and p_link <= P.moderate and p_burst <= P.moderate
    if significant and p_link <= P.strong_link and p_burst <= P.strong_burst and (len(hit_targets) >= 2 or channel_hit):
        tier = "strong"
    elif significant and hit_targets:
        tier = "moderate" if corroborated else "weak"
    score = _score(p_link, p_burst, len(hit_targets), len(chats), tier)
    policy = grp["requested_policy"].dropna()
    requested = policy.mode().iloc[0] if len(policy) else None
    end = max(last_call + pd.Timedelta(hours=W), within["received_at"].max() if len(within) else last_call)
    return CampaignStats(cid, grp, pairs, targets, reacted, causal, tested, first_call, last_call, named, link,
                         sweep, within, hit_targets, subjects, subject_notices, p_burst, (b_obs, b_exp, b_start),
                         chats, p_link, tier, score, requested, end,
                         uncorroborated=bool(significant and hit_targets and not corroborated))


def campaign_findings(st: CampaignStats, inputs: CampaignInputs, notices: pd.DataFrame,
                      boasts: pd.DataFrame, lookups: CampaignLookups | None = None) -> list[dict]:
    """The findings of one campaign as records (``FINDING_COLUMNS``), each citing its rows.

    ``lookups``: as in :func:`campaign_statistics`."""
    period, P = inputs.period, inputs.params
    W = P.window_h
    grp, within, link = st.grp, st.within, st.link
    if lookups is None:
        lookups = CampaignLookups(notices, inputs.notices, unmentioned_notices(notices, inputs.posts), period,
                                  inputs.pairs)
    findings: list[dict] = []

    def add(kind, data, p=None, rows=()):
        data = _jsonable(data)
        findings.append({"campaign_id": st.cid, "order": len(findings) + 1, "kind": kind, "data": json.dumps(data),
                         "text": render(kind, data), "p_value": p, "rows": json.dumps(sorted(map(str, rows)))})

    first_by_target = st.tested.groupby("target")["posted_at"].min()
    lags_first = [(r.received_at - first_by_target[r.target]) / pd.Timedelta(hours=1) for r in within.itertuples()]
    median_lag = float(np.median(lags_first)) if lags_first else float("nan")
    removal_like = within[within["action"].isin(ENFORCEMENT)]
    removed_targets = sorted(set(removal_like["target"]))
    lo, hi = link.rate_ratio_interval()
    add("link", {"hit": len(st.hit_targets), "named": len(st.targets), "window_h": W, "removed": len(removed_targets),
                 "within": link.notices_within, "notices_total": link.notices_total,
                 "expected": link.expected_within, "rate_ratio": link.rate_ratio, "ratio_lo": lo, "ratio_hi": hi,
                 "median_lag_h": median_lag, "p_link": st.p_link, "p_floor": link.p_floor, "shifts": link.shifts},
        st.p_link, (list(within["notice_id"]) if st.hit_targets else []) + list(grp["post_id"]))
    _reaction_findings(add, st.pairs, st.reacted, st.causal, st.named, P)
    if st.uncorroborated:
        add("single", {"target": st.hit_targets[0], "p_link": st.p_link, "p_burst": st.p_burst}, None,
            list(st.causal.loc[st.causal["target"].isin(st.hit_targets), "post_id"].unique()))
    if link.insufficient and len(st.causal):
        add("limits", {"shifts": link.shifts, "p_floor": link.p_floor, "alpha": P.alpha}, None, [])
    add("sweep", {"windows": st.sweep[["window_h", "notices_within", "expected_within", "p_value"]].to_dict("records")},
        None, [])
    significant = st.p_burst <= P.moderate
    b_obs, b_exp, b_start = st.burst
    add("burst", {"significant": bool(significant), "observed": b_obs, "start": b_start, "expected": b_exp,
                  "views": bool(len(inputs.exposure)), "p_burst": st.p_burst},
        st.p_burst, list(within["notice_id"]) if significant else [])
    control = _controls(lookups, st.subjects, st.targets, st.first_call, st.end, period)
    if control:
        add("controls", control, None, [])
    match = _policy_against_subjects(lookups, st.requested, within, st.subjects, st.subject_notices)
    if match:
        add("policy", match, match["p_value"], list(within[within["policy"] == st.requested]["notice_id"]))
    _spread_findings(add, grp, inputs, lookups)
    _coreporting_finding(add, within, lookups, inputs.coreports, P)
    _notice_side_findings(add, lookups, st.targets, st.subjects, st.first_call, st.end, within)
    _policy_and_subject_findings(add, lookups, st.subjects, within, st.first_call, st.end, period, P,
                                 st.subject_notices)
    # A boast speaks for this campaign when it names one of its targets, or names none at all
    # (asked only of the boasts in its chats and days).
    near = boasts[(boasts["chat"].isin(st.chats)) & (boasts["posted_at"] > grp["posted_at"].min())
                  & (boasts["posted_at"] <= st.end + pd.Timedelta(days=P.boast_horizon_days))]
    named_targets = set(st.targets)
    grp_boasts = near[near["targets"].map(lambda t: not len(t) or bool(set(t) & named_targets)).astype(bool)]
    if len(grp_boasts):
        add("boasts", {"count": len(grp_boasts), "first": grp_boasts["posted_at"].min()}, None,
            list(grp_boasts["post_id"]))
    if st.tier == "weak" and not st.hit_targets:
        add("verdict", {}, None, [])
    return findings


def _campaign(cid: str, grp: pd.DataFrame, inputs: CampaignInputs, notices: pd.DataFrame,
              published: pd.Series, boasts: pd.DataFrame, seed: int, lookups: CampaignLookups,
              reactions: pd.DataFrame):
    st = campaign_statistics(cid, grp, inputs, notices, published, seed, reactions, lookups)
    findings = campaign_findings(st, inputs, notices, boasts, lookups)
    link = st.link
    row = {
        "campaign_id": cid, "rank": 0, "tier": st.tier, "score": st.score, "targets": st.targets,
        "hit_targets": st.hit_targets, "start": st.first_call, "end": st.end, "notices": int(len(st.within)),
        "calls": int(len(st.grp)), "chats": st.chats, "p_burst": float(st.p_burst),
        "p_link": float(st.p_link) if st.p_link is not None else None, "p_link_floor": link.p_floor,
        "link_shifts": link.shifts, "rate_ratio": link.rate_ratio, "excess": link.excess,
        "requested_policy": st.requested, "findings": [f["text"] for f in findings],
        "call_post_ids": list(st.grp["post_id"]), "notice_ids": sorted(st.within["notice_id"].astype(str)),
        "sweep": st.sweep.to_json(orient="records")}
    return row, findings


def _reaction_findings(add, pairs: pd.DataFrame, reacted: pd.DataFrame, causal: pd.DataFrame,
                       named: pd.DataFrame, P: Parameters) -> None:
    """Which calls came after enforcement had begun, and what the notices did around the calls."""
    if len(reacted):
        first = reacted.sort_values("posted_at").iloc[0]
        burst = not first["enforced_before"] or first["pre_notices"] >= P.min_alarm_notices
        add("reaction", {"all": bool(causal.empty), "reactions": reacted["post_id"].nunique(),
                         "calls": pairs["post_id"].nunique(), "why": "burst" if burst else "enforced",
                         "pre_notices": int(first["pre_notices"]), "window_h": P.window_h,
                         "enforced_at": first["first_enforcement_before"]},
            None, list(reacted["post_id"].unique()))
    basis = causal if len(causal) else pairs
    W = P.window_h
    study = event_study(basis.groupby("target")["posted_at"].min(), named, W)
    add("event_study", {**study, "window_h": W, "tested_only": bool(len(reacted) and len(causal))}, None, [])


def _score(p_link, p_burst, hits, chats, tier) -> float:
    link = -np.log10(max(p_link, 1e-6)) if p_link is not None else 0.0
    burst = -np.log10(max(p_burst, 1e-6))
    score = link + burst + np.log2(1 + hits) + 0.5 * np.log2(1 + chats)
    return float(round(score if tier != "weak" else min(score, 2.0), 3))


def collected_chats(posts: pd.DataFrame, calls: pd.DataFrame | None = None) -> frozenset | None:
    """The ids and titles of the chats the case holds, which a forward's origin is compared with;
    None when ``posts`` has no titles (a forward names its origin by title: nothing to compare
    with), empty when no call in ``calls`` is a forward (10^6 posts are not read for nothing)."""
    if calls is not None and ("forwarded_from" not in calls or calls["forwarded_from"].isna().all()):
        return frozenset()
    if "chat_title" not in posts:
        return None
    names = [pd.unique(posts[c].dropna().astype(str)) for c in ("chat", "chat_title") if c in posts]
    return frozenset(np.concatenate(names))


def unmentioned_notices(notices: pd.DataFrame, posts: pd.DataFrame) -> pd.DataFrame:
    """The notices on targets that no post names: the pool every campaign's controls come from
    (found once per analysis, not once per campaign)."""
    return notices[~notices["target"].isin(set(posts["targets"].explode().dropna()))]


def _controls(lookups: CampaignLookups, subjects, named, start, end, period) -> dict | None:
    """How the subject's videos that no chat named behaved over the campaign's days.

    The pool is the unmentioned notices (:func:`unmentioned_notices`) of the subjects, less the
    named targets; named targets are usually named by posts, so none is in it and the pool's
    counts come from its sorted times."""
    pool = lookups.pool(subjects)
    days_total = (period.end - period.start) / pd.Timedelta(days=1)
    span = max((end - start) / pd.Timedelta(days=1), 1 / 24)
    if pool.targets.isdisjoint(named):
        if not len(pool.frame):
            return None
        total, n_targets = len(pool.frame), pool.n_targets
        lo, hi = pd.Timestamp(start).as_unit("ns").value, pd.Timestamp(end).as_unit("ns").value
        n_inside = int(np.searchsorted(pool.sorted_ns, hi, side="right") - np.searchsorted(pool.sorted_ns, lo))
    else:
        frame = pool.frame[~pool.frame["target"].isin(set(named))]
        if frame.empty:
            return None
        total, n_targets = len(frame), frame["target"].nunique()
        n_inside = len(frame[(frame["received_at"] >= start) & (frame["received_at"] <= end)])
    expected = total * span / days_total
    ratio = n_inside / expected if expected > 0 else float("nan")
    return {"days": span, "targets": n_targets, "notices": n_inside, "expected": expected, "ratio": ratio}


def _policy_against_subjects(lookups: CampaignLookups, policy, within: pd.DataFrame, subjects,
                             subject_notices: pd.DataFrame) -> dict | None:
    """:func:`~detector.features.linkage.policy_match` of ``within`` against the subjects' other notices."""
    if not policy or within.empty:
        return None
    counts = lookups.baseline_policy(subjects, within, policy)
    if counts is None:
        others = subject_notices[~subject_notices["notice_id"].isin(set(within["notice_id"]))]
        return policy_match(policy, within["policy"], others["policy"])
    return policy_match_counts(policy, within["policy"], *counts)


def _spread_findings(add, grp: pd.DataFrame, inputs: CampaignInputs, lookups: CampaignLookups) -> None:
    ids = set(grp["post_id"])
    pairs = inputs.pairs
    if len(pairs):
        inside = lookups.pairs_within(ids)
        cross = inside[inside["chat_a"] != inside["chat_b"]] if "chat_a" in inside else inside
        if len(cross):
            add("copies", {"pairs": len(cross), "min": cross["similarity"].min(), "max": cross["similarity"].max()},
                None, sorted(set(cross["post_a"]) | set(cross["post_b"])))
    fwd = grp[grp["forwarded_from"].notna()] if "forwarded_from" in grp else grp.iloc[0:0]
    if len(fwd):
        origins = sorted(set(fwd["forwarded_from"].astype(str)))
        # A forward names its origin by title (or, collected live, by id): an origin that is none of
        # the case's chats holds the original, whose time the case cannot know.
        collected = lookups.chats if lookups.chats is not None else collected_chats(inputs.posts)
        data = {"forwards": len(fwd), "origins": origins}
        # Collected live, a forward gives its original's date (date_by_originals moved the call there).
        dated = fwd[fwd["copied_at"].notna()] if "copied_at" in fwd else fwd.iloc[0:0]
        if len(dated):
            first = dated.sort_values("posted_at", kind="stable").iloc[0]
            data["dated"] = {"forwards": len(dated), "first": first["posted_at"],
                             "lead_h": (first["copied_at"] - first["posted_at"]) / pd.Timedelta(hours=1)}
        if collected is not None:
            undated = set(fwd.loc[~fwd["post_id"].isin(set(dated["post_id"])), "forwarded_from"].astype(str))
            data["uncollected"] = [o for o in origins if o not in collected and o in undated]
        add("forwards", data, None, list(fwd["post_id"]))
    # The posts' own times (a forward dated by its original was still posted here when it was).
    seen = grp["copied_at"].fillna(grp["posted_at"]) if "copied_at" in grp else grp["posted_at"]
    span_h = (seen.max() - seen.min()) / pd.Timedelta(hours=1)
    platforms = sorted(set(grp["platform"].astype(str))) if "platform" in grp else []
    add("spread", {"calls": len(grp), "chats": grp["chat"].nunique(), "platforms": platforms,
                   "first": seen.min(), "last": seen.max(), "span_h": span_h},
        None, list(grp["post_id"]))


def _coreporting_finding(add, within: pd.DataFrame, lookups: CampaignLookups, edges: pd.DataFrame | None,
                         P: Parameters) -> None:
    """When notices carry reporter ids: did the same reporters flag these targets together?"""
    reported = within[within["reporter_id"].notna() & (within["reporter_id"].astype(str) != "")]
    if reported.empty:
        return
    reporters = set(reported["reporter_id"].astype(str))
    multi = reported.groupby("reporter_id")["target"].nunique()
    multi = multi[multi >= 2]
    data = {"reporters": len(reporters), "multi": len(multi)}
    if edges is not None and len(edges):
        inside = edges[edges["reporter_a"].isin(reporters) & edges["reporter_b"].isin(reporters)]
        networked = set(inside["reporter_a"]) | set(inside["reporter_b"])
        # The other reporters of the case (every reporter but these) and how many of them are in
        # the network: counted as the case's, less these campaign's (which are among the case's).
        networked_all = lookups.networked(edges)
        n_others = len(lookups.reporters) - len(reporters)
        n_other_net = len(networked_all) - len(networked_all & reporters)
        share_other = n_other_net / n_others if n_others else 0.0
        data["network"] = {"window_min": P.coreport_window_s // 60, "min_weight": P.coreport_min_weight,
                           "linked": len(networked), "edges": len(inside),
                           "max_weight": int(inside["weight"].max()) if len(inside) else 0, "share_other": share_other}
    add("coreporting", data, None, list(reported["notice_id"]))


def _policy_and_subject_findings(add, lookups: CampaignLookups, subjects, within: pd.DataFrame, start, end,
                                 period: Period, P: Parameters, subject_notices: pd.DataFrame) -> None:
    """One policy suddenly dominating the citations; other subjects hit in the same hours."""
    if len(within) >= P.min_alarm_notices:
        policy = within["policy"].value_counts().index[0]
        shift = _policy_against_subjects(lookups, policy, within, subjects, subject_notices)
        if shift and shift["share"] >= 0.5 and shift["p_value"] <= P.alpha:
            add("policy_shift", shift, shift["p_value"], list(within[within["policy"] == policy]["notice_id"]))
    days = (period.end - period.start) / pd.Timedelta(days=1)
    span = max((end - start) / pd.Timedelta(days=1), 1 / 24)
    hit = []
    for subject, total, inside in lookups.other_subjects(subjects, start, end):
        expected = total * span / days
        if len(inside) >= P.min_alarm_notices and len(inside) > 3 * max(expected, 0.5):
            hit.append((subject, len(inside), expected, list(lookups.notices["notice_id"].iloc[inside])))
    if hit:
        add("other_subjects", {"subjects": [{"subject": s_, "notices": n, "expected": e} for s_, n, e, _ in hit]},
            None, [i for *_, ids in hit for i in ids])


def _notice_side_findings(add, lookups: CampaignLookups, targets, subjects, start, end, within) -> None:
    """Signals in the notices themselves: reinstatements, old videos removed together.

    Read from the case's reinstatements and suspensions (:class:`CampaignLookups`), the only
    notices these findings can cite."""
    channel_targets = set(subjects) | {t for t in targets if not t.startswith("youtube:video")}
    later = lookups.reinstated[lookups.reinstated["received_at"] >= start]
    rein = later[later["target"].isin(set(targets) | channel_targets)]
    if len(rein):
        add("reinstated", {"count": len(rein), "first": rein["received_at"].min()}, None, list(rein["notice_id"]))
    # Only this campaign's own channel: a case may hold several channels and their suspensions.
    suspended = lookups.suspended
    own = lookups.suspended_subject.isin(set(subjects)) | suspended["target"].isin(channel_targets)
    susp = suspended[own & (suspended["received_at"] >= start)
                     & (suspended["received_at"] <= end + pd.Timedelta(days=7))]
    if len(susp):
        add("suspended", {"count": len(susp), "first": susp["received_at"].min()}, None, list(susp["notice_id"]))
    removed = within[within["action"].isin(["removed", "strike"]) & within["published_at"].notna()]
    if len(removed) >= 2:
        age_days = (removed["received_at"] - removed["published_at"]) / pd.Timedelta(days=1)
        if age_days.median() > 180:
            add("old_videos", {"median_years": age_days.median() / 365}, None, list(removed["notice_id"]))
