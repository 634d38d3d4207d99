"""A first pass that rules out most texts for an anchor search, over one byte per character.

The calls gate (:func:`detector.features.calls.gate_cues`) searches anchor strings in the loose
form of every post: NFKC, lower case, whitespace runs as one space, as UTF-8. Lower-casing and
UTF-8 cost more than the search. Here each code point is mapped by one table lookup to a *class*
(one byte): its lower-case letter when that letter is in an anchor string, else "some other word
character", "some other character", "a digit", "a space"; and the anchor strings are written in
the same classes. A string found in the loose form is found at the same place in the classes of
the (NFKC) text, with the same word characters beside it, so a text whose classes hold no anchor
at a word boundary wanted by it cannot be a candidate of the anchor search. Only the texts left
(a few per cent of everyday posts) go through the anchor search itself, whose answer on them is
kept: the same answer as the anchor search over all texts.

Texts whose classes would not be the loose form's letter for letter go to the anchor search
whole: a character whose lower case is not one character (the Turkish dotted I) or is a letter
that the search folds (a stand-in: dotless i, long s), a character the quick loose form leaves
(invisible characters, whitespace outside ASCII: ``recheck``), the Greek capital sigma when a
sigma is in an anchor (its lower case depends on what follows), and texts holding NUL.
"""

from __future__ import annotations

import ahocorasick_rs
import numpy as np
from numba import njit

from detector.features.anchors import CASED_LIMIT, AnchorIndex, character_table

# Classes: NUL separates texts; SPACE is any whitespace; RECHECK sends a text to the anchor
# search whole; DROP is left out; the others stand for what no anchor string holds.
NUL, SPACE, DIGIT, OTHER_WORD, OTHER, RECHECK, DROP = 0, 1, 2, 3, 4, 5, 6
_FIRST_LETTER = 7


