"""Views per day per video (exposure), as YouTube Studio exports it or as our simple CSV.

Accepted shapes (header names matched case-insensitively):

* ours: ``video,date,views`` where ``video`` is a URL or an 11-character video id;
* Studio "Chart data.csv" of a Content report: ``Date,Content,Video title,Video publish
  time,Duration,Views`` (``Content`` holds the video id);
* Studio "Table data.csv" with Date as the dimension, exported from one video's analytics:
  ``Date,Views,…`` with a ``Total`` row. The file has no video column, so the video is taken
  from the file or folder name when it is exactly a video id (``dQw4w9WgXcQ.csv`` or
  ``dQw4w9WgXcQ/Table data.csv``); otherwise the file is refused, not guessed (a channel's
  ``Totals.csv`` has the same shape).

Days are calendar dates as Studio writes them (``2025-03-09`` or ``Mar 9, 2025``); they are
the channel's reporting days, not UTC instants, so no zone applies. ``Total`` rows are
skipped. One video with two rows for the same day is an error naming both lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from detector.collect.base import Format, Parsed, ReadOptions
from detector.collect.csvcells import LINE, cells, head_keys, line_of, read_cells
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits
from detector.errors import DetectorError
from detector.ids import canonical_target

DATE_COLUMNS = ("date", "day")
VIEWS_COLUMNS = ("views", "view_count")
VIDEO_COLUMNS = ("video", "video_id", "content", "video_url", "url", "target_url", "target")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_EXPECTED = "a views CSV with columns video,date,views (or a YouTube Studio export with Date and Views)"
_DATE_FORMATS = ("ISO8601", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")


def _first(keys, names) -> str | None:
    return next((n for n in names if n in keys), None)


def video_from_name(path: Path) -> str | None:
    """The video id a per-video export carries in its file or folder name, if exactly one."""
    for name in (path.stem, path.parent.name):
        if _VIDEO_ID.match(name.strip()):
            return name.strip()
    return None


def load_records(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> tuple[pd.DataFrame, dict]:
    """Raw layer: cells, header keys and ``_line``; which columns hold date, views and video."""
    path = Path(path)
    records, _ = read_cells(path, _EXPECTED, limits)
    keys = set(records.columns)
    columns = {"date": _first(keys, DATE_COLUMNS), "views": _first(keys, VIEWS_COLUMNS),
               "video": _first(keys, VIDEO_COLUMNS)}
    for role, names in (("date", DATE_COLUMNS), ("views", VIEWS_COLUMNS)):
        if columns[role] is None:
            raise DetectorError(f"no {role} column (looked for {', '.join(names)})", path, 1,
                                f"expected {_EXPECTED}")
    return records, columns


def _targets(records: pd.DataFrame, column: str | None, path: Path) -> pd.Series:
    if column is None:
        video = video_from_name(path)
        if video is None:
            raise DetectorError("no video column, and the file or folder name is not a video id", path, 1,
                                "add a column 'video' with the video URL or id, or name the file "
                                "after the video id (e.g. dQw4w9WgXcQ.csv)")
        return pd.Series(f"youtube:video:{video}", index=records.index, dtype="str")
    values = cells(records, column)
    if values.isna().any():
        raise DetectorError(f"{column} is blank", path, line_of(records, values.isna()),
                            "every row needs the video's URL or 11-character id")
    codes, distinct = pd.factorize(values)
    mapped = [f"youtube:video:{v}" if _VIDEO_ID.match(v) else canonical_target(v) for v in distinct]
    return pd.Series(pd.Index(mapped, dtype="str")[codes], index=records.index, dtype="str")


def _days(values: pd.Series, records: pd.DataFrame, column: str, path: Path) -> pd.Series:
    days = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in _DATE_FORMATS:
        todo = days.isna() & values.notna()
        if not todo.any():
            break
        parsed = pd.to_datetime(values.where(todo), format=fmt, errors="coerce")
        days = days.where(days.notna(), parsed.astype("datetime64[us]"))
    bad = days.isna()
    if bad.any():
        raise DetectorError(f"cannot read {column} {values[bad].iloc[0]!r} as a date", path,
                            line_of(records, bad), "write dates as YYYY-MM-DD (e.g. 2025-03-09)")
    if (days != days.dt.normalize()).any():
        bad = days != days.dt.normalize()
        raise DetectorError(f"{column} {values[bad].iloc[0]!r} is a time, not a day", path,
                            line_of(records, bad), "one row per video per day: write the day only")
    return days.dt.date


def _views(values: pd.Series, records: pd.DataFrame, column: str, path: Path,
           most: int = DEFAULT_LIMITS.max_daily_views) -> pd.Series:
    # Spreadsheets add thousands separators ("1,234", "1 234"); Studio writes plain integers.
    plain = values.str.replace(r"[,\s\u00a0\u202f']", "", regex=True)
    numbers = pd.to_numeric(plain, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != numbers.round())
    if bad.any():
        raise DetectorError(f"cannot read {column} {values[bad].iloc[0]!r} as a number of views", path,
                            line_of(records, bad), "views must be whole numbers of 0 or more")
    # Past this, a float loses whole numbers and int64 overflows: an absurd count is refused, not wrapped.
    absurd = numbers > most
    if absurd.any():
        raise DetectorError(f"{column} {values[absurd].iloc[0]!r} is more views in a day than the limit of {most:,}",
                            path, line_of(records, absurd), "check the file; if the count is real, raise it with "
                            "--limit max_daily_views=…")
    return numbers.astype("int64")


def to_rows(records: pd.DataFrame, columns: dict, path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> pd.DataFrame:
    """Mapping layer: records -> ``exposure`` rows (source_id is left to ingest)."""
    path = Path(path)
    date_cells = cells(records, columns["date"])
    video_cells = cells(records, columns["video"]) if columns["video"] else None
    total = date_cells.str.lower().eq("total").fillna(False)
    if video_cells is not None:
        total |= video_cells.str.lower().eq("total").fillna(False)
    records = records.loc[~total]
    date_cells = date_cells.loc[~total]
    rows = pd.DataFrame({
        "source_id": None,
        "source_ref": records[LINE].astype(str),
        "target": _targets(records, columns["video"], path),
        "day": _days(date_cells, records, columns["date"], path),
        "views": _views(cells(records, columns["views"]).fillna(""), records, columns["views"], path,
                        limits.max_daily_views),
    })
    twice = rows.duplicated(["target", "day"], keep=False)
    if twice.any():
        first = rows[twice].iloc[0]
        lines = rows.loc[twice & (rows.target == first.target) & (rows.day == first.day), "source_ref"]
        raise DetectorError(f"{first.target} has more than one row for {first.day} (lines {', '.join(lines)})",
                            path, int(lines.iloc[1]), "keep one row per video per day")
    return rows.reset_index(drop=True)


def read(path: Path, options: ReadOptions) -> Parsed:
    """Read a views-per-day CSV into ``{"exposure": rows}``."""
    path = Path(path)
    records, columns = load_records(path, options.limits)
    rows = to_rows(records, columns, path, options.limits)
    detail = {"columns": columns, "videos": int(rows["target"].nunique())}
    if columns["video"] is None:
        detail["video_from_name"] = video_from_name(path)
    return Parsed(kind=FORMAT.name, frames={"exposure": rows}, detail=detail)


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has a date and a views column, and that says which video it counts."""
    keys = head_keys(path, head)
    if not (keys & set(DATE_COLUMNS) and keys & set(VIEWS_COLUMNS)):
        return False
    return bool(keys & set(VIDEO_COLUMNS)) or video_from_name(Path(path)) is not None


FORMAT = Format(
    name="views_csv",
    description="Views per day per video (video,date,views, or a YouTube Studio export)",
    sniff=sniff,
    read=read,
)
