"""Dump zips in the database's own nesting, and synthetic statements in its real schema.

Used by the tests (fixture rows packed the way the database packs them), the benchmark (10^6-10^7
rows) and the platform-context demo (a notice-driven wave on chosen days). Synthetic rows are
marked as such: their ``decision_facts`` say "SYNTHETIC" and their uuids start with ``5e17``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from detector.dsa.schema import EEA, FULL_COLUMNS, LIGHT_DROPPED


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp, so the same rows give the same zip (and SHA-1)."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_dump_zip(path: Path, parts: dict[str, bytes], parts_per_inner: int = 10) -> str:
    """Write ``parts`` (CSV part name -> bytes) as a daily dump: a zip of ``.csv.zip`` zips.

    Parts named ``<stem>-<inner>-<sub>.csv`` go into ``<stem>-<inner>.csv.zip``; others are grouped
    ``parts_per_inner`` at a time. Writes ``<path>.sha1`` beside it (as the database does) and
    returns the SHA-1.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[str]] = {}
    for i, name in enumerate(sorted(parts)):
        stem = name.rsplit(".", 1)[0]
        inner = stem.rsplit("-", 1)[0] if stem.count("-") >= 2 else f"{stem}-{i // parts_per_inner:05d}"
        groups.setdefault(inner + ".csv.zip", []).append(name)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as outer:
        for inner_name, names in sorted(groups.items()):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as inner:
                for name in names:
                    inner.writestr(_member(name), parts[name])
            outer.writestr(_member(inner_name), buf.getvalue())
    sha1 = hashlib.sha1(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha1").write_text(f"{sha1}  {path.name}\n")
    return sha1


def light_from_full(csv_bytes: bytes) -> bytes:
    """The light layout of full-layout CSV text: the same rows without the four long-text columns."""
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))
    keep = [i for i, c in enumerate(rows[0]) if c not in LIGHT_DROPPED]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for r in rows:
        w.writerow([r[i] for i in keep])
    return out.getvalue().encode("utf-8")


# -- synthetic statements -------------------------------------------------------------------------

