"""Detection accuracy on simulated incidents whose truth is known, through the real CLI.

For K seeds of each scenario family this runs, each in a fresh process and temp folder::

    detector simulate --out DIR --seed S --scenario F
    detector ingest DIR --db DB
    detector analyze --db DB
    detector campaigns --db DB --json

and scores the ranking against DIR/truth.json:

- campaigns found: a true campaign is found when an *alarm* (tier strong or moderate) names
  at least half of the targets the campaign actually hit (``partial`` too, although most of its
  calls sit in chats that were not collected);
- alarm precision: alarms that name a hit target of some true campaign, over all alarms;
- organic bursts raised as alarms: organic bursts (viral bursts, and the ``aftermath`` removal
  waves that supporters, news and hostile channels then link) one of whose targets an alarm names;
- failed calls raised as strong: failed calls one of whose targets a strong campaign names;
- alarms on cases with no campaign (``null``, ``organic``, ``aftermath``): every one is false;
- wrong channel (``multichannel``): alarms naming a target of a channel no campaign concerns;
- calibration on null cases (no campaign anywhere): the share of ``p_link`` (every informative
  per-target test of the case — see :mod:`detector.features.linkage` — on targets named by
  calls and, as controls, by other posts) and ``p_burst``
  (every notice stream scanned) below 0.05 and 0.01, and the Kolmogorov–Smirnov distance of
  each set from the uniform distribution.

Nothing is faked: a case where analysis produced no campaigns scores as such. The summary ends
with the goals (no alarm without a campaign, no strong failed call, at least 95% of campaigns
found, alarm precision at least 95%) and whether this run meets them. Targets are compared as
canonical ids; a ``youtube:handle:`` id in a campaign is read as the channel it names in
truth.json's subjects (the aliases the case file gives).

    .venv/bin/python bench/accuracy.py --seeds 20          # the full run
    .venv/bin/python bench/accuracy.py --seeds 3 --jobs 2  # quick look

``--live-forwards`` asks what a live collection would add: the simulator writes Telegram Desktop
exports, which drop a forward's original date, while Telethon gives it (``fwd_from.date``, kept
as ``posts.forwarded_at`` by ``detector collect``). After ingest, each collected forward is given
its original's time from truth.json's ``forward_originals`` (an UPDATE of the case's ``posts``,
standing in for the live collection that cannot run here), and the case is analysed as usual.
Writes ``results/accuracy_live_forwards.json`` unless ``--out`` says otherwise.
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
FAMILIES = ("campaign", "organic", "failed", "null", "mixed", "aftermath", "partial", "multichannel")
NO_CAMPAIGN = ("null", "organic", "aftermath")     # families where every alarm is a false alarm
ALARM = ("strong", "moderate")
GOALS = {"no_campaign_alarms": 0, "failed_strong": 0, "campaigns_found": 0.95, "campaigns_found_observable": 0.95,
         "alarm_precision": 0.95, "wrong_channel": 0}


def _run(*args: str) -> str:
    proc = subprocess.run([DETECTOR, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"detector {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def date_forwards_as_live(db: Path, truth: dict) -> int:
    """Give the case's forwards their originals' times, as a live collection would have stored
    them (see the module docstring); returns how many posts were dated."""
    rows = [(f["forwarded_at"], f["post_id"]) for f in truth.get("forward_originals", [])]
    con = duckdb.connect(str(db))
    try:
        if rows:
            con.executemany("UPDATE posts SET forwarded_at = CAST(? AS TIMESTAMPTZ) WHERE post_id = ?", rows)
        return con.execute("SELECT count(*) FROM posts WHERE forwarded_at IS NOT NULL").fetchall()[0][0]
    finally:
        con.close()


def run_case(family: str, seed: int, live_forwards: bool = False) -> dict:
    """Simulate, ingest, analyse and read back one case; return what scoring needs."""
    with tempfile.TemporaryDirectory() as tmp:
        out, db = Path(tmp) / "case", Path(tmp) / "case.duckdb"
        t0 = time.perf_counter()
        _run("simulate", "--out", str(out), "--seed", str(seed), "--scenario", family)
        _run("ingest", str(out), "--db", str(db))
        dated = date_forwards_as_live(db, json.loads((out / "truth.json").read_text(encoding="utf-8"))) \
            if live_forwards else 0
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
            "p_burst": p_burst, "ingest_s": t1 - t0, "analyze_s": t2 - t1, "forwards_dated": dated}


def _targets(campaign: dict, handles: dict[str, str]) -> set[str]:
    """A detected campaign's targets, a ``youtube:handle:`` read as the subject channel it names."""
    return {handles.get(t.casefold(), t) for t in campaign["targets"]}


