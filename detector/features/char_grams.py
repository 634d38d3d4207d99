"""A fitted ``char_wb`` TF-IDF vectoriser's transform, counted in bulk with numpy.

scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer` with
``analyzer="char_wb"`` builds every character n-gram of every word as a Python string and looks
each up in its vocabulary: about 150 µs for a post of 110 characters, the largest part of the
calls model's cost per candidate once its regexes run narrowed. Here the same n-grams are keys
of integers: each character of the vocabulary gets a number 1..A (0 for every other character
and for the gap between two words), an n-gram is the number ``c1·B^(n-1) + … + cn`` with B = A+1
(no two n-grams share one, and one holding a 0 is in no vocabulary entry), all n-grams of a
batch of texts are computed at once over their code points and looked up in a hash index of the
vocabulary's keys. The counts are the vectoriser's own (the same n-grams of the same
words: sklearn pads each whitespace-separated word with a space on each side and takes every
window of each length that fits), in a matrix of the same layout (sorted columns per row), and
the vectoriser's own TF-IDF step weighs and normalises them: the same numbers, bit for bit.

:class:`FastCharGrams` wraps a fitted vectoriser; :func:`fast_features` gives a feature union
with its ``char_wb`` vectorisers wrapped, leaving every other block (and the fitted model) as it
is. A vectoriser this module cannot reproduce (another analyzer, lower-casing, a preprocessor,
an alphabet too large for 64-bit keys) is used as it is.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


class _Keys:
    """A vectoriser's vocabulary as integer keys: the character numbers, an index of the keys and
    the column of each."""

    def __init__(self, vocabulary: dict[str, int], max_n: int):
        alphabet = sorted(set("".join(vocabulary)))
        self.base = len(alphabet) + 1
        self.number = np.zeros(0x110000, dtype=np.int64)
        self.number[[ord(ch) for ch in alphabet]] = np.arange(1, self.base)
        numbers = dict(zip(alphabet, range(1, self.base), strict=True))
        keys = np.array([functools.reduce(lambda k, ch: k * self.base + numbers[ch], gram, 0) for gram in vocabulary],
                        dtype=np.int64)
        # A hash index of the keys (a lookup per n-gram; much faster than a binary search).
        self.index = pd.Index(keys)
        self.columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))


def _reproducible(vectorizer) -> bool:
    """Whether :class:`FastCharGrams` gives this vectoriser's output (else it is used as it is)."""
    if not isinstance(vectorizer, TfidfVectorizer) or not hasattr(vectorizer, "vocabulary_") \
            or not hasattr(vectorizer, "_tfidf"):
        return False
    min_n, max_n = vectorizer.ngram_range
    vocabulary = vectorizer.vocabulary_
    alphabet = len(set("".join(vocabulary))) + 1
    return (vectorizer.analyzer == "char_wb" and not vectorizer.lowercase and vectorizer.preprocessor is None
            and vectorizer.strip_accents is None and not vectorizer.binary and vectorizer.input == "content"
            and 1 <= min_n <= 3 and bool(vocabulary) and alphabet ** max_n < 2 ** 62
            and all(len(gram) <= max_n for gram in vocabulary))


class FastCharGrams:
    """A fitted ``char_wb`` :class:`TfidfVectorizer` whose ``transform`` counts in bulk (see the
    module docstring); the same matrix as ``vectorizer.transform``."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self._keys = _Keys(vectorizer.vocabulary_, vectorizer.ngram_range[1])

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """The vectoriser's n-gram counts (rows: texts, columns: its vocabulary), sorted columns."""
        min_n, max_n = self.vectorizer.ngram_range
        keys = self._keys
        n_docs, n_columns = len(texts), len(keys.columns)
        words = [text.split() for text in texts]
        per_doc = np.fromiter(map(len, words), dtype=np.int64, count=n_docs)
        flat = [w for doc in words for w in doc]
        if not flat:
            return sp.csr_matrix((n_docs, n_columns), dtype=self.vectorizer.dtype)
        # " w1 \0 w2 \0 … ": each word padded with a space, a gap (number 0) between two.
        joined = " " + " \x00 ".join(flat) + " "
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        number = keys.number[points]
        padded = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat)) + 2
        gaps = np.cumsum(padded + 1)[:-1] - 1
        number[gaps] = 0
        doc_of_word = np.repeat(np.arange(n_docs), per_doc)
        # The document of each position (gaps included: no n-gram that holds one is kept).
        doc_at = np.repeat(doc_of_word, padded + 1)[:len(number)]
        found_docs, found_columns = [], []
        key = np.zeros(len(number), dtype=np.int64)
        valid = np.ones(len(number), dtype=bool)
        for n in range(1, max_n + 1):
            # key[p] is the n-gram starting at p (for p + n <= len).
            m = len(number) - n + 1
            if m <= 0:
                break
            key = key[:m] * keys.base + number[n - 1:n - 1 + m]
            valid = valid[:m] & (number[n - 1:n - 1 + m] != 0)
            if n < min_n:
                continue
            at = np.flatnonzero(valid)
            where = keys.index.get_indexer(key[at])
            hit = where >= 0
            found_docs.append(doc_at[at[hit]])
            found_columns.append(keys.columns[where[hit]])
        docs = np.concatenate(found_docs)
        combined, counts = np.unique(docs * n_columns + np.concatenate(found_columns), return_counts=True)
        rows, columns = np.divmod(combined, n_columns)
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_docs))]
        index_dtype = np.int32 if len(columns) <= np.iinfo(np.int32).max else np.int64
        return sp.csr_matrix((counts.astype(self.vectorizer.dtype), columns.astype(index_dtype),
                              indptr.astype(index_dtype)), shape=(n_docs, n_columns))

    def transform(self, texts) -> sp.csr_matrix:
        texts = list(texts)
        if not all(type(t) is str for t in texts):
            return self.vectorizer.transform(texts)
        return self.vectorizer._tfidf.transform(self.counts(texts), copy=False)


@functools.lru_cache(maxsize=16)
def _fast(vectorizer: TfidfVectorizer) -> FastCharGrams | None:
    return FastCharGrams(vectorizer) if _reproducible(vectorizer) else None


def fast_features(union: FeatureUnion) -> FeatureUnion:
    """A feature union like ``union`` (the same fitted blocks and weights) whose reproducible
    ``char_wb`` vectorisers count in bulk; ``union`` itself when it has none."""
    blocks = [(name, (_fast(t) if isinstance(t, TfidfVectorizer) else None) or t) for name, t in union.transformer_list]
    if all(a is b for (_, a), (_, b) in zip(blocks, union.transformer_list, strict=True)):
        return union
    return FeatureUnion(blocks, transformer_weights=union.transformer_weights)
