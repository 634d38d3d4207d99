"""`check` shows the posts that named a target without being counted as calls.

The classifier misses real calls, so "no call named it" is only honest with the posts a person
should read beside it. Real cases through the real CLI: an organic removal wave that supporters
then link (no call anywhere), and a campaign analysed with a call threshold so strict that the
classifier counts none of its calls.
"""

import json

import duckdb
import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.results import check_target, posts_naming
from detector.store import Case

pytestmark = pytest.mark.slow


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _case(tmp_path_factory, scenario: str, seed: int, *analyze_args):
    root = tmp_path_factory.mktemp(scenario)
    out, db = root / "case", root / "case.duckdb"
    assert run("simulate", "--out", out, "--seed", seed, "--scenario", scenario).exit_code == 0
    assert run("ingest", out, "--db", db).exit_code == 0
    result = run("analyze", "--db", db, *analyze_args)
    assert result.exit_code == 0, result.output
    return db, json.loads((out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def aftermath(tmp_path_factory):
    return _case(tmp_path_factory, "aftermath", 3)


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A campaign whose calls the analysis does not count (call threshold 0.999)."""
    return _case(tmp_path_factory, "campaign", 7, "--call-threshold", "0.999")


def _posts_naming_directly(db, target: str) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT post_id FROM posts WHERE list_contains(targets, ?)",
                                          [target]).fetchall()}
    finally:
        con.close()


def test_a_removed_video_that_only_supporters_linked_lists_their_posts_not_calls(aftermath):
    db, truth = aftermath
    target = truth["organic_bursts"][0]["targets"][0]
    with Case.open(db, read_only=True) as case:
        result = check_target(case, target)
        calls = case.derived("calls")
    assert result.calls.empty
    last = result.notices.loc[result.notices["action"] != "reinstated", "received_at"].max()
    named = result.named
    assert len(named) > 0
    assert set(named["post_id"]) <= _posts_naming_directly(db, target)
    assert (named["posted_at"] <= last).all()
    assert not set(named["post_id"]) & set(calls.loc[calls["kind"] == "call", "post_id"])
    # every post that names the target up to its last notice is listed: nothing is hidden
    con = duckdb.connect(str(db), read_only=True)
    try:
        upto = {r[0] for r in con.execute("SELECT post_id FROM posts WHERE list_contains(targets, ?) AND posted_at <= ?",
                                          [target, last.to_pydatetime()]).fetchall()}
    finally:
        con.close()
    assert set(named["post_id"]) == upto
    reporting = int(named["names_reporting"].sum())
    assert reporting > 0                  # the supporters' "removed after complaints" posts
    assert f"{reporting} post" in result.headline and "read them before concluding" in result.headline
    assert any("named it up to its last notice without being counted as a call" in d for d in result.details)


def test_check_json_gives_every_named_post_with_its_score(aftermath):
    db, truth = aftermath
    target = truth["organic_bursts"][0]["targets"][0]
    result = run("check", target, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    with Case.open(db, read_only=True) as case:
        expected = check_target(case, target).named
    assert [p["post_id"] for p in data["other_posts_naming"]] == list(expected["post_id"])
    for post in data["other_posts_naming"]:
        assert set(post) == {"post_id", "chat", "posted_at", "kind", "p_call", "names_reporting", "text"}
        assert post["kind"] in ("boast", "other")
        if post["names_reporting"]:
            assert post["p_call"] is not None           # scored by the model
        elif post["kind"] == "other":
            assert post["p_call"] is None               # the gate settles it: never a call


def test_calls_the_analysis_did_not_count_come_first_with_their_scores(strict):
    db, truth = strict
    campaign = truth["campaigns"][0]
    target = campaign["hit_targets"][0]
    with Case.open(db, read_only=True) as case:
        result = check_target(case, target)
    assert result.calls.empty                         # threshold 0.999: the classifier counted none
    named = result.named
    reporting = named[named["names_reporting"]]
    assert len(reporting) > 0 and reporting["p_call"].max() >= 0.5
    assert "mention reporting: read them before concluding" in result.headline
    # the quoted lines put the likeliest call first
    quoted = [d for d in result.details if " UTC, " in d and "p_call" in d]
    top = reporting.sort_values("p_call", ascending=False).iloc[0]
    assert quoted and quoted[0].endswith(f'"{" ".join(str(top.text).split())[:160]}'
                                         f'{"…" if len(" ".join(str(top.text).split())) > 160 else ""}"')
    cli = run("check", target, "--db", db)
    assert cli.exit_code == 0 and "mention reporting" in cli.output


def test_a_target_nobody_named_lists_nothing(aftermath):
    db, _ = aftermath
    with Case.open(db, read_only=True) as case:
        assert posts_naming(case, {"youtube:video:ZZZZZZZZZZZ"}).empty
        assert posts_naming(case, set()).empty
        result = check_target(case, "https://www.youtube.com/watch?v=ZZZZZZZZZZZ")
    assert result.named.empty
    assert not any("named it" in d for d in result.details)