SYNTH_CATEGORIES = ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC")
SYNTH_LANGUAGES = ("EN", "RU", "DE", "KK")
_CAT_P = np.array([0.15, 0.25, 0.3, 0.1, 0.2])
_LANG_P = np.array([0.6, 0.15, 0.2, 0.05])
_SRC = np.array(["SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_VOLUNTARY"])
_SRC_P = np.array([0.2, 0.02, 0.78])
_AUTO = np.array(["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"])
_AUTO_P = np.array([0.5, 0.2, 0.3])
WEEKDAY_CYCLE = np.array([1.1, 1.1, 1.05, 1.0, 0.95, 0.85, 0.8])   # Monday .. Sunday
_EEA_CELL = "[" + ",".join(f'"{c}"' for c in sorted(EEA)) + "]"


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _hex_digits(values: np.ndarray, width: int) -> np.ndarray:
    """(rows, width) ASCII codes of ``values`` in lower-case hex, zero-padded, most significant first."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    return _HEX[((values.astype(np.uint64)[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)]


def _uuid_chars(ids: np.ndarray) -> np.ndarray:
    """(rows, 36) ASCII codes of synthetic uuids ``5e17xxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx`` from two int64 per row."""
    a, b = ids[:, 0].astype(np.uint64), ids[:, 1].astype(np.uint64)
    n = len(ids)
    dash = np.full((n, 1), ord("-"), np.uint8)
    const = lambda text: np.frombuffer(text, np.uint8)[None, :].repeat(n, 0)  # noqa: E731
    return np.hstack([
        const(b"5e17"), _hex_digits(a & np.uint64(0xFFFFFFFF), 8)[:, :4], dash,
        _hex_digits((a >> np.uint64(32)) & np.uint64(0xFFFF), 4), dash,
        const(b"4"), _hex_digits((a >> np.uint64(48)) & np.uint64(0xFFF), 3), dash,
        const(b"8"), _hex_digits(b & np.uint64(0xFFF), 3), dash,
        _hex_digits((b >> np.uint64(12)) & np.uint64(0xFFFFFFFFFFFF), 12),
    ])


def _strings(chars: np.ndarray) -> pa.Array:
    """A string array from a (rows, width) matrix of ASCII codes, without one Python str per row."""
    rows, width = chars.shape
    offsets = pa.py_buffer((np.arange(rows + 1, dtype=np.int32) * width).tobytes())
    return pa.Array.from_buffers(pa.string(), rows, [None, offsets, pa.py_buffer(np.ascontiguousarray(chars).tobytes())])


def synthetic_day(day: str, rows: int, seed: int, platform: str = "YouTube",
                  wave: dict | None = None) -> pa.Table:
    """``rows`` statements applied on ``day`` in the full 38-column layout, as CSV-ready strings.

    ``wave``: extra Article 16 decisions ``{"category", "language", "rows"}`` added on this day
    (a notice-driven wave), fully automated, for old content (lag 30-400 days).
    """
    rng = np.random.default_rng(seed)
    # Values as indices into their lists (turned into strings by one take): wave values go last.
    cats, langs = list(SYNTH_CATEGORIES), list(SYNTH_LANGUAGES)
    cat = rng.choice(len(cats), rows, p=_CAT_P)
    lang = rng.choice(len(langs), rows, p=_LANG_P)
    src = rng.choice(3, rows, p=_SRC_P)
    auto = rng.choice(3, rows, p=_AUTO_P)
    lag = rng.geometric(0.2, rows) - 1
    if wave and wave.get("rows"):
        k = int(wave["rows"])
        cats.append(wave["category"])
        langs.append(wave["language"])
        cat = np.concatenate([cat, np.full(k, len(cats) - 1)])
        lang = np.concatenate([lang, np.full(k, len(langs) - 1)])
        src = np.concatenate([src, np.zeros(k, int)])      # SOURCE_ARTICLE_16
        auto = np.concatenate([auto, np.zeros(k, int)])    # AUTOMATED_DECISION_FULLY
        lag = np.concatenate([lag, rng.integers(30, 400, k)])
        rows += k
    app = pd.Timestamp(day)
    # Formatted once per distinct lag (a few dozen), not per row.
    lags, lag_index = np.unique(lag, return_inverse=True)
    content = pa.array(np.asarray((app - pd.to_timedelta(lags, unit="D")).strftime("%Y-%m-%d 00:00:00")))
    ids = rng.integers(0, 2**63 - 1, size=(rows, 2), dtype=np.int64)
    uuid = _uuid_chars(ids)
    empty = pa.repeat("", rows)
    n_str = lambda v: pa.repeat(v, rows)  # noqa: E731
    cols = dict.fromkeys(FULL_COLUMNS, empty)
    cols.update({
        "uuid": _strings(uuid),
        "decision_visibility": n_str('["DECISION_VISIBILITY_CONTENT_REMOVED"]'),
        "decision_ground": n_str("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        "incompatible_content_ground": n_str("Community Guidelines"),
        "incompatible_content_explanation": n_str("SYNTHETIC statement for testing"),
        "category": pa.array(cats).take(cat),
        "content_type": n_str('["CONTENT_TYPE_VIDEO"]'),
        "content_language": pa.array(langs).take(lang),
        "content_date": content.take(pa.array(lag_index.ravel())),
        "territorial_scope": n_str(_EEA_CELL),
        "application_date": n_str(f"{day} 00:00:00"),
        "decision_facts": n_str("SYNTHETIC"),
        "source_type": pa.array(_SRC).take(src),
        "automated_detection": pa.array(["Yes", "No"]).take(np.minimum(auto, 1)),
        "automated_decision": pa.array(_AUTO).take(auto),
        "platform_name": n_str(platform),
        "platform_uid": _strings(np.hstack([np.frombuffer(b"synthetic-", np.uint8)[None, :].repeat(rows, 0),
                                            uuid[:, :13]])),
        "created_at": n_str(f"{day} 12:00:00"),
    })
    return pa.table(cols)


def table_csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def synthetic_dumps(out: Path, days: Iterable[str], rows_per_day: int, seed: int = 0,
                    platform: str = "YouTube", waves: dict[str, dict] | None = None,
                    part_rows: int = 100_000, weekday_cycle: bool = True, workers: int = 1) -> list[Path]:
    """One synthetic daily dump zip per day, named as the database names them. Returns the paths.

    ``workers`` > 1 writes that many days at once, one process each; the zips are the same.
    """
    out = Path(out)
    ss = np.random.SeedSequence(seed)
    days = list(days)
    jobs = []
    for day, child in zip(days, ss.spawn(len(days)), strict=True):
        n = rows_per_day
        if weekday_cycle:
            n = int(round(rows_per_day * WEEKDAY_CYCLE[pd.Timestamp(day).weekday()]))
        jobs.append((out, day, n, int(child.generate_state(1)[0]), platform, (waves or {}).get(day), part_rows))
    if workers <= 1 or len(jobs) <= 1:
        return [_synthetic_dump(*job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("forkserver")) as pool:
        return list(pool.map(_synthetic_dump, *zip(*jobs, strict=True)))


def _synthetic_dump(out: Path, day: str, rows: int, seed: int, platform: str, wave: dict | None,
                    part_rows: int) -> Path:
    table = synthetic_day(day, rows, seed, platform, wave)
    slug = platform.lower().replace(" ", "-")
    stem = f"sor-{slug}-{day}-full"
    parts = {}
    for i, lo in enumerate(range(0, table.num_rows, part_rows)):
        parts[f"{stem}-{i // 10:05d}-{i % 10:05d}.csv"] = table_csv_bytes(table.slice(lo, part_rows))
    path = out / f"{stem}.zip"
    write_dump_zip(path, parts)
    return path


def synthetic_for_bursts(bursts: pd.DataFrame, out: Path, rows_per_day: int = 400, seed: int = 0,
                         wave_share: float = 0.3, lead_days: int = 35) -> list[Path]:
    """Synthetic YouTube dumps covering a case's bursts, with a notice-driven wave on their days.

    For a demonstration only: the wave (``wave_share`` x ``rows_per_day`` extra Article 16
    decisions a day, English, in the first DSA category of the burst's policy) is put exactly where
    the case's bursts are, so ``detector dsa context`` has something to find.
    """
    from detector.dsa.context import POLICY_CATEGORIES

    if bursts.empty:
        return []
    starts = pd.to_datetime(bursts["start"], utc=True).dt.normalize()
    ends = pd.to_datetime(bursts["end"], utc=True).dt.normalize()
    days = pd.date_range(starts.min() - pd.Timedelta(days=lead_days), ends.max() + pd.Timedelta(days=3), freq="D")
    waves = {}
    for s, e, policy in zip(starts, ends, bursts["policy_top"], strict=True):
        cat = POLICY_CATEGORIES.get(str(policy), POLICY_CATEGORIES["other"])[0]
        for d in pd.date_range(s, e, freq="D"):
            waves[d.strftime("%Y-%m-%d")] = {"category": cat, "language": "EN",
                                             "rows": int(rows_per_day * wave_share)}
    return synthetic_dumps(out, [d.strftime("%Y-%m-%d") for d in days], rows_per_day, seed=seed, waves=waves)
