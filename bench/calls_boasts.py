"""The issue's definition of a boast as a rule at decision time, measured on the real posts.

A boast "claims a target's removal or punishment and names the target or follows a call in its
chat". The product applies that after the classifier (:func:`detector.features.calls.confirm_boasts`:
a boast stays one when it names a target, else when a call of its own chat came before it within
``boast_horizon_days``). This bench asks what the rule does to boast precision and recall on the
real posts of ``detector/data/calls/real/``, on the grouped splits of ``bench/calls.py`` (5 folds
grouped by thread, page or file; seeds 0..splits-1; the default model), paired: the same
predictions with and without each rule.

What the labelled data can give the rule: a row's ``group`` is its thread, page or file, and the
rows of a GitHub thread were gathered in thread order (``SOURCES.md``), so "a call before it in its
chat" is read as "a row of the same group, earlier in its file, that is a call" — predicted a call
by the same split's model (what ``confirm_boasts`` sees in a case), or labelled a call (an upper
bound: the calls table were perfect). The data has no timestamps, so the horizon is not evaluated.
The order of the Weibo repost files' rows is the dataset's, not known to be time order.

Rules (fixed before measuring):

* ``named``: the post names a target (:func:`detector.features.calls.post_targets`: a link, an
  @mention, a platform id in a URL) — the first half of ``confirm_boasts``;
* ``named_or_follows``: ``named``, or an earlier row of its group is predicted a call — the rule
  the product applies;
* ``named_or_follows_labelled``: the same with the labelled calls;
* ``named_deixis_or_follows``: ``named_or_follows``, or a sentence that claims the removal points
  at someone else's thing ("the account", "this repo", "该账号", "его": the ``third`` cue of the
  lexicon's ``claim`` section, :mod:`detector.features.claims`);
* ``told_as_win``: the post tells the removal as a win or after reporting (a ``success`` cue, or
  reporting named, anywhere in a post with a removal sentence: ``claim_success_in_post`` or
  ``claim_after_reporting`` of :mod:`detector.features.claims`) — "claims a removal as a result";
* ``named_or_follows_and_told_as_win``: both the product's rule and ``told_as_win``.

Run:  nice -n 10 .venv/bin/python bench/calls_boasts.py [--splits 5] [--predictions PATH]
(``--predictions`` keeps the split predictions in a pickle and reuses it when it exists.)
Writes bench/results/calls_boasts.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.features.calls import (  # noqa: E402
    cross_validate_real,
    normalise_texts,
    post_targets,
    read_labelled,
    read_real,
)
from detector.features.claims import FEATURE_NAMES, ClaimCues  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "calls_boasts.json"
RULES = ("model", "named", "named_or_follows", "named_or_follows_labelled", "named_deixis_or_follows",
         "told_as_win", "named_or_follows_and_told_as_win")


def earlier_in_group(groups: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """For each row: does a row of the same group, earlier in order, have ``flags`` set?"""
    seen: dict[str, bool] = {}
    out = np.zeros(len(groups), dtype=bool)
    for i, (group, flag) in enumerate(zip(groups, flags, strict=True)):
        out[i] = seen.get(group, False)
        if flag:
            seen[group] = True
    return out


def rule_masks(real: pd.DataFrame, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Which rows each rule lets stay a boast (``real`` in file order, ``predicted`` of one split)."""
    groups = (real["language"] + "|" + real["group"]).to_numpy()
    named = np.array([len(post_targets(t)) > 0 for t in real["text"]])
    third = ClaimCues().fit([]).transform(normalise_texts(real["text"].tolist())).toarray()
    deixis = third[:, FEATURE_NAMES.index("claim_third")] > 0
    win = (third[:, FEATURE_NAMES.index("claim_success_in_post")] > 0) | (
        third[:, FEATURE_NAMES.index("claim_after_reporting")] > 0)
    follows = earlier_in_group(groups, predicted == "call")
    follows_labelled = earlier_in_group(groups, real["label"].to_numpy() == "call")
    return {"model": np.ones(len(real), bool), "named": named, "named_or_follows": named | follows,
            "named_or_follows_labelled": named | follows_labelled,
            "named_deixis_or_follows": named | deixis | follows,
            "told_as_win": win, "named_or_follows_and_told_as_win": (named | follows) & win}


def boast_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    tp = int(np.sum((truth == "boast") & (predicted == "boast")))
    n_pred, n_true = int(np.sum(predicted == "boast")), int(np.sum(truth == "boast"))
    return {"boasts": n_true, "predicted": n_pred, "true": tp, "false": n_pred - tp,
            "precision": tp / n_pred if n_pred else float("nan"), "recall": tp / n_true if n_true else float("nan")}


def score_split(real: pd.DataFrame, predicted: np.ndarray) -> pd.DataFrame:
    """Boast figures per rule and language (and ``all``) for one split's predictions."""
    rows = []
    truth = real["label"].to_numpy()
    for rule, keep in rule_masks(real, predicted).items():
        decided = np.where((predicted == "boast") & ~keep, "other", predicted)
        for language in [*real["language"].value_counts().index, "all"]:
            part = np.ones(len(real), bool) if language == "all" else (real["language"] == language).to_numpy()
            rows.append({"rule": rule, "language": language, **boast_scores(truth[part], decided[part]),
                         # the real boasts the rule would keep if the model found them all (its recall cap)
                         "boasts_passing": int(np.sum(part & (truth == "boast") & keep))})
    return pd.DataFrame(rows)


def split_predictions(splits: int, cache: Path | None) -> pd.DataFrame:
    if cache is not None and cache.exists():
        return pd.read_pickle(cache)
    written, real = read_labelled(), read_real()
    frames = [cross_validate_real(written, real, seed=s).assign(split=s) for s in range(splits)]
    out = pd.concat(frames, ignore_index=True)
    if cache is not None:
        out.to_pickle(cache)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--predictions", type=Path, help="pickle of the split predictions (kept and reused)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    predictions = split_predictions(args.splits, args.predictions)
    seconds = round(time.perf_counter() - started, 1)
    tables = [score_split(p.reset_index(drop=True), p["predicted"].to_numpy(dtype=object)).assign(split=s)
              for s, p in predictions.groupby("split")]
    every = pd.concat(tables, ignore_index=True)
    mean = every.groupby(["rule", "language"], sort=False).mean(numeric_only=True).reset_index().drop(columns="split")
    overall = every[every["language"] == "all"]
    spread = {rule: {m: [round(float(part[m].min()), 3), round(float(part[m].max()), 3)]
                     for m in ("precision", "recall")} for rule, part in overall.groupby("rule", sort=False)}
    for rule in RULES:
        part = mean[mean["rule"] == rule]
        print(f"\n{rule}: range over splits {spread[rule]}")
        print(part.drop(columns="rule").round(3).to_string(index=False))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "calls_boasts", "command": "python bench/calls_boasts.py" + (
            f" --splits {args.splits}" if args.splits != 5 else ""),
        "splits": int(predictions["split"].nunique()), "real_rows": int((predictions["split"] == 0).sum()),
        "predict_seconds": seconds, "range": spread,
        "per_split": json.loads(overall.round(4).to_json(orient="records")),
        "per_language": json.loads(mean.round(4).to_json(orient="records")),
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
