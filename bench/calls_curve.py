"""Would more real posts of the same kind lift the calls classifier? Its learning curve on the real posts.

The grouped cross-validation of ``bench/calls.py`` (5 folds of the real posts grouped by language
and thread, page or file, ``StratifiedGroupKFold``, seeds 0..splits-1; the written posts always
in training, the default pipeline, weights and threshold), with each fold's real training posts cut
to a share of their threads (whole threads drawn at random with the split's seed, so a thread is
never split). The test folds are the same at every share; only what the model learns from shrinks.

If call F1 still climbs steeply at the full share, more real posts like these are the way to the
issue's 0.9; if it flattens, they are not, and the model is what limits it.

Run:  nice -n 10 .venv/bin/python bench/calls_curve.py [--splits 5] [--shares 0.25 0.5 0.75 1]
Writes bench/results/calls_curve.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.features.calls import (  # noqa: E402
    CALL_THRESHOLD,
    REAL_WEIGHT,
    _decide_texts,
    build_call_pipeline,
    call_probabilities,
    model_texts,
    read_labelled,
    read_real,
    score_by_language,
)

RESULTS = Path(__file__).resolve().parent / "results" / "calls_curve.json"


def kept_threads(train: np.ndarray, groups: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """The rows of ``train`` whose thread is among a random ``share`` of the threads in it (at least one)."""
    threads = np.unique(groups[train])
    keep = rng.choice(threads, max(1, int(round(share * len(threads)))), replace=False)
    return train[np.isin(groups[train], keep)]


def curve_split(written: pd.DataFrame, real: pd.DataFrame, share: float, split: int, folds: int = 5) -> pd.DataFrame:
    """Per-language scores of one grouped split with each fold's real training threads cut to ``share``."""
    texts = np.array(model_texts(real), dtype=object)
    groups = (real["language"] + "|" + real["group"]).to_numpy()
    labels = real["label"].to_numpy()
    predicted = np.empty(len(real), dtype=object)
    rng = np.random.default_rng(split)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=split)
    for train, test in splitter.split(texts, labels, groups=groups):
        train = kept_threads(train, groups, share, rng)
        weights = np.r_[np.ones(len(written)), np.full(len(train), REAL_WEIGHT)]
        model = build_call_pipeline(seed=split).fit(list(written["text"]) + list(texts[train]),
                                                    list(written["label"]) + list(labels[train]),
                                                    classifier__sample_weight=weights)
        predicted[test], _ = _decide_texts(call_probabilities(texts[test], model), texts[test], CALL_THRESHOLD)
    return score_by_language(real.assign(predicted=predicted))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--shares", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    args = parser.parse_args(argv)
    written, real = read_labelled(), read_real().reset_index(drop=True)
    started = time.perf_counter()
    rows = []
    for share in args.shares:
        mean = pd.concat([curve_split(written, real, share, split) for split in range(args.splits)]
                         ).groupby("language", sort=False).mean(numeric_only=True)
        r = mean.loc["all"]
        f1 = 2 * r.call_precision * r.call_recall / (r.call_precision + r.call_recall)
        row = {"share": share, "call_precision": round(float(r.call_precision), 3),
               "call_recall": round(float(r.call_recall), 3), "call_f1": round(float(f1), 3),
               "boast_precision": round(float(r.boast_precision), 3), "boast_recall": round(float(r.boast_recall), 3)}
        print(row, flush=True)
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "calls_curve", "command": "python bench/calls_curve.py " + " ".join(
        argv if argv is not None else sys.argv[1:]), "splits": args.splits, "real_rows": len(real),
        "seconds": round(time.perf_counter() - started, 1), "shares": rows}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
