"""Plumbing of the Streamlit shell (``app.py``): which case is open, cached reads, writes.

Reads go through ``st.cache_data`` functions keyed by the case file's path and version (its
and its WAL's modification time), each opening its own read-only connection and closing it, so
no DuckDB connection outlives a query or crosses threads; a write (ingest, analysis) changes
the version and the next rerun reads afresh. Everything shown comes from the library
(:mod:`detector.results`, :mod:`detector.views`, :mod:`detector.status`); nothing is computed here.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from detector.bundled import DEMO_DIR  # noqa: E402  (the bundled demo case)
from detector.errors import DetectorError
from detector.store import Case

ROOT = Path(__file__).resolve().parent.parent      # the folder app.py runs from
DATA_DIR = ROOT / "data"
DEMO_DB = DATA_DIR / "demo.duckdb"
ENV_DB = "DETECTOR_DB"
ENV_CASES = "DETECTOR_CASES_DIR"
CASES_DIR = ROOT / "cases"
MAX_UPLOAD_MB = 200          # also server.maxUploadSize in .streamlit/config.toml
OTHER = "Another case file…"
PAGES = {"campaigns": "detector_app/pages/campaigns.py", "campaign": "detector_app/pages/campaign.py",
         "check": "detector_app/pages/check.py", "explore": "detector_app/pages/explore.py",
         "add": "detector_app/pages/add_data.py", "watch": "detector_app/pages/watch.py"}

# One writer at a time in this process: DuckDB refuses a read-write connection while another is open.
_WRITE_LOCK = threading.RLock()


# -- showing hostile text ----------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_markdown(text: object) -> str:
    """``text`` escaped so Streamlit's Markdown shows it as typed: no links, images, emphasis or
    colour directives from a chat title, a file name or a CSV cell (they come from adversaries)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def show_error(exc: Exception) -> None:
    """An error box whose message is shown as plain text (messages quote the input at fault)."""
    st.error(plain_markdown(exc))


# -- which case ------------------------------------------------------------------------------------
def case_version(db: str | Path) -> int:
    """The case's version for cache keys: the newest mtime (ns) of its file, WAL, read snapshot and
    lock file (a write changes one of them when it starts and when it ends); 0 if absent."""
    from detector.caselock import case_files

    stamps = [p.stat().st_mtime_ns for p in case_files(db) if p.exists()]
    return max(stamps, default=0)


def case_roots() -> list[Path]:
    """The folders the app may open cases from: $DETECTOR_CASES_DIR, else the app's cases/ and
    data/ (where the CLI and the demo keep theirs)."""
    if os.environ.get(ENV_CASES, "").strip():
        return [Path(os.environ[ENV_CASES].strip()).expanduser().resolve()]
    return [CASES_DIR.resolve(), DATA_DIR.resolve()]


def case_allowed(path: Path) -> bool:
    """Whether the app may open ``path``: a .duckdb file inside :func:`case_roots`, the demo case, or
    the case the operator named in $DETECTOR_DB. Symlinks and ``..`` are resolved first, so a
    visitor cannot reach other server files through the path box."""
    path = path.expanduser().resolve()
    named = [DEMO_DB.resolve()] + ([Path(os.environ[ENV_DB]).expanduser().resolve()] if os.environ.get(ENV_DB) else [])
    return path in named or (path.suffix == ".duckdb" and any(path.is_relative_to(r) for r in case_roots()))


def shown_path(path: str | Path) -> str:
    """A case path as the app shows it: relative to the app's folder when inside it."""
    return _show(Path(path))


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def case_choices() -> list[str]:
    """The case given in $DETECTOR_DB, the demo case and every .duckdb under data/, without repeats."""
    found = []
    if os.environ.get(ENV_DB):
        found.append(Path(os.environ[ENV_DB]).expanduser().resolve())
    found.append(DEMO_DB)
    for root in case_roots():
        found += sorted(root.rglob("*.duckdb")) if root.is_dir() else []
    seen, out = set(), []
    for path in found:
        if path not in seen:
            seen.add(path)
            out.append(_show(path))
    return out


