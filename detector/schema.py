"""The case's tables: their columns and types, in one place, and the check every stage runs.

Times are UTC everywhere (DuckDB ``TIMESTAMPTZ``; pandas ``datetime64[us, UTC]``).
Every ingested row carries ``source_id`` (the SHA-256 of its file, see ``sources``) and
``source_ref`` (the line number or message id inside that file), so each finding can cite
the exact input behind it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.errors import DetectorError

# table -> {column: DuckDB type}. Order is the stored column order.
TABLES: dict[str, dict[str, str]] = {
    "case_meta": {"key": "VARCHAR", "value": "VARCHAR"},
    "sources": {
        "source_id": "VARCHAR",       # first 16 hex digits of sha256
        "kind": "VARCHAR",            # format name, e.g. telegram_json, whatsapp_txt, notices_csv
        "name": "VARCHAR",            # file name only (never a local path)
        "sha256": "VARCHAR",
        "ingested_at": "TIMESTAMPTZ",
        "rows": "BIGINT",
        "tz": "VARCHAR",              # zone applied to phone-local or naive times, if any
        "detail": "VARCHAR",          # JSON: format-specific facts (chat name, date order, …)
    },
    "notices": {
        "notice_id": "VARCHAR",
        "source_id": "VARCHAR",
        "source_ref": "VARCHAR",      # line number, message index or notice id in the source
        "platform": "VARCHAR",        # youtube, telegram, …
        "received_at": "TIMESTAMPTZ",
        "action": "VARCHAR",          # detector.vocab.ACTIONS
        "policy": "VARCHAR",          # detector.vocab.POLICIES
        "policy_raw": "VARCHAR",
        "target": "VARCHAR",          # canonical target id (detector.ids)
        "target_url": "VARCHAR",
        "target_title": "VARCHAR",
        "subject": "VARCHAR",         # the channel/account the target belongs to (canonical id)
        "sender": "VARCHAR",
        "reporter_id": "VARCHAR",
        "published_at": "TIMESTAMPTZ",
        "text": "VARCHAR",
    },
    "posts": {
        "post_id": "VARCHAR",         # platform:chat:message id (stable across overlapping exports)
        "source_id": "VARCHAR",
        "source_ref": "VARCHAR",
        "platform": "VARCHAR",        # telegram, whatsapp
        "chat": "VARCHAR",            # stable chat key: channel username, or chat id, or file chat name
        "chat_title": "VARCHAR",
        "message_id": "VARCHAR",
        "author": "VARCHAR",
        "posted_at": "TIMESTAMPTZ",
        "text": "VARCHAR",
        "urls": "VARCHAR[]",
        "targets": "VARCHAR[]",       # canonical ids of urls
        "forwarded_from": "VARCHAR",
        "forwarded_from_id": "VARCHAR",
        "forwarded_post": "VARCHAR",
        "reply_to": "VARCHAR",
        "views": "BIGINT",
        "forwards": "BIGINT",
        # when a forward's original was posted, where the source gives it (Telethon's fwd_from.date;
        # Desktop exports do not). Last, so that a case written before it gains it by ALTER TABLE.
        "forwarded_at": "TIMESTAMPTZ",
    },
    "exposure": {
        "source_id": "VARCHAR",
        "source_ref": "VARCHAR",
        "target": "VARCHAR",
        "day": "DATE",
        "views": "BIGINT",
    },
    "aliases": {                      # one channel known by several ids (detector.identity)
        "alias": "VARCHAR",           # canonical id, e.g. youtube:handle:name
        "canonical": "VARCHAR",       # canonical id it names the same channel as, e.g. youtube:channel:UC…
        "origin": "VARCHAR",          # "user", or the case file it came from
        "added_at": "TIMESTAMPTZ",
    },
    "reviews": {                      # analysts' decisions on calls and boasts, append-only (detector.review)
        "post_id": "VARCHAR",
        "decision": "VARCHAR",        # confirmed | rejected | cleared | marked call | marked boast
        "kind": "VARCHAR",            # what the machine called the post when it was reviewed (call, boast, other)
        "note": "VARCHAR",
        "translation": "VARCHAR",
        "reviewer": "VARCHAR",
        "reviewed_at": "TIMESTAMPTZ",
    },
    "collect_state": {
        "channel": "VARCHAR",         # lower-case public username
        "last_message_id": "BIGINT",
        "collected_at": "TIMESTAMPTZ",
    },
    "web_pages": {                    # t.me/s preview pages read, kept as provenance of their posts
        "sha256": "VARCHAR",          # of the raw bytes as received
        "source_id": "VARCHAR",       # the collection run whose posts came from this page
        "channel": "VARCHAR",
        "url": "VARCHAR",
        "status": "BIGINT",           # HTTP status
        "fetched_at": "TIMESTAMPTZ",
        "message_ids": "VARCHAR",     # JSON list: the posts taken from the page
        "encoding": "VARCHAR",        # "gzip": how content is compressed
        "bytes": "BIGINT",            # size of the raw page
        "content": "BLOB",
    },
    "alerts": {                       # detector watch: append-only early-warning log
        "alert_id": "VARCHAR",        # reason + post id: one alert per post and reason
        "alerted_at": "TIMESTAMPTZ",
        "reason": "VARCHAR",          # names_subject, copy_in_new_chat
        "post_id": "VARCHAR",
        "chat": "VARCHAR",
        "chat_title": "VARCHAR",
        "message_id": "VARCHAR",
        "posted_at": "TIMESTAMPTZ",
        "permalink": "VARCHAR",       # t.me/<channel>/<id> when the username is known
        "targets": "VARCHAR[]",       # the subject's targets the call names (names_subject)
        "copy_of": "VARCHAR",         # post id of the known call it copies (copy_in_new_chat)
        "similarity": "DOUBLE",
        "p_call": "DOUBLE",
        "text": "VARCHAR",
        "detail": "VARCHAR",          # JSON: the sentence, the subject, delivery channels
    },
}

# Derived tables (written by detector.analysis, replaced whole at each analysis): their columns, in
# order. Lists and dicts are stored as JSON text (Case.derived decodes them).
DERIVED: dict[str, tuple[str, ...]] = {
    "calls": ("post_id", "is_call", "kind", "confidence", "p_call", "targets", "requested_policy", "language",
              "platform", "chat", "chat_title", "author", "posted_at", "text", "forwarded_from", "forwarded_at",
              "review", "reviewer", "reviewed_at", "review_note", "translation", "machine_kind"),
    "pairs": ("post_a", "post_b", "similarity", "chat_a", "chat_b", "lag_seconds"),
    "clusters": ("cluster_id", "post_id", "chat", "posted_at", "is_first"),
    "forwards": ("source", "source_name", "chat", "posts", "first_at"),
    "coreports": ("reporter_a", "reporter_b", "weight"),
    "scans": ("stream", "scope", "subject", "key", "notices", "p_burst", "p_floor", "best_start", "best_end",
              "best_observed", "best_expected", "rate_ratio", "windows", "replicates", "exposure", "q_burst"),
    "bursts": ("burst_id", "stream", "scope", "subject", "key", "level", "start", "end", "notices", "expected",
               "rate_ratio", "p_burst", "q_burst", "significant", "explained_by_views", "p_without_views",
               "policy_top", "policy_top_share", "notice_ids", "explained_by"),
    "links": ("target", "calls", "first_call", "notices_total", "notices_within", "expected_within", "rate_ratio",
              "median_lag_h", "p_value", "p_floor", "shifts", "insufficient", "informative", "episode", "basis",
              "q_value"),
    "campaigns": ("campaign_id", "rank", "tier", "score", "targets", "hit_targets", "start", "end", "notices",
                  "calls", "chats", "p_burst", "p_link", "p_link_floor", "link_shifts", "rate_ratio", "excess",
                  "requested_policy", "findings", "call_post_ids", "notice_ids", "sweep"),
    "findings": ("campaign_id", "order", "kind", "data", "text", "p_value", "rows"),
    "identities": ("alias", "canonical", "origin", "resolved"),
    "call_targets": ("post_id", "target", "posted_at", "pre_notices", "expected_pre", "enforced_before",
                     "first_enforcement_before", "reaction"),
    # detector dsa context: what the platform did, per burst of the case's notices (EU DSA database)
    "platform_context": ("burst_id", "platform", "window_start", "window_end", "baseline_start", "categories",
                         "language", "scope", "decisions_in", "notice_in", "own_in", "notice_per_day_in",
                         "notice_per_day_usual", "own_per_day_in", "own_per_day_usual", "notice_share_in",
                         "notice_share_usual", "p_notice_shift", "automated_share_in", "automated_share_usual",
                         "old_content_share_in", "old_content_share_usual", "verdict", "candidates",
                         "candidate_count", "uid_names_target", "dumps", "engine", "parameters"),
}


def conform_derived(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A derived table as it is stored: its declared columns in order, missing values as nulls.

    A column the declaration lacks, or a table it does not know, is a programming error raised
    here, where the table is written, not later in a reader. Absent columns (an empty result)
    are added empty; NaN becomes a null (``pd.NA``), once, here.
    """
    if table not in DERIVED:
        raise DetectorError(f"{table} is not a declared derived table")
    columns = DERIVED[table]
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        raise DetectorError(f"derived table {table} has undeclared columns {extra}")
    out = frame.reindex(columns=list(columns)).copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col].astype("Float64")      # NaN -> NULL in DuckDB
    return out.reset_index(drop=True)


