"""Forward chains, co-posting communities and the co-reporting network (checked against the toolkit)."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector.features.networks import (
    co_reporting_edges,
    coposting_edges,
    forward_edges,
    target_groups,
)

COMPUTE_NETWORKS = Path(sys.executable).parent / "compute_networks"
T0 = pd.Timestamp("2024-05-01", tz="UTC")


def _notices(rows: list[tuple[str | None, str | None, int]]) -> pd.DataFrame:
    """Notices from (reporter_id, target, seconds after T0)."""
    return pd.DataFrame({
        "notice_id": [f"n{k}" for k in range(len(rows))],
        "reporter_id": [r for r, _, _ in rows],
        "target": [t for _, t, _ in rows],
        "received_at": (T0 + pd.to_timedelta([s for _, _, s in rows], unit="s")).astype("datetime64[us, UTC]"),
    })


def planted_reports(seed: int = 0) -> pd.DataFrame:
    """A few thousand complaints: background reporters plus three planted rings reporting together."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(2500):  # background: 300 reporters, 40 videos, three days
        rows.append((f"r{rng.integers(300)}", f"youtube:video:v{rng.integers(40):010d}", int(rng.integers(0, 3 * 86400))))
    for ring in range(3):  # rings of 7 accounts, each wave within 45 s
        members = [f"ring{ring}_{m}" for m in range(7)]
        for _ in range(20):
            target = f"youtube:video:v{rng.integers(40):010d}"
            start = int(rng.integers(0, 3 * 86400))
            for m in members:
                if rng.random() < 0.8:
                    rows.append((m, target, start + int(rng.integers(0, 45))))
                    if rng.random() < 0.2:  # a second report of the same video by the same account
                        rows.append((m, target, start + int(rng.integers(0, 45))))
    # Exactly-at-the-window and one-second-past pairs, to pin down inclusiveness.
    rows += [("edge_a", "youtube:video:edge000000", 1000), ("edge_b", "youtube:video:edge000000", 1060),
             ("edge_a", "youtube:video:edge000001", 5000), ("edge_b", "youtube:video:edge000001", 5060),
             ("edge_a", "youtube:video:edge000002", 9000), ("edge_c", "youtube:video:edge000002", 9061),
             ("edge_a", "youtube:video:edge000003", 9500), ("edge_c", "youtube:video:edge000003", 9561)]
    # Complaints without a known reporter or target are not events.
    rows += [(None, "youtube:video:v0000000001", 100), ("r1", None, 100), ("", "youtube:video:v0000000001", 100)]
    return _notices(rows)


def _toolkit_co_retweet(notices: pd.DataFrame, window: int, min_edge_weight: int, workdir: Path) -> pd.DataFrame:
    """The co_retweet_network table the real toolkit CLI computes (reporter = user, target = repost)."""
    events = notices[notices["reporter_id"].fillna("").ne("")]
    path = workdir / "events.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        for row in events.itertuples(index=False):
            target = "" if pd.isna(row.target) else row.target
            out.writerow([row.notice_id, row.reporter_id, row.reporter_id, target, "", "",
                          int(row.received_at.timestamp()), ""])
    db = workdir / "toolkit.db"
    for args in (["preprocess", "--format", "csv", str(path)],
                 ["compute", "co_retweet", "--time_window", str(window), "--min_edge_weight", str(min_edge_weight),
                  "--n_cpus", "2"]):
        subprocess.run([str(COMPUTE_NETWORKS), str(db), *args], check=True, capture_output=True, cwd=workdir)
    with sqlite3.connect(db) as con:
        table = pd.read_sql("select user_1 as reporter_a, user_2 as reporter_b, weight from co_retweet_network", con)
    return table


def _as_set(edges: pd.DataFrame) -> set[tuple[str, str, int]]:
    return {(str(a), str(b), int(w)) for a, b, w in edges[["reporter_a", "reporter_b", "weight"]].itertuples(index=False)}


# --------------------------------------------------------------------------- co-reporting

def test_co_reporting_edges_equal_the_toolkit_co_retweet_network(tmp_path):
    if not COMPUTE_NETWORKS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{COMPUTE_NETWORKS} is missing under CI=true: install the dev extras")
        pytest.skip("coordination-network-toolkit (a dev dependency) is not installed")
    notices = planted_reports(seed=1)
    for min_weight in (2, 1):
        work = tmp_path / f"min{min_weight}"
        work.mkdir()
        table = _toolkit_co_retweet(notices, 60, min_weight, work)
        ours_with_loops = co_reporting_edges(notices, 60, min_edge_weight=min_weight, include_self_loops=True)
        assert _as_set(ours_with_loops) == _as_set(table)
        ours = co_reporting_edges(notices, 60, min_edge_weight=min_weight)
        assert _as_set(ours) == _as_set(table[table["reporter_a"] != table["reporter_b"]])
        assert len(ours) > 100  # the comparison covered a real network, not two empty tables


