"""How a post tells of a removal: a win after reporting, the writer's own loss, or a rule?

"It's gone, thanks everyone for the reports", "my channel was removed" and "a video gets removed
after three strikes" all claim a removal in the lexicon's words; only the first is a boast. What
differs is how the removal is told: as a success or a relief ("finally", "举报成功", "活该"), of the
writer's own account ("my", "я", "我的"), of someone else's thing pointed at ("the account", "их"),
or as a rule, a wish or a question ("if", "should be", "可能"). :class:`ClaimCues` turns that into
a few numbers per post for the calls classifier of :mod:`detector.features.calls`, beside the mood
of its reporting sentences (:mod:`detector.features.mood`).

Only sentences with a ``removal`` cue are read, except for success words and reporting, which
count anywhere in a post that claims a removal ("Thanks! The account has been suspended."); the
removal regex runs only on the texts where its anchors occur (:mod:`detector.features.anchors`). The
per-language patterns are in the ``claim`` section of ``detector/data/calls/lexicon.json`` (one
gloss per kind there), pooled over languages. Input is the normalised text of
:func:`detector.features.calls.normalise_post_text`.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from detector.features.anchors import NEVER, narrowing_of
from detector.features.mood import _SENTENCE, _alternation, mood_patterns, reporting_pattern

CLAIM_KINDS = ("success", "own", "generic", "third")
# Mood kinds that tell of reporting done (by the writer or by others): a removal told after them
# follows reports.
_REPORTED = ("self_report", "narrate")

FEATURE_NAMES = ("claim_sentences", *(f"claim_{k}" for k in CLAIM_KINDS), "claim_question", "claim_plain",
                 "claim_success_in_post", "claim_after_reporting")


def claim_patterns(lexicon: dict) -> dict[str, re.Pattern | None]:
    """One compiled pattern per claim kind, languages pooled, from the lexicon's ``claim`` section."""
    cues = lexicon.get("claim", {}).get("cues", {})
    return {kind: _alternation(p for patterns in cues.get(kind, {}).values() for p in patterns)
            for kind in CLAIM_KINDS}


def removal_pattern(lexicon: dict) -> re.Pattern | None:
    """Any ``removal`` cue of the lexicon (the sentences a claim is read in)."""
    return _alternation(p for patterns in lexicon["cues"].get("removal", {}).values() for p in patterns)


def claim_counts(text: str, removal: re.Pattern | None, kinds: dict[str, re.Pattern | None],
                 reported: re.Pattern | None) -> list[int]:
    """The raw counts of :data:`FEATURE_NAMES` for one normalised text.

    Per sentence with a removal cue: whether each claim kind occurs in it and whether it asks a
    question; ``claim_plain`` counts such sentences told neither of the writer's own thing, nor as
    a rule, nor as a question. Then, for a post with such a sentence: whether it has a success word
    anywhere and whether it names reporting anywhere (``reported``: report cues, or reporting done).
    """
    row = dict.fromkeys(FEATURE_NAMES, 0)
    if removal is None or not text or not removal.search(text):
        return list(row.values())
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        if not removal.search(sentence):
            continue
        row["claim_sentences"] += 1
        found = {kind: bool(p is not None and p.search(sentence)) for kind, p in kinds.items()}
        for kind, hit in found.items():
            row[f"claim_{kind}"] += hit
        question = sentence.rstrip().endswith(("?", "？"))
        row["claim_question"] += question
        row["claim_plain"] += not (found["own"] or found["generic"] or question)
    if row["claim_sentences"]:
        success = kinds.get("success")
        row["claim_success_in_post"] = int(bool(success is not None and success.search(text)))
        row["claim_after_reporting"] = int(bool(reported is not None and reported.search(text)))
    return list(row.values())


class ClaimCues(TransformerMixin, BaseEstimator):
    """How removals are told (``log1p`` counts, :data:`FEATURE_NAMES`) in normalised texts.

    Parameters
    ----------
    lexicon : dict or None
        The parsed calls lexicon (with its ``claim`` section); None reads the bundled one at fit.
    """

    def __init__(self, lexicon: dict | None = None):
        self.lexicon = lexicon

    def fit(self, X, y=None):
        from detector.features.calls import load_lexicon

        lexicon = self.lexicon if self.lexicon is not None else load_lexicon()
        self.removal_pattern_ = removal_pattern(lexicon)
        self.kind_patterns_ = claim_patterns(lexicon)
        moods = mood_patterns(lexicon)
        report = reporting_pattern(lexicon)
        self.reported_pattern_ = _alternation([p.pattern for p in (report, *(moods[k] for k in _REPORTED))
                                               if p is not None])
        self.n_features_out_ = len(FEATURE_NAMES)
        return self

    def transform(self, X):
        texts = [str(t) for t in X]
        counts = np.zeros((len(texts), self.n_features_out_))
        if self.removal_pattern_ is not None and texts:
            # Each text meets only the alternatives that may match in it (the same counts, faster);
            # a text where no removal cue may match claims none, and its row stays 0.
            kinds = list(self.kind_patterns_)
            regexes = [self.removal_pattern_, *self.kind_patterns_.values(), self.reported_pattern_]
            for i, n in enumerate(narrowing_of(regexes).per_text(texts)):
                if n[0] is not NEVER:
                    counts[i] = claim_counts(texts[i], n[0], dict(zip(kinds, n[1:-1], strict=True)), n[-1])
        return sp.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features=None):
        return np.array(FEATURE_NAMES, dtype=object)

