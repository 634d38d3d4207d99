"""Which number of a WhatsApp date is the day, when every date of a file reads both ways.

``3/4/22`` is 3 April in Berlin and March 4 in Chicago, and a chat whose every date has both
numbers at most 12 never says which. Such a file is read in the order its own evidence points
to, strongest first (:func:`infer_from_file`):

0. **Attachment names.** WhatsApp names the media it saves by the day it got them
   (``IMG-20210703-WA0001.jpg``, ``STK-…``, ``VID-…``), and the export writes that name on the
   message that carried it: the order under which such messages fall on their file's day, at
   least twice as often as under the other, wins.

1. **Chronology.** An export lists its messages in the order they were sent. Read in the wrong
   order, the day numbers become months: the dates jump back by months where the true ones
   step forward a day, and steps of a day become jumps of a month. So

   * the order under which fewer steps go back by more than a day wins, if it has less than
     half as many as the other (a real export has a few small backward steps: a message sent
     offline is listed when it arrives; those are within a day and are not counted);
   * otherwise, when neither order goes back, the order under which the dates move least in
     all (the sum of the gaps between consecutive messages) wins, if the other moves at least
     :data:`SPREAD_RATIO` times as much: consecutive days, not the same day of consecutive
     months.

2. **Conventions** (weaker, said so). A phone writes dates as its locale does. The locales of
   the Unicode CLDR (``babel``) whose short date and time patterns write what the file writes
   (separator, zero padding, two- or four-digit year, Latin digits; a 12-hour clock and its
   AM/PM as spelled, while a 24-hour clock matches any locale, since users switch to it) vote
   for their order, each weighted by the share of its territory's people who speak its
   language (CLDR's territory data; a locale whose language has no official standing there
   weighs nothing). The order with at least four times the other's weight wins (and at least
   :data:`MIN_WEIGHT`): ``05/09/2022, 23:07``, ``5.9.22`` and ``05/09/2022, 11:07 pm`` are day
   first. Shapes both orders write stay open: ``5/9/22, 11:07 PM`` is en_US and fil_PH but also
   ur_PK and km_KH (about 3 to 1), and ``5/9/22, 23:07`` is es, el, ur and a US phone set to
   24-hour time.

3. Otherwise nothing decides, and the caller refuses the file and names the options.

The user's ``--dayfirst``/``--monthfirst`` (or ``detector-case.json``) is never second-guessed
for such a file; the caller only notes when the file's own evidence disagrees with it.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

import numpy as np

DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"

DAY = 86_400
SPREAD_RATIO = 4.0          # the wrong order must spread the dates this many times as far
WEIGHT_RATIO = 4.0          # the winning order's CLDR weight against the other's (80 %)
MIN_WEIGHT = 100.0          # as many as the people of one territory
_NUMERIC_DATE = re.compile(r"(\d{1,4})([-/.]) ?(\d{1,2})\2 ?(\d{1,4})")
_PATTERN_DATE = re.compile(r"([dMy]+)([./-])([dMy]+)\2([dMy]+)\.?")


class Inferred(NamedTuple):
    """A date order read from a file's own evidence, and that evidence in words."""

    order: str          # DAY_FIRST or MONTH_FIRST
    source: str         # "attachment names", "chronology" or "conventions"
    reason: str


def infer_from_file(first: np.ndarray, second: np.ndarray, year: np.ndarray, seconds: np.ndarray,
                    stamps: np.ndarray, hours: list[str], clock_words: list[str | None],
                    bodies: list[str] | None = None) -> Inferred | None:
    """The order of day/month numbers that all read both ways: from attachment names, else
    chronology, else conventions.

    Parameters
    ----------
    first, second : the first and second date numbers of each header, in file order (all 1–12).
    year : the Gregorian year of each header.
    seconds : seconds since midnight of each header's time (24-hour).
    stamps : each header's date and time as written (for the conventions).
    hours, clock_words : the hour as written and the clock word (AM/PM…) or None, per header.
    bodies : the text after each header (for attachment names), or None.

    Returns
    -------
    :class:`Inferred`, or None when none of them decides.
    """
    return ((order_from_attachments(first, second, year, bodies) if bodies is not None else None)
            or order_from_chronology(first, second, year, seconds)
            or order_from_conventions(stamps, hours, clock_words))


# --- attachment names -----------------------------------------------------------------------

_ATTACHMENT = re.compile(r"\b(?:IMG|VID|STK|AUD|PTT|DOC)-(20\d{2})(\d{2})(\d{2})-WA\d+")


