"""What keeping the original files costs an ingest: time, peak memory and case size.

``python bench/custody.py [FILE]`` ingests FILE (default: a 485 MB synthetic Telegram export of
random words, written once to the temporary folder) into two fresh cases, once with
the originals kept and once with that step disabled, each in its own process, and prints rows,
seconds, peak RSS and case size. Figures and the load average are in bench/RESULTS.md.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_BYTES = 485_000_000

_CHILD = """
import os, resource, sys, time
import detector.ingestion as ing
mode, path, db = sys.argv[1:4]
if mode == "without":
    ing.store_original = lambda case, p, sha: None
t = time.time()
r = ing.ingest([path], db, fmt="telegram_json")
print(f"{mode} originals: {r.rows} rows, {time.time() - t:.0f} s, peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB, case {os.path.getsize(db) / 1e6:.0f} MB, "
      f"load {' '.join(open('/proc/loadavg').read().split()[:3])}")
"""


def write_export(path: Path, target: int = TARGET_BYTES, seed: int = 1) -> None:
    """A Telegram export of random words from a 20,000-word vocabulary (compresses about 2:1)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщыэюя"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(20_000)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"name":"x","type":"public_channel","id":1,"messages":[\n')
        size = i = 0
        while size < target:
            m = {"id": i, "type": "message", "date": "2024-05-01T12:00:00", "date_unixtime": str(1714560000 + i),
                 "from": f"user{rng.randint(1, 5000)}", "from_id": f"user{rng.randint(1, 10**9)}",
                 "text": " ".join(rng.choice(vocab) for _ in range(rng.randint(3, 60)))}
            line = json.dumps(m, ensure_ascii=False) + ",\n"
            fh.write(line)
            size += len(line.encode())
            i += 1
        fh.write('{"id": -1, "type": "service"}]}\n')


def main(argv: list[str]) -> None:
    if argv:
        path = Path(argv[0])
    else:
        path = Path(tempfile.gettempdir()) / "custody-big.json"
        if not path.exists():
            write_export(path)
    for mode in ("without", "with"):
        db = path.with_name(f"custody-{mode}.duckdb")
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-c", _CHILD, mode, str(path), str(db)], check=True)
        db.unlink(missing_ok=True)


if __name__ == "__main__":
    main(sys.argv[1:])
