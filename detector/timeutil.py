"""Time zones and UTC conversion: phone-local and naive times are never guessed."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from detector.errors import DetectorError

TZ_HINT = "pass --tz ZONE with the zone the times were written in, e.g. --tz Asia/Almaty"


def check_zone(tz: str) -> str:
    """Return ``tz`` if it names an IANA zone (or UTC offset like ``+06:00``); else raise."""
    try:
        ZoneInfo(tz)
        return tz
    except (ZoneInfoNotFoundError, ValueError):
        pass
    try:
        pd.Timestamp("2020-01-01T00:00:00" + tz)
        return tz
    except ValueError:
        raise DetectorError(f"unknown time zone {tz!r}", hint="use an IANA name such as Asia/Almaty or UTC") from None


def require_zone(tz: str | None, path, line=None, what: str = "times without a UTC offset") -> str:
    """The zone to apply to naive times; raise the error that names ``--tz`` when there is none."""
    if not tz:
        raise DetectorError(f"{what}: the zone they were written in is unknown", path, line, TZ_HINT)
    return check_zone(tz)


def localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local datetimes -> UTC, resolving DST gaps forward and folds to the first instant."""
    naive = pd.to_datetime(naive)
    if tz.startswith(("+", "-")):
        return (naive - pd.Timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6] or 0)) * (1 if tz[0] == "+" else -1)
                ).dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    out = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    # Ambiguous (DST fold) instants: take the earlier reading rather than dropping the row.
    fold = out.isna() & naive.notna()
    if fold.any():
        out[fold] = naive[fold].dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return out.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
