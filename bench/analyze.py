"""Whole-analysis time and peak memory on a large case, through the CLI, in a child process.

A case of N notices and N posts is written straight into a DuckDB file through the store
(ingest has its own benchmark, bench/ingest.py), then ``detector analyze`` runs in a child
process under ``/usr/bin/time -v``, which reports the child's own peak resident memory (not the
parent's, as ``ru_maxrss`` of a vfork child would). The child runs the CLI's own code path and
writes the time at which each step began, so per-step times come from the same run.

Posts are real-length and multilingual: everyday posts (label ``other``, kinds chatter, news and
thanks) of the real labelled posts in detector/data/calls/real/*.csv (ru, kk, zh, en, ug, uk; rows
licensed NC left out), with a share (``--about-reporting``, 2 %) of the real posts that talk about
reporting without calling for it (victims, news of campaigns, how-to: the hard negatives),
short ones joined with a second post of the same language, so that lengths come near the
issue's observed mean of 140 and median of 113 characters (the figures written with the
results); 5 % link a video. Notices carry a ``reporter_id`` so the co-reporting network runs.
One planted campaign: 20 calls naming 10 rarely-reported videos, 300 notices after them from 40
reporters.

    nice -n 10 .venv/bin/python bench/analyze.py --sizes 100000,1000000
    nice -n 10 .venv/bin/python bench/analyze.py --sizes 100000 --code /path/to/other/checkout --label before

``--code`` runs the child on another checkout of the project (PYTHONPATH), for live before/after
figures on the same machine and corpus. Writes bench/results/analyze.json (``--out``) and
prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START = pd.Timestamp("2025-01-01", tz="UTC")
DAYS = 180
LANGUAGES = ("ru", "kk", "zh", "en", "ug", "uk")
_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
_CALLS = ("Everyone report this video for harassment: {u}", "Пожалуйтесь на это видео, пункт «Травля»: {u}",
          "大家举报这个视频，理由选骚扰 {u}", "Бұл видеоға шағым жіберіңіз: {u}")
_SUBJECT = "youtube:channel:UCbenchbenchbenchbench00"


def _video_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array(["".join(r) for r in _ALPHABET[rng.integers(0, len(_ALPHABET), size=(n, 11))]])


def _times(rng: np.random.Generator, n: int, days: int = DAYS) -> pd.DatetimeIndex:
    """Times over ``days`` with a daily cycle (more by day than by night)."""
    day = rng.integers(0, days, n)
    hour = (rng.normal(14, 4, n) % 24)
    return START + pd.to_timedelta(day * 24 + hour, unit="h")


#: Kinds of real posts that channels post every day (the rest of the real "other" posts were
#: gathered because they talk about reporting: victims, news of campaigns, analysis, how-to).
EVERYDAY_KINDS = ("chatter", "news", "thanks")


def real_posts(everyday: bool) -> dict[str, list[str]]:
    """Real posts labelled ``other`` per language, from detector/data/calls/real: the everyday kinds,
    or (``everyday=False``) the ones that talk about reporting without calling for it."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for path in sorted((ROOT / "detector" / "data" / "calls" / "real").glob(f"{lang}*.csv")):
            rows = pd.read_csv(path)
            rows = rows[(rows["label"] == "other") & ~rows["licence"].astype(str).str.contains("NC")
                        & (rows["kind"].isin(EVERYDAY_KINDS) == everyday)]
            out.setdefault(lang, []).extend(t.strip() for t in rows["text"].astype(str) if t.strip())
    return out


def post_texts(rng: np.random.Generator, n: int, about_reporting: float = 0.02, short: int = 30) -> np.ndarray:
    """``n`` real-length posts: languages in equal shares, a short post joined with a second one;
    a share ``about_reporting`` of them are real posts that talk about reporting (hard negatives)."""
    pools = {True: real_posts(everyday=True), False: real_posts(everyday=False)}
    lang = np.array(LANGUAGES)[rng.integers(0, len(LANGUAGES), n)]
    hard = rng.random(n) < about_reporting
    texts = np.empty(n, dtype=object)
    for code in LANGUAGES:
        for is_hard in (False, True):
            idx = np.flatnonzero((lang == code) & (hard == is_hard))
            bank = np.array(pools[not is_hard][code], dtype=object)
            first = bank[rng.integers(0, len(bank), len(idx))]
            second = bank[rng.integers(0, len(bank), len(idx))]
            lengths = np.fromiter((len(t) for t in first), dtype=np.int64, count=len(first))
            texts[idx] = np.where(lengths < short, first + " " + second, first)
    return texts


