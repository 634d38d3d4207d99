"""Words in WhatsApp headers, read with the Unicode CLDR data that ``babel`` ships.

A phone writes its header dates in its own language: month names (``18 Mar``, ``28 Aug 2013``,
``5 мар.``) and clock words (``9:15 in the morning``, ``3:07 de la tarde``, ``μ.μ.``, ``下午``).
Rather than hand-written tables, every locale CLDR knows is searched:

* month names: wide and abbreviated, format and stand-alone forms (``марта`` and ``март``);
* clock words: ``am``/``pm`` and the *day periods* (``morning1``…) with the hours CLDR's
  day-period rules give them, so ``3:07 in the afternoon`` is 15:07 and ``12:30 at night`` 00:30.

Loading the locale data takes a second or two, so it happens only for a file that needs it
(Latin ``AM``/``p. m.`` and the common CJK/Arabic markers are read without it), language
locales first and territory variants (``en_GB`` "Sept") only when a word is not found there.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from functools import lru_cache

from detector.errors import DetectorError

DAY = 86400
NOON = 43200
# Read without loading CLDR: the markers of most exports. Each agrees with CLDR (a test checks).
_FAST_AMPM = {"am": False, "pm": True, "上午": False, "下午": True, "午前": False, "午後": True,
              "오전": False, "오후": True, "ص": False, "م": True}
_LATIN_AMPM = re.compile(r"^([ap])\.?[ ]?m\.?$")
_FOLD_DROP = re.compile(r"[.\s\u200e\u200f]+")


def fold(word: str) -> str:
    """A word as it is looked up: NFKC, case-folded, without dots, spaces or direction marks."""
    return _FOLD_DROP.sub("", unicodedata.normalize("NFKC", word).casefold())


# --- locale data --------------------------------------------------------------------------------

def _locale_ids(tier: int) -> list[str]:
    from babel import localedata

    ids = sorted(localedata.locale_identifiers())
    languages = [i for i in ids if "_" not in i]
    return languages if tier == 0 else [i for i in ids if "_" in i]


@lru_cache(maxsize=2)
def _tier(tier: int) -> tuple[dict, dict]:
    """Month names and clock words of one tier of locales (0: languages, 1: territory variants).

    Returns ``months[word] = {locale: month}`` and ``periods[word] = [(locale, start, end)]``
    with seconds since midnight (``end`` exclusive; ``start > end`` wraps past midnight).
    """
    from babel import Locale

    months: dict[str, dict[str, int]] = defaultdict(dict)
    periods: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for lid in _locale_ids(tier):
        locale = Locale.parse(lid)
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in locale.months[context][width].items():
                    months[fold(name)].setdefault(lid, number)
        rules = locale._data.get("day_period_rules", {}).get(None, {})   # babel has no public accessor
        spans: dict[str, list[tuple[int, int]]] = {"am": [(0, NOON)], "pm": [(NOON, DAY)]}
        for period, rule_list in rules.items():
            for rule in rule_list:
                if "at" in rule:
                    spans.setdefault(period, []).append((rule["at"], rule["at"] + 60))
                else:
                    spans.setdefault(period, []).append((rule["from"], rule["before"]))
        seen = set()
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for period, name in locale.day_periods[context][width].items():
                    key = fold(name)
                    for start, end in spans.get(period, ()):
                        if key and (key, start, end) not in seen:
                            seen.add((key, start, end))
                            periods[key].append((lid, start, end))
    return dict(months), dict(periods)


_MONTHS, _PERIODS = 0, 1


def _lookup(table: int, key: str):
    for tier in (0, 1):
        found = _tier(tier)[table].get(key)
        if found:
            return found
    return None


# --- month names ----------------------------------------------------------------------------------

def is_month_name(word: str) -> bool:
    """True when some CLDR locale spells a month ``word`` (loads the locale data)."""
    return _lookup(_MONTHS, fold(word)) is not None


def month_numbers(words: list[str], path=None, line_of: dict[str, int] | None = None) -> tuple[dict[str, int], str]:
    """The month number of each distinct month name of one file, and the locales that agree.

    Each name is read in the languages that spell *every* month name of the file (all that
    spell it, if none spells them all), as the month most of them give it; ``Mar`` is March in
    64 languages and May only in Teso. Where the majority is not at least twice the next
    reading (Croatian ``lip`` is June, Polish and Czech ``lip`` July) the reader refuses
    rather than guess.

    Raises
    ------
    DetectorError
        naming the line of a word no locale spells as a month, or of one whose month stays ambiguous.
    """
    line_of = line_of or {}
    found = {}
    for word in words:
        locales = _lookup(_MONTHS, fold(word))
        if locales is None:
            raise DetectorError(f"unknown month name {word!r}", path, line_of.get(word),
                                "expected a month name or abbreviation in the phone's language")
        found[word] = locales
    common = set.intersection(*(set(v) for v in found.values())) if found else set()
    result = {}
    for word, locales in found.items():
        votes = Counter(locales[lid] for lid in (common or locales))
        (month, n), *others = votes.most_common()
        if others and n <= 2 * others[0][1]:
            raise DetectorError(f"the month name {word!r} means different months in different languages "
                                f"({', '.join(str(m) for m, _ in votes.most_common())})", path, line_of.get(word),
                                "export the chat again with numeric dates")
        result[word] = month
    shown = sorted(common)[:6]
    return result, ", ".join(shown) + (" …" if len(common) > 6 else "") if common else "several languages"


# --- clock words ----------------------------------------------------------------------------------

def is_clock_word(word: str) -> bool:
    """True for ``AM``/``PM`` and for any CLDR day-period name (``in the morning``, ``μ.μ.``)."""
    key = fold(word)
    return bool(_LATIN_AMPM.match(key) or key in _FAST_AMPM or _lookup(_PERIODS, key))


def twenty_four_hour(hour: int, minute: int, word: str) -> int | None:
    """The 24-hour hour of a 12-hour ``hour:minute`` followed (or preceded) by a clock ``word``.

    Of the two readings (``hour`` and ``hour + 12``, 12 read as 0), the one inside the word's
    day period wins; where a word means different periods in different locales, the reading
    more locales support wins. ``None`` when no reading fits or a tie leaves it open.
    """
    key = fold(word)
    latin = _LATIN_AMPM.match(key)
    pm = (latin.group(1) == "p") if latin else _FAST_AMPM.get(key)
    if pm is not None:
        return hour % 12 + (12 if pm else 0)
    spans = _lookup(_PERIODS, key) or []
    readings = (hour % 12, hour % 12 + 12)
    votes = [len({lid for lid, start, end in spans if _inside(h * 3600 + minute * 60, start, end)})
             for h in readings]
    if votes[0] == votes[1] == 0 and spans:
        # A phone with older CLDR rules (English "at night" once ran to 06:00): the nearer reading.
        gaps = [min(_gap(h * 3600 + minute * 60, start, end) for _, start, end in spans) for h in readings]
        votes = [-gaps[0], -gaps[1]]
    if votes[0] == votes[1]:
        return None
    return readings[0] if votes[0] > votes[1] else readings[1]


def _inside(t: int, start: int, end: int) -> bool:
    return start <= t < end if start <= end else (t >= start or t < end)


def _gap(t: int, start: int, end: int) -> int:
    """Seconds from ``t`` to the span ``[start, end)`` around the clock (0 inside)."""
    if _inside(t, start, end):
        return 0
    return min((start - t) % DAY, (t - end + 1) % DAY)
