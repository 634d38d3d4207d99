"""``detector dsa ...``: the shell over :mod:`detector.dsa` (download, convert, analyze, context)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detector.errors import DetectorError

err_console = Console(stderr=True, highlight=False)
console = Console(highlight=False)


def _bar(*extra) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), *extra, TimeElapsedColumn(),
                    console=err_console, transient=True)


@click.group()
def dsa() -> None:
    """EU DSA Transparency Database: platform-wide statements of reasons, on DuckDB or Spark."""


@dsa.command("download")
@click.option("--platform", required=True, help="Platform name or slug (youtube, tiktok, ...) or 'global'.")
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day (YYYY-MM-DD).")
@click.option("--full", is_flag=True, help="The full layout (with free-text columns) instead of the light one.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("data/dsa/zips"),
              show_default=True, help="Folder for the zips and their .sha1 files.")
@click.option("--base-url", help="Where the dumps are served (default: $DETECTOR_DSA_BASE_URL or the "
                                 "database's bucket).")
def download_cmd(platform: str, start: str, end: str, full: bool, out: Path, base_url: str | None) -> None:
    """Fetch daily dump zips, resuming partial files, and check each against its .sha1."""
    from detector.dsa.download import download

    with _bar(DownloadColumn()) as bar:
        tasks: dict[str, int] = {}

        def on_bytes(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        got = download(platform, start, end, out, full=full, base=base_url, on_bytes=on_bytes)
    for d in got:
        state = "already there, checksum ok" if d.fetched_bytes == 0 else f"{d.fetched_bytes} bytes, checksum ok"
        console.print(f"{d.path.name}: {state} (sha1 {d.sha1})")


@dsa.command("convert")
@click.argument("dumps", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("data/dsa/parquet"),
              show_default=True, help="Parquet dataset folder (hive-partitioned by day and platform).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Dumps converted at once, one process each (0: one per core). The output is the same.")
def convert_cmd(dumps: tuple[Path, ...], out: Path, workers: int) -> None:
    """Convert daily dump zips (or folders of them) to typed Parquet, streaming, nothing extracted."""
    from detector.dsa.convert import convert, convert_dump, count_inner
    from detector.params import worker_count

    files = []
    for p in dumps:
        files += sorted(p.glob("sor-*.zip")) if p.is_dir() else [p]
    if not files:
        raise DetectorError("no dump zips (sor-*.zip) found", path=dumps[0])
    out.mkdir(parents=True, exist_ok=True)
    workers = min(worker_count(workers), len(files))
    if workers == 1:
        reports = []
        with _bar(TextColumn("{task.completed}/{task.total} parts")) as bar:
            for f in files:
                task = bar.add_task(f.name, total=count_inner(f))
                reports.append(convert_dump(f, out, on_part=lambda _p, task=task: bar.advance(task)))
    else:
        with _bar(TextColumn("{task.completed}/{task.total} dumps")) as bar:
            task = bar.add_task(f"converting ({workers} processes)", total=len(files))
            reports = convert(files, out, workers=workers, on_dump=lambda _r: bar.advance(task)).dumps
    table = Table("dump", "sha1", "layout", "rows", "bad rows")
    for r in reports:
        table.add_row(r.name, r.sha1[:12], ",".join(r.layouts), str(r.rows), str(r.bad_rows))
    console.print(table)
    for r in reports:
        for reason, n in sorted(r.bad_reasons.items()):
            console.print(f"{r.name}: {n} row(s) rejected: {reason} (kept in {out.name}/_rejects/)")


@dsa.command("analyze")
@click.option("--data", default="data/dsa/parquet", show_default=True,
              help="The converted Parquet dataset (a local folder; with --engine spark also s3a:// etc.).")
@click.option("--platform", help="Only this platform (slug, e.g. youtube).")
@click.option("--from", "start", help="First application day (YYYY-MM-DD).")
@click.option("--to", "end", help="Last application day (YYYY-MM-DD).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--spark-master", help="Spark master URL (default local[*]); SPARK_REMOTE selects Spark Connect.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--replicates", type=int, default=999, show_default=True, help="Monte Carlo replicates per stream.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write counts, scans, bursts and content-age tables (CSV) and parameters (JSON) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the bursts as JSON.")
def analyze_cmd(data, platform, start, end, engine, spark_master, seed, replicates, out, as_json) -> None:
    """Daily counts per stream, bursts against each stream's own weekly cycle, notice vs own initiative."""
    from detector.dsa.analysis import analyze, make_engine
    from detector.dsa.params import DsaParameters

    params = DsaParameters(seed=seed, replicates=replicates)
    eng = make_engine(engine, data if engine == "spark" else Path(data), master=spark_master)
    with _bar(TextColumn("{task.completed}/{task.total}")) as bar:
        task = bar.add_task("aggregating", total=None)
        result = analyze(eng, platform, start, end, params,
                         on_step=lambda s: bar.update(task, description=s),
                         on_stream=lambda i, n: bar.update(task, completed=i, total=n))
    eng.close()
    if out:
        write_result(result, Path(out), Path(data) if engine == "duckdb" else None)
    if as_json:
        click.echo(result.bursts.to_json(orient="records", date_format="iso"))
        return
    console.print(f"{engine}: {int(result.counts['decisions'].sum())} decisions, {len(result.days)} days, "
                  f"{len(result.scans)} streams scanned, {len(result.bursts)} bursts (q <= {params.alpha})")
    table = Table("platform", "category", "source", "lang", "scope", "automated", "days", "observed", "expected",
                  "q", "notice share in/out")
    for _, b in result.bursts.iterrows():
        table.add_row(b["platform_name"], b["category"].replace("STATEMENT_CATEGORY_", ""),
                      b["source_type"].replace("SOURCE_", ""), b["content_language"], b["scope_key"],
                      b["automated_decision"].replace("AUTOMATED_DECISION_", ""), f"{b['start']}..{b['end']}",
                      str(b["observed"]), f"{b['expected']:.1f}", f"{b['q_value']:.2g}",
                      f"{b['notice_share_in']:.2f}/{b['notice_share_out']:.2f}")
    console.print(table)


