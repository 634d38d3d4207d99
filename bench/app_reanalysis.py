"""How long the app takes to add the real Lumen sample to the analysed demo case (issue #15/#13).

``python bench/app_reanalysis.py [--repeats N]`` builds the analysed demo case in a temporary
folder (not timed), then, as the Add data page does, hands the files of
``../shared/samples/lumen`` to ``detector_app.ui.start_ingest_uploads`` and waits for the
background job: ingest of the uploads, then the whole re-analysis. It prints the wall and CPU
seconds from upload to "Done", the time of each step as the page shows it, and the load average;
``--out`` writes them as JSON. The app's process has already fitted (or read from its disk cache)
the call classifier when a user uploads, since it analysed the case before; the first run here
warms it the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _Upload:
    """What Streamlit's file uploader hands the page: a name and the bytes."""

    def __init__(self, path: Path):
        self.name, self._data = path.name, path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_once(base: Path, lumen: Path, work: Path) -> dict:
    from detector_app import ui

    db = work / "case.duckdb"
    shutil.copy(base, db)
    uploads = [_Upload(p) for p in sorted(lumen.rglob("*.json"))]
    load_before = _loadavg()
    steps: list[tuple[float, str]] = []
    t0, c0 = time.perf_counter(), time.process_time()
    job = ui.start_ingest_uploads(uploads, db, tz=None, dayfirst=None)
    last = None
    while job.running:
        if job.step != last:
            last = job.step
            steps.append((time.perf_counter() - t0, job.step))
        time.sleep(0.05)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if job.state != "done":
        raise SystemExit(f"the job failed: {job.error}")
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "files": len(uploads),
            "steps": [(round(t, 2), s) for t, s in steps], "load_before": load_before, "load_after": _loadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lumen", type=Path, default=ROOT.parent / "shared" / "samples" / "lumen")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from detector import analyze, ingest
    from detector.bundled import DEMO_DIR

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "demo.duckdb"
        ingest([DEMO_DIR], base)
        analyze(base)
        runs = []
        for i in range(args.repeats):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            runs.append(run_once(base, args.lumen, work))
            print(json.dumps(runs[-1]))
    result = {"runs": runs, "cpus": os.cpu_count()}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
