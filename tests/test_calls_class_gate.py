"""The class pass in front of the calls gate's anchor search (detector.features.class_gate) flags
every text the anchor search flags, so the gate's answer is the same as the anchor search's over
all texts: on the labelled and real posts, real everyday posts and adversarial Unicode."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_calls_prefilter import ADVERSARIAL_PIECES, EDGE_TEXTS, _adversarial_texts

from detector.features import calls as C
from detector.features import class_gate as G

EVERYDAY = Path(__file__).resolve().parents[1] / "bench" / "data" / "everyday_posts.csv.gz"
PATH = str(C.LEXICON_PATH)


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return list(C.read_labelled()["text"]) + list(C.read_real()["text"]) + EDGE_TEXTS


@pytest.fixture(scope="module")
def everyday() -> list[str]:
    return pd.read_csv(EVERYDAY, dtype=str, keep_default_na=False)["text"].tolist()


def _anchor_search(texts: list[str]) -> np.ndarray:
    return C._gate_index(PATH).candidates(texts, prepare_texts=C._quick_loose_form, reprepare=C._rechecked_loose_forms)


def _class_pass(texts: list[str]) -> np.ndarray | None:
    return C._class_gate(PATH).may_flag("\x00".join(unicodedata.normalize("NFKC", t) for t in texts), len(texts))


def _assert_superset_and_same(texts: list[str]) -> None:
    whole = _anchor_search(texts)
    flagged = _class_pass(texts)
    assert flagged is not None
    assert not (whole.any(axis=1) & ~flagged).any()   # every text the anchor search flags
    assert np.array_equal(C._may_match(texts, PATH), whole)


def test_class_pass_flags_every_labelled_and_real_post_the_anchor_search_flags(corpus):
    texts = [t for t in corpus if "\x00" not in t]
    _assert_superset_and_same(texts)
    assert 0 < _class_pass(texts).mean() < 0.9


def test_class_pass_flags_every_everyday_post_the_anchor_search_flags_and_few_others(everyday):
    _assert_superset_and_same(everyday)
    assert _class_pass(everyday).mean() < 0.1   # the point of it: most chatter is settled here


def test_class_pass_flags_every_adversarial_text_the_anchor_search_flags(corpus):
    texts = [t for t in _adversarial_texts(corpus, 6000, seed=4) if "\x00" not in t]
    _assert_superset_and_same(texts)
    # and glued to everyday words, one adversarial piece in the middle of a cue
    phrases = ["report this channel", "кидайте жалобы", "大家去举报", "шағым жіберіңіз", "ئەرز قىلىڭلار", "it's gone"]
    glued = [p[:k] + piece + p[k:] for p in phrases for k in range(len(p) + 1) for piece in ADVERSARIAL_PIECES]
    _assert_superset_and_same(glued + [p.upper() for p in glued])


def test_texts_holding_nul_go_to_the_anchor_search_whole():
    texts = ["report\x00this", "hello", "a\x00\x00b"]
    assert _class_pass(texts) is None
    assert np.array_equal(C._may_match(texts, PATH), _anchor_search(texts))
    assert C._may_match([], PATH).shape == (0, len(C._gate_index(PATH).names))


def test_every_code_point_has_the_class_of_its_loose_form():
    gate = C._class_gate(PATH)
    word, space, digit = (G.character_table(p) for p in (r"\w", r"\s", r"\d"))
    invisible = re.compile(f"[{C._INVISIBLE_CHARACTERS}]")
    for c in range(0x110000):
        got = gate.table[c]
        if got == G.RECHECK or c == 0:
            continue
        loose = invisible.sub("", chr(c).lower())   # what the loose form keeps of it, alone
        if got == G.DROP:
            assert loose == "", hex(c)
            continue
        assert len(loose) == 1, hex(c)
        assert got == gate._class(loose, word, space, digit), hex(c)
    # a stand-in, a dropped character and the Turkish dotted I
    assert gate.table[ord("ı")] == G.RECHECK and gate.table[ord("\u200b")] == G.DROP
    assert gate.table[ord("İ")] == G.RECHECK


def test_the_class_alphabet_keeps_word_characters_apart_from_the_others():
    gate = C._class_gate(PATH)
    word = G.character_table(r"\w")
    for ch, code in gate.code.items():
        assert gate.word_class[code] == word[ord(ch)]
    assert gate.word_class[[G.DIGIT, G.OTHER_WORD]].all()
    assert not gate.word_class[[G.NUL, G.SPACE, G.OTHER, G.RECHECK]].any()