def pick_case() -> Path:
    """The case picker in the sidebar; remembers the choice in ``st.session_state['case']``."""
    choices = case_choices() + [OTHER]
    choice = st.sidebar.selectbox("Case", choices, key="case_choice",
                                  help="A case is one DuckDB file. Set DETECTOR_DB to open another by default.")
    if choice == OTHER:
        typed = st.sidebar.text_input("Path to a .duckdb case file", key="case_typed",
                                      placeholder="cases/my-case.duckdb",
                                      help="Only case files inside " + " or ".join(
                                          _show(r) + "/" for r in case_roots()) + f" (set {ENV_CASES} to serve "
                                           "another folder).")
        path = Path(typed.strip()).expanduser() if typed.strip() else Path(st.session_state.get("case") or DEMO_DB)
    else:
        path = Path(choice).expanduser()
    path = path if path.is_absolute() else ROOT / path
    if not case_allowed(path):
        st.error(plain_markdown(
            "This app opens case files (.duckdb) only inside " + " or ".join(_show(r) + "/" for r in case_roots())
            + f". Put the case there, or start the app with {ENV_CASES} set to the folder that holds it."))
        st.stop()
    st.session_state["case"] = str(path)
    return path


def run_page(page) -> None:
    """Run the selected page; an error the user can fix is shown as such, anything else as one line
    (the traceback goes to the server's log, never to the browser: it would show local paths)."""
    try:
        page.run()
    except DetectorError as exc:
        show_error(exc)
    except Exception:
        logging.getLogger("detector_app").exception("the page stopped on an unexpected error")
        st.error("This page stopped on an unexpected error. The details are in the app's log on the server.")


def current_case() -> tuple[str, int]:
    """(path, version) of the case picked in the sidebar."""
    db = st.session_state.get("case") or str(DEMO_DB)
    return db, case_version(db)


def require_case() -> tuple[str, int]:
    """The current case, or a message and a stop when its file does not exist yet."""
    db, version = current_case()
    if not Path(db).is_file():
        st.info(f"There is no case file at {_show(Path(db))} yet. Add exports and notice files on the "
                "Add data page to create it, or pick another case in the sidebar.")
        st.page_link(PAGES["add"], label="Add data")
        st.stop()
    try:
        status(db, version)     # cached; fails here, once, if the file cannot be opened (e.g. being written)
        warning = stale(db, version)
    except DetectorError as exc:
        show_error(exc)
        st.stop()
    from detector_app import jobs

    job = jobs.current(db)
    if warning and not (job and job.running):
        st.warning("The results on this page " + warning.removeprefix("these results ") + ".", icon="⚠️")
    if job is not None:
        jobs.show_progress(db)
    return db, version


@st.cache_data(show_spinner=False, max_entries=16)
def parameters(db: str, version: int):
    """The :class:`detector.params.Parameters` of the case's stored analysis."""
    from detector.results import analysis_parameters

    with Case.open(db, read_only=True) as case:
        return analysis_parameters(case)


@st.cache_data(show_spinner=False, max_entries=16)
def stale(db: str, version: int) -> str | None:
    """Why the stored results predate the case's inputs (detector.results.stale_warning), or None."""
    from detector.results import stale_warning

    with Case.open(db, read_only=True) as case:
        return stale_warning(case)


def build_demo_if_missing(db: Path) -> None:
    """On first start, build the demo case from detector/data/demo/ (ingest and analysis) with a progress bar."""
    if db != DEMO_DB or db.exists():
        return
    if not DEMO_DIR.is_dir() or not any(p.is_file() for p in DEMO_DIR.rglob("*")):
        st.sidebar.info("The demo data (detector/data/demo/) is not there yet, so the demo case cannot be built.")
        return
    with _WRITE_LOCK:
        if db.exists():     # another session built it while this one waited
            return
        bar = st.progress(0.0, text="Building the demo case from detector/data/demo/ (first start only)…")
        try:
            ingest_and_analyse([DEMO_DIR], db, progress=lambda f, text: bar.progress(f, text=text))
        except DetectorError as exc:
            show_error(exc)
        finally:
            bar.empty()


