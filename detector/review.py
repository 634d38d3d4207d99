"""Human review of the machine's calls and boasts: who confirmed, rejected or marked which post, and why.

A classifier's mistakes must not go into an appeal unseen, and the calls it misses must not stay
missed. An analyst confirms or rejects each call, boast and cited post, and may mark any post of
the case (one the machine took for ``other`` too) as a call or a boast; every decision is
appended to the case's ``reviews`` table (never updated, never deleted: the latest decision on a
post is in force, and "clear" takes a post back to the machine's verdict). The next analysis
applies them: a rejected post is no call and no boast, a marked post is a call or a boast
whatever the classifier said, and with the parameter ``reviewed_only`` only confirmed and marked
posts count at all.

"confirmed" means the machine was right: it is refused on a post the machine did not classify as
a call or boast (:func:`checked_decisions`); "call" or "boast" is what reclassifies one.

Reviews table (``detector.schema.TABLES['reviews']``)::

    post_id      VARCHAR      the reviewed post
    decision     VARCHAR      "confirmed" | "rejected" | "cleared" | "marked call" | "marked boast"
    kind         VARCHAR      what the machine called it when reviewed (call, boast, other; NULL
                              when no analysis had classified it)
    note         VARCHAR      the analyst's note, or NULL
    translation  VARCHAR      the analyst's translation of the post, or NULL
    reviewer     VARCHAR      who decided
    reviewed_at  TIMESTAMPTZ  when
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from detector.errors import DetectorError

DECISIONS = ("confirmed", "rejected", "cleared", "marked call", "marked boast")
#: The decisions that reclassify a post, and the kind each makes it.
MARKS = {"marked call": "call", "marked boast": "boast"}
#: The decisions under which a post counts when only reviewed posts do (``reviewed_only``).
COUNTED = ("confirmed", *MARKS)
# What a person may type for each decision (file import and the interactive prompt).
_SPELLINGS = {"confirmed": "confirmed", "confirm": "confirmed", "c": "confirmed", "yes": "confirmed", "y": "confirmed",
              "rejected": "rejected", "reject": "rejected", "r": "rejected", "no": "rejected", "n": "rejected",
              "cleared": "cleared", "clear": "cleared", "unreviewed": "cleared",
              "marked call": "marked call", "mark call": "marked call", "call": "marked call",
              "mark as call": "marked call", "marked boast": "marked boast", "mark boast": "marked boast",
              "boast": "marked boast", "mark as boast": "marked boast", "b": "marked boast"}
REVIEW_COLUMNS = ("post_id", "decision", "kind", "note", "translation", "reviewer", "reviewed_at")


def reviewer_name(given: str | None = None) -> str:
    """Who is reviewing: ``given``, else ``$DETECTOR_OPERATOR``, else the operating-system user."""
    for name in (given, os.environ.get("DETECTOR_OPERATOR")):
        if name and name.strip():
            return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_decision(value: object, where: str = "") -> str | None:
    """A typed decision as stored (one of :data:`DECISIONS`), None for a blank cell."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip().lower()
    if not text:
        return None
    text = " ".join(text.replace("_", " ").split())
    if text not in _SPELLINGS:
        raise DetectorError(f"unknown review decision {str(value)!r}{where}: expected confirm, reject, call, boast "
                            f"or clear")
    return _SPELLINGS[text]


def review_rows(post_ids, decision: str, reviewer: str, kinds=None, notes=None, translations=None,
                at: datetime | None = None) -> pd.DataFrame:
    """New rows for the reviews table: one decision by one reviewer on each post."""
    post_ids = list(post_ids)
    n = len(post_ids)
    if decision not in DECISIONS:
        raise DetectorError(f"unknown review decision {decision!r}: expected one of {', '.join(DECISIONS)}")
    when = at or datetime.now(UTC)

    def column(values):
        values = list(values) if values is not None else [None] * n
        return [v if isinstance(v, str) and v.strip() else None for v in values]

    return pd.DataFrame({"post_id": post_ids, "decision": [decision] * n, "kind": column(kinds),
                         "note": column(notes), "translation": column(translations),
                         "reviewer": [reviewer] * n, "reviewed_at": [when] * n}, columns=list(REVIEW_COLUMNS))


def current_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """The decision in force on each reviewed post (the latest one; "cleared" posts dropped).

    Returns the reviews schema, one row per post_id. A note or translation given earlier stays
    when a later decision on the same post leaves it blank.
    """
    if reviews is None or reviews.empty:
        return pd.DataFrame(columns=list(REVIEW_COLUMNS))
    ordered = reviews.reset_index(drop=True).reset_index().sort_values(["reviewed_at", "index"], kind="stable")
    carried = ordered.groupby("post_id")[["note", "translation"]].ffill()
    ordered = ordered.assign(note=carried["note"], translation=carried["translation"])
    latest = ordered.groupby("post_id", sort=False).tail(1)
    latest = latest[latest["decision"] != "cleared"]
    return latest[list(REVIEW_COLUMNS)].sort_values("post_id").reset_index(drop=True)


