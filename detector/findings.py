"""Findings as records, and the one renderer that turns them into sentences.

A finding is a record: ``kind``, ``data`` (the numbers, times and names it states, JSON), the ids
of the rows it cites (``rows``) and its p-value, if it has one; the analysis's parameters are
stored with the analysis. The sentence is never stored as the truth: the CLI, the app and the
packet render it from the record with :func:`render`, and a packet that hides private people's
names passes ``names`` (a function from a name to what may be shown), so redaction works on
fields, never by replacing substrings in a sentence.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from detector.formatting import (
    INSUFFICIENT,
    agree,
    count,
    decimal,
    duration,
    is_missing,
    p_stated,
    p_value,
    share,
    times,
)

FINDING_COLUMNS = ["campaign_id", "order", "kind", "data", "text", "p_value", "rows"]


def fmt_p(p: float | None, floor: float | None = None, shifts: int | None = None) -> str:
    """A p-value as findings write it (:func:`detector.formatting.p_value`), with the day shifts it rests on."""
    if is_missing(p):
        return INSUFFICIENT
    text = p_value(p)
    if shifts is not None:
        text += f" over {count(shifts, 'day shift')}"
    if not is_missing(floor) and p <= floor + 1e-12:
        text += " (the smallest attainable)"
    return text


def fmt_hours(h: float | None) -> str:
    return duration(h)


def _t(iso: str) -> str:
    return f"{pd.Timestamp(iso):%Y-%m-%d %H:%M}"


def _link(d: dict, names) -> str:
    named = count(d["named"], "named target")
    if not d["hit"]:
        return (f"No notice on the {named} arrived within {d['window_h']} h after the calls "
                f"({count(d['notices_total'], 'notice')} on them in the whole period): the calls are not followed "
                f"by enforcement in the collected notices.")
    return (f"{d['hit']} of {named} received notices within {d['window_h']} h after a call naming "
            f"{agree(d['named'], 'it', 'them')} ({d['removed']} removed, struck, restricted or suspended); "
            f"{d['within']} of {count(d['notices_total'], 'notice')} on the named targets came within that window "
            f"against {decimal(d['expected'])} expected when the same calls are moved to other days (rate ratio "
            f"{decimal(d['rate_ratio'])}, 95% interval {decimal(d['ratio_lo'])}–{decimal(d['ratio_hi'])}); median "
            f"lag after the first call {duration(d['median_lag_h'])}; p_link = "
            f"{fmt_p(d['p_link'], d['p_floor'], d['shifts'])}.")


def _reaction(d: dict, names) -> str:
    why = (f"{count(d['pre_notices'], 'notice')} in the {d['window_h']} h before it" if d["why"] == "burst" else
           f"its target was already removed, restricted or suspended at {_t(d['enforced_at'])} UTC")
    if d["all"] and d["calls"] == 1:
        return (f"The only call was posted after enforcement on its targets had begun (after {why}). It may be a "
                f"reaction to the removals rather than their cause, so it is not tested as a cause: this cannot be "
                f"an alarm.")
    if d["all"]:
        return (f"All {count(d['calls'], 'call')} were posted after enforcement on their targets had begun (the "
                f"first after {why}). They may be reactions to the removals rather than their cause, so they are not "
                f"tested as a cause: this cannot be an alarm.")
    were = "was" if d["reactions"] == 1 else "were"
    return (f"{d['reactions']} of {count(d['calls'], 'call')} {were} posted after enforcement on their targets had "
            f"begun (the first after {why}); {'it is' if d['reactions'] == 1 else 'they are'} left out of p_link "
            f"and p_burst as possible reactions.")


def _event_study(d: dict, names) -> str:
    w = d["window_h"]
    trend = "notices were already rising before the calls" if d["pre_trend"] else "no rise before the calls"
    return (f"Around each target's first {'tested ' if d['tested_only'] else ''}call: "
            f"{count(d['before_2'], 'notice')} from {2 * w} to {w} h before, {d['before']} in the {w} h before, "
            f"{d['after']} in the {w} h after ({trend}).")


def _limits(d: dict, names) -> str:
    return (f"Too few comparable days to test the link: only {count(d['shifts'], 'day shift')} keep the calls "
            f"inside the observation period, so the smallest attainable p-value is {p_value(d['p_floor'])}, "
            f"above {d['alpha']:g}.")


def _sweep(d: dict, names) -> str:
    rows = d["windows"]
    text = "; ".join(f"{int(s['window_h'])} h: {int(s['notices_within'])} vs {decimal(s['expected_within'])} "
                     f"expected, {p_stated(s['p_value'])}" for s in rows)
    lo, hi = (min(s["window_h"] for s in rows), max(s["window_h"] for s in rows)) if rows else (0, 0)

    def span(h: float) -> str:
        return f"{int(h) // 24} days" if h >= 72 and h % 24 == 0 else duration(h)

    return f"Across windows from {span(lo)} to {span(hi)} the result is: {text}."


def _burst(d: dict, names) -> str:
    if not d["significant"]:
        return (f"The named targets' notices after the calls are not unusual for this subject "
                f"(p_burst = {fmt_p(d['p_burst'])}).")
    return (f"The named targets' notices form a burst: {count(d['observed'], 'notice')} in the busiest window "
            f"starting {_t(d['start'])} UTC against {decimal(d['expected'])} expected from the subject's own "
            f"hour-of-day and weekday cycle{' and views' if d['views'] else ''} (p_burst = {fmt_p(d['p_burst'])}, "
            f"corrected for every window scanned).")


def _controls(d: dict, names) -> str:
    return (f"Controls: over the same {decimal(d['days'])} days, the {count(d['targets'], 'target')} of this subject "
            f"that no collected post named received {count(d['notices'], 'notice')} against "
            f"{decimal(d['expected'])} expected from their own rate over the period (ratio "
            f"{decimal(d['ratio'], 2)}).")


def _policy(d: dict, names) -> str:
    return (f"The calls asked for reports under '{d['policy']}'; {d['matching']} of "
            f"{count(d['notices'], 'notice')} that followed cite it ({share(d['share'])}, against "
            f"{share(d['baseline_share'])} of the subject's other notices; {p_stated(d['p_value'], 'binomial p')}).")


def _copies(d: dict, names) -> str:
    pairs = "1 pair of calls in different chats is a near-duplicate" if d["pairs"] == 1 else (
        f"{d['pairs']} pairs of calls in different chats are near-duplicates")
    return f"{pairs} (Jaccard similarity {decimal(d['min'], 2)}–{decimal(d['max'], 2)} on character shingles)."


def _forwards(d: dict, names) -> str:
    origins = sorted({names(o) for o in d["origins"]})
    forwards = "1 of the calls is a forward" if d["forwards"] == 1 else f"{d['forwards']} of the calls are forwards"
    text = f"{forwards} (from {', '.join(origins)})."
    dated = d.get("dated")
    if dated:
        which = ("It carries" if d["forwards"] == 1 else "All carry" if dated["forwards"] == d["forwards"]
                 else f"{dated['forwards']} of them {agree(dated['forwards'], 'carries', 'carry')}")
        text += (f" {which} the original's date, as a live collection gives it: the earliest original was posted at "
                 f"{_t(dated['first'])} UTC, {duration(dated['lead_h'])} before its copy here; the tests date "
                 f"{agree(dated['forwards'], 'that call', 'those calls')} by {agree(dated['forwards'], 'its', 'their')} "
                 f"original{agree(dated['forwards'], '', 's')}.")
    outside = sorted({names(o) for o in d.get("uncollected", [])})
    if outside:
        text += (f" {', '.join(outside)} {agree(len(outside), 'is', 'are')} not among the collected chats: the "
                 f"original{agree(len(outside), '', 's')} may be older than the copies here (and older than the "
                 f"notices); collecting {agree(len(outside), 'it', 'them')}, or "
                 f"{agree(d['forwards'], 'this forward', 'these forwards')} live (detector collect), "
                 f"would date the call.")
    return text


def _spread(d: dict, names) -> str:
    if d["calls"] == 1 or d["first"] == d["last"]:
        return (f"{count(d['calls'], 'call')} in {count(d['chats'], 'chat')} ({', '.join(d['platforms'])}) at "
                f"{_t(d['first'])} UTC.")
    return (f"{count(d['calls'], 'call')} in {count(d['chats'], 'chat')} ({', '.join(d['platforms'])}) between "
            f"{_t(d['first'])} and {_t(d['last'])} UTC ({duration(d['span_h'])}).")


def _coreporting(d: dict, names) -> str:
    text = (f"{count(d['reporters'], 'distinct reporter')} {agree(d['reporters'], 'is', 'are')} behind these "
            f"notices; {d['multi']} of them flagged two or more of the named targets.")
    if d.get("network"):
        n = d["network"]
        network = f"the co-reporting network (same target within {n['window_min']} min, at least {times(n['min_weight'])})"
        if not n["linked"]:
            text += (f" None of them is linked in {network}, against {share(n['share_other'])} of the case's other "
                     f"reporters.")
        else:
            text += (f" In {network}, {n['linked']} of them {agree(n['linked'], 'is', 'are')} linked by "
                     f"{count(n['edges'], 'directed edge')} (weights up to {n['max_weight']}), against "
                     f"{share(n['share_other'])} of the case's other reporters.")
    return text


def _reinstated(d: dict, names) -> str:
    was = "was" if d["count"] == 1 else "were"
    return (f"{d['count']} {'removal or suspension' if d['count'] == 1 else 'removals or suspensions'} on these "
            f"targets {was} later reversed (reinstated; first {_t(d['first'])} UTC), which is what happens when "
            f"enforcement was wrong.")


def _suspended(d: dict, names) -> str:
    return f"The channel was suspended or blocked {times(d['count'])} in this period (first {_t(d['first'])} UTC)."


def _old_videos(d: dict, names) -> str:
    return (f"The removed videos had been online for a median of {decimal(d['median_years'])} years before being "
            f"removed within days of each other.")


def _policy_shift(d: dict, names) -> str:
    return (f"'{d['policy']}' suddenly dominates the citations: {d['matching']} of {count(d['notices'], 'notice')} "
            f"after the calls ({share(d['share'])}) against {share(d['baseline_share'])} of the subject's other "
            f"notices ({p_stated(d['p_value'], 'binomial p')}).")


def _other_subjects(d: dict, names) -> str:
    n = len(d["subjects"])
    return (f"{n} other subject{'s were' if n != 1 else ' was'} hit in the same days: " + "; ".join(
        f"{s['subject']} ({count(s['notices'], 'notice')} against {decimal(s['expected'])} expected)"
        for s in d["subjects"][:5]) + ".")


def _boasts(d: dict, names) -> str:
    posts = "post" if d["count"] == 1 else "posts"
    verb = "claims" if d["count"] == 1 else "claim"
    return f"{d['count']} later {posts} in the same chats {verb} success (first {_t(d['first'])} UTC)."


def _single(d: dict, names) -> str:
    return (f"The link rests on one call and one target ({d['target']}): {p_stated(d['p_link'], 'p_link')} and "
            f"{p_stated(d['p_burst'], 'p_burst')}, but one post followed by one burst cannot be told apart from a "
            f"post and a burst that share a cause (the video drawing attention, people posting about it). This is "
            f"not an alarm until a second call, or a second target hit, corroborates it.")


def _verdict(d: dict, names) -> str:
    return "Calls to report were found, but nothing in the collected notices shows that they changed anything."


RENDERERS: dict[str, Callable[[dict, Callable[[str], str]], str]] = {
    "link": _link, "reaction": _reaction, "event_study": _event_study, "limits": _limits, "sweep": _sweep,
    "burst": _burst, "controls": _controls, "policy": _policy, "copies": _copies, "forwards": _forwards,
    "spread": _spread, "coreporting": _coreporting, "reinstated": _reinstated, "suspended": _suspended,
    "old_videos": _old_videos, "policy_shift": _policy_shift, "other_subjects": _other_subjects,
    "boasts": _boasts, "single": _single, "verdict": _verdict,
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
