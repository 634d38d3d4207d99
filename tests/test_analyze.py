"""End to end through the CLI on simulated incidents whose truth is known."""

import json

import pytest
from click.testing import CliRunner

from detector.cli import main

REQUIRED_KEYS = {"id", "rank", "tier", "score", "targets", "start", "end", "notices", "calls", "chats",
                 "p_burst", "p_link", "findings"}


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def _analysed(tmp_path_factory, scenario, seed):
    root = tmp_path_factory.mktemp(scenario)
    out, db = root / "case", root / "case.duckdb"
    assert run("simulate", "--out", out, "--seed", seed, "--scenario", scenario).exit_code == 0
    assert run("ingest", out, "--db", db).exit_code == 0
    result = run("analyze", "--db", db)
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return db, truth


@pytest.fixture(scope="module")
def campaign_case(tmp_path_factory):
    return _analysed(tmp_path_factory, "campaign", 7)


@pytest.fixture(scope="module")
def null_case(tmp_path_factory):
    return _analysed(tmp_path_factory, "null", 7)


@pytest.mark.slow
def test_campaign_is_ranked_first_and_strong_with_cited_findings(campaign_case):
    db, truth = campaign_case
    result = run("campaigns", "--db", db, "--json")
    assert result.exit_code == 0
    items = json.loads(result.output)
    assert items and REQUIRED_KEYS <= set(items[0])
    top = items[0]
    assert top["rank"] == 1 and top["tier"] == "strong"
    hits = set(truth["campaigns"][0]["hit_targets"])
    assert len(hits & set(top["targets"])) >= len(hits) / 2
    assert top["p_link"] <= 0.02 and top["p_burst"] <= 0.01
    assert top["start"].endswith("Z") and top["end"].endswith("Z")
    assert any("within 48 h" in f and "p_link" in f for f in top["findings"])
    assert any("Across windows from 6 h to 7 days" in f for f in top["findings"])
    assert top["notice_ids"] and top["call_post_ids"]


@pytest.mark.slow
def test_check_names_the_calls_before_a_removal(campaign_case):
    db, truth = campaign_case
    video = sorted(truth["campaigns"][0]["hit_targets"])[0]
    url = "https://youtu.be/" + video.rsplit(":", 1)[1]
    result = run("check", url, "--db", db, "--json")
    assert result.exit_code == 0
    verdict = json.loads(result.output)
    assert verdict["target"] == video
    assert verdict["calls"], "the calls naming the video are listed"
    assert any(n["calls_before"] for n in verdict["notices"])
    assert verdict["campaign"] is not None
    assert "not who filed" in verdict["limits"]


@pytest.mark.slow
def test_check_on_an_untouched_video_says_no_enforcement(campaign_case):
    db, _ = campaign_case
    result = run("check", "https://www.youtube.com/watch?v=ZZZZZZZZZZZ", "--db", db)
    assert result.exit_code == 0
    assert "no enforcement" in result.output


@pytest.mark.slow
def test_null_case_raises_no_alarm_and_says_so(null_case):
    db, _ = null_case
    items = json.loads(run("campaigns", "--db", db, "--json").output)
    assert not [c for c in items if c["tier"] in ("strong", "moderate")]
    text = run("campaigns", "--db", db).output
    if not items:
        assert "No evidence of coordination" in text


def test_campaigns_before_analysis_is_a_clear_error(tmp_path):
    csv = tmp_path / "n.csv"
    csv.write_text("received_at,target_url,action,policy\n2025-01-01T00:00:00Z,https://youtu.be/dQw4w9WgXcQ,removed,spam\n",
                   encoding="utf-8")
    db = tmp_path / "c.duckdb"
    assert run("ingest", csv, "--db", db).exit_code == 0
    result = run("campaigns", "--db", db)
    assert result.exit_code == 2
    assert "detector analyze" in result.stderr
