"""Detection accuracy on simulated incidents whose truth is known, through the real CLI.

For K seeds of each scenario family this runs, each in a fresh process and temp folder::

    detector simulate --out DIR --seed S --scenario F
    detector ingest DIR --db DB
    detector analyze --db DB
    detector campaigns --db DB --json

and scores the ranking against DIR/truth.json:

- campaigns found: a true campaign is found when an *alarm* (tier strong or moderate) names
  at least half of the targets the campaign actually hit;
- alarm precision: alarms that name a hit target of some true campaign, over all alarms;
- organic bursts raised as alarms: organic bursts one of whose targets an alarm names;
- failed calls raised as strong: failed calls one of whose targets a strong campaign names;
- alarms per null case;
- calibration on null cases (no campaign anywhere): the share of ``p_link`` (every informative
  per-target test of the case — see :mod:`detector.features.linkage` — on targets named by
  calls and, as controls, by other posts) and ``p_burst``
  (every notice stream scanned) below 0.05 and 0.01, and the Kolmogorov–Smirnov distance of
  each set from the uniform distribution.

Nothing is faked: a case where analysis produced no campaigns scores as such.

    .venv/bin/python bench/accuracy.py --seeds 20          # the full run
    .venv/bin/python bench/accuracy.py --seeds 3 --jobs 2  # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
DETECTOR = str(Path(sys.executable).parent / "detector")
FAMILIES = ("campaign", "organic", "failed", "null", "mixed")
ALARM = ("strong", "moderate")


def _run(*args: str) -> str:
    proc = subprocess.run([DETECTOR, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"detector {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def run_case(family: str, seed: int) -> dict:
    """Simulate, ingest, analyse and read back one case; return what scoring needs."""
    with tempfile.TemporaryDirectory() as tmp:
        out, db = Path(tmp) / "case", Path(tmp) / "case.duckdb"
        t0 = time.perf_counter()
        _run("simulate", "--out", str(out), "--seed", str(seed), "--scenario", family)
        _run("ingest", str(out), "--db", str(db))
        t1 = time.perf_counter()
        _run("analyze", "--db", str(db), "--seed", str(seed))
        t2 = time.perf_counter()
        campaigns = json.loads(_run("campaigns", "--db", str(db), "--json"))
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        con = duckdb.connect(str(db), read_only=True)
        try:
            p_link = [r[0] for r in con.execute(
                "SELECT p_value FROM links WHERE p_value IS NOT NULL AND informative").fetchall()]
            p_burst = [r[0] for r in con.execute("SELECT p_burst FROM scans WHERE notices > 0").fetchall()]
        finally:
            con.close()
    return {"family": family, "seed": seed, "campaigns": campaigns, "truth": truth, "p_link": p_link,
            "p_burst": p_burst, "ingest_s": t1 - t0, "analyze_s": t2 - t1}


def score_case(case: dict) -> dict:
    truth, campaigns = case["truth"], case["campaigns"]
    alarms = [c for c in campaigns if c["tier"] in ALARM]
    strong = [c for c in campaigns if c["tier"] == "strong"]
    true_campaigns = truth.get("campaigns", [])
    hit_sets = [set(c.get("hit_targets") or c["targets"]) for c in true_campaigns]
    found = 0
    for hits in hit_sets:
        if any(len(hits & set(a["targets"])) >= max(1, len(hits) / 2) for a in alarms):
            found += 1
    all_hits = set().union(*hit_sets) if hit_sets else set()
    true_alarms = sum(1 for a in alarms if set(a["targets"]) & all_hits)
    organic = truth.get("organic_bursts", [])
    organic_alarmed = sum(1 for o in organic if any(set(o["targets"]) & set(a["targets"]) for a in alarms))
    failed = truth.get("failed_calls", [])
    failed_strong = sum(1 for f in failed if any(set(f["targets"]) & set(s["targets"]) for s in strong))
    return {"true_campaigns": len(true_campaigns), "found": found, "alarms": len(alarms),
            "true_alarms": true_alarms, "organic": len(organic), "organic_alarmed": organic_alarmed,
            "failed": len(failed), "failed_strong": failed_strong}


def calibration(values: list[float]) -> dict:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return {"n": 0}
    return {"n": int(v.size), "below_0.05": float((v < 0.05).mean()), "below_0.01": float((v < 0.01).mean()),
            "ks": float(stats.kstest(v, "uniform").statistic)}


def summarise(results: list[dict]) -> dict:
    per_family = {}
    for family in FAMILIES:
        rows = [r for r in results if r["family"] == family]
        if not rows:
            continue
        s = [score_case(r) for r in rows]
        tot = {k: sum(x[k] for x in s) for k in s[0]}
        per_family[family] = {
            "cases": len(rows), **tot,
            "found_share": tot["found"] / tot["true_campaigns"] if tot["true_campaigns"] else None,
            "alarm_precision": tot["true_alarms"] / tot["alarms"] if tot["alarms"] else None,
            "analyze_s_mean": float(np.mean([r["analyze_s"] for r in rows]))}
    all_s = [score_case(r) for r in results]
    tot = {k: sum(x[k] for x in all_s) for k in all_s[0]} if all_s else {}
    nulls = [r for r in results if r["family"] == "null"]
    return {
        "families": per_family,
        "overall": {
            "campaigns_found": tot["found"] / tot["true_campaigns"] if tot.get("true_campaigns") else None,
            "alarm_precision": tot["true_alarms"] / tot["alarms"] if tot.get("alarms") else None,
            "organic_raised": tot["organic_alarmed"] / tot["organic"] if tot.get("organic") else None,
            "failed_raised_strong": tot.get("failed_strong"),
            "alarms_per_null_case": (sum(score_case(r)["alarms"] for r in nulls) / len(nulls)) if nulls else None,
        },
        "null_calibration": {"p_link": calibration([p for r in nulls for p in r["p_link"]]),
                             "p_burst": calibration([p for r in nulls for p in r["p_burst"]])},
    }


def print_table(summary: dict) -> None:
    print(f"{'family':9} {'cases':>5} {'true':>5} {'found':>5} {'alarms':>6} {'precision':>9} {'organic':>7} "
          f"{'org.alarm':>9} {'failed':>6} {'fail.strong':>11} {'analyze s':>9}")
    for fam, r in summary["families"].items():
        prec = "—" if r["alarm_precision"] is None else f"{r['alarm_precision']:.2f}"
        print(f"{fam:9} {r['cases']:>5} {r['true_campaigns']:>5} {r['found']:>5} {r['alarms']:>6} {prec:>9} "
              f"{r['organic']:>7} {r['organic_alarmed']:>9} {r['failed']:>6} {r['failed_strong']:>11} "
              f"{r['analyze_s_mean']:>9.1f}")
    o = summary["overall"]
    print("overall:", ", ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in o.items()))
    for name, c in summary["null_calibration"].items():
        if c.get("n"):
            print(f"null calibration {name}: n = {c['n']}, share < 0.05 = {c['below_0.05']:.3f}, "
                  f"< 0.01 = {c['below_0.01']:.3f}, KS = {c['ks']:.3f}")
        else:
            print(f"null calibration {name}: no p-values were produced")


def main() -> None:
    parser = argparse.ArgumentParser(description="Detection accuracy on simulated incidents.")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "accuracy.json"))
    args = parser.parse_args()
    jobs = [(f, args.first_seed + i) for f in args.families.split(",") for i in range(args.seeds)]
    started = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(run_case, *zip(*jobs, strict=True)):
            results.append(res)
            print(f"  {res['family']:9} seed {res['seed']}: {len(res['campaigns'])} campaigns, "
                  f"{sum(c['tier'] in ALARM for c in res['campaigns'])} alarms "
                  f"(analyze {res['analyze_s']:.1f} s)", flush=True)
    summary = summarise(results)
    print_table(summary)
    out = {"command": " ".join(["python bench/accuracy.py", *sys.argv[1:]]), "when": datetime.now(UTC).isoformat(),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
           "seconds": round(time.perf_counter() - started, 1), "summary": summary,
           "cases": [{k: v for k, v in r.items() if k not in ("truth", "p_link", "p_burst")} | {
               "score": score_case(r)} for r in results]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
