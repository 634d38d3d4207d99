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
import pyarrow as pa
import pytest

from detector.errors import DetectorError
from detector.features.coreporting import (
    _factorize,
    _factorize_partitioned,
    _hash_strings,
    _parts,
    _weights,
    _windows,
    co_reporting_edges_csv,
)
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


def _write_toolkit_csv(notices: pd.DataFrame, path: Path) -> Path:
    """Notices with a reporter in the toolkit's CSV layout (reporter = user, target = repost)."""
    events = notices[notices["reporter_id"].fillna("").ne("")]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        for row in events.itertuples(index=False):
            target = "" if pd.isna(row.target) else row.target
            out.writerow([row.notice_id, row.reporter_id, row.reporter_id, target, "", "",
                          int(row.received_at.timestamp()), ""])
    return path


def _toolkit_co_retweet(notices: pd.DataFrame, window: int, min_edge_weight: int, workdir: Path) -> pd.DataFrame:
    """The co_retweet_network table the real toolkit CLI computes (reporter = user, target = repost)."""
    path = _write_toolkit_csv(notices, workdir / "events.csv")
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


def _reported_notices(seed: int) -> pd.DataFrame:
    """Planted rings, plus what a real log holds: repeated ids, rows out of time order."""
    notices = planted_reports(seed)
    rng = np.random.default_rng(seed)
    repeated = notices.sample(60, random_state=seed).assign(reporter_id="late_dup")  # same ids, later rows
    notices.loc[rng.choice(len(notices), 30, replace=False), "notice_id"] = "shared-id"
    return pd.concat([notices, repeated], ignore_index=True).sample(frac=1.0, random_state=seed)


def test_edges_from_the_csv_equal_the_edges_from_the_notices_frame(tmp_path):
    notices = _reported_notices(seed=4)
    path = _write_toolkit_csv(notices, tmp_path / "complaints.csv")
    as_read = notices[notices["reporter_id"].fillna("").ne("")].assign(target=lambda f: f["target"].fillna(""))
    for window, min_weight, loops in [(60, 2, False), (60, 1, True), (0, 1, False), (3600, 3, True)]:
        expected = co_reporting_edges(as_read, window, min_edge_weight=min_weight, include_self_loops=loops)
        got = co_reporting_edges_csv(path, window, min_edge_weight=min_weight, include_self_loops=loops)
        pd.testing.assert_frame_equal(got, expected)
        assert len(got) > 20


def test_edges_from_the_csv_equal_the_toolkit_run_on_the_same_file(tmp_path):
    if not COMPUTE_NETWORKS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{COMPUTE_NETWORKS} is missing under CI=true: install the dev extras")
        pytest.skip("coordination-network-toolkit (a dev dependency) is not installed")
    path = _write_toolkit_csv(_reported_notices(seed=5), tmp_path / "complaints.csv")
    db = tmp_path / "toolkit.db"
    for args in (["preprocess", "--format", "csv", str(path)], ["compute", "co_retweet", "--time_window", "60"]):
        subprocess.run([str(COMPUTE_NETWORKS), str(db), *args], check=True, capture_output=True, cwd=tmp_path)
    with sqlite3.connect(db) as con:
        table = pd.read_sql("select user_1 as reporter_a, user_2 as reporter_b, weight from co_retweet_network", con)
    assert _as_set(co_reporting_edges_csv(path, 60, include_self_loops=True)) == _as_set(table)
    without_loops = _as_set(co_reporting_edges_csv(path, 60))
    assert without_loops == _as_set(table[table["reporter_a"] != table["reporter_b"]])
    assert len(without_loops) > 100


