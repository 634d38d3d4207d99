"""Ingest files into a case: find them, recognise their format, parse and write them.

Every file is parsed, and its rows staged (in bounded batches for formats that stream, see
:class:`detector.store.SourceWriter`), before anything reaches the case's tables; then all of
a command's rows are moved in one transaction: a bad file anywhere leaves the case exactly as
it was.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from detector import custody
from detector.collect import FORMATS, Format, Parsed, ReadOptions, detect_format, format_named
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, check_json_depth, check_rows, check_size
from detector.errors import DetectorError
from detector.originals import store_original
from detector.store import DEFAULT_DB, Case, SourceRecord, SourceWriter
from detector.timeutil import check_zone

CASE_FILE = "detector-case.json"
_NOT_INPUT = {CASE_FILE}


@dataclass
class CaseSettings:
    """Settings a folder carries in its ``detector-case.json`` (the zone of its local times)."""

    tz: str | None = None
    dayfirst: bool | None = None                # WhatsApp files whose dates read both ways
    export_date: date | None = None             # WhatsApp dates without a year count back from it
    aliases: tuple[tuple[str, str], ...] = ()   # (alias, canonical) target ids of one channel
    origin: str | None = None                   # the case file these settings came from


@dataclass
class PlannedFile:
    path: Path
    fmt: Format
    settings: CaseSettings


@dataclass
class FileResult:
    name: str
    kind: str
    rows: int
    status: str          # "added" or "already ingested"
    tz: str | None = None
    notes: list[str] = field(default_factory=list)   # what the reader inferred (years, calendars…)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (path relative to its folder, reason)
    zone_note: str | None = None
    aliases_added: int = 0
    originals_kept: int = 0           # original files copied into the case by this command
    originals_stored_bytes: int = 0   # their compressed size
    log_seq: int | None = None        # the custody log entry this command appended

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_case_settings(folder: Path) -> CaseSettings:
    """The settings in ``folder/detector-case.json``, if the file exists."""
    path = folder / CASE_FILE
    if not path.is_file():
        return CaseSettings()
    if path.stat().st_size > _CASE_FILE_BYTES:
        raise DetectorError(f"more than {_CASE_FILE_BYTES // 1024} KiB: not a case settings file", path, None,
                            'expected {"tz": "Asia/Almaty"}')
    raw = path.read_bytes()
    check_json_depth(raw, path, DEFAULT_LIMITS)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DetectorError(f"not valid JSON: {exc}", path, getattr(exc, "lineno", None),
                            'expected {"tz": "Asia/Almaty"}') from None
    if not isinstance(data, dict):
        raise DetectorError("expected a JSON object", path, 1, 'expected {"tz": "Asia/Almaty"}')
    tz = data.get("tz")
    if tz is not None:
        try:
            check_zone(str(tz))
        except DetectorError as exc:
            raise DetectorError(exc.message, path, None, exc.hint) from None
    dayfirst = data.get("dayfirst")
    return CaseSettings(tz=tz, dayfirst=dayfirst if isinstance(dayfirst, bool) else None,
                        export_date=_read_export_date(data.get("export_date"), path),
                        aliases=_read_aliases(data.get("aliases"), path),
                        origin=f"{folder.name}/{CASE_FILE}")


def _read_export_date(raw: object, path: Path) -> date | None:
    """``"export_date": "YYYY-MM-DD"`` from a case file."""
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise DetectorError(f"export_date {raw!r} is not a date", path, None,
                            'expected "export_date": "2014-06-30" (the day the chats were exported)') from None


def _read_aliases(raw: object, path: Path) -> tuple[tuple[str, str], ...]:
    """``{"@handle": "UC…"}`` from a case file, as canonical target pairs."""
    from detector.identity import channel_target

    if raw is None:
        return ()
    expected = 'expected "aliases": {"@handle": "UC…"}'
    if not isinstance(raw, dict):
        raise DetectorError("aliases must be a JSON object", path, None, expected)
    pairs = []
    for alias, canonical in raw.items():
        try:
            pairs.append((channel_target(str(alias)), channel_target(str(canonical))))
        except DetectorError as exc:
            raise DetectorError(f"alias {alias!r}: {exc.message}", path, None, expected) from None
    return tuple(pairs)


_CASE_FILE_BYTES = 1 << 20


def check_parsed(parsed: Parsed, path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """The door every file's rows pass: in range by ``limits`` (dates, text lengths, views; see
    :func:`detector.collect.limits.check_rows`), and not empty (:func:`check_not_empty`).
    Dates outside the plausible range would make the analysis allocate hourly bins across millennia.
    """
    check_rows(parsed.frames, path, limits)
    check_not_empty(parsed, parsed.rows, path)


def check_not_empty(parsed: Parsed, rows: int, path: Path) -> None:
    """Refuse a file that yields no row at all (a chat of service messages, a notice without
    URLs, an export whose message list is empty) rather than record it as a source that adds
    nothing: the user learns at once that it was not what they meant to ingest. ``rows``: how
    many the file gave (a streamed file's :class:`Parsed` holds none itself)."""
    if rows == 0:
        counts = [f"{key.replace('_', ' ')}: {n}" for key, n in parsed.detail.items()
                  if isinstance(n, int) and not isinstance(n, bool) and n and key != "messages"]
        why = f" ({', '.join(counts)})" if counts else ""
        raise DetectorError(f"nothing to ingest: the file holds no {_ROWS_OF.get(parsed.kind, 'rows')}{why}", path,
                            None, "check that this is the export you meant; an empty file adds nothing to a case")


_ROWS_OF = {"telegram_json": "messages", "whatsapp": "messages", "lumen": "notices with a URL or domain",
            "notice_email": "notices", "notices_csv": "notices", "views_csv": "view counts"}


def plan_files(paths: Iterable[str | Path], fmt_name: str | None = None
               ) -> tuple[list[PlannedFile], list[tuple[str, str]]]:
    """The files to ingest with their formats, and the files of folders that were skipped.

    A file named explicitly must be recognised (or ``fmt_name`` given); in a folder,
    unrecognised files are skipped and listed. A folder's ``detector-case.json`` applies to
    the files below it.
    """
    forced = format_named(fmt_name) if fmt_name else None
    planned: list[PlannedFile] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DetectorError("no such file or folder", path, hint="check the path")
        if path.is_file():
            fmt = forced or _detect(path)
            if fmt is None:
                raise DetectorError("unknown format: no collector recognises this file", path,
                                    hint="pass --format with one of: " + ", ".join(f.name for f in FORMATS))
            planned.append(PlannedFile(path, fmt, read_case_settings(path.parent)))
            continue
        settings_by_dir: dict[Path, CaseSettings] = {}
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or file.name in _NOT_INPUT:
                continue
            fmt = forced or _detect(file)
            if fmt is None:
                skipped.append((str(rel), "not a recognised format"))
                continue
            planned.append(PlannedFile(file, fmt, _settings_for(file.parent, path, settings_by_dir)))
    return planned, skipped


def _detect(path: Path) -> Format | None:
    if path.stat().st_size == 0:
        raise DetectorError("empty file", path, hint="expected a notices file, a chat export or a views CSV")
    return detect_format(path)


def _settings_for(folder: Path, root: Path, cache: dict[Path, CaseSettings]) -> CaseSettings:
    """The nearest case file's settings between ``folder`` and ``root`` (inclusive)."""
    if folder in cache:
        return cache[folder]
    settings = read_case_settings(folder)
    if (settings.tz is None and settings.dayfirst is None and settings.export_date is None and not settings.aliases
            and folder != root and root in folder.parents):
        settings = _settings_for(folder.parent, root, cache)
    cache[folder] = settings
    return settings


def ingest(paths: Iterable[str | Path], db: str | Path, fmt: str | None = None, tz: str | None = None,
           dayfirst: bool | None = None,
           on_progress: Callable[[int, int, str], None] | None = None, lock_wait: float | None = None,
           limits: ParseLimits = DEFAULT_LIMITS, operator: str | None = None) -> IngestReport:
    """Ingest ``paths`` (files or folders) into the case at ``db``; all or nothing.

    ``tz`` is the zone of phone-local or naive times. Without it, a folder's case file or the
    zone the case recorded earlier is used (and said so); a file that needs a zone and has
    none stops the whole command with an error naming ``--tz``. ``lock_wait``: seconds to wait
    while another command writes the case (:mod:`detector.caselock`). ``limits`` bound every
    file (:mod:`detector.collect.limits`); a file outside them stops the command, naming its row.

    In the same transaction, each new file's original bytes are kept in the case
    (:mod:`detector.originals`; also for a known file whose copy the case lacks) and one custody
    log entry records the command, ``operator`` (:func:`detector.custody.operator_name`) and every
    file with its hash, new or already ingested.
    """
    if tz:
        check_zone(tz)
    planned, skipped = plan_files(paths, fmt)
    report = IngestReport(skipped=skipped)
    with Case.open(db, command="ingest", wait=lock_wait) as case:
        case_tz = case.meta("tz")
        parsed: list[tuple[PlannedFile, str, Parsed | None, SourceWriter | None]] = []
        seen: set[str] = set()
        try:
            for i, item in enumerate(planned):
                if on_progress:
                    on_progress(i, len(planned), item.path.name)
                check_size(item.path, limits)
                sha = sha256_file(item.path)
                if sha in seen or case.has_source(sha):
                    parsed.append((item, sha, None, None))
                    continue
                seen.add(sha)
                zone = tz or item.settings.tz or case_tz
                options = ReadOptions(tz=zone, dayfirst=dayfirst if dayfirst is not None else item.settings.dayfirst,
                                      export_date=item.settings.export_date, limits=limits)
                writer = SourceWriter(case, sha[:16])
                parsed.append((item, sha, None, writer))
                result = _read_and_stage(writer, item, options)
                parsed[-1] = (item, sha, result, writer)
            if on_progress:
                on_progress(len(planned), len(planned), "")
            used_zones = {p.tz for _, _, p, _ in parsed if p is not None and p.tz}
            with case.transaction():
                _write(case, parsed, planned, report, tz, fmt, dayfirst, case_tz, used_zones, len(skipped), operator)
        finally:
            for *_, writer in parsed:
                if writer is not None:
                    writer.discard()
        if not tz and used_zones:
            origin = "the case" if case_tz and used_zones == {case_tz} else "the folder's " + CASE_FILE
            report.zone_note = f"local times read in {', '.join(sorted(used_zones))} (from {origin})"
    return report


def _write(case: Case, parsed: list, planned: list[PlannedFile], report: IngestReport, tz: str | None,
           fmt: str | None, dayfirst: bool | None, case_tz: str | None, used_zones: set[str], skipped: int,
           operator: str | None) -> None:
    """Everything one command writes, in its transaction: each new file's staged rows and
    ``sources`` row, the originals, aliases, the zone and the custody log entry."""
    logged, names = [], {}
    for item, sha, result, writer in parsed:
        if result is None:
            report.files.append(FileResult(item.path.name, item.fmt.name, 0, "already ingested"))
        else:
            source = SourceRecord(source_id=sha[:16], kind=result.kind or item.fmt.name, name=item.path.name,
                                  sha256=sha, rows=writer.received, tz=result.tz, detail=result.detail)
            added = writer.finish(source)
            report.files.append(FileResult(item.path.name, source.kind, added, "added", result.tz,
                                           list(result.detail.get("notes", []))))
        # A known file is copied too when the case lacks its copy (a case made before copies were kept).
        kept = store_original(case, item.path, sha)
        if kept:
            report.originals_kept += 1
            report.originals_stored_bytes += kept.stored_bytes
        f = report.files[-1]
        logged.append({"sha256": sha, "kind": f.kind, "rows_added": f.rows, "status": f.status,
                       "bytes": item.path.stat().st_size, "tz": f.tz, "original_kept": kept is not None})
        names[sha] = item.path.name
    for settings in {id(p.settings): p.settings for p in planned}.values():
        for alias, canonical in settings.aliases:
            report.aliases_added += case.add_alias(alias, canonical, settings.origin or CASE_FILE)
    if tz:
        case.set_meta("tz", tz)
    elif used_zones and not case_tz:
        case.set_meta("tz", sorted(used_zones)[0])
    if logged:
        options = {"format": fmt, "tz": tz, "dayfirst": dayfirst}
        report.log_seq = custody.append(case, "ingest", {
            "files": logged, "options": options, "aliases_added": report.aliases_added,
            "skipped": skipped}, operator, names).seq


def _read_and_stage(writer: SourceWriter, item: PlannedFile, options: ReadOptions) -> Parsed:
    """Parse one new file, its rows checked at the door and staged by ``writer``; return the
    reader's facts (``rows``: how many rows the file gave).

    A format that streams (``Format.stream``) has each batch checked and staged as it comes, so
    neither the file nor its rows sit whole in memory; a refusal anywhere stops the command
    before anything reaches the case's tables.
    """
    limits = options.limits
    rows = 0

    def stage(frames) -> None:
        nonlocal rows
        check_rows(frames, item.path, limits)
        rows += sum(len(f) for f in frames.values())
        writer.add(frames)

    try:
        if item.fmt.stream is not None:
            result = item.fmt.stream(item.path, options, stage)
        else:
            result = item.fmt.read(item.path, options)
            stage(result.frames)
            result.frames = {}
    except DetectorError as exc:
        if exc.path is None:
            exc.path = str(item.path)
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError, OverflowError,
            RecursionError, zipfile.BadZipFile, EOFError) as exc:
        # Input from adversaries: a shape no reader foresaw is still a refusal naming the file,
        # never a traceback, and nothing is written.
        raise DetectorError(f"cannot read this {item.fmt.name} file ({exc.__class__.__name__}: "
                            f"{str(exc)[:160]})", item.path, None,
                            "the file is damaged or not in the format its contents suggest") from None
    check_not_empty(result, rows, item.path)
    return result


