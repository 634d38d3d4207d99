"""Scale of the DSA platform-data pipeline: convert throughput, analysis time and peak memory.

Synthetic daily dumps in the database's real schema and nesting (detector.dsa.synth: the full
38-column layout, zips of .csv.zip parts of 100 000 rows), then, each in a fresh process whose
whole process tree (the JVM included) is sampled for resident memory and CPU seconds every 0.2 s:

1. ``detector.dsa.convert`` of every dump (streaming; ``--workers`` dumps at once, one process each);
2. the analysis (daily counts, content-age histogram, bursts) on DuckDB;
3. the same on Spark ``local[*]`` (session start-up reported separately).

Usage::

    nice -n 10 .venv/bin/python bench/dsa.py --rows 1000000 --days 10 --work /tmp/dsa-bench
    nice -n 10 .venv/bin/python bench/dsa.py --rows 10000000 --days 10 --work /tmp/dsa-bench
    nice -n 10 .venv/bin/python bench/dsa.py --rows 100000000 --days 100 --work /tmp/dsa-bench

Appends one JSON line per run to ``bench/results/dsa.jsonl`` and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


class TreeSampler:
    """Peak resident memory and CPU seconds (user + system) of a process tree, sampled every 0.2 s.

    CPU seconds are summed per process from its last sample, so a process that lives less than
    0.2 s may be missed; they are the load-independent figure on a shared machine (wall time
    is not).
    """

    def __init__(self, proc: psutil.Process):
        self.proc, self.peak, self.cpu = proc, 0, {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        rss = 0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                self.cpu[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self.done.is_set():
            self._sample()
            time.sleep(0.2)

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        return {"peak_rss_mb": round(self.peak / 2**20, 1), "cpu_s": round(sum(self.cpu.values()), 1)}


def measured(args: list[str]) -> dict:
    """Run ``python bench/dsa.py --stage ...`` in a child; wall time, peak tree RSS, CPU and its JSON output."""
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    sampler = TreeSampler(psutil.Process(child.pid))
    out, _ = child.communicate()
    usage = sampler.stop()
    if child.returncode:
        raise SystemExit(f"stage {args} failed with {child.returncode}")
    return {"wall_s": round(time.perf_counter() - t0, 2), **usage, **json.loads(out.strip().splitlines()[-1])}


def stage(name: str, work: Path, workers: int = 1) -> dict:
    """Body of one measured stage (runs in the child)."""
    if name == "convert":
        from detector.dsa.convert import convert

        t = time.perf_counter()
        report = convert(sorted((work / "zips").glob("sor-*.zip")), work / "pq", workers=workers)
        return {"rows": report.rows, "bad_rows": report.bad_rows, "convert_s": round(time.perf_counter() - t, 2)}
    from detector.dsa.analysis import analyze, make_engine
    from detector.dsa.params import DsaParameters

    params = DsaParameters(replicates=199)
    t = time.perf_counter()
    if name == "spark":
        from detector.dsa.analysis import spark_session

        session = spark_session("local[*]")
        session.sparkContext.setLogLevel("ERROR")
        startup = time.perf_counter() - t
        engine = make_engine("spark", str(work / "pq"), session=session)
    else:
        startup = 0.0
        engine = make_engine("duckdb", work / "pq")
    t1 = time.perf_counter()
    result = analyze(engine, params=params)
    return {"startup_s": round(startup, 2), "analysis_s": round(time.perf_counter() - t1, 2),
            "decisions": int(result.counts["decisions"].sum()), "streams": len(result.scans),
            "bursts": len(result.bursts)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000, help="statements in total")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path("/tmp/dsa-bench"))
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--workers", type=int, default=2, help="processes for generating and converting dumps")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = a.work / f"rows-{a.rows}"
    if a.stage:
        print(json.dumps(stage(a.stage, work, a.workers)))
        return

    import pandas as pd

    from detector.dsa.synth import synthetic_dumps

    t = time.perf_counter()
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-07-01", periods=a.days)]
    sampler = TreeSampler(psutil.Process())
    if not (work / "zips").is_dir():
        synthetic_dumps(work / "zips", days, a.rows // a.days, seed=1, weekday_cycle=False, workers=a.workers)
    gen_s = time.perf_counter() - t
    gen_cpu = sampler.stop()["cpu_s"]
    zip_bytes = sum(p.stat().st_size for p in (work / "zips").glob("*.zip"))
    import shutil
    shutil.rmtree(work / "pq", ignore_errors=True)
    record = {"rows": a.rows, "days": a.days, "zip_mb": round(zip_bytes / 2**20, 1), "generate_s": round(gen_s, 1),
              "generate_cpu_s": gen_cpu,
              "load_before": os.getloadavg()[0], "workers": a.workers, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(record), flush=True)
    record["convert"] = measured(["--stage", "convert", "--rows", str(a.rows), "--work", str(a.work),
                                  "--workers", str(a.workers)])
    record["load_after_convert"] = os.getloadavg()[0]
    print(json.dumps(record["convert"]), flush=True)
    record["parquet_mb"] = round(sum(p.stat().st_size for p in (work / "pq").rglob("*.parquet")) / 2**20, 1)
    for engine in a.engines.split(","):
        record[engine] = measured(["--stage", engine, "--rows", str(a.rows), "--work", str(a.work)])
        record[f"load_after_{engine}"] = os.getloadavg()[0]
        print(json.dumps({engine: record[engine]}), flush=True)
    record["load_after"] = os.getloadavg()[0]
    out = ROOT / "bench" / "results" / "dsa.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
