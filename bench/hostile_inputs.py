"""Hostile input: how ingest handles hundreds of mutated variants of the real sample files.

Each variant (see ``tests/hostile.py``: byte flips, truncation, junk, huge lines, deep nesting,
implausible dates, zip variants, invalid structure) is ingested into one case through the
library call behind ``detector ingest`` with its format forced, as ``--format`` would. Outcomes:

* accepted: parsed and recorded as a source (its rows may all be in the case already, when a
  mutation left them unchanged);
* already ingested: byte-identical to a file ingested before (a mutation that changed nothing);
* refused: a ``DetectorError`` (the CLI prints one line and exits 2), and the case is unchanged;
* CRASH: any other exception (the CLI would write a crash report and exit 70);
* CHANGED: a refusal that nevertheless changed the case (must be 0).

Every variant runs under a memory limit (``--memory-mb``, default 2048, on the whole process's
address space): a variant that would need more fails with MemoryError and counts as a crash.

    .venv/bin/python bench/hostile_inputs.py --variants 400 --seed 1

Writes bench/results/hostile_inputs.json and prints the table by class.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))
import hostile  # noqa: E402

from detector.errors import DetectorError  # noqa: E402
from detector.ingestion import ingest  # noqa: E402
from detector.store import Case  # noqa: E402


def _state(db: Path) -> tuple:
    with Case.open(db, read_only=True) as case:
        return tuple(sorted(case.counts().items()))


def run(variants: int, seed: int, memory_mb: int, out: Path) -> dict:
    seeds = hostile.load_seeds()
    rng = random.Random(seed)
    names = list(hostile.MUTATIONS)
    tally: dict[str, Counter] = defaultdict(Counter)
    crashes, slowest = [], []
    examples: dict[str, list[str]] = defaultdict(list)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, resource.RLIM_INFINITY))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "case.duckdb"
        with Case.open(db):
            pass
        for i in range(variants):
            mutation = names[i % len(names)]
            candidates = [s for s in seeds if hostile.applicable(mutation, s)]
            base = rng.choice(candidates)
            vrng = random.Random(rng.getrandbits(64))
            name, data = hostile.MUTATIONS[mutation](base, vrng)
            folder = Path(tmp) / f"v{i}"
            folder.mkdir()
            path = folder / name
            path.write_bytes(data)
            before = _state(db)
            start = time.perf_counter()
            try:
                report = ingest([path], db, fmt=base.fmt, tz="UTC", dayfirst=base.dayfirst)
                outcome = ("already ingested" if all(f.status == "already ingested" for f in report.files)
                           else "accepted")
            except DetectorError as exc:
                outcome = "refused"
                if _state(db) != before:
                    outcome = "CHANGED"
                message = str(exc)
            except BaseException as exc:   # noqa: BLE001 - counting exactly what escapes is the point
                outcome = "CRASH"
                crashes.append({"variant": i, "class": mutation, "seed": base.name, "format": base.fmt,
                                "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                                "where": traceback.format_exc().strip().splitlines()[-3:]})
                message = ""
            else:
                message = ""
            seconds = time.perf_counter() - start
            slowest.append((seconds, mutation, base.name, outcome, message[:120]))
            tally[mutation][outcome] += 1
            if outcome == "refused" and len(examples[mutation]) < 6 and message not in examples[mutation]:
                examples[mutation].append(message[:200])
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()
        with Case.open(db, read_only=True) as case:   # what the accepted variants left in the case
            stored = case.con.execute(
                "SELECT (SELECT min(received_at)::VARCHAR FROM notices), (SELECT max(received_at)::VARCHAR FROM notices),"
                " (SELECT min(posted_at)::VARCHAR FROM posts), (SELECT max(posted_at)::VARCHAR FROM posts),"
                " (SELECT min(day)::VARCHAR FROM exposure), (SELECT max(day)::VARCHAR FROM exposure),"
                " (SELECT max(length(text)) FROM posts), (SELECT max(views) FROM exposure)").fetchone()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slowest.sort(reverse=True)
    result = {
        "variants": variants, "seed": seed, "memory_limit_mb": memory_mb, "peak_rss_mb": round(peak_mb),
        "load_average": os.getloadavg(),
        "by_class": {k: dict(v) for k, v in tally.items()},
        "totals": dict(sum(tally.values(), Counter())),
        "stored": dict(zip(["notices_first", "notices_last", "posts_first", "posts_last", "views_first_day",
                            "views_last_day", "longest_post_chars", "most_daily_views"], stored, strict=True)),
        "crashes": crashes,
        "refusal_examples": examples,
        "slowest": [{"seconds": round(s, 2), "class": c, "seed": n, "outcome": o, "message": m}
                    for s, c, n, o, m in slowest[:8]],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hostile_inputs.json")
    args = parser.parse_args()
    result = run(args.variants, args.seed, args.memory_mb, args.out)
    outcomes = ["accepted", "already ingested", "refused", "CHANGED", "CRASH"]
    print(f"{'class':38}" + "".join(f"{o:>18}" for o in outcomes))
    for name, counts in result["by_class"].items():
        print(f"{name:38}" + "".join(f"{counts.get(o, 0):>18}" for o in outcomes))
    print(f"{'total':38}" + "".join(f"{result['totals'].get(o, 0):>18}" for o in outcomes))
    print(f"peak RSS {result['peak_rss_mb']} MB (limit {args.memory_mb} MB); load average "
          f"{', '.join(f'{x:.2f}' for x in result['load_average'])}")
    print("stored by accepted variants:", result["stored"])
    for crash in result["crashes"][:30]:
        print("CRASH", crash["class"], crash["seed"], crash["format"], crash["error"], crash["where"][-1:])
    for s in result["slowest"][:5]:
        print("slow", s)


if __name__ == "__main__":
    main()