def order_from_attachments(first: np.ndarray, second: np.ndarray, year: np.ndarray,
                           bodies: list[str]) -> Inferred | None:
    """The order under which messages carrying a WhatsApp media file name fall on the day the
    name gives (see the module docstring)."""
    hits = {DAY_FIRST: 0, MONTH_FIRST: 0}
    example: dict[str, str] = {}
    for i, body in enumerate(bodies):
        if "-WA" not in body or first[i] == second[i]:
            continue
        for y, m, d in _ATTACHMENT.findall(body.partition("\n")[0]):
            if int(y) != year[i]:
                continue
            for order, (month, day) in ((DAY_FIRST, (second[i], first[i])), (MONTH_FIRST, (first[i], second[i]))):
                if (int(m), int(d)) == (month, day):
                    hits[order] += 1
                    example.setdefault(order, f"{y}{m}{d}")
    (win, lose) = sorted(hits, key=hits.get, reverse=True)
    if hits[win] == 0 or hits[win] < 2 * hits[lose]:
        return None
    return Inferred(win, "attachment names",
                    f"date order inferred from attachment names: {_words(win)}; {hits[win]} media file name"
                    f"{'s fall' if hits[win] > 1 else ' falls'} (e.g. …-{example[win]}-WA…) on the message's day under it, "
                    f"{hits[lose]} under {_words(lose)}")


# --- chronology -----------------------------------------------------------------------------

def order_from_chronology(first: np.ndarray, second: np.ndarray, year: np.ndarray,
                          seconds: np.ndarray) -> Inferred | None:
    """The order under which the messages run forward in time (see the module docstring)."""
    if len(first) < 2:
        return None
    times = {DAY_FIRST: _times(year, month=second, day=first, seconds=seconds),
             MONTH_FIRST: _times(year, month=first, day=second, seconds=seconds)}
    steps = {order: np.diff(t) for order, t in times.items()}
    back = {order: int((s < -DAY).sum()) for order, s in steps.items()}
    changes = int(((np.diff(first) != 0) | (np.diff(second) != 0) | (np.diff(year) != 0)).sum())
    (win, lose) = sorted(back, key=back.get)
    if back[win] * 2 < back[lose]:
        return Inferred(win, "chronology",
                        f"date order inferred from chronology: {_words(win)}; {back[win]} of the {changes} steps from one "
                        f"date to another go back by more than a day under it, {back[lose]} under {_words(lose)}")
    if back[win] == back[lose] == 0:
        spread = {order: int(np.abs(s).sum()) for order, s in steps.items()}
        (win, lose) = sorted(spread, key=spread.get)
        if spread[lose] >= SPREAD_RATIO * max(spread[win], DAY):
            return Inferred(win, "chronology",
                            f"date order inferred from chronology: {_words(win)}; {_changes(changes)} "
                            f"{'runs' if changes == 1 else 'run'} forward either way, spanning {_days(spread[win])} under it and "
                            f"{_days(spread[lose])} under {_words(lose)} (steps of a day, not of a month)")
    return None


