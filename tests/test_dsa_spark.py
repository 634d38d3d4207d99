"""The same analysis on Spark (local[*]) and DuckDB gives identical integers and identical bursts.

Skipped with a reason when PySpark or Java is missing locally; a failure under CI=true (``make test``
installs both). One Spark session for the module, small fixtures, to keep it short.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from dsa_helpers import real_dumps, wave_dumps

from detector.dsa.analysis import DuckDBEngine, SparkEngine, analyze, daily_counts, lag_histogram
from detector.dsa.convert import convert
from detector.dsa.params import DsaParameters


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install '.[spark]')"
    if shutil.which("java") is None:
        return "java is not installed (Debian: openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark():
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} under CI=true")
        pytest.skip(reason)
    from detector.dsa.analysis import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.slow
def test_real_rows_give_identical_counts_on_both_engines(spark, tmp_path):
    convert(real_dumps(tmp_path / "zips"), tmp_path / "pq")
    duck, sp = DuckDBEngine(tmp_path / "pq"), SparkEngine(tmp_path / "pq", session=spark)
    a, b = daily_counts(duck), daily_counts(sp)
    assert a["decisions"].sum() == 32
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(lag_histogram(duck), lag_histogram(sp))


@pytest.mark.slow
def test_wave_gives_identical_bursts_on_both_engines(spark, tmp_path):
    convert(wave_dumps(tmp_path / "zips"), tmp_path / "pq")
    params = DsaParameters(replicates=199)
    a = analyze(DuckDBEngine(tmp_path / "pq"), "youtube", "2025-07-01", "2025-07-28", params)
    b = analyze(SparkEngine(tmp_path / "pq", session=spark), "youtube", "2025-07-01", "2025-07-28", params)
    assert not a.bursts.empty
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.scans, b.scans)
    pd.testing.assert_frame_equal(a.bursts, b.bursts)
    pd.testing.assert_frame_equal(a.lags, b.lags)


@pytest.mark.slow
def test_cli_engine_spark_writes_the_same_bursts_as_duckdb(spark, tmp_path):
    from click.testing import CliRunner

    from detector.cli import main

    convert(wave_dumps(tmp_path / "zips"), tmp_path / "pq")
    runner = CliRunner()
    for engine in ("duckdb", "spark"):
        res = runner.invoke(main, ["dsa", "analyze", "--data", str(tmp_path / "pq"), "--engine", engine,
                                   "--spark-master", "local[2]", "--replicates", "199",
                                   "--out", str(tmp_path / engine)])
        assert res.exit_code == 0, res.output
    a = pd.read_csv(tmp_path / "duckdb" / "bursts.csv")
    b = pd.read_csv(tmp_path / "spark" / "bursts.csv")
    assert len(a) >= 1
    pd.testing.assert_frame_equal(a, b)
