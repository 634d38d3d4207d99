"""Reading a user's CSV fast while keeping exact line numbers (shared by the CSV collectors).

pandas' C parser reads a million rows in about a second but does not say on which line a
row started; we rebuild that from the newlines inside quoted cells. The ``csv`` module
(exact, slow) runs only to locate a row the C parser rejected.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import pandas as pd

from detector.collect.base import decode_head, decode_text, looks_binary
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, read_bytes
from detector.errors import DetectorError

LINE = "_line"
_ROW_HINT = "check the quotes and the number of separators on that line"


def header_key(name: object) -> str:
    """A header name as the collectors match it: trimmed, lower case, spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().strip('"').strip().lower())


def head_keys(path: Path, head: bytes) -> set[str]:
    """The header keys of a CSV from its first bytes, for ``sniff`` (never raises)."""
    if Path(path).suffix.lower() not in {".csv", ".tsv", ".txt"} or looks_binary(head):
        return set()
    first = decode_head(head).split("\n", 1)[0]
    return {header_key(c) for c in re.split(r"[,\t;]", first)}


def _delimiter(path: Path, first_line: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _decode(path: Path, expected: str, limits: ParseLimits) -> str:
    data = read_bytes(path, limits)
    if looks_binary(data[:65536]):
        nul = data.find(b"\x00")
        line = data.count(b"\n", 0, nul) + 1 if nul >= 0 else 1
        raise DetectorError("not a text file (binary data)", path, line, f"expected {expected}")
    text = decode_text(data, path)
    if not text.strip():
        raise DetectorError("the file is empty", path, 1, f"expected {expected}")
    return text


def _locate_bad_row(text: str, delimiter: str, ncols: int) -> tuple[int, str] | None:
    """The start line and fault of the first malformed row (slow; only after a failure)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for record in reader:
            if len(record) > ncols and any(cell.strip() for cell in record[ncols:]):
                return start, f"{len(record)} fields where the header has {ncols}"
            start = reader.line_num + 1
    except csv.Error as exc:
        return start, f"malformed CSV ({exc}); a quote may be left open"
    return None


def read_cells(path: str | Path, expected: str, limits: ParseLimits = DEFAULT_LIMITS) -> tuple[pd.DataFrame, str]:
    """Every cell as a string ("" when blank), header keys (:func:`header_key`), and ``_line``.

    ``_line`` is the line on which each row starts (header = line 1), counting the lines
    inside quoted multi-line cells. Blank lines are dropped. Returns the rows and the
    delimiter. ``expected`` completes the hint of the errors ("a notices CSV with …").

    Raises
    ------
    DetectorError
        for binary or empty files, rows with too many fields or an open quote (naming their
        line), and duplicate header names.
    """
    path = Path(path)
    text = _decode(path, expected, limits)
    delimiter = _delimiter(path, text.split("\n", 1)[0])
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                              skip_blank_lines=False, index_col=False, quotechar='"')
        except pd.errors.ParserError as exc:
            found = _locate_bad_row(text, delimiter, len(header))
            line, what = found if found else (None, str(exc).strip())
            raise DetectorError(f"cannot read this row: {what}", path, line, _ROW_HINT) from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        # index_col=False silently drops fields beyond the header: refuse unless they are blank.
        found = _locate_bad_row(text, delimiter, raw.shape[1])
        if found:
            raise DetectorError(f"cannot read this row: {found[1]}", path, found[0], _ROW_HINT)
    keys = [header_key(c) for c in header]
    dupes = sorted({k for k in keys if keys.count(k) > 1 and k})
    if dupes:
        raise DetectorError(f"column {dupes[0]!r} appears twice in the header", path, 1)
    raw.columns = keys
    header_lines = 1 + sum(c.count("\n") for c in header)
    # A row spans 1 + (newlines inside its cells) lines; pandas kept blank lines as "" rows.
    spans = 1 + sum(raw[c].str.count("\n") for c in keys)
    raw[LINE] = header_lines + 1 + (spans.cumsum() - spans)
    blank = (raw[keys] == "").all(axis=1)
    return raw.loc[~blank].reset_index(drop=True), delimiter


def cells(records: pd.DataFrame, column: str) -> pd.Series:
    """The stripped cells of a column, missing where blank or where the column is absent."""
    if column not in records.columns:
        return pd.Series(pd.NA, index=records.index, dtype="str")
    stripped = records[column].str.strip()
    return stripped.where(stripped != "")


def line_of(records: pd.DataFrame, mask: pd.Series) -> int:
    """The line of the first row where ``mask`` holds."""
    return int(records.loc[mask, LINE].iloc[0])
