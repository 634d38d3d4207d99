"""Which of many lexicon regexes may match which of many texts, in one pass over all of them.

Running hundreds of regex alternations over every post is slow in Python's ``re``: it tries every
alternative at every position. Most posts match none of them. Here each regex is reduced to its
*needs*: sets of plain strings such that every match of the regex contains a string of each set
(``\\bmass[- ]?(report|flag)`` -> {"mass report", "mass flag", …}; ``让.{0,8}封`` -> {"让"} and {"封"}).
One Aho-Corasick automaton (Aho & Corasick 1975, via the ``ahocorasick-rs`` package) then finds
every such string in all texts at once, joined into one UTF-8 buffer. A regex can match a text only
if each of its sets has a string in it, so the exact ``re`` needs to run only there: the same
result, on a few posts.

The reduction reads the regex's parse tree (``re._parser``, the parser ``re.compile`` uses):
literals and small character classes give exact strings; alternation, optional parts and short
repeats multiply them out; anything open (``\\w+``, ``.{0,20}``, a negated class) ends a run of
exact strings, and each run is one set; look-ahead, look-behind and anchors match no characters
and are dropped, so the sets only ever admit more texts, never fewer. A regex without sets (one
that could match with no fixed letters at all) may match every text.

Word boundaries are kept where they sit at the edge of a string (``\\breport(s|ing)?\\b`` needs
"report", "reports" or "reporting" with a boundary on both sides): such a string counts only where
the text has a boundary there, so "report" inside "reported" does not make a post a candidate.
The check reads the characters beside each occurrence in the searched buffer with ``re``'s own
idea of a word character; a caller whose buffer may differ from the regexes' text beside a match
names strings that switch the check off for a text (``unbounded``).

Case: the lexicon's regexes run with ``re.IGNORECASE`` on lower-case text, which lets a letter
match a few others besides itself ("i" matches the dotless "ı", "в" the old rounded "ᲀ";
:func:`_case_table` asks ``re`` itself which). Texts holding such a stand-in are searched again
with each stand-in replaced by the letter it stands for, so the strings never miss a match the
regex would make.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import re._constants as C  # the node types of re's parse tree
import re._parser as sre_parse
import sys
from collections.abc import Iterator

import ahocorasick_rs
import numpy as np

# Past this many strings, a part of a regex is treated as open (no exact strings) to keep the
# expansion small; its sets then come from the other parts.
_MAX_EXACT = 256
# A repeat is expanded into exact strings only up to this many copies.
_MAX_REPEAT_EXPANDED = 4
# Sets kept per regex (the most selective): each costs a search for its strings.
_MAX_NEEDS = 3
# Past this many choices of pieces, a set of loosened strings takes each string's best piece.
_MAX_COMBINATIONS = 16
# Stands for a word boundary (\b) in the strings derived from a regex; kept only at their ends.
BOUNDARY = "\x01"


def bare(marked: str) -> str:
    """A derived string without its boundary marks."""
    return marked.replace(BOUNDARY, "")


def _joined(a: str, b: str) -> str:
    s = a + b
    while BOUNDARY * 2 in s:
        s = s.replace(BOUNDARY * 2, BOUNDARY)
    if len(s) > 2 and BOUNDARY in s[1:-1]:
        # A boundary between two fixed letters is dropped: the string then admits more, never less.
        s = s[0] + s[1:-1].replace(BOUNDARY, "") + s[-1]
    return s


def _selectivity(strings: frozenset[str]) -> tuple[float, int]:
    """Longer shortest string first (a boundary mark counting half a letter), then fewer strings."""
    return min(len(s) - s.count(BOUNDARY) / 2 for s in strings), -len(strings)


class _Shape:
    """What a piece of regex can match: ``exact`` (every string it matches, boundary-marked) or,
    when None, ``needs`` (sets of strings, every match containing one string of each set)."""

    __slots__ = ("exact", "needs")

    def __init__(self, exact: frozenset[str] | None = None, needs: tuple[frozenset[str], ...] = ()):
        self.exact, self.needs = exact, needs

    def as_needs(self) -> tuple[frozenset[str], ...]:
        if self.exact is None:
            return self.needs
        return (self.exact,) if all(bare(s) for s in self.exact) else ()

    def best(self) -> frozenset[str] | None:
        needs = self.as_needs()
        return max(needs, key=_selectivity) if needs else None


def _ranked(needs) -> list[frozenset[str]]:
    """Distinct sets, most selective first (ties in a fixed order)."""
    return sorted(set(needs), key=lambda need: (_selectivity(need), sorted(need)), reverse=True)


def _pruned(needs: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    return tuple(_ranked(needs)[:_MAX_NEEDS])


def _class_chars(items) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE and av[1] - av[0] < 16:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, categories (\w, \s), wide ranges
            return None
    return frozenset(chars) if len(chars) <= 16 and BOUNDARY not in chars else None


def _sequence(items) -> _Shape:
    current = frozenset({""})   # exact strings of the run so far
    needs: list[frozenset[str]] = []
    all_exact = True
    for op, av in items:
        shape = _node(op, av)
        if shape.exact is not None:
            product = frozenset(_joined(a, b) for a in current for b in shape.exact)
            if len(product) <= _MAX_EXACT:
                current = product
                continue
            shape = _Shape(needs=shape.as_needs())
        all_exact = False
        needs += [*_Shape(exact=current).as_needs(), *shape.needs]
        current = frozenset({""})
    if all_exact:
        return _Shape(exact=current)
    return _Shape(needs=_pruned([*needs, *_Shape(exact=current).as_needs()]))


def _node(op, av) -> _Shape:
    if op is C.LITERAL:
        return _Shape(exact=frozenset({chr(av)})) if chr(av) != BOUNDARY else _Shape()
    if op is C.IN:
        chars = _class_chars(av)
        return _Shape(exact=chars) if chars is not None else _Shape()
    if op is C.AT:
        return _Shape(exact=frozenset({BOUNDARY if av is C.AT_BOUNDARY else ""}))
    if op in (C.ASSERT, C.ASSERT_NOT):
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
        bests = [s.best() for s in shapes]
        if any(b is None for b in bests):
            return _Shape()
        return _Shape(needs=(frozenset().union(*bests),))
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, body = av
        inner = _sequence(body)
        if inner.exact is not None and high <= _MAX_REPEAT_EXPANDED:
            strings, layer = set(), frozenset({""})
            for count in range(high + 1):
                if count >= low:
                    strings |= layer
                layer = frozenset(_joined(a, b) for a in layer for b in inner.exact)
                if len(strings) + len(layer) > _MAX_EXACT:
                    break
            else:
                return _Shape(exact=frozenset(strings))
        return _Shape(needs=inner.as_needs() if low >= 1 else ())
    return _Shape()  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, …: open


@functools.lru_cache(maxsize=4096)
def regex_needs(pattern: str) -> tuple[frozenset[str], ...]:
    """Sets of strings such that every match of ``pattern`` contains one string of each set (at
    most three, the most selective first); () if none is known. A string may begin or end with
    :data:`BOUNDARY`: the match has a word boundary there.

    >>> sorted(sorted(map(bare, s)) for s in regex_needs(r"让.{0,8}封"))
    [['封'], ['让']]
    """
    return _sequence(sre_parse.parse(pattern, re.IGNORECASE)).as_needs()


@functools.lru_cache(maxsize=4096)
def regex_anchors(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains (its most selective set, without
    boundary marks); None if none is known.

    >>> sorted(regex_anchors(r"\\bmass[- ]?(report|flag)"))
    ['mass flag', 'mass report', 'mass-flag', 'mass-report', 'massflag', 'massreport']
    >>> sorted(regex_anchors(r"пока .{0,20}не удалят"))
    ['не удалят']
    """
    needs = regex_needs(pattern)
    return frozenset(map(bare, needs[0])) if needs else None


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


