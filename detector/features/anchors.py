"""Which of many lexicon regexes may match which of many texts, in one pass over all of them.

Running hundreds of regex alternations over every post is slow in Python's ``re``: it tries every
alternative at every position. Most posts match none of them. Here each regex is reduced to its
*anchors*: a set of plain strings such that every match of the regex contains at least one of them
(``\\bmass[- ]?(report|flag)`` -> {"report", "flag"}; ``пока .{0,20}не удалят`` -> {"не удалят"}).
One Aho-Corasick automaton (Aho & Corasick 1975, via the ``ahocorasick-rs`` package) then finds
every anchor in all texts at once, joined into one UTF-8 string. A group of regexes can match a text only where one of
its anchors occurs, so the exact ``re`` needs to run only there: the same result, on a few posts.

The reduction reads the regex's parse tree (``re._parser``, the parser ``re.compile`` uses):
literals and small character classes give exact strings; alternation, optional parts and short
repeats multiply them out; anything open (``\\w+``, ``.{0,20}``, a negated class) ends a run of
exact strings; assertions (``\\b``, look-ahead, look-behind) match no characters and are dropped, so
the anchors only ever admit more texts, never fewer. A regex with no anchor (one that could match
with no fixed letters at all) makes its group match every text.

Case: the lexicon's regexes run with ``re.IGNORECASE`` on lower-case text, which lets a letter
match a few others besides itself ("i" matches the dotless "ı", "в" the old rounded "ᲀ";
:func:`_case_table` asks ``re`` itself which). A text holding such a stand-in is a candidate of
every group, so the anchors never miss a match the regex would make.
"""

from __future__ import annotations

import functools
import re
import re._constants as C  # the node types of re's parse tree
import re._parser as sre_parse

import ahocorasick_rs
import numpy as np

# Past this many strings, a part of a regex is treated as open (no exact strings) to keep the
# expansion small; its anchors then come from the other parts.
_MAX_EXACT = 256
# A repeat is expanded into exact strings only up to this many copies.
_MAX_REPEAT_EXPANDED = 4


class _Shape:
    """What a piece of regex can match: exactly one of ``exact`` (every string it matches) or
    ``anchors`` (strings one of which every match contains; None: no such set known)."""

    __slots__ = ("exact", "anchors")

    def __init__(self, exact: frozenset[str] | None = None, anchors: frozenset[str] | None = None):
        self.exact, self.anchors = exact, anchors

    def best_anchors(self) -> frozenset[str] | None:
        if self.exact is not None:
            return self.exact if "" not in self.exact else None
        return self.anchors


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two anchor sets: longer shortest anchor, then fewer anchors."""
    if a is None:
        return b
    if b is None:
        return a
    key_a, key_b = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return a if key_a >= key_b else b


def _class_chars(items) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE and av[1] - av[0] < 16:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, categories (\w, \s), wide ranges
            return None
    return frozenset(chars) if len(chars) <= 16 else None


def _sequence(items) -> _Shape:
    current: frozenset[str] | None = frozenset({""})   # exact strings of the run so far
    best: frozenset[str] | None = None
    all_exact = True
    for op, av in items:
        shape = _node(op, av)
        if shape.exact is not None:
            product = frozenset(a + b for a in current for b in shape.exact)
            if len(product) <= _MAX_EXACT:
                current = product
                continue
            shape = _Shape(anchors=shape.best_anchors())
        all_exact = False
        if "" not in current:
            best = _better(best, current)
        best = _better(best, shape.anchors)
        current = frozenset({""})
    if all_exact:
        return _Shape(exact=current)
    if "" not in current:
        best = _better(best, current)
    return _Shape(anchors=best)


def _node(op, av) -> _Shape:
    if op is C.LITERAL:
        return _Shape(exact=frozenset({chr(av)}))
    if op is C.IN:
        chars = _class_chars(av)
        return _Shape(exact=chars) if chars is not None else _Shape()
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _Shape(exact=frozenset({""}))  # zero width: dropping it only admits more
    if op is C.SUBPATTERN:
        return _sequence(av[3])
    if op is C.ATOMIC_GROUP:
        return _sequence(av)
    if op is C.BRANCH:
        shapes = [_sequence(alt) for alt in av[1]]
        if all(s.exact is not None for s in shapes):
            union = frozenset().union(*(s.exact for s in shapes))
            if len(union) <= _MAX_EXACT:
                return _Shape(exact=union)
        anchors = [s.best_anchors() for s in shapes]
        if any(a is None for a in anchors):
            return _Shape()
        return _Shape(anchors=frozenset().union(*anchors))
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, body = av
        inner = _sequence(body)
        if inner.exact is not None and high <= _MAX_REPEAT_EXPANDED:
            strings, layer = set(), frozenset({""})
            for count in range(high + 1):
                if count >= low:
                    strings |= layer
                layer = frozenset(a + b for a in layer for b in inner.exact)
                if len(strings) + len(layer) > _MAX_EXACT:
                    break
            else:
                return _Shape(exact=frozenset(strings))
        return _Shape(anchors=inner.best_anchors() if low >= 1 else None)
    return _Shape()  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, …: open


@functools.lru_cache(maxsize=4096)
def regex_anchors(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains; None if none is known.

    >>> sorted(regex_anchors(r"\\bmass[- ]?(report|flag)"))
    ['mass flag', 'mass report', 'mass-flag', 'mass-report', 'massflag', 'massreport']
    >>> sorted(regex_anchors(r"пока .{0,20}не удалят"))
    ['не удалят']
    """
    anchors = _sequence(sre_parse.parse(pattern, re.IGNORECASE)).best_anchors()
    if anchors is None or "" in anchors:
        return None
    return anchors


