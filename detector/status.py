"""What a case holds: its sources, row counts and time spans."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from detector.store import Case

_SPANS = {"notices": "received_at", "posts": "posted_at", "exposure": "day"}


@dataclass
class CaseStatus:
    zone: str | None
    counts: dict[str, int]
    spans: dict[str, tuple[object, object]]   # table -> (first, last)
    sources: pd.DataFrame                      # kind, name, sha256, ingested_at, rows, tz
    chats: int
    targets: int
    aliases: pd.DataFrame                      # alias, canonical, origin (stored channel aliases)
    parameters: object = None                  # detector.params.Parameters of the stored analysis, if any


def case_status(case: Case) -> CaseStatus:
    spans = {}
    for table, col in _SPANS.items():
        first, last = case.con.execute(f'SELECT min("{col}"), max("{col}") FROM "{table}"').fetchall()[0]
        if first is not None:
            spans[table] = (first, last)
    sources = case.query("SELECT kind, name, sha256, ingested_at, rows, tz FROM sources ORDER BY ingested_at, name")
    chats = case.con.execute("SELECT count(DISTINCT chat) FROM posts").fetchall()[0][0]
    targets = case.con.execute("SELECT count(DISTINCT target) FROM notices").fetchall()[0][0]
    return CaseStatus(zone=case.meta("tz"), counts=case.counts(), spans=spans, sources=sources,
                      chats=chats, targets=targets, aliases=case.aliases(),
                      parameters=case.analysis_parameters() if case.analysed() else None)