@functools.lru_cache(maxsize=8)
def character_table(pattern: str) -> np.ndarray:
    """For every code point, whether the one-character regex ``pattern`` (a class such as
    ``\\w``) matches it: ``re`` itself decides, over all of Unicode."""
    everything = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    members = "".join(re.findall(f"(?:{pattern})+", everything)).encode("utf-32-le", "surrogatepass")
    table = np.zeros(0x110000, dtype=bool)
    table[np.frombuffer(members, dtype="<u4")] = True
    return table


def _word_characters() -> np.ndarray:
    """Where ``\\b`` holds: between a word character (``\\w``) and another."""
    return character_table(r"\w")


def _code_points_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Code points of the UTF-8 characters whose first byte is at ``at``."""
    last = len(buf) - 1
    b0 = buf[at].astype(np.int64)
    b1, b2, b3 = (buf[np.minimum(at + k, last)].astype(np.int64) & 0x3F for k in (1, 2, 3))
    return np.where(b0 < 0x80, b0,
                    np.where(b0 < 0xE0, ((b0 & 0x1F) << 6) | b1,
                             np.where(b0 < 0xF0, ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                                      ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3)))


def _word_before(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Whether the character ending just before byte ``at`` is a word character (False at 0)."""
    where = np.maximum(at - 1, 0)
    for _ in range(3):   # back over continuation bytes to the first byte of the character
        where = np.where(((buf[where] & 0xC0) == 0x80) & (where > 0), where - 1, where)
    return (at > 0) & _word_characters()[np.minimum(_code_points_at(buf, where), 0x10FFFF)]


