"""The calls classifier on real posts gathered after it was fitted: the honest out-of-sample figure.

Cross-validation (``bench/calls.py``, ``bench/calls_finetune.py``) reuses the rows the model choices
were made on. When a new round of real posts is gathered (``detector/data/calls/real/*_<round>.csv``),
this scores the product as it stood before them: the linear model is fitted on the training set
without those files, and the tuned encoder is an adapter fitted without them (``--adapter DIR``,
e.g. the bundled ``detector/data/tuned/`` of the commit before the round was added, checked out
with ``git show <commit>:detector/data/tuned/adapter.npz``). Both go through the product's rule
(the encoder's second opinion where the linear model gives a call or a boast >= 0.05, the gates,
the quoted-call rule).

    python bench/calls_new_rows.py --files '*_more2.csv' --adapter /tmp/adapter-fbae5e7

Writes ``bench/results/calls_new_rows.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from detector.features import calls as C  # noqa: E402
from detector.features.tuned import TunedEncoder  # noqa: E402


def score(truth: np.ndarray, kind: np.ndarray) -> dict:
    out = {"posts": int(len(truth))}
    for k in ("call", "boast"):
        tp = int(((kind == k) & (truth == k)).sum())
        fp = int(((kind == k) & (truth != k)).sum())
        fn = int(((kind != k) & (truth == k)).sum())
        out[k] = {"real": tp + fn, "found": tp, "false": fp,
                  "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                  "recall": round(tp / (tp + fn), 3) if tp + fn else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", required=True, help="glob of the new round's files in detector/data/calls/real/")
    parser.add_argument("--adapter", type=Path, required=True,
                        help="folder with adapter.npz and adapter.json fitted without those files")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "calls_new_rows.json")
    args = parser.parse_args()
    started = time.time()
    real = C.read_real()
    new_mask = real["file"].map(lambda name: Path(name).match(args.files)).to_numpy()
    if not new_mask.any():
        raise SystemExit(f"no file of detector/data/calls/real/ matches {args.files}")
    manifest = json.loads((args.adapter / "adapter.json").read_text(encoding="utf-8"))
    if manifest.get("real_posts") != int((~new_mask).sum()):
        raise SystemExit(f"{args.adapter}: fitted on {manifest.get('real_posts')} real posts, not on the "
                         f"{int((~new_mask).sum())} outside {args.files}")
    full = C.training_set()
    new_texts = set(real.loc[new_mask, "text"])
    model = C.fit_call_model(full[~((full["origin"] == "real") & full["text"].isin(new_texts))])
    new = real[new_mask].reset_index(drop=True)
    texts = np.array(C.model_texts(new), dtype=object)
    linear = C.call_probabilities(texts, model)
    encoder = TunedEncoder(adapter_path=args.adapter / "adapter.npz", manifest_path=args.adapter / "adapter.json")
    product = C.with_second_opinion(linear, list(new["text"]), encoder)
    truth = new["label"].to_numpy()
    results, errors = {}, []
    for name, probs in (("linear alone", linear), ("product", product)):
        kind, _ = C._decide_texts(probs.reset_index(drop=True), texts, C.CALL_THRESHOLD)
        if name == "product":
            # every post the product gets wrong, to read: where the errors are, not only how many
            errors = [{"file": new["file"].iloc[i], "label": truth[i], "kind": new["kind"].iloc[i],
                       "predicted": kind[i], "p_call": round(float(probs["p_call"].iloc[i]), 3),
                       "text": str(new["text"].iloc[i])[:300]}
                      for i in np.flatnonzero(kind != truth)]
        results[name] = {"all": score(truth, kind)}
        for language in sorted(new["language"].unique()):
            part = new["language"].to_numpy() == language
            results[name][language] = score(truth[part], kind[part])
    out = {"benchmark": "calls_new_rows", "command": "python " + " ".join(sys.argv),
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
           "seconds": round(time.time() - started), "files": args.files, "adapter_fitted": manifest.get("when"),
           "results": results, "product_errors": errors}
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