def test_window_is_inclusive_and_weight_counts_distinct_reports_of_the_first_reporter():
    notices = _notices([("a", "T1", 100), ("b", "T1", 110), ("c", "T1", 111), ("a", "T2", 200),
                        ("b", "T2", 200), ("a", "T1", 105), ("b", "T3", 300), ("b", "T3", 300)])
    edges = co_reporting_edges(notices, 10, min_edge_weight=1)
    weights = {(a, b): w for a, b, w in edges.itertuples(index=False)}
    # a's reports at 100, 105 (T1) and 200 (T2) each have a report by b within ±10 s: 110 is exactly 10 s after 100.
    assert weights[("a", "b")] == 3
    # b's two T3 reports have no partner; its T1 and T2 reports do.
    assert weights[("b", "a")] == 2
    # c at 111 is 11 s after a's 100 (outside) but 6 s after a's 105 (inside).
    assert weights[("a", "c")] == 1 and weights[("c", "a")] == 1
    assert ("a", "a") not in weights
    loops = co_reporting_edges(notices, 10, min_edge_weight=1, include_self_loops=True)
    assert ("b", "b", 4) in _as_set(loops)  # every report matches itself, as in the toolkit's table
    assert set(co_reporting_edges(notices, 10)[["reporter_a", "reporter_b"]].itertuples(index=False, name=None)) == {
        ("a", "b"), ("b", "a")}


def test_edges_do_not_change_when_times_span_a_century_and_thousands_of_targets():
    notices = planted_reports(seed=3)
    # Thousands of singly-reported videos and one complaint from 1970 make (target, time) too wide
    # to pack into one int64, so windows are found through time ranks instead; they add no edge.
    rng = np.random.default_rng(3)
    filler = _notices([(f"x{k}", f"youtube:video:f{k:010d}", int(rng.integers(0, 86400))) for k in range(3000)])
    ancient = _notices([("old", "youtube:video:v0000000001", -int(54 * 365.25 * 86400))])
    filler["notice_id"] = "f" + filler["notice_id"]
    ancient["notice_id"] = "old"
    wide = pd.concat([notices, filler, ancient], ignore_index=True)
    assert _as_set(co_reporting_edges(wide, 60)) == _as_set(co_reporting_edges(notices, 60))


def test_notices_without_reporter_or_target_make_no_edges():
    notices = _notices([(None, "T1", 0), ("a", "T1", 0), ("", "T1", 1), ("b", None, 1), ("a", "T1", 2)])
    assert co_reporting_edges(notices, 10, min_edge_weight=1).empty


def test_planted_rings_are_the_heaviest_co_reporters():
    edges = co_reporting_edges(planted_reports(seed=2), 60, min_edge_weight=5)
    assert len(edges) > 0
    same_ring = [a.split("_")[0] == b.split("_")[0] and a.startswith("ring") for a, b in
                 edges[["reporter_a", "reporter_b"]].itertuples(index=False)]
    assert all(same_ring)
    weights = {(r.reporter_a, r.reporter_b): r.weight for r in edges.itertuples(index=False)}
    assert weights[("ring0_0", "ring0_1")] >= 5


# --------------------------------------------------------------------------- forwards

def test_forward_edges_count_posts_and_first_time_per_origin_and_chat():
    posts = pd.DataFrame({
        "chat": ["g1", "g1", "g2", "g2", "g3", "g3"],
        "posted_at": pd.to_datetime(["2024-05-01T10:00Z", "2024-05-01T09:00Z", "2024-05-01T11:00Z",
                                     "2024-05-01T12:00Z", "2024-05-01T08:00Z", "2024-05-01T08:30Z"], utc=True),
        "forwarded_from": ["Patriots Channel", "Patriots Channel", "Patriots Channel", None, "Other", "Other"],
        "forwarded_from_id": [None, None, "channel1001", None, None, None],
    })
    edges = forward_edges(posts)
    rows = {(r.source, r.chat): (r.posts, r.first_at) for r in edges.itertuples(index=False)}
    # The name seen with exactly one id resolves to it, so g1's Desktop-export forwards join g2's live ones.
    assert rows[("channel1001", "g1")] == (2, pd.Timestamp("2024-05-01T09:00Z"))
    assert rows[("channel1001", "g2")] == (1, pd.Timestamp("2024-05-01T11:00Z"))
    assert rows[("Other", "g3")] == (2, pd.Timestamp("2024-05-01T08:00Z"))
    assert len(edges) == 3  # the post without a forward is not an edge
    assert set(edges.loc[edges["source"] == "channel1001", "source_name"]) == {"Patriots Channel"}


# --------------------------------------------------------------------------- co-posting

def test_coposting_weight_counts_clusters_within_the_window_not_posts():
    clusters = pd.DataFrame({
        "cluster_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3", "c3"],
        "chat": ["x", "y", "y", "x", "x", "y", "x", "y"],
        "posted_at": [T0, T0 + pd.Timedelta(minutes=5), T0 + pd.Timedelta(minutes=6), T0 + pd.Timedelta(minutes=7),
                      T0, T0 + pd.Timedelta(minutes=30), T0, T0 + pd.Timedelta(minutes=31)],
    })
    edges = coposting_edges(clusters, window="30min")
    assert len(edges) == 1
    edge = edges.iloc[0]
    assert (edge["chat_a"], edge["chat_b"], edge["weight"]) == ("x", "y", 2)  # c1 (many posts) once, c2 at exactly 30 min
    assert edge["clusters"] == ["c1", "c2"]
    assert edge["first_at"] == T0


def test_target_groups_make_one_row_per_post_and_target():
    posts = pd.DataFrame({"post_id": ["p1", "p2"], "chat": ["x", "y"], "posted_at": [T0, T0],
                          "targets": [["youtube:video:A", "youtube:video:B"], []]})
    groups = target_groups(posts)
    assert list(groups["cluster_id"]) == ["youtube:video:A", "youtube:video:B"]
    assert list(groups["post_id"]) == ["p1", "p1"]
