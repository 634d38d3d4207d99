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
    return C._class_gate(PATH).may_flag("\x00".join(texts), len(texts))


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


def _classes_of(gate, image: str) -> bytes:
    word, space, digit = (G.character_table(p) for p in (r"\w", r"\s", r"\d"))
    return bytes(gate._class(ch, word, space, digit) for ch in image)


def test_every_code_point_has_the_classes_of_its_loose_form():
    gate = C._class_gate(PATH)
    invisible = re.compile(f"[{C._INVISIBLE_CHARACTERS}]")
    whole = 0
    for c in range(1, 0x110000):
        value = int(gate.table[c])
        if value == G.RECHECK:
            whole += 1
            continue
        # what the loose form keeps of it, alone
        loose = invisible.sub("", unicodedata.normalize("NFKC", chr(c)).lower())
        if value == G.DROP:
            assert loose == "", hex(c)
        elif value >= 256:
            assert gate.expansions[value - 256] == _classes_of(gate, loose), hex(c)
        else:
            assert bytes([value]) == _classes_of(gate, loose), hex(c)
    # stand-ins, a dropped character, letters, combining marks, Hangul vowels, full width, ellipsis
    assert gate.table[ord("ı")] == G.RECHECK and gate.table[ord("\u200b")] == G.DROP
    assert gate.table[ord("\u0301")] == gate.table[ord("\u1161")] == gate.table[ord("\uff9e")] == G.RECHECK
    assert gate.table[ord("Ｒ")] == gate.table[ord("R")] == gate.table[ord("r")] == gate.code["r"]
    assert gate.expansions[gate.table[ord("…")] - 256] == bytes([gate.code["."]] * 3)
    assert whole < 3000


def test_no_character_past_the_normalised_limit_has_a_decomposition_a_case_or_a_combining_class():
    assert not [c for c in range(G.NORMALISED_LIMIT, 0x110000)
                if unicodedata.decomposition(ch := chr(c)) or ch.lower() != ch or unicodedata.combining(ch)]


def test_nfkc_of_a_text_of_characters_not_sent_whole_is_the_nfkc_of_each():
    gate = C._class_gate(PATH)
    rng = np.random.default_rng(5)
    tricky = [c for c in range(1, 0x30000) if unicodedata.decomposition(chr(c)) or unicodedata.combining(chr(c))
              or 0x1100 <= c < 0x1200 or 0xAC00 <= c < 0xD7A4 or 0xFF00 <= c < 0xFFF0]
    kept = np.array([c for c in tricky if gate.table[c] != G.RECHECK])
    dropped_too = np.array([c for c in tricky if gate.table[c] == G.RECHECK])
    assert len(kept) > 5000 and len(dropped_too) > 500
    for _ in range(20_000):
        text = "".join(map(chr, rng.choice(kept, int(rng.integers(2, 6)))))
        assert unicodedata.normalize("NFKC", text) == "".join(unicodedata.normalize("NFKC", ch) for ch in text), text
    # and where it fails, the character that composes with the one before is sent whole
    for pair in ("e\u0301", "\u1100\u1161", "\uac00\u11a8", "ｶﾞ", "\u0b47\u0b3e"):
        assert unicodedata.normalize("NFKC", pair) != "".join(unicodedata.normalize("NFKC", ch) for ch in pair)
        assert gate.table[ord(pair[-1])] == G.RECHECK


def test_the_class_alphabet_keeps_word_characters_apart_from_the_others():
    gate = C._class_gate(PATH)
    word = G.character_table(r"\w")
    for ch, code in gate.code.items():
        assert gate.word_class[code] == word[ord(ch)]
    assert gate.word_class[[G.DIGIT, G.OTHER_WORD]].all()
    assert not gate.word_class[[G.NUL, G.SPACE, G.OTHER, G.RECHECK]].any()
