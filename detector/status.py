"""What a case holds: its sources, row counts and time spans."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from detector import custody
from detector.originals import original_list
from detector.store import Case

_SPANS = {"notices": "received_at", "posts": "posted_at", "exposure": "day"}


@dataclass
class CaseStatus:
    zone: str | None
    counts: dict[str, int]
    spans: dict[str, tuple[object, object]]   # table -> (first, last)
    sources: pd.DataFrame                      # kind, label, name, sha256, ingested_at, rows, tz
    chats: int
    targets: int
    aliases: pd.DataFrame                      # alias, canonical, origin (stored channel aliases)
    parameters: object = None                  # detector.params.Parameters of the stored analysis, if any
    custody: custody.ChainCheck | None = None  # the custody log's chain check
    originals: str | None = None               # one line: how many sources' original files the case keeps


def source_label(name: str, detail: str | None) -> str:
    """A source as people tell sources apart: its file name, and for an export the chats in it.

    Every Telegram Desktop export is called ``result.json``; "result.json · Uyghur Voice" is not.
    """
    try:
        chats = json.loads(detail or "{}").get("chats") or []
    except (ValueError, AttributeError):
        chats = []
    titles = [str(c.get("title") or c.get("chat")) for c in chats if isinstance(c, dict)]
    if not titles:
        return str(name)
    shown = ", ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
    return f"{name} · {shown}"


def case_status(case: Case) -> CaseStatus:
    spans = {}
    for table, col in _SPANS.items():
        first, last = case.con.execute(f'SELECT min("{col}"), max("{col}") FROM "{table}"').fetchall()[0]
        if first is not None:
            spans[table] = (first, last)
    sources = case.query("SELECT kind, name, sha256, ingested_at, rows, tz, detail FROM sources "
                         "ORDER BY ingested_at, name")
    sources.insert(1, "label", [source_label(n, d) for n, d in zip(sources["name"], sources["detail"], strict=True)])
    sources = sources.drop(columns="detail")
    chats = case.con.execute("SELECT count(DISTINCT chat) FROM posts").fetchall()[0][0]
    targets = case.con.execute("SELECT count(DISTINCT target) FROM notices").fetchall()[0][0]
    return CaseStatus(zone=case.meta("tz"), counts=case.counts(), spans=spans, sources=sources,
                      chats=chats, targets=targets, aliases=case.aliases(),
                      parameters=case.analysis_parameters() if case.analysed() else None,
                      custody=custody.check_chain(custody.read_log(case)), originals=_originals_line(case, sources))


def _originals_line(case: Case, sources: pd.DataFrame) -> str:
    kept = original_list(case)
    n = int(sources["sha256"].isin(set(kept["sha256"])).sum()) if len(sources) else 0
    stored = int(kept["stored_bytes"].sum()) if len(kept) else 0
    return (f"original files kept in the case: {n} of {len(sources)} sources "
            f"({stored / 1e6:.1f} MB compressed; detector sources lists them; live collections keep rows or pages)")