def write_result(result, out: Path, data: Path | None) -> None:
    from detector.dsa.convert import dump_manifests

    out.mkdir(parents=True, exist_ok=True)
    result.counts.to_csv(out / "daily_counts.csv", index=False)
    result.scans.to_csv(out / "scans.csv", index=False)
    result.bursts.to_csv(out / "bursts.csv", index=False)
    result.lags.to_csv(out / "content_age.csv", index=False)
    dumps = [{"name": d["name"], "sha1": d["sha1"], "rows": d["rows"], "bad_rows": d["bad_rows"]}
             for d in dump_manifests(data)] if data else []
    (out / "analysis.json").write_text(json.dumps({"engine": result.engine, "parameters": result.params.as_dict(),
                                                   "days": [result.days[0], result.days[-1]] if result.days else [],
                                                   "dumps": dumps}, indent=1))


@dsa.command("simulate")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True, help="An analysed case.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the synthetic dump zips.")
@click.option("--rows-per-day", type=int, default=400, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def simulate_cmd(db: Path, out: Path, rows_per_day: int, seed: int) -> None:
    """SYNTHETIC platform data for a case: dumps in the real schema with a notice-driven wave on its bursts."""
    from detector.dsa.synth import synthetic_for_bursts
    from detector.results import case_bursts
    from detector.store import Case

    with Case.open(db, read_only=True) as case:
        bursts = case_bursts(case)
    paths = synthetic_for_bursts(bursts, out, rows_per_day, seed)
    console.print(f"{len(paths)} synthetic daily dumps in {out} (marked SYNTHETIC in decision_facts)")


@dsa.command("context")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True, help="An analysed case.")
@click.option("--data", default="data/dsa/parquet", show_default=True,
              help="The converted Parquet dataset (a local folder; with --engine spark also s3a:// etc.).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--spark-master", help="Spark master URL (default local[*]); SPARK_REMOTE selects Spark Connect.")
@click.option("--language", help="Only statements in this content language (e.g. EN).")
@click.option("--scope", help="Only this territorial scope key (EEA, EU, or country codes like DE).")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def context_cmd(db, data, engine, spark_master, language, scope, as_json) -> None:
    """What the platform did on the days of the case's bursts; stored in the case for its packets."""
    from detector.dsa.analysis import make_engine
    from detector.dsa.context import describe, platform_context
    from detector.results import case_bursts
    from detector.store import Case

    with Case.open(db, read_only=True) as case:
        bursts = case_bursts(case)
    if bursts.empty:
        raise DetectorError("the case has no significant burst to put in context", path=db)
    eng = make_engine(engine, data if engine == "spark" else Path(data), master=spark_master)
    with _bar(TextColumn("{task.completed}/{task.total} bursts")) as bar:
        task = bar.add_task("platform context", total=len(bursts))
        table = platform_context(eng, bursts, language=language, scope=scope,
                                 on_burst=lambda i, n: bar.update(task, completed=i))
    eng.close()
    with Case.open(db) as case, case.transaction():
        case.replace_table("platform_context", table)
    if as_json:
        click.echo(table.to_json(orient="records"))
        return
    for row in table.to_dict("records"):
        console.print(f"{row['burst_id']}: {describe(row)}")
    names = sorted({(d["name"], d["sha1"]) for ds_ in table["dumps"] for d in ds_})
    console.print(f"from {len(names)} dump file(s): " + ", ".join(f"{n} (sha1 {s[:12]})" for n, s in names[:5])
                  + (" ..." if len(names) > 5 else ""))
