"""Variants of the calls classifier on the real posts, by the grouped design of ``bench/calls.py``.

Each variant is the default pipeline with fixed changes (chosen before measuring, not tuned on
the folds): more blocks (the cue-token view and the cue windows of
:mod:`detector.features.cueview`), fewer blocks, another regularisation ``C``, another weight of
the real rows, or training only on the rows that pass a gate (the rows the model ever scores: a
post that names neither reporting nor a removal is settled as ``other`` before the model).
Every real post is predicted by a model fitted on the written posts and the real posts of the
other folds (5 folds grouped by thread, page or file; seeds 0..splits-1); figures on real rows.

Run:  nice -n 10 .venv/bin/python bench/calls_variants.py [--splits 3] [--only NAME ...]
Writes bench/results/calls_variants.json (one entry per variant: overall mean and range, and the
per-language means).
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
    REAL_WEIGHT,
    _decide_texts,
    build_call_pipeline,
    call_probabilities,
    gate_cues,
    model_texts,
    read_labelled,
    read_real,
    score_by_language,
)

RESULTS = Path(__file__).resolve().parent / "results" / "calls_variants.json"

#: name -> (pipeline params, training options); the options are ``gated`` and ``real_weight``.
VARIANTS: dict[str, tuple[dict, dict]] = {
    "default": ({}, {}),
    "cue_tokens": ({"cue_view_weight": 1.0}, {}),
    "cue_windows": ({"window_weight": 1.0}, {}),
    "cue_windows_no_char": ({"window_weight": 1.0, "char_weight": 0.0}, {}),
    "C5": ({"C": 5.0}, {}),
    "real_weight_8": ({}, {"real_weight": 8.0}),
    "gated_training": ({}, {"gated": True}),
    "cue_windows_no_char_gated": ({"window_weight": 1.0, "char_weight": 0.0}, {"gated": True}),
    # Thread context (detector.features.context): the post a real row answers, where gathered.
    "context": ({"context_weight": 1.0}, {}),
    # ... and the context's own character n-grams beside those cues (what the replied-to post says).
    "context_ngrams": ({"context_weight": 1.0, "context_text_weight": 1.0}, {}),
}


def predict_real(written: pd.DataFrame, real: pd.DataFrame, seed: int, params: dict, gated: bool = False,
                 real_weight: float = REAL_WEIGHT) -> pd.DataFrame:
    """``real`` with ``predicted`` and ``p_call`` from one grouped 5-fold split (see the module doc)."""
    data = real.reset_index(drop=True)
    texts, labels = np.array(model_texts(data), dtype=object), data["label"].to_numpy(dtype=object)
    written_texts, written_labels = written["text"].to_numpy(dtype=object), written["label"].to_numpy(dtype=object)
    keep_written, keep_real = np.ones(len(written), bool), np.ones(len(data), bool)
    if gated:
        keep_written = np.logical_or(*gate_cues(list(written_texts)))
        keep_real = np.logical_or(*gate_cues(list(texts)))
    predicted, p_call = np.empty(len(data), dtype=object), np.zeros(len(data))
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, labels, groups=data["language"] + "|" + data["group"]):
        train = train[keep_real[train]]
        model = build_call_pipeline(seed=seed, **params).fit(
            list(written_texts[keep_written]) + list(texts[train]),
            list(written_labels[keep_written]) + list(labels[train]),
            classifier__sample_weight=np.r_[np.ones(keep_written.sum()), np.full(len(train), real_weight)])
        probs = call_probabilities(texts[test], model)
        predicted[test], _ = _decide_texts(probs, texts[test], 0.5)
        p_call[test] = probs["p_call"].to_numpy()
    return data.assign(predicted=predicted, p_call=p_call)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=3, help="grouped 5-fold splits (seeds 0..splits-1)")
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run (default: all)")
    args = parser.parse_args(argv)
    written, real = read_labelled(), read_real()
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {"variants": {}}
    out = previous.get("variants", {})
    for name in args.only or VARIANTS:
        params, options = VARIANTS[name]
        started = time.perf_counter()
        predictions = [predict_real(written, real, seed, params, **options) for seed in range(args.splits)]
        tables = [score_by_language(p).assign(split=seed) for seed, p in enumerate(predictions)]
        every = pd.concat(tables, ignore_index=True)
        # The rows that carry thread context, apart (where a context block can act at all).
        threaded = [score_by_language(p[p["context"] != ""]).query("language == 'all'").assign(split=seed)
                    for seed, p in enumerate(predictions)] if "context" in real.columns else []
        mean = every.groupby("language", sort=False).mean(numeric_only=True).reset_index().drop(columns="split")
        overall = every[every["language"] == "all"]
        out[name] = {"params": params, "options": options, "splits": args.splits,
                     "seconds": round(time.perf_counter() - started, 1),
                     "range": {m: [round(float(overall[m].min()), 3), round(float(overall[m].max()), 3)]
                               for m in ("call_precision", "call_recall", "boast_precision", "boast_recall")},
                     "per_split": json.loads(overall.round(4).to_json(orient="records")),
                     "with_context_per_split": (json.loads(pd.concat(threaded).round(4).to_json(orient="records"))
                                                if threaded else []),
                     "per_language": json.loads(mean.round(4).to_json(orient="records"))}
        a = mean[mean["language"] == "all"].iloc[0]
        print(f"{name}: call P {a.call_precision:.3f} R {a.call_recall:.3f}, boast P {a.boast_precision:.3f} "
              f"R {a.boast_recall:.3f}, false calls {a.false_calls:.1f}, false boasts {a.false_boasts:.1f}",
              flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "calls_variants", "real_rows": len(real), "variants": out},
                                  indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