def score_case(case: dict) -> dict:
    truth, campaigns = case["truth"], case["campaigns"]
    handles = {f"youtube:handle:{s['handle']}".casefold(): s["target"] for s in truth.get("subjects", [])}
    alarms = [_targets(c, handles) for c in campaigns if c["tier"] in ALARM]
    strong = [_targets(c, handles) for c in campaigns if c["tier"] == "strong"]
    true_campaigns = truth.get("campaigns", [])
    hit_sets = [set(c.get("hit_targets") or c["targets"]) for c in true_campaigns]
    found = found_observable = observable = 0
    for camp, hits in zip(true_campaigns, hit_sets, strict=True):
        hit = any(len(hits & a) >= max(1, len(hits) / 2) for a in alarms)
        found += hit
        # A campaign is observable as a cause when some collected call came before its first notice;
        # when every collected call came after enforcement began (partial observation), the
        # reaction rule makes it no alarm by design.
        seen = [c for c in camp.get("observed_calls") or camp.get("calls") or [] if c.get("observed", True)]
        if not seen or any(not c.get("after_first_notice", False) for c in seen):
            observable += 1
            found_observable += hit
    all_hits = set().union(*hit_sets) if hit_sets else set()
    true_alarms = sum(1 for a in alarms if a & all_hits)
    organic = truth.get("organic_bursts", [])
    organic_alarmed = sum(1 for o in organic if any(set(o["targets"]) & a for a in alarms))
    failed = truth.get("failed_calls", [])
    failed_strong = sum(1 for f in failed if any(set(f["targets"]) & s for s in strong))
    # multichannel: targets of a channel that no campaign concerns (its channel id, its bursts' videos)
    attacked = {c.get("channel") for c in true_campaigns}
    elsewhere = {s["target"] for s in truth.get("subjects", []) if s["target"] not in attacked}
    elsewhere |= {t for o in organic if o.get("channel") in elsewhere for t in o["targets"]}
    wrong_channel = sum(1 for a in alarms if a & elsewhere)
    return {"true_campaigns": len(true_campaigns), "found": found, "observable": observable,
            "found_observable": found_observable, "alarms": len(alarms), "strong": len(strong),
            "true_alarms": true_alarms, "organic": len(organic), "organic_alarmed": organic_alarmed,
            "failed": len(failed), "failed_strong": failed_strong, "wrong_channel": wrong_channel}


def calibration(values: list[float]) -> dict:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return {"n": 0}
    return {"n": int(v.size), "below_0.05": float((v < 0.05).mean()), "below_0.01": float((v < 0.01).mean()),
            "ks": float(stats.kstest(v, "uniform").statistic)}


def _total(rows: list[dict]) -> dict:
    scores = [score_case(r) for r in rows]
    return {k: sum(x[k] for x in scores) for k in scores[0]} if scores else {}


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def summarise(results: list[dict], families=FAMILIES) -> dict:
    per_family = {}
    for family in families:
        rows = [r for r in results if r["family"] == family]
        if not rows:
            continue
        tot = _total(rows)
        per_family[family] = {
            "cases": len(rows), **tot,
            "found_share": _share(tot["found"], tot["true_campaigns"]),
            "alarm_precision": _share(tot["true_alarms"], tot["alarms"]),
            "analyze_s_mean": float(np.mean([r["analyze_s"] for r in rows])),}
    tot = _total(results)
    nulls = [r for r in results if r["family"] == "null"]
    quiet = [r for r in results if r["family"] in NO_CAMPAIGN]
    overall = {
        "campaigns_found": _share(tot.get("found", 0), tot.get("true_campaigns", 0)),
        "campaigns_found_observable": _share(tot.get("found_observable", 0), tot.get("observable", 0)),
        "calls_only_after_enforcement": tot.get("true_campaigns", 0) - tot.get("observable", 0),
        "alarm_precision": _share(tot.get("true_alarms", 0), tot.get("alarms", 0)),
        "organic_raised": _share(tot.get("organic_alarmed", 0), tot.get("organic", 0)),
        "failed_raised_strong": tot.get("failed_strong"),
        "alarms_per_null_case": (sum(score_case(r)["alarms"] for r in nulls) / len(nulls)) if nulls else None,
        "no_campaign_alarms": sum(score_case(r)["alarms"] for r in quiet) if quiet else None,
        "no_campaign_cases": len(quiet),
        "wrong_channel": tot.get("wrong_channel"),
    }
    return {
        "families": per_family,
        "overall": overall,
        "goals": _goals(overall),
        "null_calibration": {"p_link": calibration([p for r in nulls for p in r["p_link"]]),
                             "p_burst": calibration([p for r in nulls for p in r["p_burst"]])},
    }


