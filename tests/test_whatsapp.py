"""WhatsApp exports: real samples from ../shared/samples/whatsapp, and small files built here for
the shapes the samples lack (Arabic, Buddhist, Vietnamese, NNBSP clocks, broken input)."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from detector.collect.base import ReadOptions
from detector.collect.whatsapp import FORMAT, iter_records, read, sniff
from detector.errors import DetectorError

UTC = ReadOptions(tz="UTC")

ANDROID_EN = "whats_json/android__WhatsApp Chat with Dmitry S EN Android.txt"
IOS_EN = "whats_json/ios__WhatsApp Chat - Elon Musk (EN).txt"

# file -> (headers, posts, system lines, deleted, media posts, date order), counted by reading
# each file: headers are the lines starting with a date; the rest are continuation lines.
COUNTS = {
    "chat-analytics/2A_5M.txt": (5, 5, 0, 0, 1, "either"),
    "chat-miner/test_[mmddyy]_24hrs.txt": (9, 7, 2, 0, 0, "month-first"),
    "chat-miner/test_ddmmyy_24hrs.txt": (9, 7, 2, 0, 0, "day-first"),
    "chat-miner/test_mmddyy_24hrs.txt": (9, 7, 2, 0, 0, "month-first"),
    "chat-miner/test_mmddyyyy_12hrs.txt": (9, 7, 2, 0, 0, "month-first"),
    "chat-miner/test_yyyymmdd_24hrs.txt": (9, 7, 2, 0, 0, "year-first"),
    "langchain/whatsapp_chat.txt": (10, 9, 0, 1, 1, "month-first"),
    "pustur_website/ios_de-style_2019_old-example__chat.txt": (100, 97, 3, 0, 0, "day-first"),
    "pustur_website/ios_de-style_2024_example__chat.txt": (52, 48, 4, 0, 4, "day-first"),
    "rwhatsapp/sample.txt": (9, 7, 2, 0, 1, "day-first"),
    "whats_json/android__Chat WhatsApp s\u00a0uživatelem Dmitry S CZ Android.txt": (60, 51, 1, 8, 29, "day-first"),
    ANDROID_EN: (60, 51, 1, 8, 29, "day-first"),
    "whats_json/android__WhatsApp Chat with Dmitry S EN+Media Android.txt": (60, 51, 1, 8, 29, "day-first"),
    "whats_json/android__Чат WhatsApp с\u00a0контактом Dmitry S RU Android.txt": (60, 51, 1, 8, 29, "day-first"),
    "whats_json/calendars__Gregorian iOS.txt": (25, 20, 3, 2, 14, "month-first"),
    "whats_json/calendars__Japanese iOS.txt": (28, 22, 3, 3, 16, "month-first"),
    **{f"whats_json/ios__WhatsApp Chat - Elon Musk ({lang}).txt": (25, 20, 3, 2, 14, "month-first")
       for lang in ("CZ", "EN", "EN+Media", "FR", "German", "IT", "Portugal", "RU", "Spanish", "UKR")},
    **{f"whats_json/ios__iOS {lang}.txt": (28, 22, 3, 3, 16, "month-first")
       for lang in ("Hindi", "Indonesian", "Japanese", "Thai")},
    "whatstk/lorem.txt": (500, 500, 0, 0, 0, "day-first"),
    "whatstk/pokemon.txt": (20, 18, 2, 0, 0, "day-first"),
}
# Every date in these reads both ways (12/9/20; 11/01/2023), and all fall on one day. The Android
# export's shape (11/01/2023, 16:13) is day first in every CLDR locale that writes it: the order
# comes from the export's conventions, weaker evidence, said so. name -> (order, headers, posts).
INFERRED = {
    "whats_json/android__WhatsApp Chat with Group Chat XXX Android.txt": ("day-first", 20, 3),
}
# 12/9/20, 23:55 is d/M/yy (es, el, ur…) or M/d/yy (en_US on 24-hour time): nothing in the file
# settles it, so the reader asks. name -> (dayfirst, headers, posts).
AMBIGUOUS = {
    "chat-analytics/4A_11M.txt": (False, 14, 11),
}


@pytest.fixture(scope="module")
def wa(samples: Path) -> Path:
    return samples / "whatsapp"


def write(tmp_path: Path, text: str, name: str = "WhatsApp Chat with Test.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def posts_of(path: Path, **options) -> pd.DataFrame:
    return read(path, ReadOptions(**{"tz": "UTC", **options})).frames["posts"]


# --- every sample ---------------------------------------------------------------------------

def test_every_sample_is_counted_here(wa: Path):
    on_disk = {str(p.relative_to(wa)) for p in wa.rglob("*.txt")}
    assert on_disk == set(COUNTS) | set(INFERRED) | set(AMBIGUOUS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_sample_ingests_with_its_message_counts(wa: Path, name: str):
    headers, posts, system, deleted, media, order = COUNTS[name]
    parsed = read(wa / name, UTC)
    frame = parsed.frames["posts"]
    assert len(frame) == posts
    assert (parsed.detail["messages"], parsed.detail["system_lines"], parsed.detail["deleted"],
            parsed.detail["media_messages"], parsed.detail["date_order"]) == (headers, system, deleted, media, order)
    assert frame["platform"].eq("whatsapp").all() and frame["forwarded_from"].isna().all()
    assert frame["post_id"].is_unique
    assert parsed.kind == "whatsapp" and parsed.tz == "UTC"


@pytest.mark.parametrize("name", sorted(COUNTS) + sorted(INFERRED) + sorted(AMBIGUOUS))
def test_sample_is_sniffed_as_whatsapp(wa: Path, name: str):
    path = wa / name
    assert sniff(path, path.read_bytes()[:65536])


@pytest.mark.parametrize("name", sorted(INFERRED))
def test_sample_whose_dates_read_both_ways_gets_its_order_from_its_conventions_and_says_so(wa: Path, name: str):
    order, headers, posts = INFERRED[name]
    parsed = read(wa / name, UTC)
    assert parsed.detail["date_order"] == order
    assert "conventions" in parsed.detail["date_order_reason"] and "weaker" in parsed.detail["date_order_reason"]
    assert any(note.startswith("date order inferred from the export's conventions") and "--monthfirst" in note
               for note in parsed.detail["notes"])
    assert (parsed.detail["messages"], len(parsed.frames["posts"])) == (headers, posts)
    asked = read(wa / name, ReadOptions(tz="UTC", dayfirst=order != "day-first"))
    assert asked.detail["date_order"] != order
    assert any("as asked, although the file's own evidence points the other way" in n for n in asked.detail["notes"])


@pytest.mark.parametrize("name", sorted(AMBIGUOUS))
def test_sample_that_nothing_in_it_settles_asks_for_the_order(wa: Path, name: str):
    dayfirst, headers, posts = AMBIGUOUS[name]
    with pytest.raises(DetectorError) as err:
        read(wa / name, UTC)
    assert "ambiguous" in err.value.message and err.value.line == 1
    assert "--dayfirst" in err.value.hint and "--monthfirst" in err.value.hint
    parsed = read(wa / name, ReadOptions(tz="UTC", dayfirst=dayfirst))
    assert (parsed.detail["messages"], len(parsed.frames["posts"])) == (headers, posts)


# --- specific messages ----------------------------------------------------------------------

def test_android_message_has_author_text_and_utc_time(wa: Path):
    frame = posts_of(wa / ANDROID_EN, tz="Europe/Berlin")
    hello = frame.iloc[0]
    assert (hello["author"], hello["text"], hello["source_ref"], hello["message_id"]) == ("Dmitry S", "Hello", "2", "2")
    # 18/03/2022 14:56 in Berlin (CET, UTC+1)
    assert hello["posted_at"] == pd.Timestamp("2022-03-18T13:56:00Z")
    assert frame.iloc[0]["chat"] == "dmitry s en android"
    assert frame.iloc[0]["chat_title"] == "Dmitry S EN Android"


def test_multiline_message_is_kept_whole(wa: Path):
    frame = posts_of(wa / ANDROID_EN)
    venue = frame[frame["text"].str.startswith("Pimlico")].iloc[0]
    assert venue["text"] == "Pimlico Gardens\nLondon, United Kingdom\nhttps://foursquare.com/v/4e89af95e5fa82ad4c0aa03b"
    assert venue["urls"] == ["https://foursquare.com/v/4e89af95e5fa82ad4c0aa03b"]
    assert venue["targets"] == ["url:https://foursquare.com/v/4e89af95e5fa82ad4c0aa03b"]


def test_media_caption_on_following_line_stays_with_its_placeholder(wa: Path):
    frame = posts_of(wa / "whats_json/android__WhatsApp Chat with Dmitry S EN+Media Android.txt")
    assert "<Media omitted>\nImage with caption" in set(frame["text"])


def test_ios_marks_are_stripped_from_text_and_authors(wa: Path):
    frame = posts_of(wa / IOS_EN)
    assert not frame["text"].str.contains("\u200e").any()
    assert not frame["author"].str.contains("\u200e").any()
    assert "image omitted" in set(frame["text"])
    doc = frame[frame["text"].str.startswith("Resume")].iloc[0]
    assert doc["text"] == "Resume-Dmitry-Starkov.pdf • 2 pages document omitted"
    assert doc["posted_at"] == pd.Timestamp("2022-03-27T21:50:25Z")


def test_system_lines_are_skipped_on_both_platforms(wa: Path):
    ios = posts_of(wa / IOS_EN)
    assert not ios["text"].str.contains("end-to-end|security code", regex=True).any()
    assert set(ios["author"]) == {"Dmitry S"}   # Elon Musk only sent system lines and a deleted one
    android = posts_of(wa / "whats_json/android__WhatsApp Chat with Group Chat XXX Android.txt", dayfirst=True)
    assert android["text"].tolist() == ["Hello all", "This is group chat", "We"]


def test_deleted_messages_are_skipped(wa: Path):
    frame = posts_of(wa / "whats_json/android__Чат WhatsApp с\u00a0контактом Dmitry S RU Android.txt")
    assert not frame["text"].str.contains("удал").any()


def test_system_line_quoting_a_colon_is_not_a_message(tmp_path: Path):
    path = write(tmp_path, '1/2/23, 10:00 - Alice changed the subject from "Report: now" to "Calm"\n'
                           "1/2/23, 10:01 - Alice: hi\n")
    parsed = read(path, ReadOptions(tz="UTC", dayfirst=True))
    assert parsed.frames["posts"]["text"].tolist() == ["hi"] and parsed.detail["system_lines"] == 1


def test_name_prefix_tilde_is_dropped_and_twelve_hour_clock_read(wa: Path):
    frame = posts_of(wa / "langchain/whatsapp_chat.txt")
    row = frame[frame["text"] == "Of course!"].iloc[0]
    assert row["author"] == "User name 2" and row["posted_at"] == pd.Timestamp("2021-01-24T12:41:03Z")
    assert frame[frame["text"] == "Hello"].iloc[0]["posted_at"] == pd.Timestamp("2022-07-19T23:32:00Z")
    assert frame[frame["text"].str.startswith("And let")].iloc[0]["posted_at"] == pd.Timestamp("2023-01-23T03:22:00Z")
    assert frame[frame["text"] == "See you!"].iloc[0]["posted_at"] == pd.Timestamp("2023-05-04T16:13:23Z")


def test_spanish_a_m_p_m_clock(wa: Path):
    frame = posts_of(wa / "chat-miner/test_mmddyyyy_12hrs.txt")
    assert frame["posted_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2019-01-01 11:25", "2019-01-20 11:23", "2019-01-30 20:49", "2020-06-10 15:55",
        "2021-12-10 10:10", "2021-12-20 12:10", "2021-12-30 22:01"]


def test_author_colon_without_space_is_read_when_the_author_is_known(wa: Path):
    frame = posts_of(wa / "chat-miner/test_ddmmyy_24hrs.txt")
    row = frame[frame["source_ref"] == "2"].iloc[0]
    assert (row["author"], row["text"]) == ("John Doe", ".")
    assert frame[frame["text"] == "Lorem ipsum : dolor sit amet."].iloc[0]["author"] == "John-John Doe"


def test_japanese_era_years_are_gregorian(wa: Path):
    frame = posts_of(wa / "whats_json/calendars__Japanese iOS.txt")
    assert frame["posted_at"].min() == pd.Timestamp("2022-03-27T21:41:35Z")
    assert frame["posted_at"].max() == pd.Timestamp("2023-01-12T15:35:15Z")


def test_out_of_order_message_keeps_its_own_time(wa: Path):
    frame = posts_of(wa / "chat-analytics/2A_5M.txt")
    assert frame.iloc[-1]["posted_at"] == pd.Timestamp("2021-01-01T12:02:00Z")


# --- line shapes not in the samples ---------------------------------------------------------

@pytest.mark.parametrize("line, when, author, text", [
    ("1/14/23, 7:02\u202fPM - Person 2: <Media omitted>", "2023-01-14 19:02:00", "Person 2", "<Media omitted>"),
    ("3/16/2018 1:55 p.\u00a0m. - a: m", "2018-03-16 13:55:00", "a", "m"),
    ("[31/12/2019, 2:14:40 a.m.] Bob: hi", "2019-12-31 02:14:40", "Bob", "hi"),
    ("13/07/2017 à 22:35 - Jean: salut", "2017-07-13 22:35:00", "Jean", "salut"),
    ("13.6.2018 klo 21.25.15 - Aino: moi", "2018-06-13 21:25:15", "Aino", "moi"),
    ("23-03-2022 13:31 - Daan: hoi", "2022-03-23 13:31:00", "Daan", "hoi"),
    ("[2022/7/21 05:11:12] Sunaya: 你好", "2022-07-21 05:11:12", "Sunaya", "你好"),
    ("4/26/16, 16:23:03: \u202a+55\u00a061\u00a08121\u20113457\u202c: <\u200eimage omitted>",
     "2016-04-26 16:23:03", "+55 61 8121-3457", "<image omitted>"),
    ("\u200e[\u200f18\u200f/3\u200f/2022\u060c 14:56:01] Elon Musk: \u200fمرحبا", "2022-03-18 14:56:01", "Elon Musk", "مرحبا"),
    ("[١٨\u200f/٣\u200f/٢٠٢٢، ٢:٥٦:٠٠\u00a0م] Elon: hi", "2022-03-18 14:56:00", "Elon", "hi"),
    ("[3/18/2565 BE, 14:56:01] Elon Musk: Hello", "2022-03-18 14:56:01", "Elon Musk", "Hello"),
    ("[14:56:01, 3/18/22] Musk Elon: Xin chào", "2022-03-18 14:56:01", "Musk Elon", "Xin chào"),
    ("[2022/7/21 下午5:11:12] Sunaya: 你好", "2022-07-21 17:11:12", "Sunaya", "你好"),
    ("2022. 7. 21. 오후 5:11 - 민수: 안녕", "2022-07-21 17:11:00", "민수", "안녕"),
    ("2022. 7. 21. 오전 12:05 - 민수: 밤", "2022-07-21 00:05:00", "민수", "밤"),
])
def test_regional_header_shape(tmp_path: Path, line: str, when: str, author: str, text: str):
    parsed = read(write(tmp_path, line + "\n"), UTC)
    row = parsed.frames["posts"].iloc[0]
    assert (row["author"], row["text"]) == (author, text)
    assert row["posted_at"] == pd.Timestamp(when, tz="UTC")


@pytest.mark.parametrize("year", ["2565", "65"])
def test_buddhist_year_without_its_marker_is_refused_not_stored(tmp_path: Path, year: str):
    path = write(tmp_path, f"[3/18/22, 14:56:01] A: x\n[3/19/{year}, 14:56:01] A: y\n")
    with pytest.raises(DetectorError) as err:
        read(path, UTC)
    assert err.value.line == 2 and "unsupported date shape" in err.value.message and year in err.value.message


# (Month names, clock words and time-first dates are read now: see tests/test_whatsapp_shapes.py.)
@pytest.mark.parametrize("line", ["18 Xyz 12:14 - Bob: hi", "[2022/7/21 ср 5:11:12] Sunaya: hi",
                                  "03/01/2021, 9:15 in the zzz - Bob: hi", "[21.07.22, 5:11:12 q.q.] Eleni: hi"])
def test_unknown_header_shape_is_named_unsupported(tmp_path: Path, line: str):
    with pytest.raises(DetectorError) as err:
        read(write(tmp_path, "\n" + line + "\n"), UTC)
    assert "unsupported date shape on line 2" in err.value.message and err.value.line == 2


def test_continuation_lines_that_look_like_dates_stay_in_the_message(tmp_path: Path):
    path = write(tmp_path, "20/01/2022, 10:00 - Ann: Plan:\n"
                           "21/01/2022 at the square\n"
                           "\n"
                           "21/01/2022, 10:30: report https://youtu.be/dQw4w9WgXcQ\n"
                           "20/01/2022, 10:05 - Bob: ok\n")
    frame = posts_of(path)
    assert frame["text"].tolist() == [
        "Plan:\n21/01/2022 at the square\n\n21/01/2022, 10:30: report https://youtu.be/dQw4w9WgXcQ", "ok"]
    assert frame.iloc[0]["targets"] == ["youtube:video:dQw4w9WgXcQ"]
    assert frame["source_ref"].tolist() == ["1", "5"]


# --- date order -----------------------------------------------------------------------------

def test_day_first_and_month_first_are_detected_from_any_line(tmp_path: Path):
    day = read(write(tmp_path, "01/02/22, 10:00 - A: x\n13/02/22, 10:00 - A: y\n", "d.txt"), UTC)
    month = read(write(tmp_path, "01/02/22, 10:00 - A: x\n02/13/22, 10:00 - A: y\n", "m.txt"), UTC)
    assert day.frames["posts"].iloc[0]["posted_at"] == pd.Timestamp("2022-02-01T10:00Z")
    assert month.frames["posts"].iloc[0]["posted_at"] == pd.Timestamp("2022-01-02T10:00Z")
    assert (day.detail["date_order"], month.detail["date_order"]) == ("day-first", "month-first")
    assert "line 2" in day.detail["date_order_reason"]


def test_month_rollover_decides_an_order_no_number_above_12_shows(tmp_path: Path):
    path = write(tmp_path, "5/11/22, 10:00 - A: x\n6/1/22, 10:00 - A: y\n")
    parsed = read(path, UTC)
    assert parsed.detail["date_order"] == "month-first" and "rollover" in parsed.detail["date_order_reason"]
    assert parsed.frames["posts"]["posted_at"].tolist() == [pd.Timestamp("2022-05-11T10:00Z"),
                                                            pd.Timestamp("2022-06-01T10:00Z")]


def test_ambiguous_order_names_both_options_and_override_settles_it(tmp_path: Path):
    # One day, and a shape (unpadded, four-digit year, AM) that CLDR's locales write in both orders.
    path = write(tmp_path, "3/4/2022, 10:00 AM - A: x\n3/4/2022, 11:00 AM - A: y\n")
    with pytest.raises(DetectorError) as err:
        read(path, UTC)
    assert "ambiguous" in err.value.message and "--dayfirst" in str(err.value) and "--monthfirst" in str(err.value)
    assert "neither the order of the messages nor the export's conventions" in err.value.message
    first = posts_of(path, dayfirst=True).iloc[0]["posted_at"]
    assert first == pd.Timestamp("2022-04-03T10:00Z")
    assert posts_of(path, dayfirst=False).iloc[0]["posted_at"] == pd.Timestamp("2022-03-04T10:00Z")


def test_order_option_does_not_override_a_file_whose_dates_show_their_order(wa: Path):
    parsed = read(wa / ANDROID_EN, ReadOptions(tz="UTC", dayfirst=False))
    assert parsed.detail["date_order"] == "day-first"
    assert parsed.frames["posts"].iloc[0]["posted_at"] == pd.Timestamp("2022-03-18T14:56:00Z")
    assert any("not month-first as asked" in note for note in parsed.detail["notes"])


def test_dates_that_disagree_on_their_order_name_the_later_line(tmp_path: Path):
    path = write(tmp_path, "13/01/22, 10:00 - A: x\n01/02/22, 10:00 - A: y\n01/13/22, 10:00 - A: z\n")
    with pytest.raises(DetectorError) as err:
        read(path, UTC)
    assert err.value.line == 3 and "disagree" in err.value.message


@pytest.mark.parametrize("bad, message", [("13/13/22, 10:00", "neither number"), ("32/01/22, 10:00", "impossible date"),
                                          ("30/02/22, 10:00", "impossible date"), ("12/01/22, 24:00", "impossible")])
def test_impossible_date_names_the_line(tmp_path: Path, bad: str, message: str):
    path = write(tmp_path, f"20/01/22, 10:00 - A: x\n{bad} - A: y\n")
    with pytest.raises(DetectorError) as err:
        read(path, UTC)
    assert err.value.line == 2 and message in err.value.message


# --- options, containers, encodings ---------------------------------------------------------

def test_missing_zone_names_tz(wa: Path):
    with pytest.raises(DetectorError) as err:
        read(wa / ANDROID_EN, ReadOptions())
    assert "--tz" in str(err.value) and err.value.path.endswith(".txt")


def test_ios_zip_takes_the_chat_name_from_the_zip(tmp_path: Path, wa: Path):
    archive = tmp_path / "WhatsApp Chat - Elon Musk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(wa / IOS_EN, "_chat.txt")
        zf.writestr("00000035-PHOTO-2022-03-27-21-41-55.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
        zf.writestr("00000004-old-example.zip", b"PK\x03\x04 nested")
    assert sniff(archive, archive.read_bytes()[:65536])
    parsed = read(archive, UTC)
    frame = parsed.frames["posts"]
    assert len(frame) == 20 and parsed.detail["member"] == "_chat.txt"
    assert set(frame["chat_title"]) == {"Elon Musk"} and set(frame["chat"]) == {"elon musk"}


def test_android_zip_takes_the_chat_name_from_its_txt(tmp_path: Path, wa: Path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(wa / ANDROID_EN, "WhatsApp Chat with Dmitry S.txt")
        zf.writestr("IMG-20220323-WA0002.jpg", b"\xff\xd8")
    frame = read(archive, UTC).frames["posts"]
    assert len(frame) == 51 and set(frame["chat_title"]) == {"Dmitry S"}


def test_zip_without_a_chat_is_refused(tmp_path: Path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("IMG-1.jpg", b"\xff\xd8")
    assert not sniff(archive, archive.read_bytes()[:65536])
    with pytest.raises(DetectorError, match="no WhatsApp chat"):
        read(archive, UTC)


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8])
def test_bom_encodings_decode_to_the_same_rows(tmp_path: Path, wa: Path, bom: bytes):
    text = (wa / ANDROID_EN).read_text(encoding="utf-8")
    encoding = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be", codecs.BOM_UTF8: "utf-8"}[bom]
    path = tmp_path / "WhatsApp Chat with Dmitry S EN Android.txt"
    path.write_bytes(bom + text.encode(encoding))
    assert sniff(path, path.read_bytes()[:65536])
    assert posts_of(path)["post_id"].tolist() == posts_of(wa / ANDROID_EN)["post_id"].tolist()


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"), (b"  \n\n", "empty file"),
    (b"Dear team,\nplease find the notices attached.\n", "not a WhatsApp chat: line 1"),
    (bytes(range(256)) * 8, "binary"),
])
def test_bad_input_names_the_file_and_line(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "chat.txt"
    path.write_bytes(content)
    with pytest.raises(DetectorError) as err:
        list(iter_records(path))
    assert message in err.value.message and err.value.line == 1 and err.value.path.endswith("chat.txt")
    assert not sniff(path, content[:65536])


@pytest.mark.parametrize("text", [
    "Minutes of the meeting\n12/03/2022, 14:00 - start\n12/03/2022, 15:00 - end\n",
    "12/03/2022, 14:00 - backup started\n12/03/2022, 15:00 - backup finished\n",
    "received_at,target_url,action,policy\n2024-05-01T12:00:00Z,https://youtu.be/x,removed,harassment\n",
    "2024-05-01 12:00:00 INFO started\n2024-05-01 12:00:01 INFO ready\n",
])
def test_other_text_files_are_not_sniffed(tmp_path: Path, text: str):
    path = write(tmp_path, text, "notes.txt")
    assert not sniff(path, path.read_bytes())


def test_format_is_registered():
    from detector.collect import format_named
    assert format_named("whatsapp") is FORMAT


# --- ids ------------------------------------------------------------------------------------

def test_rereading_gives_identical_post_ids(wa: Path):
    assert posts_of(wa / ANDROID_EN)["post_id"].tolist() == posts_of(wa / ANDROID_EN)["post_id"].tolist()


def test_a_later_export_of_the_same_chat_reuses_the_ids(tmp_path: Path, wa: Path):
    lines = (wa / ANDROID_EN).read_text(encoding="utf-8").split("\n")
    start = next(i for i in range(40, len(lines)) if lines[i][:2].isdigit())   # a header, not a continuation
    later = write(tmp_path, "\n".join(lines[start:]), "WhatsApp Chat with Dmitry S EN Android.txt")
    whole, part = posts_of(wa / ANDROID_EN), posts_of(later)
    assert len(part) > 10 and set(part["post_id"]) <= set(whole["post_id"])


def test_repeated_messages_in_one_minute_get_distinct_ids(wa: Path):
    frame = posts_of(wa / ANDROID_EN)
    media = frame[(frame["text"] == "<Media omitted>") & (frame["posted_at"] == pd.Timestamp("2022-03-18T15:10Z"))]
    assert len(media) == 2 and media["post_id"].is_unique
