"""How far two annotators of the real labelled posts agree, and the classifier against each.

The goal of issue #11 (call precision and recall >= 0.9 on real posts) is only meaningful if the
labels themselves are that consistent. `bench/data/calls_second_annotation.csv` holds a second,
blind annotation of 450 real rows (a stratified sample: 150 labelled calls, 50 boasts, 250 other,
drawn with seed 20261130), made from the texts (and the post each answers) alone, without the first
labels or any model output; each row has `file` and `row` (the data row of that file in
`detector/data/calls/real/`, 1-based, header not counted), the second label, a confidence and a
short note. Figures for the whole set are weighted back to the population (each stratum by the
number of real rows of its first label).

    python bench/calls_agreement.py [--predictions PICKLE]

``--predictions`` is the pickle `bench/calls_boasts.py --predictions` keeps (the 5 grouped splits'
out-of-fold predictions): the classifier is then scored against each annotation on the sample.
Writes `bench/results/calls_agreement.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from detector.features.calls import read_real  # noqa: E402

SECOND = HERE / "data" / "calls_second_annotation.csv"


def real_rows() -> pd.DataFrame:
    """The real posts with ``row`` = their data row within their file (1-based)."""
    real = read_real().reset_index(drop=True)
    return real.assign(row=real.groupby("file").cumcount() + 1)


def joined(real: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """The sample with both labels and the population weight of each row."""
    sample = second.merge(real[["file", "row", "label", "text"]], on=["file", "row"], how="left",
                          validate="one_to_one")
    if sample["label"].isna().any():
        missing = sample[sample["label"].isna()].iloc[0]
        raise SystemExit(f"{SECOND}: {missing['file']} row {missing['row']} is not a real labelled row")
    weight = real["label"].value_counts() / sample["label"].value_counts()
    return sample.assign(weight=sample["label"].map(weight))


def scores(truth: pd.Series, guess: pd.Series, weight: pd.Series, label: str) -> dict[str, float]:
    """Weighted precision and recall of ``guess`` for ``label`` against ``truth``."""
    hit, said = truth.eq(label), guess.eq(label)
    tp, fp, fn = (weight * (hit & said)).sum(), (weight * (~hit & said)).sum(), (weight * (hit & ~said)).sum()
    return {"precision": round(float(tp / (tp + fp)), 3) if tp + fp else float("nan"),
            "recall": round(float(tp / (tp + fn)), 3) if tp + fn else float("nan")}


def agreement(sample: pd.DataFrame) -> dict:
    high = sample[sample["confidence"] == "high"]
    return {
        "rows": len(sample), "raw_agreement": round(float((sample["label"] == sample["second_label"]).mean()), 3),
        "kappa": round(float(cohen_kappa_score(sample["label"], sample["second_label"])), 3),
        "high_confidence_rows": len(high),
        "kappa_high_confidence": round(float(cohen_kappa_score(high["label"], high["second_label"])), 3),
        "crosstab_first_by_second": pd.crosstab(sample["label"], sample["second_label"]).to_dict(),
        # the second annotator scored against the first, as a classifier would be
        "second_vs_first": {k: scores(sample["label"], sample["second_label"], sample["weight"], k)
                            for k in ("call", "boast")},
    }


def model_scores(sample: pd.DataFrame, predictions: pd.DataFrame) -> dict:
    """The classifier's out-of-fold labels on the sample, against each annotation (mean of splits)."""
    out: dict = {}
    for _split, part in predictions.groupby("split"):
        part = part.reset_index(drop=True)
        part = part.assign(row=part.groupby("file").cumcount() + 1)
        both = sample.merge(part[["file", "row", "predicted"]], on=["file", "row"], validate="one_to_one")
        for ref in ("label", "second_label"):
            for kind in ("call", "boast"):
                out.setdefault(f"{kind} vs {'first' if ref == 'label' else 'second'}", []).append(
                    scores(both[ref], both["predicted"], both["weight"], kind))
        agreed = both[both["label"] == both["second_label"]]
        for kind in ("call", "boast"):
            out.setdefault(f"{kind} on rows both agree", []).append(
                scores(agreed["label"], agreed["predicted"], agreed["weight"], kind))
    return {k: {m: round(float(np.mean([s[m] for s in v])), 3) for m in ("precision", "recall")}
            for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, help="pickle of bench/calls_boasts.py's split predictions")
    args = parser.parse_args(argv)
    sample = joined(real_rows(), pd.read_csv(SECOND, dtype={"row": int}, keep_default_na=False))
    result = {"benchmark": "calls_agreement", "command": "python bench/calls_agreement.py "
              + " ".join(argv if argv is not None else sys.argv[1:]), "agreement": agreement(sample)}
    if args.predictions:
        result["classifier"] = model_scores(sample, pd.read_pickle(args.predictions))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "calls_agreement.json").write_text(json.dumps(result, indent=1, ensure_ascii=False),
                                                          encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
