"""Whole-analysis time and peak memory on a large case, through the CLI, in a child process.

A case of N notices and N posts is written straight into a DuckDB file (ingest has its own
benchmark, bench/ingest.py), then ``detector analyze`` runs in a child process under
``/usr/bin/time -v``, which reports the child's own peak resident memory (not the parent's, as
``ru_maxrss`` of a vfork child would). The child runs the CLI's own code path and writes the time
at which each step began, so per-step times come from the same run.

Posts (``--corpus``):

- ``everyday`` (default): real public posts that were not chosen for being about reporting,
  bench/data/everyday_posts.csv.gz (ru Telegram channel posts, uk requests to a city portal, kk
  reviews, zh Weibo posts, comments and reviews, en tweets, ug article paragraphs; sources and
  licences in bench/data/SOURCES.md), languages in equal shares, at the lengths the sources give;
- ``project``: the everyday kinds (chatter, news, thanks) of the project's labelled posts,
  detector/data/calls/real/*.csv, which were all gathered around reporting (about a quarter of
  them pass the call gate), kept to compare with earlier figures.

Either way a share ``--about-reporting`` (2 %) are real posts of detector/data/calls/real that
talk about reporting without calling for it (victims, news of campaigns, how-to: the hard
negatives; rows licensed NC left out), a post under 30 characters is joined with a second post of
the same language, and 5 % link a video. The results record the corpus, the posts' mean and
median length, and the share of a sample of the posts that passes the classifier's call and boast
gates. Notices carry a ``reporter_id`` so the co-reporting network runs. One planted campaign: 20
calls naming 10 rarely-reported videos, 300 notices after them from 40 reporters.

The case is built in chunks of ``--chunk`` rows (10^6) as Arrow tables, vectorised (texts taken
and joined in Arrow, no Python object per post), and inserted into DuckDB chunk by chunk, so a 10^7
case builds in bounded memory.

    nice -n 10 .venv/bin/python bench/analyze.py --sizes 100000,1000000
    nice -n 10 .venv/bin/python bench/analyze.py --sizes 100000 --corpus project
    nice -n 10 .venv/bin/python bench/analyze.py --sizes 10000000 --build-only
    nice -n 10 .venv/bin/python bench/analyze.py --sizes 100000 --code /path/to/other/checkout --label before

``--code`` runs the child on another checkout of the project (PYTHONPATH), for live before/after
figures on the same machine and corpus. Writes bench/results/analyze.json (``--out``) and
prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EVERYDAY_CORPUS = HERE / "data" / "everyday_posts.csv.gz"
PROJECT_POSTS = ROOT / "detector" / "data" / "calls" / "real"
CORPORA = ("everyday", "project")
START = pd.Timestamp("2025-01-01", tz="UTC")
DAYS = 180
CHUNK = 1_000_000
DUCKDB_MEMORY = "1GB"  # the building connection's cap; DuckDB spills to its file beyond it
LANGUAGES = ("ru", "kk", "zh", "en", "ug", "uk")
SHORT = 30           # a post shorter than this is joined with a second one of its language
GATE_SAMPLE = 20_000  # posts whose gates are measured (the gates cost ~0.1 ms a post)
_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
_CALLS = ("Everyone report this video for harassment: {u}", "Пожалуйтесь на это видео, пункт «Травля»: {u}",
          "大家举报这个视频，理由选骚扰 {u}", "Бұл видеоға шағым жіберіңіз: {u}")
_SUBJECT = "youtube:channel:UCbenchbenchbenchbench00"


# -- corpus: where the posts' texts come from ---------------------------------------------------

#: Kinds of the project's real posts that channels post every day (the rest of its real "other"
#: posts were gathered because they talk about reporting: victims, news of campaigns, how-to).
EVERYDAY_KINDS = ("chatter", "news", "thanks")


def project_posts(everyday: bool) -> dict[str, list[str]]:
    """Real posts labelled ``other`` per language, from detector/data/calls/real: the everyday kinds,
    or (``everyday=False``) the ones that talk about reporting without calling for it."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for path in sorted(PROJECT_POSTS.glob(f"{lang}*.csv")):
            rows = pd.read_csv(path)
            rows = rows[(rows["label"] == "other") & ~rows["licence"].astype(str).str.contains("NC")
                        & (rows["kind"].isin(EVERYDAY_KINDS) == everyday)]
            out.setdefault(lang, []).extend(t.strip() for t in rows["text"].astype(str) if t.strip())
    return out