def synthetic_case(n_notices: int, n_posts: int, seed: int = 0, days: int = DAYS, about_reporting: float = 0.02
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Notices and posts frames in the store's schema over ``days``, with one planted campaign (60
    days before the end)."""
    from detector.ids import canonical_target, extract_urls
    from detector.schema import conform

    rng = np.random.default_rng(seed)
    n_videos = max(1000, n_notices // 20)
    videos = _video_ids(rng, n_videos)
    weights = 1.0 / np.arange(1, n_videos + 1) ** 0.8
    weights /= weights.sum()
    targets = videos[rng.choice(n_videos, size=n_notices, p=weights)]
    automated = rng.random(n_notices) < 0.3
    policy = np.where(automated, "violent_extremism", rng.choice(["harassment", "hate_speech", "spam", "privacy"],
                                                                  n_notices))
    action = np.where(automated, "warning", rng.choice(["complaint", "complaint", "complaint", "removed"], n_notices))
    # Complaints come from a large crowd of reporters (Zipf: a few report often); automated flags have none.
    n_reporters = max(500, n_notices // 10)
    r_weights = 1.0 / np.arange(1, n_reporters + 1) ** 1.1
    reporter = np.char.add("r", rng.choice(n_reporters, size=n_notices, p=r_weights / r_weights.sum()).astype(str))
    reporter = np.where(automated, None, reporter.astype(object))
    notices = pd.DataFrame({"notice_id": [f"bench:{i}" for i in range(n_notices)], "platform": "youtube",
                            "received_at": _times(rng, n_notices, days), "action": action, "policy": policy,
                            "policy_raw": policy, "target": "youtube:video:" + targets, "subject": _SUBJECT,
                            "reporter_id": reporter, "source_ref": "1"})
    # The campaign: 10 rarely-reported videos named by 20 calls on day 120, 300 notices after, from 40 reporters.
    named = videos[-10:]
    call_at = START + pd.Timedelta(days=days - 60, hours=15)
    camp = pd.DataFrame({"notice_id": [f"bench:c{i}" for i in range(300)], "platform": "youtube",
                         "received_at": call_at + pd.to_timedelta(rng.lognormal(2.3, 0.8, 300), unit="h"),
                         "action": rng.choice(["complaint", "removed", "strike"], 300), "policy": "harassment",
                         "policy_raw": "Harassment and cyberbullying",
                         "target": "youtube:video:" + rng.choice(named, 300), "subject": _SUBJECT,
                         "reporter_id": [f"brigade{i}" for i in rng.integers(0, 40, 300)], "source_ref": "1"})
    notices = pd.concat([notices, camp], ignore_index=True)
    chats = np.array([f"tg{1000000 + i}" for i in range(200)])
    text = post_texts(rng, n_posts, about_reporting)
    links = rng.random(n_posts) < 0.05
    linked = videos[rng.choice(n_videos, size=int(links.sum()), p=weights)]
    text[links] = text[links] + " https://youtu.be/" + linked
    chat = chats[rng.integers(0, len(chats), n_posts)]
    posts = pd.DataFrame({"post_id": [f"telegram:{c}:{i}" for i, c in enumerate(chat)], "platform": "telegram",
                          "chat": chat, "chat_title": chat, "message_id": np.arange(n_posts).astype(str),
                          "author": chat, "posted_at": _times(rng, n_posts, days), "text": text, "source_ref": "1"})
    calls = []
    for k in range(20):
        u = "https://youtu.be/" + named[k % 10] + " https://youtu.be/" + named[(k + 3) % 10]
        calls.append({"post_id": f"telegram:{chats[k]}:c{k}", "platform": "telegram", "chat": chats[k],
                      "chat_title": chats[k], "message_id": f"c{k}", "author": chats[k],
                      "posted_at": call_at + pd.Timedelta(minutes=7 * k), "text": _CALLS[k % 4].format(u=u),
                      "source_ref": "1"})
    posts = pd.concat([posts, pd.DataFrame(calls)], ignore_index=True)
    posts["urls"] = [extract_urls(t) if "http" in t else [] for t in posts["text"]]
    posts["targets"] = [[canonical_target(u) for u in us] for us in posts["urls"]]
    lengths = posts["text"].str.len()
    corpus = {"post_chars_mean": round(float(lengths.mean()), 1), "post_chars_median": float(lengths.median()),
              "languages": list(LANGUAGES), "about_reporting": about_reporting,
              "notices_with_reporter": int(notices["reporter_id"].notna().sum())}
    return (conform(notices, "notices"), conform(posts, "posts"),
            {"named": ["youtube:video:" + v for v in named], "corpus": corpus})


def write_case(db: Path, notices: pd.DataFrame, posts: pd.DataFrame) -> None:
    from detector.collect.base import Parsed
    from detector.store import Case, SourceRecord

    with Case.open(db) as case, case.transaction():
        for name, frame in (("notices", notices), ("posts", posts)):
            parsed = Parsed(kind="bench", frames={name: frame})
            case.add_parsed(parsed, SourceRecord(source_id=name, kind="bench", name=f"{name}.bench",
                                                 sha256=name * 8, rows=len(frame), tz=None, detail={}))


def child(db: str, steps_file: str) -> None:
    """``detector analyze --db DB`` through the CLI, writing when each step began to ``steps_file``."""
    import detector.analysis as analysis
    from detector.cli import main as cli

    seen = {"start": time.perf_counter(), "cpu:start": time.process_time()}
    real = analysis.analyze_case

    def timed(*args, on_step=None, **kwargs):
        def step(name):
            seen[name] = time.perf_counter()
            seen[f"cpu:{name}"] = time.process_time()
            if on_step:
                on_step(name)
        try:
            return real(*args, on_step=step, **kwargs)
        finally:
            seen["end"] = time.perf_counter()
            seen["cpu:end"] = time.process_time()
            Path(steps_file).write_text(json.dumps(seen), encoding="utf-8")

    analysis.analyze_case = timed
    if os.environ.get("DETECTOR_BENCH_CALLS") == "planted":
        analysis.classify_calls = planted_calls
    cli(["analyze", "--db", db], standalone_mode=True)


def planted_calls(posts: pd.DataFrame, **_options) -> pd.DataFrame:
    """Stand-in for the calls step (``--calls planted``): the planted calls are calls, every other
    post is other; for timing the steps after it on cases whose calls step alone would take long."""
    planted = posts["message_id"].astype(str).str.startswith("c").to_numpy()
    return pd.DataFrame({"post_id": posts["post_id"].to_numpy(), "is_call": planted,
                         "kind": np.where(planted, "call", "other"), "confidence": 1.0, "p_call": planted * 1.0,
                         "targets": [list(t) for t in posts["targets"]],
                         "requested_policy": pd.Series(np.where(planted, "harassment", None), dtype=object),
                         "language": None})


def _step_seconds(seen: dict, prefix: str = "") -> dict:
    """Seconds per step (wall, or with ``prefix="cpu:"`` CPU of every thread of the child)."""
    names = [k for k in seen if not k.startswith("cpu:") and k not in ("start", "end")]
    if prefix and f"{prefix}start" not in seen:
        return {}
    at = {name: seen[f"{prefix}{name}"] for name in ["start", *names, "end"]}
    out = {"read_and_aliases": round(at[names[0]] - at["start"], 2)} if names else {}
    for i, name in enumerate(names):
        out[name] = round((at[names[i + 1]] if i + 1 < len(names) else at["end"]) - at[name], 2)
    return out


def _time_v(stderr: str, field: str) -> str:
    match = re.search(rf"{re.escape(field)}: (.+)", stderr)
    return match.group(1).strip() if match else ""


def run_cli(db: Path, code: Path | None, calls: str) -> dict:
    """Run the analysis child under /usr/bin/time -v; its wall time, own peak memory and step times."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    steps_file = db.with_suffix(".steps.json")
    cmd = ["/usr/bin/time", "-v", sys.executable, str(Path(__file__).resolve()), "--child", str(db), str(steps_file)]
    if calls == "planted":
        env["DETECTOR_BENCH_CALLS"] = "planted"
    load = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    seen = json.loads(steps_file.read_text(encoding="utf-8"))
    return {"cli_seconds": round(wall, 1), "peak_mib": round(int(_time_v(proc.stderr, "Maximum resident set size "
                                                                              "(kbytes)")) / 1024),
            "cpu_seconds": round(float(_time_v(proc.stderr, "User time (seconds)"))
                                 + float(_time_v(proc.stderr, "System time (seconds)")), 1),
            "steps_seconds": _step_seconds(seen), "steps_cpu_seconds": _step_seconds(seen, "cpu:"),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Analysis time on large synthetic cases.")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--code", type=Path, default=None, help="checkout whose detector the child runs")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--days", type=int, default=DAYS, help="span of the case (8 years: 2920)")
    parser.add_argument("--calls", choices=("classify", "planted"), default="classify",
                        help="planted: skip the classifier (the planted calls are the calls), to time the other steps")
    parser.add_argument("--about-reporting", type=float, default=0.02,
                        help="share of posts that talk about reporting without calling for it (real hard negatives)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "analyze.json")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        notices, posts, truth = synthetic_case(n, n, days=args.days, about_reporting=args.about_reporting)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "big.duckdb"
            write_case(db, notices, posts)
            run = run_cli(db, args.code, args.calls)
            top = json.loads(subprocess.run([sys.executable, "-m", "detector", "campaigns", "--db", str(db), "--json"],
                                            capture_output=True, text=True, check=True,
                                            env={**os.environ, **({"PYTHONPATH": str(args.code)} if args.code else {})}
                                            ).stdout)
        found = bool(top) and top[0]["tier"] == "strong" and bool(set(truth["named"]) & set(top[0]["targets"]))
        row = {"code": args.label, "notices": len(notices), "posts": len(posts), "days": args.days,
               "calls_step": args.calls, **run, "corpus": truth["corpus"],
               "planted_campaign_ranked_first_strong": found}
        rows.append(row)
        print(f"{args.label}: {len(notices):>9,} notices {len(posts):>9,} posts: analyze {run['cli_seconds']:7.1f} s "
              f"(cpu {run['cpu_seconds']} s), peak {run['peak_mib']:>6} MiB, steps {run['steps_seconds']}, "
              f"load {run['load_before']}, planted campaign first and strong: {found}", flush=True)
    out = {"command": " ".join(["python", "bench/analyze.py", *sys.argv[1:]]), "when": datetime.now(UTC).isoformat(),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "results": rows}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
