"""WhatsApp header dates: which number is the day, which year is meant, and the times they spell.

WhatsApp writes dates in the phone's regional order and never says which (``3/4/22`` is
3 April in Berlin and March 4 in Chicago). The order is inferred once per file, from all its
headers, and only from evidence that cannot be wrong when the file is well formed:

1. a first number above 12 means day-first; a second number above 12 means month-first
   (both in one file is an error, a date impossible in both orders too);
2. otherwise, *month rollovers*: within one year, in file order, the month never decreases,
   so a step where one number falls while the other rises (``1/31/22`` → ``2/1/22``) shows
   which one is the month. Decisive only if every such step points the same way;
3. otherwise, if every date has equal first and second numbers, the order does not matter;
4. otherwise every date reads both ways. The order the user gave (``--dayfirst``/
   ``--monthfirst`` or ``"dayfirst"`` in the folder's ``detector-case.json``) settles it;
   without one, the file's own evidence does (:mod:`.whatsapp_order`: attachment names,
   chronology, else the export's conventions in CLDR, weaker), and a note says which and
   why; a file nothing settles is refused rather than guessed (Pustur's
   ``changeFrequencyAnalysis`` and the "default day-first" it falls back on can be wrong,
   silently). The option never overrides a file whose dates show their order (1–3): that
   file is read in its own order, and a note says the option did not apply.

Dates written year first (``2021/11/18``) are read year/month/day; month names (``18 Mar``,
in any CLDR language, :mod:`.whatsapp_locale`) say which number is the day. Two-digit years
are 20yy. Buddhist-era years (``2565 BE``, or every year of the file in the Buddhist range)
and Japanese-era years (``R4``, ``H30``, ``令和4年``) are converted; any other year before 1970
or after next year is refused, so a calendar we do not know is never stored as a wrong date,
unless it is one of a few messages dated years off the consistent dates around them: those are
kept, re-dated from their neighbours and flagged ``date_suspect`` (:mod:`.whatsapp_outliers`).

Dates without a year (``Mar 5, 8:11 PM``; old Android, which wrote the year only for dates
outside the year of the export) take it from the order of the months: after a date with a
written year the year turns wherever the date jumps back by more than two months (Dec → Jan),
and before one it drops wherever the date jumps forward. A file with no written year at all is
dated back from an *anchor*, the day the chat was exported or a later one: the last message
falls in the anchor's year (or the year before, if its day is later in the year than the
anchor's). A note says so, with what the years were counted from: a chat with a silence of
more than a year cannot show it and would be dated too late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from detector.collect import whatsapp_locale as words
from detector.collect import whatsapp_order
from detector.collect import whatsapp_outliers as outliers
from detector.errors import DetectorError

DAY_FIRST = whatsapp_order.DAY_FIRST
MONTH_FIRST = whatsapp_order.MONTH_FIRST
EITHER = "either"            # every date reads the same in both orders
YEAR_FIRST = "year-first"
NAMED_MONTH = "month named"

ORDER_HINT = ("pass --dayfirst if the dates are day/month/year, or --monthfirst if month/day/year "
              '(or put {"dayfirst": true} or false in the folder\'s detector-case.json)')

# Japanese era name -> the Gregorian year before its first year (Reiwa 1 = 2019, Heisei 1 = 1989).
_ERA_BASE = {"R": 2018, "H": 1988}
_BUDDHIST_OFFSET = 543
_FIRST_YEAR = 1970
_FIRST_WHATSAPP_YEAR = 2009
_LAST_REPRESENTABLE_YEAR = 2261     # datetime64[ns] ends in 2262
# Read backwards, a date that jumps forward by more than this many days is in the year before.
_ROLLOVER_DAYS = 60


class Anchor(NamedTuple):
    """The day a file was exported (or a later one), for dates written without a year."""

    day: date
    source: str     # where the day comes from, in words ("the zip's date", "detector-case.json")


class LocalTimes(NamedTuple):
    """What :func:`local_times` reads from a file's headers."""

    times: pd.Series          # naive phone-local datetime64, in header order
    order: str                # DAY_FIRST, MONTH_FIRST, EITHER, YEAR_FIRST or NAMED_MONTH
    reason: str               # the evidence for the order, in words
    notes: list[str]          # sentences for the user (inferred order or years, calendars, suspects)
    suspect_lines: list[int]  # headers dated years off their neighbours, re-dated (whatsapp_outliers)


