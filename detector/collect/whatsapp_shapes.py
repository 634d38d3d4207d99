"""The header shape of one WhatsApp export, learnt from the whole file.

A phone renders every header of an export the same way at the moment of export, so one file
has one header *shape*: a layout (where the date, the time and the words are), brackets or
not, and the delimiter before the author. Lines of another shape are message text: a message
that quotes a pasted ``[12:37 PM, 5/27/2021] Ann: …`` header, or continuation lines that
start with a date. The shape is chosen by scoring every candidate over the lines of the file
(all of them, or 5,000 spread evenly through a long file) and keeping the one that matches
the most lines. Lines before its first header (a page number and a title of an OCR'd page
dump, or the tail of a message cut off by a truncated export) are not messages.

Layouts (after invisible marks other than U+200E are removed and NBSP/NNBSP become spaces)::

    numeric       [‎][ [ ] d/m/y[,] [word] time[ word] ( "] " | " - " | ": " )
                  d/m/y, m/d/y or y/m/d with one separator of / . -, 2- or 4-digit years,
                  Japanese era years ("R4", "令和4"), Buddhist "2565 BE"
    time-numeric  [14:56:01, 3/18/22] …               (iOS Vietnamese)
    day-month     18 Mar 12:14 - …, 18 Mar 2013, 12:14 - …   (old Android, month names)
    month-day     Mar 5, 8:11 PM - …, Aug 28, 2013, 8:11 PM - …
    time-day-month / time-month-day   19:23, 28 Aug 2013 - …
    kanji         2019年3月5日 14:56 - …, 令和元年5月1日 …

``word`` before the time is a joining word ("à", "klo", "um"…: a closed list) or a clock word
written first ("下午5:11"); after the time a clock word ("PM", "p. m.", "μ.μ.", "in the
morning"). Clock words and month names are checked against CLDR (:mod:`.whatsapp_locale`); a
word it does not know makes a line no header. The ": " delimiter (iOS 2016) is accepted only
after a time with seconds, so typed text like "10:30: meet" is not taken for a header.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

from detector.collect import whatsapp_locale as words

NUMERIC, NAMED, KANJI = "numeric", "named", "kanji"

_D = "[0-9\u0660-\u0669\u06f0-\u06f9]"          # ASCII, Eastern Arabic and Persian digits
_WORD = r"[^\W\d_][^\s\d:,\-\[\]()<>]*"           # starts with a letter; may hold dots and marks
_WORDS = rf"{_WORD}(?:[ ]{_WORD}){{0,3}}"          # "in the afternoon", "de la tarde", "p. m."
_JOINING_WORDS = {"à", "a", "klo", "kl.", "um", "om", "at", "às", "alle"}
_ERA = "R|H|令和|平成"
_ERA_LETTER = {"令和": "R", "平成": "H"}
_OPEN = r"^\u200e*(?P<open>\[)?\u200e*"
_CLOSE = r"(?(open)\][ ]|(?:[ ]-[ ]|(?(s):[ ]|(?!))))"
_TIME = rf"(?P<h>{_D}{{1,2}})[:.](?P<mi>{_D}{{2}})(?:[:.](?P<s>{_D}{{2}}))?(?:[ _]?(?P<ap>{_WORDS}))?"
_BEFORE_TIME = rf"[ ](?:(?P<pre>{_WORDS})[ ]?)?"
_NUMERIC_DATE = (rf"(?P<ea>{_ERA})?(?P<a>{_D}{{1,4}})(?P<sep>[-/.])[ ]?(?P<b>{_D}{{1,2}})(?P=sep)[ ]?"
                 rf"(?P<ec>{_ERA})?(?P<c>{_D}{{1,4}})(?P<be>[ ]BE)?\.?")
_MONTH = r"(?P<mon>[^\W\d_][^\s\d,:\-\[\]()<>/]{0,15})"
_DAY_MONTH = rf"(?P<d>{_D}{{1,2}})\.?[ ](?:de[ ])?{_MONTH}(?:[ ](?:de[ ])?(?P<y>{_D}{{4}}))?"
_MONTH_DAY = rf"{_MONTH}[ ](?P<d>{_D}{{1,2}})(?:,[ ](?P<y>{_D}{{4}}))?"
_KANJI_DATE = (rf"(?:(?P<ea>{_ERA})?(?P<a>{_D}{{1,4}}|元)[年년][ ]?)?(?P<b>{_D}{{1,2}})[月월][ ]?"
               rf"(?P<c>{_D}{{1,2}})[日일]")


def _compile(body: str) -> re.Pattern:
    return re.compile(_OPEN + body + _CLOSE, re.MULTILINE)


# name -> (date kind, pattern). Order breaks ties between equally good shapes.
LAYOUTS: dict[str, tuple[str, re.Pattern]] = {
    "numeric": (NUMERIC, _compile(rf"{_NUMERIC_DATE}[,\u060c]?{_BEFORE_TIME}{_TIME}")),
    "time-numeric": (NUMERIC, _compile(rf"{_TIME},[ ]{_NUMERIC_DATE}")),
    "day-month": (NAMED, _compile(rf"{_DAY_MONTH},?{_BEFORE_TIME}{_TIME}")),
    "month-day": (NAMED, _compile(rf"{_MONTH_DAY},?{_BEFORE_TIME}{_TIME}")),
    "time-day-month": (NAMED, _compile(rf"{_TIME},[ ]{_DAY_MONTH}")),
    "time-month-day": (NAMED, _compile(rf"{_TIME},[ ]{_MONTH_DAY}")),
    "kanji": (KANJI, _compile(rf"{_KANJI_DATE}{_BEFORE_TIME.replace('[ ]', '[ ]?', 1)}{_TIME}")),
}
_SAMPLE_LINES = 5_000
_HAS_PRE = {layout: "pre" in pattern.groupindex for layout, (_, pattern) in LAYOUTS.items()}
_KIND = {pattern: kind for kind, pattern in LAYOUTS.values()}
DOMINANT = 0.8      # share of header-like lines that makes one shape the file's only one


class Shape(NamedTuple):
    """One header shape: the layout and what every header of the file has in common."""

    layout: str
    bracket: bool
    delimiter: str            # "]", "-" or ":"
    pre_word: bool            # a word between date and time
    post_word: bool           # a clock word after the time

    def describe(self) -> str:
        words = (", a word before the time" if self.pre_word else "") + (", a clock word" if self.post_word else "")
        return f"{self.layout}{' [bracketed]' if self.bracket else ''}{words}, '{self.delimiter}' before the author"


class Header(NamedTuple):
    """A header as written: its date fields by kind (see ``HeaderRecord`` in :mod:`.whatsapp`)."""

    kind: str
    a: str | None
    b: str
    c: str | None
    be: bool                  # a Buddhist-era year ("2565 BE")
    hour: str
    minute: str
    second: str | None
    ampm: str | None


def shape_of(m: re.Match, layout: str) -> Shape:
    """The shape of a header match of ``layout``."""
    opened, ap = m.group("open", "ap")
    delimiter = m.string[m.end() - 2]          # every header ends "] ", " - " or ": "
    pre = _HAS_PRE[layout] and m.group("pre") is not None
    return Shape(layout, opened is not None, delimiter, pre, ap is not None)


def words_valid(m: re.Match, cache: dict[str, bool]) -> bool:
    """True when the match's words are what they must be: a joining or clock word before the
    time, a clock word after it, a month name where the layout has one."""
    groups = m.re.groupindex
    checks = []
    if "pre" in groups and m.group("pre") is not None:
        checks.append(("pre", m.group("pre")))
    if m.group("ap") is not None:
        checks.append(("clock", m.group("ap")))
    if "mon" in groups:
        checks.append(("month", m.group("mon")))
    for kind, word in checks:
        key = kind + "\x1f" + word
        if key not in cache:
            if kind == "pre":
                cache[key] = word.casefold() in _JOINING_WORDS or words.is_clock_word(word)
            elif kind == "clock":
                cache[key] = words.is_clock_word(word)
            else:
                cache[key] = words.is_month_name(word)
        if not cache[key]:
            return False
    return True


def learn_shape(text: str) -> tuple[list[Shape], list[Shape]] | None:
    """The header shapes of ``text`` (normalised), and the shapes whose lines are message text.

    The shape that matches the most lines wins. When it holds at least :data:`DOMINANT` of the
    header-like lines, lines of other shapes are message text (pasted or quoted headers).
    Otherwise the file was put together from several exports (or written by hand, as some
    parsers' test files are), and every shape with the same kind of date is read. None when
    no line is a header.
    """
    lines = text.split("\n")
    step = max(1, len(lines) // _SAMPLE_LINES)
    sample = "\n".join(lines[::step]) if step > 1 else text
    counts: Counter[Shape] = Counter()
    first_seen: dict[Shape, int] = {}
    for layout, (_, pattern) in LAYOUTS.items():
        for m in pattern.finditer(sample):
            shape = shape_of(m, layout)
            counts[shape] += 1
            first_seen.setdefault(shape, m.start())
    # Best first; a shape whose words CLDR does not know is no shape (its lines are text).
    ranked = sorted(counts, key=lambda shape: (-counts[shape], first_seen[shape]))
    valid = [shape for shape in ranked if next(headers(sample, [shape]), None) is not None]
    if not valid:
        return None
    best, rest = valid[0], valid[1:]
    if counts[best] >= DOMINANT * sum(counts[shape] for shape in valid):
        return [best], rest
    kind = LAYOUTS[best.layout][0]
    same = [shape for shape in valid if LAYOUTS[shape.layout][0] == kind]
    return same, [shape for shape in rest if shape not in same]


def headers(text: str, shapes: list[Shape]) -> Iterator[re.Match]:
    """The matches of ``shapes`` in ``text``, in order (other shapes' lines are message text)."""
    cache: dict[str, bool] = {}
    layouts = dict.fromkeys(shape.layout for shape in shapes)
    found = (m for layout in layouts for m in LAYOUTS[layout][1].finditer(text)
             if shape_of(m, layout) in shapes and words_valid(m, cache))
    if len(layouts) == 1:
        yield from found
    else:
        yield from sorted(found, key=lambda m: m.start())


def fields(m: re.Match) -> Header:
    """The date and time fields of a header match."""
    kind = _KIND[m.re]
    groups = m.re.groupindex
    hour, minute, second, ampm = m.group("h", "mi", "s", "ap")
    pre = m.group("pre") if "pre" in groups else None
    if pre is not None and pre.casefold() in _JOINING_WORDS:
        pre = None
    ampm = ampm or pre
    if kind == NAMED:
        return Header(NAMED, m.group("d"), m.group("mon"), m.group("y"), False, hour, minute, second, ampm)
    era_a, a, b, c = m.group("ea", "a", "b", "c")
    if kind == NUMERIC:
        return Header(kind, _with_era(era_a, a), b, _with_era(m.group("ec"), c), m.group("be") is not None,
                      hour, minute, second, ampm)
    return Header(kind, _with_era(era_a, a), b, c, False, hour, minute, second, ampm)


def _with_era(era: str | None, year: str | None) -> str | None:
    """A year field with its Japanese era as one letter ("令和元" -> "R1"; see :mod:`.whatsapp_dates`)."""
    if year == "元":       # the first year of an era ("元年")
        year = "1"
    if era is None or year is None:
        return year
    return _ERA_LETTER.get(era, era) + year
