"""One analysis of the platform data, two engines: DuckDB (embedded, default) and Apache Spark.

The heavy part, turning billions of statements into daily counts, is one SQL text
(:data:`DAILY_COUNTS_SQL`, :data:`LAG_HISTOGRAM_SQL`) that both engines run unchanged over a view
``statements`` of the converted Parquet. We chose plain SQL over a dataframe layer (Ibis, Spark
dataframes) because it is the one language both engines execute natively, it is small enough to
read in a packet, and it avoids a translation layer whose output would itself need testing. The
SQL keeps to what both dialects share: ``COUNT``, ``SUM(CASE ...)``, ``CAST(... AS BIGINT)``,
``COALESCE``, ``DATE 'yyyy-mm-dd'`` literals, explicit ``GROUP BY``/``ORDER BY``. Date arithmetic
(which differs: ``datediff`` takes its arguments in opposite orders) happened once, at convert
time (``application_day``, ``content_lag_days``), and quantiles (``quantile_disc`` vs
``percentile``) are computed from an exact integer histogram, so both engines return identical
integers.

Everything after aggregation is small (streams x days) and runs in pandas on the driver:

- **bursts** per stream (platform x category x source_type x content_language x territorial_scope
  x automated_decision): Kulldorff's scan statistic (:func:`detector.features.scan.scan`) over the
  stream's daily counts. **Null**: given the stream's total over the period, decisions fall on
  days independently with probabilities proportional to the stream's own weekday cycle (robust:
  the median count of each weekday) times its trend (Theil-Sen slope of log counts, fitted when
  the period is long enough). Monte Carlo p-values are corrected for every window scanned and
  then for the number of streams (Benjamini-Hochberg).
- **notice-driven or own initiative**: for a burst, the decisions of the stream's notice sources
  and of its own-initiative sibling (``SOURCE_VOLUNTARY``, same other keys) in the burst window,
  against their shares outside it: a one-sided binomial test that the notice share rose.
- **share automated** and **content age**: from the same counts and the lag histogram.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from detector.dsa.params import DSA_DEFAULTS, DsaParameters
from detector.dsa.schema import NOTICE_SOURCES
from detector.errors import DetectorError
from detector.features.scan import scan

STREAM_KEYS = ("platform_name", "category", "source_type", "content_language", "scope_key", "automated_decision")

DAILY_COUNTS_SQL = """
SELECT platform_name,
       category,
       source_type,
       COALESCE(content_language, '') AS content_language,
       COALESCE(scope_key, '') AS scope_key,
       COALESCE(automated_decision, '') AS automated_decision,
       application_day,
       COUNT(*) AS decisions,
       CAST(SUM(CASE WHEN automated_detection THEN 1 ELSE 0 END) AS BIGINT) AS automated_detections,
       CAST(SUM(CASE WHEN content_lag_days >= {old_days} THEN 1 ELSE 0 END) AS BIGINT) AS old_content
FROM statements
WHERE {where}
GROUP BY platform_name, category, source_type, COALESCE(content_language, ''), COALESCE(scope_key, ''),
         COALESCE(automated_decision, ''), application_day
ORDER BY platform_name, category, source_type, content_language, scope_key, automated_decision, application_day
"""

LAG_HISTOGRAM_SQL = """
SELECT platform_name,
       category,
       source_type,
       content_lag_days AS lag_days,
       COUNT(*) AS decisions
