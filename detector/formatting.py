"""Numbers, durations and counts as people read them: one format per quantity, everywhere.

The CLI, the app, the findings' sentences and the evidence packet all format through these
functions, so one p-value never appears as 0.0096, 0.00962 and 0.010 on the same screen.

- p-values: two significant figures (``0.0059``, ``0.050``, ``0.50``), ``< 0.001`` below that;
  ``insufficient data`` when the test could not be run;
- expected counts, rates and rate ratios: one decimal (``∞`` for an infinite ratio);
- shares: whole percent;
- durations (lags): hours and minutes (``14 h 20 min``), days and hours from 3 days on;
- counts with their noun in the right number (``1 target``, ``2 targets``; ``once``, ``2 times``);
- a missing value: an en dash (``–``), never ``None`` or ``nan``.
"""

from __future__ import annotations

import math

import pandas as pd

DASH = "–"
P_SMALLEST = 0.001           # below this a p-value is written "< 0.001"
INSUFFICIENT = "insufficient data"


def is_missing(x) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def p_value(p, floor=None) -> str:
    """A p-value: ``0.0059``, ``< 0.001``; ``insufficient data`` when missing.

    ``floor``, the smallest value the test could give, adds "(the smallest attainable)" when ``p``
    is at it: such a p-value is as small as this data allows, not a measured tail.
    """
    if is_missing(p):
        return INSUFFICIENT
    p = float(p)
    text = f"< {P_SMALLEST:g}" if p < P_SMALLEST else f"{p:#.2g}".rstrip(".")
    if not is_missing(floor) and p <= float(floor) + 1e-12:
        text += " (the smallest attainable)"
    return text


def p_stated(p, name: str = "p", floor=None) -> str:
    """A p-value in a sentence: ``p = 0.12``, ``binomial p < 0.001`` (never ``p = < 0.001``),
    ``p = 0.0052 (the smallest attainable)`` (:func:`p_value`); ``p = insufficient data`` when missing."""
    text = p_value(p, floor)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def decimal(x, digits: int = 1) -> str:
    """An expected count, a rate or a ratio: ``0.7``, ``502.9``; ``∞``; ``–`` when missing."""
    if is_missing(x):
        return DASH
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.{digits}f}"


def share(x) -> str:
    """A proportion as whole percent: ``86%``."""
    return DASH if is_missing(x) else f"{float(x):.0%}"


def duration(hours) -> str:
    """A lag or a span: ``35 min``, ``14 h 20 min``, ``3 h``, ``4 days 6 h``; ``–`` when missing."""
    if is_missing(hours):
        return DASH
    minutes = int(round(float(hours) * 60))
    sign, minutes = ("-" if minutes < 0 else ""), abs(minutes)
    if minutes < 60:
        return f"{sign}{minutes} min"
    h, m = divmod(minutes, 60)
    if h < 72:
        return f"{sign}{h} h" + (f" {m} min" if m else "")
    d, h = divmod(int(round(minutes / 60)), 24)
    return f"{sign}{d} days" + (f" {h} h" if h else "")


def count(n, noun: str, plural: str | None = None) -> str:
    """``1 target``, ``2 targets``, ``0 notices``; ``plural`` for irregular nouns (``1 reply``, ``2 replies``)."""
    n = int(n)
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def agree(n, one: str, many: str) -> str:
    """The word that agrees with a count: ``agree(1, "mentions", "mention")`` is "mentions"."""
    return one if int(n) == 1 else many


def times(n) -> str:
    """How often: ``once``, ``2 times``."""
    n = int(n)
    return "once" if n == 1 else f"{n} times"


def timestamp(ts) -> str:
    """A time in UTC to the minute: ``2025-06-03 14:54 UTC``; ``–`` when missing."""
    if is_missing(ts):
        return DASH
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M UTC")


def text(x) -> str:
    """Any value as text, with a missing one as ``–``."""
    return DASH if is_missing(x) else str(x)