def local_times(fields: Mapping[str, Sequence], dayfirst: bool | None, path, kind: str = "numeric",
                anchor: Anchor | None = None, messages: np.ndarray | None = None) -> LocalTimes:
    """Naive phone-local datetimes for header fields, the date order used and why, and notes.

    Parameters
    ----------
    fields : columns (a DataFrame or a dict of sequences), one item per header: ``line`` (int),
        ``stamp`` (the date and time as written, for messages), ``a``, ``b``, ``c`` (text; see
        ``kind``), ``be`` (bool: Buddhist era written), ``hour``, ``minute``, ``second`` (text
        or None), ``ampm`` (a clock word or None).
    dayfirst : the order to use when the dates read both ways (``--dayfirst``/``--monthfirst``),
        None to infer it from the file (:mod:`.whatsapp_order`) or refuse.
        An optional ``body`` column (the text after each header) lets attachment names count.
    path : the file, for errors.
    kind : ``"numeric"`` (``a``, ``b``, ``c``: the date numbers in written order, years possibly
        with an era letter), ``"named"`` (day, month name, year or None) or ``"kanji"`` (year
        or None, month, day).
    anchor : the export day, for files whose dates have no year.
    messages : bool per header, True for messages with an author (None: all). Only those can be
        date suspects: a system line such as "Ann created group" legitimately carries the
        group's older date among the export's first lines.

    Returns
    -------
    :class:`LocalTimes`; ``times`` is a ``datetime64`` Series in the order of ``fields``.

    Raises
    ------
    DetectorError
        naming the line of an impossible date or unknown calendar year (one not explained as
        an isolated suspect), of dates that disagree on their order, or of an order that
        nothing in the file settles (with the options that settle it).
    """
    lines = np.asarray(fields["line"], dtype=np.int64)
    stamps = np.asarray(fields["stamp"], dtype=object)
    notes: list[str] = []
    hour = _clock_hours(fields, lines, stamps, path)
    minute = _numbers(list(fields["minute"]))
    second = _numbers([s or "0" for s in fields["second"]])
    seconds = hour * 3600 + minute * 60 + second
    if kind == "numeric":
        year, bad_year, month, day, order, reason = _numeric_dates(fields, dayfirst, lines, stamps, path, notes,
                                                                   seconds)
    else:
        year_text, month, day, order, reason = _worded_dates(fields, kind, lines, stamps, path)
        year, bad_year = _fill_years(year_text, month, day, anchor, lines, stamps, path, notes)

    bad = (month < 1) | (month > 12) | (day < 1) | (day > 31) | (minute > 59) | (second > 59)
    # Years out of range are dated for now (within what datetime64[ns] holds) to see whether
    # they are isolated suspects; the others are refused below.
    shown_year = np.clip(year, _FIRST_YEAR, _LAST_REPRESENTABLE_YEAR)
    dates = pd.to_datetime(pd.DataFrame({"year": shown_year, "month": np.clip(month, 1, 12),
                                         "day": np.clip(day, 1, 31)}), errors="coerce")
    bad |= dates.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        hint = "check the line; if the date order is wrong, " + ORDER_HINT if kind == "numeric" else "check the line"
        raise DetectorError(f"impossible date or time {stamps[i]!r} (read {order})", path, int(lines[i]), hint)
    times = dates.to_numpy().astype("datetime64[s]").astype(np.int64) + seconds
    suspect = outliers.isolated_outliers(times, messages)
    refused = bad_year & ~suspect
    if refused.any():
        i = int(np.argmax(refused))
        _refuse_year(stamps[i], int(year[i]), int(lines[i]), path)
    suspect_lines: list[int] = []
    if suspect.any():
        times, same_day = outliers.redate(times, suspect, lambda i, y: _seconds_in_year(y, month[i], day[i], seconds[i]))
        suspect_lines = [int(v) for v in lines[suspect]]
        notes.append(_suspect_note(suspect, same_day, year, lines, stamps))
    return LocalTimes(pd.Series(pd.to_datetime(times, unit="s")), order, reason, notes, suspect_lines)


def _seconds_in_year(year: int, month: int, day: int, seconds: int) -> int | None:
    """Seconds since 1970 of a day and time in ``year``, None when that day does not exist then."""
    try:
        return int((date(year, int(month), int(day)) - date(1970, 1, 1)).days) * 86400 + int(seconds)
    except ValueError:
        return None


