"""Findings as records, and the one renderer that turns them into sentences.

A finding is a record: ``kind``, ``data`` (the numbers, times and names it states, JSON), the ids
of the rows it cites (``rows``) and its p-value, if it has one; the analysis's parameters are
stored with the analysis. The sentence is never stored as the truth: the CLI, the app and the
packet render it from the record with :func:`render`, and a packet that hides private people's
names passes ``names`` (a function from a name to what may be shown), so redaction works on
fields, never by replacing substrings in a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

FINDING_COLUMNS = ["campaign_id", "order", "kind", "data", "text", "p_value", "rows"]


def fmt_p(p: float | None, floor: float | None = None, shifts: int | None = None) -> str:
    """A p-value as findings write it (3 decimals, or 1 significant digit in e-notation below 0.001)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "insufficient data"
    text = f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
    if shifts is not None:
        text += f" over {shifts} day shifts"
    if floor is not None and p <= floor + 1e-12:
        text += " (the smallest attainable)"
    return text


def fmt_hours(h: float | None) -> str:
    if h is None or (isinstance(h, float) and math.isnan(h)):
        return "n/a"
    return f"{h:.0f} h" if h < 72 else f"{h / 24:.1f} days"


def _n(x) -> float:
    """A stored number (None for a missing one, "inf" for an infinite one) as a float to format."""
    return float("nan") if x is None else float(x)


def _t(iso: str) -> str:
    return f"{pd.Timestamp(iso):%Y-%m-%d %H:%M}"


def _link(d: dict, names) -> str:
    if not d["hit"]:
        return (f"No notice on the {d['named']} named targets arrived within {d['window_h']} h after the calls "
                f"({d['notices_total']} notices on them in the whole period): the calls are not followed by "
                f"enforcement in the collected notices.")
    return (f"{d['hit']} of {d['named']} named targets received notices within {d['window_h']} h after a call naming "
            f"them ({d['removed']} removed, struck, restricted or suspended); {d['within']} of {d['notices_total']} "
            f"notices on the named targets came within that window against {_n(d['expected']):.1f} expected when the "
            f"same calls are moved to other days (rate ratio {_n(d['rate_ratio']):.1f}, 95% interval "
            f"{_n(d['ratio_lo']):.1f}–{_n(d['ratio_hi']):.1f}); median lag after the first call "
            f"{fmt_hours(d['median_lag_h'])}; p_link = {fmt_p(d['p_link'], d['p_floor'], d['shifts'])}.")


def _reaction(d: dict, names) -> str:
    why = (f"{d['pre_notices']} notices in the {d['window_h']} h before it" if d["why"] == "burst" else
           f"its target was already removed, restricted or suspended at {_t(d['enforced_at'])} UTC")
    if d["all"]:
        return (f"All {d['calls']} calls were posted after enforcement on their targets had begun (the first after "
                f"{why}). They may be reactions to the removals rather than their cause, so they are not tested as "
                f"a cause: this cannot be an alarm.")
    return (f"{d['reactions']} of {d['calls']} calls were posted after enforcement on their targets had begun (the "
            f"first after {why}); they are left out of p_link and p_burst as possible reactions.")


def _event_study(d: dict, names) -> str:
    w = d["window_h"]
    trend = "notices were already rising before the calls" if d["pre_trend"] else "no rise before the calls"
    return (f"Around each target's first {'tested ' if d['tested_only'] else ''}call: {d['before_2']} notices from "
            f"{2 * w} to {w} h before, {d['before']} in the {w} h before, {d['after']} in the {w} h after ({trend}).")


def _limits(d: dict, names) -> str:
    return (f"Too few comparable days to test the link: only {d['shifts']} day shifts keep the calls inside the "
            f"observation period, so the smallest attainable p-value is {_n(d['p_floor']):.3f}, above {d['alpha']:g}.")


def _sweep(d: dict, names) -> str:
    rows = d["windows"]
    text = "; ".join(f"{int(s['window_h'])} h: {int(s['notices_within'])} vs {_n(s['expected_within']):.1f} expected, "
                     f"p = {fmt_p(s['p_value'])}" for s in rows)
    lo, hi = (min(s["window_h"] for s in rows), max(s["window_h"] for s in rows)) if rows else (0, 0)

    def span(h: float) -> str:
        return f"{int(h) // 24} days" if h >= 72 and h % 24 == 0 else fmt_hours(h)

    return f"Across windows from {span(lo)} to {span(hi)} the result is: {text}."


def _burst(d: dict, names) -> str:
    if not d["significant"]:
        return f"The named targets' notices after the calls are not unusual for this subject (p_burst = {fmt_p(d['p_burst'])})."
    return (f"The named targets' notices form a burst: {d['observed']} notices in the busiest window starting "
            f"{_t(d['start'])} UTC against {_n(d['expected']):.1f} expected from the subject's own hour-of-day and weekday "
            f"cycle{' and views' if d['views'] else ''} (p_burst = {fmt_p(d['p_burst'])}, corrected for every window "
            f"scanned).")


def _controls(d: dict, names) -> str:
    return (f"Controls: over the same {_n(d['days']):.1f} days, the {d['targets']} targets of this subject that no "
            f"collected post named received {d['notices']} notices against {_n(d['expected']):.1f} expected from their own "
            f"rate over the period (ratio {_n(d['ratio']):.2f}).")


