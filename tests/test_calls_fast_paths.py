"""The calls model's fast paths give the plain paths' numbers: narrowed lexicon alternations, the
bulk character n-grams, and the features and probabilities they feed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_calls_prefilter import EDGE_TEXTS

from detector.features import calls as C
from detector.features.anchors import NEVER, AnyOf, alternatives, narrowing_of
from detector.features.char_grams import FastCharGrams, fast_features
from detector.features.claims import claim_counts
from detector.features.mood import mood_counts

ODD_TEXTS = ["", " ", "a", "ab", "abc d", "x\x00y z", "\ud800 lone", "中文 字", "a  b\tc\nd", "report.now!report",
             "«report» it", "report?\nreport;report", "yturl report yturl", "atmention, report atmention!"]


@pytest.fixture(scope="module")
def model():
    return C.call_model()


@pytest.fixture(scope="module")
def normalised() -> list[str]:
    texts = list(C.read_labelled()["text"]) + list(C.read_real()["text"]) + EDGE_TEXTS + ODD_TEXTS
    return C.normalise_texts(texts)


@pytest.fixture(scope="module")
def blocks(model) -> dict:
    return dict(model.named_steps["features"].transformer_list)


def _alternations(blocks) -> list[re.Pattern]:
    cues, mood, claims = blocks["cues"], blocks["mood"], blocks["claims"]
    return [p for p in (*cues.cue_patterns_.values(), cues.policy_pattern_, mood.report_pattern_,
                        mood.other_sense_pattern_, *mood.kind_patterns_.values(), claims.removal_pattern_, *claims.kind_patterns_.values(),
                        claims.reported_pattern_) if p is not None]


def test_every_lexicon_alternation_splits_into_its_patterns(blocks):
    lexicon = C.load_lexicon()
    report = [p for kind in ("report", "takedown") for ps in lexicon["cues"][kind].values() for p in ps]
    assert alternatives(blocks["mood"].report_pattern_.pattern) == tuple(report)
    assert alternatives(blocks["cues"].cue_patterns_["removal"].pattern) == tuple(
        p for ps in lexicon["cues"]["removal"].values() for p in ps)
    # Nested alternations are flattened, so every one is narrowed (none handed out whole).
    for regex in _alternations(blocks):
        parts = alternatives(regex.pattern)
        assert parts, regex.pattern[:80]
        assert re.compile("|".join(f"(?:{p})" for p in parts), regex.flags).pattern  # compiles
    assert alternatives("abc") is None
    assert alternatives("(?:a)b|(?:c)") is None
    assert alternatives(r"(?:[)|(]\))|(?:x)") == (r"[)|(]\)", "x")


def test_narrowed_alternations_find_what_the_whole_ones_find(blocks, normalised):
    regexes = _alternations(blocks)
    per_text = narrowing_of(regexes).per_text(normalised)
    used = 0
    for k, (text, narrowed) in enumerate(zip(normalised, per_text, strict=True)):
        # Sentences of every fourth text (the whole alternations are slow: that is the point).
        pieces = [text, *C._SENTENCES.split(text)] if k % 4 == 0 else [text]
        for whole, narrow in zip(regexes, narrowed, strict=True):
            used += isinstance(narrow, AnyOf)
            for piece in pieces:
                a, b = whole.search(piece), narrow.search(piece)
                assert (a is None) == (b is None) and (a is None or a.span() == b.span()), (whole.pattern[:60], piece)
            assert len(whole.findall(text)) == len(narrow.findall(text))
            assert [m.span() for m in whole.finditer(text)] == [m.span() for m in narrow.finditer(text)]
    assert used > 0   # several alternatives searched together occur in the corpus
    assert any(n is NEVER for ns in per_text for n in ns)


def test_the_lexicon_mood_and_claim_blocks_give_the_unnarrowed_counts(blocks, normalised):
    cues, mood, claims = blocks["cues"], blocks["mood"], blocks["claims"]
    whole = (*cues.cue_patterns_.values(), cues.policy_pattern_)
    expected = np.log1p([cues._counts(t, whole) for t in normalised])
    assert np.array_equal(cues.transform(normalised).toarray(), expected)
    expected = np.log1p([mood_counts(t, mood.report_pattern_, mood.kind_patterns_, mood.other_sense_pattern_)
                         for t in normalised])
    assert np.array_equal(mood.transform(normalised).toarray(), expected)
    expected = np.log1p([claim_counts(t, claims.removal_pattern_, claims.kind_patterns_, claims.reported_pattern_)
                         for t in normalised])
    assert np.array_equal(claims.transform(normalised).toarray(), expected)


def test_bulk_character_ngrams_are_the_vectorisers_matrix(blocks, normalised):
    vectorizer = blocks["char_ngrams"]
    fast = FastCharGrams(vectorizer).transform(normalised)
    plain = vectorizer.transform(normalised)
    for attribute in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(fast, attribute), getattr(plain, attribute)), attribute
    for text in ODD_TEXTS:
        assert (FastCharGrams(vectorizer).transform([text]) != vectorizer.transform([text])).nnz == 0, repr(text)


def test_the_probabilities_are_the_pipelines(model, normalised):
    union = model.named_steps["features"]
    assert fast_features(union) is not union
    assert np.array_equal(C._predict_proba(model, normalised), model[1:].predict_proba(normalised))


def test_a_vectoriser_the_bulk_count_cannot_reproduce_is_used_as_it_is():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(analyzer="word").fit(["report this", "this channel"])
    union = FeatureUnion([("words", words)])
    assert fast_features(union) is union
