"""DSA Transparency Database: dump layouts, streaming conversion, download checks, the DuckDB analysis.

Fixture rows are real statements of reasons from the database's daily dumps (see
tests/fixtures/dsa/SOURCES.md), packed the way the database packs them (zip of .csv.zip parts).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner
from dsa_helpers import V2, real_dumps, wave_dumps

from detector.cli import main
from detector.dsa.analysis import DuckDBEngine, analyze, daily_counts, where_clause
from detector.dsa.convert import convert, convert_dump, scope_key
from detector.dsa.download import download
from detector.dsa.params import DsaParameters
from detector.dsa.schema import LAYOUTS
from detector.dsa.synth import light_from_full, synthetic_dumps, write_dump_zip
from detector.errors import DetectorError


def read_dataset(folder: Path):
    return ds.dataset(folder / "", format="parquet", partitioning="hive",
                      exclude_invalid_files=False).to_table().to_pandas()


def test_every_layout_the_export_made_is_accepted_and_typed_alike(tmp_path):
    report = convert(real_dumps(tmp_path / "zips"), tmp_path / "pq")
    layouts = sorted(lay for d in report.dumps for lay in d.layouts)
    assert layouts == ["full-37", "full-38", "light-33", "light-34"]
    assert report.bad_rows == 0 and report.rows == 2 * (8 + 1 + 7)
    df = read_dataset(tmp_path / "pq")
    full = df[df["dump_file"].str.contains("-full")]
    light = df[df["dump_file"].str.contains("-light")]
    # The light layout lacks the free-text columns and the territorial scope, nothing else.
    assert light["territorial_scope"].isna().all() and light["decision_facts"].isna().all()
    assert full["territorial_scope"].notna().all()
    key = ["uuid", "dump_row"]
    cols = ["category", "source_type", "application_day", "content_lag_days", "automated_detection", "platform_uid"]
    a = full.sort_values(key)[cols].reset_index(drop=True)
    b = light.sort_values(key)[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_json_list_cells_become_lists_and_v2_categories_are_kept(tmp_path):
    convert(real_dumps(tmp_path / "zips")[2:3], tmp_path / "pq")     # the 2025-07-01 full dump (schema v2)
    df = read_dataset(tmp_path / "pq")
    row = df[df["uuid"] == "a8d01af1-0978-48d5-b7b4-6dab458fab23"].iloc[0]
    assert row["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert list(row["decision_visibility"]) == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert list(row["content_type"]) == ["CONTENT_TYPE_TEXT"]
    assert len(row["territorial_scope"]) == 30 and row["scope_key"] == "EEA"
    kl = df[df["uuid"] == "df01be47-b071-463f-b4d6-9398676daab7"].iloc[0]
    assert kl["decision_account"] == "DECISION_ACCOUNT_TERMINATED" and kl["scope_key"] == "DE"
    assert str(kl["application_date"]) == "2025-07-01 00:00:00+00:00"


def test_v1_rows_keep_their_old_category_and_content_age(tmp_path):
    convert(real_dumps(tmp_path / "zips")[0:1], tmp_path / "pq")
    df = read_dataset(tmp_path / "pq")
    pin = df[df["platform_name"] == "Pinterest"].iloc[0]
    assert pin["category"] == "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"
    assert list(pin["category_specification"]) == ["KEYWORD_ADULT_SEXUAL_MATERIAL"]
    assert pin["content_lag_days"] == (pd.Timestamp("2024-03-14") - pd.Timestamp("2020-08-13")).days
    assert not pin["automated_detection"]
    # The real dump repeats one TikTok statement verbatim; both copies are kept, with their row numbers.
    dup = df[df["uuid"] == "03b1b1c9-a860-4bf6-afff-0d8f0d944871"]
    assert sorted(dup["dump_row"]) == [1, 2]


def test_partitions_are_by_application_day_and_platform_with_provenance(tmp_path):
    zips = real_dumps(tmp_path / "zips")
    report = convert(zips[:1], tmp_path / "pq")
    sha1 = hashlib.sha1(zips[0].read_bytes()).hexdigest()
    assert report.dumps[0].sha1 == sha1
    parts = sorted(p.relative_to(tmp_path / "pq").parent.as_posix() for p in (tmp_path / "pq").glob("day=*/*/*.parquet"))
    assert "day=2024-03-13/platform=tiktok" in parts and "day=2024-02-12/platform=google-shopping" in parts
    import pyarrow.parquet as pq
    for f in (tmp_path / "pq").glob("day=*/*/*.parquet"):
        meta = pq.read_schema(f).metadata
        assert meta[b"dsa_dump_sha1"].decode() == sha1
        assert set(pq.read_table(f, columns=["dump_sha1"]).column(0).to_pylist()) == {sha1}


def test_bad_rows_are_counted_and_kept_not_dropped(tmp_path):
    lines = V2.read_text(encoding="utf-8").splitlines()
    bad_date = lines[1].replace('"2025-07-01 00:00:00","When reviewing', '"yesterday","When reviewing')
    bad_category = lines[2].replace("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_MADE_UP")
    short = ",".join(lines[3].split(",")[:10])
    text = "\n".join([lines[0], bad_date, bad_category, short, *lines[4:]]) + "\n"
    zip_path = tmp_path / "sor-global-2025-07-01-full.zip"
    write_dump_zip(zip_path, {"sor-global-2025-07-01-full-00000-00000.csv": text.encode()})
    report = convert_dump(zip_path, tmp_path / "pq")
    assert report.rows == 4 and report.bad_rows == 3
    assert report.bad_reasons == {"application_date: not a date": 1, "category: not a known value": 1,
                                  "10 fields, expected 38": 1}
    rejects = pd.read_parquet(tmp_path / "pq" / "_rejects" / "sor-global-2025-07-01-full.parquet")
    assert len(rejects) == 3
    manifest = json.loads((tmp_path / "pq" / "_dumps" / "sor-global-2025-07-01-full.json").read_text())
    assert manifest["bad_rows"] == 3 and manifest["sha1"] == report.sha1


def test_reconverting_a_dump_replaces_its_files(tmp_path):
    zips = real_dumps(tmp_path / "zips")[2:3]
    convert(zips, tmp_path / "pq")
    first = sorted(p.name for p in (tmp_path / "pq").rglob("*.parquet"))
    convert(zips, tmp_path / "pq")
    assert sorted(p.name for p in (tmp_path / "pq").rglob("*.parquet")) == first
    assert len(read_dataset(tmp_path / "pq")) == 7


def test_unknown_header_and_checksum_mismatch_are_errors(tmp_path):
    z = tmp_path / "sor-global-2025-07-01-full.zip"
    write_dump_zip(z, {"sor-global-2025-07-01-full-00000-00000.csv": b"uuid,something_else\n1,2\n"})
    with pytest.raises(DetectorError, match="unknown header"):
        convert_dump(z, tmp_path / "pq")
    write_dump_zip(z, {V2.name: V2.read_bytes()})
    z.with_name(z.name + ".sha1").write_text("0" * 40 + "  x\n")
    with pytest.raises(DetectorError, match="SHA-1"):
        convert_dump(z, tmp_path / "pq")
    assert not list((tmp_path / "pq").rglob("*.parquet"))


def test_nested_zips_are_read_without_extracting(tmp_path, monkeypatch):
    zips = real_dumps(tmp_path / "zips")[2:3]
    before = set((tmp_path).rglob("*.csv"))
    calls = []
    orig = zipfile.ZipFile.extract
    monkeypatch.setattr(zipfile.ZipFile, "extract", lambda *a, **k: calls.append(a) or orig(*a, **k))
    monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *a, **k: calls.append(a))
    convert(zips, tmp_path / "pq")
    assert calls == [] and set(tmp_path.rglob("*.csv")) == before


def test_scope_key_names_the_eu_and_eea_and_lists_the_rest():
    eea = "[" + ",".join(f'"{c}"' for c in "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL "
                                            "NO PL PT RO SE SI SK".split()) + "]"
    assert scope_key(eea) == "EEA"
    assert scope_key('["DE"]') == "DE" and scope_key('["FR","DE"]') == "DE,FR" and scope_key(None) is None


def test_layouts_match_the_export_code():
    # StatementExportTrait::headings() and headingsLight(): 38 and 34 columns today.
    assert len(LAYOUTS["full-38"]) == 38 and len(LAYOUTS["light-34"]) == 34
    assert LAYOUTS["full-38"][-3:] == ("platform_name", "platform_uid", "created_at")


# -- download -------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, honours Range, and can cut a response short once (to test resume)."""

    cut_after: dict = {}

    def log_message(self, *a):
        pass

    def do_GET(self):
        path = Path(self.directory) / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = self.cut_after.pop(path.name, None)
        self.wfile.write(body[:cut] if cut else body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_checks_sha1_and_resumes(server, tmp_path):
    root, url = server
    write_dump_zip(root / "sor-youtube-2025-07-01-full.zip", {V2.name: V2.read_bytes()})
    size = (root / "sor-youtube-2025-07-01-full.zip").stat().st_size
    _Handler.cut_after["sor-youtube-2025-07-01-full.zip"] = size // 2
    out = tmp_path / "dl"
    with pytest.raises(DetectorError, match="ended after|interrupted"):
        download("youtube", "2025-07-01", "2025-07-01", out, full=True, base=url)
    assert (out / "sor-youtube-2025-07-01-full.zip.part").stat().st_size == size // 2
    got = download("YouTube", "2025-07-01", "2025-07-01", out, full=True, base=url)
    assert got[0].fetched_bytes == size - size // 2
    assert (out / "sor-youtube-2025-07-01-full.zip").read_bytes() == (root / "sor-youtube-2025-07-01-full.zip").read_bytes()
    assert download("youtube", "2025-07-01", "2025-07-01", out, full=True, base=url)[0].fetched_bytes == 0


def test_download_failures_exit_non_zero(server, tmp_path):
    root, url = server
    write_dump_zip(root / "sor-youtube-2025-07-01-light.zip", {V2.name: light_from_full(V2.read_bytes())})
    (root / "sor-youtube-2025-07-01-light.zip.sha1").write_text("f" * 40 + "\n")   # regenerated dump
    runner = CliRunner()
    res = runner.invoke(main, ["dsa", "download", "--platform", "youtube", "--from", "2025-07-01", "--to",
                               "2025-07-01", "--out", str(tmp_path / "dl"), "--base-url", url])
    assert res.exit_code == 2 and "SHA-1 mismatch" in res.output
    assert not (tmp_path / "dl" / "sor-youtube-2025-07-01-light.zip").exists()
    res = runner.invoke(main, ["dsa", "download", "--platform", "youtube", "--from", "2025-07-02", "--to",
                               "2025-07-02", "--out", str(tmp_path / "dl"), "--base-url", url])
    assert res.exit_code == 2 and "HTTP 404" in res.output


# -- the analysis on DuckDB -----------------------------------------------------------------------


def test_notice_driven_wave_is_found_against_the_streams_own_cycle(tmp_path):
    convert(wave_dumps(tmp_path / "zips"), tmp_path / "pq")
    result = analyze(DuckDBEngine(tmp_path / "pq"), params=DsaParameters(replicates=199))
    b = result.bursts
    assert len(b) >= 1
    top = b.sort_values("q_value").iloc[0]
    assert (top["category"], top["source_type"], top["content_language"]) == (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE", "SOURCE_ARTICLE_16", "RU")
    assert top["start"] <= "2025-07-20" and top["end"] >= "2025-07-21"
    assert top["notice_share_in"] > top["notice_share_out"] and top["p_notice_shift"] < 1e-6
    # Old content removed in the wave: its content-age quantile is far above the usual one.
    lags = result.lags.set_index(["category", "source_type"])
    assert lags.loc[("STATEMENT_CATEGORY_CYBER_VIOLENCE", "SOURCE_ARTICLE_16"), "lag_q90"] >= 30


def test_no_wave_no_burst(tmp_path):
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-07-01", periods=28)]
    convert(synthetic_dumps(tmp_path / "zips", days, 300, seed=5), tmp_path / "pq")
    result = analyze(DuckDBEngine(tmp_path / "pq"), params=DsaParameters(replicates=199))
    assert result.bursts.empty and len(result.scans) > 10


def test_daily_counts_of_real_rows_are_exact(tmp_path):
    convert(real_dumps(tmp_path / "zips")[::2], tmp_path / "pq")    # the two full dumps
    counts = daily_counts(DuckDBEngine(tmp_path / "pq"))
    hh = counts[counts["platform_name"] == "Hotel Hideaway"]
    assert hh.groupby("category")["decisions"].sum().to_dict() == {
        "STATEMENT_CATEGORY_CYBER_VIOLENCE": 2, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": 2}
    assert counts["decisions"].sum() == 16
    tiktok = counts[(counts["platform_name"] == "TikTok") & (counts["application_day"] == "2024-03-12")]
    assert tiktok["decisions"].sum() == 2 and tiktok["automated_detections"].sum() == 2


def test_a_real_article_16_decision_counts_as_notice_driven(tmp_path):
    # The only real SOURCE_ARTICLE_16 row we found (Snapchat, an account suspension; see SOURCES.md).
    convert(real_dumps(tmp_path / "zips")[0:1], tmp_path / "pq")
    df = read_dataset(tmp_path / "pq")
    row = df[df["uuid"] == "a30666f1-6868-4ec5-8dd6-70c28741a531"].iloc[0]
    assert row["source_type"] == "SOURCE_ARTICLE_16" and row["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert row["decision_visibility"] is None and list(row["content_type"]) == ["CONTENT_TYPE_OTHER"]
    assert row["dump_part"] == "sor-global-2024-03-14-full-00000-00001.csv" and row["dump_row"] == 1
    counts = daily_counts(DuckDBEngine(tmp_path / "pq"))
    snap = counts[counts["platform_name"] == "Snapchat"].set_index("source_type")["decisions"].to_dict()
    assert snap == {"SOURCE_ARTICLE_16": 1}


def test_filters_refuse_anything_but_slugs_and_dates():
    with pytest.raises(DetectorError):
        where_clause(platform="youtube'; DROP TABLE x; --")
    with pytest.raises(DetectorError):
        where_clause(start="July")


def test_cli_convert_and_analyze_write_the_tables(tmp_path):
    zips = wave_dumps(tmp_path / "zips")
    runner = CliRunner()
    res = runner.invoke(main, ["dsa", "convert", str(tmp_path / "zips"), "--out", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    assert "sor-youtube-2025-07-20-full.zip" in res.output
    res = runner.invoke(main, ["dsa", "analyze", "--data", str(tmp_path / "pq"), "--platform", "youtube",
                               "--replicates", "199", "--out", str(tmp_path / "res")])
    assert res.exit_code == 0, res.output
    assert "bursts (q <= 0.05)" in res.output
    bursts = pd.read_csv(tmp_path / "res" / "bursts.csv")
    assert "STATEMENT_CATEGORY_CYBER_VIOLENCE" in set(bursts["category"])
    meta = json.loads((tmp_path / "res" / "analysis.json").read_text())
    assert meta["engine"] == "duckdb" and meta["parameters"]["replicates"] == 199
    assert {d["name"] for d in meta["dumps"]} == {z.name for z in zips}
    res = runner.invoke(main, ["dsa", "analyze", "--data", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "dsa convert" in res.output


def test_bad_zip_is_an_error_naming_the_file(tmp_path):
    z = tmp_path / "sor-youtube-2025-07-01-full.zip"
    z.write_bytes(b"PK not really")
    res = CliRunner().invoke(main, ["dsa", "convert", str(z), "--out", str(tmp_path / "pq")])
    assert res.exit_code == 2 and "sor-youtube-2025-07-01-full.zip" in res.output


def test_a_zip_of_plain_csv_parts_is_read_too(tmp_path):
    # A dump whose outer members are CSV parts directly (no inner zips) is read too.
    z = tmp_path / "sor-global-2025-07-01-full.zip"
    with zipfile.ZipFile(z, "w") as out:
        out.writestr(V2.name, V2.read_bytes())
    report = convert_dump(z, tmp_path / "pq")
    assert report.rows == 7 and report.parts == 1


def test_converting_with_two_worker_processes_gives_the_same_files(tmp_path):
    zips = real_dumps(tmp_path / "zips")
    one, two = convert(zips, tmp_path / "one"), convert(zips, tmp_path / "two", workers=2)
    assert [d.as_dict() for d in one.dumps] == [d.as_dict() for d in two.dumps]
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.parquet"))
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.parquet"))
    import pyarrow.parquet as pq
    for f in files:
        assert pq.read_table(tmp_path / "one" / f).equals(pq.read_table(tmp_path / "two" / f), check_metadata=True)


def test_a_bad_dump_in_a_worker_process_is_a_detector_error(tmp_path):
    zips = real_dumps(tmp_path / "zips")[:1]
    bad = tmp_path / "zips" / "sor-global-2024-03-15-full.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DetectorError, match="not a readable zip"):
        convert([*zips, bad], tmp_path / "pq", workers=2)
