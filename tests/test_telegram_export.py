"""Telegram Desktop JSON exports: the real samples, the writer's quirks, and bad input."""

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from detector.collect import detect_format
from detector.collect.base import ReadOptions
from detector.collect.telegram_export import FORMAT, iter_records, read, sniff
from detector.errors import DetectorError

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _synthetic():
    spec = importlib.util.spec_from_file_location("telegram_synthetic", BENCH / "telegram_synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _posts(path, tz=None) -> pd.DataFrame:
    return read(path, ReadOptions(tz=tz)).frames["posts"].set_index("message_id")


def _export(tmp_path, messages, name="result.json", **chat) -> Path:
    """A one-chat export written the way tdesktop writes it (one-space indent, raw UTF-8)."""
    root = {"name": "Test channel", "type": "public_channel", "id": 1234567890, **chat, "messages": messages}
    path = tmp_path / name
    path.write_text(json.dumps(root, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _msg(mid, text="", **extra):
    return {"id": mid, "type": "message", "date": "2024-05-01T12:00:00",
            "date_unixtime": str(1714564800 + mid), "from": "Some channel", "from_id": "channel1234567890",
            "text": text, **extra}


# -- the real samples ------------------------------------------------------------------------

SAMPLE_COUNTS = {
    # file: (posts, service messages skipped), counted by reading each file
    "chat-analytics/DM_2A_7M.json": (6, 2),
    "chat-miner/test_single_export.json": (2, 0),
    "chat-miner/test_batch_export.json": (2, 0),
    "chatstyle/result.json": (11, 1),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_every_sample_ingests_with_its_message_count(samples, name):
    path = samples / "telegram" / name
    parsed = read(path, ReadOptions(tz="Asia/Almaty"))
    posts, service = SAMPLE_COUNTS[name]
    assert parsed.kind == "telegram_json"
    assert len(parsed.frames["posts"]) == posts
    assert parsed.detail["service_skipped"] == service
    assert (parsed.frames["posts"]["platform"] == "telegram").all()
    assert parsed.frames["posts"]["post_id"].is_unique


def test_every_sample_is_recognised_by_content(samples):
    for name in SAMPLE_COUNTS:
        path = samples / "telegram" / name
        assert sniff(path, path.read_bytes()[:65536]), name
        assert detect_format(path) is FORMAT, name


def test_other_json_is_not_taken_for_an_export(samples, tmp_path):
    lumen = samples / "lumen" / "civilservant" / "anon_lumen_notices_0.json"
    assert not sniff(lumen, lumen.read_bytes()[:65536])
    other = tmp_path / "result.json"
    other.write_text('{"data": {"messages": "none"}}')
    assert not sniff(other, other.read_bytes())
    chat = _export(tmp_path, [_msg(1, "hi")], name="export.txt")
    assert not sniff(chat, chat.read_bytes())      # only .json files


def test_chat_is_keyed_by_id_and_titled_by_name(samples):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    assert set(posts["chat"]) == {"tg222"}
    assert set(posts["chat_title"]) == {"Борис"}
    assert posts.loc["3", "post_id"] == "telegram:tg222:3"
    assert posts.loc["3", "source_ref"] == "3"
    assert posts.loc["3", "author"] == "Анна Петрова"


def test_dates_come_from_date_unixtime_in_utc(samples):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    # date "2023-05-01T12:01:00" is the exporter's local clock; date_unixtime 1682942460 is the truth.
    assert posts.loc["1", "posted_at"] == pd.Timestamp(1682942460, unit="s", tz="UTC")


def test_local_dates_without_tz_name_the_message_and_tz(samples):
    with pytest.raises(DetectorError) as err:
        read(samples / "telegram" / "chat-analytics" / "DM_2A_7M.json", ReadOptions())
    text = str(err.value)
    assert "message 3644" in text          # the first message that has only a local `date`
    assert "--tz" in text
    assert err.value.path.endswith("DM_2A_7M.json")


def test_local_dates_with_tz_become_utc_and_unixtimes_stay(samples):
    parsed = read(samples / "telegram" / "chat-analytics" / "DM_2A_7M.json", ReadOptions(tz="Asia/Almaty"))
    posts = parsed.frames["posts"].set_index("message_id")
    assert posts.loc["3644", "posted_at"] == pd.Timestamp("2019-07-12T10:55:32Z")   # Almaty was UTC+6
    assert posts.loc["3662", "posted_at"] == pd.Timestamp(1652135033, unit="s", tz="UTC")
    assert parsed.tz == "Asia/Almaty"
    assert parsed.detail["local_dates"] == 2


def test_tz_is_not_recorded_when_no_message_needed_it(samples):
    parsed = read(samples / "telegram" / "chatstyle" / "result.json", ReadOptions(tz="Asia/Almaty"))
    assert parsed.tz is None


def test_text_lists_are_flattened_by_plain_concatenation(samples):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    assert posts.loc["3", "text"] == "смотри https://example.com/a круто"
    assert posts.loc["4", "text"] == "ну реально норм, @boris_k глянь"
    miner = read(samples / "telegram" / "chat-miner" / "test_single_export.json").frames["posts"]
    assert miner["text"].tolist() == ["Minimal Message", "Link:https://telegram.org/"]


def test_link_entities_give_urls_and_targets(samples):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    assert posts.loc["3", "urls"] == ["https://example.com/a"]
    assert posts.loc["3", "targets"] == ["url:https://example.com/a"]
    assert posts.loc["1", "urls"] == []


def test_mentions_become_telegram_targets(samples):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    assert posts.loc["4", "targets"] == ["telegram:channel:boris_k"]
    assert posts.loc["4", "urls"] == []


def test_text_link_href_is_extracted(tmp_path):
    text = ["Report for harassment ", {"type": "text_link", "text": "this video",
                                        "href": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=track"},
            " and ", {"type": "link", "text": "youtu.be/dQw4w9WgXcQ"}, " also youtube[.]com/shorts/abcdefghijk"]
    posts = _posts(_export(tmp_path, [_msg(5, text)]))
    assert posts.loc["5", "text"] == ("Report for harassment this video and youtu.be/dQw4w9WgXcQ "
                                      "also youtube[.]com/shorts/abcdefghijk")
    assert posts.loc["5", "urls"] == ["https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=track",
                                      "youtu.be/dQw4w9WgXcQ", "youtube[.]com/shorts/abcdefghijk"]
    # the same video by two URL shapes is one target
    assert posts.loc["5", "targets"] == ["youtube:video:dQw4w9WgXcQ", "youtube:video:abcdefghijk"]


def test_forwarded_from_and_reply_are_kept(samples, tmp_path):
    posts = _posts(samples / "telegram" / "chatstyle" / "result.json")
    assert posts.loc["7", "forwarded_from"] == "Какой-то канал"
    assert pd.isna(posts.loc["3", "forwarded_from"])
    path = _export(tmp_path, [_msg(1, "a"), _msg(2, "b", reply_to_message_id=1),
                              _msg(3, "c", reply_to_message_id=9, reply_to_peer_id="channel777")])
    posts = _posts(path)
    assert posts.loc["2", "reply_to"] == "1"
    assert posts.loc["3", "reply_to"] == "channel777:9"    # a reply into another chat
    assert posts["views"].isna().all() and posts["forwards"].isna().all()   # exports have neither


def test_author_falls_back_to_signature_then_sender_id(tmp_path):
    path = _export(tmp_path, [_msg(1, "a", **{"from": None, "author": "Editor"}),
                              _msg(2, "b", **{"from": None, "from_id": 10083966286})])
    posts = _posts(path)
    assert posts.loc["1", "author"] == "Editor"
    assert posts.loc["2", "author"] == "10083966286"     # pre-2021 numeric from_id, deleted account


def test_service_and_unsupported_messages_are_skipped_and_counted(tmp_path):
    path = _export(tmp_path, [
        _msg(1, "kept"),
        {"id": 2, "type": "service", "date": "2024-05-01T12:00:00", "date_unixtime": "1714564802",
         "actor": "Ch", "action": "pin_message", "message_id": 1, "text": "", "text_entities": []},
        {"id": 3, "type": "unsupported"},
        _msg(4, "kept too")])
    parsed = read(path)
    assert parsed.frames["posts"]["message_id"].tolist() == ["1", "4"]
    assert parsed.detail["service_skipped"] == 1
    assert parsed.detail["unsupported_skipped"] == 1


def test_full_account_export_yields_each_chat(tmp_path):
    root = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "Me", "phone_number": "+7 000"},
        "chats": {"about": "This page lists all chats from this export.", "list": [
            {"name": "News", "type": "public_channel", "id": 111, "messages": [_msg(1, "one"), _msg(2, "two")]},
            {"type": "saved_messages", "id": 5, "messages": [_msg(1, "note to self")]},
            {"name": "Empty group", "type": "private_group", "id": 333, "messages": []}]},
        "left_chats": {"about": "Below are the supergroups and channels …", "list": [
            {"name": "Old", "type": "public_supergroup", "id": 444, "messages": [_msg(7, "bye")]}]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(root, indent=1), encoding="utf-8")
    parsed = read(path)
    posts = parsed.frames["posts"]
    assert posts["post_id"].tolist() == ["telegram:tg111:1", "telegram:tg111:2", "telegram:tg5:1",
                                         "telegram:tg444:7"]
    chats = {c["chat"]: c for c in parsed.detail["chats"]}
    assert set(chats) == {"tg111", "tg5", "tg444"}
    assert chats["tg5"]["type"] == "saved_messages" and chats["tg5"]["title"] is None
    assert chats["tg444"]["left"] and not chats["tg111"]["left"]
    assert parsed.detail["export"] == "account"
    assert sniff(path, path.read_bytes())


def test_batch_export_sample_is_an_account_export(samples):
    parsed = read(samples / "telegram" / "chat-miner" / "test_batch_export.json")
    assert parsed.detail["export"] == "account"
    assert [c["title"] for c in parsed.detail["chats"]] == ["Chatname"]
    # no message ids in this hand-made file: positions stand in, and the detail says so
    assert parsed.frames["posts"]["message_id"].tolist() == ["1", "2"]
    assert parsed.detail["messages_without_id"] == 2


def test_an_export_without_messages_gives_no_rows(tmp_path):
    parsed = read(_export(tmp_path, []))
    assert parsed.frames["posts"].empty
    assert list(parsed.frames["posts"].columns)[:2] == ["post_id", "source_id"]


def test_a_chat_listed_twice_adds_its_messages_once(tmp_path):
    chat = {"name": "News", "type": "public_channel", "id": 111, "messages": [_msg(1, "one")]}
    root = {"chats": {"list": [chat]}, "left_chats": {"list": [chat]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(root), encoding="utf-8")
    parsed = read(path)
    assert len(parsed.frames["posts"]) == 1
    assert parsed.detail["duplicates_dropped"] == 1


def test_overlapping_exports_give_the_same_post_ids(tmp_path):
    first = _posts(_export(tmp_path, [_msg(i, f"m{i}") for i in range(1, 6)], name="march.json"))
    second = _posts(_export(tmp_path, [_msg(i, f"m{i}") for i in range(3, 9)], name="may.json"))
    shared = set(first["post_id"]) & set(second["post_id"])
    assert shared == {f"telegram:tg1234567890:{i}" for i in (3, 4, 5)}


# -- the writer's quirks ---------------------------------------------------------------------

def test_invalid_x_escapes_are_repaired(tmp_path):
    path = tmp_path / "result.json"
    # tdesktop writes control characters as \xNN; an escaped backslash before "x41" must stay as it is
    path.write_bytes(b'{"name": "C", "type": "public_channel", "id": 1, "messages": [\n'
                     b' {"id": 1, "type": "message", "date_unixtime": "1714564800", "text": "1=412\\x012=97180"},\n'
                     b' {"id": 2, "type": "message", "date_unixtime": "1714564801", "text": "C:\\\\x41\\\\\\x02"}\n'
                     b']}')
    posts = _posts(path)
    assert posts.loc["1", "text"] == "1=412\x012=97180"
    assert posts.loc["2", "text"] == "C:\\x41\\\x02"


def test_unquoted_custom_emoji_document_id_is_repaired(tmp_path):
    path = tmp_path / "result.json"
    path.write_text('{\n "id": 1,\n "type": "private_group",\n "messages": [\n  {\n   "id": 66967,\n'
                    '   "type": "message",\n   "date_unixtime": "1660389071",\n   "text": [\n    {\n'
                    '     "type": "custom_emoji",\n     "text": "😮",\n'
                    '     "document_id": video_files/sticker (2).webm\n    },\n    "wow"\n   ]\n  }\n ]\n}\n',
                    encoding="utf-8")
    posts = _posts(path)
    assert posts.loc["66967", "text"] == "😮wow"


def test_utf16_bom_file_decodes(samples, tmp_path):
    original = samples / "telegram" / "chatstyle" / "result.json"
    copy = tmp_path / "result.json"
    copy.write_bytes(original.read_text(encoding="utf-8").encode("utf-16"))   # with BOM
    assert sniff(copy, copy.read_bytes()[:65536])
    pd.testing.assert_frame_equal(read(copy).frames["posts"], read(original).frames["posts"])


# -- bad input -------------------------------------------------------------------------------

def test_truncated_json_names_the_line(samples, tmp_path):
    data = (samples / "telegram" / "chatstyle" / "result.json").read_bytes()
    cut = data[: data.index("Посмотрю".encode())]
    path = tmp_path / "result.json"
    path.write_bytes(cut)
    with pytest.raises(DetectorError) as err:
        list(iter_records(path))
    assert err.value.line == cut.count(b"\n") + 1
    assert f"line {err.value.line}" in str(err.value)
    assert "complete Telegram Desktop export (result.json)" in str(err.value)


def test_empty_file_is_an_error(tmp_path):
    for content in (b"", b"  \n"):
        path = tmp_path / "result.json"
        path.write_bytes(content)
        with pytest.raises(DetectorError, match="empty file"):
            read(path)


def test_binary_junk_is_an_error(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(DetectorError, match="binary"):
        read(path)
    assert not sniff(path, path.read_bytes())


def test_invalid_utf8_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(b'{"messages": [\n{"id": 1, "type": "message", "text": "\xc3\x28"}\n]}')
    with pytest.raises(DetectorError) as err:
        read(path)
    assert err.value.line == 2


@pytest.mark.parametrize("content", ['{"data": [1, 2, 3]}', "[1, 2, 3]"])
def test_json_that_is_not_a_telegram_export_says_what_was_expected(tmp_path, content):
    path = tmp_path / "result.json"
    path.write_text(content)
    with pytest.raises(DetectorError) as err:
        read(path)
    assert "not a Telegram Desktop export" in str(err.value)
    assert "expected a complete Telegram Desktop export (result.json)" in str(err.value)


def test_account_export_without_chats_says_to_tick_them(tmp_path):
    path = tmp_path / "result.json"
    path.write_text('{"about": "Here is the data you requested.", "personal_information": {"user_id": 1}}')
    with pytest.raises(DetectorError, match="account export without chats"):
        read(path)


def test_message_without_any_date_is_an_error(tmp_path):
    path = _export(tmp_path, [{"id": 9, "type": "message", "text": "x"}])
    with pytest.raises(DetectorError, match="message 9"):
        read(path)


# -- synthetic exports (the generator the benchmark uses) ------------------------------------

def test_synthetic_export_ingests_every_non_service_message(tmp_path):
    synthetic = _synthetic()
    data = synthetic.synthetic_export(3000, seed=3)
    path = tmp_path / "result.json"
    path.write_bytes(data)
    parsed = read(path)
    posts = parsed.frames["posts"]
    assert len(posts) == 3000 - synthetic.service_count(data)
    assert parsed.detail["service_skipped"] == synthetic.service_count(data)
    assert posts["posted_at"].is_monotonic_increasing
    assert posts["posted_at"].min() >= pd.Timestamp(datetime(2023, 11, 14, 22, tzinfo=UTC))
    assert posts["targets"].map(len).sum() > 0
    assert posts["text"].str.contains("\x01").any()           # repaired \x01 escapes


def test_synthetic_export_with_local_dates_needs_a_zone(tmp_path):
    synthetic = _synthetic()
    path = tmp_path / "result.json"
    path.write_bytes(synthetic.synthetic_export(200, seed=4, local_dates=True))
    with pytest.raises(DetectorError, match="--tz"):
        read(path)
    utc = read(path, ReadOptions(tz="UTC")).frames["posts"]["posted_at"]
    almaty = read(path, ReadOptions(tz="Asia/Almaty")).frames["posts"]["posted_at"]
    assert ((utc - almaty) == pd.Timedelta(hours=6)).all()