def _suspect_note(suspect: np.ndarray, same_day: np.ndarray, year: np.ndarray, lines, stamps) -> str:
    """The ``date_suspect`` note: which lines, what they said and how they were dated."""
    where = np.flatnonzero(suspect)
    i = int(where[0])
    before, after = i - 1, i + 1
    while suspect[after]:
        after += 1
    others = [int(lines[j]) for j in where[1:11]]
    more = f"; also line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))}" if others else ""
    more += " …" if len(where) > 11 else ""
    dated = ("each is dated with its own day and time in the year of its neighbours" if same_day[where].all() else
             f"{int(same_day[where].sum())} are dated with their own day and time in the year of their neighbours, "
             f"{int((~same_day[where]).sum())} at the time of the message before them (their day does not fall "
             "between their neighbours)")
    return (f"date_suspect: {len(where)} message{'s' if len(where) > 1 else ''} carr{'y' if len(where) > 1 else 'ies'} "
            f"a date years off the messages around {'them' if len(where) > 1 else 'it'}, an edited or damaged date: "
            f"line {lines[i]}: {stamps[i]!r} (year {year[i]}) between line {lines[before]}: {stamps[before]!r} and "
            f"line {lines[after]}: {stamps[after]!r}{more}. Kept as messages; {dated}")


# --- numeric dates --------------------------------------------------------------------------

def _numeric_dates(fields, dayfirst, lines, stamps, path, notes, seconds):
    a_text, c_text = list(fields["a"]), list(fields["c"])
    year_first = np.array([len(v) >= 3 or v[0] in _ERA_BASE for v in a_text], dtype=bool)
    a, b, c = _numbers(a_text), _numbers(list(fields["b"])), _numbers(c_text)
    year_text = [y if first else last for y, last, first in zip(a_text, c_text, year_first, strict=True)]
    year, bad_year = _years(year_text, np.asarray(fields["be"], dtype=bool), notes)

    plain = ~year_first
    order, reason = infer_order(a[plain], b[plain], year[plain], lines[plain], stamps[plain], path)
    asked = None if dayfirst is None else (DAY_FIRST if dayfirst else MONTH_FIRST)
    if order is None:
        # Every date reads both ways: the user's option, else the file's chronology or conventions.
        inferred = whatsapp_order.infer_from_file(
            a[plain], b[plain], year[plain], seconds[plain], stamps[plain],
            [h for h, p in zip(fields["hour"], plain, strict=True) if p],
            [w for w, p in zip(fields["ampm"], plain, strict=True) if p],
            [t for t, p in zip(fields["body"], plain, strict=True) if p] if "body" in fields else None)
        if asked is not None:
            order, reason = asked, f"the dates read both ways; read {asked} as asked (option or detector-case.json)"
            if inferred is not None and inferred.order != asked:
                notes.append(f"dates read {asked} as asked, although the file's own evidence points the other way: "
                             f"{inferred.reason}")
        elif inferred is not None:
            order, reason = inferred.order, inferred.reason
            notes.append(inferred.reason + ". If this is wrong, " + ORDER_HINT)
        else:
            i = int(np.flatnonzero(plain)[np.argmax(a[plain] != b[plain])])
            raise DetectorError(
                f"the date order is ambiguous: every date, e.g. {stamps[i]!r}, reads as day/month and as "
                "month/day, and neither the order of the messages nor the export's conventions settle it",
                path, int(lines[i]), ORDER_HINT)
    elif asked is not None and order in (DAY_FIRST, MONTH_FIRST) and order != asked:
        notes.append(f"dates read {order}, not {asked} as asked: {reason}")
    if not plain.any():
        order, reason = YEAR_FIRST, "every date is written year first"

    day_is_a = plain & (order != MONTH_FIRST)
    month = np.where(year_first, b, np.where(day_is_a, b, a))
    day = np.where(year_first, c, np.where(day_is_a, a, b))
    return year, bad_year, month, day, order, reason


