"""Who moves together: forward chains, co-posting chats and co-reporting accounts.

Three networks, each a pure function of the case's frames:

* :func:`forward_edges` — Telegram forwards, origin → forwarding chat.
* :func:`coposting_edges` — chats that post members of the same copy cluster (or name the same
  call target) within minutes of each other.
* :func:`co_reporting_edges` — reporters who flag the same target within seconds of each other,
  edge for edge and weight for weight the ``co_retweet`` network of the Coordination Network
  Toolkit (Graham et al.), computed vectorised instead of by a SQLite self-join.

References
----------
T. Graham, A. Bruns, D. Angus et al., "Coordination Network Toolkit", QUT Digital Media
Research Centre, 2020-2023 (coordination-network-toolkit 1.5.2 on PyPI).
V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of communities in
large networks", J. Stat. Mech. (2008) P10008 (Louvain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.features.coreporting import edge_weights

# Window expansion is done in slices of at most this many (event, neighbour) pairs, so a dense
# burst cannot allocate more than a few hundred MB at once.
_PAIRS_PER_SLICE = 1 << 23


def _utc_microseconds(times: pd.Series) -> np.ndarray:
    """int64 microseconds since the epoch of a UTC datetime column (exact, no float rounding)."""
    return pd.to_datetime(times, utc=True).astype("datetime64[us, UTC]").array.asi8.copy()


def _present(values: pd.Series) -> pd.Series:
    """True where a string column holds a non-empty value."""
    return values.notna() & values.ne("")


def _sorted_windows(group: np.ndarray, times: np.ndarray, before: int, after: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort rows by (group, time) and find each row's window.

    Returns (order, lo, hi): after ``order``, row i's window is rows [lo[i], hi[i]), those of the
    same group with ``time[i] - before <= t <= time[i] + after`` (both ends inclusive).

    (group, time) is packed into one int64 key whose groups are further apart than any window, so
    one ``searchsorted`` per bound finds every window; when that key would overflow, times are
    first replaced by their rank among the distinct times (bounds map to ranks exactly).
    """
    group = group.astype(np.int64)
    times = times - times.min()
    stride = int(times.max()) + before + after + 1
    n_groups = int(group.max()) + 1
    if n_groups * stride < 2**62:
        key = group * stride + times
        order = np.argsort(key)  # ties may come in any order: windows and counts do not depend on it
        key = key[order]
        return order, np.searchsorted(key, key - before, "left"), np.searchsorted(key, key + after, "right")
    distinct = np.sort(times)
    distinct = distinct[np.r_[True, distinct[1:] != distinct[:-1]]]
    stride = len(distinct) + 1
    key = group * stride + np.searchsorted(distinct, times)
    order = np.argsort(key)
    key, group, times = key[order], group[order], times[order]
    first = np.searchsorted(distinct, times - before, side="left")
    past_last = np.searchsorted(distinct, times + after, side="right")
    return (order, np.searchsorted(key, group * stride + first, side="left"),
            np.searchsorted(key, group * stride + past_last, side="left"))


def _window_pairs(lo: np.ndarray, hi: np.ndarray):
    """Yield (i, j) index arrays for every j in [lo[i], hi[i]), in bounded slices."""
    counts = hi - lo
    ends = np.cumsum(counts)
    start = 0
    n = len(lo)
    while start < n:
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + _PAIRS_PER_SLICE, side="right"))
        stop = max(stop, start + 1)  # a single huge window still gets its own slice
        rows = np.arange(start, stop)
        c = counts[start:stop]
        i = np.repeat(rows, c)
        offsets = np.arange(len(i)) - np.repeat(np.cumsum(c) - c, c)
        j = np.repeat(lo[start:stop], c) + offsets
        yield i, j
        start = stop


# --------------------------------------------------------------------------- forwards