def everyday_posts(path: Path = EVERYDAY_CORPUS) -> dict[str, list[str]]:
    """The benchmark's real everyday posts per language (bench/data/everyday_posts.csv.gz)."""
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {lang: [t for t in rows.loc[rows["lang"] == lang, "text"] if t.strip()] for lang in LANGUAGES}


@dataclass(frozen=True)
class Pool:
    """Every text posts are drawn from, in one Arrow array: per language a block of everyday posts
    and a block of hard negatives (``start``/``size`` index them by [language, hard]), with each
    text's length and the URLs and canonical targets it holds, found once per text."""

    text: pa.Array
    length: np.ndarray
    urls: list[list[str]]
    targets: list[list[str]]
    start: np.ndarray  # shape (languages, 2)
    size: np.ndarray


def text_pool(corpus: str) -> Pool:
    """The pool for ``corpus`` (everyday or project) with the project's hard negatives."""
    from detector.ids import canonical_target, extract_urls

    if corpus not in CORPORA:
        raise SystemExit(f"--corpus must be one of {', '.join(CORPORA)}")
    blocks = {False: everyday_posts() if corpus == "everyday" else project_posts(everyday=True),
              True: project_posts(everyday=False)}
    texts: list[str] = []
    start = np.zeros((len(LANGUAGES), 2), dtype=np.int64)
    size = np.zeros((len(LANGUAGES), 2), dtype=np.int64)
    for i, lang in enumerate(LANGUAGES):
        for hard in (False, True):
            bank = blocks[hard].get(lang, [])
            if not bank:
                raise SystemExit(f"no {'hard-negative' if hard else corpus} posts in {lang}")
            start[i, int(hard)], size[i, int(hard)] = len(texts), len(bank)
            texts.extend(bank)
    urls = [extract_urls(t) for t in texts]
    return Pool(text=pa.array(texts, pa.string()), length=np.array([len(t) for t in texts], dtype=np.int64),
                urls=urls, targets=[[canonical_target(u) for u in us] for us in urls], start=start, size=size)


# -- the case, built in Arrow chunks -----------------------------------------------------------

def _video_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 11-character video ids (one draw of n × 11 characters, viewed as strings)."""
    chars = np.ascontiguousarray(_ALPHABET[rng.integers(0, len(_ALPHABET), size=(n, 11))])
    return chars.view("<U11").ravel()


def _times(rng: np.random.Generator, n: int, days: int = DAYS) -> np.ndarray:
    """UTC times (µs) over ``days`` with a daily cycle (more by day than by night)."""
    day = rng.integers(0, days, n)
    hour = rng.normal(14, 4, n) % 24
    return np.datetime64(START.tz_localize(None).to_datetime64(), "us") + (
        (day * 24 + hour) * 3_600_000_000).astype("timedelta64[us]")


def _numbered(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix`` + each number, as an Arrow string array."""
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")


def _utc(times: np.ndarray) -> pa.Array:
    return pa.array(times, pa.timestamp("us", tz="UTC"))


