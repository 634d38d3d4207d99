"""One writer at a time, readers always: how processes share a case file.

DuckDB locks a database file per process: while one process has it open for writing, no other
process can open it at all, not even read-only, and a reader in turn keeps a writer out. So:

- A writer (ingest, analyze, alias, collect) first takes the *case lock*, an OS lock on
  ``<case>.lock`` beside the case file, waiting up to a bounded time and saying on stderr who
  holds it (the lock file records the holder's command, process id and start time). The OS
  drops the lock when its process ends, even by ``kill -9``, so no stale lock outlives a crash.
- Holding it, the writer opens DuckDB (retrying briefly while a reader finishes a query), writes,
  checkpoints and closes, then *publishes a snapshot*: a copy of the closed file, written beside
  it and renamed over ``<case>.snapshot`` in one atomic step, before it lets the lock go.
- A reader opens the case file read-only when no writer holds the lock. While one does, it opens
  the snapshot instead: the case as the last completed write left it, whole. A reader therefore
  sees the old state or the new one, never a mixture, and never waits for a long analysis.

POSIX only (``fcntl``); the app and CLI run on Linux and macOS.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from detector.errors import DetectorError

DEFAULT_WAIT_S = 60.0
WAIT_ENV = "DETECTOR_LOCK_WAIT"
_POLL_S = 0.1
_DUCKDB_PID = re.compile(r"PID (\d+)")


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def snapshot_path(db: Path) -> Path:
    return db.with_name(db.name + ".snapshot")


def case_files(db: str | Path) -> list[Path]:
    """Every file whose change means the case's visible state may have changed (for cache keys)."""
    db = Path(db)
    return [db, db.with_name(db.name + ".wal"), snapshot_path(db), lock_path(db)]


def lock_wait(seconds: float | None = None) -> float:
    """How long a writer waits for the case lock: ``seconds``, else $DETECTOR_LOCK_WAIT, else 60."""
    if seconds is None:
        raw = os.environ.get(WAIT_ENV, "").strip()
        if not raw:
            return DEFAULT_WAIT_S
        try:
            seconds = float(raw)
        except ValueError:
            raise DetectorError(f"{WAIT_ENV}={raw!r} is not a number of seconds",
                                hint=f"e.g. {WAIT_ENV}=120") from None
    if not seconds >= 0:
        raise DetectorError(f"the lock wait must be 0 or more seconds, not {seconds}")
    return float(seconds)


@dataclass(frozen=True)
class Holder:
    """Who holds a case lock, as its lock file says."""

    command: str
    pid: int
    since: datetime

    def describe(self) -> str:
        return f"another {self.command} (pid {self.pid}) is running since {self.since:%H:%M:%S} UTC"


def _read_holder(path: Path) -> Holder | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "null")
        return Holder(str(info["command"]), int(info["pid"]), datetime.fromisoformat(info["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def current_holder(db: str | Path) -> Holder | None:
    """The writer holding the case lock now, or None (a quick probe that never waits)."""
    path = lock_path(Path(db))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path) or Holder("writer", 0, datetime.now(UTC))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def case_lock(db: Path, command: str, wait: float | None = None,
              notify: Callable[[str], None] = _stderr) -> Iterator[float]:
    """Hold the case lock of ``db`` for ``command``; yields the deadline (``time.monotonic``).

    Waits up to ``wait`` seconds (:func:`lock_wait`) while another writer holds it, telling
    ``notify`` once per holder; raises :class:`DetectorError` naming the holder when time runs out.
    """
    wait = lock_wait(wait)
    deadline = time.monotonic() + wait
    path = lock_path(db)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    told: set[int] = set()
    held = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                holder = _read_holder(path)
                if holder and holder.pid not in told:
                    told.add(holder.pid)
                    notify(f"{holder.describe()}; waiting up to {wait:g} s")
                if time.monotonic() >= deadline:
                    what = holder.describe() if holder else "another program is writing this case"
                    raise DetectorError(f"{what}; gave up after waiting {wait:g} s", db,
                                        hint=f"try again when it has finished, or wait longer with --wait SECONDS "
                                             f"(or {WAIT_ENV})") from None
                time.sleep(_POLL_S)
        if told:
            notify("the other writer has finished; continuing")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"command": command, "pid": os.getpid(),
                                  "since": datetime.now(UTC).isoformat()}).encode(), 0)
        yield deadline
    finally:
        if held:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)     # released: nobody is named as the holder any more
        os.close(fd)                    # closing the descriptor releases the flock


def connect_writer(db: Path, deadline: float) -> duckdb.DuckDBPyConnection:
    """A read-write connection, retrying until ``deadline`` while a reader has the file open."""
    while True:
        try:
            return duckdb.connect(str(db))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                pid = _DUCKDB_PID.search(str(exc))
                raise DetectorError("the case file is open in another program"
                                    + (f" (pid {pid.group(1)})" if pid else ""), db,
                                    hint="close it (a DuckDB shell, a notebook) and try again") from None
            time.sleep(_POLL_S)
        except duckdb.Error as exc:
            raise DetectorError(f"cannot open the case file: {exc}", db) from None


def close_and_publish(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Checkpoint and close a writer's connection, then publish the snapshot readers fall back to.

    The copy is written beside the snapshot and renamed over it, so a reader opens the old
    snapshot or the new one, never a half-copied file. When the copy fails (a full disk) the old
    snapshot is removed rather than left claiming to be the latest state.
    """
    try:
        con.execute("CHECKPOINT").fetchall()    # everything in the main file, no WAL to copy
    finally:
        con.close()
    snapshot = snapshot_path(db)
    partial = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(db, partial)
        os.replace(partial, snapshot)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        snapshot.unlink(missing_ok=True)
        _stderr(f"warning: could not save the read snapshot of the case ({exc.strerror}); readers will wait "
                "for writers to finish")


def connect_reader(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the case's last committed state (the file, or its snapshot while a
    writer holds the case lock). Raises :class:`DetectorError` when neither can be read."""
    holder = current_holder(db)
    snapshot = snapshot_path(db)
    if holder is not None and snapshot.exists():
        return _connect_read_only(snapshot, db)
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        # "lock": a writer in another process; "configuration": one in this process (the app)
        if not any(word in str(exc).lower() for word in ("lock", "configuration")):
            raise DetectorError(f"cannot open the case file: {exc}", db) from None
        if snapshot.exists():
            return _connect_read_only(snapshot, db)
        holder = holder or current_holder(db)
        pid = _DUCKDB_PID.search(str(exc))
        who = holder.describe() if holder else ("another program has the case open for writing"
                                                + (f" (pid {pid.group(1)})" if pid else ""))
        raise DetectorError(f"{who} and the case has no saved state to read meanwhile", db,
                            hint="try again when it has finished") from None


def _connect_read_only(snapshot: Path, db: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error as exc:
        raise DetectorError(f"cannot open the case's read snapshot: {exc}", db) from None
