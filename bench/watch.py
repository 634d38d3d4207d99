"""detector watch: lag from a call's appearance to its alert, and the cost per channel per poll.

Serves the real saved preview messages of tests/fixtures/telegram_web (tchan's t.me/s/tchantest,
SOURCES.md there) from 127.0.0.1 as N channels, runs the watcher for a simulated day with a fake
clock (real HTTP, real parsing, real storage and classification; only the waiting is skipped),
and plants calls naming the subject at random times. Lag = alert time - call time, where the
alert time is the fake clock at the poll plus the poll's real processing time. Cost = wall
time, HTTP requests and bytes per channel per poll, on the shared machine.

    nice -n 10 .venv/bin/python bench/watch.py [--channels 5] [--hours 12] [--interval 300]

Writes bench/results/watch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from telegram_web_server import Server, _view_token, saved_messages  # noqa: E402

from detector.collect.telegram_web import PreviewClient  # noqa: E402
from detector.ingestion import collect_telegram  # noqa: E402
from detector.watch import Watcher  # noqa: E402

VIDEO = "https://youtu.be/dQw4w9WgXcQ"
CALLS = ["Everyone report this video for harassment! Flag it now: {v}",
         "Жалобы на это видео! Кидайте репорты все: {v}",
         "大家去举报这个视频！{v}"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=5)
    ap.add_argument("--hours", type=float, default=12)
    ap.add_argument("--interval", type=float, default=300)
    ap.add_argument("--calls", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    start = datetime(2023, 2, 24, 14, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp, Server() as srv:
        db = Path(tmp) / "case.duckdb"
        names = [f"chan{i}" for i in range(args.channels)]
        for i, name in enumerate(names):     # the saved channel, once per name, each with its own id
            srv.state.channels[name] = {
                mid: re.sub(r'data-view="[^"]+"', f'data-view="{_view_token(1_000_000_000 + i, mid)}"',
                            html.replace("tchantest/", f"{name}/"))
                for mid, html in saved_messages().items()}
        state = {"t": start}
        planted: dict[str, datetime] = {}
        schedule = sorted((start + timedelta(seconds=rng.uniform(600, args.hours * 3600 - 600)), rng.choice(names))
                          for _ in range(args.calls))
        next_id = {n: 1000 for n in names}
        requests_seen = []
        client = PreviewClient(srv.url, delay=0.0)
        real_get = client.session.get

        def counting_get(url, **kw):
            resp = real_get(url, **kw)
            requests_seen.append(len(resp.content))
            return resp

        client.session.get = counting_get

        def collect(chans, since, max_pages_new):
            return collect_telegram(chans, since, db, web=True, preview_client=client, max_pages_new=max_pages_new)

        def now():
            return state["t"]

        def sleep(seconds):
            target = state["t"] + timedelta(seconds=seconds)
            for when, chan in schedule:
                if state["t"] < when <= target:
                    next_id[chan] += 1
                    srv.state.plant(chan, next_id[chan], when, rng.choice(CALLS).format(v=VIDEO),
                                    chat_id=1_000_000_000 + names.index(chan))
                    planted[f"{chan}/{next_id[chan]}"] = when
            state["t"] = target

        watcher = Watcher(db, names, [VIDEO], interval=args.interval, collect=collect, now=now, sleep=sleep)
        polls = []
        t_fit = time.perf_counter()
        from detector.features.calls import call_model
        call_model()
        fit_s = time.perf_counter() - t_fit

        def on_poll(result):
            polls.append({"started": result.started.isoformat(), "channels": len(result.channels),
                          "posts": result.posts, "alerts": len(result.alerts), "seconds": result.seconds,
                          "requests": len(requests_seen), "bytes": sum(requests_seen)})
            requests_seen.clear()
            for a in result.alerts.itertuples():
                reasons[a.reason] = reasons.get(a.reason, 0) + 1
                if a.reason != "names_subject":
                    continue       # the same call text later in another channel is also a copy alert
                key = f"{a.permalink.rsplit('/', 2)[-2]}/{a.message_id}" if a.permalink else None
                if key in planted:
                    lag = (result.started - planted[key]).total_seconds() + result.seconds
                    lags.append(lag)

        lags: list[float] = []
        reasons: dict[str, int] = {}
        polls_needed = int(args.hours * 3600 / args.interval)
        watcher.run(max_polls=polls_needed, on_poll=on_poll)
    steady = polls[1:]
    per_channel = [p["seconds"] / p["channels"] for p in steady if p["channels"]]
    quiet = [p["seconds"] / p["channels"] for p in steady if p["channels"] and not p["posts"]]
    busy = [p["seconds"] / p["channels"] for p in steady if p["posts"]]
    out = {
        "command": "nice -n 10 .venv/bin/python bench/watch.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "load_average": os.getloadavg(),
        "channels": args.channels, "hours": args.hours, "interval_s": args.interval, "calls_planted": len(schedule),
        "calls_alerted": len(lags), "alerts_by_reason": reasons, "classifier_fit_s": round(fit_s, 1),
        "lag_s": {"median": statistics.median(lags) if lags else None, "max": max(lags) if lags else None,
                  "min": min(lags) if lags else None, "all": [round(x, 1) for x in lags]},
        "first_poll": polls[0],
        "per_channel_per_poll_s": {"median": statistics.median(per_channel), "max": max(per_channel),
                                   "quiet_median": statistics.median(quiet) if quiet else None,
                                   "with_new_posts_median": statistics.median(busy) if busy else None},
        "requests_per_channel_per_poll": statistics.mean(p["requests"] / p["channels"] for p in steady),
        "bytes_per_channel_per_poll": statistics.mean(p["bytes"] / p["channels"] for p in steady),
        "note": "HTTP against 127.0.0.1 without the polite delay; against t.me add the network round trip and "
                "the delay (default 2 s) between two requests.",
    }
    path = ROOT / "bench" / "results" / "watch.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k != "lag_s"} | {"lag_s": {k: v for k, v in out["lag_s"].items()
                                                                              if k != "all"}}, indent=1))


if __name__ == "__main__":
    main()