def marked_posts(reviews: pd.DataFrame) -> dict[str, str]:
    """The posts whose decision in force marks them as a call or boast: ``{post_id: kind}``."""
    now = current_reviews(reviews)
    now = now[now["decision"].isin(list(MARKS))]
    return dict(zip(now["post_id"], now["decision"].map(MARKS), strict=True))


def apply_reviews(calls: pd.DataFrame, reviews: pd.DataFrame, reviewed_only: bool = False,
                  all_ids: pd.Series | None = None) -> pd.DataFrame:
    """The classified posts with the analysts' decisions applied and recorded beside them.

    ``calls``: classified posts (``post_id``, ``kind``, ``is_call``, ``requested_policy``, …).
    A rejected post becomes ``other``; a post marked as a call or boast becomes one (keeping the
    ``requested_policy`` its row holds, which the calls step reads for every marked post); with
    ``reviewed_only`` every post that is neither confirmed nor marked becomes ``other``. Adds
    ``machine_kind`` (the ``kind`` before the decisions), ``review`` (a decision of
    :data:`DECISIONS` but "cleared", or "unreviewed"), ``reviewer``, ``reviewed_at``,
    ``review_note`` and ``translation``.

    ``all_ids``: the ids of every classified post, when ``calls`` holds only some of them (the
    calls and boasts): the added columns then get the dtypes they get on all of them (pandas
    infers them from the decisions matched and whether some post has none).
    """
    out = calls.copy()
    out["machine_kind"] = out["kind"]
    now = current_reviews(reviews).set_index("post_id")
    ids = out["post_id"]
    typing = None
    if all_ids is not None and len(now):
        # Every reviewed post and one post without a review give the dtypes all posts would.
        matched = all_ids.isin(now.index).to_numpy()
        typing = all_ids.iloc[np.r_[np.flatnonzero(matched), np.flatnonzero(~matched)[:1]]]

    def mapped(source: str, fill=None) -> pd.Series:
        def of(keys: pd.Series) -> pd.Series:
            values = keys.map(now[source])
            return values.fillna(fill) if fill is not None else values
        values = of(ids)
        return values if typing is None else values.astype(of(typing).dtype)

    out["review"] = mapped("decision", "unreviewed") if len(now) else "unreviewed"
    for column, source in (("reviewer", "reviewer"), ("reviewed_at", "reviewed_at"), ("review_note", "note"),
                           ("translation", "translation")):
        out[column] = mapped(source) if len(now) else None
    mark = out["review"].map(MARKS) if len(now) else pd.Series(None, index=out.index, dtype=object)
    marked = mark.notna()
    if marked.any():
        out.loc[marked, "kind"] = mark[marked]
        if "is_call" in out:
            out.loc[marked, "is_call"] = mark[marked].eq("call")
    drop = out["review"].eq("rejected")
    if reviewed_only:
        drop |= ~out["review"].isin(COUNTED)
    drop &= out["kind"].ne("other")
    if drop.any():
        out.loc[drop, "kind"] = "other"
        out.loc[drop, "requested_policy"] = None
        if "is_call" in out:
            out.loc[drop, "is_call"] = False
    return out


def review_summary(rows: pd.DataFrame) -> dict:
    """How many of ``rows`` (with a ``review`` column) were confirmed, rejected, marked as a call or
    boast (``marked``) or not reviewed, and by whom."""
    review = rows["review"] if "review" in rows else pd.Series("unreviewed", index=rows.index)
    reviewers = sorted({r for r in rows.get("reviewer", pd.Series(dtype=object)).dropna() if str(r).strip()})
    return {"rows": int(len(rows)), "confirmed": int((review == "confirmed").sum()),
            "rejected": int((review == "rejected").sum()), "marked": int(review.isin(list(MARKS)).sum()),
            "unreviewed": int((review == "unreviewed").sum()), "reviewers": reviewers}


def checked_decisions(decided: pd.DataFrame, post_ids: set, machine_kinds: dict, in_force: dict | None = None,
                      path=None) -> pd.DataFrame:
    """The decisions of ``decided`` (:func:`read_review_file`'s columns; ``line`` when read from a
    file) as review rows' ``kind``: what the machine called each post (``machine_kinds``:
    post_id -> call, boast or other, as the stored analysis classified it; absent: not classified).

    Raises DetectorError naming ``path`` and the line for a post that is not in the case
    (``post_ids``), and for "confirmed" on a post the machine did not take for a call or boast:
    confirming means the machine was right, and only "call" or "boast" reclassifies a post
    (``in_force``: post_id -> the decision in force, to say when a person's mark is what made it one).
    """
    lines = decided["line"] if "line" in decided else pd.Series([None] * len(decided), index=decided.index)
    kinds = []
    for post_id, decision, line in zip(decided["post_id"], decided["decision"], lines, strict=True):
        line = None if line is None or pd.isna(line) else int(line)
        if post_id not in post_ids:
            raise DetectorError(f"no post {post_id!r} in this case", path, line,
                                hint="post ids are as detector review export writes them")
        machine = machine_kinds.get(post_id)
        if decision == "confirmed" and machine not in ("call", "boast"):
            marked = (in_force or {}).get(post_id)
            why = (f"it counts as a {MARKS[marked]} only because a person marked it so; the classifier called it "
                   f"{machine or 'nothing'}" if marked in MARKS else
                   f"the classifier called it {machine}" if machine else "no analysis has classified it")
            raise DetectorError(f"post {post_id} cannot be confirmed: {why}", path, line,
                                hint="confirm means the machine was right; write call or boast to mark it as one")
        kinds.append(machine)
    return decided.assign(kind=kinds)


