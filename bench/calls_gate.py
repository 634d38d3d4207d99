"""Benchmark: microseconds per post of the calls step's chatter gate (:func:`gate_cues`), by post length.

The gate is the cheap exact test that settles the posts that cannot be calls or boasts (issue #13:
at most 5 µs per post of 150 characters, one core). Posts are the real everyday posts of
``bench/data/everyday_posts.csv.gz`` (sources and licences in its SOURCES.md), grouped by length in
characters; each group is repeated (the same posts, in order) up to ``--posts`` posts so that every
group is timed on as many posts. *Chatter* is the posts that pass neither gate, the gate's common
case; *all* keeps the 2–3 % that pass one (the gate then also normalises them and runs the gate
regexes on them, work the model's candidates need anyway).

With ``--baseline DIR`` (another source tree, e.g. ``git archive main | tar -x -C DIR``), each tree
runs in its own child process in the order baseline, current, current, baseline, on the same posts;
the gates' outputs (which posts pass which gate) must be the same. Clock: ``time.process_time`` of
the child (CPU time, which other processes on a shared machine inflate less than the wall clock),
best of ``--repeats``.

Run:  nice -n 10 .venv/bin/python bench/calls_gate.py [--posts 20000] [--repeats 5] [--baseline DIR]
Writes bench/results/calls_gate.json and prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
RESULTS = HERE.parent / "results" / "calls_gate.json"
EVERYDAY = HERE.parent / "data" / "everyday_posts.csv.gz"
# Length groups in characters: [low, high).
GROUPS = ((0, 100), (100, 200), (120, 180), (200, 400), (400, 100_000))


def _everyday() -> list[str]:
    import pandas as pd

    return pd.read_csv(EVERYDAY, dtype=str, keep_default_na=False)["text"].tolist()


def workloads(posts: int) -> dict[str, list[str]]:
    """The posts timed, by name: every group of chatter and of all posts, repeated to ``posts``."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from detector.features.calls import gate_cues

    texts = _everyday()
    reporting, removal = gate_cues(texts)
    quiet = ~(reporting | removal)
    lengths = np.array([len(t) for t in texts])
    loads = {}
    for name, keep in (("chatter", quiet), ("all", np.ones(len(texts), dtype=bool))):
        for low, high in GROUPS:
            chosen = [texts[i] for i in np.flatnonzero(keep & (lengths >= low) & (lengths < high))]
            loads[f"{name}, {low}–{high if high < 100_000 else '…'} chars"] = (chosen * (posts // len(chosen) + 1))[:posts]
    return loads


def measure(loads: dict[str, list[str]], repeats: int) -> dict:
    from detector.features.calls import gate_cues

    gate_cues(_everyday()[:500])   # the indexes and tables built once, outside the timings
    rows = {}
    for name, texts in loads.items():
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            reporting, removal = gate_cues(texts)
            best = min(best, time.process_time() - start)
        digest = hashlib.sha256(reporting.tobytes() + removal.tobytes()).hexdigest()
        rows[name] = {"n": len(texts), "mean_chars": sum(map(len, texts)) / len(texts),
                      "passing": float((reporting | removal).mean()), "us_per_post": best / len(texts) * 1e6,
                      "output_sha256": digest, "load": os.getloadavg()[0]}
        print(tree_label(), name, f"{rows[name]['us_per_post']:.2f} µs/post", flush=True, file=sys.stderr)
    return rows


def tree_label() -> str:
    import detector

    return str(Path(detector.__file__).resolve().parents[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", help="another source tree to measure on the same posts")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        sys.path.insert(0, args.src)
        loads = json.loads(Path(args.child).read_text(encoding="utf-8"))
        Path(args.out).write_text(json.dumps(measure(loads, args.repeats)), encoding="utf-8")
        return

    loads = workloads(args.posts)
    trees = {"current": str(ROOT)} | ({"baseline": str(Path(args.baseline).resolve())} if args.baseline else {})
    order = ["baseline", "current", "current", "baseline"] if args.baseline else ["current", "current"]
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        loads_path = os.path.join(tmp, "loads.json")
        Path(loads_path).write_text(json.dumps(loads), encoding="utf-8")
        for k, name in enumerate(order):
            out = os.path.join(tmp, f"{k}.json")
            subprocess.run([sys.executable, str(HERE), "--child", loads_path, "--src", trees[name],
                            "--repeats", str(args.repeats), "--out", out], check=True)
            runs[name].append(json.loads(Path(out).read_text(encoding="utf-8")))
    load_after = os.getloadavg()

    table = []
    for name in loads:
        current = [run[name] for run in runs["current"]]
        row = {"posts": name, "n": current[0]["n"], "mean_chars": current[0]["mean_chars"],
               "passing": current[0]["passing"], "us_per_post": min(r["us_per_post"] for r in current),
               "loads": [r["load"] for r in current]}
        if args.baseline:
            base = [run[name] for run in runs["baseline"]]
            row["us_per_post_baseline"] = min(r["us_per_post"] for r in base)
            row["same_output_as_baseline"] = len({r["output_sha256"] for r in base + current}) == 1
        table.append(row)
    result = {"rows": table, "order": order, "baseline": args.baseline,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
              "load_average_before": load_before, "load_average_after": load_after,
              "command": "nice -n 10 .venv/bin/python bench/calls_gate.py " + " ".join(sys.argv[1:]),
              "clock": "time.process_time of each child, best of repeats"}
    Path(args.results).parent.mkdir(exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n| posts | mean chars | passing a gate | µs/post baseline | µs/post | µs per 150 chars | same output |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in table:
        base = r.get("us_per_post_baseline")
        print(f"| {r['posts']} | {r['mean_chars']:.0f} | {r['passing']:.1%} | "
              + (f"{base:.2f} | " if base is not None else "– | ")
              + f"**{r['us_per_post']:.2f}** | {r['us_per_post'] / r['mean_chars'] * 150:.2f} | "
              + ("yes |" if r.get("same_output_as_baseline") else "– |" if base is None else "**no** |"))
    print(f"\nload average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
