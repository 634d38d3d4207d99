"""Speed of detector.features.kleinberg against pybursts 0.1.1, live, paired, in one process.

Usage:
    nice -n 10 .venv/bin/python bench/kleinberg.py   # 10^3..10^6 ours, pybursts live to 10^4
    nice -n 10 .venv/bin/python bench/kleinberg.py --sizes 100000 --pybursts-max 100000  # ~5-12 min

Where pybursts runs live, the two run in the same process, in ``--pairs`` pairs whose order
alternates (ours first, then pybursts first, ...): the speed-up is reported as best against best
and as the median of the per-pair ratios, with the load average before and after. Times
recorded elsewhere (pybursts at 10^5 in the oracle) are used only to check rows, never divided.

Inputs: the oracle event files in ../shared/oracles/kleinberg at 10^4 and 10^5 (so the rows can
be checked against R and pybursts too), and generated streams elsewhere (Poisson at 1 event/h
with a burst of 40 events in 2 h every 1,000 h; seed 0). Prints a table and writes
bench/results/kleinberg.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ORACLES = ROOT.parent / "shared" / "oracles" / "kleinberg"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pybursts_live import load_pybursts  # noqa: E402

from detector.features.kleinberg import kleinberg_bursts  # noqa: E402

ORACLE_EVENTS = {10_000: "events_1e4.csv", 100_000: "events_1e5.csv"}


def bursty_stream(n_events: int, seed: int = 0) -> np.ndarray:
    """Poisson background at 1/h plus 40 events within 2 h every 1,000 h; ``n_events`` in all."""
    rng = np.random.default_rng(seed)
    n_bursts = max(1, n_events // 1000)
    starts = rng.uniform(0, n_events, n_bursts)
    burst = (starts[:, None] + rng.uniform(0, 2.0, (n_bursts, 40))).ravel()[: n_events // 25]
    background = rng.uniform(0, n_events, n_events - burst.size)
    return np.unique(np.concatenate([background, burst]))


def events_for(n_events: int, seed: int) -> tuple[np.ndarray, str]:
    name = ORACLE_EVENTS.get(n_events)
    if name and (ORACLES / name).exists():
        return np.loadtxt(ORACLES / name), f"oracle {name}"
    return bursty_stream(n_events, seed), f"generated (seed={seed})"


def best_seconds(run, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best, result


def timed(run) -> tuple[float, object]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def paired_seconds(ours, theirs, pairs: int) -> tuple[list[float], list[float], object, object]:
    """``pairs`` runs of each, alternating which goes first, so load drifts hit both alike."""
    ours_s, theirs_s, ours_rows, their_rows = [], [], None, None
    for pair in range(pairs):
        if pair % 2 == 0:
            (a, ours_rows), (b, their_rows) = timed(ours), timed(theirs)
        else:
            (b, their_rows), (a, ours_rows) = timed(theirs), timed(ours)
        ours_s.append(a)
        theirs_s.append(b)
    return ours_s, theirs_s, ours_rows, their_rows


def same_rows(ours, expected: np.ndarray, level_offset: int) -> bool:
    return bool(len(expected) == len(ours) and np.array_equal(expected[:, 0] + level_offset, ours["level"])
                and np.allclose(expected[:, 1:], ours[["start", "end"]], rtol=1e-9, atol=0))


def recorded_pybursts(n_events: int) -> dict | None:
    path = ORACLES / "pybursts_1e5_s2_g1.json"
    if n_events == 100_000 and path.exists():
        return json.loads(path.read_text())
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--pybursts-max", type=int, default=10_000,
                        help="largest size to run pybursts live (it is quadratic: ~700 s at 10^5)")
    parser.add_argument("--pairs", type=int, default=7, help="paired runs (ours, pybursts) per size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kleinberg.json")
    args = parser.parse_args()

    pybursts = load_pybursts()
    kleinberg_bursts(bursty_stream(100), s=2.0, gamma=1.0)  # load the compiled kernels once
    load_before = os.getloadavg()
    rows = []
    for n_events in args.sizes:
        times, source = events_for(n_events, args.seed)

        def ours(t=times):
            return kleinberg_bursts(t, s=2.0, gamma=1.0)

        row = {"n_events": int(times.size), "input": source}
        if n_events <= args.pybursts_max:
            pairs = args.pairs if n_events <= 10_000 else 1
            ours_s, theirs_s, result, theirs = paired_seconds(
                ours, lambda t=times: pybursts.kleinberg(list(t), s=2, gamma=1), pairs)
            ratios = [b / a for a, b in zip(ours_s, theirs_s, strict=True)]
            row.update(pairs=pairs, ours_seconds=round(min(ours_s), 6),
                       ours_median_seconds=round(float(np.median(ours_s)), 6),
                       pybursts_seconds=round(min(theirs_s), 3),
                       pybursts_median_seconds=round(float(np.median(theirs_s)), 3), pybursts_source="live",
                       speedup_best=round(min(theirs_s) / min(ours_s), 1),
                       speedup_median=round(float(np.median(ratios)), 1),
                       speedup_range=[round(min(ratios), 1), round(max(ratios), 1)],
                       same_rows=same_rows(result, np.array(theirs, dtype=float), 1))
        else:
            repeats = 5 if n_events <= 10_000 else (3 if n_events <= 100_000 else 1)
            ours_best, result = best_seconds(ours, repeats)
            row.update(ours_seconds=round(ours_best, 6))
            recorded = recorded_pybursts(n_events)
            if recorded is not None:  # another machine, another day: rows only, no speed-up
                row.update(pybursts_recorded_seconds=recorded["seconds"],
                           same_rows=same_rows(result, np.array(recorded["result"], dtype=float), 0))
        row.update(bursts=int(len(result)), max_level=int(result["level"].max()))
        rows.append(row)
        print(_format_row(row), flush=True)
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")

    report = {"benchmark": "kleinberg", "s": 2.0, "gamma": 1.0, "python": platform.python_version(),
              "numpy": np.__version__, "machine": "2 cores, 24 GiB, shared",
              "load_average_before": load_before, "load_average_after": load_after, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def _format_row(row: dict) -> str:
    if "pybursts_seconds" in row:
        theirs = (f"pybursts {row['pybursts_seconds']:>7.3f} s best, {row['pybursts_median_seconds']:.3f} median"
                  f"  speed-up {row['speedup_best']:.0f}x best, {row['speedup_median']:.0f}x median"
                  f" ({row['speedup_range'][0]:.0f}-{row['speedup_range'][1]:.0f}x over {row['pairs']} pairs)")
    else:
        theirs = "pybursts not run"
    same = {True: "same rows", False: "ROWS DIFFER"}.get(row.get("same_rows"), "")
    return (f"n={row['n_events']:>9,}  ours {row['ours_seconds']:>8.4f} s  {theirs}"
            f"  bursts={row['bursts']:<6} {same}  [{row['input']}]")


if __name__ == "__main__":
    main()
