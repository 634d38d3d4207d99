"""WhatsApp files whose every date reads both ways get their order from their own chronology,
else from their conventions (CLDR), else are refused; messages dated years off their neighbours
are kept and flagged (issue #16). The real samples among ../shared/samples/whatsapp are in
tests/test_whatsapp.py (INFERRED); these files are small and synthetic, one per case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.collect.base import ReadOptions
from detector.collect.whatsapp import read
from detector.collect.whatsapp_order import order_from_chronology, order_from_conventions
from detector.collect.whatsapp_outliers import isolated_outliers
from detector.errors import DetectorError

UTC = ReadOptions(tz="UTC")

# Day first: three month turns (10/01 -> 01/02 …) and one message dated a month back (05/03 after
# 01/04, a damaged line): month-first rollovers and day-first ones both appear, so only
# counting the backward steps decides (1 back under day first, 4 under month first).
DAY_FIRST_WITH_A_GLITCH = [("10", "01"), ("01", "02"), ("11", "02"), ("01", "03"), ("02", "03"),
                           ("01", "04"), ("05", "03"), ("02", "04")]


def chat(dates: list[tuple[str, str]], year: str = "22", clock: str = "10:00") -> str:
    return "".join(f"{a}/{b}/{year}, {clock} - A: message {i}\n" for i, (a, b) in enumerate(dates))


def write(tmp_path: Path, text: str, name: str = "WhatsApp Chat with Test.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def days(parsed) -> list[str]:
    return [t.strftime("%Y-%m-%d") for t in parsed.frames["posts"]["posted_at"]]


# --- chronology -----------------------------------------------------------------------------

def test_chronology_reads_day_first_when_month_first_would_go_back_more_often(tmp_path: Path):
    parsed = read(write(tmp_path, chat(DAY_FIRST_WITH_A_GLITCH)), UTC)
    assert parsed.detail["date_order"] == "day-first"
    assert days(parsed)[:3] == ["2022-01-10", "2022-02-01", "2022-02-11"]
    note = next(n for n in parsed.detail["notes"] if n.startswith("date order inferred from chronology"))
    assert "day first; 1 of the 7 steps from one date to another go back by more than a day under it, 4 under " \
           "month first" in note


def test_chronology_reads_month_first_when_day_first_would_go_back_more_often(tmp_path: Path):
    swapped = [(b, a) for a, b in DAY_FIRST_WITH_A_GLITCH]
    parsed = read(write(tmp_path, chat(swapped)), UTC)
    assert parsed.detail["date_order"] == "month-first"
    assert days(parsed)[:3] == ["2022-01-10", "2022-02-01", "2022-02-11"]
    assert "1 of the 7 steps" in parsed.detail["date_order_reason"]


@pytest.mark.parametrize(("dates", "order", "first"), [
    ([("5", "9"), ("5", "10"), ("5", "11")], "month-first", "2022-05-09"),
    ([("9", "5"), ("10", "5"), ("11", "5")], "day-first", "2022-05-09"),
])
def test_consecutive_days_win_over_the_same_day_of_consecutive_months(tmp_path: Path, dates, order, first):
    parsed = read(write(tmp_path, chat(dates)), UTC)
    assert parsed.detail["date_order"] == order and days(parsed)[0] == first
    assert "2 days under it and 61 days under" in parsed.detail["date_order_reason"]


def test_small_backward_steps_of_a_real_export_do_not_count():
    # A message listed a few hours after a later one: under either order the same step.
    first, second = np.array([5, 5, 5, 5]), np.array([9, 10, 9, 11])
    seconds = np.array([36000, 600, 82800, 36000])
    found = order_from_chronology(first, second, np.full(4, 2022), seconds)
    assert found is not None and found.order == "month-first" and found.source == "chronology"


def test_chronology_cannot_decide_dates_of_one_day_or_equal_spreads():
    one_day = order_from_chronology(np.array([3, 3]), np.array([4, 4]), np.array([2022, 2022]), np.array([0, 60]))
    # 1/2 -> 1/3 -> 2/3: 29 days day-first, 32 month-first.
    even = order_from_chronology(np.array([1, 1, 2]), np.array([2, 3, 3]), np.full(3, 2022), np.zeros(3, dtype=int))
    assert one_day is None and even is None


# --- attachment names ---------------------------------------------------------------------

def test_attachment_names_give_the_day_and_win_over_conventions(tmp_path: Path):
    # Lower-case "pm" with d/m/yy is en_AU/en_IN (day first), but the sticker WhatsApp saved
    # that day is named 2021-08-04: the 8 is the month.
    text = ("8/4/21, 5:07 pm - A: hey\n"
            "8/4/21, 5:09 pm - B: STK-20210804-WA0170.webp (file attached)\n"
            "8/4/21, 5:10 pm - A: stop it\n")
    parsed = read(write(tmp_path, text), UTC)
    assert parsed.detail["date_order"] == "month-first" and days(parsed)[0] == "2021-08-04"
    assert parsed.detail["date_order_reason"].startswith("date order inferred from attachment names: month first; "
                                                         "1 media file name falls")


# --- conventions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("stamp", "hour", "word", "order"), [
    ("3/4/22, 10:00 AM", "10", "AM", "month-first"),      # en_US, fil_PH (ur_PK, km_KH: under a fifth)
    ("3/4/22, 10:00 pm", "10", "pm", "day-first"),        # en_AU, en_IN, hi
    ("3.4.22, 10:00", "10", None, "day-first"),           # dotted: sq, bs, mk …
    ("03/04/2022, 10:00", "10", None, "day-first"),       # en_GB, fr, pt_BR …
    ("3/4/22, 10:00 a. m.", "10", "a. m.", "day-first"),  # es, qu
])
def test_conventions_follow_the_cldr_locales_that_write_the_same_shape(stamp, hour, word, order):
    found = order_from_conventions(np.array([stamp]), [hour], [word])
    assert found is not None and found.order == order and found.source == "conventions"
    assert "weaker evidence" in found.reason


@pytest.mark.parametrize(("stamp", "hour", "word"), [
    ("3/4/2022, 10:00 AM", "10", "AM"),    # no 12-hour locale of any size writes it
    # d/M/yy in es, el, ur…, and M/d/yy of a US phone on 24-hour time (whats_json's "Group
    # Chat XXX" iOS export: 1/11/23 is 11 January, as the same chat's Android export shows).
    ("1/11/23, 16:11:21", "16", None),
])
def test_conventions_do_not_decide_a_shape_written_both_ways(stamp, hour, word):
    assert order_from_conventions(np.array([stamp]), [hour], [word]) is None


def test_a_file_of_one_day_gets_its_order_from_conventions_and_says_it_is_weaker(tmp_path: Path):
    parsed = read(write(tmp_path, "3.4.22, 10:00 - A: x\n3.4.22, 11:00 - A: y\n"), UTC)
    assert parsed.detail["date_order"] == "day-first" and days(parsed) == ["2022-04-03", "2022-04-03"]
    assert any("conventions (weaker evidence" in n for n in parsed.detail["notes"])


def test_the_option_wins_over_the_inferred_order_and_the_note_says_the_file_disagrees(tmp_path: Path):
    path = write(tmp_path, chat([("5", "9"), ("5", "10"), ("5", "11")]))
    parsed = read(path, ReadOptions(tz="UTC", dayfirst=True))
    assert parsed.detail["date_order"] == "day-first" and days(parsed)[0] == "2022-09-05"
    assert any("as asked, although the file's own evidence points the other way: date order inferred from "
               "chronology: month first" in n for n in parsed.detail["notes"])


def test_ingest_prints_how_the_order_was_decided(tmp_path: Path):
    path = write(tmp_path, chat([("9", "5"), ("10", "5"), ("11", "5")]))
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(tmp_path / "c.duckdb"), "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    assert "date order inferred from chronology: day first" in " ".join(result.output.split())


# --- a date years off its neighbours ----------------------------------------------------------

SUSPECT = ("22/02/20, 6:31 am - Joe: install Jupyter lab\n"
           "22/02/20, 6:37 am - Joe: https://anaconda.org/conda-forge/jupyterlab\n"
           "22/02/39, 6:49 am - Ann: Count me in\n"
           "22/02/20, 7:24 am - Joe: see you\n"
           "23/02/20, 8:00 am - Ann: morning\n")


def test_a_message_dated_years_off_its_neighbours_is_kept_and_flagged(tmp_path: Path):
    parsed = read(write(tmp_path, SUSPECT), UTC)
    posts = parsed.frames["posts"]
    assert len(posts) == 5 and parsed.detail["date_suspect_lines"] == [3]
    row = posts[posts["source_ref"] == "3"].iloc[0]
    assert (row["author"], row["text"]) == ("Ann", "Count me in")
    assert row["posted_at"] == pd.Timestamp("2020-02-22T06:49Z")
    note = next(n for n in parsed.detail["notes"] if n.startswith("date_suspect"))
    assert "line 3: '22/02/39, 6:49 am' (year 2039)" in note and "line 2:" in note and "line 4:" in note


def test_a_suspect_whose_day_does_not_fit_takes_the_previous_message_time(tmp_path: Path):
    text = SUSPECT.replace("22/02/39, 6:49 am", "25/03/39, 6:49 am")
    parsed = read(write(tmp_path, text), UTC)
    assert parsed.frames["posts"]["posted_at"].iloc[2] == pd.Timestamp("2020-02-22T06:37Z")
    assert any("at the time of the message before them" in n for n in parsed.detail["notes"])


def test_a_year_off_within_the_plausible_range_is_flagged_too(tmp_path: Path):
    parsed = read(write(tmp_path, SUSPECT.replace("22/02/39", "22/02/15")), UTC)
    assert parsed.detail["date_suspect_lines"] == [3] and days(parsed)[2] == "2020-02-22"


@pytest.mark.parametrize("text", [
    SUSPECT.replace("/20,", "/39,"),                                   # every date in 2039
    SUSPECT.replace("23/02/20, 8:00", "23/02/39, 8:00"),               # the last line: one neighbour only
    "".join(f"22/02/{'39' if i % 2 else '20'}, 6:{10 + i} am - A: m{i}\n" for i in range(9)),   # half the lines
])
def test_dates_broadly_implausible_are_still_refused(tmp_path: Path, text: str):
    with pytest.raises(DetectorError) as err:
        read(write(tmp_path, text), UTC)
    assert "year 2039 is not a Gregorian year WhatsApp could have written" in err.value.message


def test_the_group_creation_line_with_its_older_date_is_not_a_suspect(tmp_path: Path):
    # Real exports open this way: the group was created years before the member joined.
    text = ("10/18/20, 22:00 - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
            "8/25/14, 21:04 - +234 816 742 8335 created group \"HBD\"\n"
            "10/18/20, 21:55 - John added you\n"
            "10/18/20, 22:03 - John: welcome\n")
    parsed = read(write(tmp_path, text), UTC)
    assert parsed.detail["date_suspect_lines"] == []
    assert not any(n.startswith("date_suspect") for n in parsed.detail["notes"])


def test_a_real_silence_is_not_a_suspect():
    day, year = 86_400, 365 * 86_400
    # A chat that pauses for two years is in order: nothing is flagged.
    times = np.array([0, day, 2 * year, 2 * year + day])
    assert not isolated_outliers(times).any()
    assert isolated_outliers(np.array([0, 60, 20 * year, 120, 180])).tolist() == [False, False, True, False, False]
