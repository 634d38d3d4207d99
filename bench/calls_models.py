"""Model choice for the calls classifier, measured on the real posts by nested grouped cross-validation.

The same outer design as ``bench/calls.py`` (5 folds of the real posts grouped by language and
thread, page or file, ``StratifiedGroupKFold``, seeds 0-4; written posts always in training).
Everything chosen from data (stacked second stage, per-class thresholds) is chosen inside the
training folds only, by an inner 3-fold grouped split of their real posts: the test fold is never
seen before it is scored.

Stage 1 is the n-gram pipeline of :func:`detector.features.calls.build_call_pipeline` with and
without the mood block and the claim block; its out-of-fold probabilities on the training posts (inner split) feed
stage 2, which sees them stacked with the dense cue features (lexicon cue counts, mood/person/
address counts, language). Stage 2 is a logistic regression, a linear SVM or gradient boosting.
Per-class thresholds (call; boast against other) maximise F1 on the inner out-of-fold scores.
Both gates of the product stay: a call needs a report/takedown word, a boast a removal word.

Run:  nice -n 10 .venv/bin/python bench/calls_models.py [--splits 5] [--cache /tmp/calls_stage1.pkl]
Prints one line per variant (mean of the splits on real rows) and writes bench/results/calls_models.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.features.calls import (  # noqa: E402
    KINDS,
    REAL_WEIGHT,
    LexiconCues,
    build_call_pipeline,
    claims_removal,
    detect_language,
    mentions_reporting,
    normalise_texts,
    read_labelled,
    read_real,
    score_by_language,
)
from detector.features.claims import ClaimCues  # noqa: E402
from detector.features.mood import FEATURE_NAMES, MoodCues  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "calls_models.json"
STAGE1 = {"ngram": {"mood_weight": 0.0, "claim_weight": 0.0}, "ngram+mood": {"mood_weight": 1.0, "claim_weight": 0.0},
          "ngram+mood+claims": {"mood_weight": 1.0, "claim_weight": 1.0}}
LANGS = ("en", "zh", "ru", "uk", "kk", "ug")


class _Features:
    """The stage-1 pipeline's feature blocks, with the per-text lexicon, mood and claim blocks computed once.

    The lexicon, mood and claim blocks are fixed functions of a text (fitting them only compiles the
    lexicon), so they are computed once for every post; the TF-IDF blocks are fitted on each
    training set, as the pipeline does. Same blocks, weights and classifier as
    :func:`build_call_pipeline`.
    """

    def __init__(self, texts):
        self.norm = np.array(normalise_texts(texts), dtype=object)
        self.cues = LexiconCues().fit(self.norm).transform(self.norm).tocsr()
        self.mood = MoodCues().fit(self.norm).transform(self.norm).tocsr()
        self.claims = ClaimCues().fit(self.norm).transform(self.norm).tocsr()

    def fit_predict(self, train, weights, labels, test, params, seed):
        pipeline = build_call_pipeline(seed=seed, **params)
        blocks = dict(pipeline.named_steps["features"].transformer_list)
        tw = pipeline.named_steps["features"].transformer_weights
        def matrix(rows, fit):
            parts = []
            for name in ("char_ngrams", "words"):
                vec = blocks[name]
                parts.append(tw[name] * (vec.fit_transform(self.norm[rows]) if fit else vec.transform(self.norm[rows])))
            parts.append(tw["cues"] * self.cues[rows])
            for name in ("mood", "claims"):
                if name in blocks:
                    parts.append(tw[name] * getattr(self, name)[rows])
            return sp.hstack(parts).tocsr()
        classifier = pipeline.named_steps["classifier"]
        classifier.fit(matrix(train, True), labels, sample_weight=weights)
        proba = classifier.predict_proba(matrix(test, False))
        classes = list(classifier.classes_)
        return np.stack([proba[:, classes.index(k)] for k in KINDS], axis=1)


def _fit_predict(features, n_written, written_labels, real_labels, train_real, test_real, params, seed):
    rows = np.r_[np.arange(n_written), n_written + train_real]
    labels = np.r_[written_labels, real_labels[train_real]]
    weights = np.r_[np.ones(n_written), np.full(len(train_real), REAL_WEIGHT)]
    return features.fit_predict(rows, weights, labels, n_written + test_real, params, seed)


def _groups(real: pd.DataFrame) -> np.ndarray:
    return (real["language"] + "|" + real["group"]).to_numpy()


def stage1(written, real, splits, folds, inner_folds):
    """Per split and outer fold: test indices, and per stage-1 variant the test probabilities and the
    inner out-of-fold probabilities of the training real posts."""
    out = []
    y, groups = real["label"].to_numpy(), _groups(real)
    features = _Features(list(written["text"]) + list(real["text"]))
    wl, n_written = written["label"].to_numpy(), len(written)
    for split in range(splits):
        outer = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=split)
        for k, (train, test) in enumerate(outer.split(real["text"], y, groups)):
            started = time.perf_counter()
            inner = StratifiedGroupKFold(n_splits=inner_folds, shuffle=True, random_state=100 + split)
            inner_splits = list(inner.split(train, y[train], groups[train]))
            entry = {"split": split, "fold": k, "train": train, "test": test, "inner": inner_splits}
            for name, params in STAGE1.items():
                entry[f"{name}:test"] = _fit_predict(features, n_written, wl, y, train, test, params, split)
                oof = np.zeros((len(train), 3))
                for itrain, itest in inner_splits:
                    oof[itest] = _fit_predict(features, n_written, wl, y, train[itrain], train[itest], params, split)
                entry[f"{name}:oof"] = oof
            out.append(entry)
            print(f"split {split} fold {k}: {time.perf_counter() - started:.0f} s", flush=True)
    return out


def dense_features(real: pd.DataFrame) -> np.ndarray:
    """Lexicon cue counts, mood/person/address counts and the guessed language, per real post."""
    norm = normalise_texts(real["text"])
    cues = LexiconCues().fit(norm).transform(norm).toarray()
    mood = MoodCues().fit(norm).transform(norm).toarray()
    lang = np.array([detect_language(t) for t in real["text"]])
    onehot = np.stack([lang == code for code in LANGS], axis=1).astype(float)
    length = np.log1p(np.array([len(t) for t in norm], dtype=float))[:, None]
    return np.hstack([cues, mood, onehot, length])


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _f1(truth, pred):
    tp = np.sum(truth & pred)
    return 2 * tp / (truth.sum() + pred.sum()) if truth.sum() + pred.sum() else 0.0


def _best_threshold(score, truth, gate, grid, objective="f1"):
    """The grid threshold that maximises F1, or ("p90") the lowest whose precision reaches 0.9
    (the most precise one when none does)."""
    if objective == "f1":
        return grid[int(np.argmax([_f1(truth, gate & (score >= t)) for t in grid]))]
    precision = np.array([np.sum(truth & gate & (score >= t)) / max(np.sum(gate & (score >= t)), 1) for t in grid])
    ok = np.flatnonzero(precision >= 0.9)
    return grid[ok[0]] if len(ok) else grid[int(np.argmax(precision))]


def decide(call_score, boast_score, reporting, removal, t_call, t_boast):
    is_call = reporting & (call_score >= t_call)
    boast = ~is_call & removal & (boast_score >= t_boast)
    return np.where(is_call, "call", np.where(boast, "boast", "other"))


def _stage2_model(kind):
    if kind == "lr":
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    if kind == "svm":
        return LinearSVC(C=0.1, class_weight="balanced", max_iter=20000)
    return HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200, min_samples_leaf=20,
                                          class_weight="balanced", random_state=0)


def _scores2(model, X):
    """Call score and boast-vs-other score of a fitted stage-2 model."""
    classes = list(model.classes_)
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(X)
        pc, pb, po = (p[:, classes.index(k)] for k in KINDS)
        return pc, pb / np.maximum(pb + po, 1e-9)
    d = model.decision_function(X)
    return d[:, classes.index("call")], d[:, classes.index("boast")] - d[:, classes.index("other")]


def stage2_scores(real, cache, dense, name, stage2):
    """Per cache entry: call and boast scores, inner out-of-fold on the training posts and on the test posts."""
    y = real["label"].to_numpy()
    out = []
    for entry in cache:
        train, test = entry["train"], entry["test"]
        ptest, poof = entry[f"{name}:test"], entry[f"{name}:oof"]
        if stage2 is None:
            out.append((poof[:, 0], poof[:, 1] / np.maximum(poof[:, 1] + poof[:, 2], 1e-9),
                        ptest[:, 0], ptest[:, 1] / np.maximum(ptest[:, 1] + ptest[:, 2], 1e-9)))
            continue
        Xtr, Xte = np.hstack([_logit(poof), dense[train]]), np.hstack([_logit(ptest), dense[test]])
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
        # Stage-2 out-of-fold scores on the training posts (same inner split) choose the thresholds.
        call_oof, boast_oof = np.zeros(len(train)), np.zeros(len(train))
        for itrain, itest in entry["inner"]:
            m = _stage2_model(stage2).fit(Xtr[itrain], y[train][itrain])
            call_oof[itest], boast_oof[itest] = _scores2(m, Xtr[itest])
        m = _stage2_model(stage2).fit(Xtr, y[train])
        out.append((call_oof, boast_oof, *_scores2(m, Xte)))
    return out


def evaluate(real, cache, dense, scores, stage2, tune, gate_target):
    """Per-language scores of every split, and the predictions per split, for one decision rule."""
    y = real["label"].to_numpy()
    texts = real["text"].tolist()
    reporting, removal = mentions_reporting(texts), claims_removal(texts)
    # A named target: a link or mention in the post, or a report verb pointing at "this/it/him".
    base = len(LexiconCues().get_feature_names_out())
    target = (dense[:, base + FEATURE_NAMES.index("mood_target_in_post")] > 0) | (
        dense[:, base + FEATURE_NAMES.index("mood_deictic")] > 0)
    if gate_target:
        reporting = reporting & target
    preds = {}
    for entry, (call_oof, boast_oof, call_te, boast_te) in zip(cache, scores, strict=True):
        split, train, test = entry["split"], entry["train"], entry["test"]
        if tune:
            grid_c = np.quantile(call_oof, np.linspace(0.5, 0.995, 100))
            grid_b = np.quantile(boast_oof, np.linspace(0.5, 0.999, 100))
            t_call = _best_threshold(call_oof, y[train] == "call", reporting[train], grid_c, tune)
            not_call = ~(reporting[train] & (call_oof >= t_call))
            t_boast = _best_threshold(boast_oof, y[train] == "boast", removal[train] & not_call, grid_b, tune)
        else:
            t_call, t_boast = (0.0, 0.0) if stage2 == "svm" else (0.5, 0.5)
        preds.setdefault(split, np.empty(len(real), dtype=object))[test] = decide(
            call_te, boast_te, reporting[test], removal[test], t_call, t_boast)
    tables = [score_by_language(real.assign(predicted=pred)).assign(split=split) for split, pred in preds.items()]
    return pd.concat(tables, ignore_index=True), preds


def _summary(every, variant):
    mean = every.groupby("language", sort=False).mean(numeric_only=True)
    overall = every[every["language"] == "all"]
    row = {"stage1": variant[0], "stage2": variant[1] or "-",
           "thresholds": f"inner CV {variant[2]}" if variant[2] else "0.5", "call_needs_target": variant[3]}
    for m in ("call_precision", "call_recall", "call_f1", "boast_precision", "boast_recall"):
        row[m] = round(float(mean.loc["all", m]), 3)
        row[m + "_range"] = [round(float(overall[m].min()), 3), round(float(overall[m].max()), 3)]
    for lang in ("en", "zh", "ru", "uk"):
        row[f"{lang}_call_precision"] = round(float(mean.loc[lang, "call_precision"]), 3)
        row[f"{lang}_call_recall"] = round(float(mean.loc[lang, "call_recall"]), 3)
    print(f"{row['stage1']:>10} {row['stage2']:>3} thr={row['thresholds']:<12} target={variant[3]!s:<5} "
          f"call P {row['call_precision']:.3f} R {row['call_recall']:.3f} F1 {row['call_f1']:.3f}  "
          f"boast P {row['boast_precision']:.3f} R {row['boast_recall']:.3f} | en R {row['en_call_recall']:.2f} "
          f"zh R {row['zh_call_recall']:.2f} ru R {row['ru_call_recall']:.2f} uk R {row['uk_call_recall']:.2f}",
          flush=True)
    return row


def _show_errors(real, row, preds):
    """The errors of the best variant on split 0, by kind, with a few texts of each."""
    pred = preds[0]
    wrong = real.assign(predicted=pred)[pred != real["label"].to_numpy()]
    print(f"\nerrors of the best variant ({row['stage1']}, {row['stage2']}, {row['thresholds']}, "
          f"target={row['call_needs_target']}), split 0:")
    print((wrong["label"] + "→" + wrong["predicted"] + " " + wrong["kind"]).value_counts().head(15).to_string())
    for _, r in wrong.sample(min(40, len(wrong)), random_state=0).iterrows():
        print(r["language"], r["label"], r["predicted"], r["text"][:120].replace("\n", " / "))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--inner-folds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/calls_stage1.pkl"))
    args = parser.parse_args(argv)

    written, real = read_labelled(), read_real().reset_index(drop=True)
    cache = pickle.loads(args.cache.read_bytes()) if args.cache.exists() else None
    if cache is not None and len(cache[0]["train"]) + len(cache[0]["test"]) != len(real):
        cache = None  # the real posts changed since the cache was written
    if cache is None:
        cache = stage1(written, real, args.splits, args.folds, args.inner_folds)
        args.cache.write_bytes(pickle.dumps(cache))
    dense = dense_features(real)
    rows, best = [], None
    for s1, s2 in [(s1, s2) for s1 in STAGE1 for s2 in (None, "lr", "svm", "hgb")]:
        scores = stage2_scores(real, cache, dense, s1, s2)
        for tune in (None, "f1", "p90"):
            if s2 == "svm" and tune is None:
                continue
            for gate in (False, True):
                every, preds = evaluate(real, cache, dense, scores, s2, tune, gate)
                row = _summary(every, (s1, s2, tune, gate))
                rows.append(row)
                if best is None or row["call_f1"] > best[0]["call_f1"]:
                    best = (row, preds)
    _show_errors(real, *best)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "calls_models", "command": "python bench/calls_models.py",
                                   "splits": args.splits, "folds": args.folds, "inner_folds": args.inner_folds,
                                   "real_rows": len(real), "variants": rows}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