# Characters past this have no case (a test checks it over all of Unicode).
CASED_LIMIT = 0x20000


@functools.lru_cache(maxsize=1)
def _cased_characters() -> str:
    """Every character with another case: only these can match a different letter under
    ``re.IGNORECASE`` (a letter without case matches only itself)."""
    return "".join(ch for ch in map(chr, [*range(0xD800), *range(0xE000, CASED_LIMIT)])
                   if ch.lower() != ch or ch.upper() != ch or ch.casefold() != ch)


@functools.lru_cache(maxsize=8)
def _case_table(letters: frozenset[str]) -> dict[str, str]:
    """Characters that ``re.IGNORECASE`` lets match one of ``letters`` or each other, each mapped
    to one representative of its group (the lowest lower-case one: "ı" -> "i", "ᲀ" -> "в", "В" ->
    "в"); representatives are left out. Derived from ``re`` itself, over every cased character."""
    alike = sorted(set(re.findall("[" + "".join(map(re.escape, sorted(letters))) + "]", _cased_characters(),
                                  re.IGNORECASE)) | set(letters))
    parent = {ch: ch for ch in alike}

    def root(ch: str) -> str:
        while parent[ch] != ch:
            ch = parent[ch]
        return ch

    def rank(ch: str) -> tuple:
        return ch.lower() != ch, ord(ch)

    compiled = [(letter, re.compile(re.escape(letter), re.IGNORECASE)) for letter in sorted(letters)]
    for ch in alike:
        for letter, pattern in compiled:
            if pattern.fullmatch(ch):
                a, b = sorted((root(ch), root(letter)), key=rank)
                parent[b] = a
    return {ch: root(ch) for ch in alike if root(ch) != ch}


class AnchorIndex:
    """For groups of regexes, which groups may match which texts (see the module docstring).

    Parameters
    ----------
    groups : mapping of group name -> regex patterns (``re.IGNORECASE`` semantics).
    loosen : optional function from an anchor to the strings to search instead, for texts that
        are a looser form of what the regexes will see (each returned string must occur in the
        loose text wherever the anchor occurs in the regexes' text).

    ``candidates(texts)`` returns a boolean array (texts × groups): False means no regex of the
    group can match the text; True means one may (the caller confirms with ``re``). The texts
    must be lower case. A text holding a letter that ``re.IGNORECASE`` lets stand for an anchor's
    letter (the dotless "ı" for "i") is a candidate of every group.
    """

    def __init__(self, groups: dict[str, list[str]], loosen=None):
        self.names = list(groups)
        self.open_groups = np.zeros(len(self.names), dtype=bool)   # a regex without anchors
        by_anchor: dict[str, set[int]] = {}
        for g, patterns in enumerate(groups.values()):
            for pattern in patterns:
                anchors = regex_anchors(pattern) if pattern else frozenset()
                if anchors is None:
                    self.open_groups[g] = True
                    continue
                for anchor in anchors:
                    for piece in (loosen(anchor) if loosen is not None else (anchor,)):
                        if not piece:
                            raise ValueError(f"no anchor left of {anchor!r} in {pattern!r}")
                        by_anchor.setdefault(piece, set()).add(g)
        # Anchors are searched with each letter replaced by its group's representative; a text
        # holding another lower-case member of a group (a stand-in) is a candidate of every group.
        table = _case_table(frozenset("".join(by_anchor)))
        self.anchors: dict[str, set[int]] = {}
        for anchor, gs in by_anchor.items():
            self.anchors.setdefault("".join(table.get(ch, ch) for ch in anchor), set()).update(gs)
        self.stand_ins = sorted(ch for ch in table if ch.lower() == ch)
        words = [*self.anchors, *self.stand_ins]
        every = tuple(range(len(self.names)))
        self._groups = [tuple(sorted(self.anchors[w])) for w in self.anchors] + [every] * len(self.stand_ins)
        self._automaton = ahocorasick_rs.BytesAhoCorasick([w.encode() for w in words]) if words else None

    def candidates(self, texts: list[str], prepare=None) -> np.ndarray:
        """Boolean array (len(texts), number of groups) for lower-case ``texts``.

        ``prepare``: applied to the texts joined by NUL (it must keep each NUL and not move
        characters across one), e.g. lower-casing them all in one call.
        """
        out = np.zeros((len(texts), len(self.names)), dtype=bool)
        out[:, self.open_groups] = True
        if self._automaton is None or not texts:
            return out
        # One string, texts separated by NUL (no anchor holds one): a match never spans two.
        joined = "\x00".join(texts)
        data = (prepare(joined) if prepare is not None else joined).encode("utf-8", "surrogatepass")
        starts = np.r_[0, np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0) + 1]
        if len(starts) != len(texts):   # a text holds NUL itself: look at the texts one by one
            for i, text in enumerate(texts):
                out[i] |= self.candidates([text.replace("\x00", "\x01")], prepare)[0]
            return out
        hits = self._automaton.find_matches_as_indexes(data, overlapping=True)
        if hits:
            found = np.asarray(hits, dtype=np.int64)
            rows = np.searchsorted(starts, found[:, 1], side="right") - 1
            for word in np.unique(found[:, 0]):
                out[np.unique(rows[found[:, 0] == word])[:, None], self._groups[word]] = True
        return out
