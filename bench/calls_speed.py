"""Benchmark: microseconds per post of the calls step on real-length posts, on one core.

Posts are built from real text: the real public posts of ``detector/data/calls/real/*.csv`` (sources
in its SOURCES.md) and the simulator's chatter, per language (ru, kk, zh, en, ug, uk). *Chatter*
posts join texts of one language that pass neither classifier gate (no word for reporting, no claim
of a removal) until a length drawn from a log-normal with median 113 characters (mean about 140,
as the issue measured on real channels), so they are what a channel mostly carries.
*Candidates* are the real posts that pass a gate: every real call and boast, and the real posts that
talk about reporting without being calls (news, victims, quoted calls), as they are.

Measured with ``time.process_time`` (CPU time of the process, which other processes on a shared
machine do not inflate), best of ``--repeats``, through :func:`classify_calls` end to end (one
worker):

* chatter alone and candidates alone, with the prefilter (the default) and without it (every post
  scored and described, the step before the prefilter);
* mixes of chatter with 1 % and 5 % candidates;
* with ``--sizes``, the whole step on chatter with ``--share`` candidates (default 1 %) at those
  numbers of posts (one run each);
* with ``--workers 1,2``, those whole steps again with each number of workers (the default
  parameter ``workers`` = 0 uses one per core), timed by the wall clock and by the CPU time of the
  process and its workers; every number of workers must give the same output.

With ``--baseline DIR`` (another source tree, e.g. ``git worktree add /tmp/main main``), the same
posts are classified by that tree's code in a child process, before and after this tree's own child
(baseline, current, current, baseline), so both are measured in the same run on the same machine;
the outputs of the two are checked to be the same.

Run:  nice -n 10 .venv/bin/python bench/calls_speed.py [--posts 20000] [--repeats 3] [--baseline DIR]
      [--sizes 100000,1000000] [--share 0.01] [--workers 1,2] [--once] [--results FILE]
Writes bench/results/calls_speed.json and prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
RESULTS = HERE.parent / "results" / "calls_speed.json"
LANGUAGES = ("ru", "kk", "zh", "en", "ug", "uk")


def _passes_a_gate(texts: list[str]) -> np.ndarray:
    from detector.features.calls import gate_cues

    reporting, removal = gate_cues(texts)
    return reporting | removal


def text_pools() -> tuple[dict[str, list[str]], list[str]]:
    """Per language, real and simulated texts that pass no gate; and the real posts that pass one."""
    from detector import simulate_text
    from detector.features.calls import read_real

    real = read_real()
    real["lang"] = real["file"].str.split("[._]", regex=True).str[0]
    quiet = {}
    for lang in LANGUAGES:
        texts = list(real.loc[(real["label"] == "other") & (real["lang"] == lang), "text"])
        texts += list(simulate_text.CHATTER.get(lang, []))
        quiet[lang] = [t for t, gate in zip(texts, _passes_a_gate(texts), strict=True) if not gate]
    texts = list(real["text"])
    candidates = [t for t, gate in zip(texts, _passes_a_gate(texts), strict=True) if gate]
    return quiet, candidates


def chatter_posts(n: int, quiet: dict[str, list[str]], seed: int = 0) -> list[str]:
    """``n`` posts of real-length chatter (see the module docstring), none passing a gate."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < n:
        lengths = np.clip(rng.lognormal(np.log(113), 0.6, n), 12, 1500).astype(int)
        batch = []
        for length, lang in zip(lengths, rng.choice(LANGUAGES, n), strict=True):
            pool, text = quiet[lang], ""
            while len(text) < length:
                text = (text + " " + pool[rng.integers(len(pool))]).strip()
            cut = text.rfind(" ", 0, length + 1)
            batch.append(text[:cut] if cut > length // 2 else text[:length])
        out += [t for t, gate in zip(batch, _passes_a_gate(batch), strict=True) if not gate]
    return out[:n]


def _mixed(chatter: list[str], candidates: list[str], share: float, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    k = int(round(share * n))
    mix = chatter[: n - k] + list(rng.choice(candidates, k))
    rng.shuffle(mix)
    return mix


def workloads(posts: int, seed: int, sizes: list[int], share: float = 0.01) -> dict:
    """The posts measured, by name (built once, so every tree classifies the same posts)."""
    quiet, candidates = text_pools()
    chatter = chatter_posts(max([posts, *sizes]), quiet, seed=seed)
    loads = {"chatter": chatter[:posts], "candidates": candidates}
    for mix in (0.01, 0.05):
        loads[f"chatter + {mix:.0%} candidates"] = _mixed(chatter, candidates, mix, posts, seed + 1)
    for size in sizes:
        loads[f"{size} posts (chatter + {share:.1%} candidates)"] = _mixed(chatter, candidates, share, size, seed + 2)
    return loads


def _frame(texts: list[str]):
    import pandas as pd

    return pd.DataFrame({"post_id": [f"p{i}" for i in range(len(texts))], "text": texts})


def _forget_encoder_cache() -> None:
    """The tuned encoder remembers the texts it read (a campaign's copies cost one pass); a repeat
    must not read the previous one's answers."""
    try:
        from detector.features.tuned import tuned_encoder
    except ImportError:      # a tree before the encoder
        return
    tuned_encoder()._cache.clear()


def _timed(posts, repeats: int, prefilter: bool = True):
    from detector.features.calls import classify_calls

    best, out = float("inf"), None
    for _ in range(repeats):
        _forget_encoder_cache()
        start = time.process_time()
        out = classify_calls(posts, workers=1, prefilter=prefilter)
        best = min(best, time.process_time() - start)
    return best / len(posts) * 1e6, out


def _by_workers(posts, workers: list[int]) -> tuple[dict, list]:
    """Wall and CPU seconds (the process and its workers) of the whole step per number of workers."""
    import resource

    from detector.features.calls import classify_calls

    times, outs = {}, []
    for w in workers:
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        outs.append(classify_calls(posts, workers=w))
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
        times[str(w)] = {"wall_s": wall, "cpu_s": cpu, "load": os.getloadavg()[0]}
        print(f"  {len(posts)} posts, {w} worker(s): {times[str(w)]}", flush=True, file=sys.stderr)
    return times, outs


def _summary(out) -> dict:
    """What must be the same whichever tree classified the posts."""
    scored = out["p_call"].notna().to_numpy()
    return {"kind": out["kind"].tolist(), "scored": scored.tolist(),
            "p_call": np.round(out["p_call"].to_numpy()[scored], 12).tolist(),
            "described": [(t, p, lang) for t, p, lang, k in zip(out["targets"], out["requested_policy"], out["language"],
                                                                 out["kind"], strict=True) if k != "other"]}


def measure(loads: dict, repeats: int, plain: bool, workers: list[int] = ()) -> dict:
    """µs per post of every workload (and, with ``plain``, without the prefilter on a sample)."""
    from detector.features.calls import call_model

    call_model()   # fitted once, outside the timings
    sample = [t for texts in loads.values() for t in texts[:200]]
    _timed(_frame(sample), 1)   # and the indexes and tables built once
    rows = {}
    for name, texts in loads.items():
        big = len(texts) > 50_000
        us, out = _timed(_frame(texts), 1 if big else repeats)
        row = {"n": len(texts), "us_per_post": us, "summary": _summary(out),
               "mean_chars": float(np.mean([len(t) for t in texts])),
               "candidates": float(np.mean(_passes_a_gate(texts)))}
        if plain and name in ("chatter", "candidates"):
            # The step before the prefilter: every post scored and described (fewer posts: it is slow).
            row["us_per_post_without_prefilter"] = _timed(_frame(texts[:2000]), 1, prefilter=False)[0]
        if big and workers:
            row["by_workers"], outs = _by_workers(_frame(texts), workers)
            row["same_output_any_workers"] = all(_summary(o) == row["summary"] for o in outs)
        rows[name] = row
        print(name, {k: v for k, v in row.items() if k != "summary"}, flush=True, file=sys.stderr)
    return rows


def _child(tree: str, loads_path: str, repeats: int, plain: bool, out_path: str, workers: str = "") -> None:
    subprocess.run([sys.executable, str(HERE), "--child", loads_path, "--src", tree, "--repeats", str(repeats),
                    "--out", out_path, "--workers", workers, *(["--plain"] if plain else [])], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", help="another source tree to measure on the same posts")
    parser.add_argument("--sizes", default="", help="comma-separated numbers of posts for the whole step")
    parser.add_argument("--once", action="store_true", help="each tree once (baseline, current), not twice")
    parser.add_argument("--share", type=float, default=0.01, help="share of candidates in the --sizes posts")
    parser.add_argument("--workers", default="", help="comma-separated numbers of workers for the --sizes steps")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:   # measure the loads with the code of --src
        sys.path.insert(0, args.src)
        import detector

        print("measuring", Path(detector.__file__).parent, flush=True, file=sys.stderr)
        with open(args.child, "rb") as f:
            loads = pickle.load(f)
        rows = measure(loads, args.repeats, args.plain, [int(w) for w in args.workers.split(",") if w])
        Path(args.out).write_text(json.dumps(rows), encoding="utf-8")
        return

    sys.path.insert(0, str(ROOT))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    loads = workloads(args.posts, args.seed, sizes, args.share)
    trees = {"current": str(ROOT)} | ({"baseline": str(Path(args.baseline).resolve())} if args.baseline else {})
    order = (["baseline", "current"] if args.once else ["baseline", "current", "current", "baseline"]) if args.baseline \
        else ["current"]
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        loads_path = os.path.join(tmp, "loads.pkl")
        with open(loads_path, "wb") as f:
            pickle.dump(loads, f)
        for k, name in enumerate(order):
            out_path = os.path.join(tmp, f"{k}.json")
            _child(trees[name], loads_path, args.repeats, plain=name == "current" and not runs[name], out_path=out_path,
                   workers=args.workers)
            runs[name].append(json.loads(Path(out_path).read_text(encoding="utf-8")))
    load_after = os.getloadavg()

    table = []
    for name in loads:
        current = [run[name] for run in runs["current"]]
        row = {"posts": name, "n": current[0]["n"], "mean_chars": current[0]["mean_chars"],
               "candidates": current[0]["candidates"], "us_per_post": min(r["us_per_post"] for r in current),
               "us_per_post_without_prefilter": current[0].get("us_per_post_without_prefilter")}
        if "by_workers" in current[0]:
            row["by_workers"] = [r["by_workers"] for r in current]
            row["same_output_any_workers"] = all(r["same_output_any_workers"] for r in current)
        if args.baseline:
            base = [run[name] for run in runs["baseline"]]
            row["us_per_post_baseline"] = min(r["us_per_post"] for r in base)
            row["same_output_as_baseline"] = all(r["summary"] == current[0]["summary"] for r in base + current)
            if "by_workers" in base[0]:
                row["by_workers_baseline"] = [r["by_workers"] for r in base]
        table.append(row)

    result = {"rows": table, "machine": {"platform": platform.platform(), "processor": platform.processor(),
                                         "cpus": os.cpu_count(), "python": platform.python_version()},
              "load_average_before": load_before, "load_average_after": load_after,
              "command": "nice -n 10 .venv/bin/python bench/calls_speed.py " + " ".join(sys.argv[1:]),
              "baseline": args.baseline, "order": order,
              "clock": "time.process_time (CPU time of the process), best of repeats (one run past 50,000 posts)"}
    Path(args.results).parent.mkdir(exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n| posts | n | mean chars | share passing a gate | µs/post | µs/post baseline | µs/post without prefilter |"
          " same output |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in table:
        base, plain = r.get("us_per_post_baseline"), r.get("us_per_post_without_prefilter")
        print(f"| {r['posts']} | {r['n']} | {r['mean_chars']:.0f} | {r['candidates']:.1%} | {r['us_per_post']:.1f} | "
              + (f"{base:.1f} | " if base is not None else "– | ") + (f"{plain:.0f} | " if plain else "– | ")
              + ("yes |" if r.get("same_output_as_baseline") else "– |" if base is None else "**no** |"))
    for r in table:
        for label, key in (("this tree", "by_workers"), ("baseline", "by_workers_baseline")):
            for run in r.get(key, []):
                print(f"{r['posts']}, {label}: " + "; ".join(
                    f"{w} worker(s) {t['wall_s']:.1f} s wall, {t['cpu_s']:.1f} s CPU (load {t['load']:.1f})"
                    for w, t in run.items()))
    print(f"\nload average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
