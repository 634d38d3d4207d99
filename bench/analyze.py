"""Whole-analysis time on a large case: N notices and N posts, with one planted campaign.

The case is written straight into a DuckDB file through the store (ingest has its own
benchmark, bench/ingest.py), then ``detector analyze`` runs on it in a fresh process, as a user
would run it. Per-step times come from a second, in-process run of the same analysis.

    .venv/bin/python bench/analyze.py --sizes 100000,1000000

Writes bench/results/analyze.json and prints a table.
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from detector.analysis import analyze_frames
from detector.collect.base import Parsed
from detector.schema import conform
from detector.store import Case, SourceRecord

HERE = Path(__file__).resolve().parent
DETECTOR = str(Path(sys.executable).parent / "detector")
START = pd.Timestamp("2025-01-01", tz="UTC")
DAYS = 180
_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
_CHATTER = ("what a day", "новости дня", "今天的新闻", "жаңалықтар", "meeting at six", "look at this",
            "не согласен", "thanks everyone", "good morning", "歌曲", "qayerdasiz", "see the archive")
_CALLS = ("Everyone report this video for harassment: {u}", "Пожалуйтесь на это видео, пункт «Травля»: {u}",
          "大家举报这个视频，理由选骚扰 {u}", "Бұл видеоға шағым жіберіңіз: {u}")


def _video_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array(["".join(r) for r in _ALPHABET[rng.integers(0, len(_ALPHABET), size=(n, 11))]])


def _times(rng: np.random.Generator, n: int) -> pd.DatetimeIndex:
    """Times over DAYS with a daily cycle (more by day than by night)."""
    day = rng.integers(0, DAYS, n)
    hour = (rng.normal(14, 4, n) % 24)
    return START + pd.to_timedelta(day * 24 + hour, unit="h")


def synthetic_case(n_notices: int, n_posts: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Notices and posts frames in the store's schema, with one planted campaign."""
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
    notices = pd.DataFrame({"notice_id": [f"bench:{i}" for i in range(n_notices)], "platform": "youtube",
                            "received_at": _times(rng, n_notices), "action": action, "policy": policy,
                            "policy_raw": policy, "target": "youtube:video:" + targets,
                            "subject": "youtube:channel:UCbenchbenchbenchbench00", "source_ref": "1"})
    # The campaign: 10 rarely-reported videos named by 20 calls on day 120, 300 notices after.
    named = videos[-10:]
    call_at = START + pd.Timedelta(days=120, hours=15)
    camp = pd.DataFrame({"notice_id": [f"bench:c{i}" for i in range(300)], "platform": "youtube",
                         "received_at": call_at + pd.to_timedelta(rng.lognormal(2.3, 0.8, 300), unit="h"),
                         "action": rng.choice(["complaint", "removed", "strike"], 300), "policy": "harassment",
                         "policy_raw": "Harassment and cyberbullying",
                         "target": "youtube:video:" + rng.choice(named, 300),
                         "subject": "youtube:channel:UCbenchbenchbenchbench00", "source_ref": "1"})
    notices = pd.concat([notices, camp], ignore_index=True)
    chats = np.array([f"tg{1000000 + i}" for i in range(200)])
    text = np.array(_CHATTER)[rng.integers(0, len(_CHATTER), n_posts)].astype(object)
    links = rng.random(n_posts) < 0.05
    linked = videos[rng.choice(n_videos, size=int(links.sum()), p=weights)]
    text[links] = text[links] + " https://youtu.be/" + linked
    chat = chats[rng.integers(0, len(chats), n_posts)]
    posts = pd.DataFrame({"post_id": [f"telegram:{c}:{i}" for i, c in enumerate(chat)], "platform": "telegram",
                          "chat": chat, "chat_title": chat, "message_id": np.arange(n_posts).astype(str),
                          "author": chat, "posted_at": _times(rng, n_posts), "text": text, "source_ref": "1"})
    calls = []
    for k in range(20):
        u = "https://youtu.be/" + named[k % 10] + " https://youtu.be/" + named[(k + 3) % 10]
        calls.append({"post_id": f"telegram:{chats[k]}:c{k}", "platform": "telegram", "chat": chats[k],
                      "chat_title": chats[k], "message_id": f"c{k}", "author": chats[k],
                      "posted_at": call_at + pd.Timedelta(minutes=7 * k), "text": _CALLS[k % 4].format(u=u),
                      "source_ref": "1"})
    posts = pd.concat([posts, pd.DataFrame(calls)], ignore_index=True)
    from detector.ids import canonical_target, extract_urls
    posts["urls"] = [extract_urls(t) for t in posts["text"]]
    posts["targets"] = [[canonical_target(u) for u in us] for us in posts["urls"]]
    return conform(notices, "notices"), conform(posts, "posts"), {"named": ["youtube:video:" + v for v in named]}


def write_case(db: Path, notices: pd.DataFrame, posts: pd.DataFrame) -> None:
    with Case.open(db) as case, case.transaction():
        for name, frame in (("notices", notices), ("posts", posts)):
            parsed = Parsed(kind="bench", frames={name: frame})
            case.add_parsed(parsed, SourceRecord(source_id=name, kind="bench", name=f"{name}.bench",
                                                 sha256=name * 8, rows=len(frame), tz=None, detail={}))


def main() -> None:
    parser = argparse.ArgumentParser(description="Analysis time on large synthetic cases.")
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        notices, posts, truth = synthetic_case(n, n)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "big.duckdb"
            write_case(db, notices, posts)
            t0 = time.perf_counter()
            proc = subprocess.Popen([DETECTOR, "analyze", "--db", str(db)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            _, status, usage = os.wait4(proc.pid, 0)
            cli_s = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(proc.stderr.read())
            top = json.loads(subprocess.run([DETECTOR, "campaigns", "--db", str(db), "--json"], capture_output=True,
                                            text=True, check=True).stdout)
        steps: dict[str, float] = {}
        t1 = time.perf_counter()
        analyze_frames(notices, posts, conform(pd.DataFrame(), "exposure"),
                       on_step=lambda name, seen=steps: seen.__setitem__(name, time.perf_counter()))
        end = time.perf_counter()
        names = list(steps)
        durations = {name: round((steps[names[i + 1]] if i + 1 < len(names) else end) - steps[name], 2)
                     for i, name in enumerate(names)}
        durations["start"] = round(steps[names[0]] - t1, 2) if names else 0.0
        found = bool(top) and top[0]["tier"] == "strong" and set(truth["named"]) & set(top[0]["targets"])
        row = {"notices": len(notices), "posts": len(posts), "cli_seconds": round(cli_s, 1),
               "peak_mib": round(usage.ru_maxrss / 1024), "steps_seconds": durations,
               "planted_campaign_ranked_first_strong": bool(found)}
        rows.append(row)
        print(f"{len(notices):>9,} notices {len(posts):>9,} posts: analyze {cli_s:7.1f} s, peak {row['peak_mib']:>6} MiB, "
              f"steps {durations}, planted campaign first and strong: {bool(found)}", flush=True)
    out = {"command": "python bench/analyze.py --sizes " + args.sizes, "when": datetime.now(UTC).isoformat(),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "results": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "analyze.json").write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
