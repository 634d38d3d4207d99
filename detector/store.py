"""The case: one DuckDB file holding what was ingested and what analysis derived from it.

All writes of one ingest go through :meth:`Case.add_parsed` or a :class:`SourceWriter` (batch
by batch) inside a single transaction, so a command either adds all its rows or none. Rows are keyed (``notice_id``, ``post_id``) and a
file is keyed by its content SHA-256, so ingesting the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from detector import caselock
from detector.analysis_posts import FRAME_COLUMNS, AnalysisPosts, apart_writer, release_arrow_memory
from detector.collect.base import Parsed
from detector.errors import DetectorError
from detector.gc_pause import gc_paused
from detector.schema import INGESTED, KEYS, TABLES, conform, conform_derived

DEFAULT_DB = Path("data/case.duckdb")


def _ddl(table: str) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in TABLES[table].items())
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({cols})'


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Give a case written by an older version the columns declared since, at the end.

    Rows are inserted by position (:func:`_select_cast`), so a stored table must hold the
    declared columns in order: new columns are declared last and added here empty; any other
    difference is a case this version cannot write to.
    """
    stored = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                        "ORDER BY ordinal_position", [table]).fetchall()]
    declared = list(TABLES[table])
    if stored == declared:
        return
    if stored != declared[:len(stored)]:
        raise DetectorError(f"{path.name}: table {table} has columns {stored}, which this version cannot read",
                            hint=f"expected {declared}; analyse it with the version that wrote it")
    for col in declared[len(stored):]:
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{col}" {TABLES[table][col]}').fetchall()


def _select_cast(table: str, frame_name: str) -> str:
    cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in TABLES[table].items())
    return f"SELECT {cols} FROM {frame_name}"



def _wide(kind: pa.DataType) -> pa.DataType:
    """``kind`` with 64-bit offsets for text, bytes and lists, at every level."""
    if pa.types.is_string(kind):
        return pa.large_string()
    if pa.types.is_binary(kind):
        return pa.large_binary()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.large_list(kind.value_field.with_type(_wide(kind.value_type)))
    return kind


def _arrow_frame(table: pa.Table) -> pd.DataFrame:
    """DuckDB's Arrow result as the frame :func:`conform` makes Arrow-backed: text columns keep
    their Arrow buffers (pandas' ``str`` dtype), integers become nullable ``Int64``, lists Python
    lists. ``.df()`` gave every text a Python object and every list a NumPy array first, most of
    the read's time at 10^6 rows."""
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    types = {pa.string(): text, pa.large_string(): text, pa.int64(): pd.Int64Dtype()}
    lists = [c for c, t in zip(table.column_names, table.schema.types, strict=True) if pa.types.is_list(t)
             or pa.types.is_large_list(t)]
    out = table.drop_columns(lists).to_pandas(types_mapper=types.get)
    for col in lists:
        out[col] = pd.Series(table.column(col).to_pylist(), dtype=object, index=out.index)
    return out[table.column_names]


def _owned(column: pa.Array) -> pa.Array:
    """A copy of ``column`` in Arrow's own memory. DuckDB frees a record batch it streamed only
    when every column of it is gone, and a text column widened to 64-bit offsets still shares its
    characters: keeping a batch's columns as they came kept every batch whole, texts included,
    until the read ended (the posts table twice over, for 10^7 posts the read's peak)."""
    return pa.concat_arrays([column])


def _joined(schema: pa.Schema, chunks: dict[str, list]) -> pa.Table:
    """A table of ``schema`` from each column's chunks (emptied as it goes), each column in one
    piece: made column by column, so only one column is ever held twice, and taking rows of a
    column in many chunks costs a copy of the whole column per take. The chunks' pages go back
    to the system column by column (Arrow's pool kept them, and a column's chunks cannot hold
    the next, whole column: they piled up, ~0.25 GB per 10^6 rows)."""
    columns = {}
    for field in schema:
        columns[field.name] = (pa.concat_arrays(chunks.pop(field.name)) if chunks[field.name]
                               else pa.array([], field.type))
        release_arrow_memory()
    return pa.table(columns, schema=schema)


