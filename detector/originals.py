"""Copies of the original input files, kept inside the case beside their SHA-256, gzip-compressed.

The case stays one file, and every row can be re-derived from the bytes it came from. A file is
stored once per content hash (ingesting it again stores nothing), as consecutive chunks of one
gzip stream in ``original_chunks``: it is read, hashed and compressed block by block, so a
500 MB export never sits whole in memory. The hash is recomputed while copying: a file that
changed since it was parsed is refused. Chunks joined in order are a standard ``.gz`` stream.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from detector.errors import DetectorError

ORIGINALS = "originals"
CHUNKS = "original_chunks"
CODEC = "gzip"
LEVEL = 3                 # zlib level: about twice level 6's speed for a quarter more bytes (see README)
READ_BLOCK = 1 << 20
CHUNK_BYTES = 4 << 20     # compressed bytes per stored row


@dataclass(frozen=True)
class StoredOriginal:
    sha256: str
    bytes: int
    stored_bytes: int
    chunks: int


def _ensure_tables(case) -> None:
    case.con.execute(f'CREATE TABLE IF NOT EXISTS "{ORIGINALS}" (sha256 VARCHAR, bytes BIGINT, '
                     'stored_bytes BIGINT, chunks BIGINT, codec VARCHAR, stored_at TIMESTAMPTZ)').fetchall()
    case.con.execute(f'CREATE TABLE IF NOT EXISTS "{CHUNKS}" (sha256 VARCHAR, seq BIGINT, data BLOB)').fetchall()


def has_original(case, sha256: str) -> bool:
    if not case.has_table(ORIGINALS):
        return False
    return bool(case.con.execute(f'SELECT count(*) FROM "{ORIGINALS}" WHERE sha256 = ?', [sha256]).fetchall()[0][0])


def store_original(case, path: str | Path, sha256: str) -> StoredOriginal | None:
    """Copy the file at ``path`` into the case unless a file with this hash is there; the caller
    holds the transaction. Returns what was stored, or None when it was already kept.

    Raises DetectorError when the file's bytes no longer hash to ``sha256``.
    """
    if has_original(case, sha256):
        return None
    _ensure_tables(case)
    path = Path(path)
    h = hashlib.sha256()
    gz = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)        # wbits 31: a gzip container
    pending: list[bytes] = []
    pending_bytes = seq = size = stored = 0

    def flush_pending(final: bool = False) -> None:
        nonlocal pending, pending_bytes, seq, stored
        while pending_bytes >= CHUNK_BYTES or (final and pending_bytes):
            joined = b"".join(pending)
            chunk, rest = joined[:CHUNK_BYTES], joined[CHUNK_BYTES:]
            case.con.execute(f'INSERT INTO "{CHUNKS}" VALUES (?, ?, ?)', [sha256, seq, chunk]).fetchall()
            seq += 1
            stored += len(chunk)
            pending, pending_bytes = ([rest], len(rest)) if rest else ([], 0)

    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(READ_BLOCK), b""):
            h.update(block)
            size += len(block)
            out = gz.compress(block)
            if out:
                pending.append(out)
                pending_bytes += len(out)
                flush_pending()
    pending.append(gz.flush())
    pending_bytes += len(pending[-1])
    flush_pending(final=True)
    if h.hexdigest() != sha256:
        raise DetectorError("the file changed while it was being ingested", path,
                            hint="ingest it again once nothing is writing to it")
    case.con.execute(f'INSERT INTO "{ORIGINALS}" VALUES (?, ?, ?, ?, ?, ?)',
                     [sha256, size, stored, seq, CODEC, datetime.now(UTC)]).fetchall()
    return StoredOriginal(sha256, size, stored, seq)


def original_list(case) -> pd.DataFrame:
    """One row per kept original: sha256, bytes, stored_bytes, chunks, codec, stored_at."""
    if not case.has_table(ORIGINALS):
        return pd.DataFrame(columns=["sha256", "bytes", "stored_bytes", "chunks", "codec", "stored_at"])
    return case.con.execute(f'SELECT * FROM "{ORIGINALS}" ORDER BY stored_at, sha256').df()


def source_copies(case) -> pd.DataFrame:
    """The case's sources (sha256, kind, name, rows, ingested_at) with the size of each kept copy:
    ``bytes`` and ``stored_bytes``, missing where the case keeps none."""
    sources = case.con.execute("SELECT sha256, kind, name, rows, ingested_at FROM sources "
                               "ORDER BY ingested_at, name").df()
    kept = original_list(case)[["sha256", "bytes", "stored_bytes"]]
    return sources.merge(kept, on="sha256", how="left")


def resolve_hash(case, prefix: str) -> str:
    """The one kept original whose SHA-256 starts with ``prefix`` (at least 8 hex digits)."""
    prefix = prefix.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", prefix):
        raise DetectorError(f"{prefix!r} is not a SHA-256 or a prefix of one",
                            hint="give at least 8 hex digits, as detector sources lists them")
    known = original_list(case)["sha256"].tolist()
    found = [s for s in known if s.startswith(prefix)]
    if not found:
        raise DetectorError(f"the case keeps no original file with SHA-256 {prefix}…",
                            hint="detector sources lists the kept originals")
    if len(found) > 1:
        raise DetectorError(f"{prefix} matches {len(found)} originals", hint="give more hex digits")
    return found[0]


def iter_original(case, sha256: str) -> Iterator[bytes]:
    """The original's bytes, block by block (decompressed chunk by chunk)."""
    gz = zlib.decompressobj(31)
    n = case.con.execute(f'SELECT chunks FROM "{ORIGINALS}" WHERE sha256 = ?', [sha256]).fetchall()[0][0]
    for seq in range(int(n)):
        rows = case.con.execute(f'SELECT data FROM "{CHUNKS}" WHERE sha256 = ? AND seq = ?', [sha256, seq]).fetchall()
        if not rows:
            raise DetectorError(f"the kept copy of {sha256[:12]} lacks chunk {seq}")
        out = gz.decompress(rows[0][0])
        if out:
            yield out
    tail = gz.flush()
    if tail:
        yield tail


def extract_original(case, prefix: str, out: str | Path) -> tuple[str, int]:
    """Write the kept original matching ``prefix`` to ``out`` (atomically), checking its SHA-256.

    Returns (sha256, bytes written).
    """
    sha = resolve_hash(case, prefix)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    h = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as fh:
            for block in iter_original(case, sha):
                h.update(block)
                size += len(block)
                fh.write(block)
        if h.hexdigest() != sha:
            raise DetectorError(f"the kept copy of {sha[:12]} no longer hashes to its SHA-256 (damaged)")
        os.replace(tmp, out)
    except zlib.error as exc:
        tmp.unlink(missing_ok=True)
        raise DetectorError(f"the kept copy of {sha[:12]} is damaged ({exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return sha, size