def _policy(d: dict, names) -> str:
    return (f"The calls asked for reports under '{d['policy']}'; {d['matching']} of {d['notices']} notices that "
            f"followed cite it ({_n(d['share']):.0%}, against {_n(d['baseline_share']):.0%} of the subject's other notices; "
            f"binomial p = {fmt_p(d['p_value'])}).")


def _copies(d: dict, names) -> str:
    return (f"{d['pairs']} pairs of calls in different chats are near-duplicates (Jaccard similarity "
            f"{_n(d['min']):.2f}–{_n(d['max']):.2f} on character shingles).")


def _forwards(d: dict, names) -> str:
    origins = sorted({names(o) for o in d["origins"]})
    return f"{d['forwards']} of the calls are forwards (from {', '.join(origins)})."


def _spread(d: dict, names) -> str:
    return (f"{d['calls']} calls in {d['chats']} chats ({', '.join(d['platforms'])}) between {_t(d['first'])} and "
            f"{_t(d['last'])} UTC ({fmt_hours(d['span_h'])}).")


def _coreporting(d: dict, names) -> str:
    text = (f"{d['reporters']} distinct reporters are behind these notices; {d['multi']} of them flagged two or more "
            f"of the named targets.")
    if d.get("network"):
        n = d["network"]
        text += (f" In the co-reporting network (same target within {n['window_min']} min, at least "
                 f"{n['min_weight']} times), {n['linked']} of them are linked by {n['edges']} directed edges "
                 f"(weights up to {n['max_weight']}), against {_n(n['share_other']):.0%} of the case's other reporters.")
    return text


def _reinstated(d: dict, names) -> str:
    return (f"{d['count']} removals or suspensions on these targets were later reversed (reinstated; first "
            f"{_t(d['first'])} UTC), which is what happens when enforcement was wrong.")


def _suspended(d: dict, names) -> str:
    times = "once" if d["count"] == 1 else f"{d['count']} times"
    return f"The channel was suspended or blocked {times} in this period (first {_t(d['first'])} UTC)."


def _old_videos(d: dict, names) -> str:
    return (f"The removed videos had been online for a median of {_n(d['median_years']):.1f} years before being removed "
            f"within days of each other.")


def _policy_shift(d: dict, names) -> str:
    return (f"'{d['policy']}' suddenly dominates the citations: {d['matching']} of {d['notices']} notices after the "
            f"calls ({_n(d['share']):.0%}) against {_n(d['baseline_share']):.0%} of the subject's other notices (binomial p = "
            f"{fmt_p(d['p_value'])}).")


def _other_subjects(d: dict, names) -> str:
    n = len(d["subjects"])
    return (f"{n} other subject{'s were' if n != 1 else ' was'} hit in the same days: " + "; ".join(
        f"{s['subject']} ({s['notices']} notices against {_n(s['expected']):.1f} expected)" for s in d["subjects"][:5])
        + ".")


def _boasts(d: dict, names) -> str:
    posts = "post" if d["count"] == 1 else "posts"
    verb = "claims" if d["count"] == 1 else "claim"
    return f"{d['count']} later {posts} in the same chats {verb} success (first {_t(d['first'])} UTC)."


def _verdict(d: dict, names) -> str:
    return "Calls to report were found, but nothing in the collected notices shows that they changed anything."


RENDERERS: dict[str, Callable[[dict, Callable[[str], str]], str]] = {
    "link": _link, "reaction": _reaction, "event_study": _event_study, "limits": _limits, "sweep": _sweep,
    "burst": _burst, "controls": _controls, "policy": _policy, "copies": _copies, "forwards": _forwards,
    "spread": _spread, "coreporting": _coreporting, "reinstated": _reinstated, "suspended": _suspended,
    "old_videos": _old_videos, "policy_shift": _policy_shift, "other_subjects": _other_subjects,
    "boasts": _boasts, "verdict": _verdict,
}


def render(kind: str, data: dict, names: Callable[[str], str] | None = None) -> str:
    """The sentence of one finding. ``names`` maps a person's or chat's name to what may be shown."""
    return RENDERERS[kind](data, names or (lambda n: n))


def rendered(findings: pd.DataFrame, campaign_id: str | None = None,
             names: Callable[[str], str] | None = None) -> pd.DataFrame:
    """A stored findings table with ``text`` rendered from each record (one campaign's, in order).

    ``findings``: the ``findings`` table (``FINDING_COLUMNS``); rows stored before findings were
    records (no ``data``) keep their stored sentence. ``rows`` come back as lists of ids and
    ``data`` as dicts.
    """
    import json

    if findings is None or findings.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    out = findings if campaign_id is None else findings[findings["campaign_id"] == campaign_id]
    out = out.sort_values(["campaign_id", "order"], kind="stable").reset_index(drop=True).copy()
    out["rows"] = out["rows"].map(lambda v: list(json.loads(v)) if isinstance(v, str) else list(v or []))
    if "data" not in out:
        out["data"] = None
    out["data"] = out["data"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    out["text"] = [render(k, d, names) if isinstance(d, dict) else t
                   for k, d, t in zip(out["kind"], out["data"], out["text"], strict=True)]
    return out