# -- writing ----------------------------------------------------------------------------------------
def ingest_and_analyse(paths: list[Path], db: str | Path, tz: str | None = None, dayfirst: bool | None = None,
                       progress: Callable[[float, str], None] | None = None):
    """Ingest ``paths`` into ``db`` (all or nothing), then analyse it; returns the ingest report."""
    from detector.ingestion import ingest

    say = progress or (lambda _f, _t: None)

    def on_file(i: int, n: int, name: str) -> None:
        say(0.6 * i / max(n, 1), f"Reading file {min(i + 1, n)} of {n}" if name else "Writing rows")

    with _WRITE_LOCK:
        report = ingest(paths, db, tz=tz, dayfirst=dayfirst, on_progress=on_file)
        _analyse(db, lambda f, text: say(0.6 + 0.4 * f, text))
    return report


def analyse(db: str | Path, progress: Callable[[float, str], None] | None = None) -> None:
    """(Re-)analyse the case at ``db``."""
    with _WRITE_LOCK:
        _analyse(db, progress or (lambda _f, _t: None))


def _analyse(db: str | Path, say: Callable[[float, str], None]) -> None:
    from detector.analysis import STEPS, analyze_case

    analyze_case(db, on_step=lambda name: say(STEPS.index(name) / len(STEPS), f"Analysing: {name}"))
    say(1.0, "Done")


_EXTENSION = re.compile(r"^\.[a-z0-9]{1,8}$")


def safe_upload_name(index: int, name: str) -> str:
    """A file name generated for an upload: a sequence number, the upload's name reduced to letters,
    digits, spaces, '-' and '_' (WhatsApp chat names live in the file name), and its extension.

    Never a path the upload chose: no separators, no dots but the extension's, bounded length.
    """
    name = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = "." + ext.lower()
    ext = ext if _EXTENSION.match(ext) else ""
    stem = re.sub(r"[^\w \-]+", "_", stem, flags=re.UNICODE)
    stem = re.sub(r"\s+", " ", stem).strip(" _-")[:80]
    while len(stem.encode("utf-8")) > 160:
        stem = stem[:-1]
    return f"upload-{index:03d}" + (f"-{stem}" if stem else "") + ext


def start_ingest_uploads(uploads, db: str | Path, tz: str | None, dayfirst: bool | None):
    """Write the uploads under generated names into a private folder and ingest and re-analyse them
    in the background (:mod:`detector_app.jobs`); the job's result is (ingest report, names)."""
    from detector_app import jobs

    tmp = Path(tempfile.mkdtemp(prefix="detector-upload-"))
    names, paths = {}, []
    for i, upload in enumerate(uploads, start=1):
        safe = safe_upload_name(i, upload.name)
        (tmp / safe).write_bytes(upload.getvalue())
        names[safe] = upload.name
        paths.append(tmp / safe)

    def work(report):
        try:
            return ingest_and_analyse(paths, db, tz=tz, dayfirst=dayfirst, progress=report), names
        except DetectorError as exc:
            if exc.path is not None and Path(exc.path).name in names:   # name the file as the user knows it
                exc.path = names[Path(exc.path).name]
            raise

    n = len(paths)
    return jobs.start(db, f"Ingesting {n} file{'s' if n != 1 else ''} and re-analysing", work, cleanup=tmp)


def start_analysis(db: str | Path):
    """Re-analyse the case in the background (:mod:`detector_app.jobs`)."""
    from detector_app import jobs

    return jobs.start(db, "Re-analysing the case", lambda report: analyse(db, progress=report))


def ingest_uploads(uploads, db: str | Path, tz: str | None, dayfirst: bool | None,
                   progress: Callable[[float, str], None] | None = None) -> tuple[object, dict[str, str]]:
    """Write uploaded files under generated names into a private temporary folder, ingest them
    into ``db`` and re-analyse. Returns the ingest report and {generated name: upload's name}."""
    names = {}
    with tempfile.TemporaryDirectory(prefix="detector-upload-") as tmp:
        paths = []
        for i, upload in enumerate(uploads, start=1):
            safe = safe_upload_name(i, upload.name)
            target = Path(tmp) / safe
            target.write_bytes(upload.getvalue())
            names[safe] = upload.name
            paths.append(target)
        try:
            report = ingest_and_analyse(paths, db, tz=tz, dayfirst=dayfirst, progress=progress)
        except DetectorError as exc:
            # Name the file as the user knows it, not by the name it was stored under.
            if exc.path is not None and Path(exc.path).name in names:
                exc.path = names[Path(exc.path).name]
            raise
    return report, names