def telethon_configured(environ=None) -> bool:
    """Whether the environment holds Telethon credentials (then collection uses them by default)."""
    from detector.collect.telethon_live import credentials_from_env

    try:
        credentials_from_env(environ)
    except DetectorError:
        return False
    return True


def collect_telegram(channels, since=None, db_path: str | Path = DEFAULT_DB, client_factory=None,
                     progress: bool = True, *, environ=None, sleep=None, web: bool | None = None,
                     preview_client=None, limit: int | None = None, max_pages_new: int | None = None,
                     lock_wait: float | None = None, operator: str | None = None):
    """Collect public Telegram channels into the case at ``db_path``, each from where the last run stopped.

    Two collectors, one ingest path. With ``web`` true (the default when the environment holds
    no Telethon credentials and no ``client_factory`` is given) the public preview ``t.me/s/…``
    is read (:mod:`detector.collect.telegram_web`, through ``preview_client``); otherwise
    Telethon (:func:`detector.collect.telethon_live.collect_channels`). Both only parse; this
    writes each channel's rows in one transaction with a ``sources`` row (kind ``telethon`` or
    ``telegram_web``; the web run also stores the pages its posts came from) and its resume
    point, which both collectors share. ``limit`` caps the new messages per channel (web only).
    Returns the ``CollectReport``.
    """
    import asyncio

    if web is None:
        web = client_factory is None and not telethon_configured(environ)
    with Case.open(db_path, command="collect", wait=lock_wait) as case:
        state = case.collect_state()
        if web:
            from detector.collect.telegram_web import collect_channels_web

            def save_web(parsed, result, pages) -> int:
                added = (case.add_web_collection(parsed, f"@{result.channel}", pages, operator=operator)
                         if parsed is not None else 0)
                if result.last_id > result.first_id:
                    case.set_collect_state(result.channel, result.last_id)
                return added

            return collect_channels_web(channels, since, state, save_web, preview_client, limit=limit,
                                        max_pages_new=max_pages_new)

        from detector.collect.telethon_live import collect_channels

        def save(parsed, result) -> int:
            added = (case.add_collection(parsed, name=f"@{result.channel}", operator=operator)
                     if parsed is not None else 0)
            if result.last_id > result.first_id:
                case.set_collect_state(result.channel, result.last_id)
            return added

        return collect_channels(channels, since, state, save, client_factory, progress, environ=environ,
                                sleep=sleep or asyncio.sleep)