class ClassGate:
    """For an :class:`AnchorIndex` over loose forms, the texts it may flag (a superset).

    ``recheck``: characters whose presence sends a text to the anchor search whole; ``dropped``:
    characters the loose form leaves out (before whitespace runs are cut).
    ``may_flag(texts)`` takes NFKC texts joined by NUL and returns, per text, whether the anchor
    search may flag it; None when this gate cannot tell (too many letters, an open group).
    """

    def __init__(self, index: AnchorIndex, recheck=(), dropped=()):
        strings = index.first_strings()
        self.usable = not index.open_groups.any() and bool(strings)
        letters = sorted({ch for word, _, _ in strings for ch in word})
        word, space, digit = character_table(r"\w"), character_table(r"\s"), character_table(r"\d")
        numbered = [ch for ch in letters if not space[ord(ch)] and not digit[ord(ch)]]
        if _FIRST_LETTER + len(numbered) > 256:
            self.usable = False
            return
        self.code = {ch: _FIRST_LETTER + k for k, ch in enumerate(numbered)}
        # Whether each class is a word character (the letters keep their own).
        self.word_class = np.zeros(256, dtype=bool)
        self.word_class[[DIGIT, OTHER_WORD]] = True
        for ch, c in self.code.items():
            self.word_class[c] = word[ord(ch)]
        sent_whole = set(recheck) | set(index.stand_ins())
        if "σ" in letters or "ς" in letters:
            sent_whole.add("Σ")
        # Every code point as its lower case were it alone (lower() changes only cased ones).
        table = np.where(word, OTHER_WORD, OTHER).astype(np.uint8)
        table[digit] = DIGIT
        table[space] = SPACE
        for ch, c in self.code.items():
            table[ord(ch)] = c
        lowered_from: dict[str, list[int]] = {}
        for c in range(CASED_LIMIT):
            ch = chr(c)
            lower = ch.lower()
            if lower != ch:
                table[c] = RECHECK if len(lower) != 1 else self._class(lower, word, space, digit)
                lowered_from.setdefault(lower, []).append(c)
        for chars, image in ((dropped, DROP), (sent_whole, RECHECK)):
            for ch in chars:   # and every character whose lower case it is
                table[[ord(ch), *lowered_from.get(ch, ())]] = image
        table[0] = NUL
        self.table = table
        encoded: dict[bytes, list[int]] = {}
        self._entries: list[tuple[tuple[tuple[bool, bool], ...], bool]] = []
        for text, wants, marker in strings:
            key = bytes(self._class(ch, word, space, digit) for ch in text)
            encoded.setdefault(key, []).append(len(self._entries))
            self._entries.append((wants, marker))
        self.words = list(encoded)
        # Per encoded string: passes with no boundary, with one before, after, both; is a marker.
        self.free = np.array([any(not a and not b for k in encoded[w] for a, b in self._entries[k][0])
                              for w in self.words], dtype=bool)
        self.before = np.array([any(a and not b for k in encoded[w] for a, b in self._entries[k][0])
                                for w in self.words], dtype=bool)
        self.after = np.array([any(b and not a for k in encoded[w] for a, b in self._entries[k][0])
                               for w in self.words], dtype=bool)
        self.both = np.array([any(a and b for k in encoded[w] for a, b in self._entries[k][0])
                              for w in self.words], dtype=bool)
        self.marker = np.array([any(self._entries[k][1] for k in encoded[w]) for w in self.words], dtype=bool)
        self.head_word = np.array([self.word_class[w[0]] for w in self.words], dtype=bool)
        self.tail_word = np.array([self.word_class[w[-1]] for w in self.words], dtype=bool)
        self.automaton = ahocorasick_rs.BytesAhoCorasick(self.words, implementation=ahocorasick_rs.Implementation.DFA)

    def _class(self, ch: str, word, space, digit) -> int:
        if space[ord(ch)]:
            return SPACE
        if digit[ord(ch)]:
            return DIGIT
        return self.code.get(ch, OTHER_WORD if word[ord(ch)] else OTHER)

    def may_flag(self, joined: str, n_texts: int) -> np.ndarray | None:
        if not self.usable:
            return None
        if not n_texts:
            return np.zeros(0, dtype=bool)
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        classes, out, starts, whole = _classified(points, self.table, n_texts)
        if not whole:   # a text holds NUL
            return None
        hits = np.asarray(self.automaton.find_matches_as_indexes(classes.tobytes(), overlapping=True),
                          dtype=np.int64).reshape(-1, 3)
        if not len(hits):
            return out
        words, begin, end = hits[:, 0], hits[:, 1], hits[:, 2]
        rows = np.searchsorted(starts, begin, side="right") - 1
        last = len(classes) - 1
        before_ok = (begin > 0) & self.word_class[classes[np.maximum(begin - 1, 0)]]
        before_ok = before_ok != self.head_word[words]
        after_ok = (end <= last) & self.word_class[classes[np.minimum(end, last)]]
        after_ok = after_ok != self.tail_word[words]
        passed = (self.free[words] | (self.before[words] & before_ok) | (self.after[words] & after_ok)
                  | (self.both[words] & before_ok & after_ok))
        out[rows[passed]] = True
        # A row with a link or mention marker: a failed boundary may be the link's (the anchor
        # search decides).
        linked = np.zeros(n_texts, dtype=bool)
        linked[rows[self.marker[words]]] = True
        counts = self.free | self.before | self.after | self.both
        out[rows[linked[rows] & counts[words]]] = True
        return out


@njit(cache=True, nogil=True)
def _classified(points, table, n_texts):
    """The classes of code points (texts joined by NUL), dropped characters left out and space
    runs cut to one; whether each text holds a RECHECK class; where each text starts; whether
    there were ``n_texts`` texts."""
    out = np.empty(len(points), dtype=np.uint8)
    recheck = np.zeros(n_texts, dtype=np.bool_)
    starts = np.zeros(max(n_texts, 1), dtype=np.int64)
    row, k, last = 0, 0, NUL
    for point in points:
        c = table[point]
        if c == DROP or (c == SPACE and last == SPACE):
            continue
        if c == NUL:
            row += 1
            if row >= n_texts:
                return out[:k], recheck, starts, False
            starts[row] = k + 1
        elif c == RECHECK:
            recheck[row] = True
        out[k] = c
        k += 1
        last = c
    return out[:k], recheck, starts, row == n_texts - 1
