"""Near-duplicate call texts across chats: MinHash LSH candidates, exact Jaccard verdicts.

A call to report travels as copies: forwarded verbatim, retyped with a word changed, the link
swapped for another URL shape of the same video, an emoji added. Texts are normalised so those
edits cost nothing (NFKC, case-folded, every URL replaced by its canonical target id, punctuation,
emoji and runs of whitespace reduced to one space) and cut into overlapping character
``shingle_size``-grams. Two posts are near-duplicates when the Jaccard similarity of their shingle
sets is at least ``threshold``; that exact similarity is what findings quote.

Comparing all pairs is quadratic: 10^6 posts are 5·10^11 pairs. An all-pairs TF-IDF cosine
product over character 5-grams, measured in ``bench/copies.py`` at 10^4 and 3·10^4 posts, grows to
~1.5·10^11 non-zero similarities (~1.8 TB) and ~10 hours at 10^6. So candidates come from MinHash (Broder 1997)
with LSH banding (Indyk and Motwani 1998; Leskovec, Rajaraman and Ullman, *Mining of Massive
Datasets*, ch. 3) tuned to a lower ``lsh_threshold`` than the final one, so that pairs just above
``threshold`` are rarely missed, and every surviving candidate is checked exactly. Three things
keep that affordable on a million posts of real chatter:

* shingles that occur in thousands of posts (the corpus's stop-words: " the ", "и на ") are left
  out of the band signatures (they still count in the exact similarity): with them, short
  unrelated posts made of common words fall into LSH buckets by the thousand;
* a second MinHash signature of the full sets estimates each candidate's similarity, and
  candidates far below ``threshold`` (four standard deviations) are dropped before the exact check;
* MinHash is vectorised numpy (multiply-shift hashing, Dietzfelbinger et al. 1997), since
  datasketch's per-document Python loop is the bottleneck at this scale (see ``bench/copies.py``);
  the band/row split is datasketch's own optimum for the threshold and number of permutations.

Shingles are identified exactly, not by a hash: characters are renumbered densely and a
shingle's characters are packed into one int64, so the Jaccard values are exact set similarities.

Identical normalised texts are grouped first (forwards usually are identical): each group is
linked as a star to its earliest post, and near-duplicate pairs between different texts are
reported between the groups' earliest posts. That keeps the output linear in the number of posts
while giving the same connected components (:func:`copy_clusters`) as listing every pair.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd
from datasketch.lsh import _optimal_param
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from detector.ids import canonical_target, extract_urls

PAIR_COLUMNS = ["post_a", "post_b", "similarity", "chat_a", "chat_b", "lag_seconds"]
CLUSTER_COLUMNS = ["cluster_id", "post_id", "chat", "posted_at", "is_first"]

_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, emoji, variation selectors, ZWJ, spaces
# Every URL extract_urls finds has a scheme, "www." or a known short host; most posts have none.
_MAY_HOLD_URL = re.compile(r"://|www\.|youtu|t\.me|t\[\.\]me", re.IGNORECASE)
# Shingles and (document, shingle) pairs are processed in blocks of this many, so hashing stays
# in cache and no temporary exceeds a few tens of MB.
_BLOCK = 1 << 20
_STOP_SHINGLE_FLOOR = 1000


@lru_cache(maxsize=1 << 16)
def _canonical(url: str) -> str:
    return canonical_target(url)


def normalise_text(text: str | None) -> str:
    """The text copies of one call share: what :func:`near_duplicate_pairs` shingles.

    NFKC (full-width and compatibility forms fold together), each URL replaced by its canonical
    target id (``youtu.be/ID`` and ``youtube.com/shorts/ID?si=…`` become ``youtube:video:ID``;
    ids keep their case because YouTube ids are case-sensitive), the rest case-folded, every run
    of characters that are not letters or digits (punctuation, emoji, symbols, whitespace) made
    one space.

    Examples
    --------
    >>> normalise_text("REPORT this 👉 https://youtu.be/dQw4w9WgXcQ?si=x !!")
    'report this youtube:video:dQw4w9WgXcQ'
    """
    if not text:
        return ""
    # A NUL is not a letter or digit, so it would become a space anyway; removing it first keeps
    # the sentinel below unambiguous (hostile posts may carry one).
    text = unicodedata.normalize("NFKC", text.replace("\x00", " "))
    urls = extract_urls(text) if _MAY_HOLD_URL.search(text) else []
    if not urls:
        return _NOT_WORD.sub(" ", text.casefold()).strip()
    # Cut the URLs out with a NUL sentinel (normalised text never keeps one), longest first so a
    # URL that prefixes another is not cut inside it.
    for k, url in sorted(enumerate(urls), key=lambda item: -len(item[1])):
        text = text.replace(url, f"\x00{k}\x00")
    pieces = text.split("\x00")
    out = [f" {_canonical(urls[int(piece)])} " if k % 2 else _NOT_WORD.sub(" ", piece.casefold())
           for k, piece in enumerate(pieces)]
    return " ".join("".join(out).split())


def _shingle_ids(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ids of every character ``k``-gram of each text, in text order.

    Every text must have at least ``k`` characters. Returns (ids int64, starts): the shingles of
    text d are ``ids[starts[d]:starts[d + 1]]``.
    """
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    pad = "\x00" * (k - 1)  # normalised texts hold no NUL, so padding never fakes a shared shingle
    chars = np.frombuffer((pad.join(texts) + pad).encode("utf-32-le"), dtype=np.uint32)
    # Dense character codes 1..A (0 stays the padding), found by counting, not sorting.
    seen = np.bincount(chars, minlength=1)
    seen[0] = 0
    code_of = np.cumsum(seen > 0)
    codes = code_of[chars]
    del chars
    bits = max(1, int(np.ceil(np.log2(code_of[-1] + 1))))
    n_windows = len(codes) - k + 1
    # A window is a shingle when it starts and ends on a character: padding runs are k - 1 long,
    # so such a window never spans two texts.
    is_shingle = (codes[:n_windows] != 0) & (codes[k - 1:] != 0)
    starts = np.concatenate([[0], np.cumsum(lengths - k + 1)])

    # Pack as many characters as fit in 62 bits per group; with several groups (alphabets over
    # 2**12 characters for k = 5), rank each group and pack the ranks (each < 2**31), so ids stay
    # exact whatever the alphabet.
    per_group = max(1, 62 // bits)
    ids = None
    for first in range(0, k, per_group):
        group = np.zeros(n_windows, dtype=np.int64)
        for m in range(first, min(k, first + per_group)):
            group <<= bits
            group |= codes[m:m + n_windows]
        group = group[is_shingle]
        if ids is None:
            ids = group
        else:
            ids = (pd.factorize(ids)[0].astype(np.int64) << 31) | pd.factorize(group)[0]
    return ids, starts


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting in place: for large int64 arrays, faster than numpy's hash-based unique."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea and Flood 2014): spreads packed ids over 64 bits."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def minhash_signatures(ids: np.ndarray, starts: np.ndarray, num_perm: int = 64, seed: int = 0) -> np.ndarray:
    """MinHash signatures (n_texts, num_perm) uint32 of the shingle sets ``ids[starts[d]:starts[d+1]]``.

    Permutation p is approximated by the multiply-shift hash ``(a_p x + b_p) >> 32`` of the mixed
    shingle id, with odd ``a_p`` and ``b_p`` drawn from ``seed``. Texts without shingles get the
    all-ones signature, which the caller must not band.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, num_perm, dtype=np.uint64)
    n_texts = len(starts) - 1
    sig = np.full((n_texts, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    shift = np.uint64(32)
    # Blocks end on text boundaries so each text's minimum is taken within one block.
    bounds = np.unique(np.searchsorted(starts, np.arange(0, starts[-1], _BLOCK), side="right") - 1)
    bounds = np.append(bounds, n_texts)
    with np.errstate(over="ignore"):
        for lo_t, hi_t in zip(bounds[:-1], bounds[1:], strict=True):
            lo_s, hi_s = starts[lo_t], starts[hi_t]
            if hi_s == lo_s:
                continue
            mixed = _splitmix64(ids[lo_s:hi_s])
            local = starts[lo_t:hi_t] - lo_s
            nonempty = np.diff(starts[lo_t:hi_t + 1]) > 0
            rows = np.arange(lo_t, hi_t)[nonempty]
            tmp = np.empty_like(mixed)
            for p in range(num_perm):
                np.multiply(mixed, a[p], out=tmp)
                tmp += b[p]
                tmp >>= shift
                sig[rows, p] = np.minimum.reduceat(tmp, local[nonempty]).astype(np.uint32)
    return sig


def _band_candidates(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Unique (i, j), i < j, of texts equal on all ``rows`` values of at least one band."""
    n = sig.shape[0]
    found = []
    for band in range(bands):
        block = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for col in range(rows):
                key = _splitmix64(key ^ block[:, col])
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        run_start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        run_len = np.diff(np.r_[run_start, n])
        # Every member of a bucket is paired with each member after it in the bucket.
        in_run = np.arange(n) - np.repeat(run_start, run_len)
        later = np.repeat(run_len, run_len) - 1 - in_run
        if later.sum() == 0:
            continue
        i = np.repeat(np.arange(n), later)
        j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(later) - later, later))
        first, second = order[i], order[j]
        found.append(np.minimum(first, second).astype(np.int64) * n + np.maximum(first, second))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    codes = _sorted_unique(np.concatenate(found))
    return np.column_stack([codes // n, codes % n])


def _signature_agreement(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Share of equal MinHash values per pair: an unbiased estimate of its Jaccard similarity."""
    out = np.empty(len(pairs))
    step = max(1, _BLOCK // sig.shape[1])
    for lo in range(0, len(pairs), step):
        chunk = pairs[lo:lo + step]
        out[lo:lo + step] = (sig[chunk[:, 0]] == sig[chunk[:, 1]]).mean(axis=1)
    return out


def _exact_jaccard(ranks: np.ndarray, starts: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of each pair of texts.

    ``ranks`` are the shingles' dense ids (< 2**31), so a (text, shingle) entry packs in an int64.
    """
    if len(pairs) == 0:
        return np.empty(0)
    docs = _sorted_unique(pairs.ravel())
    counts = starts[docs + 1] - starts[docs]
    where = np.repeat(starts[docs], counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    local = np.repeat(np.arange(len(docs), dtype=np.int64), counts)
    entries = _sorted_unique((local << 31) | ranks[where])  # the sets, sorted by document
    entry_doc = entries >> 31
    set_starts = np.searchsorted(entry_doc, np.arange(len(docs) + 1))
    size = np.diff(set_starts)
    a = np.searchsorted(docs, pairs[:, 0])
    b = np.searchsorted(docs, pairs[:, 1])
    inter = np.zeros(len(pairs), dtype=np.int64)
    pair_len = size[a] + size[b]
    ends = np.cumsum(pair_len)
    lo = 0
    while lo < len(pairs):
        base = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, base + 4 * _BLOCK, side="right")))
        idx = np.arange(lo, hi)
        members = []
        for side in (a[idx], b[idx]):
            c = size[side]
            pos = np.repeat(set_starts[side], c) + (np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c))
            members.append(((np.repeat(idx - lo, c)) << 31) | (entries[pos] & ((1 << 31) - 1)))
        both = np.sort(np.concatenate(members))
        dup = both[1:] == both[:-1]  # a shingle in both sets appears twice, once per side
        inter[lo:hi] = np.bincount((both[1:][dup] >> 31), minlength=hi - lo)
        lo = hi
    return inter / (size[a] + size[b] - inter)