def _goals(overall: dict) -> dict:
    """Each goal with this run's value and whether it is met (None: nothing to measure)."""
    values = {"no_campaign_alarms": overall["no_campaign_alarms"], "failed_strong": overall["failed_raised_strong"],
              "campaigns_found": overall["campaigns_found"],
              "campaigns_found_observable": overall["campaigns_found_observable"],
              "alarm_precision": overall["alarm_precision"],
              "wrong_channel": overall["wrong_channel"]}
    out = {}
    for name, goal in GOALS.items():
        value = values[name]
        met = None if value is None else (value >= goal if isinstance(goal, float) else value <= goal)
        out[name] = {"value": value, "goal": (f">= {goal:.0%}" if isinstance(goal, float) else f"= {goal}"),
                     "met": met}
    return out


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def print_table(summary: dict) -> None:
    print(f"{'family':12} {'cases':>5} {'true':>5} {'found':>5} {'alarms':>6} {'strong':>6} {'precision':>9} "
          f"{'organic':>7} {'org.alarm':>9} {'failed':>6} {'fail.strong':>11} {'wrong.ch':>8} {'analyze s':>9}")
    for fam, r in summary["families"].items():
        print(f"{fam:12} {r['cases']:>5} {r['true_campaigns']:>5} {r['found']:>5} {r['alarms']:>6} {r['strong']:>6} "
              f"{_fmt(r['alarm_precision']):>9} {r['organic']:>7} {r['organic_alarmed']:>9} {r['failed']:>6} "
              f"{r['failed_strong']:>11} {r['wrong_channel']:>8} {r['analyze_s_mean']:>9.1f}")
    o = summary["overall"]
    print("overall:", ", ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in o.items()))
    labels = {"no_campaign_alarms": f"alarms on {'/'.join(NO_CAMPAIGN)} cases",
              "failed_strong": "failed calls raised as strong", "campaigns_found": "campaigns found (all)",
              "campaigns_found_observable": "campaigns found (a collected call before enforcement)",
              "alarm_precision": "alarm precision", "wrong_channel": "alarms on the other channel (multichannel)"}
    for name, g in summary["goals"].items():
        value = g["value"]
        shown = "—" if value is None else f"{value:.1%}" if isinstance(value, float) else str(value)
        verdict = "n/a" if g["met"] is None else "met" if g["met"] else "NOT MET"
        print(f"goal {labels[name]:45} {shown:>8}  (goal {g['goal']}): {verdict}")
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
    parser.add_argument("--out", default=None,
                        help="results file (default results/accuracy.json, or accuracy_live_forwards.json)")
    parser.add_argument("--live-forwards", action="store_true",
                        help="date the collected forwards by their originals, as a live collection would")
    args = parser.parse_args()
    args.out = args.out or str(HERE / "results" / ("accuracy_live_forwards.json" if args.live_forwards
                                                   else "accuracy.json"))
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)} (choose from {', '.join(FAMILIES)})")
    jobs = [(f, args.first_seed + i) for f in families for i in range(args.seeds)]
    started = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(run_case, *zip(*jobs, strict=True), [args.live_forwards] * len(jobs)):
            results.append(res)
            print(f"  {res['family']:12} seed {res['seed']}: {len(res['campaigns'])} campaigns, "
                  f"{sum(c['tier'] in ALARM for c in res['campaigns'])} alarms "
                  f"(analyze {res['analyze_s']:.1f} s)", flush=True)
    summary = summarise(results, families)
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
