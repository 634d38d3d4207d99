"""Ingest throughput: messages per second and peak memory, per format and size.

For each format (Telegram Desktop JSON, WhatsApp text, notices CSV) and size (10^4, 10^5,
10^6 rows) this writes a synthetic file in the real format, then runs the real command
``detector ingest FILE --db NEW.duckdb`` in a fresh process and records its wall time and peak
resident memory (parse, conform and the DuckDB write, all of it). Nothing here is a test.

    .venv/bin/python bench/ingest.py                  # all sizes (several minutes)
    .venv/bin/python bench/ingest.py --sizes 10000    # quick

Writes bench/results/ingest.json (or ``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from telegram_synthetic import synthetic_export  # noqa: E402

DETECTOR = Path(sys.executable).parent / "detector"
_WORDS = ("report this video for harassment please everyone now пожаловаться на видео жалоба "
          "шикаят 举报 这个 视频 ok thanks 🚨 👀 срочно").split()


def write_whatsapp(path: Path, n: int, seed: int = 0) -> None:
    """An Android-shaped WhatsApp export with ``n`` messages (some multi-line, some links)."""
    rng = random.Random(seed)
    t = datetime(2024, 1, 1, 8, 0)
    names = ["Айгерим", "Bob", "+7 701 555 01 02", "王伟", "Ali 🇰🇿"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("01/01/2024, 08:00 - Messages and calls are end-to-end encrypted. Tap to learn more.\n")
        for i in range(n):
            t += timedelta(seconds=rng.randint(5, 120))
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 14)))
            if i % 7 == 0:
                text += f" https://youtu.be/{'abcdefghijk'[:10]}{i % 10}"
            if i % 11 == 0:
                text += "\nsecond line"
            fh.write(f"{t:%d/%m/%Y, %H:%M} - {rng.choice(names)}: {text}\n")


def write_notices(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    actions = ["complaint", "removed", "strike", "warning", "restricted"]
    policies = ["Harassment and cyberbullying", "Violent criminal organizations", "Hate speech", "Spam"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("received_at,target_url,action,policy,sender\n")
        for _ in range(n):
            t += timedelta(seconds=rng.randint(1, 60))
            vid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789") for _ in range(11))
            fh.write(f"{t:%Y-%m-%dT%H:%M:%SZ},https://www.youtube.com/watch?v={vid},{rng.choice(actions)},"
                     f"{rng.choice(policies)},YouTube\n")


def write_telegram(path: Path, n: int, seed: int = 0) -> None:
    path.write_bytes(synthetic_export(n, seed=seed))


WRITERS = {"telegram_json": ("result.json", write_telegram), "whatsapp": ("WhatsApp Chat with Bench.txt", write_whatsapp),
           "notices_csv": ("notices.csv", write_notices)}


def run_ingest(path: Path, db: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``detector ingest`` in its own child process."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(DETECTOR), "ingest", str(path), "--db", str(db), "--tz", "UTC", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)     # this child's own rusage, not all children's
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed: {proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--formats", default=",".join(WRITERS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest.json",
                        help="where to write the results (default bench/results/ingest.json)")
    parser.add_argument("--write", nargs=3, metavar=("FORMAT", "N", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        fmt, n, path = args.write
        WRITERS[fmt][1](Path(path), int(n))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            name, _ = WRITERS[fmt]
            for n in sizes:
                folder = Path(tmp) / f"{fmt}_{n}"
                folder.mkdir()
                path = folder / name
                # Written by a separate process: a child forked from a parent holding a 500 MB
                # export would inherit its memory high-water mark (ru_maxrss survives exec).
                subprocess.run([sys.executable, __file__, "--write", fmt, str(n), str(path)], check=True)
                # A short synthetic chat has only dates <= 12: say the order rather than detect it.
                extra = ["--dayfirst"] if fmt == "whatsapp" else []
                seconds, peak = run_ingest(path, Path(tmp) / f"{fmt}_{n}.duckdb", extra)
                row = {"format": fmt, "rows": n, "mb": round(path.stat().st_size / 2**20, 1),
                       "seconds": round(seconds, 2), "rows_per_s": round(n / seconds), "peak_mib": round(peak)}
                rows.append(row)
                print(f"{fmt:14} {n:>9,} rows {row['mb']:>7} MB {seconds:8.2f} s {row['rows_per_s']:>9,} rows/s "
                      f"peak {row['peak_mib']:>6} MiB", flush=True)
                path.unlink()
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "command": "python bench/ingest.py " + " ".join(sys.argv[1:]), "when": datetime.now(UTC).isoformat(),
           "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