FROM statements
WHERE {where} AND content_lag_days IS NOT NULL
GROUP BY platform_name, category, source_type, content_lag_days
ORDER BY platform_name, category, source_type, lag_days
"""

_SLUG = re.compile(r"^[a-z0-9-]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def where_clause(platform: str | None = None, start: str | None = None, end: str | None = None) -> str:
    """The filter both engines accept; values are checked, never pasted raw into SQL."""
    parts = ["1 = 1"]
    if platform:
        if not _SLUG.match(platform):
            raise DetectorError(f"platform must be a slug like youtube or google-shopping, got {platform!r}")
        parts.append(f"platform_slug = '{platform}'")
    for op, day in ((">=", start), ("<=", end)):
        if day:
            if not _DAY.match(day):
                raise DetectorError(f"expected a date like 2025-07-01, got {day!r}")
            parts.append(f"application_day {op} DATE '{day}'")
    return " AND ".join(parts)


# -- engines --------------------------------------------------------------------------------------


class DuckDBEngine:
    """The embedded engine: a view over the Parquet files, in memory, UTC."""

    name = "duckdb"

    def __init__(self, data: Path, threads: int | None = None, memory_limit: str | None = None):
        import duckdb

        data = Path(data)
        files = data / "day=*" / "platform=*" / "*.parquet"
        if not any(data.glob("day=*/platform=*/*.parquet")):
            raise DetectorError("no converted statements here", path=data, hint="run detector dsa convert first")
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"CREATE VIEW statements AS SELECT * FROM read_parquet('{files.as_posix()}', "
                         "hive_partitioning = false, union_by_name = true)")

    def sql(self, text: str) -> pd.DataFrame:
        return self.con.execute(text).df()

    def close(self) -> None:
        self.con.close()


def spark_session(master: str | None = None, remote: str | None = None, app: str = "detector-dsa"):
    """A Spark session: Spark Connect when ``remote`` (or ``SPARK_REMOTE``) is set, else ``master``
    (default ``local[*]``). Session time zone UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DetectorError("PySpark is not installed", hint="pip install '.[spark]' (needs Java 17)") from None
    remote = remote or os.environ.get("SPARK_REMOTE")
    builder = SparkSession.builder.appName(app).config("spark.sql.session.timeZone", "UTC")
    if remote:
        builder = builder.remote(remote)
    else:
        builder = (builder.master(master or "local[*]")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "8")
                   .config("spark.driver.memory", os.environ.get("DETECTOR_SPARK_DRIVER_MEMORY", "2g")))
    return builder.getOrCreate()


class SparkEngine:
    """Apache Spark over the same Parquet (a local path, or any URI Spark reads: s3a://, abfss://, hdfs://)."""

    name = "spark"

    def __init__(self, data: str | Path, session=None, master: str | None = None, remote: str | None = None):
        self.spark = session or spark_session(master, remote)
        path = str(data)
        try:
            frame = self.spark.read.parquet(path)
        except Exception as exc:  # Spark raises its own AnalysisException for a missing path
            raise DetectorError(f"Spark cannot read the converted statements: {str(exc).splitlines()[0]}",
                                path=path, hint="run detector dsa convert first") from None
        frame.createOrReplaceTempView("statements")

    def sql(self, text: str) -> pd.DataFrame:
        return self.spark.sql(text).toPandas()

    def close(self) -> None:
        pass   # the session is shared; whoever made it stops it


def make_engine(name: str, data, **kw):
    if name == "duckdb":
        return DuckDBEngine(data, **{k: v for k, v in kw.items() if k in ("threads", "memory_limit")})
    if name == "spark":
        return SparkEngine(data, **{k: v for k, v in kw.items() if k in ("session", "master", "remote")})
    raise DetectorError(f"unknown engine {name!r}", hint="use duckdb or spark")


# -- aggregation (the engine part) ----------------------------------------------------------------


def _normalise_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Engine-independent frame: ISO day strings, int64 counts, explicit sort."""
    out = df.copy()
    out["application_day"] = pd.to_datetime(out["application_day"]).dt.strftime("%Y-%m-%d")
    for c in ("decisions", "automated_detections", "old_content"):
        out[c] = out[c].fillna(0).astype("int64")
    for c in STREAM_KEYS:
        out[c] = out[c].astype(str)
    return out.sort_values([*STREAM_KEYS, "application_day"], kind="mergesort").reset_index(drop=True)


def daily_counts(engine, platform: str | None = None, start: str | None = None, end: str | None = None,
                 params: DsaParameters = DSA_DEFAULTS) -> pd.DataFrame:
    """Decisions per stream and application day.

    Returns DataFrame[platform_name, category, source_type, content_language, scope_key,
    automated_decision, application_day (YYYY-MM-DD), decisions, automated_detections, old_content].
    Missing language/scope/automation are ''.
    """
    sql = DAILY_COUNTS_SQL.format(where=where_clause(platform, start, end), old_days=int(params.old_content_days))
    return _normalise_counts(engine.sql(sql))


def lag_histogram(engine, platform: str | None = None, start: str | None = None, end: str | None = None
                  ) -> pd.DataFrame:
    """DataFrame[platform_name, category, source_type, lag_days, decisions] (exact integers)."""
    df = engine.sql(LAG_HISTOGRAM_SQL.format(where=where_clause(platform, start, end)))
    df["lag_days"] = df["lag_days"].astype("int64")
    df["decisions"] = df["decisions"].astype("int64")
    return df.sort_values(["platform_name", "category", "source_type", "lag_days"], kind="mergesort"
                          ).reset_index(drop=True)


def lag_quantiles(hist: pd.DataFrame, qs=(0.5, 0.9, 0.99)) -> pd.DataFrame:
    """Lower quantiles (the smallest lag with cumulative share >= q) per platform x category x source."""
    rows = []
    for key, g in hist.groupby(["platform_name", "category", "source_type"], sort=True):
        g = g.sort_values("lag_days")
        cum = g["decisions"].cumsum().to_numpy()
        total = cum[-1]
        row = dict(zip(("platform_name", "category", "source_type"), key, strict=True), decisions=int(total))
        for q in qs:
            row[f"lag_q{int(q * 100)}"] = int(g["lag_days"].to_numpy()[np.searchsorted(cum, q * total)])
        rows.append(row)
    return pd.DataFrame(rows)


# -- bursts (the driver part) ---------------------------------------------------------------------


def _stream_seed(seed: int, key: tuple) -> int:
    digest = hashlib.sha256(("\x1f".join(map(str, key))).encode()).digest()
    return int(np.random.SeedSequence([seed, int.from_bytes(digest[:8], "big")]).generate_state(1)[0])


def baseline_shape(counts: np.ndarray, weekdays: np.ndarray, trend_min_days: int) -> tuple[np.ndarray, float]:
    """Probability of each day under the stream's own weekday cycle and trend; returns (shape, slope/day)."""
    med = np.array([np.median(counts[weekdays == d]) if np.any(weekdays == d) else 0.0 for d in range(7)])
    factor = med + 0.5
    slope = 0.0
    if len(counts) >= trend_min_days:
        t = np.arange(len(counts))
        slope = float(stats.theilslopes(np.log(counts + 0.5) - np.log(factor[weekdays]), t)[0])
    shape = factor[weekdays] * np.exp(slope * np.arange(len(counts)))
    return shape / shape.sum(), slope