TIME_COLUMNS = {t: [c for c, ty in cols.items() if ty == "TIMESTAMPTZ"] for t, cols in TABLES.items()}
LIST_COLUMNS = {t: [c for c, ty in cols.items() if ty.endswith("[]")] for t, cols in TABLES.items()}
INT_COLUMNS = {t: [c for c, ty in cols.items() if ty == "BIGINT"] for t, cols in TABLES.items()}
KEYS = {"sources": "source_id", "notices": "notice_id", "posts": "post_id"}
INGESTED = ("notices", "posts", "exposure")


def conform(df: pd.DataFrame, table: str, arrow_text: bool = False, columns=None) -> pd.DataFrame:
    """Return ``df`` with exactly the table's columns, in order, with missing ones filled
    (``columns``: only those of the table's columns, in the table's order).

    Times become UTC, integers nullable ``Int64``, lists Python lists (the same objects when
    they are lists already). Text columns are
    Python ``str`` objects with ``None`` for missing values, or, with ``arrow_text`` (how the
    analysis reads a case), pandas' Arrow-backed ``str`` dtype with NaN for missing values:
    one UTF-8 buffer per column instead of a Python object per value, about a third of the
    memory at 10^6 rows.
    """
    cols = {c: ty for c, ty in TABLES[table].items() if columns is None or c in columns}
    out = df.copy()
    for col in cols:
        if col not in out.columns:
            out[col] = None
    out = out[list(cols)]
    for col in (c for c in TIME_COLUMNS[table] if c in cols):
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[us, UTC]")
    for col in (c for c in INT_COLUMNS[table] if c in cols):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    for col in (c for c in LIST_COLUMNS[table] if c in cols):
        # A list stays the same object: copying them all held every post's list twice at once.
        out[col] = [v if type(v) is list else list(v) if isinstance(v, tuple | np.ndarray) else []
                    for v in out[col].to_numpy(dtype=object)]
    for col, ty in cols.items():
        if ty == "VARCHAR":
            out[col] = _arrow_text_column(out[col]) if arrow_text else _text_column(out[col])
        elif ty == "DATE":
            out[col] = pd.to_datetime(out[col]).dt.date
    return out.reset_index(drop=True)


