"""Platform context for a case: what the platform did, platform-wide, on the days of the case's bursts.

For each significant burst of the case's own notices (:func:`detector.results.case_bursts`) it
takes, from the converted DSA Transparency Database statements of the same platform, the
decisions in the categories that match the burst's policy (optionally one content language and
one territorial scope) and compares the burst's days with the ``baseline_days`` before them:

- notice-driven decisions (Article 16, trusted flaggers, other notifications) and own-initiative
  decisions (``SOURCE_VOLUNTARY``) per day, in the window and usually;
- the notice share in the window against its usual share (one-sided binomial test);
- the share of fully automated decisions and of decisions on old content.

It also lists candidate statements of reasons (platform, date and category match). A candidate
is never called *the* statement for a removal: that needs a field that names the item, and the
only candidate, ``platform_uid``, is the platform's own statement id. ``uid_names_target`` counts
candidates whose ``platform_uid`` contains one of the burst's YouTube video ids literally; no
real YouTube row was available to us to check whether YouTube ever puts the video id there, so
a zero is expected and a non-zero count is a lead to check by hand, not a proof.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from detector.dsa.analysis import daily_counts, where_clause
from detector.dsa.params import DSA_DEFAULTS, DsaParameters
from detector.dsa.schema import CATEGORIES, NOTICE_SOURCES

# The project's policy vocabulary -> DSA statement categories (v2 and their v1 predecessors).
POLICY_CATEGORIES: dict[str, tuple[str, ...]] = {
    "harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
                   "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"),
    "hate_speech": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_CYBER_VIOLENCE"),
    "violent_extremism": ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "STATEMENT_CATEGORY_VIOLENCE"),
    "privacy": ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",),
    "spam": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD",),
    "misinformation": ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",),
    "copyright": ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",),
    "impersonation": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"),
    "child_safety": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS",),
    "other": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
}
assert all(c in CATEGORIES for cats in POLICY_CATEGORIES.values() for c in cats)

CANDIDATES_SQL = """
SELECT uuid, platform_uid, application_day, category, source_type, automated_decision, content_language,
       content_lag_days, dump_file, dump_sha1, dump_part, dump_row
