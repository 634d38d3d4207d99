"""The read step and the calls step of ``detector analyze`` on a built case, two trees paired.

Each tree (``--code`` paths; this checkout when none) runs in its own child process, in the
order given, ``--repeats`` times alternating: the child reads the case's inputs as
``analyze_case`` does (``Case.table(..., arrow_text=True)``), then runs ``analyze_frames`` up
to the start of the copies step (the calls step: classification, reviews, the join to the posts,
boast confirmation) and stops. The fitted model is loaded (or fitted) before, untimed. Wall clock and CPU time (the child and its workers) per step;
the calls and boasts the step passes on are written to a file and compared across the trees.

    nice -n 10 .venv/bin/python bench/calls_step.py --db CASE.duckdb --code /tmp/main-src --code .

Build a case with ``bench/analyze.py`` (``build_case``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _Stop(Exception):
    pass


def child(db: str, out: str, workers: int) -> None:
    import detector.analysis as analysis
    from detector.features.calls import call_model
    from detector.params import DEFAULTS
    from detector.store import Case

    # The fitted model first, outside the timed steps: a tree whose feature code differs from the
    # cached model's refits it (seconds), which is not the step's own cost.
    seen = {"model": (time.perf_counter(), _cpu())}
    call_model()
    seen["read"] = (time.perf_counter(), _cpu())
    with Case.open(db, read_only=True) as case:
        notices, posts, exposure = (case.table(name, arrow_text=True) for name in ("notices", "posts", "exposure"))
        aliases, reviews = case.aliases(), case.reviews()
    seen["read_end"] = (time.perf_counter(), _cpu())
    kept = {}
    real_confirm = analysis.confirm_boasts

    def confirm(calls, horizon):   # what the calls step hands on: its calls and boasts
        kept["calls"] = real_confirm(calls, horizon)
        return kept["calls"]

    def step(name):
        seen[name] = (time.perf_counter(), _cpu())
        if name == "copies":
            raise _Stop

    analysis.confirm_boasts = confirm
    try:
        analysis.analyze_frames(notices, posts, exposure, params=DEFAULTS.replace(workers=workers), on_step=step,
                                aliases=aliases, reviews=reviews)
    except _Stop:
        pass
    calls = kept["calls"]
    calls = calls[calls["kind"] != "other"].reset_index(drop=True)
    calls.astype({c: object for c in calls.columns}).to_pickle(out + ".pkl")
    Path(out).write_text(json.dumps({
        "model_seconds": seen["read"][0] - seen["model"][0], "model_cpu": seen["read"][1] - seen["model"][1],
        "read_seconds": seen["read_end"][0] - seen["read"][0], "read_cpu": seen["read_end"][1] - seen["read"][1],
        "calls_seconds": seen["copies"][0] - seen["calls"][0], "calls_cpu": seen["copies"][1] - seen["calls"][1],
        "calls": int((calls["kind"] == "call").sum()), "boasts": int((calls["kind"] == "boast").sum())}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--code", action="append", type=Path, help="checkout whose detector a child runs")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="the workers parameter (0: one per core)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "calls_step.json")
    args = parser.parse_args()
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return
    codes = args.code or [ROOT]
    rows, frames = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for k, code in enumerate(codes if rep % 2 == 0 else codes[::-1]):
                out = str(Path(tmp) / f"{k}-{rep}.json")
                load = os.getloadavg()
                env = {**os.environ, "PYTHONPATH": str(code.resolve())}
                subprocess.run([sys.executable, __file__, "--child", args.db, out, str(args.workers)], env=env,
                               check=True, cwd=code)
                row = {"code": str(code), "repeat": rep, **json.loads(Path(out).read_text()),
                       "load_before": [round(x, 2) for x in load], "load_after": [round(x, 2) for x in os.getloadavg()]}
                frames[str(code)] = pd.read_pickle(out + ".pkl")
                print(json.dumps(row), flush=True)
                rows.append(row)
        first = frames[str(codes[0])]
        same = {str(c): bool(frames[str(c)].equals(first)) for c in codes}
    result = {"db": args.db, "workers": args.workers, "runs": rows, "same_calls_as_first": same}
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(same))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
