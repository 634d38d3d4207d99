"""Benchmark: microseconds per post of the calls step on real-length posts, on one core.

Posts are built from real text: the real public posts of ``detector/data/calls/real/*.csv`` (sources
in its SOURCES.md) and the simulator's chatter, per language (ru, kk, zh, en, ug, uk). *Chatter*
posts join texts of one language that pass neither classifier gate (no word for reporting, no claim
of a removal) until a length drawn from a log-normal with median 113 characters (mean about 140,
as the issue measured on real channels), so they are what a channel mostly carries.
*Candidates* are the real posts that pass a gate: every real call and boast, and the real posts that
talk about reporting without being calls (news, victims, quoted calls), as they are.

Measured with ``time.process_time`` (CPU time of this process, which other processes on a shared
machine do not inflate), best of ``--repeats``, through :func:`classify_calls` end to end (one
worker):

* chatter alone and candidates alone, with the prefilter (the default) and without it (every post
  scored and described, as before);
* mixes of chatter with 1 % and 5 % candidates.

Run:  nice -n 10 .venv/bin/python bench/calls_speed.py [--posts 20000] [--repeats 3]
Writes bench/results/calls_speed.json and prints a Markdown table for bench/RESULTS.md.
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
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector import simulate_text  # noqa: E402
from detector.features.calls import call_model, classify_calls, gate_cues, read_real  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "calls_speed.json"
LANGUAGES = ("ru", "kk", "zh", "en", "ug", "uk")


def _passes_a_gate(texts: list[str]) -> np.ndarray:
    reporting, removal = gate_cues(texts)
    return reporting | removal


def text_pools() -> tuple[dict[str, list[str]], list[str]]:
    """Per language, real and simulated texts that pass no gate; and the real posts that pass one."""
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


def _frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"post_id": [f"p{i}" for i in range(len(texts))], "text": texts})


def _us_per_post(texts: list[str], repeats: int, prefilter: bool = True) -> float:
    posts = _frame(texts)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        classify_calls(posts, workers=1, prefilter=prefilter)
        best = min(best, time.process_time() - start)
    return best / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    call_model()   # fitted once, outside the timings
    quiet, candidates = text_pools()
    chatter = chatter_posts(args.posts, quiet, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    rows = []

    def measure(name: str, texts: list[str], repeats: int = args.repeats, plain: bool = True) -> None:
        row = {"posts": name, "n": len(texts), "mean_chars": float(np.mean([len(t) for t in texts])),
               "candidates": float(np.mean(_passes_a_gate(texts))),
               "us_per_post": _us_per_post(texts, repeats)}
        if plain:   # the step as it was: every post scored and described (fewer posts: it is slow)
            sample = texts[: max(1, min(len(texts), 2000))]
            row["us_per_post_without_prefilter"] = _us_per_post(sample, 1, prefilter=False)
            row["speed_up"] = row["us_per_post_without_prefilter"] / row["us_per_post"]
        rows.append(row)
        print(row, flush=True)

    load_before = os.getloadavg()
    measure("chatter", chatter)
    measure("candidates", candidates)
    for share in (0.01, 0.05):
        k = int(round(share * args.posts))
        mix = chatter[: args.posts - k] + list(rng.choice(candidates, k))
        rng.shuffle(mix)
        measure(f"chatter + {share:.0%} candidates", mix, plain=False)
    load_after = os.getloadavg()

    result = {"rows": rows, "machine": {"platform": platform.platform(), "processor": platform.processor(),
                                        "cpus": os.cpu_count(), "python": platform.python_version()},
              "load_average_before": load_before, "load_average_after": load_after,
              "command": "nice -n 10 .venv/bin/python bench/calls_speed.py " + " ".join(sys.argv[1:]),
              "clock": "time.process_time (CPU time of the process), best of repeats"}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n| posts | n | mean chars | share passing a gate | µs/post | µs/post before (no prefilter) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        before = r.get("us_per_post_without_prefilter")
        print(f"| {r['posts']} | {r['n']} | {r['mean_chars']:.0f} | {r['candidates']:.1%} | {r['us_per_post']:.1f} | "
              + (f"{before:.0f} | {r['speed_up']:.0f}× |" if before else "– | – |"))
    print(f"\nload average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