def _conformed_posts(table: pa.Table) -> pd.DataFrame:
    """Some of the posts' columns (those in ``table``: the ones kept in memory, or those read back
    from their file) as :meth:`Case.table` conforms them with ``arrow_text``."""
    with gc_paused():
        return conform(_arrow_frame(table), "posts", arrow_text=True, columns=table.column_names)


@dataclass(frozen=True)
class SourceRecord:
    """One ingested file or collection run, as stored in ``sources``."""

    source_id: str
    kind: str
    name: str
    sha256: str
    rows: int
    tz: str | None
    detail: dict


def _to_json(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value, default=str, ensure_ascii=False)


def content_sha256_of_frames(frames: dict[str, pd.DataFrame]) -> str:
    """A content hash for rows that did not come from a file (a live collection run)."""
    h = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        h.update(name.encode())
        h.update(frame.sort_index(axis=1).to_csv(index=False).encode("utf-8"))
    return h.hexdigest()


class Case:
    """A case file. Open with :meth:`Case.open` (a context manager)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool):
        self.con = con
        self.path = path
        self.read_only = read_only

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    @contextmanager
    def open(cls, path: str | Path = DEFAULT_DB, read_only: bool = False, *, command: str = "write",
             wait: float | None = None) -> Iterator[Case]:
        """Open the case at ``path``.

        Read-only: the last committed state, even while another process writes (see
        :mod:`detector.caselock`). Otherwise the caller is a writer named ``command`` ("ingest",
        "analyze", …): it takes the case lock, waiting up to ``wait`` seconds (default
        $DETECTOR_LOCK_WAIT or 60) for another writer, and publishes the readers' snapshot on exit.
        """
        path = Path(path)
        if read_only:
            if not path.exists():
                raise DetectorError(f"no case at {path.name}", hint="ingest files first: detector ingest PATH --db DB")
            con = caselock.connect_reader(path)
            try:
                con.execute("SET TimeZone = 'UTC'").fetchall()
                yield cls(con, path, read_only)
            finally:
                con.close()
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with caselock.case_lock(path, command, wait) as deadline:
            con = caselock.connect_writer(path, deadline)
            try:
                con.execute("SET TimeZone = 'UTC'").fetchall()
                for table in TABLES:
                    con.execute(_ddl(table)).fetchall()
                    _add_new_columns(con, table, path)
                for (left,) in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                           "starts_with(table_name, ?)", [STAGING]).fetchall():
                    con.execute(f'DROP TABLE "{left}"').fetchall()   # a killed ingest's staged rows
                yield cls(con, path, read_only)
            finally:
                caselock.close_and_publish(con, path)

    def cap_memory(self, limit: str) -> None:
        """Cap what DuckDB holds for this connection (``limit`` as DuckDB reads it, e.g. "256MB").
        Without a cap a scan keeps the blocks it read cached, up to 80 % of the machine's memory:
        ~310 MB for 10^6 posts, and the analysis reads each table once."""
        self.con.execute(f"SET memory_limit = '{limit}'").fetchall()

    # -- meta ------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        if not self.has_table("case_meta"):
            return None
        rows = self.con.execute("SELECT value FROM case_meta WHERE key = ?", [key]).fetchall()
        row = rows[0] if rows else None
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("DELETE FROM case_meta WHERE key = ?", [key]).fetchall()
        self.con.execute("INSERT INTO case_meta VALUES (?, ?)", [key, value]).fetchall()

    # -- reading ---------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
        row = rows[0] if rows else None
        return bool(row and row[0])

    def table(self, name: str, arrow_text: bool = False) -> pd.DataFrame:
        """A whole table as a DataFrame (schema tables conformed; derived tables as stored).

        ``arrow_text``: text columns Arrow-backed (:func:`detector.schema.conform`), as the
        analysis reads its inputs; otherwise Python strings.
        """
        if not self.has_table(name):
            return conform(pd.DataFrame(), name, arrow_text) if name in TABLES else pd.DataFrame()
        if arrow_text and name in TABLES:
            arrow = self._arrow_table(name)
            with gc_paused():
                return conform(_arrow_frame(arrow), name, arrow_text)
        df = self.con.execute(f'SELECT * FROM "{name}"').df()
        return conform(df, name, arrow_text) if name in TABLES else df

    def analysis_posts(self, folder: Path) -> AnalysisPosts:
        """The posts table as the analysis reads it (:mod:`detector.analysis_posts`): the columns
        every step reads in memory, conformed as :meth:`table` conforms them with ``arrow_text``,
        and the others (the texts among them) written to an Arrow file in ``folder`` as they are
        read, read back in batches. ``folder`` must outlive the reading of the batches (the caller
        removes it)."""
        if not self.has_table("posts"):
            return AnalysisPosts.of(conform(pd.DataFrame(), "posts", arrow_text=True))
        schema, batches = self._arrow_batches("posts")
        apart = pa.schema([field for field in schema if field.name not in FRAME_COLUMNS])
        kept = pa.schema([field for field in schema if field.name in FRAME_COLUMNS])
        chunks: dict[str, list] = {field.name: [] for field in kept}
        path = Path(folder) / "posts_apart.arrow"
        titles: set[str] = set()    # the chats' titles, which stay apart: forwards name their origin by title
        with apart_writer(path, apart) as write:
            for batch in batches:
                write(pa.record_batch([batch.column(name) for name in apart.names], schema=apart))
                for name in kept.names:
                    chunks[name].append(_owned(batch.column(name)))
                if "chat_title" in apart.names:
                    titles.update(t for t in pc.unique(batch.column("chat_title")).to_pylist() if t is not None)
        frame = _conformed_posts(_joined(kept, chunks))
        release_arrow_memory()
        chats = frozenset(titles) | frozenset(str(c) for c in pd.unique(frame["chat"].dropna()))
        return AnalysisPosts.apart(frame, path, _conformed_posts, chats)

    #: Rows fetched at a time when a table is read through Arrow.
    ARROW_BATCH_ROWS = 100_000

    def _arrow_table(self, name: str) -> pa.Table:
        """A stored table as an Arrow table built from batches: DuckDB streams the rows, so only a
        batch of its own result is held at once (``.df()`` materialised the whole result inside
        DuckDB and then converted it: at 10^6 posts of ~240 characters that read peaked ~1.2 GB
        higher), and each column ends in one chunk."""
        schema, batches = self._arrow_batches(name)
        chunks: dict[str, list] = {field.name: [] for field in schema}
        for batch in batches:
            for col, column in zip(schema.names, batch.columns, strict=True):
                chunks[col].append(_owned(column))
        return _joined(schema, chunks)

    def _arrow_batches(self, name: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """A stored table's rows as DuckDB streams them, in record batches of
        :attr:`ARROW_BATCH_ROWS` rows, with text, bytes and list columns widened to 64-bit
        offsets (the schema, and the batches in it)."""
        reader = self.con.sql(f'SELECT * FROM "{name}"').to_arrow_reader(self.ARROW_BATCH_ROWS)
        # 64-bit offsets: a text column of 10^7 posts holds more than the 2 GiB that 32-bit ones
        # address, so joining its batches would overflow (pandas keeps Arrow text as large_string
        # anyway, so the frame is the same).
        schema = pa.schema([field.with_type(_wide(field.type)) for field in reader.schema])

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                yield pa.record_batch([column if column.type == field.type else column.cast(field.type)
                                       for field, column in zip(schema, batch.columns, strict=True)], schema=schema)
        return schema, batches()

    def posts_among(self, post_ids, columns=("post_id",)) -> pd.DataFrame:
        """``columns`` of the posts whose ids are among ``post_ids`` (ids not in the case drop out);
        the other posts are not read."""
        cols = ", ".join(f'"{c}"' for c in columns)
        return self.query(f"SELECT {cols} FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[]))",
                          [sorted({str(p) for p in post_ids})])

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def has_source(self, sha256: str) -> bool:
        rows = self.con.execute("SELECT count(*) FROM sources WHERE sha256 = ?", [sha256]).fetchall()
        row = rows[0] if rows else None
        return bool(row[0])

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("sources", *INGESTED, "calls", "bursts", "links", "clusters", "campaigns", "findings"):
            if self.has_table(table):
                out[table] = self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
        return out

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        else:
            self.con.execute("COMMIT").fetchall()

    def _insert_new(self, table: str, frame: pd.DataFrame) -> int:
        """Insert the rows of ``frame`` whose key is not stored yet; return how many."""
        if frame.empty:
            return 0
        frame = conform(frame, table)
        key = KEYS.get(table)
        if key:
            frame = frame.drop_duplicates(subset=[key], keep="first")
        self.con.register("incoming", frame)
        try:
            before = self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            select = _select_cast(table, "incoming")
            if key:
                select += f' WHERE "{key}" NOT IN (SELECT "{key}" FROM "{table}")'
            self.con.execute(f'INSERT INTO "{table}" {select}').fetchall()
            after = self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
        finally:
            self.con.unregister("incoming")
        return after - before

    def add_parsed(self, parsed: Parsed, source: SourceRecord) -> int:
        """Add one parsed file's rows with its ``sources`` row; the caller holds the transaction.

        Every row gets ``source_id``. Returns the number of rows added (0 for a known file).
        """
        if self.has_source(source.sha256):
            return 0
        added = 0
        for table, frame in parsed.frames.items():
            if table not in INGESTED:
                raise DetectorError(f"a collector returned rows for {table!r}, which is not ingestible")
            frame = frame.copy()
            frame["source_id"] = source.source_id
            added += self._insert_new(table, frame)
        self._add_source_row(source, added)
        return added

    def _add_source_row(self, source: SourceRecord, added: int) -> None:
        row = pd.DataFrame([{
            "source_id": source.source_id, "kind": source.kind, "name": source.name,
            "sha256": source.sha256, "ingested_at": datetime.now(UTC), "rows": added,
            "tz": source.tz, "detail": json.dumps(source.detail, sort_keys=True, default=str),
        }])
        self._insert_new("sources", row)

    def replace_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace a derived table (calls, bursts, …) with ``frame``.

        Columns holding lists or dicts are stored as JSON text (and decoded by :meth:`derived`),
        so an empty list never leaves DuckDB guessing a column's type.
        """
        if name in TABLES:
            raise DetectorError(f"{name} holds ingested rows and cannot be replaced")
        frame = conform_derived(frame, name)
        json_cols = [c for c in frame.columns if frame[c].dtype == object
                     and frame[c].map(lambda v: isinstance(v, list | tuple | dict | np.ndarray)).any()]
        for col in json_cols:
            frame[col] = frame[col].map(_to_json)
        for col in frame.columns:
            if frame[col].dtype == object or str(frame[col].dtype) in ("str", "string"):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        self.con.register("derived", frame)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM derived').fetchall()
        finally:
            self.con.unregister("derived")
        self.set_meta(f"json_columns:{name}", json.dumps(json_cols))

    def derived(self, name: str) -> pd.DataFrame:
        """A derived table with its JSON columns decoded (empty DataFrame if never analysed)."""
        if not self.has_table(name):
            return pd.DataFrame()
        frame = self.con.execute(f'SELECT * FROM "{name}"').df()
        for col in json.loads(self.meta(f"json_columns:{name}") or "[]"):
            if col in frame.columns:
                frame[col] = frame[col].map(lambda v: json.loads(v) if isinstance(v, str) else v)
        return frame

    def analysed(self) -> bool:
        return self.meta("analysis") is not None

    def analysis_record(self) -> dict:
        """What the stored analysis recorded about itself (empty when the case was never analysed)."""
        raw = self.meta("analysis")
        return json.loads(raw) if raw else {}

    def analysis_parameters(self):
        """The :class:`~detector.params.Parameters` the stored analysis ran with (defaults for an
        analysis made before parameters were recorded)."""
        from detector.params import Parameters

        return Parameters.from_dict(self.analysis_record().get("parameters"))

    def inputs_seen(self) -> dict:
        """What an analysis reads beyond its parameters: the ingested sources and the channel aliases."""
        sources = [r[0] for r in self.con.execute("SELECT source_id FROM sources ORDER BY source_id").fetchall()]
        aliases = [f"{a}={c}" for a, c in self.con.execute(
            "SELECT alias, canonical FROM aliases ORDER BY alias, canonical").fetchall()] if self.has_table("aliases") else []
        from detector.review import reviews_digest

        return {"sources": sources, "aliases": aliases, "reviews": reviews_digest(self.reviews())}

    def stale_reason(self) -> str | None:
        """Why the stored analysis no longer matches the case's inputs, or None when it does.

        An analysis records the sources and aliases it saw (:meth:`inputs_seen`); files ingested
        or aliases changed after it make its results stale until ``detector analyze`` runs again.
        """
        raw = self.meta("analysis")
        if raw is None:
            return None
        seen = json.loads(raw).get("inputs")
        now = self.inputs_seen()
        if seen is None:
            return "these results were written by an older version that did not record its inputs"
        added = sorted(set(now["sources"]) - set(seen.get("sources", [])))
        removed = sorted(set(seen.get("sources", [])) - set(now["sources"]))
        parts = []
        if added:
            parts.append(f"{len(added)} source file{'s' if len(added) != 1 else ''} ingested after the analysis")
        if removed:
            parts.append(f"{len(removed)} analysed source file{'s' if len(removed) != 1 else ''} no longer in the case")
        if sorted(now["aliases"]) != sorted(seen.get("aliases", [])):
            parts.append("channel aliases changed after the analysis")
        if sorted(now["reviews"]) != sorted(seen.get("reviews", [])):
            parts.append("posts were reviewed after the analysis")
        return "; ".join(parts) or None

    # -- channel aliases -------------------------------------------------------------------
    def aliases(self) -> pd.DataFrame:
        """The stored alias pairs (user and case files; notices' own pairs are derived at analysis)."""
        return self.table("aliases")

    def add_alias(self, alias: str, canonical: str, origin: str) -> bool:
        """Store that ``alias`` and ``canonical`` name one channel; False if already known."""
        known = self.con.execute("SELECT count(*) FROM aliases WHERE alias = ? AND canonical = ?",
                                 [alias, canonical]).fetchall()[0][0]
        if known:
            return False
        self.con.execute("INSERT INTO aliases VALUES (?, ?, ?, ?)",
                         [alias, canonical, origin, datetime.now(UTC)]).fetchall()
        return True

    def remove_alias(self, alias: str) -> int:
        """Forget every stored pair that has ``alias`` on either side; returns how many."""
        n = self.con.execute("SELECT count(*) FROM aliases WHERE alias = ? OR canonical = ?",
                             [alias, alias]).fetchall()[0][0]
        self.con.execute("DELETE FROM aliases WHERE alias = ? OR canonical = ?", [alias, alias]).fetchall()
        return int(n)

    # -- human review --------------------------------------------------------------------------
    def reviews(self) -> pd.DataFrame:
        """Every review decision ever stored, oldest first (:mod:`detector.review`)."""
        return self.table("reviews").sort_values("reviewed_at", kind="stable").reset_index(drop=True)

    def add_reviews(self, rows: pd.DataFrame) -> int:
        """Append review decisions (never updates or deletes one); unknown posts are an error."""
        if rows.empty:
            return 0
        unknown = sorted(set(rows["post_id"]) - set(self.posts_among(rows["post_id"])["post_id"]))
        if unknown:
            raise DetectorError(f"no post {unknown[0]!r} in this case ({len(unknown)} unknown post ids)", self.path)
        frame = conform(rows, "reviews")
        self.con.register("incoming_reviews", frame)
        try:
            self.con.execute(f'INSERT INTO reviews {_select_cast("reviews", "incoming_reviews")}').fetchall()
        finally:
            self.con.unregister("incoming_reviews")
        return len(frame)

    # -- web preview pages and watch alerts --------------------------------------------------
    def add_web_collection(self, parsed: Parsed | None, name: str, pages, operator: str | None = None) -> int:
        """Add one channel's preview posts and the pages they came from, in one transaction.

        ``pages``: :class:`~detector.collect.telegram_web.FetchedPage` objects; each is stored
        gzip-compressed with the SHA-256 of its raw bytes, once (a page already stored is not
        stored again). One custody log entry records the run (by ``operator``). Returns the posts added.
        """
        import gzip

        from detector import custody

        with self.transaction():
            added = 0
            source_id = None
            files, names = [], {}
            if parsed is not None:
                sha = content_sha256_of_frames(parsed.frames)
                source_id = sha[:16]
                source = SourceRecord(source_id=source_id, kind=parsed.kind, name=name, sha256=sha,
                                      rows=parsed.rows, tz=None, detail=parsed.detail)
                known = self.has_source(sha)
                added = self.add_parsed(parsed, source)
                files.append({"sha256": sha, "kind": source.kind, "rows_added": added,
                              "status": "already ingested" if known else "added", "original_kept": False})
                names[sha] = name
            new_pages = []
            for page in pages:
                known = self.con.execute("SELECT count(*) FROM web_pages WHERE sha256 = ?", [page.sha256]).fetchall()
                if known[0][0]:
                    continue
                self.con.execute("INSERT INTO web_pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    page.sha256, source_id, page.channel, page.url, page.status, page.fetched_at,
                    json.dumps(page.taken), "gzip", len(page.body), gzip.compress(page.body, mtime=0)]).fetchall()
                new_pages.append(page.sha256)
            if files or new_pages:
                custody.append(self, "collect", {"files": files, "pages_kept": new_pages}, operator, names)
        return added

    def web_page(self, sha256: str) -> bytes | None:
        """The raw bytes of a stored preview page (decompressed), or None."""
        import gzip

        rows = self.con.execute("SELECT encoding, content FROM web_pages WHERE sha256 = ?", [sha256]).fetchall()
        if not rows:
            return None
        encoding, content = rows[0]
        return gzip.decompress(content) if encoding == "gzip" else bytes(content)

    def add_alerts(self, alerts: pd.DataFrame) -> pd.DataFrame:
        """Append alerts whose ``alert_id`` is new (the log is never updated); return those added."""
        if alerts.empty:
            return alerts
        known = {r[0] for r in self.con.execute("SELECT alert_id FROM alerts").fetchall()}
        new = alerts[~alerts["alert_id"].isin(known)].drop_duplicates("alert_id")
        if len(new):
            frame = conform(new, "alerts")
            self.con.register("incoming_alerts", frame)
            try:
                self.con.execute(f"INSERT INTO alerts {_select_cast('alerts', 'incoming_alerts')}").fetchall()
            finally:
                self.con.unregister("incoming_alerts")
        return new.reset_index(drop=True)

    # -- live collection -------------------------------------------------------------------
    def collect_state(self) -> dict[str, int]:
        """Channel username (lower case) -> last collected message id."""
        rows = self.con.execute("SELECT channel, last_message_id FROM collect_state").fetchall()
        return {ch: int(mid) for ch, mid in rows}

    def set_collect_state(self, channel: str, last_id: int) -> None:
        channel = channel.lower()
        self.con.execute("DELETE FROM collect_state WHERE channel = ?", [channel]).fetchall()
        self.con.execute("INSERT INTO collect_state VALUES (?, ?, ?)", [channel, int(last_id), datetime.now(UTC)]).fetchall()

    def add_collection(self, parsed: Parsed, name: str, operator: str | None = None) -> int:
        """Add the posts of one live collection run in one transaction, with its custody log entry;
        return rows added. A live run has no original file to keep: its rows are the record."""
        from detector import custody

        sha = content_sha256_of_frames(parsed.frames)
        source = SourceRecord(source_id=sha[:16], kind=parsed.kind or "telethon", name=name, sha256=sha,
                              rows=parsed.rows, tz=None, detail=parsed.detail)
        with self.transaction():
            known = self.has_source(sha)
            added = self.add_parsed(parsed, source)
            custody.append(self, "collect", {"files": [{
                "sha256": sha, "kind": source.kind, "rows_added": added,
                "status": "already ingested" if known else "added", "original_kept": False}]},
                operator, {sha: name})
            return added