def _word_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Whether the character starting at byte ``at`` is a word character (False past the end)."""
    inside = at < len(buf)
    points = _code_points_at(buf, np.minimum(at, len(buf) - 1))
    return inside & _word_characters()[np.minimum(points, 0x10FFFF)]


class _Found:
    """Occurrences of an automaton's strings in one buffer of texts joined by NUL."""

    __slots__ = ("data", "buf", "starts", "words", "begin", "end", "rows", "_spaces")

    def __init__(self, automaton, data: bytes):
        self.data = data
        self.buf = np.frombuffer(data, dtype=np.uint8)
        self.starts = np.r_[0, np.flatnonzero(self.buf == 0) + 1]
        hits = automaton.find_matches_as_indexes(data, overlapping=True)
        found = np.asarray(hits, dtype=np.int64).reshape(-1, 3)
        self.words, self.begin, self.end = found[:, 0], found[:, 1], found[:, 2]
        self.rows = np.searchsorted(self.starts, self.begin, side="right") - 1
        self._spaces = None

    def words_around(self, begin: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Byte ranges of the space-delimited words from the one holding ``begin`` to the one
        holding ``end`` (texts end at NUL)."""
        if self._spaces is None:
            self._spaces = np.r_[-1, np.flatnonzero((self.buf == 32) | (self.buf == 0)), len(self.buf)]
        spaces = self._spaces
        return spaces[np.searchsorted(spaces, begin) - 1] + 1, spaces[np.searchsorted(spaces, end)]

    def only(self, keep: np.ndarray) -> _Found:
        for name in ("words", "begin", "end", "rows"):
            setattr(self, name, getattr(self, name)[keep])
        return self

    def texts(self, rows: np.ndarray) -> list[bytes]:
        ends = np.r_[self.starts[1:] - 1, len(self.data)]
        return [self.data[self.starts[i]:ends[i]] for i in rows]


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


class _Strings:
    """An automaton over strings, each string standing for some sets of regexes (``entries``: set
    id, boundary wanted before it, boundary wanted after it), plus ``extra`` strings that stand
    for no set (the caller reads where they occur)."""

    def __init__(self, entries: dict[str, set[tuple[int, bool, bool]]], extra=(), markers=()):
        self.words = list(dict.fromkeys([*entries, *extra, *markers]))
        self.marker = np.array([w in markers for w in self.words], dtype=bool)
        listed = [(i, e) for i, w in enumerate(self.words) for e in sorted(entries.get(w, ()))]
        self.need = np.array([e[0] for _, e in listed], dtype=np.int64)
        self.left = np.array([e[1] for _, e in listed], dtype=bool)
        self.right = np.array([e[2] for _, e in listed], dtype=bool)
        self.count = np.bincount(np.array([i for i, _ in listed], dtype=np.int64), minlength=len(self.words))
        self.first = np.r_[0, np.cumsum(self.count)[:-1]].astype(np.int64)
        word_chars = _word_characters()
        self.head_word = np.array([word_chars[ord(w[0])] for w in self.words], dtype=bool)
        self.tail_word = np.array([word_chars[ord(w[-1])] for w in self.words], dtype=bool)
        self.automaton = ahocorasick_rs.BytesAhoCorasick(
            [w.encode("utf-8", "surrogatepass") for w in self.words], implementation=ahocorasick_rs.Implementation.DFA)

    def find(self, data: bytes) -> _Found:
        return _Found(self.automaton, data)

    def met(self, found: _Found, unsure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, set ids, checked): the sets each row has a string of, at a word boundary where
        one is wanted; ``checked`` is False where the boundary failed but ``unsure(found, hits)``
        counted the hit anyway (the buffer may differ from the regexes' text beside it)."""
        count = self.count[found.words]
        hit = np.repeat(np.arange(len(count)), count)
        entry = np.repeat(self.first[found.words] - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(len(hit))
        passed = np.ones(len(entry), dtype=bool)
        left, right = self.left[entry], self.right[entry]
        checked = np.flatnonzero(left | right)
        if len(checked):
            h = hit[checked]
            words = found.words[h]
            passed[checked] = ((~left[checked] | (_word_before(found.buf, found.begin[h]) != self.head_word[words]))
                               & (~right[checked] | (_word_at(found.buf, found.end[h]) != self.tail_word[words])))
        ok = passed.copy()
        failed = np.flatnonzero(~passed)
        ok[failed] = unsure(found, hit[failed])
        return found.rows[hit[ok]], self.need[entry[ok]], passed[ok]


def _loosened(needs: tuple[frozenset[str], ...], loosen) -> list[frozenset[str]]:
    """The sets to search for ``needs`` (most selective first) when each string is ``loosen``-ed
    into pieces the text holds all of: a set of one string becomes one set per piece; a set of
    several, one set per choice of a piece of each string (or, past _MAX_COMBINATIONS choices, one
    set of each string's most selective piece). A set with a string that leaves
    nothing to search is dropped (a regex left without sets may match any text)."""
    if loosen is None:
        return list(needs)
    out = []
    for need in needs:
        pieces = [[frozenset(p) for p in loosen(string) if p and all(map(bare, p))] for string in sorted(need)]
        if not all(pieces):
            continue   # a string with nothing to search for: the set rules nothing out
        if len(need) == 1:
            out += pieces[0]
        elif math.prod(len(p) for p in pieces) <= _MAX_COMBINATIONS:
            # One of several strings, each all of its pieces: one set per choice of a piece of each.
            out += [frozenset().union(*choice) for choice in itertools.product(*pieces)]
        else:
            out.append(frozenset().union(*(max(p, key=_selectivity) for p in pieces)))
    return _ranked(out)


class AnchorIndex:
    """For groups of regexes, which groups may match which texts (see the module docstring).

    Parameters
    ----------
    groups : mapping of group name -> regex patterns (``re.IGNORECASE`` semantics).
    loosen : optional function from a derived string (boundary-marked) to the pieces to search
        instead, for texts that are a looser form of what the regexes will see: a list of tuples of
        strings, one string of each tuple occurring in the loose text wherever the string occurs
        in the regexes' text, with a boundary mark only where the regexes' text has a boundary
        and the loose text the same characters beside it.
    recheck : strings whose presence in a prepared text means the quick preparation may differ
        from the careful one: such texts are prepared again with ``reprepare`` and searched again.
    unbounded : strings whose presence in a space-delimited word of a prepared text means that the
        regexes may see other characters beside a match in that word (a link they see as a
        token): there a failed boundary check does not rule the match out.

    ``candidates(texts)`` returns a boolean array (texts × groups): False means no regex of the
    group can match the text; True means one may (the caller confirms with ``re``). The texts
    must be lower case (or made so by ``prepare``).

    Two searches: the first looks for the most selective set of each regex in every text; the
    second, only in the texts where one occurs, for all of the regex's sets.
    """

    def __init__(self, groups: dict[str, list[str]], loosen=None, recheck=(), unbounded=()):
        self.names = list(groups)
        self.open_groups = np.zeros(len(self.names), dtype=bool)   # a regex without sets
        regex_group: list[int] = []
        need_regex: list[int] = []
        pieces: list[tuple[int, str]] = []   # (set id, boundary-marked string to search)
        for g, patterns in enumerate(groups.values()):
            for pattern in patterns:
                if not pattern:
                    continue
                needs = _loosened(regex_needs(pattern), loosen)
                if not needs:
                    self.open_groups[g] = True
                    continue
                for need in needs:
                    need_regex.append(len(regex_group))
                    pieces += [(len(need_regex) - 1, piece) for piece in sorted(need)]
                regex_group.append(g)
        # Strings are searched with each letter replaced by its group's representative; a text
        # holding another lower-case member of a group (a stand-in) is searched again with the
        # stand-ins replaced.
        table = _case_table(frozenset("".join(bare(p) for _, p in pieces)))
        stand_ins = sorted(ch for ch in table if ch.lower() == ch)
        self._fold = [(ch, table[ch]) for ch in stand_ins]
        word_chars = _word_characters()
        self._fold_keeps_words = all(word_chars[ord(a)] == word_chars[ord(b)] for a, b in self._fold)
        need_regex_array = np.array(need_regex, dtype=np.int64)
        first_need = np.r_[0, np.flatnonzero(np.diff(need_regex_array)) + 1].astype(np.int64)
        every: dict[str, set[tuple[int, bool, bool]]] = {}
        first: dict[str, set[tuple[int, bool, bool]]] = {}
        is_first = set(first_need.tolist())
        for need, piece in pieces:
            word = "".join(table.get(ch, ch) for ch in bare(piece))
            entry = (need, piece.startswith(BOUNDARY), piece.endswith(BOUNDARY))
            every.setdefault(word, set()).add(entry)
            if need in is_first:
                first.setdefault(word, set()).add(entry)
        self._first = _Strings(first, extra=[*stand_ins, *recheck], markers=unbounded) if first or stand_ins else None
        self._every = _Strings(every, markers=unbounded) if every else None
        if self._first is not None:
            self._recheck = np.array([w in stand_ins or w in recheck for w in self._first.words], dtype=bool)
        self._first_need = first_need
        self._single_need = np.diff(np.r_[first_need, len(need_regex)]) == 1
        self._need_regex = need_regex_array
        self._regex_group = np.array(regex_group, dtype=np.int64)

    def first_strings(self) -> list[tuple[str, tuple[tuple[bool, bool], ...], bool]]:
        """The strings of the first search: (string, the boundaries (before, after) each of its
        sets wants, whether it is a ``unbounded`` marker). Strings without sets or marker (the
        stand-ins and ``recheck`` strings) are left out; so are all when a group is open."""
        if self._first is None:
            return []
        first = self._first
        return [(word, tuple(zip(first.left[first.first[k]:first.first[k] + first.count[k]].tolist(),
                                 first.right[first.first[k]:first.first[k] + first.count[k]].tolist(), strict=True)),
                 bool(first.marker[k])) for k, word in enumerate(first.words) if first.count[k] or first.marker[k]]

    def stand_ins(self) -> list[str]:
        """The letters the strings are searched again for (see :meth:`candidates`)."""
        return [stand_in for stand_in, _ in self._fold]

    def candidates(self, texts: list[str], prepare=None, reprepare=None, prepare_texts=None) -> np.ndarray:
        """Boolean array (len(texts), number of groups).

        ``prepare``: applied to the texts joined by NUL (it must keep each NUL and not move
        characters across one), e.g. lower-casing them all in one call; it may return UTF-8 bytes.
        ``prepare_texts``: instead, from the list of texts to their prepared forms joined by NUL.
        ``reprepare``: from a list of texts to their careful prepared forms, for the texts holding
        a ``recheck`` string (by default their prepared forms are searched again as they are).
        """
        out = np.zeros((len(texts), len(self.names)), dtype=bool)
        out[:, self.open_groups] = True
        if self._first is None or not texts:
            return out
        # One buffer, texts separated by NUL (no searched string holds one): a match never spans two.
        if prepare_texts is not None:
            data = prepare_texts(texts)
        else:
            joined = "\x00".join(texts)
            data = prepare(joined) if prepare is not None else joined
        found = self._first.find(_as_bytes(data))
        if len(found.starts) != len(texts):   # a text holds NUL itself: look at the texts one by one
            for i, text in enumerate(texts):
                out[i] |= self.candidates([text.replace("\x00", "\x01")], prepare, reprepare, prepare_texts)[0]
            return out
        linked = np.zeros(len(texts), dtype=bool)
        linked[found.rows[self._first.marker[found.words]]] = True
        again = np.unique(found.rows[self._recheck[found.words]])
        if len(again):
            prepared = (reprepare([texts[i] for i in again]) if reprepare is not None
                        else [t.decode("utf-8", "surrogatepass") for t in found.texts(again)])
            found.only(~np.isin(found.rows, again))
        self._mark(out, found, linked)
        if len(again):
            folded = [self._folded(text) for text in prepared]
            second = self._first.find(_as_bytes("\x00".join(folded)))
            part = out[again]
            if len(second.starts) != len(again):
                part[:] = True
            else:
                # Replaced letters may have other word characters than those the regexes see.
                changed = np.array([a != b for a, b in zip(prepared, folded, strict=True)], dtype=bool)
                self._mark(part, second, linked[again], loose=changed & (not self._fold_keeps_words))
            out[again] = part
        return out

    def _folded(self, text: str) -> str:
        for stand_in, letter in self._fold:
            if stand_in in text:
                text = text.replace(stand_in, letter)
        return text

    @staticmethod
    def _unsure(strings: _Strings, linked: np.ndarray, loose: np.ndarray):
        def unsure(found: _Found, hits: np.ndarray) -> np.ndarray:
            rows = found.rows[hits]
            out = loose[rows].copy()
            todo = np.flatnonzero(linked[rows] & ~out)
            if len(todo) and strings.marker.any():
                # Does the space-delimited word around the match hold a link or a mention?
                markers = np.r_[np.sort(found.begin[strings.marker[found.words]]), len(found.buf)]
                starts, ends = found.words_around(found.begin[hits[todo]], found.end[hits[todo]])
                k = np.searchsorted(markers, starts)
                out[todo] = markers[k] < ends
            return out
        return unsure

    def _mark(self, out: np.ndarray, found: _Found, linked: np.ndarray, loose: np.ndarray | None = None) -> None:
        """Sets ``out[row, group]`` where each set of one of the group's regexes has a string in the row.

        ``linked``: rows where a failed boundary may be an artefact of a link (decided word by
        word); ``loose``: rows where it may be anything (every failed boundary counts).
        """
        loose = loose if loose is not None else np.zeros(len(linked), dtype=bool)
        # A failed boundary in a row with a link counts here; the second search decides.
        rows, needs, passed = self._first.met(found, lambda found, hits: (linked | loose)[found.rows[hits]])
        regex = self._need_regex[needs]
        done = self._single_need[regex] & (passed | loose[rows])
        out[rows[done], self._regex_group[regex[done]]] = True
        maybe = np.unique(rows[~done])   # rows to search for the other sets of their regexes
        if not len(maybe) or self._every is None:
            return
        second = self._every.find(b"\x00".join(found.texts(maybe)))
        rows, needs, _ = self._every.met(second, self._unsure(self._every, linked[maybe], loose[maybe]))
        n_needs = len(self._need_regex)
        keys = np.unique(rows * n_needs + needs)
        at_rows, at = np.unique(keys // n_needs, return_inverse=True)
        met = np.zeros((len(at_rows), n_needs), dtype=bool)
        met[at, keys % n_needs] = True
        regex_ok = np.logical_and.reduceat(met, self._first_need, axis=1)
        r, regex = np.nonzero(regex_ok)
        out[maybe[at_rows[r]], self._regex_group[regex]] = True


# --- narrowing alternations to what may match a text ---------------------------------------------

def alternatives(pattern: str) -> tuple[str, ...] | None:
    """The alternatives of an alternation ``(?:a)|(?:b)|…`` as :func:`re.compile` reads it,
    nested non-capturing alternations flattened (``(?:(?:a)|(?:b))|(?:c)`` -> a, b, c); None when
    ``pattern`` is not such an alternation (or one of its parts does not compile on its own).

    Leftmost-first alternation tries its alternatives in order at each position, so the flat list
    in order is the same regex.

    >>> alternatives(r"(?:\\breport\\b)|(?:(?:a|b)|(?:[|)]))")
    ('\\\\breport\\\\b', 'a|b', '[|)]')
    """
    parts, depth, start = [], 0, 0
    for k, ch in _syntax(pattern):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:k])
            start = k + 1
    parts.append(pattern[start:])
    out: list[str] = []
    for part in parts:
        if not (part.startswith("(?:") and part.endswith(")") and _closes_at_end(part)):
            return None
        inner = part[3:-1]
        nested = alternatives(inner) if len(parts) > 1 and inner.startswith("(?:") else None
        out += nested if nested is not None else [inner]
    try:
        for part in out:
            re.compile(part)
    except re.error:
        return None
    return tuple(out)


def _closes_at_end(part: str) -> bool:
    """Whether the group opened at ``part[0]`` closes at its last character."""
    depth = 0
    for k, ch in _syntax(part):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return k == len(part) - 1
    return False


def _syntax(pattern: str) -> Iterator[tuple[int, str]]:
    """(position, character) of the characters of ``pattern`` that are regex syntax or literals
    outside character classes: escapes (``\\x``) and classes (``[...]``) are skipped whole."""
    k = 0
    while k < len(pattern):
        ch = pattern[k]
        if ch == "\\":
            k += 2
            continue
        if ch == "[":   # a class: "]" right after "[" or "[^" is a member
            k += 2 if pattern.startswith("[^", k) else 1
            k += pattern[k] == "]" if k < len(pattern) else 0
            while k < len(pattern) and pattern[k] != "]":
                k += 2 if pattern[k] == "\\" else 1
        else:
            yield k, ch
        k += 1


# Distinct sets of alternatives kept per Narrowing (a few bytes each, the regexes are shared).
_MAX_NARROWED = 200_000
# Matches nothing: an alternation none of whose alternatives can match a text.
NEVER = re.compile(r"(?!)")


@functools.lru_cache(maxsize=65_536)
def _narrow_compiled(parts: tuple[str, ...], flags: int) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts), flags)


