"""A WhatsApp message whose date is years off the messages around it: flagged and kept.

An export lists messages in the order they were sent, so a header dated ``22/02/39`` between
two headers of ``22/02/20``, minutes apart, is not a message from 2039: its date was edited or
damaged (a hand-anonymised chat, an OCR error, a typo in a test file). Refusing the file for it
would lose every other message, and storing 2039 would stretch the analysis across twenty
years. A forensic reader keeps the message, says which line it is and what it did with it:

* a *suspect* is a run of at most :data:`MAX_RUN` consecutive headers each more than a year
  away from both the header before the run and the one after it, while those two are in order
  and within :data:`BRACKET` of each other (a consistent sequence around it);
* it is dated with its own day, month and time in the year of its neighbours when that falls
  between them (within a day, the export's usual small backward steps), else at the time of
  the message before it (the earliest it can have been sent);
* only a few headers of a file may be suspects (at most :data:`MAX_SHARE` of them, or
  :data:`MAX_RUN`): a file whose dates are broadly implausible is not repaired, and is refused
  by the plausible-date check as before.

The first and last headers have one neighbour and are never suspects, nor are system lines:
"Ann created group" is written with the group's creation date, often years before the lines
around it.
"""

from __future__ import annotations

import numpy as np

DAY = 86_400
YEAR = 365 * DAY
BRACKET = 31 * DAY
MAX_RUN = 3
MAX_SHARE = 0.02


def isolated_outliers(times: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask of the suspect headers (see the module docstring).

    ``times``: int64 seconds (any epoch) of each header, in file order; ``candidates``: a
    boolean mask of the headers that may be suspects (None: all).
    """
    n = len(times)
    if candidates is None:
        candidates = np.ones(n, dtype=bool)
    suspect = np.zeros(n, dtype=bool)
    for run in range(1, MAX_RUN + 1):
        if n < run + 2:
            break
        before, after = times[: n - run - 1], times[run + 1:]
        gap = after - before
        ok = (gap >= -DAY) & (gap <= BRACKET)
        for j in range(run):
            middle = times[1 + j: n - run + j]
            ok &= (np.abs(middle - before) > YEAR) & (np.abs(middle - after) > YEAR) & candidates[1 + j: n - run + j]
        starts = np.flatnonzero(ok) + 1
        for j in range(run):
            suspect[starts + j] = True
    if suspect.sum() > max(MAX_RUN, int(MAX_SHARE * n)):
        return np.zeros(n, dtype=bool)
    return suspect


def redate(times: np.ndarray, suspect: np.ndarray, in_year) -> tuple[np.ndarray, np.ndarray]:
    """Times with each suspect dated from its neighbours, and a mask of those dated in the
    neighbours' year (the others take the previous header's time).

    ``in_year(i, year)`` gives header ``i``'s day, month and time in ``year`` as seconds (or
    None when that day does not exist in that year); ``times`` as for :func:`isolated_outliers`.
    """
    out = times.copy()
    same_day = np.zeros(len(times), dtype=bool)
    keep = np.flatnonzero(~suspect)
    for i in np.flatnonzero(suspect):
        before = keep[np.searchsorted(keep, i) - 1]
        after = keep[np.searchsorted(keep, i)]
        out[i] = times[before]
        for year in dict.fromkeys((_year_of(times[before]), _year_of(times[after]))):
            moved = in_year(int(i), year)
            if moved is not None and times[before] - DAY <= moved <= times[after] + DAY:
                out[i], same_day[i] = moved, True
                break
    return out, same_day


def _year_of(seconds: np.int64) -> int:
    return int(np.datetime64(int(seconds), "s").astype("datetime64[Y]").astype(int)) + 1970