STAGING = "_staging_"   # prefix of the tables a SourceWriter stages batches in


class SourceWriter:
    """The rows of one file staged batch by batch, then moved with its ``sources`` row at once.

    Each batch is committed to a staging table of its own (``_staging_<source>_<table>``) as it
    comes, outside the command's transaction: DuckDB keeps a transaction's new rows in memory
    (about 1 KB a post: 1.1 GB for 10^6), while committed ones go to disk. :meth:`finish`,
    inside the command's transaction, moves them into the table in one statement (which DuckDB
    writes to disk as it goes) with the rows whose key another source already stored left out,
    as :meth:`Case.add_parsed` does, and drops the staging table. :meth:`discard` drops it on
    failure; a writer that never got to either (a killed process) leaves tables that the next
    writer's :meth:`Case.open` drops. Batches must not repeat a key among themselves
    (``Format.stream`` promises it; one batch is deduplicated here).
    """

    def __init__(self, case: Case, source_id: str):
        self.case, self.source_id = case, source_id
        self.staged: dict[str, str] = {}    # table -> its staging table
        self.received = 0                   # rows handed to add

    def add(self, frames: dict[str, pd.DataFrame]) -> None:
        con = self.case.con
        for table, frame in frames.items():
            if table not in INGESTED:
                raise DetectorError(f"a collector returned rows for {table!r}, which is not ingestible")
            if frame.empty:
                continue
            self.received += len(frame)
            frame = frame.copy()
            frame["source_id"] = self.source_id
            frame = conform(frame, table)
            if KEYS.get(table):
                frame = frame.drop_duplicates(subset=[KEYS[table]], keep="first")
            staging = self.staged.get(table)
            if staging is None:
                staging = self.staged[table] = f"{STAGING}{self.source_id}_{table}"
                con.execute(f'CREATE OR REPLACE TABLE "{staging}" AS SELECT * FROM "{table}" LIMIT 0').fetchall()
            con.register("incoming", frame)
            try:
                con.execute(f'INSERT INTO "{staging}" {_select_cast(table, "incoming")}').fetchall()
            finally:
                con.unregister("incoming")

    def finish(self, source: SourceRecord) -> int:
        """Move the staged rows and add the ``sources`` row (its ``rows``: the rows added); the
        caller holds the transaction. Returns the rows added."""
        con, added = self.case.con, 0
        for table, staging in self.staged.items():
            key = KEYS.get(table)
            before = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            where = f' WHERE "{key}" NOT IN (SELECT "{key}" FROM "{table}")' if key else ""
            con.execute(f'INSERT INTO "{table}" SELECT * FROM "{staging}"{where}').fetchall()
            added += con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] - before
            con.execute(f'DROP TABLE "{staging}"').fetchall()
        self.staged = {}
        self.case._add_source_row(source, added)
        return added

    def discard(self) -> None:
        """Drop the staged rows (outside any transaction)."""
        for staging in self.staged.values():
            self.case.con.execute(f'DROP TABLE IF EXISTS "{staging}"').fetchall()
        self.staged = {}
