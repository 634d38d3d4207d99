"""One channel, one target: aliases from the user, case files and notices; check's inputs."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.errors import DetectorError
from detector.identity import (
    aliases_from_notices,
    apply_aliases,
    resolve_aliases,
    target_from_input,
)

UC = "UC2ogRTCEBL0p6gm-uoij7R0"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("value, expected", [
    ("dQw4w9WgXcQ", "youtube:video:dQw4w9WgXcQ"),
    (UC, f"youtube:channel:{UC}"),
    ("@DalaTestimony", "youtube:handle:dalatestimony"),
    ("https://youtu.be/dQw4w9WgXcQ?si=x", "youtube:video:dQw4w9WgXcQ"),
    ("youtube.com/c/NomadRights", "youtube:handle:nomadrights"),
    ("youtube:video:dQw4w9WgXcQ", "youtube:video:dQw4w9WgXcQ"),
])
def test_check_accepts_links_canonical_ids_and_bare_ids(value, expected):
    assert target_from_input(value) == expected


@pytest.mark.parametrize("value", ["hello there", "report this", "", "12345"])
def test_input_that_is_neither_a_link_nor_an_id_is_an_error(value):
    with pytest.raises(DetectorError, match="not a link or an id"):
        target_from_input(value)


def test_aliases_resolve_to_the_channel_id_through_chains():
    pairs = pd.DataFrame({"alias": ["youtube:handle:a", "youtube:handle:b"],
                          "canonical": ["youtube:handle:b", f"youtube:channel:{UC}"]})
    mapping = resolve_aliases(pairs)
    assert mapping == {"youtube:handle:a": f"youtube:channel:{UC}", "youtube:handle:b": f"youtube:channel:{UC}"}


def test_two_channel_ids_in_one_alias_group_are_refused():
    pairs = pd.DataFrame({"alias": ["youtube:handle:a", "youtube:handle:a"],
                          "canonical": [f"youtube:channel:{UC}", "youtube:channel:UCxxxxxxxxxxxxxxxxxxxxxx"]})
    with pytest.raises(DetectorError, match="two channels"):
        resolve_aliases(pairs)


def test_a_notice_giving_a_channel_by_two_ids_makes_an_alias():
    notices = pd.DataFrame({"notice_id": ["n1", "n2"], "target": [f"youtube:channel:{UC}", "youtube:video:dQw4w9WgXcQ"],
                            "subject": ["youtube:handle:dala", f"youtube:channel:{UC}"]})
    found = aliases_from_notices(notices)
    assert found.to_dict("records") == [{"alias": "youtube:handle:dala", "canonical": f"youtube:channel:{UC}",
                                         "origin": "notice n1"}]


def test_aliases_apply_to_scalars_and_lists_without_duplicates():
    mapping = {"youtube:handle:dala": f"youtube:channel:{UC}"}
    frame = pd.DataFrame({"target": ["youtube:handle:dala"], "subject": [None],
                          "targets": [["youtube:handle:dala", f"youtube:channel:{UC}", "youtube:video:dQw4w9WgXcQ"]]})
    out = apply_aliases(frame, mapping)
    assert out["target"].iloc[0] == f"youtube:channel:{UC}"
    assert out["targets"].iloc[0] == [f"youtube:channel:{UC}", "youtube:video:dQw4w9WgXcQ"]


def _notices_csv(path, rows):
    header = "notice_id,received_at,action,policy,target_url,subject_url\n"
    path.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")


def _telegram(path, messages):
    path.write_text(json.dumps({"name": "Hostile", "type": "public_channel", "id": 77, "messages": [
        {"id": i + 1, "type": "message", "date": t.replace("Z", ""), "date_unixtime": str(int(
            pd.Timestamp(t).timestamp())), "from": "Hostile", "text": text}
        for i, (t, text) in enumerate(messages)]}, ensure_ascii=False), encoding="utf-8")


def test_channel_level_calls_by_handle_link_to_the_termination_by_uc_id(tmp_path):
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "detector-case.json").write_text(json.dumps({"aliases": {"@dala_archive": UC}}), encoding="utf-8")
    channel = f"https://www.youtube.com/channel/{UC}"
    rows = [(f"n{i}", f"2024-0{1 + i % 5}-1{i % 9}T10:00:00Z", "complaint", "harassment",
             f"https://youtu.be/abcdefghi{i:02d}", channel) for i in range(20)]
    rows.append(("term", "2024-03-16T09:00:00Z", "suspended", "harassment", channel, channel))
    _notices_csv(folder / "notices.csv", rows)
    _telegram(folder / "result.json", [("2024-01-02T10:00:00Z", "hello"),
                                        ("2024-03-15T20:00:00Z", "Report the whole channel https://www.youtube.com/@dala_archive"),
                                        ("2024-05-30T10:00:00Z", "bye")])
    db = tmp_path / "case.duckdb"
    result = run("ingest", folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 channel aliases added" in result.output
    status = run("status", "--db", db)
    assert f"youtube:handle:dala_archive = youtube:channel:{UC}" in status.output.replace("\n", "")
    assert run("analyze", "--db", db).exit_code == 0
    for given in ("@dala_archive", UC, "https://www.youtube.com/@dala_archive", channel):
        out = json.loads(run("check", given, "--db", db, "--json").output)
        assert out["target"] == f"youtube:channel:{UC}"
        assert [n["notice_id"] for n in out["notices"]] == ["youtube:term"]
        assert out["notices"][0]["calls_before"], given
    bad = run("check", "not a link", "--db", db)
    assert bad.exit_code == 2 and "not a link or an id" in bad.output


def test_alias_command_stores_lists_and_removes(tmp_path):
    db = tmp_path / "case.duckdb"
    assert run("alias", "@dala", UC, "--db", db).exit_code == 0
    listed = run("alias", "--db", db)
    assert f"youtube:handle:dala = youtube:channel:{UC} (user)" in listed.output.replace("\n", "")
    assert run("alias", "@dala", "--remove", "--db", db).exit_code == 0
    assert "no channel aliases" in run("alias", "--db", db).output
    bad = run("alias", "@dala", "https://youtu.be/dQw4w9WgXcQ", "--db", db)
    assert bad.exit_code == 2 and "not a YouTube channel" in bad.output


def _strict_json(text):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_campaign_ids_survive_ingesting_an_older_export_and_json_is_strict(tmp_path):
    """A campaign keeps its id when an older export adds an earlier, separate campaign."""
    from detector.simulate import simulate_case

    sim = tmp_path / "sim"
    simulate_case(sim, seed=3, scenario="mixed")
    db = tmp_path / "case.duckdb"
    import shutil

    # first everything but one Telegram channel; later that channel, as an older export would come
    staging, older = tmp_path / "first", tmp_path / "older"
    shutil.copytree(sim, staging)
    held_out = sorted((staging / "telegram").iterdir())[0]
    older.mkdir()
    shutil.move(str(held_out), str(older / held_out.name))
    held_out = older / held_out.name
    assert run("ingest", staging, "--db", db).exit_code == 0
    assert run("analyze", "--db", db).exit_code == 0
    before = _strict_json(run("campaigns", "--db", db, "--json").output)
    assert run("ingest", held_out, "--db", db).exit_code == 0
    assert run("analyze", "--db", db).exit_code == 0
    after = _strict_json(run("campaigns", "--db", db, "--json").output)
    before_ids = {c["id"] for c in before}
    kept = 0
    for c in before:
        now = [a for a in after if set(c["call_post_ids"]) & set(a["call_post_ids"])]
        assert len(now) == 1, c["id"]
        # its id survives, unless the new calls merged it into another earlier campaign (whose id it takes)
        assert now[0]["id"] == c["id"] or now[0]["id"] in before_ids
        kept += now[0]["id"] == c["id"]
    assert kept >= len(before) - 2
    assert all(c["id"].startswith("C") and len(c["id"]) >= 7 for c in after)
