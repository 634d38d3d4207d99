"""The fast calls step gives what the plain one gave: the gate prefilter, the anchor search, bulk
normalisation and the worker processes change no call, boast, score or target."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector import ingest
from detector.features import calls as C
from detector.features.anchors import AnchorIndex, _case_table, regex_anchors
from detector.store import Case

DEMO = Path(__file__).resolve().parents[1] / "detector" / "data" / "demo"

# Texts built to trip each step of normalise_post_text: invisible characters inside cue words,
# repeated letters, digits, full-width letters, the dotless i, mentions and links glued to words,
# whitespace runs, NUL, decomposed letters, Greek final sigma.
EDGE_TEXTS = [
    "", " ", "\u200b", "re\u200bport this", "REPORTTTT this channel!!!", "rep4rt it", "rep0rt", "ｒｅｐｏｒｔ it",
    "bıldırın", "şikayet edin", "ban\u200b@steppe_truth", "ban @steppe_truth now", "take   it\n\tdown",
    "taken\u00a0down", "channnnel terminated", "a\x00report", "\x00", "жалу\u0306йтесь", "удалилиии",
    "ΑΣ report", "ᲀсе жалобы", "gone!!!", "it's gone", "it’s gone", "举报！！", "举　报", "被删了", "ئەرز قىلىڭلار",
    "see youtu.be/Xk3pL9qRt2A report", "https://t.me/x удалили", "no cue at all", "0000 1111", "\ufe0freport\ufe0f",
]


def _posts(texts) -> pd.DataFrame:
    return pd.DataFrame({"post_id": [f"p{i}" for i in range(len(texts))], "text": list(texts)})


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return list(C.read_labelled()["text"]) + list(C.read_real()["text"]) + EDGE_TEXTS


@pytest.fixture(scope="module")
def demo_posts(tmp_path_factory) -> pd.DataFrame:
    db = tmp_path_factory.mktemp("demo") / "case.duckdb"
    ingest([DEMO], db)
    with Case.open(db) as case:
        return case.table("posts")


def _same(a, b) -> bool:
    def plain(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v
    return plain(a) == plain(b)


def _assert_prefilter_loses_nothing(posts: pd.DataFrame) -> None:
    fast = C.classify_calls(posts, prefilter=True)
    full = C.classify_calls(posts, prefilter=False)
    assert fast["kind"].tolist() == full["kind"].tolist()
    assert fast["is_call"].tolist() == full["is_call"].tolist()
    described = np.flatnonzero(full["kind"].to_numpy() != "other")
    for column in ("confidence", "p_call", "targets", "requested_policy", "language"):
        assert all(_same(fast[column].iat[i], full[column].iat[i]) for i in described), column
    scored = fast["p_call"].notna().to_numpy()
    assert np.array_equal(fast["p_call"][scored], full["p_call"][scored])
    reporting, removal = C.gate_cues(posts["text"].tolist())
    assert np.array_equal(scored, reporting | removal)   # only posts that fail both gates go unscored
    assert scored.sum() < len(posts)


def test_prefilter_changes_nothing_on_the_labelled_and_real_posts(corpus):
    _assert_prefilter_loses_nothing(_posts(corpus))


def test_prefilter_changes_nothing_on_the_demo_case(demo_posts):
    _assert_prefilter_loses_nothing(demo_posts)


def test_gate_cues_equal_the_gate_regexes_on_normalised_text(corpus):
    path = str(C.LEXICON_PATH)
    normalised = [C.normalise_post_text(t) for t in corpus]
    reporting, removal = C.gate_cues(corpus)
    assert reporting.tolist() == [bool(C._reporting_pattern(path).search(t)) for t in normalised]
    assert removal.tolist() == [bool(C._removal_pattern(path).search(t)) for t in normalised]
    assert reporting.any() and removal.any() and not (reporting | removal).all()


def test_bulk_normalisation_equals_one_post_at_a_time(corpus):
    rng = np.random.default_rng(0)
    glued = ["".join(rng.choice(EDGE_TEXTS, 3)) for _ in range(500)]
    texts = corpus + glued + [None, float("nan"), 12]
    assert C.normalise_texts(texts) == [C.normalise_post_text(t) for t in texts]


def test_lexicon_counts_with_anchor_search_equal_counts_of_every_regex(corpus):
    cues = C.call_model().named_steps["features"].transformer_list[1][1]
    texts = C.normalise_texts(corpus)
    every = np.ones(len(C.CUE_KINDS) + 1, dtype=bool)
    plain = np.log1p(np.array([cues._counts(t, every) for t in texts], dtype=float))
    assert np.array_equal(cues.transform(texts).toarray(), plain)


def test_requested_policies_equal_the_first_policy_regex_match(corpus):
    def first_match(text):
        found = [(m.start(), k, name) for k, (name, p) in enumerate(C._policy_patterns(str(C.LEXICON_PATH)))
                 if (m := p.search(C.normalise_post_text(text)))]
        return min(found)[2] if found else None
    assert C.requested_policies(corpus) == [first_match(t) for t in corpus]


def test_every_regex_match_holds_one_of_its_anchors(corpus):
    lexicon = C.load_lexicon()
    patterns = [p for kinds in (lexicon["cues"], lexicon["policies"]) for langs in kinds.values()
                for p in C._pooled(langs)]
    texts = C.normalise_texts(corpus)
    checked = 0
    for pattern in patterns:
        anchors = regex_anchors(pattern)
        compiled = re.compile(pattern, re.IGNORECASE)
        for text in texts:
            for match in compiled.finditer(text):
                table = _case_table(frozenset("".join(anchors)) | frozenset(match.group()))
                fold = "".join(table.get(ch, ch) for ch in match.group())
                assert any("".join(table.get(ch, ch) for ch in a) in fold for a in anchors), (pattern, match.group())
                checked += 1
    assert checked > 1000


def test_anchors_of_a_regex_cover_its_alternatives_and_skip_open_parts():
    assert regex_anchors(r"\bmass[- ]?(report|flag)") == {"mass report", "mass-report", "massreport",
                                                           "mass flag", "mass-flag", "massflag"}
    assert regex_anchors(r"пока .{0,20}не удалят") == {"не удалят"}
    assert regex_anchors(r"\w+(сын|сін)\b") == {"сын", "сін"}
    assert regex_anchors(r"\w*") is None


def test_a_text_with_a_stand_in_letter_is_a_candidate_of_every_group():
    index = AnchorIndex({"tr": ["bildirin"], "ru": ["в бан"]})
    assert index.candidates(["bıldırın", "bildirin", "ᲀ бан", "nothing", ""]).tolist() == [
        [True, True], [True, False], [True, True], [False, False], [False, False]]


def test_any_number_of_workers_gives_the_same_output(corpus, monkeypatch):
    monkeypatch.setattr(C, "PARALLEL_CHUNK", 700)
    posts = _posts(corpus)
    one = C.classify_calls(posts, workers=1)
    two = C.classify_calls(posts, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_no_character_past_the_cased_limit_has_another_case():
    from detector.features.anchors import CASED_LIMIT

    assert not [c for c in range(CASED_LIMIT, 0x110000)
                if (ch := chr(c)).lower() != ch or ch.upper() != ch or ch.casefold() != ch]