def test_csv_rows_without_a_reporter_make_no_edges_and_change_no_other_edge(tmp_path):
    notices = _reported_notices(seed=6)
    # Anonymous complaints on the rings' videos at the rings' times: inside many windows.
    anonymous = notices[notices["reporter_id"].fillna("").str.startswith("ring")].sample(150, random_state=6)
    anonymous = anonymous.assign(reporter_id="", notice_id="anon" + anonymous["notice_id"].astype(str))
    with_anonymous = pd.concat([notices, anonymous], ignore_index=True)  # after: first rows of an id stay first
    path = tmp_path / "complaints.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        for row in with_anonymous.itertuples(index=False):
            out.writerow([row.notice_id, "" if pd.isna(row.reporter_id) else row.reporter_id, "",
                          "" if pd.isna(row.target) else row.target, "", "", int(row.received_at.timestamp()), ""])
    for loops in (False, True):
        got = co_reporting_edges_csv(path, 60, min_edge_weight=1, include_self_loops=loops)
        pd.testing.assert_frame_equal(got, co_reporting_edges(notices, 60, min_edge_weight=1, include_self_loops=loops))
        assert "" not in set(got["reporter_a"]) | set(got["reporter_b"])
    only_anonymous = tmp_path / "anonymous.csv"
    only_anonymous.write_text("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
                              "n1,,,T1,,,100,\nn2,,,T1,,,101,\n", encoding="utf-8")
    assert co_reporting_edges_csv(only_anonymous, 60, min_edge_weight=1, include_self_loops=True).empty


def test_counting_on_any_number_of_threads_gives_the_same_edges():
    notices = planted_reports(seed=7)
    events = notices.dropna(subset=["reporter_id", "target"])
    events = events[events["reporter_id"].ne("")]
    reporter, reporter_ids = pd.factorize(events["reporter_id"])
    target = pd.factorize(events["target"])[0]
    micros = events["received_at"].astype("int64").to_numpy()  # µs: the column is datetime64[us]
    order, lo, hi = _windows(target.astype(np.int64), micros, int(target.max()) + 1, 60_000_000)
    by_window = reporter[order].astype(np.int32)
    results = []
    for workers in (1, 2, 3, 8):
        a, b, w = _weights(by_window, lo, hi, len(reporter_ids), 1, True, workers=workers)
        results.append(sorted(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)))
    assert all(r == results[0] for r in results[1:])
    # and they are the network the frame gives
    named = {(reporter_ids[a], reporter_ids[b], w) for a, b, w in results[0]}
    assert named == _as_set(co_reporting_edges(notices, 60, min_edge_weight=1, include_self_loops=True))
    assert len(named) > 300


def test_factorising_strings_across_chunks_groups_equal_strings_only():
    rng = np.random.default_rng(8)
    # 20,000 distinct strings (short, long, non-ASCII, the empty one), each seen 1-4 times, in
    # several chunks: enough to grow the hash table many times.
    distinct = ([f"u{k}" for k in range(15000)] + [f"youtube:video:v{k:010d}/with/a/longer/tail" for k in range(4998)]
                + ["", "жалоба-ү-投诉"])
    values = rng.choice(np.array(distinct, dtype=object), 50000)
    column = pa.chunked_array([pa.array(list(part), pa.string()) for part in np.array_split(values, 7)])
    offsets, data = _parts(column)
    hashes = _hash_strings(offsets, data)
    expected, _ = pd.factorize(values)
    # one table, and the hash-partitioned tables used for columns of many distinct strings
    for codes, first_row, empty in (_factorize(column), _factorize_partitioned(offsets, data, hashes, 3)):
        assert np.array_equal(pd.factorize(codes)[0], expected)  # the same grouping of rows
        assert np.array_equal(values[first_row[codes]], values)  # each code's first row holds its string
        assert np.all(first_row[codes] <= np.arange(len(values)))
        assert values[first_row[empty]] == ""


def test_a_csv_that_is_not_a_complaint_log_names_the_file(tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
                    "n1,u1,u1,youtube:video:v1,,,yesterday,\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="complaints.csv.*not a complaint log"):
        co_reporting_edges_csv(path, 60)
    with pytest.raises(DetectorError, match="no such file"):
        co_reporting_edges_csv(tmp_path / "missing.csv", 60)
