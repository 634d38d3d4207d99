"""An analysed case shaped for display: one campaign's rows, a target's bursts, posts to filter.

Pure reads of a :class:`~detector.store.Case` into DataFrames and graphs, shared by the app and
the evidence packet. Nothing here decides anything the analysis has not decided; it selects,
joins and counts the rows behind a campaign so that a person can read them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from detector.features.calls import detect_language
from detector.features.explain import why_text
from detector.params import DEFAULTS
from detector.results import (
    campaign_edges,
    campaign_rows,
    chat_titles,
    posts_and_calls,
)
from detector.store import Case

# Chats that post a call naming the same target within this gap are drawn as co-posting.
# How much time around a campaign's span the timeline shows first.
TIMELINE_MARGIN = pd.Timedelta(days=1)


@dataclass
class CampaignDetail:
    """The rows behind one campaign (see :func:`campaign_detail`)."""

    campaign: dict                 # as campaign_list() gives it
    findings: pd.DataFrame         # order, kind, text, p_value
    calls: pd.DataFrame            # the campaign's calls with chat title, text and links
    targets: pd.DataFrame          # one row per named target with its notice counts
    notices: pd.DataFrame          # every notice on the named targets; in_campaign marks the linked ones
    bursts: pd.DataFrame           # significant bursts explained by the campaign or on its targets
    clusters: pd.DataFrame         # copy clusters holding the campaign's calls, one row per cluster
    network: nx.Graph = field(default_factory=nx.Graph)
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None


def campaign_detail(case: Case, campaign_id: str) -> CampaignDetail:
    """Everything the app's campaign page and an evidence packet show about one campaign."""
    rows = campaign_rows(case, campaign_id)
    campaign = rows.campaign
    targets = list(campaign["targets"])
    posts = rows.posts
    titles = chat_titles(posts)

    findings = rows.findings[["order", "kind", "text", "p_value"]]

    calls_all = rows.calls
    calls = calls_all[calls_all["post_id"].isin(set(campaign["call_post_ids"]))].copy()
    calls = calls.merge(posts[["post_id", "urls"]], on="post_id", how="left")
    calls["chat_title"] = calls["chat"].map(titles).fillna(calls["chat_title"])
    calls["links"] = calls["urls"].map(_lines)
    calls["targets named"] = calls["targets"].map(_lines)
    calls["why"] = calls["text"].map(why_text)      # cue words with English glosses, for reviewers
    calls = calls.sort_values("posted_at").reset_index(drop=True)

    notices = rows.notices[rows.notices["target"].isin(targets)].sort_values("received_at", kind="stable")
    notices = notices.reset_index(drop=True)
    notices["in_campaign"] = notices["notice_id"].isin(set(campaign["notice_ids"]))

    bursts = rows.bursts
    if len(bursts):
        related = bursts["significant"] & ((bursts["explained_by"] == campaign_id) | (
            (bursts["scope"] == "target") & bursts["key"].isin(targets)))
        bursts = bursts[related].sort_values("start").reset_index(drop=True)

    start, end = pd.Timestamp(campaign["start"]), pd.Timestamp(campaign["end"])
    return CampaignDetail(
        campaign=campaign, findings=findings, calls=calls,
        targets=target_table(targets, notices, calls, campaign["hit_targets"]),
        notices=notices, bursts=bursts,
        clusters=cluster_table(rows.clusters, calls, posts, titles),
        network=campaign_network(calls, rows.pairs, titles, window=f"{rows.params.coposting_window_min}min"),
        window=(start - TIMELINE_MARGIN, end + TIMELINE_MARGIN))


def target_table(targets: list[str], notices: pd.DataFrame, calls: pd.DataFrame,
                 hit_targets: list[str] | None = None) -> pd.DataFrame:
    """One row per target: its title and URL, how many calls named it, its notices and actions."""
    hit = set(hit_targets or ())
    rows = []
    for target in targets:
        mine = notices[notices["target"] == target]
        titles = mine["target_title"].dropna()
        urls = mine["target_url"].dropna()
        actions = Counter(mine["action"])
        rows.append({
            "target": target, "title": titles.iloc[0] if len(titles) else None,
            "url": urls.iloc[0] if len(urls) else None,
            "calls": int(calls["targets"].map(lambda t, x=target: x in list(t)).sum()) if len(calls) else 0,
            "notices": len(mine), "linked notices": int(mine["in_campaign"].sum()) if "in_campaign" in mine else 0,
            "actions": ", ".join(f"{a} {n}" for a, n in actions.most_common()),
            "first notice": mine["received_at"].min() if len(mine) else pd.NaT,
            "last notice": mine["received_at"].max() if len(mine) else pd.NaT,
            "followed the calls": target in hit})
    return pd.DataFrame(rows)


