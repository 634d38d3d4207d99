"""Results that predate the latest ingest are said to be stale by every reader."""

import shutil

import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.simulate import simulate_case


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("stale")
    sim = root / "sim"
    simulate_case(sim, seed=5, scenario="campaign")
    first = root / "first"
    shutil.copytree(sim, first)
    later = root / "later"
    later.mkdir()
    extra = sorted((first / "telegram").iterdir())[-1]
    shutil.move(str(extra), str(later / extra.name))
    db = root / "case.duckdb"
    assert run("ingest", first, "--db", db).exit_code == 0
    assert run("analyze", "--db", db).exit_code == 0
    return db, later / extra.name, root


def test_fresh_results_carry_no_warning_and_stale_ones_are_named_everywhere(analysed):
    db, later, root = analysed
    for args in (("campaigns",), ("status",), ("check", "https://youtu.be/dQw4w9WgXcQ")):
        result = run(*args, "--db", db)
        assert result.exit_code == 0 and "predate" not in result.stderr, args
    top = run("campaigns", "--db", db, "--json")
    import json

    cid = json.loads(top.stdout)[0]["id"]
    assert run("ingest", later, "--db", db).exit_code == 0
    for args in (("campaigns",), ("status",), ("check", "https://youtu.be/dQw4w9WgXcQ")):
        result = run(*args, "--db", db)
        assert result.exit_code == 0
        assert "warning: these results predate the case's inputs (1 source file ingested after the analysis)" in \
            result.stderr.replace("\n", " "), args
    refused = run("packet", cid, "-o", root / "p.zip", "--db", db)
    assert refused.exit_code == 2 and "--allow-stale" in refused.stderr and not (root / "p.zip").exists()
    allowed = run("packet", cid, "-o", root / "p.zip", "--db", db, "--allow-stale")
    assert allowed.exit_code == 0 and (root / "p.zip").exists()
    assert run("analyze", "--db", db).exit_code == 0
    assert "predate" not in run("campaigns", "--db", db).stderr


def test_an_alias_added_after_the_analysis_makes_results_stale(analysed):
    db, _, _ = analysed
    assert run("analyze", "--db", db).exit_code == 0
    assert run("alias", "@somebody", "UC2ogRTCEBL0p6gm-uoij7R0", "--db", db).exit_code == 0
    assert "channel aliases changed after the analysis" in run("campaigns", "--db", db).stderr
