"""Several processes on one case: writers queue with a bounded wait, readers read the last committed state.

Every test runs real processes (``python -m detector`` and a small writer script), because
DuckDB's file lock is per process: threads would not show what users meet.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from detector.store import Case

ROOT = Path(__file__).resolve().parents[1]
CSV_HEAD = "received_at,target_url,action,policy\n"

# A writer that holds the case lock until told to stop: it commits a change (case_meta 'probe')
# at once, so a reader that saw it would be reading a state no write has finished.
HOLDER = """
import sys, time
from pathlib import Path
from detector.store import Case
db, ready, release = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
with Case.open(db, command="analyze") as case:
    case.set_meta("probe", "uncommitted-to-readers")
    ready.write_text("holding")
    while not release.exists():
        time.sleep(0.05)
"""


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="200")
    env.pop("DETECTOR_LOCK_WAIT", None)
    env.update(extra)
    return env


def detector(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "detector", *map(str, args)], cwd=ROOT, env=env or _env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def notices_csv(path: Path, video: str, hour: int) -> Path:
    path.write_text(CSV_HEAD + f"2025-04-10T{hour:02d}:00:00Z,https://youtu.be/{video},removed,Spam\n",
                    encoding="utf-8")
    return path


class Holder:
    """A writer process holding the case lock until :meth:`release`."""

    def __init__(self, db: Path, tmp: Path):
        self.ready, self.stop = tmp / "holder.ready", tmp / "holder.release"
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(self.ready), str(self.stop)],
                                     cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not self.ready.exists():
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)

    def release(self) -> None:
        self.stop.write_text("go")
        assert self.proc.wait(timeout=60) == 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def case(tmp_path) -> Path:
    db = tmp_path / "case.duckdb"
    code, out, err = finish(detector("ingest", notices_csv(tmp_path / "first.csv", "dQw4w9WgXcQ", 10), "--db", db))
    assert code == 0, err
    return db


@pytest.fixture
def holder(case, tmp_path):
    h = Holder(case, tmp_path)
    yield h
    h.kill()


def _wait_for(proc: subprocess.Popen, path: Path | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None and not (path and path.exists()):
        time.sleep(0.05)


def test_second_writer_waits_says_who_holds_the_case_and_lands(case, holder, tmp_path):
    import threading

    proc = detector("ingest", notices_csv(tmp_path / "second.csv", "aaaaaaaaaaa", 11), "--db", case)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120      # a loaded machine can take long just to start Python
    while not any("waiting up to" in line for line in lines) and time.monotonic() < deadline:
        assert proc.poll() is None, "the second ingest did not wait for the first writer: " + "".join(lines)
        time.sleep(0.05)
    assert proc.poll() is None, "the second ingest did not wait for the first writer"
    holder.release()
    out = proc.stdout.read()
    code = proc.wait(timeout=120)
    reader.join(timeout=10)
    err = "".join(lines)
    assert code == 0, err
    assert f"another analyze (pid {holder.proc.pid}) is running since" in err
    assert "waiting up to 60 s" in err
    assert "Could not set lock" not in err + out
    with Case.open(case, read_only=True) as c:
        assert c.counts()["sources"] == 2


def test_two_concurrent_ingests_both_land(case, holder, tmp_path):
    first = detector("ingest", notices_csv(tmp_path / "a.csv", "bbbbbbbbbbb", 12), "--db", case)
    second = detector("ingest", notices_csv(tmp_path / "b.csv", "ccccccccccc", 13), "--db", case)
    time.sleep(4)
    holder.release()
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    with Case.open(case, read_only=True) as c:
        assert c.counts()["sources"] == 3
        assert sorted(c.table("notices")["target"]) == [
            "youtube:video:bbbbbbbbbbb", "youtube:video:ccccccccccc", "youtube:video:dQw4w9WgXcQ"]


def test_writer_gives_up_after_its_wait_with_a_clear_error(case, holder, tmp_path):
    late = notices_csv(tmp_path / "late.csv", "ddddddddddd", 14)
    for extra, env in ((["--wait", "0.5"], _env()), ([], _env(DETECTOR_LOCK_WAIT="0.5"))):
        code, out, err = finish(detector("ingest", late, "--db", case, *extra, env=env))
        assert code == 2
        assert f"another analyze (pid {holder.proc.pid}) is running since" in err
        assert "gave up after waiting 0.5 s" in err and "--wait SECONDS" in err
        assert "Traceback" not in err and "Could not set lock" not in err
    holder.release()
    with Case.open(case, read_only=True) as c:
        assert c.counts()["sources"] == 1      # nothing half-written by the refused ingests


def test_readers_see_the_last_committed_state_while_a_writer_holds_the_case(case, holder):
    with Case.open(case, read_only=True) as c:
        assert c.meta("probe") is None         # the writer's change is not visible until it finishes
        assert c.counts()["notices"] == 1
    code, out, err = finish(detector("status", "--db", case))
    assert code == 0, err
    assert "notices" in out and "Could not set lock" not in err
    for args in (("campaigns", "--json"), ("check", "https://youtu.be/dQw4w9WgXcQ")):
        code, out, err = finish(detector(*args, "--db", case))
        assert code == 2 and "has not been analysed yet" in err, err    # read, and answered honestly
    holder.release()
    with Case.open(case, read_only=True) as c:
        assert c.meta("probe") == "uncommitted-to-readers"


def test_a_killed_writer_leaves_no_stale_lock(case, tmp_path):
    h = Holder(case, tmp_path)
    os.kill(h.proc.pid, signal.SIGKILL)
    h.proc.wait()
    code, out, err = finish(detector("ingest", notices_csv(tmp_path / "after.csv", "eeeeeeeeeee", 15), "--db", case,
                                     "--wait", "5"))
    assert code == 0, err
    assert "waiting" not in err


def test_reader_without_a_snapshot_names_the_writer(case, holder):
    # A case written before snapshots existed: nothing to read while the writer works, said plainly.
    (case.parent / (case.name + ".snapshot")).unlink()
    code, out, err = finish(detector("status", "--db", case))
    assert code == 2
    assert f"another analyze (pid {holder.proc.pid}) is running since" in err
    assert "no saved state to read meanwhile" in err and "Traceback" not in err


@pytest.mark.slow
def test_status_and_campaigns_keep_working_through_a_real_analyze(tmp_path):
    from detector.simulate import simulate_case

    simulate_case(tmp_path / "sim", seed=3, scenario="mixed")
    db = tmp_path / "case.duckdb"
    assert finish(detector("ingest", tmp_path / "sim", "--db", db))[0] == 0
    analyze = detector("analyze", "--db", db)
    seen = []
    while analyze.poll() is None:
        with Case.open(db, read_only=True) as c:
            analysed = c.analysed()
            # Never mixed: an analysis record comes with every table it stored, or with none.
            assert analysed == c.has_table("campaigns") == c.has_table("bursts")
            seen.append(analysed)
        time.sleep(0.05)
    code, out, err = finish(analyze)
    assert code == 0, err
    assert seen
    code, out, err = finish(detector("campaigns", "--json", "--db", db))
    assert code == 0 and out.startswith("["), err


def test_app_pages_render_while_a_writer_holds_the_case(app_case, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "case.duckdb"
    shutil.copyfile(app_case, db)
    with Case.open(db, command="test"):     # a write through the library publishes the snapshot
        pass
    monkeypatch.setenv("DETECTOR_DB", str(db))
    h = Holder(db, tmp_path)
    try:
        for page in ("campaigns", "check", "explore"):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.run()
            if page != "campaigns":
                at.switch_page(f"detector_app/pages/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception]
            assert not at.error, [e.value for e in at.error]
    finally:
        h.release()
