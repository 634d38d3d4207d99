"""Daily dump zips (zips of zips of CSV parts) to hive-partitioned Parquet, read as a stream.

A daily dump ``sor-<platform>-<date>-<full|light>.zip`` holds zips
``sor-<platform>-<date>-<version>-<part>.csv.zip`` each holding CSV parts of up to 100 000 rows
(``DayArchiveService::$chunk``). Nothing is extracted to disk: the outer zip is read member by
member, an inner zip is opened from memory (or, when large, from the outer member itself, which
zipfile can seek), and each CSV part is parsed in blocks by pyarrow's streaming CSV reader.

Every row is typed into :data:`detector.dsa.schema.STATEMENTS_SCHEMA`, whatever the layout (full
38/37 or light 34/33 columns) or schema version. Rows that cannot be typed (wrong number of fields,
a date that is not a date, a value outside the database's lists) are counted, sampled in the
report and written with their raw text and reason to ``_rejects/``; none is dropped silently.

Output: ``OUT/day=YYYY-MM-DD/platform=<slug>/part-<dump>-<n>.parquet``, partitioned by the
decision's application day (UTC) and the platform (the slug the database itself uses in dump
names). Each row carries its dump file's name and SHA-1 and its part and row number; each file
also carries them in its key-value metadata. Re-converting a dump replaces its files (idempotent);
a dump that fails halfway leaves the output as it was (files are staged, then moved).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from detector.dsa.schema import (
    AUTOMATED_DECISIONS,
    BOOL_COLUMNS,
    CATEGORIES,
    EEA,
    EU27,
    FULL_COLUMNS,
    LAYOUTS,
    LIST_COLUMNS,
    SOURCE_TYPES,
    STATEMENTS_SCHEMA,
    TIMESTAMP_COLUMNS,
)
from detector.errors import DetectorError

# Inner zips up to this size are read into memory; larger ones are read through the outer member.
INNER_IN_MEMORY_BYTES = 512 * 1024 * 1024
# Flush buffered partitions to a file once this many rows wait in memory.
FLUSH_ROWS = 500_000
CSV_BLOCK_BYTES = 16 * 1024 * 1024
BAD_SAMPLES = 20

_LIST_CELL = r'^\[("[^"]*"(,\s*"[^"]*")*)?\]$'
_DUMP_NAME = re.compile(r"^sor-(?P<slug>.+)-(?P<date>\d{4}-\d{2}-\d{2})-(?P<version>full|light)(?:-.*)?\.(zip|csv)$")


@dataclass
class DumpReport:
    """What one dump file gave: rows written, rows rejected and why, where they went."""

    name: str
    sha1: str
    layouts: list[str] = field(default_factory=list)
    parts: int = 0
    rows: int = 0
    bad_rows: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)
    bad_samples: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"name": self.name, "sha1": self.sha1, "layouts": self.layouts, "parts": self.parts,
                "rows": self.rows, "bad_rows": self.bad_rows, "bad_reasons": self.bad_reasons,
                "bad_samples": self.bad_samples, "files": self.files}


@dataclass
class ConvertReport:
    dumps: list[DumpReport]

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.dumps)

    @property
    def bad_rows(self) -> int:
        return sum(d.bad_rows for d in self.dumps)


def sha1_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def platform_slug(name: str) -> str:
    """The slug the database uses for a platform in dump names (Laravel's ``Str::slug``, ASCII)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "unknown"


def scope_key(raw: str | None) -> str | None:
    """One grouping key for a territorial scope list: "EEA", "EU", or the sorted country codes."""
    if raw is None:
        return None
    codes = set(re.findall(r'"([A-Z]{2})"', raw))
    if not codes:
        return "none"
    if codes == EEA:
        return "EEA"
    if codes == EU27:
        return "EU"
    return ",".join(sorted(codes))


# -- reading the nested zips ----------------------------------------------------------------------


def iter_csv_parts(dump: Path) -> Iterator[tuple[str, io.BufferedIOBase, int]]:
    """(part name, readable binary stream, inner-zip index) for every CSV part of a dump, in name order.

    Accepts the daily zip (zips of CSV parts), a zip of CSV files, or one CSV part zip.
    """
    try:
        outer = zipfile.ZipFile(dump)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DetectorError(f"not a readable zip: {exc}", path=dump,
                            hint="download it again (detector dsa download)") from None
    with outer:
        names = sorted(n for n in outer.namelist() if not n.endswith("/"))
        if not names:
            raise DetectorError("the zip holds no files", path=dump)
        for i, name in enumerate(names):
            if name.lower().endswith(".zip"):
                info = outer.getinfo(name)
                with outer.open(name) as member:
                    inner_src = io.BytesIO(member.read()) if info.file_size <= INNER_IN_MEMORY_BYTES else member
                    try:
                        inner = zipfile.ZipFile(inner_src)
                    except zipfile.BadZipFile:
                        raise DetectorError(f"inner member {name} is not a zip", path=dump) from None
                    with inner:
                        for part in sorted(n for n in inner.namelist() if n.lower().endswith(".csv")):
                            with inner.open(part) as stream:
                                yield part, stream, i
            elif name.lower().endswith(".csv"):
                with outer.open(name) as stream:
                    yield name, stream, i
            else:
                raise DetectorError(f"unexpected member {name} (expected .csv.zip or .csv parts)", path=dump)


def count_inner(dump: Path) -> int:
    """How many members (inner zips or CSV parts) a dump has, for progress bars."""
    try:
        with zipfile.ZipFile(dump) as z:
            return sum(1 for n in z.namelist() if not n.endswith("/"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DetectorError(f"not a readable zip: {exc}", path=dump,
                            hint="download it again (detector dsa download)") from None


# -- typing one block of raw strings --------------------------------------------------------------


def _nullify_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _timestamps(arr: pa.Array) -> pa.Array:
    full = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    day = pc.strptime(arr, format="%Y-%m-%d", unit="us", error_is_null=True)
    return pc.coalesce(full, day).cast(pa.timestamp("us", tz="UTC"))


def _lists(arr: pa.Array) -> pa.Array:
    inner = pc.replace_substring_regex(arr, pattern=r'^\[|\]$', replacement="")
    inner = pc.replace_substring_regex(inner, pattern=r'\s*,\s*', replacement=",")
    parts = pc.split_pattern(inner, pattern=",")
    flat = pc.replace_substring_regex(parts.flatten(), pattern=r'^"|"$', replacement="")
    out = pa.ListArray.from_arrays(parts.offsets, flat)
    # "[]" splits into [""]: an empty list.
    empty = pc.equal(inner, "")
    return pc.if_else(empty, pa.scalar([], pa.list_(pa.string())), out).cast(pa.list_(pa.string()))


def _list_column(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(list cells, mask of cells that are not JSON lists) for a column of raw list cells.

    Parsed once per distinct cell, then spread by index: list cells repeat massively (a few
    decision and content types, a few scopes), and the regexes dominated convert time otherwise.
    """
    enc = arr.dictionary_encode()
    values = enc.dictionary
    ok = pc.match_substring_regex(values, _LIST_CELL)
    typed = _lists(pc.if_else(ok, values, pa.scalar(None, pa.string())))
    return typed.take(enc.indices), pc.invert(ok).take(enc.indices)


def _by_unique(arr: pa.Array, fn: Callable[[str | None], str | None]) -> pa.Array:
    """``fn`` applied once per distinct value (cells repeat massively: scopes, platform names)."""
    enc = arr.dictionary_encode()
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], pa.string())
    return mapped.take(enc.indices)


def type_block(raw: pa.Table) -> tuple[pa.Table, pa.Array, pa.Array]:
    """Typed columns of a block of raw string cells, with a mask of rows that failed and why.

    Returns (typed table in FULL_COLUMNS order + derived keys, bad mask, reason per row).
    Columns absent from the layout (light dumps, older exports) are nulls.
    """
    n = raw.num_rows
    cols: dict[str, pa.Array] = {}
    reasons: list[tuple[str, pa.Array]] = []
    for col in FULL_COLUMNS:
        if col not in raw.column_names:
            cols[col] = pa.nulls(n, STATEMENTS_SCHEMA.field(col).type)
            continue
        arr = _nullify_empty(raw.column(col).combine_chunks())
        present = pc.is_valid(arr)
        if col in TIMESTAMP_COLUMNS:
            # Parsed once per distinct cell: dates repeat (one day's dump has at most 86 400 seconds).
            enc = arr.dictionary_encode()
            typed = _timestamps(enc.dictionary).take(enc.indices)
            reasons.append((f"{col}: not a date", pc.and_(present, pc.is_null(typed))))
        elif col in LIST_COLUMNS:
            typed, not_list = _list_column(arr)
            reasons.append((f"{col}: not a JSON list", pc.and_(present, not_list)))
        elif col in BOOL_COLUMNS:
            typed = pc.if_else(pc.equal(arr, "Yes"), True, pc.if_else(pc.equal(arr, "No"), False, None))
            reasons.append((f"{col}: not Yes/No", pc.and_(present, pc.is_null(typed))))
        else:
            typed = arr
        cols[col] = typed
    for col, allowed in (("source_type", SOURCE_TYPES), ("category", CATEGORIES),
                         ("automated_decision", AUTOMATED_DECISIONS)):
        if col in raw.column_names:
            ok = pc.is_in(cols[col], value_set=pa.array(allowed))
            reasons.append((f"{col}: not a known value", pc.and_(pc.is_valid(cols[col]), pc.invert(ok))))
    for col in ("uuid", "application_date", "platform_name", "source_type", "category"):
        reasons.append((f"{col}: missing", pc.is_null(cols[col])))

    bad = pa.array(np.zeros(n, dtype=bool))
    reason = pa.nulls(n, pa.string())
    for text, mask in reasons:
        mask = pc.fill_null(mask, False)
        reason = pc.if_else(pc.and_(mask, pc.is_null(reason)), pa.scalar(text), reason)
        bad = pc.or_(bad, mask)

    app_day = pc.cast(cols["application_date"], pa.date32())
    content_day = pc.cast(cols["content_date"], pa.date32())
    lag = pc.days_between(content_day, app_day).cast(pa.int32())
    scope_raw = (_nullify_empty(raw.column("territorial_scope").combine_chunks())
                 if "territorial_scope" in raw.column_names else pa.nulls(n, pa.string()))
    cols["application_day"] = app_day
    cols["content_lag_days"] = lag
    cols["scope_key"] = _by_unique(scope_raw, scope_key)
    cols["platform_slug"] = _by_unique(cols["platform_name"], lambda v: platform_slug(v) if v else None)
    return pa.table(cols), bad, reason


# -- the conversion -------------------------------------------------------------------------------


class _PartitionBuffer:
    """Typed rows waiting per (day, platform) partition, flushed to new files under ``stage``."""

    def __init__(self, stage: Path, dump_stem: str, meta: dict[bytes, bytes]):
        self.stage, self.dump_stem, self.meta = stage, dump_stem, meta
        self.tables: dict[tuple[str, str], list[pa.Table]] = {}
        self.waiting = 0
        self.seq = 0
        self.files: list[Path] = []

    def add(self, table: pa.Table) -> None:
        # One stable sort by (day, platform), then one slice per partition: a global dump spans
        # ~100 platforms and several days, and a filter per partition would rescan the block each time.
        keys = pa.table({"d": table.column("application_day"), "p": table.column("platform_slug")})
        groups = keys.group_by(["d", "p"], use_threads=False).aggregate([([], "count_all")])
        groups = groups.sort_by([("d", "ascending"), ("p", "ascending")])
        if groups.num_rows > 1:
            table = table.take(pc.sort_indices(keys, sort_keys=[("d", "ascending"), ("p", "ascending")]))
        lo = 0
        for d, p, n in zip(groups.column("d").cast(pa.string()).to_pylist(), groups.column("p").to_pylist(),
                           groups.column("count_all").to_pylist(), strict=True):
            self.tables.setdefault((d, p), []).append(table.slice(lo, n))
            lo += n
        self.waiting += table.num_rows
        if self.waiting >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for (d, p), parts in sorted(self.tables.items()):
            folder = self.stage / f"day={d}" / f"platform={p}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{self.dump_stem}-{self.seq:05d}.parquet"
            self.seq += 1
            table = pa.concat_tables(parts).replace_schema_metadata(self.meta)
            pq.write_table(table, path, compression="zstd", row_group_size=256_000)
            self.files.append(path)
        self.tables.clear()
        self.waiting = 0


def _read_part(stream, part: str, dump: Path, on_bad_line) -> tuple[pacsv.CSVStreamingReader, str]:
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=True),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_line),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(FULL_COLUMNS, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    header = tuple(reader.schema.names)
    for name, cols in LAYOUTS.items():
        if header == cols:
            return reader, name
    raise DetectorError(f"CSV part {part} has an unknown header ({len(header)} columns: "
                        f"{', '.join(header[:4])}, ...)", path=dump,
                        hint="expected the full (38/37 columns) or light (34/33 columns) statement layout")


def convert_dump(dump: Path, out: Path, on_part: Callable[[str], None] | None = None,
                 expected_sha1: str | None = None) -> DumpReport:
    """Convert one daily dump zip into ``out`` (see the module docstring). Returns its report."""
    dump = Path(dump)
    if not dump.is_file():
        raise DetectorError("no such dump file", path=dump)
    sha1 = sha1_of(dump)
    if expected_sha1 is None:
        sidecar = dump.with_name(dump.name + ".sha1")
        if sidecar.is_file():
            expected_sha1 = sidecar.read_text().split()[0].strip().lower() if sidecar.read_text().strip() else ""
    if expected_sha1 is not None and expected_sha1 != sha1:
        raise DetectorError(f"SHA-1 is {sha1}, its .sha1 file says {expected_sha1 or '(empty)'}", path=dump,
                            hint="the dump is damaged or was regenerated: download it and its .sha1 again")
    stem = dump.name.split(".")[0]
    report = DumpReport(name=dump.name, sha1=sha1)
    out = Path(out)
    stage = out / f".stage-{stem}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    meta = {b"dsa_dump_file": dump.name.encode(), b"dsa_dump_sha1": sha1.encode()}
    buffer = _PartitionBuffer(stage, stem, meta)
    rejects: list[pa.Table] = []
    try:
        for part, stream, _ in iter_csv_parts(dump):
            report.parts += 1
            parse_bad: list[dict] = []

            def on_bad_line(row, parse_bad=parse_bad, part=part):
                parse_bad.append({"part": part, "line": row.number, "reason":
                                  f"{row.actual_columns} fields, expected {row.expected_columns}",
                                  "text": (row.text or "")[:300]})
                return "skip"

            reader, layout = _read_part(stream, part, dump, on_bad_line)
            if layout not in report.layouts:
                report.layouts.append(layout)
            row0 = 0
            for batch in reader:
                raw = pa.Table.from_batches([batch])
                typed, bad, reason = type_block(raw)
                n = raw.num_rows
                rows = pa.array(range(row0 + 1, row0 + n + 1), pa.int64())
                row0 += n
                typed = typed.append_column("dump_file", pa.array([dump.name] * n, pa.string()))
                typed = typed.append_column("dump_sha1", pa.array([sha1] * n, pa.string()))
                typed = typed.append_column("dump_part", pa.array([part] * n, pa.string()))
                typed = typed.append_column("dump_row", rows)
                typed = typed.cast(STATEMENTS_SCHEMA)
                good = typed.filter(pc.invert(bad))
                if good.num_rows:
                    buffer.add(good)
                nbad = n - good.num_rows
                if nbad:
                    rej = raw.filter(bad).append_column("reason", reason.filter(bad))
                    rej = rej.append_column("dump_part", pa.array([part] * nbad, pa.string()))
                    rej = rej.append_column("dump_row", rows.filter(bad))
                    rejects.append(rej)
                    for r in rej.select(["dump_part", "dump_row", "reason"]).to_pylist():
                        report.bad_reasons[r["reason"]] = report.bad_reasons.get(r["reason"], 0) + 1
                        if len(report.bad_samples) < BAD_SAMPLES:
                            report.bad_samples.append({"part": r["dump_part"], "row": r["dump_row"],
                                                       "reason": r["reason"]})
                report.rows += good.num_rows
                report.bad_rows += nbad
            for b in parse_bad:
                report.bad_rows += 1
                report.bad_reasons[b["reason"]] = report.bad_reasons.get(b["reason"], 0) + 1
                if len(report.bad_samples) < BAD_SAMPLES:
                    report.bad_samples.append({"part": b["part"], "line": b["line"], "reason": b["reason"]})
                rejects.append(pa.table({"raw_line": [b["text"]], "reason": [b["reason"]],
                                         "dump_part": [b["part"]], "dump_row": pa.array([b["line"]], pa.int64())}))
            if on_part:
                on_part(part)
        buffer.flush()
        if rejects:
            rej_dir = stage / "_rejects"
            rej_dir.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.concat_tables(rejects, promote_options="permissive"),
                           rej_dir / f"{stem}.parquet")
        _publish(stage, out, stem, report)
    except pa.ArrowInvalid as exc:
        raise DetectorError(f"cannot read the CSV: {exc}", path=dump) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return report


def _publish(stage: Path, out: Path, stem: str, report: DumpReport) -> None:
    """Replace the dump's earlier files in ``out`` by the staged ones, then drop the stage."""
    for old in out.glob(f"day=*/platform=*/part-{stem}-*.parquet"):
        old.unlink()
    for old in (out / "_rejects" / f"{stem}.parquet",):
        old.unlink(missing_ok=True)
    for path in sorted(stage.rglob("*.parquet")):
        target = out / path.relative_to(stage)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        if not target.relative_to(out).parts[0].startswith("_"):
            report.files.append(str(target.relative_to(out)))
    manifest = out / "_dumps" / f"{stem}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(report.as_dict(), indent=1, sort_keys=True))
    shutil.rmtree(stage, ignore_errors=True)


def convert(dumps: list[Path], out: Path, on_part: Callable[[str], None] | None = None,
            workers: int = 1, on_dump: Callable[[DumpReport], None] | None = None) -> ConvertReport:
    """Convert several daily dumps into one Parquet dataset at ``out``.

    ``workers`` > 1 converts that many dumps at once, each in its own process (parsing and typing
    hold the GIL for part of the time, so threads would not scale). Every dump writes only its own
    files, named after it, so the output is the same whatever the number of workers. ``on_part`` is
    called per CSV part only when ``workers`` is 1; ``on_dump`` after each dump, in input order.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dumps = [Path(d) for d in dumps]
    if workers <= 1 or len(dumps) <= 1:
        reports = []
        for d in dumps:
            reports.append(convert_dump(d, out, on_part))
            if on_dump:
                on_dump(reports[-1])
        return ConvertReport(reports)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: children do not inherit the parent's pyarrow thread pools (fork would).
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(workers, len(dumps)), mp_context=ctx) as pool:
        futures = [pool.submit(convert_dump, d, out) for d in dumps]
        reports = []
        for fut in futures:
            reports.append(fut.result())
            if on_dump:
                on_dump(reports[-1])
    return ConvertReport(reports)


def dump_manifests(data: Path) -> list[dict]:
    """The converted dumps of a dataset (name, SHA-1, rows, bad rows), sorted by name."""
    return [json.loads(p.read_text()) for p in sorted(Path(data).glob("_dumps/*.json"))]


def parse_dump_name(name: str) -> dict | None:
    """``sor-youtube-2025-07-01-full.zip`` -> {slug, date, version}; None for other names."""
    m = _DUMP_NAME.match(name)
    return m.groupdict() if m else None