def cluster_table(clusters: pd.DataFrame, calls: pd.DataFrame, posts: pd.DataFrame,
                  titles: dict[str, str]) -> pd.DataFrame:
    """The copy clusters that hold any of ``calls``: size, chats, span and the first text."""
    columns = ["cluster_id", "posts", "chats", "first", "last", "first text"]
    if clusters.empty or calls.empty:
        return pd.DataFrame(columns=columns)
    ids = set(clusters.loc[clusters["post_id"].isin(set(calls["post_id"])), "cluster_id"])
    members = clusters[clusters["cluster_id"].isin(ids)].merge(posts[["post_id", "text"]], on="post_id", how="left")
    rows = []
    for cid, group in members.sort_values("posted_at").groupby("cluster_id", sort=False):
        chats = sorted({titles.get(c, c) for c in group["chat"]})
        rows.append({"cluster_id": cid, "posts": len(group), "chats": ", ".join(chats),
                     "first": group["posted_at"].min(), "last": group["posted_at"].max(),
                     "first text": group["text"].iloc[0]})
    return pd.DataFrame(rows, columns=columns).sort_values(["posts", "first"], ascending=[False, True],
                                                           ignore_index=True)


def campaign_network(calls: pd.DataFrame, pairs: pd.DataFrame, titles: dict[str, str],
                     window: str = f"{DEFAULTS.coposting_window_min}min") -> nx.Graph:
    """The chats of a campaign's calls and how they are tied (:func:`detector.results.campaign_edges`).

    Nodes are chats (``label`` = title, ``calls`` = calls posted there). An edge's ``kinds`` holds
    the :data:`~detector.results.EDGE_KINDS` that tie the two chats; ``detail`` says which.
    """
    G = nx.Graph()
    for chat, n in calls.groupby("chat").size().items():
        G.add_node(chat, label=titles.get(chat, chat), calls=int(n))
    for r in campaign_edges(calls, pairs, titles, window).itertuples():
        for node in (r.a, r.b):
            if node not in G:
                G.add_node(node, label=titles.get(node, node), calls=0)
        data = G.get_edge_data(r.a, r.b) or {"kinds": [], "details": [], "weight": 0}
        if r.kind not in data["kinds"]:
            data["kinds"].append(r.kind)
        data["details"].append(r.detail)
        data["weight"] += int(r.weight)
        G.add_edge(r.a, r.b, kinds=data["kinds"], details=data["details"], weight=data["weight"],
                   detail="; ".join(data["details"][:3]))
    return G


def posts_table(case: Case) -> pd.DataFrame:
    """Every post with what the analysis saw in it: ``kind`` (call, boast or empty), language, policy.

    The language of a post that is not a call or boast is guessed with
    :func:`~detector.features.calls.detect_language`, the same guess the calls carry.
    """
    posts, calls = posts_and_calls(case)
    cols = ["post_id", "platform", "chat", "chat_title", "author", "posted_at", "text", "urls", "forwarded_from"]
    out = posts[cols].copy()
    if len(calls):
        out = out.merge(calls[["post_id", "kind", "language", "requested_policy"]], on="post_id", how="left")
    else:
        out = out.assign(kind=None, language=None, requested_policy=None)
    missing = out["language"].isna()
    out.loc[missing, "language"] = [detect_language(t) for t in out.loc[missing, "text"]]
    out["kind"] = out["kind"].fillna("")
    out["urls"] = out["urls"].map(_lines)
    return out.sort_values("posted_at", ignore_index=True)


def filter_rows(frame: pd.DataFrame, time_col: str | None = None, start=None, end=None,
                contains: str | None = None, text_cols: tuple[str, ...] = (), **allowed) -> pd.DataFrame:
    """Rows of ``frame`` in [start, end] (dates include their whole day), whose ``text_cols`` contain
    ``contains`` (case-insensitive), and whose columns hold one of ``allowed[col]`` (ignored when empty)."""
    keep = pd.Series(True, index=frame.index)
    if time_col and start is not None:
        keep &= frame[time_col] >= _utc(start)
    if time_col and end is not None:
        stop = _utc(end)
        keep &= frame[time_col] < (stop + pd.Timedelta(days=1) if stop == stop.normalize() else stop)
    if contains:
        hit = pd.Series(False, index=frame.index)
        for col in text_cols:
            hit |= frame[col].astype("string").str.contains(contains, case=False, regex=False).fillna(False)
        keep &= hit
    for col, values in allowed.items():
        if values:
            keep &= frame[col].isin(list(values))
    return frame[keep]


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _lines(values) -> str:
    return "\n".join(map(str, values)) if isinstance(values, list | tuple | np.ndarray) else ""
