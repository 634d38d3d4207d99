"""Mood, person and address of the sentences that name reporting: is a post urging, or telling?

"Report this channel" and "I reported this channel" share every content word; what differs is the
mood (imperative vs indicative), the person (you/we vs I/they) and whether the reporting is aimed
at a target here or is a rule ("if you see a scam, report it"), a method ("how to report"), a
quarrel ("I'll report you") or a story ("we got mass-reported"). :class:`MoodCues` turns that into
a few numbers per post for the call classifier of :mod:`detector.features.calls`.

Only sentences that name reporting are read (the lexicon's ``report`` and ``takedown`` cues, or a
first-person, narrated or threatening report verb): mood elsewhere in a post says nothing about
the reporting. The per-language patterns are in
the ``mood`` section of ``detector/data/calls/lexicon.json`` (one gloss per kind there), pooled
over languages so that one weight per kind serves every language. Input is the normalised text of
:func:`detector.features.calls.normalise_post_text` (lower case, links as ``yturl``/``ytchannel``/
``tgurl``/``weburl``, mentions as ``atmention``).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from detector.features.anchors import narrowing_of

MOOD_KINDS = ("urge", "self_report", "narrate", "conditional", "howto", "threat_you", "deictic")
# Kinds whose patterns hold a reporting verb of their own (past tense, passive, threats).
_TOLD = ("self_report", "narrate", "threat_you")

# Sentence ends, keeping the mark (a question mark is a feature); newlines end titles and list items.
_SENTENCE = re.compile(r"[^.!?。！？\n;；]+[.!?。！？;；]*")
_TARGET_TOKEN = re.compile(r"\b(yturl|ytchannel|tgurl|weburl|atmention)\b")
# Text between quote marks: a report word inside quotes is being quoted, not said.
_QUOTED = re.compile(r"[«“\"„「『]([^»”\"“」』]{1,200})[»”\"“」』]")


def _alternation(patterns) -> re.Pattern | None:
    patterns = [p for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None


def mood_patterns(lexicon: dict) -> dict[str, re.Pattern | None]:
    """One compiled pattern per mood kind, languages pooled, from the lexicon's ``mood`` section."""
    cues = lexicon.get("mood", {}).get("cues", {})
    return {kind: _alternation(p for patterns in cues.get(kind, {}).values() for p in patterns)
            for kind in MOOD_KINDS}


def other_sense_pattern(lexicon: dict) -> re.Pattern | None:
    """The lexicon's ``other_sense`` cues ("weather report", "报告", "доклад"), languages pooled."""
    return _alternation(p for patterns in lexicon["cues"].get("other_sense", {}).values() for p in patterns)


def reporting_word(sentence: str, report: re.Pattern, other_sense: re.Pattern | None) -> re.Match | None:
    """The first report word of ``sentence`` that is not part of a phrase using it in another sense.

    "Weather report for Almaty" and "bug report:" hold the word "report" without naming a
    complaint; a sentence whose every report word sits inside such a phrase names no reporting.
    """
    first = report.search(sentence)
    if first is None or other_sense is None or other_sense.search(sentence) is None:
        return first
    return next(iter(reporting_words(sentence, report, other_sense)), None)


def reporting_words(sentence: str, report, other_sense: re.Pattern | None) -> list[re.Match]:
    """Every report word of ``sentence`` that is not part of a phrase using it in another sense."""
    spans = [m.span() for m in other_sense.finditer(sentence)] if other_sense is not None else []
    return [m for m in report.finditer(sentence) if not any(a <= m.start() and m.end() <= b for a, b in spans)]


def reporting_pattern(lexicon: dict) -> re.Pattern | None:
    """Any ``report`` or ``takedown`` cue of the lexicon (the sentences mood is read in)."""
    cues = lexicon["cues"]
    return _alternation([p for kind in ("report", "takedown") for patterns in cues.get(kind, {}).values()
                         for p in patterns])


FEATURE_NAMES = (*(f"mood_{k}" for k in MOOD_KINDS), "mood_question", "mood_quoted", "mood_target_in_sentence",
                 "mood_target_in_post", "mood_plain", "mood_report_sentences", "mood_first_sentence")


def mood_counts(text: str, report: re.Pattern | None, kinds: dict[str, re.Pattern | None],
                other_sense: re.Pattern | None = None) -> list[int]:
    """The raw counts of :data:`FEATURE_NAMES` for one normalised text.

    Per sentence with a reporting word: whether each mood kind occurs in it, whether it asks a
    question, whether the reporting word sits inside quote marks, whether it names a target (a
    link or a mention); ``mood_plain`` counts such sentences with none of the kinds (a bare
    "report" title or list heading). Then whether the post names any target at all and whether the
    first sentence names reporting (issue titles, headlines, "Report this:"). A report word inside
    an ``other_sense`` phrase ("weather report") does not count (:func:`reporting_word`).
    """
    row = dict.fromkeys(FEATURE_NAMES, 0)
    if report is None or not text:
        return list(row.values())
    quoted = [m.span(1) for m in _QUOTED.finditer(text)]
    for index, match in enumerate(_SENTENCE.finditer(text)):
        sentence = match.group(0)
        # "I reported it" and "we got flagged" name reporting in the past tense, which the
        # lexicon's report cues leave out on purpose (they gate calls): read those sentences too.
        hit = reporting_word(sentence, report, other_sense) or next(
            (m for k in _TOLD if kinds.get(k) is not None for m in [kinds[k].search(sentence)] if m), None)
        if hit is None:
            continue
        row["mood_report_sentences"] += 1
        row["mood_first_sentence"] = int(index == 0 or row["mood_first_sentence"])
        found = False
        for kind, pattern in kinds.items():
            if pattern is not None and pattern.search(sentence):
                row[f"mood_{kind}"] += 1
                found = True
        row["mood_plain"] += not found
        row["mood_question"] += sentence.rstrip().endswith(("?", "？"))
        at = match.start() + hit.start()
        row["mood_quoted"] += any(a <= at < b for a, b in quoted)
        row["mood_target_in_sentence"] += bool(_TARGET_TOKEN.search(sentence))
    row["mood_target_in_post"] = int(bool(_TARGET_TOKEN.search(text)))
    return list(row.values())


class MoodCues(TransformerMixin, BaseEstimator):
    """Mood, person and address features (``log1p`` counts, :data:`FEATURE_NAMES`) of normalised texts.

    Parameters
    ----------
    lexicon : dict or None
        The parsed calls lexicon (with its ``mood`` section); None reads the bundled one at fit.
    """

    def __init__(self, lexicon: dict | None = None):
        self.lexicon = lexicon

    def fit(self, X, y=None):
        from detector.features.calls import load_lexicon

        lexicon = self.lexicon if self.lexicon is not None else load_lexicon()
        self.report_pattern_ = reporting_pattern(lexicon)
        self.kind_patterns_ = mood_patterns(lexicon)
        self.other_sense_pattern_ = other_sense_pattern(lexicon)
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X):
        texts = [str(t) for t in X]
        kinds = list(self.kind_patterns_)
        # Each text meets only the alternatives that may match in it (the same counts, faster).
        narrowed = narrowing_of([self.report_pattern_, self.other_sense_pattern_,
                                 *self.kind_patterns_.values()]).per_text(texts)
        counts = np.array([mood_counts(t, n[0], dict(zip(kinds, n[2:], strict=True)), n[1])
                           for t, n in zip(texts, narrowed, strict=True)],
                          dtype=float).reshape(-1, self.n_features_out_)
        return sp.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features=None):
        return np.array(FEATURE_NAMES, dtype=object)
