"""WhatsApp header dates: which number is the day, and the phone-local times they spell.

WhatsApp writes dates in the phone's regional order and never says which (``3/4/22`` is
3 April in Berlin and March 4 in Chicago). The order is inferred once per file, from all its
headers, and only from evidence that cannot be wrong when the file is well formed:

1. a first number above 12 means day-first; a second number above 12 means month-first
   (both in one file is an error, a date impossible in both orders too);
2. otherwise, *month rollovers*: within one year, in file order, the month never decreases,
   so a step where one number falls while the other rises (``1/31/22`` → ``2/1/22``) shows
   which one is the month. Decisive only if every such step points the same way;
3. otherwise, if every date has equal first and second numbers, the order does not matter;
4. otherwise the order is ambiguous and the reader raises an error asking for
   ``--dayfirst`` or ``--monthfirst`` rather than guessing (Pustur's ``changeFrequencyAnalysis``
   and the "default day-first" it falls back on can be wrong, silently).

Dates written year first (``2021/11/18``) are read year/month/day. Two-digit years are 20yy;
Buddhist-era years (``2565 BE``) and Japanese-era years (``R4``, ``H30``) are converted; any
other year before 1970 or after next year is refused, so a calendar we do not know is never
stored as a wrong date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from detector.errors import DetectorError

DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"
EITHER = "either"            # every date reads the same in both orders
YEAR_FIRST = "year-first"

ORDER_HINT = "pass --dayfirst if the dates are day/month/year, or --monthfirst if month/day/year"

# Japanese era name -> the Gregorian year before its first year (Reiwa 1 = 2019, Heisei 1 = 1989).
_ERA_BASE = {"R": 2018, "H": 1988}
_BUDDHIST_OFFSET = 543
# Non-Latin AM/PM markers -> is PM (Latin ones are read by their first letter).
_AMPM_WORDS = {"\u0635": False, "\u0645": True, "上午": False, "下午": True, "午前": False, "午後": True,
               "오전": False, "오후": True}
_FIRST_YEAR = 1970


def local_times(fields: Mapping[str, Sequence], dayfirst: bool | None, path) -> tuple[pd.Series, str, str]:
    """Naive phone-local datetimes for header fields, with the date order used and why.

    Parameters
    ----------
    fields : columns (a DataFrame or a dict of sequences), one item per header: ``line`` (int),
        ``stamp`` (the date and time as written, for messages), ``a``, ``b``, ``c`` (the three
        date numbers in written order, as text; years possibly with an era letter), ``be``
        (bool: Buddhist era), ``hour``, ``minute``, ``second`` (text or None), ``ampm`` (text
        or None).
    dayfirst : True or False to impose the order (``--dayfirst``/``--monthfirst``), None to infer.
    path : the file, for errors.

    Returns
    -------
    (times, order, reason) : ``datetime64`` Series in the order of ``fields``; one of
        :data:`DAY_FIRST`, :data:`MONTH_FIRST`, :data:`EITHER`, :data:`YEAR_FIRST`; and the
        evidence in words.

    Raises
    ------
    DetectorError
        naming the line of an impossible date or unknown calendar year, of dates that
        disagree on their order, or of an ambiguous order (with the options that settle it).
    """
    lines = np.asarray(fields["line"], dtype=np.int64)
    stamps = np.asarray(fields["stamp"], dtype=object)
    a_text, c_text = list(fields["a"]), list(fields["c"])
    year_first = np.array([len(v) == 4 or v[0] in _ERA_BASE for v in a_text], dtype=bool)
    a, b, c = _numbers(a_text), _numbers(list(fields["b"])), _numbers(c_text)
    year_text = [y if first else last for y, last, first in zip(a_text, c_text, year_first, strict=True)]
    year = _years(year_text, np.asarray(fields["be"], dtype=bool), lines, stamps, path)

    plain = ~year_first
    if dayfirst is None:
        order, reason = infer_order(a[plain], b[plain], year[plain], lines[plain], stamps[plain], path)
    else:
        order = DAY_FIRST if dayfirst else MONTH_FIRST
        reason = "set by --dayfirst" if dayfirst else "set by --monthfirst"
    if not plain.any():
        order, reason = YEAR_FIRST, "every date is written year first"

    day_is_a = plain & (order != MONTH_FIRST)
    month = np.where(year_first, b, np.where(day_is_a, b, a))
    day = np.where(year_first, c, np.where(day_is_a, a, b))
    hour = _clock_hours(fields, lines, stamps, path)
    minute = _numbers(list(fields["minute"]))
    second = _numbers([s or "0" for s in fields["second"]])

    bad = (month < 1) | (month > 12) | (day < 1) | (day > 31) | (minute > 59) | (second > 59)
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": np.clip(month, 1, 12),
                                         "day": np.clip(day, 1, 31)}), errors="coerce")
    bad |= dates.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DetectorError(f"impossible date or time {stamps[i]!r} (read {order})", path, int(lines[i]),
                            "check the line; if the date order is wrong, " + ORDER_HINT)
    clock = pd.to_timedelta(hour * 3600 + minute * 60 + second, unit="s").to_numpy()
    return (dates + clock).reset_index(drop=True), order, reason


def infer_order(first: np.ndarray, second: np.ndarray, year: np.ndarray, lines: np.ndarray,
                stamps: np.ndarray, path) -> tuple[str, str]:
    """The date order of day/month fields in file order (see the module docstring)."""
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
    i = int(np.argmax(first != second))
    raise DetectorError(
        f"the date order is ambiguous: every date, e.g. {stamps[i]!r}, reads as day/month and as month/day",
        path, int(lines[i]), ORDER_HINT)


def _numbers(texts: list[str]) -> np.ndarray:
    """Integers from digit strings (``int`` reads Eastern Arabic digits too); era letters dropped."""
    return np.fromiter((int(t.lstrip("RH")) for t in texts), dtype=np.int64, count=len(texts))


def _years(texts: list[str], buddhist: np.ndarray, lines, stamps, path) -> np.ndarray:
    """Gregorian years from year fields: 20yy, era years, Buddhist years; range-checked."""
    number = _numbers(texts)
    base = np.array([_ERA_BASE.get(t[0], 0) for t in texts], dtype=np.int64)
    year = np.where(base > 0, base + number, np.where(number < 100, 2000 + number, number))
    year = np.where(buddhist, year - _BUDDHIST_OFFSET, year)
    # The upper bound is next year: a two-digit Buddhist year (65 for 2565) would otherwise pass as 2065.
    bad = (year < _FIRST_YEAR) | (year > date.today().year + 1) | ((number >= 100) & (number < 1000))
    if bad.any():
        i = int(np.argmax(bad))
        raise DetectorError(
            f"unsupported date shape {stamps[i]!r}: year {texts[i]} is not a Gregorian year "
            "WhatsApp could have written", path, int(lines[i]),
            "the phone used a calendar this reader does not know (Buddhist 'BE' and Japanese "
            "R/H era years are supported); export again with the Gregorian calendar")
    return year


def _clock_hours(fields: Mapping[str, Sequence], lines, stamps, path) -> np.ndarray:
    """24-hour hours; 12-hour clocks (AM/PM, a. m., Arabic ص/م, 上午/下午…) converted, 00 AM accepted."""
    hour = _numbers(list(fields["hour"]))
    marks = [_AMPM_WORDS.get(v, v[0].lower() == "p") if v else None for v in fields["ampm"]]
    twelve = np.array([m is not None for m in marks])
    pm = np.array([m is True for m in marks])
    bad = (hour > 23) | (twelve & (hour > 12))
    if bad.any():
        i = int(np.argmax(bad))
        raise DetectorError(f"impossible time {stamps[i]!r}", path, int(lines[i]), "check the line")
    return np.where(twelve, hour % 12 + np.where(pm, 12, 0), hour)
