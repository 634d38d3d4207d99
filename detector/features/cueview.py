"""A language-independent view of a post: its lexicon cues as canonical tokens, in order.

"Please report this account", "请大家举报这个账号" and "Будь ласка, поскаржтеся на цей акаунт"
share no character n-gram, but all read MOBILISE REPORT ... TARGET. :class:`CueTokens` rewrites a
normalised post as the sequence of the lexicon cues it holds (one upper-case token per cue kind:
``REPORT``, ``MOBILISE``, ``URGE``, ``SELF_REPORT``, ``REMOVAL``, ``SUCCESS``, …), links and mentions
(``TARGET``), sentence ends (``END``) and question marks (``ASK``). Word n-grams over that sequence
(:func:`cue_view_vectorizer`) let an order of cues learned from English or Chinese rows count in
Russian, Kazakh, Uyghur or Ukrainian, where real rows are few.

The patterns are the lexicon's, pooled over languages: ``cues`` (report, mobilise, takedown, …),
``mood`` (urge, self_report, narrate, …) and ``claim`` (success, own, generic, third). Input is
the normalised text of :func:`detector.features.calls.normalise_post_text`.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from detector.features.mood import _alternation

_TARGET = r"\b(?:yturl|ytchannel|tgurl|weburl|atmention)\b"
_END = r"[.!。！;；\n]+"
_ASK = r"[?？]+"


def cue_token_patterns(lexicon: dict) -> list[tuple[str, re.Pattern]]:
    """(token, pattern) per cue kind of the lexicon's ``cues``, ``mood`` and ``claim`` sections."""
    sections = [("", lexicon.get("cues", {})), ("", lexicon.get("mood", {}).get("cues", {})),
                ("", lexicon.get("claim", {}).get("cues", {}))]
    out = []
    for _, kinds in sections:
        for kind, by_language in kinds.items():
            pattern = _alternation(p for patterns in by_language.values() for p in patterns)
            if pattern is not None:
                out.append((kind.upper(), pattern))
    out += [("TARGET", re.compile(_TARGET)), ("ASK", re.compile(_ASK)), ("END", re.compile(_END))]
    return out


def cue_tokens(text: str, patterns: list[tuple[str, re.Pattern]]) -> str:
    """The cue tokens of one normalised text, in the order their matches start."""
    hits = []
    for order, (token, pattern) in enumerate(patterns):
        hits.extend((m.start(), order, token) for m in pattern.finditer(text))
    hits.sort()
    tokens: list[str] = []
    for _, _, token in hits:
        if token == "END" and (not tokens or tokens[-1] == "END"):
            continue  # runs of sentence ends, and a leading one, say nothing
        tokens.append(token)
    return " ".join(tokens)


class CueTokens(TransformerMixin, BaseEstimator):
    """Normalised texts -> their cue token sequences (:func:`cue_tokens`).

    Parameters
    ----------
    lexicon : dict or None
        The parsed calls lexicon; None reads the bundled one at fit.
    """

    def __init__(self, lexicon: dict | None = None):
        self.lexicon = lexicon

    def fit(self, X, y=None):
        from detector.features.calls import load_lexicon

        self.patterns_ = cue_token_patterns(self.lexicon if self.lexicon is not None else load_lexicon())
        return self

    def transform(self, X):
        return np.array([cue_tokens(str(t), self.patterns_) for t in X], dtype=object)


def cue_view_vectorizer(lexicon: dict | None = None) -> Pipeline:
    """Cue tokens, then TF-IDF over their 1-3-grams (unit length rows, like the other text blocks)."""
    return Pipeline([("tokens", CueTokens(lexicon=lexicon)),
                     ("ngrams", TfidfVectorizer(analyzer="word", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                                lowercase=False, token_pattern=r"[A-Z_]+", dtype=np.float64))])


# --- the words around the cues ------------------------------------------------------------------

#: Characters kept either side of a reporting or removal cue by :class:`CueWindows`.
WINDOW = 20


def cue_window_pattern(lexicon: dict) -> re.Pattern | None:
    """Where reporting or a removal is named: the ``report``, ``takedown`` and ``removal`` cues and
    the mood kinds that hold a report verb of their own (reporting done, narrated, threatened)."""
    from detector.features.mood import _TOLD, mood_patterns, reporting_pattern

    moods = mood_patterns(lexicon)
    parts = [reporting_pattern(lexicon), *(moods[k] for k in _TOLD),
             _alternation(p for patterns in lexicon["cues"].get("removal", {}).values() for p in patterns)]
    return _alternation(p.pattern for p in parts if p is not None)


def cue_windows(text: str, pattern: re.Pattern | None, width: int = WINDOW) -> str:
    """The stretches of ``text`` within ``width`` characters of a cue, merged, joined by " | "."""
    if pattern is None:
        return ""
    spans: list[list[int]] = []
    for m in pattern.finditer(text):
        start, end = max(0, m.start() - width), min(len(text), m.end() + width)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return " | ".join(text[a:b] for a, b in spans)


class CueWindows(TransformerMixin, BaseEstimator):
    """Normalised texts -> the words around their reporting and removal cues (:func:`cue_windows`).

    How reporting is phrased ("请举报", "I reported", "кидайте жалобы") sits next to the report
    word; what the thread is about (a scam repository, a fake rumour) sits elsewhere and changes
    from thread to thread. Character n-grams of these windows alone learn the first.
    """

    def __init__(self, lexicon: dict | None = None, width: int = WINDOW):
        self.lexicon = lexicon
        self.width = width

    def fit(self, X, y=None):
        from detector.features.calls import load_lexicon

        self.pattern_ = cue_window_pattern(self.lexicon if self.lexicon is not None else load_lexicon())
        return self

    def transform(self, X):
        return np.array([cue_windows(str(t), self.pattern_, self.width) for t in X], dtype=object)


def cue_window_vectorizer(lexicon: dict | None = None, width: int = WINDOW) -> Pipeline:
    """Cue windows, then TF-IDF over their character 2-5-grams (within words, like the main block)."""
    return Pipeline([("windows", CueWindows(lexicon=lexicon, width=width)),
                     ("ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                                lowercase=False, dtype=np.float64))])
