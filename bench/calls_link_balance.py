"""Do links make calls? The calls classifier with and without a link-balanced training set.

``bench/accuracy_real_text.py`` found that appending a video link to real posts that talk about
reporting turns a fifth of them into calls (call precision 0.76 -> 0.44): in the training set most
calls carry a link and few other posts do, so the link tokens (``yturl``, ``atmention``…) carry the
label. This bench measures two remedies: a link-balanced training set (every training post also
given as a copy with the opposite link state: a video link appended to posts without one, the
links cut out of posts with one), so a link says nothing about the label; and a model whose
features never read the link tokens (``see_links=False``, adopted as the default). Same folds and training sets as
``bench/accuracy_real_text.py`` (5 folds of the real posts grouped by language and thread, seed 0;
the written posts always in training), each real post scored as written and with the link
appended.

Run:  nice -n 10 .venv/bin/python bench/calls_link_balance.py     (about 3 min on 2 cores)
Writes bench/results/calls_link_balance.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import accuracy_real_text as real_text  # noqa: E402

from detector.features.calls import (  # noqa: E402
    _MENTION_TOKEN,
    CALL_THRESHOLD,
    _decide_texts,
    call_probabilities,
    fit_call_model,
)
from detector.ids import extract_urls  # noqa: E402

RESULTS = HERE / "results" / "calls_link_balance.json"


def _without_links(text: str) -> str:
    for url in sorted(extract_urls(text), key=len, reverse=True):
        text = text.replace(url, " ")
    return text


def link_balanced(train: pd.DataFrame) -> pd.DataFrame:
    """``train`` plus each row with the opposite link state: the link appended where it had none,
    its links cut out where it had some (labels, weights and origins kept)."""
    text = train["text"].astype(str)
    linked = text.map(lambda t: bool(extract_urls(t)))
    return pd.concat([train, train[~linked].assign(text=text[~linked] + "\n" + real_text.LINK),
                      train[linked].assign(text=text[linked].map(_without_links))], ignore_index=True)


# "sees_links": the model of rounds before 2026-11-30 (link and mention tokens are features);
# "link_balanced": the same, trained on the link-balanced set; "links_dropped": the default since
# (the features never read the link tokens, detector.features.calls.without_link_tokens).
VARIANTS = ("sees_links", "link_balanced", "links_dropped")


def scores(kinds: np.ndarray, label: np.ndarray) -> dict:
    call, boast = kinds == "call", kinds == "boast"
    tp, tb = int((call & (label == "call")).sum()), int((boast & (label == "boast")).sum())
    return {"call_precision": round(tp / max(int(call.sum()), 1), 3), "call_recall": round(tp / int((label == "call").sum()), 3),
            "boast_precision": round(tb / max(int(boast.sum()), 1), 3),
            "boast_recall": round(tb / int((label == "boast").sum()), 3),
            "other_taken_for_calls": round(float(call[label == "other"].mean()), 3)}


def main() -> int:
    started = time.perf_counter()
    real = real_text.real_rows()
    fold = real_text.fold_of_rows(real)
    label = real["label"].to_numpy()
    linked = np.array([bool(extract_urls(t)) or bool(_MENTION_TOKEN.search(t))
                       for t in map(real_text._clean, real["text"])])
    out = {}
    for variant in VARIANTS:
        decided = {"as_written": np.empty(len(real), dtype=object), "link_appended": np.empty(len(real), dtype=object)}
        for k in range(5):
            train = real_text.fold_training_set(k)
            model = fit_call_model(link_balanced(train) if variant == "link_balanced" else train,
                                   see_links=variant != "links_dropped")
            texts = [real_text._clean(t) for t in real.loc[fold == k, "text"]]
            for name, batch in (("as_written", texts), ("link_appended", [t + "\n" + real_text.LINK for t in texts])):
                decided[name][fold == k], _ = _decide_texts(call_probabilities(batch, model), batch, CALL_THRESHOLD)
        out[variant] = {name: scores(kinds, label) for name, kinds in decided.items()}
        # The posts that can become evidence as they were written: those that name a link or an @name.
        out[variant]["as_written_linked"] = scores(decided["as_written"][linked], label[linked])
        out[variant]["as_written_unlinked"] = scores(decided["as_written"][~linked], label[~linked])
        print(variant, out[variant], flush=True)
    RESULTS.write_text(json.dumps({"benchmark": "calls_link_balance", "command": "python bench/calls_link_balance.py",
                                   "real_rows": len(real), "real_rows_linked": int(linked.sum()), "folds": 5, "seconds": round(time.perf_counter() - started, 1),
                                   "variants": out}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