@functools.lru_cache(maxsize=16_384)
def _matches_empty(part: str, flags: int) -> bool:
    return sre_parse.parse(part, flags).getwidth()[0] == 0


class AnyOf:
    """The alternation of a few compiled regexes (in order), none of which matches the empty
    string, without compiling it (``re.compile`` costs 40-90 µs, more than most searches here).

    ``search`` gives the alternation's match: the leftmost start of any alternative, and there the
    first alternative (in order) that matches, as the alternation tries them; its span and text
    are the alternation's (its groups are the alternative's own). ``finditer`` gives those matches
    left to right, and ``findall`` their texts, one per match of the alternation (as many as its
    ``findall``, which would list groups where it has some).
    """

    __slots__ = ("regexes",)

    def __init__(self, regexes: tuple[re.Pattern, ...]):
        self.regexes = regexes

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match | None:
        best = None
        for regex in self.regexes:
            match = regex.search(string, pos, endpos)
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        return best

    def finditer(self, string: str) -> Iterator[re.Match]:
        # No alternative matches the empty string, so each match moves on: finditer's own walk.
        pos = 0
        while (match := self.search(string, pos)) is not None:
            yield match
            pos = match.end()

    def findall(self, string: str) -> list[str]:
        return [match.group(0) for match in self.finditer(string)]