def infer_order(first: np.ndarray, second: np.ndarray, year: np.ndarray, lines: np.ndarray,
                stamps: np.ndarray, path) -> tuple[str | None, str]:
    """The date order of day/month fields in file order, or ``(None, why)`` when they read both
    ways (see the module docstring)."""
    both = (first > 12) & (second > 12)
    if both.any():
        i = int(np.argmax(both))
        raise DetectorError(f"impossible date {stamps[i]!r}: neither number can be a month", path,
                            int(lines[i]), "check the line")
    day_first, month_first = np.flatnonzero(first > 12), np.flatnonzero(second > 12)
    if len(day_first) and len(month_first):
        d, m = day_first[0], month_first[0]
        later, earlier = (d, m) if d > m else (m, d)
        raise DetectorError(
            f"dates disagree on their order: {stamps[earlier]!r} on line {lines[earlier]} and "
            f"{stamps[later]!r} cannot both be valid in one order", path, int(lines[later]),
            "the file mixes two exports or is damaged; " + ORDER_HINT)
    if len(day_first):
        i = day_first[0]
        return DAY_FIRST, f"line {lines[i]}: {stamps[i]!r} has a first number above 12"
    if len(month_first):
        i = month_first[0]
        return MONTH_FIRST, f"line {lines[i]}: {stamps[i]!r} has a second number above 12"

    same_year = year[1:] == year[:-1]
    d_first, d_second = np.diff(first), np.diff(second)
    month_first_steps = np.flatnonzero(same_year & (d_first > 0) & (d_second < 0))
    day_first_steps = np.flatnonzero(same_year & (d_first < 0) & (d_second > 0))
    if len(month_first_steps) and not len(day_first_steps):
        i = month_first_steps[0] + 1
        return MONTH_FIRST, f"month rollovers, e.g. line {lines[i]}: {stamps[i - 1]!r} -> {stamps[i]!r}"
    if len(day_first_steps) and not len(month_first_steps):
        i = day_first_steps[0] + 1
        return DAY_FIRST, f"month rollovers, e.g. line {lines[i]}: {stamps[i - 1]!r} -> {stamps[i]!r}"
    if (first == second).all():
        return EITHER, "every date reads the same day-first and month-first"
    return None, "every date reads as day/month and as month/day"


def _numbers(texts: list[str]) -> np.ndarray:
    """Integers from digit strings (``int`` reads Eastern Arabic digits too); era letters dropped."""
    return np.fromiter((int(t.lstrip("RH")) for t in texts), dtype=np.int64, count=len(texts))