# -- cached reads -----------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def campaigns(db: str, version: int) -> list[dict]:
    from detector.results import campaign_list

    with Case.open(db, read_only=True) as case:
        return campaign_list(case)


@st.cache_data(show_spinner=False, max_entries=16)
def status(db: str, version: int):
    from detector.status import case_status

    with Case.open(db, read_only=True) as case:
        return case_status(case), case.analysed()


@st.cache_data(show_spinner=False, max_entries=32)
def campaign_detail(db: str, version: int, campaign_id: str):
    from detector.views import campaign_detail as detail

    with Case.open(db, read_only=True) as case:
        return detail(case, campaign_id)


@st.cache_data(show_spinner=False, max_entries=64)
def check(db: str, version: int, url: str, since: pd.Timestamp | None):
    """(CheckResult, the target's bursts, the one-sentence answer)."""
    from detector.results import check_target, target_bursts

    with Case.open(db, read_only=True) as case:
        result = check_target(case, url, since=since)
        return result, target_bursts(case, result.target), result.headline


@st.cache_data(show_spinner=False, max_entries=8)
def notices(db: str, version: int) -> pd.DataFrame:
    from detector.results import notices_table

    with Case.open(db, read_only=True) as case:
        return notices_table(case)


@st.cache_data(show_spinner=False, max_entries=8)
def posts(db: str, version: int) -> pd.DataFrame:
    from detector.views import posts_table

    with Case.open(db, read_only=True) as case:
        return posts_table(case)


@st.cache_data(show_spinner=False, max_entries=8)
def unexplained(db: str, version: int) -> pd.DataFrame:
    from detector.results import unexplained_bursts

    with Case.open(db, read_only=True) as case:
        return unexplained_bursts(case)


@st.cache_data(show_spinner=False, max_entries=8)
def networks(db: str, version: int) -> dict[str, pd.DataFrame]:
    from detector.results import case_networks

    with Case.open(db, read_only=True) as case:
        return case_networks(case)


@st.cache_data(show_spinner=False, max_entries=16)
def review_queue(db: str, version: int, campaign_id: str, candidates: bool = False) -> pd.DataFrame:
    """The campaign's calls and cited posts with the decision in force (detector.results.review_queue);
    with ``candidates``, also the posts that named its targets without being counted."""
    from detector.results import review_queue as queue

    with Case.open(db, read_only=True) as case:
        return queue(case, campaign_id, candidates=candidates)


REVIEW_CHOICES = ("unreviewed", "confirmed", "rejected", "marked call", "marked boast")


def save_reviews(db: str | Path, before: pd.DataFrame, after: pd.DataFrame, reviewer: str) -> int:
    """Store the decisions an analyst changed in the review editor (one transaction); returns how many.

    ``before``/``after``: the editor's rows (``post_id``, ``kind``, ``review``, ``review_note``,
    ``translation``) as shown and as edited. Setting a post back to "unreviewed" stores "cleared".
    """
    from detector.review import reviewer_name, store_decisions

    def same(a, b) -> bool:
        return (a if isinstance(a, str) and a.strip() else None) == (b if isinstance(b, str) and b.strip() else None)

    changed = [(b, a) for b, a in zip(before.itertuples(), after.itertuples(), strict=True)
               if not (same(b.review, a.review) and same(b.review_note, a.review_note)
                       and same(b.translation, a.translation))]
    if not changed:
        return 0
    decided = pd.DataFrame({"post_id": [a.post_id for _, a in changed],
                            "decision": ["cleared" if a.review == "unreviewed" else a.review for _, a in changed],
                            "note": [a.review_note for _, a in changed],
                            "translation": [a.translation for _, a in changed]})
    with _WRITE_LOCK, Case.open(db, command="review") as case, case.transaction():
        # checked as a file is: confirming a post the machine did not classify is refused
        return store_decisions(case, decided, reviewer_name(reviewer))