def _similar_texts(texts: list[str], threshold: float, lsh_threshold: float, num_perm: int,
                   shingle_size: int, stop_shingle_share: float | None, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) index pairs of distinct texts with exact Jaccard ≥ ``threshold``, and that Jaccard."""
    ids, starts = _shingle_ids(texts, shingle_size)
    ranks, distinct = pd.factorize(ids)
    ranks = ranks.astype(np.int64)
    banded_ids, banded_starts = ids, starts
    if stop_shingle_share is not None:
        occurrences = np.bincount(ranks, minlength=len(distinct))
        usual = occurrences[ranks] <= max(_STOP_SHINGLE_FLOOR, stop_shingle_share * len(texts))
        text_of = np.repeat(np.arange(len(texts)), np.diff(starts))
        kept = np.bincount(text_of[usual], minlength=len(texts))
        usual |= (kept == 0)[text_of]  # a text made only of common shingles keeps them all
        banded_ids = ids[usual]
        banded_starts = np.concatenate([[0], np.cumsum(np.bincount(text_of[usual], minlength=len(texts)))])
        del text_of, usual
    bands, rows = _optimal_param(lsh_threshold, num_perm, 0.5, 0.5)
    candidates = _band_candidates(minhash_signatures(banded_ids, banded_starts, num_perm, seed), bands, rows)
    del banded_ids
    # Most band collisions at scale are short chatter sharing common words. The full sets'
    # signature agreement estimates each candidate's Jaccard with standard deviation
    # sqrt(J(1-J)/num_perm); candidates more than four of those below ``threshold`` are dropped
    # before the exact check (a pair exactly at the threshold is lost with probability about 3e-5).
    if len(candidates):
        full = minhash_signatures(ids, starts, num_perm, seed + 1)
        margin = 4 * np.sqrt(threshold * (1 - threshold) / num_perm)
        candidates = candidates[_signature_agreement(full, candidates) >= threshold - margin]
    similarity = _exact_jaccard(ranks, starts, candidates)
    keep = similarity >= threshold
    return candidates[keep], similarity[keep]


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({"post_a": pd.Series(dtype="object"), "post_b": pd.Series(dtype="object"),
                         "similarity": pd.Series(dtype="float64"), "chat_a": pd.Series(dtype="object"),
                         "chat_b": pd.Series(dtype="object"), "lag_seconds": pd.Series(dtype="float64")})


def near_duplicate_pairs(posts: pd.DataFrame, threshold: float = 0.5, lsh_threshold: float = 0.3,
                         num_perm: int = 64, shingle_size: int = 5, min_length: int = 20,
                         stop_shingle_share: float = 0.003, seed: int = 0) -> pd.DataFrame:
    """Pairs of posts whose normalised texts are near-duplicates (exact Jaccard ≥ ``threshold``).

    Parameters
    ----------
    posts : DataFrame with ``post_id``, ``chat``, ``posted_at`` (UTC) and ``text``; typically the
        posts classified as calls, but any posts will do.
    threshold : the smallest exact Jaccard similarity of shingle sets kept.
    lsh_threshold : the similarity the LSH bands are tuned to; below ``threshold`` so candidates near
        ``threshold`` are rarely lost (at 0.3 with 64 permutations, 21 bands of 3 rows: a pair at
        Jaccard 0.5 is a candidate with probability 1 - (1 - 0.5**3)**21 ≈ 0.94, at 0.6 ≈ 0.99).
    num_perm : MinHash permutations.
    shingle_size : characters per shingle.
    min_length : texts shorter than this after normalisation ("ok", "+1", a bare emoji) are not
        compared: their identity says nothing about coordination.
    stop_shingle_share : shingles occurring more than ``max(1000, stop_shingle_share × texts)`` times
        (" the ", "и на ": the corpus's stop-words) are left out of the LSH bands, where they would
        make buckets of thousands of unrelated short posts; the exact similarity still counts them.
        ``None`` keeps every shingle in the bands (fine up to ~10^5 posts).
    seed : draws the MinHash permutations; the same seed gives the same pairs.

    Returns
    -------
    DataFrame[post_a, post_b, similarity, chat_a, chat_b, lag_seconds]: ``post_a`` is the earlier
    post (by ``posted_at``, then ``post_id``), ``lag_seconds`` ≥ 0 the time from it to ``post_b``.
    Posts with identical normalised text are listed as pairs (earliest, other) with similarity 1.0;
    distinct texts are paired through their earliest posts. Sorted by ``post_a``, ``post_b``.
    """
    frame = posts[["post_id", "chat", "posted_at", "text"]].dropna(subset=["post_id", "posted_at"])
    frame = frame.drop_duplicates("post_id")
    if frame.empty:
        return _empty_pairs()
    norm = pd.Series([normalise_text(t) if isinstance(t, str) else "" for t in frame["text"]],
                     index=frame.index)
    frame = frame.assign(norm=norm)
    frame = frame.loc[norm.str.len() >= max(min_length, shingle_size)]
    frame = frame.sort_values(["posted_at", "post_id"], kind="stable", ignore_index=True)
    if frame.empty:
        return _empty_pairs()

    # One representative (the earliest post) per distinct normalised text.
    text_id, texts = pd.factorize(frame["norm"])
    first_row = pd.Series(np.arange(len(frame))).groupby(text_id).min().to_numpy()
    stars = np.flatnonzero(first_row[text_id] != np.arange(len(frame)))
    found = [pd.DataFrame({"a": first_row[text_id[stars]], "b": stars, "similarity": 1.0})]
    similar, similarity = _similar_texts(list(texts), threshold, lsh_threshold, num_perm, shingle_size,
                                         stop_shingle_share, seed)
    ra, rb = first_row[similar[:, 0]], first_row[similar[:, 1]]
    found.append(pd.DataFrame({"a": np.minimum(ra, rb), "b": np.maximum(ra, rb), "similarity": similarity}))
    pairs = pd.concat(found, ignore_index=True)
    if pairs.empty:
        return _empty_pairs()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    micros = pd.to_datetime(frame["posted_at"], utc=True).astype("datetime64[us, UTC]").array.asi8
    out = pd.DataFrame({
        "post_a": frame["post_id"].to_numpy()[a], "post_b": frame["post_id"].to_numpy()[b],
        "similarity": pairs["similarity"].to_numpy(dtype="float64"),
        "chat_a": frame["chat"].to_numpy()[a], "chat_b": frame["chat"].to_numpy()[b],
        "lag_seconds": (micros[b] - micros[a]) / 1e6,
    })
    return out.sort_values(["post_a", "post_b"], ignore_index=True)


def copy_clusters(posts: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Copy clusters: connected components of the near-duplicate pairs.

    Parameters
    ----------
    posts : DataFrame with ``post_id``, ``chat`` and ``posted_at`` (UTC).
    pairs : DataFrame[post_a, post_b, …] from :func:`near_duplicate_pairs`.

    Returns
    -------
    DataFrame[cluster_id, post_id, chat, posted_at, is_first], one row per post in a cluster of two
    or more. ``cluster_id`` is ``"copy:" + `` the post id of the cluster's earliest post (by
    ``posted_at``, then ``post_id``), so it does not change when later copies are added, and
    ``is_first`` marks that post. Sorted by cluster start, then ``posted_at``, ``post_id``.
    """
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in CLUSTER_COLUMNS}).astype(
            {"posted_at": "datetime64[us, UTC]", "is_first": "bool"})
    members = pd.Index(pd.unique(pd.concat([pairs["post_a"], pairs["post_b"]], ignore_index=True)))
    a, b = members.get_indexer(pairs["post_a"]), members.get_indexer(pairs["post_b"])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(members), len(members)))
    _, component = connected_components(graph, directed=False)
    info = (posts[["post_id", "chat", "posted_at"]].drop_duplicates("post_id")
            .set_index("post_id").reindex(members))
    out = pd.DataFrame({"component": component, "post_id": members, "chat": info["chat"].to_numpy(),
                        "posted_at": info["posted_at"].to_numpy()})
    out = out.sort_values(["posted_at", "post_id"], kind="stable", ignore_index=True)
    first = out.groupby("component")["post_id"].transform("first")
    out["cluster_id"] = "copy:" + first
    out["is_first"] = out["post_id"] == first
    start = out.groupby("component")["posted_at"].transform("min")
    out = out.assign(_start=start).sort_values(["_start", "cluster_id", "posted_at", "post_id"],
                                               kind="stable", ignore_index=True)
    return out[CLUSTER_COLUMNS]