class Narrowing:
    """Alternations of regexes, each cut per text down to the alternatives that may match in it.

    Python's ``re`` tries every alternative of an alternation at every position of a text;
    lexicon alternations have dozens, of which a post holds the strings of one or two. An
    alternative the anchor search (:class:`AnchorIndex`, one group per alternative) rules out
    for a text cannot match anywhere in it, nor in any of its sentences, so the alternation of
    the remaining ones, in the same order, finds the same matches (same spans, same counts) as
    the whole one: only faster. A sentence's edges sit beside separators that are not word
    characters, so a boundary at its edge is a boundary in the text too.

    Parameters
    ----------
    regexes : compiled alternations (``(?:a)|(?:b)|…``, see :func:`alternatives`) or None; one
        that is not such an alternation is handed out whole for every text.

    ``per_text(texts)`` returns, for each text, a tuple with each regex narrowed (None stays
    None; :data:`NEVER` where no alternative may match; one alternative compiled alone; several
    as an :class:`AnyOf`, which searches and counts as their alternation does). Texts must be lower case or made so by
    ``prepare``.
    """

    def __init__(self, regexes):
        self.regexes = tuple(regexes)
        self._parts: list[tuple[str, ...] | None] = []
        groups: dict[str, list[str]] = {}
        self._columns: list[np.ndarray] = []
        for r, regex in enumerate(self.regexes):
            parts = alternatives(regex.pattern) if regex is not None else None
            self._parts.append(parts)
            first = len(groups)
            for k, part in enumerate(parts or ()):
                groups[f"{r}:{k}"] = [part]
            self._columns.append(np.arange(first, len(groups)))
        self._index = AnchorIndex(groups) if groups else None
        self._bounds = np.cumsum([0, *(len(c) for c in self._columns)])
        self._cache: dict[tuple[int, ...], tuple] = {}

    def per_text(self, texts: list[str], prepare=str.lower) -> list[tuple]:
        if self._index is None or not texts:
            return [self.regexes] * len(texts)
        may = self._index.candidates(texts, prepare=prepare)
        rows, cols = np.nonzero(may)
        ends = np.searchsorted(rows, np.arange(1, len(texts) + 1))
        cols = cols.tolist()
        out, start = [], 0
        for end in ends.tolist():
            key = tuple(cols[start:end])
            start = end
            found = self._cache.get(key)
            if found is None:
                if len(self._cache) >= _MAX_NARROWED:
                    self._cache.clear()
                found = self._cache[key] = self._narrowed(key)
            out.append(found)
        return out

    def _narrowed(self, key: tuple[int, ...]) -> tuple:
        chosen = np.array(key, dtype=np.int64)
        at = np.searchsorted(chosen, self._bounds)
        out = []
        for r, (regex, parts) in enumerate(zip(self.regexes, self._parts, strict=True)):
            if regex is None or parts is None:
                out.append(regex)
                continue
            keep = [parts[k] for k in (chosen[at[r]:at[r + 1]] - self._bounds[r]).tolist()]
            if not keep:
                out.append(NEVER)
            elif len(keep) == len(parts):
                out.append(regex)
            elif len(keep) == 1 or any(_matches_empty(p, regex.flags) for p in keep):
                out.append(_narrow_compiled(tuple(keep), regex.flags))
            else:
                out.append(AnyOf(tuple(_narrow_compiled((p,), regex.flags) for p in keep)))
        return tuple(out)


@functools.lru_cache(maxsize=16)
def narrowing(patterns: tuple[tuple[str, int] | None, ...]) -> Narrowing:
    """A :class:`Narrowing` of the regexes given as (pattern, flags) pairs, built once per process."""
    return Narrowing([re.compile(p, f) if p is not None else None for p, f in (x or (None, 0) for x in patterns)])


def narrowing_of(regexes) -> Narrowing:
    """:func:`narrowing` of compiled regexes (None for none), cached by their patterns."""
    return narrowing(tuple((r.pattern, r.flags) if r is not None else None for r in regexes))