def gumbel_p(stat: float, null_max: np.ndarray) -> float:
    """Tail probability of ``stat`` under a Gumbel fitted (by moments) to the Monte Carlo maxima.

    Used only when the observed statistic beats every replicate, where the Monte Carlo p-value
    would stop at 1/(R+1): with thousands of streams that floor cannot survive a multiple-testing
    correction. Abrams, Kleinman & Kulldorff (2010), Gumbel based p-value approximations for
    spatial scan statistics, Int J Health Geographics 9:61.
    """
    sd = float(np.std(null_max, ddof=1))
    if sd <= 0:
        return 1.0 / (len(null_max) + 1)
    beta = sd * np.sqrt(6) / np.pi
    mu = float(np.mean(null_max)) - 0.5772156649 * beta
    return float(-np.expm1(-np.exp(-(stat - mu) / beta)))


def _bh(p: np.ndarray) -> np.ndarray:
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


@dataclass
class AnalysisResult:
    counts: pd.DataFrame
    scans: pd.DataFrame       # one row per scanned stream
    bursts: pd.DataFrame      # significant bursts, with the notice-vs-own-initiative comparison
    lags: pd.DataFrame
    days: list[str]
    params: DsaParameters
    engine: str


def scan_streams(counts: pd.DataFrame, days: list[str], params: DsaParameters = DSA_DEFAULTS,
                 on_stream: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The best window of every stream with enough decisions, its p-value and BH q-value.

    Returns DataFrame[*STREAM_KEYS, decisions, start, end, width_days, observed, expected, rate_ratio,
    statistic, p_value, p_method ("monte_carlo", or "gumbel" when the statistic beats every
    replicate), p_floor, q_value, trend_per_day], sorted by the stream keys.
    """
    day_index = {d: i for i, d in enumerate(days)}
    weekdays = np.array([pd.Timestamp(d).weekday() for d in days])
    grouped = counts.groupby(list(STREAM_KEYS), sort=True)
    keys = [k for k, g in grouped if g["decisions"].sum() >= params.min_decisions]
    rows = []
    for i, key in enumerate(keys):
        g = grouped.get_group(key)
        series = np.zeros(len(days), dtype=np.int64)
        series[[day_index[d] for d in g["application_day"]]] = g["decisions"].to_numpy()
        shape, slope = baseline_shape(series, weekdays, params.trend_min_days)
        res = scan(series, shape, replicates=params.replicates, seed=_stream_seed(params.seed, key),
                   widths=tuple(params.widths_days))
        p_value, p_method = res.p_value, "monte_carlo"
        if res.total and len(res.null_max) and res.statistic > res.null_max.max():
            p_value, p_method = gumbel_p(res.statistic, res.null_max), "gumbel"
        rows.append(dict(zip(STREAM_KEYS, key, strict=True), decisions=int(series.sum()),
                         start=days[res.start_bin], end=days[res.start_bin + res.width - 1], width_days=res.width,
                         observed=res.observed, expected=round(res.expected, 6),
                         rate_ratio=round(res.rate_ratio, 6), statistic=round(res.statistic, 6),
                         p_value=p_value, p_method=p_method, p_floor=res.p_floor, trend_per_day=round(slope, 6)))
        if on_stream:
            on_stream(i + 1, len(keys))
    out = pd.DataFrame(rows, columns=[*STREAM_KEYS, "decisions", "start", "end", "width_days", "observed",
                                      "expected", "rate_ratio", "statistic", "p_value", "p_method", "p_floor",
                                      "trend_per_day"])
    out["q_value"] = _bh(out["p_value"].to_numpy(dtype=float))
    return out


def notice_shift(counts: pd.DataFrame, burst: pd.Series) -> dict:
    """Notice-driven decisions vs own-initiative ones of the burst's sibling streams, in and outside its window.

    Siblings share platform, category, language, scope and automation; notice sources are
    Article 16, trusted flaggers and other notifications. p_notice_shift: one-sided binomial test that
    the notice share in the window exceeds its share outside (the null: the mix did not change).
    """
    same = np.ones(len(counts), dtype=bool)
    for k in STREAM_KEYS:
        if k != "source_type":
            same &= (counts[k] == burst[k]).to_numpy()
    sib = counts[same]
    inside = (sib["application_day"] >= burst["start"]) & (sib["application_day"] <= burst["end"])
    is_notice = sib["source_type"].isin(NOTICE_SOURCES)
    is_own = sib["source_type"] == "SOURCE_VOLUNTARY"
    n_in, o_in = int(sib.loc[inside & is_notice, "decisions"].sum()), int(sib.loc[inside & is_own, "decisions"].sum())
    n_out, o_out = int(sib.loc[~inside & is_notice, "decisions"].sum()), int(sib.loc[~inside & is_own, "decisions"].sum())
    share_in = n_in / (n_in + o_in) if n_in + o_in else float("nan")
    share_out = n_out / (n_out + o_out) if n_out + o_out else float("nan")
    p = float("nan")
    if n_in + o_in and n_out + o_out:
        p = float(stats.binomtest(n_in, n_in + o_in, min(max(share_out, 1e-9), 1 - 1e-9),
                                  alternative="greater").pvalue)
    return {"notice_in": n_in, "own_in": o_in, "notice_out": n_out, "own_out": o_out,
            "notice_share_in": share_in, "notice_share_out": share_out, "p_notice_shift": p}


def bursts_of(counts: pd.DataFrame, scans: pd.DataFrame, params: DsaParameters = DSA_DEFAULTS) -> pd.DataFrame:
    """Streams whose best window is significant (q <= alpha), each with :func:`notice_shift`."""
    sig = scans[scans["q_value"] <= params.alpha].reset_index(drop=True)
    rows = []
    for _, b in sig.iterrows():
        rows.append({**b.to_dict(), **notice_shift(counts, b),
                     "notice_driven": bool(b["source_type"] in NOTICE_SOURCES)})
    cols = [*scans.columns, "notice_in", "own_in", "notice_out", "own_out", "notice_share_in",
            "notice_share_out", "p_notice_shift", "notice_driven"]
    return pd.DataFrame(rows, columns=cols)


def period_days(counts: pd.DataFrame, start: str | None, end: str | None) -> list[str]:
    if counts.empty and not (start and end):
        return []
    lo = start or counts["application_day"].min()
    hi = end or counts["application_day"].max()
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(lo, hi, freq="D")]


def analyze(engine, platform: str | None = None, start: str | None = None, end: str | None = None,
            params: DsaParameters = DSA_DEFAULTS, on_step: Callable[[str], None] | None = None,
            on_stream: Callable[[int, int], None] | None = None) -> AnalysisResult:
    """Daily counts and lag histogram on ``engine``, then bursts on the driver."""
    step = on_step or (lambda s: None)
    step("daily counts")
    counts = daily_counts(engine, platform, start, end, params)
    step("content age")
    lags = lag_quantiles(lag_histogram(engine, platform, start, end))
    days = period_days(counts, start, end)
    step("bursts")
    scans = scan_streams(counts, days, params, on_stream)
    bursts = bursts_of(counts, scans, params)
    return AnalysisResult(counts, scans, bursts, lags, days, params, engine.name)


def automated_share(counts: pd.DataFrame) -> float:
    total = counts["decisions"].sum()
    return float(counts.loc[counts["automated_decision"] == "AUTOMATED_DECISION_FULLY", "decisions"].sum() / total
                 ) if total else float("nan")
