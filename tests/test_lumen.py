"""Lumen Database notice JSON: the real search samples and a hand-written YouTube notice."""

import json
from pathlib import Path

import pandas as pd
import pytest

from detector.collect import lumen
from detector.collect.base import ReadOptions
from detector.errors import DetectorError
from detector.schema import TABLES

FIXTURE = Path(__file__).parent / "fixtures" / "lumen" / "defamation_youtube.json"


def read(path):
    return lumen.read(path, ReadOptions())


def write_json(tmp_path, doc, name="notice.json", indent=2):
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "rows", "first_id", "first_time"), [
    # 50 DMCA notices each; rows = infringing URLs, counted independently with json.load.
    ("anon_lumen_notices_0.json", 891, "lumen:16656231:1", "2017-04-15T21:59:11Z"),
    ("lumen_notices_1.json", 308, "lumen:14198134:1", "2017-04-15T03:49:34Z"),
])
def test_search_samples_give_one_row_per_infringing_url(samples, name, rows, first_id, first_time):
    path = samples / "lumen" / "civilservant" / name
    parsed = read(path)
    df = parsed.frames["notices"]
    assert len(df) == rows and parsed.detail["notices"] == 50
    assert list(df.columns) == list(TABLES["notices"])
    assert df["notice_id"].is_unique and df["notice_id"].iloc[0] == first_id
    assert df["received_at"].iloc[0] == pd.Timestamp(first_time)
    assert set(df["action"]) == {"complaint"} and set(df["policy"]) == {"copyright"}
    assert set(df["policy_raw"]) == {"DMCA; Copyright"}
    assert df["source_ref"].nunique() == 50
    assert df["target"].str.startswith("url:https://").all()


def test_real_sender_names_are_kept(samples):
    df = read(samples / "lumen" / "civilservant" / "lumen_notices_1.json").frames["notices"]
    assert df["sender"].iloc[0] == "カプコン"
    assert (df["source_ref"] == "14198105").sum() == 12  # one notice, 12 URLs


def test_defamation_notice_to_youtube_targets_the_videos(tmp_path):
    parsed = read(FIXTURE)
    df = parsed.frames["notices"]
    assert df["target"].tolist() == ["youtube:video:Qm3Vx9TzL0a", "youtube:video:Hb7kP2wXc4E"]
    assert df["notice_id"].tolist() == ["lumen:41234567:1", "lumen:41234567:2"]
    assert set(df["platform"]) == {"youtube"}
    assert set(df["policy"]) == {"other"} and set(df["policy_raw"]) == {"Defamation"}
    assert set(df["received_at"]) == {pd.Timestamp("2024-05-14T06:31:09Z")}
    assert set(df["sender"]) == {"Qazaq Public Relations Bureau"}
    assert "on behalf of: Nurlan Abenov" in df["text"].iloc[0]
    assert "action taken: No" in df["text"].iloc[0]
    assert parsed.detail["skipped_no_url"] == 1


def _notice(**changes):
    notice = json.loads(FIXTURE.read_text(encoding="utf-8"))["defamation"]
    notice.update(changes)
    return notice


def test_date_sent_stands_in_when_date_received_is_missing(tmp_path):
    path = write_json(tmp_path, {"defamation": _notice(date_received=None)})
    assert set(read(path).frames["notices"]["received_at"]) == {pd.Timestamp("2024-05-13T22:10:00Z")}


def test_undated_notices_are_skipped_and_counted(tmp_path):
    path = write_json(tmp_path, {"notices": [_notice(date_received=None, date_sent=None), _notice(id=7)]})
    parsed = read(path)
    assert parsed.frames["notices"]["source_ref"].unique().tolist() == ["7"]
    assert parsed.detail["undated_notices"] == 1


def test_domain_counts_without_urls_become_one_row_per_domain(tmp_path):
    works = [{"description": None, "infringing_urls": [{"fqdn": "www.youtube.com", "count": 3},
                                                       {"fqdn": "youtu.be", "count": 1}], "copyrighted_urls": []}]
    parsed = read(write_json(tmp_path, {"defamation": _notice(works=works)}))
    df = parsed.frames["notices"]
    assert df["target"].tolist() == ["url:https://www.youtube.com", "url:https://youtu.be"]
    assert "3 URL(s) on www.youtube.com" in df["text"].iloc[0]
    assert parsed.detail["fqdn_only_rows"] == 2


@pytest.mark.parametrize(("root", "kind", "url_key", "policy", "action"), [
    ("private_information", "PrivateInformation", "urls_with_private_information", "privacy", "complaint"),
    ("other", "Other", "problematic_urls", "harassment", "complaint"),
    ("counternotice", "Counternotice", "infringing_urls", "copyright", "other"),
    ("court_order", "CourtOrder", "infringing_urls", "other", "complaint"),
])
def test_other_notice_types_map_their_renamed_urls_and_policy(tmp_path, root, kind, url_key, policy, action):
    notice = _notice(type=kind, topics=["Harassment"] if root == "other" else [],
                     works=[{url_key: [{"url": "https://youtu.be/Qm3Vx9TzL0a"}]}])
    df = read(write_json(tmp_path, {root: notice})).frames["notices"]
    assert df["target"].tolist() == ["youtube:video:Qm3Vx9TzL0a"]
    assert df["policy"].tolist() == [policy] and df["action"].tolist() == [action]


def test_truncated_json_names_the_line(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"tags"')], encoding="utf-8")
    expected_line = text[: text.index('"tags"')].count("\n") + 1
    with pytest.raises(DetectorError, match="invalid JSON") as err:
        read(cut)
    assert err.value.line == expected_line and f"line {expected_line}" in err.value.message


def test_json_that_is_not_a_notice_and_empty_files_are_refused(tmp_path):
    with pytest.raises(DetectorError, match="not a Lumen notice") as err:
        read(write_json(tmp_path, {"name": "chat", "messages": []}))
    assert err.value.where() == "notice.json:1"
    empty = tmp_path / "empty.json"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(DetectorError, match="empty") as err:
        read(empty)
    assert err.value.where() == "empty.json:1"


def test_sniff_recognises_notices_and_not_other_json_or_webform_mails(samples):
    for path in [FIXTURE, *sorted((samples / "lumen" / "civilservant").glob("*.json"))]:
        assert lumen.sniff(path, path.read_bytes()[:65536])
    assert not lumen.sniff(Path("result.json"), b'{"name": "x", "type": "personal_chat", "messages": []}')
    # The YouTube legal-webform e-mails Lumen keeps have no date: deliberately unrecognised.
    for path in sorted((samples / "lumen" / "lumendatabase_youtube_examples").glob("*.html")):
        assert not lumen.sniff(path, path.read_bytes()[:65536])