@st.cache_data(show_spinner=False, max_entries=8)
def watch_state(db: str, version: int) -> tuple[dict, pd.DataFrame]:
    from detector.results import watch_state as state

    with Case.open(db, read_only=True) as case:
        return state(case)


def save_watch_list(db: str | Path, channels: list[str], subject: list[str]) -> None:
    """Store the channels to follow and the subject's links or ids (as ``detector watch`` does)."""
    import json

    from detector.collect.telethon_live import channel_username
    from detector.identity import target_from_input

    bad = [c for c in channels if channel_username(c) is None]
    if bad:
        raise DetectorError(f"{bad[0]!r} is not a public channel username or t.me link")
    for value in subject:
        target_from_input(value)          # a clear error for anything that is not a link or an id
    with _WRITE_LOCK, Case.open(db, command="watch") as case:
        case.set_meta("watch_list", json.dumps({"channels": channels, "subject": subject}))


def start_watch_poll(db: str | Path):
    """Read the watched channels once in the background (web preview, or Telethon when configured)."""
    from detector import watch as w
    from detector_app import jobs

    state, _ = watch_state(str(db), case_version(db))

    def work(report):
        report(0.1, "Reading the channels")
        watcher = w.Watcher(db, state["channels"], state["subject"])
        result = watcher.poll()
        return f"{len(result.channels)} channels read, {result.posts} new posts, {len(result.alerts)} alerts"

    return jobs.start(db, "Polling the watched channels", work)


# -- evidence packets ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def packet_bytes(db: str, version: int, campaign_id: str, redact: bool) -> bytes:
    import detector

    with tempfile.TemporaryDirectory(prefix="detector-packet-") as tmp:
        out = detector.packet(db, campaign_id, Path(tmp) / f"{campaign_id}.zip", redact=redact)
        return Path(out).read_bytes()


@st.cache_data(show_spinner=False, max_entries=4)
def appeal_files(db: str, version: int, campaign_id: str, redact: bool, max_chars: int) -> dict[str, str]:
    """The appeal texts of a campaign citing a freshly built packet's manifest hash (file name -> text)."""
    from detector.evidence.packet import write_appeal

    with tempfile.TemporaryDirectory(prefix="detector-appeal-") as tmp:
        written = write_appeal(db, campaign_id, tmp, max_chars=max_chars, redact=redact)
        return {name: path.read_text(encoding="utf-8") for name, path in written.items() if name != "packet"}


# -- small display helpers -------------------------------------------------------------------------
def fmt_p(p) -> str:
    from detector.formatting import p_value

    return p_value(p)


def fmt_time(ts) -> str:
    from detector.formatting import timestamp

    return timestamp(ts)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for st.dataframe with missing text as a dash (Streamlit prints None otherwise) and
    lags (``lag_h``, ``median_lag_h``) in hours and minutes."""
    from detector.formatting import DASH, duration

    out = frame.copy()
    for col in out.columns:
        if col in ("lag_h", "median_lag_h"):
            out[col] = out[col].map(duration)
        elif out[col].dtype == object:
            out[col] = out[col].map(lambda v: DASH if v is None or (isinstance(v, float) and v != v) else v)
    return out


def term(name: str) -> str:
    """The glossary entry for ``name`` (tier, score, p_link, …) as a tooltip, with the case's thresholds."""
    from detector.glossary import help_text

    db, version = current_case()
    try:
        params = parameters(db, version)
    except DetectorError:
        params = None
    return help_text(name, params) if params is not None else help_text(name)


@st.cache_data(show_spinner=False, max_entries=16)
def case_notes(db: str, version: int) -> tuple[str | None, str | None]:
    """(nothing to test, too little history): sentences the pages show instead of empty verdicts."""
    from detector.results import nothing_to_test, too_little_history

    with Case.open(db, read_only=True) as case:
        return nothing_to_test(case), too_little_history(case)


def open_campaign(campaign_id: str) -> None:
    """Select a campaign and go to its page."""
    st.session_state["selected_campaign"] = campaign_id
    st.switch_page(PAGES["campaign"])
