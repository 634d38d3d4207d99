"""Benchmark: the co-reporting network from a CSV on disk, against coordination-network-toolkit.

Both sides start from the same complaint-log CSV on disk, in the toolkit's CSV layout (message_id,
user_id, username, repost_id, reply_id, message, timestamp, urls; reporter = user, reported
target = repost), and end with the edges:

* the toolkit runs as its CLI does: ``compute_networks DB preprocess --format csv F`` then
  ``compute_networks DB compute co_retweet --time_window 60`` (default --min_edge_weight 2,
  --n_cpus = all cores), into a fresh database each time; its ``co_retweet_network`` table is
  the result;
* ours is ``co_reporting_edges_csv(F, 60, include_self_loops=True)`` called in this process
  (numba kernels compiled and cached beforehand), the read of the file included. One extra
  run in a fresh Python process (imports and compiled-code cache loads included) is reported
  beside it, unpaired.

The two run in ``--pairs`` pairs per size, alternating which goes first, with the load average
recorded around each pair; the speed-up is the median of the per-pair ratios (and best against
best). Identity: our rows equal the toolkit's table row for row, self-loops included (the toolkit
keeps one per reporter), and — the figure that matters for the network — with self-loops left
out on both sides (our default).

Complaint logs over 30 days, in time order as a log lists them: background reporters flagging
videos whose popularity follows Zipf's law, plus rings of 12 accounts flagging one video within
a minute (about 10% of events).

Run:  nice -n 10 .venv/bin/python bench/networks.py [--sizes 1000000 10000000] [--pairs 5 2]
      [--toolkit-max N]  (sizes above N time ours alone, checked against co_reporting_edges)
Writes bench/results/networks.json; the CSVs go to a temporary folder (--keep to keep them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detector.features.coreporting import TOOLKIT_COLUMNS, co_reporting_edges_csv  # noqa: E402
from detector.features.networks import co_reporting_edges  # noqa: E402

COMPUTE_NETWORKS = Path(sys.executable).parent / "compute_networks"
WINDOW = 60
EPOCH = 1_714_521_600  # 2024-05-01T00:00:00Z


def complaint_log(n: int, seed: int = 0) -> pa.Table:
    """About n complaints in the toolkit's layout, time-ordered; ~10% from rings of 12 accounts."""
    rng = np.random.default_rng(seed)
    span = 30 * 86400
    n_targets = max(50, n // 200)
    popularity = 1.0 / np.arange(1, n_targets + 1) ** 0.9
    popularity /= popularity.sum()
    n_ring = n // 10
    n_background = n - n_ring
    reporter = np.char.add("u", rng.integers(0, max(100, n // 5), n_background).astype(str))
    target = rng.choice(n_targets, n_background, p=popularity)
    seconds = rng.integers(0, span, n_background)
    # Waves: a ring picks a video and a minute; each of its 12 members joins with probability 3/4.
    waves = n_ring // 9 + 12
    ring = rng.integers(0, max(2, n // 20000), waves)
    wave_target = rng.choice(n_targets, waves, p=popularity)
    wave_start = rng.integers(0, span, waves)
    joins = rng.random(waves * 12) < 0.75
    wave = np.repeat(np.arange(waves), 12)[joins][:n_ring]
    member = np.tile(np.arange(12), waves)[joins][:n_ring]
    ring_name = np.char.add(np.char.add(np.char.add("ring", ring[wave].astype(str)), "_"), member.astype(str))
    users = np.concatenate([reporter, ring_name])
    targets = np.concatenate([target, wave_target[wave]])
    times = np.concatenate([seconds, wave_start[wave] + rng.integers(0, 60, wave.size)]) + EPOCH
    order = np.argsort(times, kind="stable")
    users, targets, times = users[order].astype(object), targets[order], times[order]
    ids = np.char.add("n", np.arange(len(times)).astype(str)).astype(object)
    videos = np.char.add("youtube:video:v", np.char.zfill(targets.astype(str), 10)).astype(object)
    empty = pa.nulls(len(times), pa.string()).fill_null("")
    return pa.table(dict(zip(TOOLKIT_COLUMNS, [ids, users, users, videos, empty, empty, times, empty],
                             strict=True)))


def run_toolkit(path: Path, timeout: float) -> tuple[float, dict, set]:
    """Seconds from the CSV on disk to the toolkit's co_retweet_network table, and the table."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        db = Path(tmp) / "toolkit.db"
        began = time.perf_counter()
        subprocess.run([str(COMPUTE_NETWORKS), str(db), "preprocess", "--format", "csv", str(path)],
                       check=True, capture_output=True, timeout=timeout, cwd=tmp)
        preprocessed = time.perf_counter()
        subprocess.run([str(COMPUTE_NETWORKS), str(db), "compute", "co_retweet", "--time_window", str(WINDOW)],
                       check=True, capture_output=True, timeout=timeout, cwd=tmp)
        ended = time.perf_counter()
        with sqlite3.connect(db) as con:
            rows = set(con.execute("select user_1, user_2, weight from co_retweet_network"))
    return ended - began, {"preprocess": preprocessed - began, "compute": ended - preprocessed}, rows


def run_ours(path: Path):
    began = time.perf_counter()
    edges = co_reporting_edges_csv(path, WINDOW, include_self_loops=True)
    return time.perf_counter() - began, edges


def run_ours_cold(path: Path) -> float:
    """Seconds for a fresh Python process to import, read the CSV and compute the edges."""
    code = ("import sys; from detector.features.coreporting import co_reporting_edges_csv as f; "
            f"f(sys.argv[1], {WINDOW}, include_self_loops=True)")
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)
    return time.perf_counter() - began


def as_rows(edges) -> set:
    return set(zip(edges["reporter_a"], edges["reporter_b"], edges["weight"].astype(int).tolist(), strict=True))


def measure_ours_only(path: Path, table: pa.Table, runs: int) -> dict:
    """Ours alone (sizes above --toolkit-max), its rows checked against co_reporting_edges on the frame."""
    times, edges = [], None
    for _ in range(runs):
        seconds, edges = run_ours(path)
        times.append(seconds)
        print(f"  n={table.num_rows:,} ours {seconds:.3f} s, load {os.getloadavg()[0]:.2f}", flush=True)
    frame = pd.DataFrame({"notice_id": table.column("message_id").to_numpy(zero_copy_only=False),
                          "reporter_id": table.column("user_id").to_numpy(zero_copy_only=False),
                          "target": table.column("repost_id").to_numpy(zero_copy_only=False),
                          "received_at": pd.to_datetime(table.column("timestamp").to_numpy(), unit="s", utc=True)})
    expected = co_reporting_edges(frame, WINDOW, include_self_loops=True)
    return {"events": table.num_rows, "csv_mib": round(path.stat().st_size / 2**20, 1),
            "reporters": pc.count_distinct(table.column("user_id")).as_py(), "runs": runs,
            "ours_seconds": [round(x, 3) for x in times], "toolkit": "not run (above --toolkit-max)",
            "ours_cold_process_seconds": round(run_ours_cold(path), 2), "load_average_1min": os.getloadavg()[0],
            "rows_with_self_loops": len(edges), "identical_to_frame_path": bool(edges.equals(expected))}


def measure(n: int, pairs: int, folder: Path, timeout: float, seed: int, toolkit_max: int) -> dict:
    path = folder / f"complaints_{n}.csv"
    table = complaint_log(n, seed)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    run_ours(path)  # compile or load the kernels once, outside the timings
    if n > toolkit_max:
        return measure_ours_only(path, table, pairs)
    ours_s, theirs_s, steps, loads = [], [], [], []
    ours = theirs = None
    for pair in range(pairs):
        load_before = os.getloadavg()[0]
        if pair % 2 == 0:
            (a, ours), (b, step, theirs) = run_ours(path), run_toolkit(path, timeout)
        else:
            (b, step, theirs), (a, ours) = run_toolkit(path, timeout), run_ours(path)
        loads.append([round(load_before, 2), round(os.getloadavg()[0], 2)])
        ours_s.append(a)
        theirs_s.append(b)
        steps.append({k: round(v, 2) for k, v in step.items()})
        print(f"  n={n:,} pair {pair + 1}: ours {a:.3f} s, toolkit {b:.1f} s ({b / a:.0f}x), "
              f"load {loads[-1]}", flush=True)
    cold = run_ours_cold(path)
    with_loops = as_rows(ours)
    theirs_no_loops = {row for row in theirs if row[0] != row[1]}
    ours_no_loops = as_rows(co_reporting_edges_csv(path, WINDOW))
    ratios = [b / a for a, b in zip(ours_s, theirs_s, strict=True)]
    return {
        "events": table.num_rows, "csv_mib": round(path.stat().st_size / 2**20, 1),
        "reporters": pc.count_distinct(table.column("user_id")).as_py(),
        "pairs": pairs, "ours_seconds": [round(x, 3) for x in ours_s],
        "toolkit_seconds": [round(x, 2) for x in theirs_s], "toolkit_steps": steps,
        "ours_cold_process_seconds": round(cold, 2),
        "speedup_median": round(statistics.median(ratios), 1),
        "speedup_best": round(min(theirs_s) / min(ours_s), 1),
        "speedup_range": [round(min(ratios), 1), round(max(ratios), 1)],
        "load_average_1min": loads,
        "rows_with_self_loops": len(theirs), "identical_with_self_loops": with_loops == theirs,
        "rows_without_self_loops": len(theirs_no_loops),
        "identical_without_self_loops": ours_no_loops == theirs_no_loops,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--pairs", type=int, nargs="+", default=[5, 2], help="pairs per size (last repeats)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per toolkit step")
    parser.add_argument("--toolkit-max", type=int, default=10**7, help="larger sizes run ours only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the CSVs here and keep them")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "networks.json")
    args = parser.parse_args()
    if not COMPUTE_NETWORKS.exists():
        sys.exit(f"{COMPUTE_NETWORKS} is missing: install the dev extras (coordination-network-toolkit)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for index, n in enumerate(args.sizes):
            pairs = args.pairs[min(index, len(args.pairs) - 1)]
            row = measure(n, pairs, folder, args.timeout, args.seed, args.toolkit_max)
            results.append(row)
            print(json.dumps(row), flush=True)
            _write(args, results)  # after each size: a long run interrupted keeps what it measured
    print(f"\n{'events':>10} {'ours s (median)':>16} {'toolkit s (median)':>19} {'speed-up median':>16} "
          f"{'range':>12} {'identical (loops / no loops)':>29}")
    for r in (r for r in results if "speedup_median" in r):
        print(f"{r['events']:>10,} {statistics.median(r['ours_seconds']):>16.3f} "
              f"{statistics.median(r['toolkit_seconds']):>19.1f} {r['speedup_median']:>15.0f}x "
              f"{r['speedup_range'][0]:>5.0f}-{r['speedup_range'][1]:.0f}x "
              f"{str(r['identical_with_self_loops']):>14} / {r['identical_without_self_loops']}")
    print(f"wrote {args.out}")


def _write(args, results: list[dict]) -> None:
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"python": platform.python_version(), "cores": 2, "ram_gib": 24,
                                                "shared": "with other jobs; see load_average_1min"},
                                    "window_seconds": WINDOW, "seed": args.seed, "results": results},
                                   indent=2) + "\n")


if __name__ == "__main__":
    main()
