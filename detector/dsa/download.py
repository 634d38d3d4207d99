"""Daily dump zips and their ``.sha1`` files, fetched with resume and checked.

The database publishes, per day and per platform (or ``global``), ``sor-<slug>-<date>-full.zip``
and ``sor-<slug>-<date>-light.zip`` each with a ``.sha1`` beside it, in the bucket named in its
code (``config/filesystems.php``: bucket ``dsa-sor-data-dumps``, region ``eu-central-1``;
``getAggregates.sh`` uses the same host). The base URL is configurable (``--base-url`` or
``DETECTOR_DSA_BASE_URL``) for mirrors and tests.

A failed download or a checksum mismatch raises :class:`DetectorError` (the CLI exits non-zero).
A partial download is kept as ``<name>.part`` and resumed with an HTTP Range request; a server
that ignores the range starts it over. A finished file whose SHA-1 matches is not fetched again;
a file that no longer matches (the dump was regenerated) is fetched again.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from detector.dsa.convert import platform_slug, sha1_of
from detector.errors import DetectorError

DEFAULT_BASE_URL = "https://dsa-sor-data-dumps.s3.eu-central-1.amazonaws.com"
CHUNK = 1 << 20
TIMEOUT_S = 60


def base_url(override: str | None = None) -> str:
    return (override or os.environ.get("DETECTOR_DSA_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def dump_name(platform: str, day: str, full: bool) -> str:
    return f"sor-{platform_slug(platform)}-{day}-{'full' if full else 'light'}.zip"


@dataclass
class Downloaded:
    path: Path
    sha1: str
    fetched_bytes: int      # 0 when the file was already there and matched


def _get(url: str, start: int = 0):
    req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        return urllib.request.urlopen(req, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            return None          # the .part is already complete
        raise DetectorError(f"download failed: HTTP {exc.code} {exc.reason}", path=url,
                            hint="check the platform and dates (dumps exist from 2023-09-25 on)") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DetectorError(f"download failed: {getattr(exc, 'reason', exc)}", path=url,
                            hint="check the network or --base-url; run again to resume") from None


def fetch_sha1(url: str) -> str:
    with _get(url) as resp:
        text = resp.read(4096).decode("ascii", "replace").strip()
    digest = text.split()[0].lower() if text else ""
    if len(digest) != 40 or any(c not in "0123456789abcdef" for c in digest):
        raise DetectorError(f"not a SHA-1 checksum file (starts {text[:40]!r})", path=url)
    return digest


def download_one(url: str, dest: Path, on_bytes: Callable[[int, int | None], None] | None = None) -> Downloaded:
    """Fetch ``url`` to ``dest`` (resuming ``dest.part``) and check it against ``url + '.sha1'``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = fetch_sha1(url + ".sha1")
    sidecar = dest.with_name(dest.name + ".sha1")
    if dest.is_file() and sha1_of(dest) == expected:
        sidecar.write_text(f"{expected}  {dest.name}\n")
        return Downloaded(dest, expected, 0)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    fetched = 0
    resp = _get(url, start)
    if resp is not None:
        with resp:
            resumed = start and resp.status == 206
            total = resp.headers.get("Content-Length")
            total = int(total) + (start if resumed else 0) if total else None
            with open(part, "ab" if resumed else "wb") as f:
                done = start if resumed else 0
                try:
                    while block := resp.read(CHUNK):
                        f.write(block)
                        done += len(block)
                        fetched += len(block)
                        if on_bytes:
                            on_bytes(done, total)
                except (OSError, TimeoutError) as exc:
                    raise DetectorError(f"download interrupted after {done} bytes: {exc}", path=url,
                                        hint="run the same command again to resume") from None
            if total is not None and done != total:
                raise DetectorError(f"download ended after {done} of {total} bytes", path=url,
                                    hint="run the same command again to resume")
    actual = sha1_of(part)
    if actual != expected:
        part.unlink()
        raise DetectorError(f"SHA-1 mismatch: got {actual}, the .sha1 file says {expected}", path=url,
                            hint="the dump may have been regenerated while downloading; run again")
    part.replace(dest)
    sidecar.write_text(f"{expected}  {dest.name}\n")
    return Downloaded(dest, expected, fetched)


def download(platform: str, start: str, end: str, out: Path, full: bool = False, base: str | None = None,
             on_file: Callable[[str], None] | None = None,
             on_bytes: Callable[[str, int, int | None], None] | None = None) -> list[Downloaded]:
    """Every daily dump of ``platform`` (a name or slug, or ``global``) from ``start`` to ``end``."""
    try:
        days = pd.date_range(start, end, freq="D")
    except (ValueError, TypeError) as exc:
        raise DetectorError(f"bad date range {start}..{end}: {exc}", hint="use dates like 2025-07-01") from None
    if len(days) == 0:
        raise DetectorError(f"--from {start} is after --to {end}")
    root = base_url(base)
    got = []
    for day in days:
        name = dump_name(platform, day.strftime("%Y-%m-%d"), full)
        if on_file:
            on_file(name)
        got.append(download_one(f"{root}/{name}", Path(out) / name,
                                (lambda d, t, name=name: on_bytes(name, d, t)) if on_bytes else None))
    return got