def _text_column(values: pd.Series) -> pd.Series:
    """Strings as Python ``str`` objects, missing values as ``None``.

    Converting value by value is only needed when something other than strings is present
    (ids given as numbers, say); a column of strings is checked once, in C, and kept.
    """
    present = values.notna().to_numpy()
    obj = values.astype("object")
    kinds = pd.api.types.infer_dtype(obj[present], skipna=True) if present.any() else "empty"
    if kinds not in ("string", "empty"):
        obj = obj.map(lambda v: v if isinstance(v, str) else str(v))
    if not present.all():
        obj = obj.where(present, None)
    return obj


ARROW_TEXT = "str"   # pandas' default string dtype: Arrow-backed, NaN for missing values


def _arrow_text_column(values: pd.Series) -> pd.Series:
    """Strings as an Arrow-backed column (DuckDB already returns them so: then nothing is copied)."""
    if values.dtype == ARROW_TEXT:
        return values
    present = values.notna().to_numpy()
    obj = values.astype("object")
    kinds = pd.api.types.infer_dtype(obj[present], skipna=True) if present.any() else "empty"
    if kinds not in ("string", "empty"):
        obj = obj.map(lambda v: v if isinstance(v, str) or v is None else str(v))
    return obj.where(present, None).astype(ARROW_TEXT)