def _times(year: np.ndarray, month: np.ndarray, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Seconds since 1970 of calendar dates (month and day 1–12, always valid) and times of day."""
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    return days.astype(np.int64) * DAY + seconds.astype(np.int64)


def _changes(n: int) -> str:
    return f"the {n} date changes" if n != 1 else "the one date change"


def _words(order: str) -> str:
    return "day first" if order == DAY_FIRST else "month first"


def _days(seconds: int) -> str:
    days = seconds / DAY
    return f"{days:.0f} days" if days >= 2 else f"{days * 24:.0f} hours"


# --- conventions ----------------------------------------------------------------------------

class Convention(NamedTuple):
    """How a file (or a CLDR locale) writes a short date and time."""

    separator: str
    pad_first: bool | None      # a zero before single-digit numbers; None: no such number seen
    pad_second: bool | None
    year_digits: int
    twelve_hour: bool
    pad_hour: bool | None
    markers: frozenset[str]     # the AM/PM markers as spelled, spaces removed (12-hour clocks)


def order_from_conventions(stamps: np.ndarray, hours: list[str], clock_words: list[str | None]) -> Inferred | None:
    """The order most CLDR locales that write dates and times as the file does use (see the
    module docstring), or None when they do not agree or none matches."""
    written = file_convention(stamps, hours, clock_words)
    if written is None:
        return None
    weights: Counter[str] = Counter()
    examples: dict[str, list[tuple[float, str]]] = {DAY_FIRST: [], MONTH_FIRST: []}
    for locale, order, convention, weight in _locale_conventions():
        if weight > 0 and _matches(written, convention):
            weights[order] += weight
            examples[order].append((weight, locale))
    if not weights:
        return None
    (win, w_win), *rest = weights.most_common() + [("", 0.0)]
    w_lose = rest[0][1]
    if w_win < max(MIN_WEIGHT, WEIGHT_RATIO * w_lose):
        return None
    lose = MONTH_FIRST if win == DAY_FIRST else DAY_FIRST
    shown = ", ".join(_heaviest(examples[win], 4))
    against = (f"; {len(examples[lose])} that put the {_first_word(lose)} first weigh "
               f"{f'{w_lose:.0f}' if w_lose >= 1 else 'under 1'} "
               f"(e.g. {', '.join(_heaviest(examples[lose], 3))})") if examples[lose] else ""
    return Inferred(win, "conventions",
                    f"date order inferred from the export's conventions (weaker evidence: the chronology does not "
                    f"decide): {_words(win)}; the CLDR locales that write dates and times like {str(stamps[0])!r} "
                    f"({_describe(written)}) put the "
                    f"{_first_word(win)} first, e.g. {shown} (weight {w_win:.0f}, the share of their territories' "
                    f"people who speak their language){against}")


def _heaviest(weighted: list[tuple[float, str]], n: int) -> list[str]:
    """The ``n`` languages of most weight among weighted locales, each with its locales' count."""
    by_language: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for weight, locale in weighted:
        by_language[locale.split("_")[0]] += weight
        count[locale.split("_")[0]] += 1
    return [f"{language} ({count[language]} locale{'s' if count[language] > 1 else ''})"
            for language, _ in by_language.most_common(n)]


def _first_word(order: str) -> str:
    return "day" if order == DAY_FIRST else "month"


def _describe(c: Convention) -> str:
    pad = {True: "zero-padded", False: "not padded", None: "padding unseen"}
    clock = f"12-hour clock, {'/'.join(sorted(c.markers))}" if c.twelve_hour else "24-hour clock"
    return f"'{c.separator}', {pad[c.pad_first]}/{pad[c.pad_second]}, {c.year_digits}-digit year, {clock}"


def file_convention(stamps: np.ndarray, hours: list[str], clock_words: list[str | None]) -> Convention | None:
    """How a file's headers write the date and time (None for dates not written d/m/y or m/d/y,
    or digits other than ASCII, which the CLDR patterns here do not describe)."""
    parts = [_NUMERIC_DATE.search(str(s)) for s in stamps]
    if not parts or any(p is None or not p.group(0).isascii() for p in parts):
        return None
    separator = Counter(p.group(2) for p in parts).most_common(1)[0][0]
    years = Counter(len(p.group(4)) for p in parts).most_common(1)[0][0]
    words = frozenset(_spelled(w) for w in clock_words if w)
    return Convention(separator, _padding([p.group(1) for p in parts]), _padding([p.group(3) for p in parts]),
                      4 if years == 4 else 2, bool(words), _padding(hours), words)


def _spelled(word: str) -> str:
    return "".join(word.split())


def _padding(numbers: list[str]) -> bool | None:
    small = [n for n in numbers if int(n) < 10]
    if not small:
        return None
    return Counter(len(n) == 2 for n in small).most_common(1)[0][0]


def _matches(written: Convention, locale: Convention) -> bool:
    """The file's date shape is the locale's. A 12-hour file matches the locales whose clock is
    12-hour and spell its AM/PM the same way; a 24-hour file matches any clock, since phones
    let the user switch to 24-hour time whatever the region (a US iPhone so set writes
    ``1/11/23, 16:11:21``: whats_json's "Group Chat XXX" shows it). The hour's padding follows
    the clock setting and is not compared."""
    if (written.separator, written.year_digits) != (locale.separator, locale.year_digits):
        return False
    for seen, pattern in ((written.pad_first, locale.pad_first), (written.pad_second, locale.pad_second)):
        if seen is not None and seen != pattern:
            return False
    return not written.twelve_hour or (locale.twelve_hour and written.markers <= locale.markers)


@lru_cache(maxsize=1)
def _locale_conventions() -> tuple[tuple[str, str, Convention, float], ...]:
    """Every CLDR locale with Latin digits and a d/m/y or m/d/y short date: its order, how it
    writes dates and times, and its weight (see the module docstring). Takes a second or two."""
    from babel import Locale, localedata
    from babel.core import get_global

    languages = get_global("territory_languages")
    likely = get_global("likely_subtags")
    found = []
    identifiers = set(localedata.locale_identifiers())
    for lid in sorted(identifiers):
        locale = Locale.parse(lid)
        language = f"{locale.language}_{locale.script}" if locale.script else locale.language
        territory = locale.territory or likely.get(language, likely.get(locale.language, "")).split("_")[-1]
        if not locale.territory and f"{lid}_{territory}" in identifiers:
            continue    # "en" is "en_US" again: count its people once
        if getattr(locale, "default_numbering_system", "latn") != "latn":
            continue
        date = locale.date_formats["short"].pattern.replace("\u200f", "").replace("\u200e", "").strip()
        parsed = _PATTERN_DATE.fullmatch(date)
        if parsed is None or parsed.group(1)[0] == "y":
            continue
        first, separator, second, year = parsed.groups()
        hour = re.search(r"[hHKk]+", locale.time_formats["short"].pattern)
        if hour is None:
            continue
        twelve = hour.group()[0] in "hK"
        periods = locale.day_periods["format"]["abbreviated"]
        markers = frozenset(_spelled(periods[p]) for p in ("am", "pm") if periods.get(p))
        spoken = languages.get(territory, {})
        info = spoken.get(language) or spoken.get(locale.language) or {}
        weight = float(info.get("population_percent", 0.0)) if info.get("official_status") else 0.0
        found.append((lid, DAY_FIRST if first[0] == "d" else MONTH_FIRST,
                      Convention(separator, len(first) == 2, len(second) == 2, 2 if year == "yy" else 4, twelve,
                                 len(hour.group()) == 2, markers),
                      weight))
    return tuple(found)
