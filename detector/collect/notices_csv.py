"""The project's own notices CSV template (docs/notices-template.md).

One row per notice or complaint. Required columns: ``received_at``, ``target_url``, ``action``,
``policy``; optional: ``notice_id``, ``platform``, ``target_title``, ``subject_url``,
``published_at``, ``sender``, ``reporter_id``, ``text``. Header names are matched
case-insensitively, trimmed, with spaces or dashes read as underscores; other columns are
ignored (and listed in the source's detail).

Decisions
---------
* Times: ISO 8601. Values with ``Z`` or an offset are converted to UTC; values without one
  are local times and need ``--tz`` (never guessed). A blank ``received_at`` is an error.
* ``action`` and ``policy`` map onto the vocabularies (:mod:`detector.vocab`); a blank or
  unknown wording becomes ``other``. ``policy_raw`` keeps the policy cell as written. The raw
  action is not copied into another column (no column means "raw action" and ``policy_raw``
  must keep meaning policy); wordings that fell to ``other`` are counted in the detail under
  ``unmapped_actions``, and ``source_ref`` (the CSV line) leads back to the cell.
* ``notice_id``: ``<platform>:<given id>``; a given id repeated in the file gets ``:2``,
  ``:3`` … from its second row. Without a given id, ``<platform>:<stable_id(target,
  received_at, action, policy, sender, reporter_id, k)>`` where k counts identical earlier
  rows, so identical rows stay distinct and appending rows never changes earlier ids.
* ``source_ref`` is the line on which the row starts (header = line 1), counting the lines
  inside quoted multi-line cells.
* :func:`template_csv` is the header only: an example row would be ingested as a real notice
  if the user forgot to delete it. The example lives in docs/notices-template.md.

A million rows take a few seconds: pandas' C parser reads the cells (:mod:`.csvcells`
rebuilds exact line numbers), and per-value work (URLs, wordings) runs once per distinct value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from detector.collect.base import Format, Parsed, ReadOptions
from detector.collect.csvcells import LINE, cells, head_keys, line_of, read_cells
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits
from detector.collect.noticerows import occurrence, platform_of, stable_ids
from detector.errors import DetectorError
from detector.ids import canonical_target
from detector.schema import TABLES
from detector.timeutil import localize, require_zone
from detector.vocab import normalise_action, normalise_policy

REQUIRED_COLUMNS = ("received_at", "target_url", "action", "policy")
OPTIONAL_COLUMNS = ("notice_id", "platform", "target_title", "subject_url", "published_at",
                    "sender", "reporter_id", "text")
TEMPLATE_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_TIME_HINT = "write times in ISO 8601, e.g. 2024-05-01T14:30:00Z or 2024-05-01 20:30:00+06:00"
# An explicit zone must follow a clock time: "2024-05-01" ends in "-01" but has no offset.
_HAS_OFFSET = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"


def template_csv() -> str:
    """The header line of the notices template (what ``detector template notices`` prints)."""
    return ",".join(TEMPLATE_COLUMNS) + "\n"


def load_records(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> tuple[pd.DataFrame, dict]:
    """Raw layer: the CSV's cells as strings, header keys, and ``_line`` (see :mod:`.csvcells`).

    Returns the records and facts for the source's detail (delimiter, ignored columns).
    Raises :class:`DetectorError` for binary, empty or malformed files and for a missing
    required column (listing the template's columns).
    """
    records, delimiter = read_cells(path, f"a notices CSV whose header is {','.join(TEMPLATE_COLUMNS)}", limits)
    keys = [c for c in records.columns if c != LINE]
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    if missing:
        raise DetectorError(f"missing required column {missing[0]!r}", path, 1,
                            f"the template's columns are: {', '.join(TEMPLATE_COLUMNS)} "
                            f"(required: {', '.join(REQUIRED_COLUMNS)})")
    return records, {"delimiter": delimiter, "ignored_columns": [c for c in keys if c not in TEMPLATE_COLUMNS]}


def _parse_times(records: pd.DataFrame, column: str, tz: str | None, path) -> tuple[pd.Series, str | None]:
    """UTC times of one column; naive values localised with ``tz`` (required if any)."""
    values = cells(records, column)
    present = values.notna()
    aware = present & values.str.contains(_HAS_OFFSET, case=False, regex=True, na=False)
    out = pd.to_datetime(values.where(aware), utc=True, format="ISO8601", errors="coerce")
    out = out.astype("datetime64[us, UTC]")
    naive = present & ~aware
    used = None
    if naive.any():
        first = values[naive].iloc[0]
        used = require_zone(tz, path, line_of(records, naive), what=f"{column} {first!r} has no UTC offset")
        local = pd.to_datetime(values.where(naive), format="ISO8601", errors="coerce")
        out = out.where(aware, localize(local, used))
    bad = present & out.isna()
    if bad.any():
        raise DetectorError(f"cannot read {column} {values[bad].iloc[0]!r} as an ISO 8601 time", path,
                            line_of(records, bad), _TIME_HINT)
    return out, used


def to_rows(records: pd.DataFrame, options: ReadOptions, path) -> tuple[pd.DataFrame, dict]:
    """Mapping layer: template records -> ``notices`` rows (source_id is left to ingest).

    Returns the rows and facts for the detail (zone applied, unmapped wordings).
    """
    received, tz_received = _parse_times(records, "received_at", options.tz, path)
    if received.isna().any():
        raise DetectorError("received_at is blank", path, line_of(records, received.isna()), _TIME_HINT)
    published, tz_published = _parse_times(records, "published_at", options.tz, path)

    target_url = cells(records, "target_url")
    if target_url.isna().any():
        raise DetectorError("target_url is blank", path, line_of(records, target_url.isna()),
                            "every notice needs the URL of the video, channel or post it is about")
    target = _map_unique(target_url, canonical_target)
    subject_url = cells(records, "subject_url")
    subject = _map_unique(subject_url, canonical_target)

    action_raw = cells(records, "action")
    policy_raw = cells(records, "policy")
    action = _map_unique(action_raw, normalise_action).fillna("other")
    policy = _map_unique(policy_raw, normalise_policy).fillna("other")

    platform = cells(records, "platform").str.lower()
    platform = platform.where(platform.notna(), _map_unique(target, platform_of))

    rows = pd.DataFrame({
        "source_ref": records[LINE].astype(str),
        "platform": platform,
        "received_at": received,
        "action": action,
        "policy": policy,
        "policy_raw": policy_raw,
        "target": target,
        "target_url": target_url,
        "target_title": cells(records, "target_title"),
        "subject": subject,
        "sender": cells(records, "sender"),
        "reporter_id": cells(records, "reporter_id"),
        "published_at": published,
        "text": cells(records, "text"),
    })
    rows.insert(0, "notice_id", _notice_ids(rows, cells(records, "notice_id")))

    unmapped = action_raw[(action == "other") & action_raw.notna() & (action_raw.str.lower() != "other")]
    detail = {"unmapped_actions": unmapped.value_counts().to_dict(),
              "unmapped_policies": policy_raw[(policy == "other") & policy_raw.notna()
                                              & (policy_raw.str.lower() != "other")].value_counts().to_dict()}
    tz = tz_received or tz_published
    if tz:
        detail["tz"] = tz
    # The schema's columns in order, typed already; store.conform runs once more on insert, and
    # conforming here too would double the cost of a million-row file.
    rows["source_id"] = None
    return rows[list(TABLES["notices"])], detail


def _map_unique(values: pd.Series, func) -> pd.Series:
    """``func`` over each distinct value once: a million rows name a few thousand URLs."""
    codes, distinct = pd.factorize(values)
    mapped = np.array([func(v) for v in distinct] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")  # code -1 (missing) -> None


def _notice_ids(rows: pd.DataFrame, given: pd.Series) -> pd.Series:
    ids = pd.Series(None, index=rows.index, dtype=object)
    has = given.notna()
    if has.any():
        frame = pd.DataFrame({"id": given[has]})
        k = occurrence(frame, ["id"])
        ids[has] = rows.loc[has, "platform"] + ":" + given[has] + k.map(lambda n: f":{n + 1}" if n else "")
    if (~has).any():
        parts = rows.loc[~has, ["target", "received_at", "action", "policy", "sender", "reporter_id"]].copy()
        # Microseconds since the epoch: one exact spelling of the instant, cheap to format.
        parts["received_at"] = parts["received_at"].astype("int64")
        parts["k"] = occurrence(parts, list(parts.columns)).astype(str)
        ids[~has] = rows.loc[~has, "platform"] + ":" + stable_ids(parts)
    return ids


def read(path: Path, options: ReadOptions) -> Parsed:
    """Read a notices CSV into ``{"notices": rows}``."""
    records, detail = load_records(path, options.limits)
    rows, more = to_rows(records, options, path)
    detail.update({k: v for k, v in more.items() if k != "tz"})
    return Parsed(kind=FORMAT.name, frames={"notices": rows}, tz=more.get("tz"), detail=detail)


def sniff(path: Path, head: bytes) -> bool:
    """A .csv/.tsv/.txt whose header names received_at and target_url."""
    return {"received_at", "target_url"} <= head_keys(path, head)


FORMAT = Format(
    name="notices_csv",
    description="Notices CSV (the project's template: received_at, target_url, action, policy, …)",
    sniff=sniff,
    read=read,
)