def reviews_digest(reviews: pd.DataFrame) -> list[str]:
    """The decisions in force, as short strings an analysis records to tell when it went stale."""
    now = current_reviews(reviews)
    return [f"{r.post_id}={r.decision}" for r in now.itertuples()]


def case_checked_decisions(case, decided: pd.DataFrame, path=None) -> pd.DataFrame:
    """:func:`checked_decisions` of ``decided`` against ``case``: its posts, what its stored
    analysis's classifier called each one, and the decisions in force. Reads only those posts."""
    from detector.results import machine_kinds

    ids = set(case.posts_among(decided["post_id"])["post_id"])
    in_force = current_reviews(case.reviews())
    return checked_decisions(decided, ids, machine_kinds(case, decided["post_id"]),
                             dict(zip(in_force["post_id"], in_force["decision"], strict=True)), path)


def store_decisions(case, decided: pd.DataFrame, reviewer: str, path=None, at: datetime | None = None) -> int:
    """Append ``decided`` (:func:`read_review_file`'s columns) to ``case``'s reviews by ``reviewer``,
    after :func:`case_checked_decisions` (which names ``path`` and the line of a bad row: then
    nothing is stored by this call; the caller's transaction keeps a whole file all or none). Each
    row's ``kind`` is what the stored analysis's classifier called the post. Returns rows stored."""
    if decided.empty:
        return 0
    checked = case_checked_decisions(case, decided, path)
    n = 0
    for decision, rows in checked.groupby("decision", sort=True):
        n += case.add_reviews(review_rows(rows["post_id"], decision, reviewer, kinds=rows["kind"],
                                          notes=rows.get("note"), translations=rows.get("translation"), at=at))
    return n


# -- the review file (for people without the app) ----------------------------------------------
REVIEW_FILE_COLUMNS = ("decision", "note", "translation", "campaign_id", "post_id", "kind", "p_call", "review",
                       "reviewer", "chat_title", "posted_at", "targets", "text")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return ""
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    # a cell that starts like a formula would run as one in a spreadsheet: keep it text
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_review_file(queue: pd.DataFrame, path) -> int:
    """Write the review queue (:func:`detector.results.review_queue`) as a CSV to fill in.

    The analyst fills ``decision`` (confirm, reject, call, boast, clear or blank to skip) and optionally
    ``note`` and ``translation``; the other columns are there to read. Returns rows written.
    """
    import csv
    from pathlib import Path

    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(REVIEW_FILE_COLUMNS)
        for row in queue.itertuples(index=False):
            r = row._asdict()
            r["decision"] = ""
            r["note"], r["translation"] = r.get("review_note"), r.get("translation")
            p_call = r.get("p_call")
            r["p_call"] = None if p_call is None or pd.isna(p_call) else f"{float(p_call):.2f}"
            writer.writerow([_cell(r.get(c)) for c in REVIEW_FILE_COLUMNS])
    return len(queue)


def read_review_file(path) -> pd.DataFrame:
    """The decisions filled in a review file: ``post_id, decision, note, translation, kind, line``
    (``kind`` as the file says, ``line`` the row's line in the file), one per row.

    Rows with a blank decision are skipped. Raises DetectorError naming the file and line for a
    missing column, an unknown decision or a post given two different decisions.
    """
    import csv
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DetectorError("no such review file", path) from None
    except UnicodeDecodeError:
        raise DetectorError("the review file is not UTF-8 text", path, hint="save it as CSV UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    missing = [c for c in ("post_id", "decision") if c not in header]
    if missing:
        raise DetectorError(f"the review file has no {' and no '.join(missing)} column", path, 1,
                            hint="export one with: detector review export")

    def cell(raw: dict, name: str) -> str | None:
        value = (raw.get(header.get(name, name)) or "").strip()
        if value.startswith("'") and value[1:].startswith(_FORMULA_START):
            value = value[1:]
        return value or None

    rows, seen = [], {}
    for raw in reader:
        line = reader.line_num
        try:
            decision = parse_decision(cell(raw, "decision"))
        except DetectorError as exc:
            raise DetectorError(exc.message, path, line) from None
        if decision is None:
            continue
        post_id = cell(raw, "post_id")
        if not post_id:
            raise DetectorError("a decision without a post_id", path, line)
        if seen.get(post_id, decision) != decision:
            raise DetectorError(f"post {post_id} is given two different decisions", path, line)
        seen[post_id] = decision
        rows.append({"post_id": post_id, "decision": decision, "note": cell(raw, "note"),
                     "translation": cell(raw, "translation"), "kind": cell(raw, "kind"), "line": line})
    return pd.DataFrame(rows, columns=["post_id", "decision", "note", "translation", "kind", "line"])
