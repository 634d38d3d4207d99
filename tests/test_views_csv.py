"""Views per day per video: our CSV and the YouTube Studio export shapes."""

import datetime as dt
from pathlib import Path

import pytest

from detector.collect import views_csv
from detector.collect.base import ReadOptions
from detector.errors import DetectorError
from detector.schema import TABLES, conform


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def exposure(path):
    return views_csv.read(path, ReadOptions()).frames["exposure"]


def test_our_shape_takes_urls_and_bare_ids(tmp_path):
    path = write(tmp_path / "views.csv", "video,date,views\n"
                 "https://youtu.be/Qm3Vx9TzL0a,2024-05-13,120\n"
                 "Qm3Vx9TzL0a,2024-05-14,4310\n"
                 "https://www.youtube.com/watch?v=Hb7kP2wXc4E&t=4,2024-05-14,0\n")
    df = exposure(path)
    assert list(df.columns) == list(TABLES["exposure"])
    assert df["target"].tolist() == ["youtube:video:Qm3Vx9TzL0a"] * 2 + ["youtube:video:Hb7kP2wXc4E"]
    assert df["day"].tolist() == [dt.date(2024, 5, 13), dt.date(2024, 5, 14), dt.date(2024, 5, 14)]
    assert df["views"].tolist() == [120, 4310, 0]
    assert df["source_ref"].tolist() == ["2", "3", "4"]
    assert conform(df, "exposure")["views"].tolist() == [120, 4310, 0]


def test_studio_chart_data_uses_the_content_column(tmp_path):
    path = write(tmp_path / "Chart data.csv",
                 "Date,Content,Video title,Video publish time,Duration,Views\n"
                 '2025-03-09,abcdefghijk,"The Lighthouse, Night One","Mar 9, 2025",3600,10\n'
                 "2025-03-10,abcdefghijk,x,x,3600,30\n"
                 "2025-03-10,lmnopqrstuv,x,x,4200,7\n")
    parsed = views_csv.read(path, ReadOptions())
    df = parsed.frames["exposure"]
    assert df["target"].tolist() == ["youtube:video:abcdefghijk"] * 2 + ["youtube:video:lmnopqrstuv"]
    assert df["views"].tolist() == [10, 30, 7]
    assert parsed.detail["videos"] == 2


def test_per_video_studio_table_takes_the_video_from_its_folder_and_skips_total(tmp_path):
    path = write(tmp_path / "Qm3Vx9TzL0a" / "Table data.csv",
                 "Date,Views,Watch time (hours),Average view duration\n"
                 "Total,1354,12.5,0:01:00\n"
                 "2025-03-09,120,0.1,0:00:40\n"
                 '"Mar 10, 2025","1,234",0.2,0:00:50\n')
    parsed = views_csv.read(path, ReadOptions())
    df = parsed.frames["exposure"]
    assert df["target"].unique().tolist() == ["youtube:video:Qm3Vx9TzL0a"]
    assert df["day"].tolist() == [dt.date(2025, 3, 9), dt.date(2025, 3, 10)]
    assert df["views"].tolist() == [120, 1234]
    assert df["source_ref"].tolist() == ["3", "4"]
    assert parsed.detail["video_from_name"] == "Qm3Vx9TzL0a"


def test_a_total_row_in_the_content_column_is_skipped(tmp_path):
    path = write(tmp_path / "t.csv", "Content,Date,Views\nTotal,2025-03-09,17\nabcdefghijk,2025-03-09,17\n")
    assert exposure(path)["source_ref"].tolist() == ["3"]


def test_dates_without_a_video_are_refused_not_guessed(tmp_path):
    path = write(tmp_path / "Totals.csv", "Date,Views\n2025-03-09,10\n")
    assert not views_csv.sniff(path, path.read_bytes())
    with pytest.raises(DetectorError, match="no video column") as err:
        exposure(path)
    assert err.value.where() == "Totals.csv:1" and "video" in err.value.hint


@pytest.mark.parametrize(("row", "column"), [
    ("Qm3Vx9TzL0a,yesterday,5", "date"),
    ("Qm3Vx9TzL0a,2025-03-09,-3", "views"),
    ("Qm3Vx9TzL0a,2025-03-09,many", "views"),
    ("Qm3Vx9TzL0a,2025-03-09,2.5", "views"),
    ("Qm3Vx9TzL0a,2025-03-09T10:00:00,5", "date"),
    (",2025-03-09,5", "video"),
])
def test_bad_cells_name_the_line_and_column(tmp_path, row, column):
    path = write(tmp_path / "v.csv", f"video,date,views\nQm3Vx9TzL0a,2025-03-08,1\n{row}\n")
    with pytest.raises(DetectorError) as err:
        exposure(path)
    assert err.value.where() == "v.csv:3"
    assert column in err.value.message


def test_two_rows_for_one_video_and_day_name_both_lines(tmp_path):
    path = write(tmp_path / "v.csv", "video,date,views\nQm3Vx9TzL0a,2025-03-09,1\n"
                 "Hb7kP2wXc4E,2025-03-09,1\nhttps://youtu.be/Qm3Vx9TzL0a,2025-03-09,2\n")
    with pytest.raises(DetectorError, match="lines 2, 4") as err:
        exposure(path)
    assert err.value.line == 4


def test_missing_views_column_and_empty_or_binary_files_are_errors(tmp_path):
    with pytest.raises(DetectorError, match="no views column") as err:
        exposure(write(tmp_path / "v.csv", "video,date,plays\nQm3Vx9TzL0a,2025-03-09,1\n"))
    assert err.value.line == 1
    with pytest.raises(DetectorError, match="empty"):
        exposure(write(tmp_path / "e.csv", ""))
    junk = tmp_path / "j.csv"
    junk.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(DetectorError, match="binary"):
        exposure(junk)


def test_sniff_wants_a_date_a_views_and_a_video(tmp_path):
    assert views_csv.sniff(Path("v.csv"), b"video,date,views\n")
    assert views_csv.sniff(Path("Chart data.csv"), b"Date,Content,Video title,Video publish time,Duration,Views\n")
    assert views_csv.sniff(Path("Qm3Vx9TzL0a.csv"), b"Date,Views\n")
    assert not views_csv.sniff(Path("Table data.csv"), b"Content,Video title,Views\n")
    assert not views_csv.sniff(Path("n.csv"), b"received_at,target_url,action,policy\n")
