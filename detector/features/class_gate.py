"""A first pass that rules out most texts for an anchor search, over one byte per character.

The calls gate (:func:`detector.features.calls.gate_cues`) searches anchor strings in the loose
form of every post: NFKC, lower case, without invisible characters, whitespace runs as one space,
as UTF-8. Making that form costs more than the search. Here the raw text is read once, each code
point mapped by one table lookup (numba) to the *classes* of what the loose form makes of it (one
byte each): a lower-case letter that is in an anchor string, else "some other word character",
"some other character", "a digit", "a space", or nothing (an invisible character); "Ｒ" and "R"
are "r", "…" is three dots. The anchor strings are written in the same classes. Where the loose
form holds an anchor, the classes hold it at the same place with the same word characters beside
it, so a text whose classes hold no anchor at a boundary it wants cannot be a candidate of the
anchor search. Only the texts left (about 5 % of everyday posts) go through the anchor search
itself, whose answer on them is kept: the same answer as the anchor search over all texts.

A character's classes stand in for its loose form in a text only if NFKC and lower case treat it
alone as in the text. NFKC does, by the Unicode normalisation algorithm, for a character whose full
decomposition begins with a starter (combining class 0) that composes with nothing before it:
no reordering or composition crosses it. Texts with any other character go to the anchor search
whole (``RECHECK``): combining marks, Hangul medial vowels and final consonants, half-width
voiced marks; and letters that the anchor search folds (a stand-in: dotless i, long s), the Greek
capital sigma when a sigma is in an anchor (its lower case depends on what follows), texts holding
NUL.
"""

from __future__ import annotations

import functools
import unicodedata

import ahocorasick_rs
import numpy as np
from numba import njit

from detector.features.anchors import AnchorIndex, character_table

# Classes: NUL separates texts; SPACE is any whitespace; RECHECK sends a text to the anchor
# search whole; DROP is left out; the others stand for what no anchor string holds.
NUL, SPACE, DIGIT, OTHER_WORD, OTHER, RECHECK, DROP = 0, 1, 2, 3, 4, 5, 6
_FIRST_LETTER = 7


class ClassGate:
    """For an :class:`AnchorIndex` over loose forms, the texts it may flag (a superset).

    ``recheck``: characters whose presence sends a text to the anchor search whole; ``dropped``:
    characters the loose form leaves out (before whitespace runs are cut).
    ``may_flag(joined, n_texts)`` takes the raw texts joined by NUL and returns, per text, whether
    the anchor search may flag it; None when this pass cannot tell (a text holds NUL; too many
    letters or an open group: ``usable`` is False).
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
        self._stand_ins = set(index.stand_ins()) | set(recheck)
        self._sigma = "σ" in letters or "ς" in letters
        # Every code point as the loose form has it, alone: the classes of its NFKC image, lower
        # case, without dropped characters; RECHECK where alone is not as in a text.
        table = np.where(word, OTHER_WORD, OTHER).astype(np.uint16)
        table[digit] = DIGIT
        table[space] = SPACE
        self.expansions: list[bytes] = []
        images = _loose_images(frozenset(dropped))
        for ch, c in self.code.items():
            table[ord(ch)] = c
        for ch in self._stand_ins:
            table[ord(ch)] = RECHECK
        for c, image in images.items():
            table[c] = self._image_class(image, word, space, digit)
        table[0] = NUL
        self.table = table
        self.expansion_start = np.r_[0, np.cumsum([len(e) for e in self.expansions])].astype(np.int64)
        self.expansion_classes = np.frombuffer(b"".join(self.expansions) or b"\x00", dtype=np.uint8).copy()
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

    def _image_class(self, image: str | None, word, space, digit) -> int:
        """The table's value for a code point whose loose image alone is ``image`` (None: not
        as in a text): a class, or 256 + the number of its sequence of classes."""
        if image is None or (self._sigma and "Σ" in image) or any(ch in self._stand_ins for ch in image):
            return RECHECK
        if not image:
            return DROP
        if len(image) == 1:
            return self._class(image, word, space, digit)
        self.expansions.append(bytes(self._class(ch, word, space, digit) for ch in image))
        return 256 + len(self.expansions) - 1

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
        classes, out, starts, whole = _classified(points, self.table, self.expansion_start, self.expansion_classes,
                                                  n_texts)
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


# Past this code point no character has a decomposition or another case (a test checks it).
NORMALISED_LIMIT = 0x30000


@functools.lru_cache(maxsize=2)
def _loose_images(dropped: frozenset[str]) -> dict[int, str | None]:
    """Code point -> the loose form of it alone (NFKC, lower case, ``dropped`` characters left
    out), for the code points where that is not itself; None where a text's NFKC form need not
    hold a character's own NFKC form (its decomposition begins with a combining mark or a
    letter that composes with the one before: "e" + U+0301, Hangul vowels and final consonants).
    Other characters (their decomposition begins with a starter that composes with nothing
    before it) are normalised on their own: NFKC(a + b) = NFKC(a) + NFKC(b)."""
    points = range(1, NORMALISED_LIMIT)
    joined = "\x00".join(map(chr, points))
    nfkc = unicodedata.normalize("NFKC", joined).split("\x00")
    nfkd = unicodedata.normalize("NFKD", joined).split("\x00")
    lower = "\x00".join(nfkc).lower().split("\x00")
    second = {chr(c) for c in [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]}   # Hangul V and T
    for c in points:
        parts = unicodedata.decomposition(chr(c)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            second.add(chr(int(parts[1], 16)))
    out: dict[int, str | None] = {}
    for c, d, image in zip(points, nfkd, lower, strict=True):
        if d and (unicodedata.combining(d[0]) or d[0] in second):
            out[c] = None
            continue
        if dropped and any(ch in dropped for ch in image):
            image = "".join(ch for ch in image if ch not in dropped)
        if image != chr(c):
            out[c] = image
    return out


@njit(cache=True, nogil=True)
def _classified(points, table, expansion_start, expansion_classes, n_texts):
    """The classes of code points (texts joined by NUL), dropped characters left out and space
    runs cut to one; whether each text holds a RECHECK class; where each text starts; whether
    there were ``n_texts`` texts."""
    out = np.empty(len(points) + 64, dtype=np.uint8)
    recheck = np.zeros(n_texts, dtype=np.bool_)
    starts = np.zeros(max(n_texts, 1), dtype=np.int64)
    row, k, last = 0, 0, NUL
    for i in range(len(points)):
        value = table[points[i]]
        if value < 256:
            c = value
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
            continue
        first, stop = expansion_start[value - 256], expansion_start[value - 255]
        if k + stop - first + len(points) - i >= len(out):
            grown = np.empty(2 * len(out) + stop - first, dtype=np.uint8)
            grown[:k] = out[:k]
            out = grown
        for e in range(first, stop):   # an expansion holds no NUL, RECHECK or DROP
            c = expansion_classes[e]
            if c == SPACE and last == SPACE:
                continue
            out[k] = c
            k += 1
            last = c
    return out[:k], recheck, starts, row == n_texts - 1