def _years(texts: list[str], buddhist: np.ndarray, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Gregorian years from year fields (20yy, era years, Buddhist years), and a mask of those
    outside what WhatsApp could have written (1970 to next year, or three digits).

    A file none of whose four-digit years is Gregorian but all of which are Buddhist years of
    WhatsApp's time (2552 and later) is read in the Buddhist calendar, and a note says so.
    """
    number = _numbers(texts)
    base = np.array([_ERA_BASE.get(t[0], 0) for t in texts], dtype=np.int64)
    year = np.where(base > 0, base + number, np.where(number < 100, 2000 + number, number))
    year = np.where(buddhist, year - _BUDDHIST_OFFSET, year)
    latest = date.today().year + 1
    unmarked_buddhist = ((number >= _FIRST_WHATSAPP_YEAR + _BUDDHIST_OFFSET) & (number <= latest + _BUDDHIST_OFFSET)
                         & ~buddhist & (base == 0))
    if len(year) and unmarked_buddhist.all():
        year = year - _BUDDHIST_OFFSET
        notes.append(f"years such as {texts[0]} are Buddhist-era years (the phone's calendar): "
                     f"read as {year[0]} and so on (minus {_BUDDHIST_OFFSET})")
    # The upper bound is next year: a two-digit Buddhist year (65 for 2565) would otherwise pass as 2065.
    bad = (year < _FIRST_YEAR) | (year > latest) | ((number >= 100) & (number < 1000))
    return year, bad


def _refuse_year(stamp: str, year: int, line: int, path) -> None:
    raise DetectorError(
        f"unsupported date shape {stamp!r}: year {year} is not a Gregorian year WhatsApp could have written",
        path, line,
        "if only a few lines have such a year among consistent dates, they are kept and flagged; here the "
        "dates around it do not show what it should be: check the line. Otherwise the phone used a calendar "
        "this reader does not know (Buddhist and Japanese R/H era years are supported): export again with "
        "the Gregorian calendar")


# --- dates with month names or written in kanji ---------------------------------------------

def _worded_dates(fields, kind, lines, stamps, path):
    """Year texts (None when unwritten), months and days of ``named`` or ``kanji`` dates."""
    a, b, c = list(fields["a"]), list(fields["b"]), list(fields["c"])
    if kind == "kanji":
        return a, _numbers(b), _numbers(c), YEAR_FIRST, "dates written as year年month月day日"
    distinct = list(dict.fromkeys(b))
    line_of = {w: int(lines[b.index(w)]) for w in distinct}
    numbers, languages = words.month_numbers(distinct, path, line_of)
    month = np.fromiter((numbers[w] for w in b), dtype=np.int64, count=len(b))
    return c, month, _numbers(a), NAMED_MONTH, f"month names ({languages})"


def _fill_years(year_text: list[str | None], month: np.ndarray, day: np.ndarray, anchor: Anchor | None,
                lines, stamps, path, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Years as written, and for dates without one, dated back from ``anchor`` (see the module
    docstring); and the mask of written years out of range (see :func:`_years`)."""
    written = np.array([t is not None for t in year_text], dtype=bool)
    year = np.zeros(len(year_text), dtype=np.int64)
    bad = np.zeros(len(year_text), dtype=bool)
    if written.any():
        texts = [t for t in year_text if t is not None]
        year[written], bad[written] = _years(texts, np.zeros(len(texts), dtype=bool), notes)
    if written.all():
        return year, bad
    if anchor is None and not written.any():
        i = int(np.argmax(~written))
        raise DetectorError(f"the dates have no year, e.g. {stamps[i]!r}", path, int(lines[i]),
                            'give the day the chat was exported: "export_date": "YYYY-MM-DD" in the '
                            "folder's detector-case.json")
    # A rough day of the year is enough to see a jump of months.
    day_of_year = month * 31 + day
    if written.any():
        start = int(np.argmax(written))
        ref = int(np.flatnonzero(written[: max(1, int(np.argmax(~written)))])[-1]) if written[0] else start
        counted = f"from the years written on other lines (line {lines[ref]}: {stamps[ref]!r})"
    else:
        start = len(year) - 1
        year[start] = anchor.day.year - ((month[start], day[start]) > (anchor.day.month, anchor.day.day))
        counted = f"counting back from {anchor.day.isoformat()} ({anchor.source})"
    # Forward from each written (or anchored) year: the year turns where the date jumps back.
    for i in range(start + 1, len(year)):
        if not written[i]:
            year[i] = year[i - 1] + (day_of_year[i - 1] - day_of_year[i] > _ROLLOVER_DAYS)
    # Backward before the first one: the year drops where the date jumps forward.
    for i in range(start - 1, -1, -1):
        year[i] = year[i + 1] - (day_of_year[i] - day_of_year[i + 1] > _ROLLOVER_DAYS)
    missing = int((~written).sum())
    first = int(np.argmax(~written))
    notes.append(f"{missing} dates have no year (e.g. line {lines[first]}: {stamps[first]!r}): years inferred from "
                 f"the order of the months, {counted}; dated {year[~written].min()}–{year[~written].max()}. A "
                 "silence of more than a year cannot be seen; if the dates are wrong, set \"export_date\" in the "
                 "folder's detector-case.json")
    return year, bad


# --- clock ----------------------------------------------------------------------------------

def _clock_hours(fields: Mapping[str, Sequence], lines, stamps, path) -> np.ndarray:
    """24-hour hours; 12-hour clocks with any CLDR clock word (AM/PM, a. m., م, 下午, in the
    morning…) converted, 00 AM accepted."""
    hour = _numbers(list(fields["hour"]))
    minute = list(fields["minute"])
    marks = list(fields["ampm"])
    out = hour.copy()
    bad = hour > 23
    converted: dict[tuple, int | None] = {}
    for i, word in enumerate(marks):
        if word is None:
            continue
        key = (int(hour[i]), minute[i], word)
        if key not in converted:
            converted[key] = None if hour[i] > 12 else words.twenty_four_hour(int(hour[i]), int(minute[i]), word)
        if converted[key] is None:
            bad[i] = True
        else:
            out[i] = converted[key]
    if bad.any():
        i = int(np.argmax(bad))
        raise DetectorError(f"impossible time {stamps[i]!r}", path, int(lines[i]), "check the line")
    return out
