"""WhatsApp header shapes found in real exports beyond the usual ones (issue #16): text before
the first header, the time before the date, month names with and without a year, clock words,
Buddhist and Japanese calendars, pasted headers of another shape, and date order per file.

The lines are taken from real public exports (whats_json's test corpus, see bench/whatsapp_corpus.py)
with names and text shortened; the folder test at the end ingests all of them in one command."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.collect import whatsapp_locale as words
from detector.collect.base import ReadOptions
from detector.collect.whatsapp import read, sniff
from detector.errors import DetectorError
from detector.store import Case

OCR_PAGE = ("2605\nChat With Romil Ramgaria\n"
            "2/22/19, 8:43 AM - PD: And clarify this today\n"
            "2/22/19, 8:46 AM - PD: Is there a report that tech can give on who all\n"
            "downLoaded data yesterday and when\n"
            "2/22/19, 3:09 PM - Romil Ramgaria Barc: Board meeting points\n")
CUT_OFF = ("Seems you did not send the pdf file containing the data.\n"
           "7/5/18, 3:59 PM - Chidiebere: The pdf data are for each individual firm.\n"
           "7/5/18, 4:01 PM - Wordpress Plugin: ok\n"
           "7/13/18, 4:02 PM - Chidiebere: If not possible, we find another way\n")
TIME_FIRST = ("19:23, 28 Aug 2013 - Tanay: hello NITGians\n"
              "17:05, 30 Dec 2013 - Viresh: Dhanyawaad bhai\n"
              "00:01, 1 Jan - Dwane: Happy New Year!\n"
              "10:46, 15 Feb - Tanay: ok\n")
MONTH_DAY_NO_YEAR = ("Mar 5, 8:11 PM - Aravind: Whoa. You changed your dp\n"
                     "Mar 5, 8:29 PM - Akshay: Lol yeah :P\n"
                     "Apr 7, 11:11 PM - Aravind: Guru\n")
DAY_MONTH_NO_YEAR = ("18 Dec 12:14 - Shaggy changed the subject to \u201cThe horde\u201d\n"
                     "18 Dec 12:15 - Shaggy: hello horde\n"
                     "2 Jan 09:00 - Sadie: happy new year\n")
CLOCK_WORDS = ("13/01/2021, 9:15 in the morning - Wolfgang: Lorem ipsum dolor sit amet?\n"
               "consectetur adipiscing elit.\n"
               "15/01/2021, 3:07 in the afternoon - Jane Doe: Integer ornare\n"
               "15/01/2021, 12:30 at night - Jane Doe: late\n")


def write(folder: Path, text: str, name: str = "WhatsApp Chat with Test.txt") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def parse(path: Path, **options):
    return read(path, ReadOptions(**{"tz": "UTC", **options}))


def times(parsed) -> list[str]:
    return parsed.frames["posts"]["posted_at"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist()


# --- text before the first header -----------------------------------------------------------

@pytest.mark.parametrize("text, skipped, posts", [(OCR_PAGE, "lines 1–2", 3), (CUT_OFF, "lines 1–1", 3)])
def test_lines_before_the_first_header_are_skipped_and_said(tmp_path: Path, text: str, skipped: str, posts: int):
    path = write(tmp_path, text)
    assert sniff(path, path.read_bytes())
    parsed = parse(path)
    assert len(parsed.frames["posts"]) == posts
    assert parsed.frames["posts"]["source_ref"].iloc[0] == str(text.count("\n", 0, text.index("/")) + 1)
    assert any(note.startswith(skipped) for note in parsed.detail["notes"])


def test_ocr_page_keeps_continuation_lines_with_their_message(tmp_path: Path):
    frame = parse(write(tmp_path, OCR_PAGE)).frames["posts"]
    assert frame["text"].iloc[1] == "Is there a report that tech can give on who all\ndownLoaded data yesterday and when"
    assert times(parse(write(tmp_path, OCR_PAGE)))[0] == "2019-02-22 08:43:00"


def test_a_file_whose_first_header_is_far_down_is_not_sniffed(tmp_path: Path):
    path = write(tmp_path, "".join(f"minutes line {i}\n" for i in range(12)) + CUT_OFF.split("\n", 1)[1], "notes.txt")
    assert not sniff(path, path.read_bytes())


# --- time before the date, month names, missing years ---------------------------------------

def test_time_before_a_dated_month_name_and_years_carried_over_the_new_year(tmp_path: Path):
    parsed = parse(write(tmp_path, TIME_FIRST))
    assert times(parsed) == ["2013-08-28 19:23:00", "2013-12-30 17:05:00", "2014-01-01 00:01:00", "2014-02-15 10:46:00"]
    assert parsed.detail["date_order"] == "month named"
    (note,) = parsed.detail["notes"]
    assert "2 dates have no year" in note and "line 2" in note and "2014" in note


def test_missing_years_count_back_from_the_export_date(tmp_path: Path):
    parsed = parse(write(tmp_path, DAY_MONTH_NO_YEAR), export_date=date(2015, 6, 1))
    assert times(parsed) == ["2014-12-18 12:15:00", "2015-01-02 09:00:00"]
    assert "2015-06-01 (export_date in detector-case.json)" in parsed.detail["notes"][0]


def test_missing_years_count_back_from_the_file_time_when_nothing_else_is_known(tmp_path: Path):
    path = write(tmp_path, MONTH_DAY_NO_YEAR)
    stamp = datetime(2017, 4, 20, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    parsed = parse(path)
    assert times(parsed) == ["2017-03-05 20:11:00", "2017-03-05 20:29:00", "2017-04-07 23:11:00"]
    assert "modification time" in parsed.detail["notes"][0]
    # exported in February: the chat's March and April were the year before
    os.utime(path, (datetime(2018, 2, 1).timestamp(),) * 2)
    assert times(parse(path))[0] == "2017-03-05 20:11:00"


def test_missing_years_count_back_from_the_date_the_zip_records(tmp_path: Path):
    archive = tmp_path / "WhatsApp Chat with Horde.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("WhatsApp Chat with Horde.txt", date_time=(2016, 3, 1, 10, 0, 0)), DAY_MONTH_NO_YEAR)
    parsed = parse(archive)
    assert times(parsed) == ["2015-12-18 12:15:00", "2016-01-02 09:00:00"]
    assert "the date the zip records" in parsed.detail["notes"][0]


@pytest.mark.parametrize("line, when", [
    ("5 мар. 2022, 10:00 - Анна: привет", "2022-03-05 10:00:00"),
    ("18. März 2013 um 12:14 - Jan: hallo", "2013-03-18 12:14:00"),
    ("18 de mar. de 2013 12:14 - Ana: hola", "2013-03-18 12:14:00"),
    ("Aug 28, 2013, 8:11 PM - Bob: hi", "2013-08-28 20:11:00"),
    ("\u200f18 Sept 2013\u202f12:14 - Bob: hi", "2013-09-18 12:14:00"),
])
def test_month_names_in_other_languages(tmp_path: Path, line: str, when: str):
    assert times(parse(write(tmp_path, line + "\n"))) == [when]


def test_a_month_name_that_means_different_months_is_refused(tmp_path: Path):
    with pytest.raises(DetectorError) as err:
        parse(write(tmp_path, "3 lip 2013 10:00 - Ana: x\n4 lip 2013 10:00 - Ana: y\n"))
    assert "different months" in err.value.message and err.value.line == 1


def test_dates_without_a_year_and_no_anchor_ask_for_the_export_date(tmp_path: Path):
    from detector.collect.whatsapp import scan_text, to_rows

    path = write(tmp_path, DAY_MONTH_NO_YEAR)
    with pytest.raises(DetectorError) as err:
        to_rows(scan_text(DAY_MONTH_NO_YEAR, path).records, chat_title="x", tz="UTC", dayfirst=None, path=path)
    assert "export_date" in err.value.hint


# --- clock words and calendars --------------------------------------------------------------

def test_english_day_period_words(tmp_path: Path):
    parsed = parse(write(tmp_path, CLOCK_WORDS))
    assert times(parsed) == ["2021-01-13 09:15:00", "2021-01-15 15:07:00", "2021-01-15 00:30:00"]
    assert parsed.frames["posts"]["text"].iloc[0] == "Lorem ipsum dolor sit amet?\nconsectetur adipiscing elit."


@pytest.mark.parametrize("line, when", [
    ("[21.07.22, 5:11:12 μ.μ.] Eleni: hi", "2022-07-21 17:11:12"),
    ("13/01/2021, 3:07 de la tarde - Ana: hola", "2021-01-13 15:07:00"),
    ("13/01/2021, 11:00 de la noche - Ana: hola", "2021-01-13 23:00:00"),
    ("[2022/7/21 晚上9:05:00] 王伟: 你好", "2022-07-21 21:05:00"),
    ("13/01/2021, 8:00 ب.ظ. - مریم: سلام", "2021-01-13 20:00:00"),
])
def test_clock_words_of_other_languages(tmp_path: Path, line: str, when: str):
    assert times(parse(write(tmp_path, line + "\n"))) == [when]


def test_buddhist_years_without_their_marker_are_converted_and_said(tmp_path: Path):
    parsed = parse(write(tmp_path, "[18/3/2565 14:56:01] Somchai: สวัสดี\n[19/3/2565 09:00:00] Somchai: ok\n"))
    assert times(parsed) == ["2022-03-18 14:56:01", "2022-03-19 09:00:00"]
    assert any("Buddhist" in note for note in parsed.detail["notes"])


@pytest.mark.parametrize("line, when", [
    ("[令和4/03/18 14:56:01] Elon: Hello", "2022-03-18 14:56:01"),
    ("[H31/04/30 23:59:00] Elon: Hello", "2019-04-30 23:59:00"),
    ("令和元年5月1日 0:05 - Elon: Hello", "2019-05-01 00:05:00"),
    ("2019年3月5日 午後2:56 - Elon: Hello", "2019-03-05 14:56:00"),
    ("[2019/03/05 14:56:01] Elon: Hello", "2019-03-05 14:56:01"),
])
def test_japanese_calendar_and_formatting(tmp_path: Path, line: str, when: str):
    assert times(parse(write(tmp_path, line + "\n"))) == [when]


def test_fast_clock_words_agree_with_cldr():
    for word, pm in words._FAST_AMPM.items():
        spans = words._lookup(words._PERIODS, words.fold(word))
        assert spans, word
        halves = {start >= words.NOON for _, start, end in spans if end - start >= words.NOON}
        assert pm in halves, word


# --- other shapes inside a chat -------------------------------------------------------------

def test_pasted_headers_of_another_shape_stay_message_text(tmp_path: Path):
    lines = [f"2{i}/04/21, 4:0{i} pm - Ann: message {i}" for i in range(8)]
    lines.insert(4, "[12:37 PM, 5/27/2021] Astitv: https://github.com/distillpub/post--growing-ca")
    parsed = parse(write(tmp_path, "\n".join(lines) + "\n"))
    frame = parsed.frames["posts"]
    assert len(frame) == 8 and parsed.detail["date_order"] == "day-first"
    assert frame["text"].iloc[3] == "message 3\n[12:37 PM, 5/27/2021] Astitv: https://github.com/distillpub/post--growing-ca"
    assert any("another kind of header" in note and "line 5" in note for note in parsed.detail["notes"])


# --- date order per file --------------------------------------------------------------------

# Read both ways, and neither chronology (one day) nor CLDR's conventions (both orders) settle it.
AMBIGUOUS = "3/4/2022, 10:00 AM - A: x\n3/4/2022, 11:00 AM - A: y\n3/4/2022, 11:30 AM - A: z\n"
DAY_FIRST = "01/02/22, 10:00 - A: x\n13/02/22, 10:00 - A: y\n"
MONTH_FIRST = "01/02/22, 10:00 - B: x\n02/13/22, 10:00 - B: y\n"


def ingest(*args):
    return CliRunner().invoke(main, ["ingest", *map(str, args)])


def posted(db: Path) -> dict[str, list[str]]:
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts")
    return {chat: sorted(t.strftime("%Y-%m-%d") for t in group["posted_at"]) for chat, group in posts.groupby("chat")}


def test_a_folder_with_both_date_orders_ingests_with_no_option(tmp_path: Path):
    folder = tmp_path / "chats"
    folder.mkdir()
    write(folder, DAY_FIRST, "WhatsApp Chat with Day.txt")
    write(folder, MONTH_FIRST, "WhatsApp Chat with Month.txt")
    result = ingest(folder, "--db", tmp_path / "c.duckdb", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert posted(tmp_path / "c.duckdb") == {"day": ["2022-02-01", "2022-02-13"], "month": ["2022-01-02", "2022-02-13"]}


def test_an_ambiguous_file_is_refused_by_name_and_the_option_settles_only_it(tmp_path: Path):
    folder = tmp_path / "chats"
    folder.mkdir()
    write(folder, DAY_FIRST, "WhatsApp Chat with Day.txt")
    write(folder, AMBIGUOUS, "WhatsApp Chat with Vague.txt")
    db = tmp_path / "c.duckdb"
    refused = ingest(folder, "--db", db, "--tz", "UTC")
    assert refused.exit_code == 2 and "WhatsApp Chat with Vague.txt" in refused.stderr
    assert "ambiguous" in refused.stderr and "detector-case.json" in refused.stderr
    settled = ingest(folder, "--db", db, "--tz", "UTC", "--monthfirst")
    assert settled.exit_code == 0, settled.output
    assert posted(db) == {"day": ["2022-02-01", "2022-02-13"], "vague": ["2022-03-04", "2022-03-04", "2022-03-04"]}
    assert "not month-first as asked" in " ".join(settled.output.split())


def test_the_folder_case_file_settles_an_ambiguous_order(tmp_path: Path):
    folder = tmp_path / "chats"
    folder.mkdir()
    write(folder, AMBIGUOUS, "WhatsApp Chat with Vague.txt")
    (folder / "detector-case.json").write_text(json.dumps({"tz": "UTC", "dayfirst": True}), encoding="utf-8")
    result = ingest(folder, "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 0, result.output
    assert posted(tmp_path / "c.duckdb") == {"vague": ["2022-04-03", "2022-04-03", "2022-04-03"]}


def test_a_bad_export_date_in_the_case_file_is_named(tmp_path: Path):
    folder = tmp_path / "chats"
    folder.mkdir()
    write(folder, DAY_MONTH_NO_YEAR)
    (folder / "detector-case.json").write_text('{"tz": "UTC", "export_date": "June 2015"}', encoding="utf-8")
    result = ingest(folder, "--db", tmp_path / "c.duckdb")
    assert result.exit_code == 2 and "export_date" in result.stderr


# --- everything at once ---------------------------------------------------------------------

def test_a_folder_of_every_shape_ingests_in_one_command(tmp_path: Path):
    """Every shape above, both date orders, marks and calendars: one command, no option (the zone
    and the export day of the year-less chats come from the folder's detector-case.json)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    shapes = {
        "OCR page": OCR_PAGE, "Cut off": CUT_OFF, "Time first": TIME_FIRST, "Month day": MONTH_DAY_NO_YEAR,
        "Day month": DAY_MONTH_NO_YEAR, "Clock words": CLOCK_WORDS, "Day first": DAY_FIRST, "Month first": MONTH_FIRST,
        "Buddhist": "[18/3/2565 BE, 14:56:01] Somchai: สวัสดี\n[19/3/2565 BE, 09:00:00] Somchai: ok\n",
        "Japanese": "[令和4/03/18 14:56:01] Elon: Hello\n[R4/03/19 10:00:00] Elon: again\n",
        "Marks": "\u200e[\u200f18\u200f/3\u200f/2022\u060c 14:56:01] Elon: \u200fمرحبا\n"
                 "[19/3/2022, 2:56:00\u202fPM] Elon: hi\u00a0there\n",
        "Vietnamese": "[14:56:01, 3/18/22] Musk Elon: Xin chào\n[15:00:00, 3/19/22] Musk Elon: ok\n",
    }
    for name, text in shapes.items():
        write(folder, text, f"WhatsApp Chat with {name}.txt")
    (folder / "detector-case.json").write_text(json.dumps({"tz": "UTC", "export_date": "2017-12-31"}),
                                               encoding="utf-8")
    db = tmp_path / "c.duckdb"
    result = ingest(folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert f"from {len(shapes)} new files" in result.output
    assert "note: WhatsApp Chat with Month day.txt: 3 dates have no year" in " ".join(result.output.split())
    with Case.open(db, read_only=True) as case:
        posts, sources = case.table("posts"), case.table("sources")
    per_chat = posts.groupby("chat").size()
    assert len(per_chat) == len(shapes) and (per_chat >= 2).all()
    assert posts["posted_at"].min() >= pd.Timestamp("2013-01-01", tz="UTC")
    assert posts["posted_at"].max() <= pd.Timestamp("2022-12-31", tz="UTC")
    notes = {row.name: json.loads(row.detail)["notes"] for row in sources.itertuples()}
    assert "export_date" in notes["WhatsApp Chat with Day month.txt"][0]