FROM statements
WHERE {where} AND category IN ({categories})
ORDER BY application_day, uuid
LIMIT {limit}
"""

CANDIDATE_COUNT_SQL = "SELECT COUNT(*) AS n FROM statements WHERE {where} AND category IN ({categories})"

DUMPS_SQL = """
SELECT dump_file, dump_sha1, COUNT(*) AS statements
FROM statements
WHERE {where}
GROUP BY dump_file, dump_sha1
ORDER BY dump_file
"""

_VIDEO = re.compile(r"^youtube:video:([A-Za-z0-9_-]{11})$")
_CODE = re.compile(r"^[A-Za-z0-9_,]+$")


def _in_list(values) -> str:
    for v in values:
        if not _CODE.match(v):
            raise ValueError(f"not a code: {v!r}")
    return ", ".join(f"'{v}'" for v in values)


def _where(platform: str, start: str, end: str, language: str | None, scope: str | None) -> str:
    w = where_clause(platform, start, end)
    if language:
        w += f" AND content_language = '{_in_list([language])[1:-1]}'"
    if scope:
        w += f" AND scope_key = '{_in_list([scope])[1:-1]}'"
    return w


def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def context_for_burst(engine, burst: dict, params: DsaParameters = DSA_DEFAULTS, language: str | None = None,
                      scope: str | None = None) -> dict:
    """One platform-context row (see the module docstring) for one burst of the case's notices."""
    platform = str(burst.get("platform") or "youtube").lower()
    categories = POLICY_CATEGORIES.get(str(burst.get("policy_top")), POLICY_CATEGORIES["other"])
    w_start = pd.Timestamp(burst["start"]).tz_convert("UTC").normalize()
    w_end = pd.Timestamp(burst["end"]).tz_convert("UTC").normalize()
    b_start = w_start - pd.Timedelta(days=params.baseline_days)
    fmt = lambda t: t.strftime("%Y-%m-%d")  # noqa: E731
    counts = daily_counts(engine, platform, fmt(b_start), fmt(w_end), params)
    counts = counts[counts["category"].isin(categories)]
    if language:
        counts = counts[counts["content_language"] == language]
    if scope:
        counts = counts[counts["scope_key"] == scope]
    inside = counts["application_day"] >= fmt(w_start)
    n_in_days = (w_end - w_start).days + 1
    n_base_days = params.baseline_days
    notice = counts["source_type"].isin(NOTICE_SOURCES)
    own = counts["source_type"] == "SOURCE_VOLUNTARY"
    auto = counts["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    tot = lambda m: int(counts.loc[m, "decisions"].sum())  # noqa: E731
    n_in, o_in, n_out, o_out = tot(inside & notice), tot(inside & own), tot(~inside & notice), tot(~inside & own)
    d_in, d_out = tot(inside), tot(~inside)
    share_in, share_out = _share(n_in, n_in + o_in), _share(n_out, n_out + o_out)
    p = float("nan")
    if n_in + o_in and n_out + o_out:
        p = float(stats.binomtest(n_in, n_in + o_in, min(max(share_out, 1e-9), 1 - 1e-9),
                                  alternative="greater").pvalue)
    npd_in, npd_usual = n_in / n_in_days, n_out / n_base_days
    opd_in, opd_usual = o_in / n_in_days, o_out / n_base_days
    notice_rose = npd_in >= params.rise_ratio * max(npd_usual, 1 / n_base_days) and p <= params.alpha
    own_rose = opd_in >= params.rise_ratio * max(opd_usual, 1 / n_base_days)
    if d_in == 0 and d_out == 0:
        verdict = "no platform data"
    elif notice_rose and not own_rose:
        verdict = "notice-driven rise"
    elif own_rose and not notice_rose:
        verdict = "own-initiative rise"
    elif notice_rose and own_rose:
        verdict = "both rose"
    else:
        verdict = "no unusual rise"

    where = _where(platform, fmt(w_start), fmt(w_end), language, scope)
    cats = _in_list(categories)
    cand = engine.sql(CANDIDATES_SQL.format(where=where, categories=cats, limit=int(params.candidates)))
    n_cand = int(engine.sql(CANDIDATE_COUNT_SQL.format(where=where, categories=cats))["n"].iloc[0])
    cand["application_day"] = pd.to_datetime(cand["application_day"]).dt.strftime("%Y-%m-%d")
    videos = [m.group(1) for t in burst.get("targets") or [] if (m := _VIDEO.match(str(t)))]
    uid_hits = int(sum(any(v in str(uid) for v in videos) for uid in cand["platform_uid"])) if videos else 0
    dumps = engine.sql(DUMPS_SQL.format(where=_where(platform, fmt(b_start), fmt(w_end), None, None)))
    return {
        "burst_id": burst["burst_id"], "platform": platform, "window_start": fmt(w_start),
        "window_end": fmt(w_end), "baseline_start": fmt(b_start), "categories": list(categories),
        "language": language, "scope": scope, "decisions_in": d_in, "notice_in": n_in, "own_in": o_in,
        "notice_per_day_in": round(npd_in, 3), "notice_per_day_usual": round(npd_usual, 3),
        "own_per_day_in": round(opd_in, 3), "own_per_day_usual": round(opd_usual, 3),
        "notice_share_in": share_in, "notice_share_usual": share_out, "p_notice_shift": p,
        "automated_share_in": _share(tot(inside & auto), d_in), "automated_share_usual": _share(tot(~inside & auto), d_out),
        "old_content_share_in": _share(int(counts.loc[inside, "old_content"].sum()), d_in),
        "old_content_share_usual": _share(int(counts.loc[~inside, "old_content"].sum()), d_out),
        "verdict": verdict,
        "candidates": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                       for r in cand.astype(object).to_dict("records")],
        "candidate_count": n_cand, "uid_names_target": uid_hits,
        "dumps": [{"name": r.dump_file, "sha1": r.dump_sha1, "statements": int(r.statements)}
                  for r in dumps.itertuples()],
        "engine": engine.name, "parameters": params.as_dict(),
    }


def platform_context(engine, bursts: pd.DataFrame, params: DsaParameters = DSA_DEFAULTS,
                     language: str | None = None, scope: str | None = None, on_burst=None) -> pd.DataFrame:
    """:func:`context_for_burst` for every burst, as the ``platform_context`` table."""
    rows = []
    for i, b in enumerate(bursts.to_dict("records")):
        rows.append(context_for_burst(engine, b, params, language, scope))
        if on_burst:
            on_burst(i + 1, len(bursts))
    return pd.DataFrame(rows)


def describe(row: dict) -> str:
    """One plain sentence for a platform-context row (the CLI, the packet)."""
    cats = ", ".join(c.replace("STATEMENT_CATEGORY_", "").lower() for c in row["categories"])
    def pct(x):
        return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.0f}%"
    return (f"{row['window_start']}..{row['window_end']} ({row['platform']}, {cats}): "
            f"{row['notice_per_day_in']:.1f} notice-driven decisions a day against {row['notice_per_day_usual']:.1f} "
            f"usually, {row['own_per_day_in']:.1f} own-initiative against {row['own_per_day_usual']:.1f}; "
            f"notice share {pct(row['notice_share_in'])} vs {pct(row['notice_share_usual'])} "
            f"(p = {row['p_notice_shift']:.2g}); fully automated {pct(row['automated_share_in'])} vs "
            f"{pct(row['automated_share_usual'])}; old content {pct(row['old_content_share_in'])} vs "
            f"{pct(row['old_content_share_usual'])}. Verdict: {row['verdict']}. "
            f"{row['candidate_count']} candidate statements (platform, date and category match; none is "
            f"claimed to be a specific removal).")
