"""Benchmark: how well the calls classifier separates calls, boasts and other posts, per language.

First and foremost on the real public posts of ``detector/data/calls/real/`` (sources in its SOURCES.md):
every real post is predicted by a model fitted on the written posts and on the real posts of the
other folds, with folds grouped by thread, page or file (``StratifiedGroupKFold``), so a thread is
never in both. Figures are reported on real rows alone, per language, with the false calls and
boasts broken down by kind (victim, news, quoted call, …).

Then on the hand-written ``detector/data/calls/labelled.csv``: stratified k-fold cross-validation (by label and
language) for the call and boast classes, and leave-one-language-out for calls (fitted without
language L, tested on L). Also the same k-fold without the lexicon block (``cue_weight=0``), to
show what the lexicon adds, and the time to fit the default model once.

The labelled set is small and written by the project; these figures say how well the model learned
the phrasings we wrote, not how it fares against real adversarial wording.

Run:  .venv/bin/python bench/calls.py [--folds 5] [--seed 0]
Writes bench/results/calls.json and prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.features.calls import (  # noqa: E402
    CALL_THRESHOLD,
    cross_validate_calls,
    cross_validate_real,
    fit_call_model,
    read_labelled,
    read_real,
    score_by_language,
)

RESULTS = Path(__file__).resolve().parent / "results" / "calls.json"


def _fmt(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.2f}"


def markdown_table(table: pd.DataFrame, without_lexicon: pd.DataFrame) -> str:
    """The per-language table as Markdown (call P/R/F1, boast F1, leave-one-language-out, no lexicon)."""
    plain = without_lexicon.set_index("language")
    lines = ["| language | n | calls | call P | call R | call F1 | boasts | boast F1 | LOLO call P | "
             "LOLO call R | call F1 without lexicon |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in table.itertuples():
        lines.append(f"| {row.language} | {row.n} | {row.n_call} | {_fmt(row.call_precision)} | "
                     f"{_fmt(row.call_recall)} | {_fmt(row.call_f1)} | {row.n_boast} | {_fmt(row.boast_f1)} | "
                     f"{_fmt(row.lolo_call_precision)} | {_fmt(row.lolo_call_recall)} | "
                     f"{_fmt(plain.loc[row.language, 'call_f1'])} |")
    return "\n".join(lines)


def real_markdown_table(table: pd.DataFrame) -> str:
    """Per-language figures on the real posts (grouped cross-validation)."""
    lines = ["| language | real posts | calls | call P | call R | false calls | boasts | boast P | boast R | "
             "false boasts |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        lines.append(f"| {r.language} | {r.n} | {r.n_call} | {_fmt(r.call_precision)} | {_fmt(r.call_recall)} | "
                     f"{r.false_calls:.1f} | {r.n_boast} | {_fmt(r.boast_precision)} | {_fmt(r.boast_recall)} | "
                     f"{r.false_boasts:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--splits", type=int, default=5, help="grouped cross-validation splits to average")
    args = parser.parse_args(argv)

    labelled = read_labelled()
    real = read_real()
    started = time.perf_counter()
    fit_call_model(seed=args.seed)
    fit_seconds = time.perf_counter() - started

    # The grouped folds put whole threads on one side, so one split is noisy (±0.04 seen between
    # splits): report the mean over several splits, with the range of the overall figures.
    tables, all_predictions = [], []
    for split in range(args.splits):
        predictions = cross_validate_real(labelled, real, folds=args.folds, seed=args.seed + split)
        tables.append(score_by_language(predictions).assign(split=split))
        all_predictions.append(predictions.assign(split=split))
    every = pd.concat(tables, ignore_index=True)
    real_table = every.groupby("language", sort=False).mean(numeric_only=True).reset_index().drop(columns="split")
    for col in ("n", "n_call", "n_boast"):
        real_table[col] = real_table[col].round().astype(int)
    overall = every[every["language"] == "all"]
    spread = {m: [round(float(overall[m].min()), 3), round(float(overall[m].max()), 3)]
              for m in ("call_precision", "call_recall", "boast_precision", "boast_recall")}
    predictions = pd.concat(all_predictions, ignore_index=True)
    wrong = predictions[(predictions["predicted"] != predictions["label"])]
    errors = (wrong.assign(error=wrong["label"] + "→" + wrong["predicted"])
              .groupby(["language", "error", "kind"]).size().rename("n").reset_index())
    print(real_markdown_table(real_table))
    print(f"\nmean of {args.splits} grouped splits; range of the overall figures: {spread}")
    print("\nerrors on real posts by kind:")
    print(errors.groupby(["error", "kind"])["n"].sum().sort_values(ascending=False).to_string())

    started = time.perf_counter()
    table = cross_validate_calls(labelled, folds=args.folds, seed=args.seed)
    cv_seconds = time.perf_counter() - started
    without_lexicon = cross_validate_calls(labelled, folds=args.folds, seed=args.seed,
                                           leave_one_language_out=False, cue_weight=0.0)

    print(markdown_table(table, without_lexicon))
    print(f"\nfit on {len(labelled) + len(real)} posts (written and real): {fit_seconds:.2f} s; cross-validation "
          f"({args.folds} folds + {labelled['language'].nunique()} leave-one-language-out fits): "
          f"{cv_seconds:.1f} s; threshold p_call >= {CALL_THRESHOLD}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "calls",
        "command": "python bench/calls.py" + (f" --folds {args.folds}" if args.folds != 5 else "")
                   + (f" --seed {args.seed}" if args.seed else ""),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "real_rows": len(real),
        "real_splits": args.splits, "real_overall_range": spread,
        "real_per_language": json.loads(real_table.to_json(orient="records")),
        "real_errors": json.loads(errors.to_json(orient="records")),
        "labelled_rows": len(labelled),
        "labels": labelled["label"].value_counts().to_dict(),
        "folds": args.folds, "seed": args.seed, "threshold": CALL_THRESHOLD,
        "fit_seconds": round(fit_seconds, 3), "cv_seconds": round(cv_seconds, 2),
        "per_language": json.loads(table.to_json(orient="records")),
        "per_language_without_lexicon": json.loads(without_lexicon.drop(
            columns=[c for c in without_lexicon.columns if c.startswith("lolo_")]).to_json(orient="records")),
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
