"""Every file of a real WhatsApp corpus through the reader: how many ingest, and why the rest do not.

The corpus is kept out of this repository (its files come from hundreds of people's
repositories under unknown licences). The one measured in bench/RESULTS.md is the test data
of ``starkdmi/whats_json`` (GPL-3.0 code; the chats were gathered from public GitHub
repositories, their file names say which): 476 files under ``test/data`` (``chats_unique``,
``android``, ``ios``, ``languages``, ``calendars``). Get it with::

    git clone --depth 1 https://github.com/starkdmi/whats_json /tmp/whats_json
    .venv/bin/python bench/whatsapp_corpus.py /tmp/whats_json/test/data

Each file goes through what ``detector ingest FILE --tz UTC`` does: format detection (the
sniff), the reader, and the plausible-date check. A file *ingests* when it is recognised as
WhatsApp, yields at least two messages and every date is plausible (2009, the year WhatsApp
appeared, to two days from now). A file whose dates all read both ways gets its order from its
attachment names, chronology or conventions (counted apart: how many were decided by which); one that
nothing settles is counted apart and read again as a user would settle it (``--dayfirst``); it
is not counted as ingesting unaided. Files with messages dated years off their neighbours
(kept and flagged ``date_suspect``) are counted too.
Nothing here is a test; ``--json OUT`` writes the per-file outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import pandas as pd

EARLIEST = pd.Timestamp("2009-01-01", tz="UTC")


def outcome(path: Path, dayfirst: bool | None = None) -> dict:
    """What ingesting ``path`` alone gives: status, messages, date span and the reader's notes."""
    from detector.collect import detect_format
    from detector.collect.base import ReadOptions
    from detector.errors import DetectorError
    from detector.ingestion import check_parsed

    row: dict = {"file": str(path)}
    try:
        fmt = detect_format(path)
        if fmt is None or fmt.name != "whatsapp":
            row.update(status="unknown format", detail=fmt.name if fmt else "")
            return row
        parsed = fmt.read(path, ReadOptions(tz="UTC", dayfirst=dayfirst))
        check_parsed(parsed, path)
    except DetectorError as exc:
        ambiguous = "ambiguous" in exc.message
        row.update(status="ambiguous order" if ambiguous else "refused", detail=str(exc)[:300])
        return row
    except Exception:   # noqa: BLE001 - a traceback is what this counts
        row.update(status="traceback", detail=traceback.format_exc(limit=3)[-600:])
        return row
    posts = parsed.frames["posts"]
    times = posts["posted_at"]
    row.update(messages=parsed.detail["messages"], posts=len(posts),
               first=str(times.min()) if len(times) else None, last=str(times.max()) if len(times) else None,
               date_order=parsed.detail.get("date_order"), order_reason=parsed.detail.get("date_order_reason"),
               date_suspect_lines=parsed.detail.get("date_suspect_lines", []), notes=parsed.detail.get("notes", []))
    if parsed.detail["messages"] < 2:
        row["status"] = "fewer than 2 messages"
    elif len(times) and times.min() < EARLIEST:
        row["status"] = "implausible dates"
    else:
        row["status"] = "ingests"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path, help="a folder of WhatsApp exports (.txt, .zip), searched recursively")
    parser.add_argument("--json", type=Path, help="write every file's outcome here")
    parser.add_argument("--show", type=int, default=40, help="list at most this many files that do not ingest")
    args = parser.parse_args(argv)

    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".zip"))
    started = time.perf_counter()
    rows = []
    for path in files:
        row = outcome(path)
        if row["status"] == "ambiguous order":
            row["settled_by_dayfirst"] = outcome(path, dayfirst=True)["status"]
        rows.append(row)
    elapsed = time.perf_counter() - started

    counts = Counter(r["status"] for r in rows)
    inferred = sum(any("have no year" in n for n in r.get("notes", [])) for r in rows)
    print(f"{len(files)} files in {args.folder} ({elapsed:.1f} s, load average {os.getloadavg()[0]:.1f})")
    for status, n in counts.most_common():
        print(f"  {status:24} {n}")
    print(f"  files whose years were inferred: {inferred}")
    sources = ("attachment names", "chronology", "conventions")
    decided = Counter(next((w for w in sources if (r.get("order_reason") or "").startswith(f"date order inferred from {w}")
                            or (r.get("order_reason") or "").startswith(f"date order inferred from the export's {w}")),
                           None) for r in rows)
    print("  date order inferred from " + ", ".join(f"{w}: {decided[w]}" for w in sources))
    suspects = [r for r in rows if r.get("date_suspect_lines")]
    print(f"  files with date_suspect messages: {len(suspects)} "
          f"({sum(len(r['date_suspect_lines']) for r in suspects)} messages)")
    settled = Counter(r.get("settled_by_dayfirst") for r in rows if "settled_by_dayfirst" in r)
    if settled:
        print("  ambiguous files read with --dayfirst: " + ", ".join(f"{k} {v}" for k, v in settled.items()))
    failing = [r for r in rows if r["status"] not in ("ingests", "ambiguous order")]
    for r in failing[: args.show]:
        print(f"- {r['status']}: {Path(r['file']).relative_to(args.folder)}\n    {r.get('detail', '')[:240]}")
    if args.json:
        args.json.write_text(json.dumps({"folder": str(args.folder), "files": len(files), "counts": counts,
                                         "seconds": round(elapsed, 1), "rows": rows}, indent=1, default=str))
    return 0 if not failing else 1


if __name__ == "__main__":
    sys.exit(main())
