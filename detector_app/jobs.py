"""Long writes of the app (ingest and re-analysis) in a background thread, one per case file.

A Streamlit script stops when the user moves to another page; an analysis of a large case must
not. A job runs in a thread of the server process, so it survives page changes and reloads, and
records its progress (fraction, step) where every page can read it: :func:`current` gives the
case's latest job, and :func:`show_progress` draws it on any page, refreshing itself until the
job ends. Readers keep working meanwhile (they read the case's last committed snapshot, see
:mod:`detector.caselock`). A job's failure is kept as one line for the user; an unexpected one
goes to the server's log with its traceback, never to the browser.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from detector.errors import DetectorError

log = logging.getLogger("detector_app")


@dataclass
class Job:
    """One background write on one case file."""

    db: str
    title: str                       # "Ingesting 3 files and re-analysing"
    fraction: float = 0.0
    step: str = "Starting…"
    state: str = "running"           # running | done | failed
    error: str | None = None         # one line for the user when failed
    result: object = None            # what the work returned (e.g. the ingest report)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    seen: bool = False               # the outcome was shown once on the page that asked for it

    @property
    def running(self) -> bool:
        return self.state == "running"

    def report(self, fraction: float, step: str) -> None:
        self.fraction, self.step = max(0.0, min(1.0, float(fraction))), str(step)


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def _key(db: str | Path) -> str:
    return str(Path(db).resolve())


def current(db: str | Path) -> Job | None:
    """The case's latest job (running or finished), or None."""
    with _LOCK:
        return _JOBS.get(_key(db))


def start(db: str | Path, title: str, work: Callable[[Callable[[float, str], None]], object],
          cleanup: Path | None = None) -> Job:
    """Run ``work(report)`` in a background thread; refuses a second job on the same case.

    ``work`` receives a ``report(fraction, step)`` callback and returns what the job's page shows
    at the end. ``cleanup``: a temporary folder removed when the job ends (uploaded files).
    """
    key = _key(db)
    with _LOCK:
        running = _JOBS.get(key)
        if running is not None and running.running:
            raise DetectorError(f"this case is already being updated ({running.title.lower()}, "
                                f"{running.step.lower()})", hint="wait for it to finish")
        job = _JOBS[key] = Job(db=str(db), title=title)

    def run() -> None:
        state, error = "done", None
        try:
            job.result = work(job.report)
            job.report(1.0, "Done")
        except DetectorError as exc:
            state, error = "failed", str(exc)
        except Exception:      # noqa: BLE001 - shown as one line; the traceback goes to the server log
            log.exception("background job %r on %s failed", title, key)
            state, error = "failed", "an unexpected error stopped it (details are in the server's log)"
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
            job.ended = time.time()
            job.error, job.state = error, state      # last: a job is over only when everything is done

    threading.Thread(target=run, name=f"detector-job-{Path(key).name}", daemon=True).start()
    return job


SHOW_OUTCOME_S = 120     # how long a finished job's outcome stays on the pages


def show_progress(db: str | Path, on_done: Callable[[Job], None] | None = None) -> None:
    """Draw the case's job on this page: a progress bar while it runs (refreshing every second),
    then, for a while, its outcome. ``on_done(job)`` draws what a finished job produced."""

    @st.fragment(run_every=1.0)
    def _poll() -> None:
        job = current(db)
        if job is None:
            return
        if job.running:
            st.progress(job.fraction, text=f"{job.title}: {job.step} ({time.time() - job.started:.0f} s; "
                                           "you can use the other pages meanwhile)")
            return
        if not job.seen:              # just finished: read everything afresh, once
            job.seen = True
            st.cache_data.clear()
            st.rerun()
        if time.time() - (job.ended or 0) > SHOW_OUTCOME_S:
            return
        if job.state == "failed":
            # the error quotes the input at fault (a file name, a cell): shown as typed, never as Markdown
            from detector_app.ui import plain_markdown

            st.error(plain_markdown(f"{job.title} stopped: {job.error or 'failed'}"), icon="⚠️")
        else:
            st.success(f"{job.title}: done in {job.ended - job.started:.0f} s.")
            if on_done is not None:
                on_done(job)

    _poll()
