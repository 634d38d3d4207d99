"""``detector dsa context`` on the demo case with synthetic platform data holding a notice-driven wave."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from detector.bundled import DEMO_DIR
from detector.cli import main
from detector.dsa.analysis import DuckDBEngine
from detector.dsa.context import context_for_burst
from detector.dsa.convert import convert
from detector.dsa.synth import synthetic_dumps, synthetic_for_bursts
from detector.results import case_bursts, platform_context
from detector.store import Case


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory) -> Path:
    from detector.analysis import analyze_case
    from detector.ingestion import ingest

    db = tmp_path_factory.mktemp("demo") / "case.duckdb"
    ingest([DEMO_DIR], db)
    analyze_case(db)
    return db


@pytest.mark.slow
def test_context_on_the_demo_case_finds_the_notice_driven_wave_and_lands_in_the_packet(demo_case, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["dsa", "simulate", "--db", str(demo_case), "--out", str(tmp_path / "zips"),
                               "--rows-per-day", "200"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["dsa", "convert", str(tmp_path / "zips"), "--out", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["dsa", "context", "--db", str(demo_case), "--data", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    with Case.open(demo_case, read_only=True) as case:
        bursts = case_bursts(case)
        ctx = platform_context(case)
        camps = json.loads(runner.invoke(main, ["campaigns", "--db", str(demo_case), "--json"]).output)
    assert list(ctx["burst_id"]) == list(bursts["burst_id"]) and len(ctx) >= 1
    assert set(ctx["verdict"]) == {"notice-driven rise"}
    assert (ctx["notice_share_in"] > ctx["notice_share_usual"]).all()
    assert (ctx["uid_names_target"] == 0).all()          # synthetic uids name no video
    first = ctx.iloc[0]
    assert first["dumps"] and all(len(d["sha1"]) == 40 for d in first["dumps"])
    assert first["candidates"][0]["dump_file"].startswith("sor-youtube-")
    # The packet of the campaign on those days carries the section and the dump hashes.
    camp = next(c for c in camps if c["start"][:10] <= first["window_start"] <= c["end"][:10] and c["tier"] == "strong")
    assert any(f.startswith("Platform context (EU DSA Transparency Database)") and "notice-driven rise" in f
               for f in camp["findings"])
    out = tmp_path / "packet.zip"
    res = runner.invoke(main, ["packet", camp["id"], "-o", str(out), "--db", str(demo_case)])
    assert res.exit_code == 0, res.output
    html = zipfile.ZipFile(out).read("report.html").decode()
    assert "Platform context (EU DSA Transparency Database)" in html
    assert first["dumps"][0]["sha1"] in html


def test_no_wave_means_no_rise(tmp_path):
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-04-01", periods=40)]
    convert(synthetic_dumps(tmp_path / "zips", days, 200, seed=11), tmp_path / "pq")
    burst = {"burst_id": "B1", "start": pd.Timestamp("2025-05-06 15:00", tz="UTC"),
             "end": pd.Timestamp("2025-05-07 16:00", tz="UTC"), "policy_top": "harassment", "platform": "youtube",
             "targets": ["youtube:video:bgWbBrjRuNk"]}
    row = context_for_burst(DuckDBEngine(tmp_path / "pq"), burst)
    assert row["verdict"] == "no unusual rise"
    assert row["decisions_in"] > 0 and row["candidate_count"] > 0


def test_synthetic_platform_data_puts_the_wave_on_the_bursts_days(tmp_path):
    bursts = pd.DataFrame({"start": [pd.Timestamp("2025-05-06 15:00", tz="UTC")],
                           "end": [pd.Timestamp("2025-05-07 16:00", tz="UTC")], "policy_top": ["hate_speech"]})
    paths = synthetic_for_bursts(bursts, tmp_path / "zips", rows_per_day=50, lead_days=7)
    assert paths[0].name == "sor-youtube-2025-04-29-full.zip" and paths[-1].name == "sor-youtube-2025-05-10-full.zip"
    report = convert(paths, tmp_path / "pq")
    per_day = {d.name: d.rows for d in report.dumps}
    assert per_day["sor-youtube-2025-05-06-full.zip"] > per_day["sor-youtube-2025-04-29-full.zip"] + 10


def test_a_uid_containing_the_video_id_is_a_lead_never_a_claimed_match(tmp_path):
    # No real YouTube row shows what YouTube puts in platform_uid (tests/fixtures/dsa/SOURCES.md),
    # so even a uid that literally contains the case's video id is only counted, never claimed.
    import pyarrow as pa

    from detector.dsa.context import describe
    from detector.dsa.synth import synthetic_day, table_csv_bytes, write_dump_zip

    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-04-01", periods=40)]
    for i, day in enumerate(days):
        t = synthetic_day(day, 100, seed=i)
        if day == "2025-05-06":
            uids = t.column("platform_uid").to_pylist()
            k = t.column("category").to_pylist().index("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")
            uids[k] = "yt-bgWbBrjRuNk-1"
            t = t.set_column(t.schema.get_field_index("platform_uid"), "platform_uid", pa.array(uids))
        write_dump_zip(tmp_path / "zips" / f"sor-youtube-{day}-full.zip",
                       {f"sor-youtube-{day}-full-00000-00000.csv": table_csv_bytes(t)})
    convert(sorted((tmp_path / "zips").glob("*.zip")), tmp_path / "pq")
    burst = {"burst_id": "B1", "start": pd.Timestamp("2025-05-06 15:00", tz="UTC"),
             "end": pd.Timestamp("2025-05-07 16:00", tz="UTC"), "policy_top": "harassment", "platform": "youtube",
             "targets": ["youtube:video:bgWbBrjRuNk"]}
    row = context_for_burst(DuckDBEngine(tmp_path / "pq"), burst)
    uid_row = [c for c in row["candidates"] if c["platform_uid"] == "yt-bgWbBrjRuNk-1"]
    assert len(uid_row) == 1 and row["uid_names_target"] == 1
    assert not any(k in row for k in ("matched_statement", "video_match", "statement_for_video"))
    assert "none is claimed to be a specific removal" in describe(row)