def forward_edges(posts: pd.DataFrame) -> pd.DataFrame:
    """Forward chains: which origin each chat forwarded from, how often, and since when.

    Parameters
    ----------
    posts : DataFrame with ``chat``, ``posted_at`` (UTC), ``forwarded_from`` (display name of the
        original channel or sender; Telegram Desktop exports give only this) and
        ``forwarded_from_id`` (the origin's id, when a live collection knows it).

    Returns
    -------
    DataFrame[source, source_name, chat, posts, first_at], one row per (origin, forwarding chat),
    most posts first. ``source`` is the origin's id when known, else its display name. A name
    seen alongside exactly one id anywhere in ``posts`` is resolved to that id, so the same
    origin collected once live and once from a Desktop export is one node, not two; an
    ambiguous name (two channels with one title) stays a name.
    """
    columns = ["source", "source_name", "chat", "posts", "first_at"]
    has_name, has_id = _present(posts["forwarded_from"]), _present(posts["forwarded_from_id"])
    fwd = posts.loc[has_name | has_id, ["chat", "posted_at", "forwarded_from", "forwarded_from_id"]]
    if fwd.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns}).astype(
            {"posts": "int64", "first_at": "datetime64[us, UTC]"})
    named_ids = (fwd.dropna(subset=["forwarded_from", "forwarded_from_id"])
                 .groupby("forwarded_from")["forwarded_from_id"].unique())
    unambiguous = {name: ids[0] for name, ids in named_ids.items() if len(ids) == 1}
    # object dtype: with no unambiguous name the map is all-NaN float, which fillna would upcast
    resolved = fwd["forwarded_from"].map(unambiguous).astype(object)
    fwd = fwd.assign(source=fwd["forwarded_from_id"].where(has_id.loc[fwd.index],
                                                           resolved.fillna(fwd["forwarded_from"])))
    names = (fwd.dropna(subset=["forwarded_from"]).groupby("source")["forwarded_from"]
             .agg(lambda s: s.value_counts().sort_index().idxmax()))
    out = (fwd.groupby(["source", "chat"], as_index=False)
           .agg(posts=("chat", "size"), first_at=("posted_at", "min")))
    out["source_name"] = out["source"].map(names)
    out = out.sort_values(["posts", "first_at", "source", "chat"], ascending=[False, True, True, True])
    return out[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- co-posting

def target_groups(posts: pd.DataFrame) -> pd.DataFrame:
    """Posts grouped by the canonical targets they name, in the shape :func:`coposting_edges` takes.

    Parameters
    ----------
    posts : DataFrame with ``post_id``, ``chat``, ``posted_at`` and ``targets`` (list of canonical ids),
        typically the posts that are calls to report.

    Returns
    -------
    DataFrame[cluster_id, post_id, chat, posted_at], one row per (post, target); ``cluster_id`` is the
    target id.
    """
    rows = posts[["post_id", "chat", "posted_at", "targets"]].explode("targets")
    rows = rows.dropna(subset=["targets"]).rename(columns={"targets": "cluster_id"})
    return rows[["cluster_id", "post_id", "chat", "posted_at"]].reset_index(drop=True)


def coposting_edges(clusters: pd.DataFrame, window: str | pd.Timedelta = "30min") -> pd.DataFrame:
    """Pairs of chats that posted members of the same cluster within ``window`` of each other.

    Parameters
    ----------
    clusters : DataFrame with ``cluster_id``, ``chat`` and ``posted_at`` (UTC): copy clusters from
        :func:`detector.features.copies.copy_clusters`, or :func:`target_groups`.
    window : the largest gap between the two chats' posts (inclusive).

    Returns
    -------
    DataFrame[chat_a, chat_b, weight, clusters, first_at] with ``chat_a < chat_b``: ``weight`` is the
    number of distinct clusters in which the two chats co-posted (a chat that posts one call ten times
    does not make ten edges), ``clusters`` their sorted ids, ``first_at`` the earlier post of the
    earliest co-posting.
    """
    columns = ["chat_a", "chat_b", "weight", "clusters", "first_at"]
    frame = clusters.dropna(subset=["cluster_id", "chat", "posted_at"])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    width = int(pd.Timedelta(window) / pd.Timedelta(microseconds=1))
    group, group_ids = pd.factorize(frame["cluster_id"], sort=True)
    chat, chat_ids = pd.factorize(frame["chat"], sort=True)
    # Only forward windows: each unordered pair of posts is seen once, from its earlier post.
    order, lo, hi = _sorted_windows(group, _utc_microseconds(frame["posted_at"]), 0, width)
    group, chat, times = group[order], chat[order], _utc_microseconds(frame["posted_at"])[order]
    found = []
    for i, j in _window_pairs(lo, hi):
        keep = chat[i] != chat[j]
        i, j = i[keep], j[keep]
        found.append(pd.DataFrame({"group": group[i], "a": np.minimum(chat[i], chat[j]),
                                   "b": np.maximum(chat[i], chat[j]), "at": np.minimum(times[i], times[j])}))
    pairs = pd.concat(found, ignore_index=True)
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    per_cluster = pairs.groupby(["a", "b", "group"], as_index=False)["at"].min()
    edges = per_cluster.groupby(["a", "b"], as_index=False).agg(
        weight=("group", "size"), clusters=("group", lambda g: [group_ids[k] for k in sorted(g)]),
        first_at=("at", "min"))
    out = pd.DataFrame({"chat_a": chat_ids[edges["a"]], "chat_b": chat_ids[edges["b"]],
                        "weight": edges["weight"].astype("int64"), "clusters": edges["clusters"],
                        "first_at": pd.to_datetime(edges["first_at"], unit="us", utc=True)})
    return out.sort_values(["weight", "chat_a", "chat_b"], ascending=[False, True, True],
                           ignore_index=True)


def co_reporting_edges(notices: pd.DataFrame, window_seconds: float, min_edge_weight: int = 2,
                       include_self_loops: bool = False) -> pd.DataFrame:
    """Reporters who flag the same target within ``window_seconds`` of each other.

    The network is the Coordination Network Toolkit's ``co_retweet`` network (1.5.2) with the
    reporter as the user and the target as the reposted message, reproduced exactly:

    * an event is a notice with a ``reporter_id`` and a ``target`` (others are skipped, as the
      toolkit never joins a null ``repost_id``); a repeated ``notice_id`` counts once, as its first
      row (the toolkit's ``insert or ignore``);
    * event ``e2`` is co-reporting with ``e1`` when they name the same target and
      ``t1 - W <= t2 <= t1 + W`` — the window is **inclusive** at both ends (SQL ``between``);
    * the edge is **directed**: ``weight(a, b)`` is the number of *distinct reports by a* that have
      at least one report by b within the window (``count(distinct e_1.message_id)``), so
      ``weight(a, b)`` and ``weight(b, a)`` can differ — three reports by a around one report by b
      give a→b 3 and b→a 1;
    * edges with ``weight < min_edge_weight`` are dropped (the toolkit's default is 2);
    * every event matches itself, so the toolkit's table holds a self-loop per reporter with
      weight = their number of reports; like the toolkit's exports, self-loops are left out unless
      ``include_self_loops``.

    The toolkit compares float seconds; here times are exact integer microseconds, so the two agree
    whenever times are whole seconds (and differ at most at a boundary within float rounding).

    Parameters
    ----------
    notices : DataFrame with ``notice_id``, ``reporter_id``, ``target`` (canonical id) and
        ``received_at`` (UTC).
    window_seconds : W, in seconds (the toolkit's ``--time_window``).
    min_edge_weight : the toolkit's ``--min_edge_weight``.
    include_self_loops : keep (a, a) rows, as the toolkit's ``co_retweet_network`` table does.

    Returns
    -------
    DataFrame[reporter_a, reporter_b, weight] sorted by weight (descending), then ids.

    Notes
    -----
    Events are grouped by target and ordered by time; each event's window is a contiguous run;
    every reporter's (report, other reporter) pairs are de-duplicated and counted, compiled
    (:func:`detector.features.coreporting.edge_weights`). Cost is linear in the number of (event,
    neighbour) pairs, the same pairs the toolkit's join visits. From a CSV on disk, see
    :func:`detector.features.coreporting.co_reporting_edges_csv`.
    """
    is_event = _present(notices["reporter_id"]) & _present(notices["target"]) & notices["received_at"].notna()
    if "notice_id" in notices:
        is_event &= ~notices["notice_id"].duplicated(keep="first")
    events = notices.loc[is_event, ["reporter_id", "target", "received_at"]]
    if events.empty:
        return pd.DataFrame({"reporter_a": pd.Series(dtype="object"),
                             "reporter_b": pd.Series(dtype="object"),
                             "weight": pd.Series(dtype="int64")})
    # Codes in id order, so the output can be sorted on integers rather than strings.
    reporter, reporter_ids = pd.factorize(events["reporter_id"], sort=True)
    target = pd.factorize(events["target"])[0]
    a, b, weight = edge_weights(target, _utc_microseconds(events["received_at"]), reporter, len(reporter_ids),
                                int(round(window_seconds * 1_000_000)), min_edge_weight, include_self_loops)
    order = np.lexsort((b, a, -weight))
    return pd.DataFrame({"reporter_a": np.asarray(reporter_ids)[a[order]],
                         "reporter_b": np.asarray(reporter_ids)[b[order]], "weight": weight[order]})
