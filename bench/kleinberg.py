"""Speed of detector.features.kleinberg against pybursts 0.1.1 (and R's recorded times).

Usage:
    .venv/bin/python bench/kleinberg.py                      # 10^3..10^6 ours, pybursts live to 10^4
    .venv/bin/python bench/kleinberg.py --pybursts-max 100000  # also pybursts at 10^5 (~12 min)

Inputs: the oracle event files in ../shared/oracles/kleinberg at 10^4 and 10^5 (so the rows can
be checked against R and pybursts too), and generated streams elsewhere (Poisson at 1 event/h
with a burst of 40 events in 2 h every 1,000 h; seed 0). Prints a table and writes
bench/results/kleinberg.json.
"""

from __future__ import annotations

import argparse
import json
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
R_SECONDS = {10_000: 51.892}  # first line of r_bursts_1e4_s2_g1.tsv


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


def recorded_pybursts(n_events: int) -> float | None:
    path = ORACLES / "pybursts_1e5_s2_g1.json"
    if n_events == 100_000 and path.exists():
        return float(json.loads(path.read_text())["seconds"])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--pybursts-max", type=int, default=10_000,
                        help="largest size to run pybursts live (it is quadratic: ~700 s at 10^5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kleinberg.json")
    args = parser.parse_args()

    pybursts = load_pybursts()
    rows = []
    for n_events in args.sizes:
        times, source = events_for(n_events, args.seed)
        repeats = 5 if n_events <= 10_000 else (3 if n_events <= 100_000 else 1)
        ours_s, ours = best_seconds(lambda t=times: kleinberg_bursts(t, s=2.0, gamma=1.0), repeats)
        row = {"n_events": int(times.size), "input": source, "ours_seconds": round(ours_s, 6),
               "bursts": int(len(ours)), "max_level": int(ours["level"].max())}
        if n_events <= args.pybursts_max:
            theirs_s, theirs = best_seconds(lambda t=times: pybursts.kleinberg(list(t), s=2, gamma=1), 1)
            theirs = np.array(theirs, dtype=float)
            row.update(pybursts_seconds=round(theirs_s, 3), pybursts_source="live",
                       same_rows=bool(len(theirs) == len(ours)
                                      and np.array_equal(theirs[:, 0] + 1, ours["level"])
                                      and np.allclose(theirs[:, 1:], ours[["start", "end"]], rtol=1e-9, atol=0)))
        elif recorded_pybursts(n_events) is not None:
            recorded = json.loads((ORACLES / "pybursts_1e5_s2_g1.json").read_text())
            expected = np.array(recorded["result"], dtype=float)
            row.update(pybursts_seconds=recorded["seconds"], pybursts_source="recorded in oracle README/JSON",
                       same_rows=bool(len(expected) == len(ours)
                                      and np.array_equal(expected[:, 0], ours["level"])
                                      and np.allclose(expected[:, 1:], ours[["start", "end"]], rtol=1e-9, atol=0)))
        if "pybursts_seconds" in row:
            row["speedup_vs_pybursts"] = round(row["pybursts_seconds"] / ours_s, 1)
        if n_events in R_SECONDS and "oracle" in source:
            row.update(r_seconds_recorded=R_SECONDS[n_events],
                       speedup_vs_r=round(R_SECONDS[n_events] / ours_s, 1))
        rows.append(row)
        print(_format_row(row), flush=True)

    report = {"benchmark": "kleinberg", "s": 2.0, "gamma": 1.0, "python": platform.python_version(),
              "numpy": np.__version__, "machine": "2 cores, 24 GiB", "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def _format_row(row: dict) -> str:
    theirs = (f"{row['pybursts_seconds']:>9.2f} s ({row['pybursts_source'].split()[0]})"
              if "pybursts_seconds" in row else f"{'-':>9}")
    speedup = f"{row['speedup_vs_pybursts']:>8.0f}x" if "speedup_vs_pybursts" in row else f"{'-':>9}"
    same = {True: "same rows", False: "ROWS DIFFER"}.get(row.get("same_rows"), "")
    return (f"n={row['n_events']:>9,}  ours {row['ours_seconds']:>7.3f} s  pybursts {theirs}  {speedup}"
            f"  bursts={row['bursts']:<6} {same}  [{row['input']}]")


if __name__ == "__main__":
    main()