def _list_column(values: list[list[str]], n: int, where: np.ndarray) -> pa.Array:
    """An Arrow list<string> column of ``n`` rows: ``values`` at the rows ``where``, [] elsewhere."""
    counts = np.zeros(n, dtype=np.int64)
    counts[where] = [len(v) for v in values]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    flat = pa.array([u for v in values for u in v], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


@dataclass(frozen=True)
class CaseShape:
    """What every chunk of a case shares: the videos, their popularity, the reporters' crowd."""

    videos: np.ndarray
    weights: np.ndarray
    n_reporters: int
    r_weights: np.ndarray
    days: int

    @classmethod
    def draw(cls, rng: np.random.Generator, n_notices: int, days: int) -> CaseShape:
        n_videos = max(1000, n_notices // 20)
        weights = 1.0 / np.arange(1, n_videos + 1) ** 0.8
        n_reporters = max(500, n_notices // 10)
        r_weights = 1.0 / np.arange(1, n_reporters + 1) ** 1.1
        return cls(_video_ids(rng, n_videos), weights / weights.sum(), n_reporters, r_weights / r_weights.sum(),
                   days)


def notices_chunk(rng: np.random.Generator, shape: CaseShape, first: int, n: int) -> pa.Table:
    """``n`` notices numbered from ``first``: Zipf targets, 30 % automated flags (no reporter), the
    rest complaints from a Zipf crowd of reporters (a few report often)."""
    targets = shape.videos[rng.choice(len(shape.videos), size=n, p=shape.weights)]
    automated = rng.random(n) < 0.3
    policy = np.where(automated, "violent_extremism",
                      rng.choice(["harassment", "hate_speech", "spam", "privacy"], n))
    action = np.where(automated, "warning", rng.choice(["complaint", "complaint", "complaint", "removed"], n))
    reporter = _numbered("r", rng.choice(shape.n_reporters, size=n, p=shape.r_weights))
    return pa.table({
        "notice_id": _numbered("bench:", np.arange(first, first + n)),
        "received_at": _utc(_times(rng, n, shape.days)),
        "action": pa.array(action), "policy": pa.array(policy), "policy_raw": pa.array(policy),
        "target": pc.binary_join_element_wise("youtube:video:", pa.array(targets), ""),
        "reporter_id": pc.if_else(pa.array(automated), pa.scalar(None, pa.string()), reporter)})


def posts_chunk(rng: np.random.Generator, shape: CaseShape, pool: Pool, first: int, n: int,
                about_reporting: float, chats: np.ndarray) -> pa.Table:
    """``n`` posts numbered from ``first``: a language in equal shares, a real post of it (a hard
    negative with probability ``about_reporting``), joined with a second when short; 5 % link a
    video. Texts are taken and joined in Arrow; URLs are assembled from each pool text's own."""
    lang = rng.integers(0, len(LANGUAGES), n)
    hard = (rng.random(n) < about_reporting).astype(np.int64)
    block_start, block_size = pool.start[lang, hard], pool.size[lang, hard]
    one = block_start + (rng.random(n) * block_size).astype(np.int64)
    two = block_start + (rng.random(n) * block_size).astype(np.int64)
    joined = pool.length[one] < SHORT
    # A null second text (or video) is skipped by the join, separator included: one pass, no if_else.
    text = pc.binary_join_element_wise(pool.text.take(one), pool.text.take(pa.array(two, mask=~joined)), " ",
                                       null_handling="skip")
    links = rng.random(n) < 0.05
    linked = shape.videos[rng.choice(len(shape.videos), size=int(links.sum()), p=shape.weights)]
    video = np.full(n, "", dtype=shape.videos.dtype)
    video[links] = linked
    text = pc.binary_join_element_wise(text, pa.array(video, mask=~links), " https://youtu.be/", null_handling="skip")
    # URLs in order, without repeats, as extract_urls would find them in the joined text
    has_url = np.array([bool(u) for u in pool.urls])
    with_urls = np.flatnonzero(has_url[one] | (joined & has_url[two]) | links)
    urls, targets = [], []
    for i in with_urls:
        u = dict.fromkeys(pool.urls[one[i]])
        t = dict(zip(pool.urls[one[i]], pool.targets[one[i]], strict=True))
        if joined[i]:
            u.update(dict.fromkeys(pool.urls[two[i]]))
            t.update(zip(pool.urls[two[i]], pool.targets[two[i]], strict=True))
        if links[i]:
            link = "https://youtu.be/" + video[i]
            u[link] = None
            t[link] = "youtube:video:" + video[i]
        urls.append(list(u))
        targets.append([t[x] for x in u])
    chat = pa.array(chats[rng.integers(0, len(chats), n)])
    numbers = np.arange(first, first + n)
    message_id = pa.array(numbers).cast(pa.string())
    return pa.table({
        "post_id": pc.binary_join_element_wise("telegram", chat, message_id, ":"),
        "chat": chat, "chat_title": chat, "message_id": message_id,
        "author": chat, "posted_at": _utc(_times(rng, n, shape.days)), "text": text,
        "urls": _list_column(urls, n, with_urls), "targets": _list_column(targets, n, with_urls)})


def planted_campaign(rng: np.random.Generator, shape: CaseShape, chats: np.ndarray) -> tuple[pa.Table, pa.Table, list]:
    """The campaign: the 10 least-reported videos named by 20 calls 60 days before the end, then
    300 notices from 40 reporters."""
    from detector.ids import canonical_target, extract_urls

    named = shape.videos[-10:]
    call_at = START + pd.Timedelta(days=shape.days - 60, hours=15)
    notices = pd.DataFrame({
        "notice_id": [f"bench:c{i}" for i in range(300)], "platform": "youtube",
        "received_at": call_at + pd.to_timedelta(rng.lognormal(2.3, 0.8, 300), unit="h"),
        "action": rng.choice(["complaint", "removed", "strike"], 300), "policy": "harassment",
        "policy_raw": "Harassment and cyberbullying", "target": "youtube:video:" + rng.choice(named, 300),
        "subject": _SUBJECT, "reporter_id": [f"brigade{i}" for i in rng.integers(0, 40, 300)], "source_ref": "1"})
    calls = []
    for k in range(20):
        u = "https://youtu.be/" + named[k % 10] + " https://youtu.be/" + named[(k + 3) % 10]
        text = _CALLS[k % 4].format(u=u)
        urls = extract_urls(text)
        calls.append({"post_id": f"telegram:{chats[k]}:c{k}", "platform": "telegram", "chat": chats[k],
                      "chat_title": chats[k], "message_id": f"c{k}", "author": chats[k],
                      "posted_at": call_at + pd.Timedelta(minutes=7 * k), "text": text, "urls": urls,
                      "targets": [canonical_target(x) for x in urls], "source_ref": "1"})
    return (pa.Table.from_pandas(notices, preserve_index=False), pa.Table.from_pandas(pd.DataFrame(calls),
            preserve_index=False), ["youtube:video:" + v for v in named])


#: Columns that hold one value in every row of a table (written as SQL constants, not as columns).
CONSTANTS = {"notices": {"source_id": "notices", "platform": "youtube", "subject": _SUBJECT, "source_ref": "1"},
             "posts": {"source_id": "posts", "platform": "telegram", "source_ref": "1"}}


def _insert(con, table: str, rows: pa.Table) -> None:
    """Insert an Arrow table into one of the store's tables: the schema's columns in order, each
    cast to its type; the table's constants; NULL in the columns the bench does not fill."""
    from detector.schema import TABLES

    def column(name: str) -> str:
        if name in rows.column_names:
            return f'"{name}"'
        constant = CONSTANTS[table].get(name)
        return "NULL" if constant is None else "'" + constant.replace("'", "''") + "'"

    con.register("chunk", rows)
    try:
        cols = ", ".join(f'CAST({column(c)} AS {t})' for c, t in TABLES[table].items())
        con.execute(f'INSERT INTO "{table}" SELECT {cols} FROM chunk').fetchall()
    finally:
        con.unregister("chunk")


def build_case(db: Path, n_notices: int, n_posts: int, *, seed: int = 0, days: int = DAYS, corpus: str = "everyday",
               about_reporting: float = 0.02, chunk: int = CHUNK) -> dict:
    """Write a case of ``n_notices`` + 300 notices and ``n_posts`` + 20 posts into a new DuckDB
    file ``db`` through the store's schema, ``chunk`` rows at a time; return what was planted and
    what the corpus looked like (lengths, seconds to build)."""
    from detector.store import Case

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pool = text_pool(corpus)
    shape = CaseShape.draw(rng, n_notices, days)
    chats = np.array([f"tg{1000000 + i}" for i in range(200)])
    camp_notices, camp_posts, named = planted_campaign(rng, shape, chats)
    length_counts = np.zeros(0, dtype=np.int64)
    with Case.open(db) as case:
        # One transaction per chunk and a cap on DuckDB's memory: one transaction over the whole
        # case kept every uncommitted row in memory (1.55 GB at 8·10^5 + 8·10^5, growing with N).
        case.con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'").fetchall()
        for first in range(0, n_notices, chunk):
            with case.transaction():
                _insert(case.con, "notices", notices_chunk(rng, shape, first, min(chunk, n_notices - first)))
        for first in range(0, n_posts, chunk):
            rows = posts_chunk(rng, shape, pool, first, min(chunk, n_posts - first), about_reporting, chats)
            counts = np.bincount(pc.utf8_length(rows["text"]).to_numpy(zero_copy_only=False))
            length_counts = np.pad(length_counts, (0, max(0, len(counts) - len(length_counts))))
            length_counts[:len(counts)] += counts
            with case.transaction():
                _insert(case.con, "posts", rows)
            del rows
        with case.transaction():
            _insert(case.con, "notices", camp_notices)
            _insert(case.con, "posts", camp_posts)
            for name, n_rows in (("notices", n_notices + 300), ("posts", n_posts + 20)):
                case.con.execute("INSERT INTO sources (source_id, kind, name, sha256, ingested_at, rows, detail) "
                                 "VALUES (?, 'bench', ?, ?, now(), ?, '{}')",
                                 [name, f"{name}.bench", name * 8, n_rows]).fetchall()
        n_with_reporter = case.con.execute("SELECT count(reporter_id) FROM notices").fetchall()[0][0]
    cumulative = np.cumsum(length_counts)
    total = int(cumulative[-1]) if len(cumulative) else 0
    lengths = np.arange(len(length_counts))  # length_counts[k]: posts of k characters
    return {"named": named, "build_seconds": round(time.perf_counter() - t0, 1),
            "corpus": {"name": corpus, "file": str((EVERYDAY_CORPUS if corpus == "everyday" else PROJECT_POSTS)
                                                   .relative_to(ROOT)),
                       "post_chars_mean": round(float((lengths * length_counts).sum() / max(total, 1)), 1),
                       "post_chars_median": _median(cumulative),
                       "languages": list(LANGUAGES), "about_reporting": about_reporting,
                       "notices_with_reporter": int(n_with_reporter)}}


def _median(cumulative: np.ndarray) -> float:
    """The median length from the cumulative count of posts per length (mean of the two middle ones)."""
    total = int(cumulative[-1]) if len(cumulative) else 0
    if not total:
        return 0.0
    low, high = np.searchsorted(cumulative, [(total - 1) // 2 + 1, total // 2 + 1])
    return (float(low) + float(high)) / 2


def gate_shares(db: Path, sample: int = GATE_SAMPLE, seed: int = 0) -> dict:
    """Share of a uniform sample of the case's posts that passes the classifier's gates: the call
    gate (names reporting) and the boast gate (claims a removal). These posts are the ones the
    calls step's model sees; the rest are settled as ``other`` by the cheap test."""
    from detector.features.calls import gate_cues
    from detector.store import Case

    with Case.open(db, read_only=True) as case:
        texts = case.query(f"SELECT text FROM posts USING SAMPLE reservoir({sample} ROWS) REPEATABLE ({seed})"
                           )["text"].tolist()
    reporting, removal = gate_cues(texts)
    return {"sample": len(texts), "call_gate": round(float(np.mean(reporting)), 4),
            "boast_gate": round(float(np.mean(removal)), 4)}


def child(db: str, steps_file: str) -> None:
    """``detector analyze --db DB`` through the CLI, writing when each step began to ``steps_file``."""
    import detector.analysis as analysis
    from detector.cli import main as cli

    seen = {"start": time.perf_counter(), "cpu:start": time.process_time()}
    real = analysis.analyze_case

    def timed(*args, on_step=None, **kwargs):
        def step(name):
            seen[name] = time.perf_counter()
            seen[f"cpu:{name}"] = time.process_time()
            if on_step:
                on_step(name)
        try:
            return real(*args, on_step=step, **kwargs)
        finally:
            seen["end"] = time.perf_counter()
            seen["cpu:end"] = time.process_time()
            Path(steps_file).write_text(json.dumps(seen), encoding="utf-8")

    analysis.analyze_case = timed
    if os.environ.get("DETECTOR_BENCH_CALLS") == "planted":
        analysis.classify_calls = planted_calls
    cli(["analyze", "--db", db], standalone_mode=True)


def planted_calls(posts: pd.DataFrame, **_options) -> pd.DataFrame:
    """Stand-in for the calls step (``--calls planted``): the planted calls are calls, every other
    post is other; for timing the steps after it on cases whose calls step alone would take long."""
    planted = posts["message_id"].astype(str).str.startswith("c").to_numpy()
    return pd.DataFrame({"post_id": posts["post_id"].to_numpy(), "is_call": planted,
                         "kind": np.where(planted, "call", "other"), "confidence": 1.0, "p_call": planted * 1.0,
                         "targets": [list(t) for t in posts["targets"]],
                         "requested_policy": pd.Series(np.where(planted, "harassment", None), dtype=object),
                         "language": None})


def _step_seconds(seen: dict, prefix: str = "") -> dict:
    """Seconds per step (wall, or with ``prefix="cpu:"`` CPU of every thread of the child)."""
    names = [k for k in seen if not k.startswith("cpu:") and k not in ("start", "end")]
    if prefix and f"{prefix}start" not in seen:
        return {}
    at = {name: seen[f"{prefix}{name}"] for name in ["start", *names, "end"]}
    out = {"read_and_aliases": round(at[names[0]] - at["start"], 2)} if names else {}
    for i, name in enumerate(names):
        out[name] = round((at[names[i + 1]] if i + 1 < len(names) else at["end"]) - at[name], 2)
    return out


def _time_v(stderr: str, field: str) -> str:
    match = re.search(rf"{re.escape(field)}: (.+)", stderr)
    return match.group(1).strip() if match else ""


def run_cli(db: Path, code: Path | None, calls: str) -> dict:
    """Run the analysis child under /usr/bin/time -v; its wall time, own peak memory and step times."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    steps_file = db.with_suffix(".steps.json")
    cmd = ["/usr/bin/time", "-v", sys.executable, str(Path(__file__).resolve()), "--child", str(db), str(steps_file)]
    if calls == "planted":
        env["DETECTOR_BENCH_CALLS"] = "planted"
    load = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    seen = json.loads(steps_file.read_text(encoding="utf-8"))
    return {"cli_seconds": round(wall, 1), "peak_mib": round(int(_time_v(proc.stderr, "Maximum resident set size "
                                                                              "(kbytes)")) / 1024),
            "cpu_seconds": round(float(_time_v(proc.stderr, "User time (seconds)"))
                                 + float(_time_v(proc.stderr, "System time (seconds)")), 1),
            "steps_seconds": _step_seconds(seen), "steps_cpu_seconds": _step_seconds(seen, "cpu:"),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Analysis time on large synthetic cases.")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--code", type=Path, default=None, help="checkout whose detector the child runs")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--days", type=int, default=DAYS, help="span of the case (8 years: 2920)")
    parser.add_argument("--calls", choices=("classify", "planted"), default="classify",
                        help="planted: skip the classifier (the planted calls are the calls), to time the other steps")
    parser.add_argument("--corpus", choices=CORPORA, default="everyday",
                        help="everyday: real posts not chosen for being about reporting (bench/data); project: the "
                             "everyday kinds of detector/data/calls/real, gathered around reporting (earlier figures)")
    parser.add_argument("--about-reporting", type=float, default=0.02,
                        help="share of posts that talk about reporting without calling for it (real hard negatives)")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="rows generated and written at a time")
    parser.add_argument("--build-only", action="store_true",
                        help="build the case, measure its gates, and stop (time the build; no analysis)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "analyze.json")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "big.duckdb"
            truth = build_case(db, n, n, days=args.days, corpus=args.corpus, about_reporting=args.about_reporting,
                               chunk=args.chunk)
            gates = gate_shares(db)
            row = {"code": args.label, "notices": n + 300, "posts": n + 20, "days": args.days,
                   "build_seconds": truth["build_seconds"], "case_mib": round(db.stat().st_size / 2**20),
                   "corpus": {**truth["corpus"], "gates": gates}}
            print(f"built {n:,} + {n:,} in {truth['build_seconds']} s ({row['case_mib']} MiB), corpus {args.corpus}: "
                  f"mean {truth['corpus']['post_chars_mean']} / median {truth['corpus']['post_chars_median']} chars, "
                  f"call gate {gates['call_gate']:.1%}, boast gate {gates['boast_gate']:.1%} "
                  f"(sample {gates['sample']:,})", flush=True)
            if args.build_only:
                rows.append(row)
                continue
            run = run_cli(db, args.code, args.calls)
            top = json.loads(subprocess.run([sys.executable, "-m", "detector", "campaigns", "--db", str(db), "--json"],
                                            capture_output=True, text=True, check=True,
                                            env={**os.environ, **({"PYTHONPATH": str(args.code)} if args.code else {})}
                                            ).stdout)
        found = bool(top) and top[0]["tier"] == "strong" and bool(set(truth["named"]) & set(top[0]["targets"]))
        row.update({"calls_step": args.calls, **run, "planted_campaign_ranked_first_strong": found})
        rows.append(row)
        print(f"{args.label}: {row['notices']:>9,} notices {row['posts']:>9,} posts: analyze {run['cli_seconds']:7.1f} s "
              f"(cpu {run['cpu_seconds']} s), peak {run['peak_mib']:>6} MiB, steps {run['steps_seconds']}, "
              f"load {run['load_before']}, planted campaign first and strong: {found}", flush=True)
    out = {"command": " ".join(["python", "bench/analyze.py", *sys.argv[1:]]), "when": datetime.now(UTC).isoformat(),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "results": rows}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
