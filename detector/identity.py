"""One channel, one target: handles, ``/c/`` names and ``UC…`` ids that name the same channel.

Calls name a channel the way people know it (``@dalatestimony``, ``youtube.com/c/Name``);
notices name it by its ``UC…`` id. Until the case knows they are one channel, a channel-level
call can never be linked to the channel's termination. The case learns it from:

* the user: ``detector alias @handle UC…`` (stored in the case, listed by ``status``);
* a folder's ``detector-case.json``: ``{"aliases": {"@handle": "UC…"}}``;
* notices that give both: a notice whose target and subject are two different channel ids
  (a termination notice of ``/channel/UC…`` whose subject is given as ``@handle``).

Every alias group resolves to one representative: the ``youtube:channel:UC…`` id when the group
has one (the platform's own, permanent id), else the smallest id. The mapping is applied to
notices and posts before analysis (:func:`apply_aliases`), so everything downstream sees one
target per channel.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from detector.errors import DetectorError
from detector.ids import canonical_target, is_target_id

ALIAS_COLUMNS = ("alias", "canonical", "origin")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_HANDLE = re.compile(r"^@[A-Za-z0-9_.-]{2,100}$")
_CHANNEL_KINDS = ("youtube:channel:", "youtube:handle:")


def target_from_input(value: str) -> str:
    """The canonical target a person means by a link, a canonical id or a bare id.

    Accepts any URL :func:`detector.ids.canonical_target` knows, a canonical id
    (``youtube:video:…``), a bare 11-character video id, a bare ``UC…`` channel id and a
    YouTube ``@handle``. Anything else is an error that says what was expected, not an empty
    answer.

    Examples
    --------
    >>> target_from_input("dQw4w9WgXcQ")
    'youtube:video:dQw4w9WgXcQ'
    >>> target_from_input("UC2ogRTCEBL0p6gm-uoij7R0")
    'youtube:channel:UC2ogRTCEBL0p6gm-uoij7R0'
    >>> target_from_input("@DalaTestimony")
    'youtube:handle:dalatestimony'
    """
    text = str(value or "").strip()
    if is_target_id(text):
        return text
    if _CHANNEL_ID.match(text):
        return f"youtube:channel:{text}"
    if _VIDEO_ID.match(text):
        return f"youtube:video:{text}"
    if _HANDLE.match(text):
        return f"youtube:handle:{text[1:].lower()}"
    looks_like_link = bool(re.match(r"^(https?|hxxps?)://", text, re.IGNORECASE)) or (
        " " not in text and re.search(r"[a-z0-9-]\.[a-z]{2,}(/|$)", text, re.IGNORECASE) is not None)
    if not looks_like_link:
        raise DetectorError(
            f"{text[:80]!r} is not a link or an id",
            hint="expected a video or channel URL, an 11-character video id, a UC… channel id or an @handle")
    return canonical_target(text)


def channel_target(value: str) -> str:
    """Like :func:`target_from_input`, but the result must be a YouTube channel or handle."""
    target = target_from_input(value)
    if not target.startswith(_CHANNEL_KINDS):
        raise DetectorError(f"{value!r} is not a YouTube channel",
                            hint="expected @handle, a UC… id, or a /channel/, /c/, /user/ or /@ URL")
    return target


def aliases_from_notices(notices: pd.DataFrame) -> pd.DataFrame:
    """Alias pairs that notices themselves give: a channel target whose subject is another id of it.

    ``notices``: DataFrame[notice_id, target, subject]. Returns ``ALIAS_COLUMNS`` rows with
    origin ``notice <notice_id>`` (one row per distinct pair, citing its first notice).
    """
    if notices.empty or "subject" not in notices:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    target = notices["target"].astype("string")
    subject = notices["subject"].astype("string")
    both = (target.str.startswith(_CHANNEL_KINDS).fillna(False) & subject.str.startswith(_CHANNEL_KINDS).fillna(False)
            & (target != subject).fillna(False))
    pairs = notices.loc[both, ["notice_id", "target", "subject"]].drop_duplicates(["target", "subject"])
    return pd.DataFrame({"alias": pairs["subject"].to_numpy(dtype=object),
                         "canonical": pairs["target"].to_numpy(dtype=object),
                         "origin": ("notice " + pairs["notice_id"].astype(str)).to_numpy(dtype=object)})


def resolve_aliases(pairs: pd.DataFrame) -> dict[str, str]:
    """Map every id in an alias group to the group's representative (ids not in a group are absent).

    ``pairs``: DataFrame[alias, canonical] of canonical target ids. Groups are connected
    components (an alias of an alias is the same channel). The representative is the group's
    ``youtube:channel:UC…`` id when it has exactly one, else the smallest id. A group with two
    different ``UC…`` ids is an error: two channels cannot be one.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs["alias"], pairs["canonical"], strict=True):
        ra, rb = find(str(a)), find(str(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    mapping: dict[str, str] = {}
    for members in groups.values():
        channels = sorted(m for m in members if m.startswith("youtube:channel:"))
        if len(channels) > 1:
            raise DetectorError(f"aliases make two channels one: {channels[0]} and {channels[1]}",
                                hint="remove the wrong alias (detector alias --remove ALIAS)")
        rep = channels[0] if channels else min(members)
        mapping.update({m: rep for m in members if m != rep})
    return mapping


def _map_list(values, mapping: dict[str, str]):
    if not isinstance(values, list | tuple | np.ndarray):
        return values
    out: dict[str, None] = {}
    for v in values:
        out.setdefault(mapping.get(v, v), None)
    return list(out)


def apply_aliases(frame: pd.DataFrame, mapping: dict[str, str], columns=("target", "subject"),
                  list_columns=("targets",)) -> pd.DataFrame:
    """``frame`` with every id in ``columns`` (scalars) and ``list_columns`` (lists) resolved.

    Lists keep their order and drop the duplicates resolution creates. Returns a copy; a frame
    without those columns, or an empty mapping, comes back unchanged.
    """
    if not mapping or frame.empty:
        return frame
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = out[col].map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
    for col in list_columns:
        if col in out:
            out[col] = out[col].map(lambda v: _map_list(v, mapping))
    return out


def case_aliases(stored: pd.DataFrame, notices: pd.DataFrame) -> pd.DataFrame:
    """Every alias pair the case knows: the stored ones (user, case files) and the notices' own."""
    frames = [f for f in (stored[list(ALIAS_COLUMNS)] if len(stored) else None, aliases_from_notices(notices))
              if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    return pd.concat(frames, ignore_index=True).drop_duplicates(["alias", "canonical"]).reset_index(drop=True)
