"""The notices CSV template: columns, times, ids, line numbers and the errors users see."""

import re
import time
from pathlib import Path

import pandas as pd
import pytest

from detector.collect import notices_csv
from detector.collect.base import ReadOptions, stable_id
from detector.collect.noticerows import stable_ids
from detector.errors import DetectorError
from detector.schema import TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "notices-template.md"
HEADER = "received_at,target_url,action,policy"


def write(tmp_path, text, name="notices.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path, tz=None):
    return notices_csv.read(path, ReadOptions(tz=tz))


def notices(path, tz=None):
    return read(path, tz).frames["notices"]


def test_rows_get_canonical_targets_and_vocabulary_terms(tmp_path):
    path = write(tmp_path, HEADER + "\n"
                 "2024-05-14T16:12:44Z,https://www.youtube.com/shorts/Qm3Vx9TzL0a?si=abc,Video removed,"
                 "Harassment & cyberbullying policy\n"
                 "2024-05-15T03:40:02Z,https://t.me/s/KazVoices/812,Community Guidelines strike,Hate speech\n")
    df = notices(path)
    assert list(df.columns) == list(TABLES["notices"])
    assert df["target"].tolist() == ["youtube:video:Qm3Vx9TzL0a", "telegram:channel:kazvoices"]
    assert df["platform"].tolist() == ["youtube", "telegram"]
    assert df["action"].tolist() == ["removed", "strike"]
    assert df["policy"].tolist() == ["harassment", "hate_speech"]
    assert df["policy_raw"].tolist() == ["Harassment & cyberbullying policy", "Hate speech"]
    assert df["target_url"].iloc[0] == "https://www.youtube.com/shorts/Qm3Vx9TzL0a?si=abc"
    assert df["source_ref"].tolist() == ["2", "3"]


def test_header_names_match_whatever_their_case_spacing_or_dashes(tmp_path):
    path = write(tmp_path, " Received At ,TARGET-URL,Action,Policy\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n")
    assert notices(path)["target"].tolist() == ["youtube:video:Qm3Vx9TzL0a"]


def test_times_with_an_offset_become_utc_without_tz(tmp_path):
    path = write(tmp_path, HEADER + ",published_at\n"
                 "2024-05-14 22:12:44+06:00,https://youtu.be/Qm3Vx9TzL0a,removed,spam,2024-05-12T18:00:00-04:00\n"
                 "2024-05-14T16:12:44.5Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,\n")
    parsed = read(path)
    df = parsed.frames["notices"]
    assert df["received_at"].tolist() == [pd.Timestamp("2024-05-14T16:12:44Z"),
                                          pd.Timestamp("2024-05-14T16:12:44.5Z")]
    assert df["published_at"].iloc[0] == pd.Timestamp("2024-05-12T22:00:00Z")
    assert pd.isna(df["published_at"].iloc[1])
    assert parsed.tz is None


def test_naive_times_without_tz_name_the_option_and_the_line(tmp_path):
    path = write(tmp_path, HEADER + "\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n"
                 "2024-05-14 22:12,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n")
    with pytest.raises(DetectorError) as err:
        read(path)
    assert err.value.line == 3
    assert "--tz" in str(err.value) and "notices.csv:3" in str(err.value)


def test_naive_times_are_local_to_the_given_zone(tmp_path):
    path = write(tmp_path, HEADER + "\n2024-05-14 22:12,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n"
                 "2024-05-14T16:00:00Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n")
    parsed = read(path, tz="Asia/Almaty")
    # Almaty was UTC+5 from March 2024.
    assert parsed.frames["notices"]["received_at"].tolist() == [pd.Timestamp("2024-05-14T17:12:00Z"),
                                                                pd.Timestamp("2024-05-14T16:00:00Z")]
    assert parsed.tz == "Asia/Almaty"


def test_source_ref_is_the_starting_line_counting_quoted_line_breaks_and_blank_lines(tmp_path):
    path = write(tmp_path, HEADER + ",text\r\n"
                 '2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,"first line\r\nsecond line"\r\n'
                 "\r\n"
                 '2024-05-14T16:13:00Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,"a\n\nb"\n'
                 "2024-05-14T16:14:00Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,plain\n")
    df = notices(path)
    assert df["source_ref"].tolist() == ["2", "5", "8"]
    assert df["text"].iloc[0] == "first line\r\nsecond line"


def test_unknown_wordings_become_other_and_keep_the_raw_policy(tmp_path):
    path = write(tmp_path, HEADER + "\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,shadow-throttled,Vulgar language\n"
                 "2024-05-14T16:12:45Z,https://youtu.be/Qm3Vx9TzL0a,,\n")
    parsed = read(path)
    df = parsed.frames["notices"]
    assert df["action"].tolist() == ["other", "other"]
    assert df["policy"].tolist() == ["other", "other"]
    assert df["policy_raw"].iloc[0] == "Vulgar language" and pd.isna(df["policy_raw"].iloc[1])
    assert parsed.detail["unmapped_actions"] == {"shadow-throttled": 1}
    assert parsed.detail["unmapped_policies"] == {"Vulgar language": 1}


def test_given_ids_are_prefixed_with_the_platform_and_repeats_numbered(tmp_path):
    path = write(tmp_path, HEADER + ",notice_id,platform\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,CR-1,\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Hb7kP2wXc4E,removed,spam,CR-1,\n"
                 "2024-05-14T16:12:44Z,https://example.org/post/1,removed,spam,CR-2,Twitter\n")
    df = notices(path)
    assert df["notice_id"].tolist() == ["youtube:CR-1", "youtube:CR-1:2", "twitter:CR-2"]
    assert df["platform"].tolist() == ["youtube", "youtube", "twitter"]


def test_identical_rows_stay_distinct_and_appending_keeps_earlier_ids(tmp_path):
    row = "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n"
    first = notices(write(tmp_path, HEADER + "\n" + row + row, "a.csv"))["notice_id"].tolist()
    longer = notices(write(tmp_path, HEADER + "\n" + row + row + row, "b.csv"))["notice_id"].tolist()
    assert len(set(first)) == 2
    assert longer[:2] == first and longer[2] not in first
    assert all(re.fullmatch(r"youtube:[0-9a-f]{20}", i) for i in longer)


def test_generated_ids_do_not_depend_on_how_the_time_was_written(tmp_path):
    a = write(tmp_path, HEADER + "\n2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n", "a.csv")
    b = write(tmp_path, HEADER + "\n2024-05-14 22:12:44+06:00,https://youtube.com/watch?v=Qm3Vx9TzL0a,Video removed,"
              "Spam\n", "b.csv")
    assert notices(a)["notice_id"].tolist() == notices(b)["notice_id"].tolist()


def test_stable_ids_equal_stable_id_row_by_row():
    parts = pd.DataFrame({"a": ["x", None, "z"], "b": [1, 2, None], "c": ["", "q", "r"]}, dtype=object)
    assert stable_ids(parts).tolist() == [stable_id(*row) for row in parts.itertuples(index=False)]


def test_subject_url_becomes_a_canonical_subject(tmp_path):
    path = write(tmp_path, HEADER + ",subject_url\n2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,"
                 "https://www.youtube.com/@KazakhVoices/videos\n")
    assert notices(path)["subject"].tolist() == ["youtube:handle:kazakhvoices"]


def test_missing_required_column_is_named_with_the_template_columns(tmp_path):
    path = write(tmp_path, "received_at,target_url,policy\n2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,spam\n")
    with pytest.raises(DetectorError) as err:
        read(path)
    assert "'action'" in err.value.message and err.value.line == 1
    assert ", ".join(notices_csv.TEMPLATE_COLUMNS) in err.value.hint


def test_unreadable_date_names_line_column_and_value(tmp_path):
    path = write(tmp_path, HEADER + ",published_at\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,last Tuesday 10:00Z\n")
    with pytest.raises(DetectorError) as err:
        read(path)
    assert err.value.line == 3
    assert "published_at" in err.value.message and "last Tuesday 10:00Z" in err.value.message


def test_blank_received_at_or_target_url_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + "\n,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n")
    with pytest.raises(DetectorError, match="received_at is blank") as err:
        read(path)
    assert err.value.line == 2
    path = write(tmp_path, HEADER + "\n2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam\n"
                 "2024-05-14T16:12:44Z, ,removed,spam\n")
    with pytest.raises(DetectorError, match="target_url is blank") as err:
        read(path)
    assert err.value.line == 3


def test_a_row_with_too_many_cells_names_its_line(tmp_path):
    path = write(tmp_path, HEADER + ",text\n"
                 '2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,"two\nlines"\n'
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,note,oops\n")
    with pytest.raises(DetectorError, match="7 fields|6 fields") as err:
        read(path)
    assert err.value.line == 4


def test_trailing_empty_cells_are_tolerated(tmp_path):
    path = write(tmp_path, HEADER + "\n2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,,\n")
    assert len(notices(path)) == 1


def test_an_unclosed_quote_names_the_line_where_it_opens(tmp_path):
    path = write(tmp_path, HEADER + ",text\n"
                 "2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,fine\n"
                 '2024-05-14T16:12:44Z,https://youtu.be/Qm3Vx9TzL0a,removed,spam,"never closed\nstill open\n')
    with pytest.raises(DetectorError, match="quote") as err:
        read(path)
    assert err.value.line == 3


def test_empty_and_binary_files_are_refused(tmp_path):
    with pytest.raises(DetectorError, match="empty") as err:
        read(write(tmp_path, "\n \n", "empty.csv"))
    assert err.value.where() == "empty.csv:1"
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"received_at\n\x00\x01\x02\x89PNG\x00" * 20)
    with pytest.raises(DetectorError, match="binary") as err:
        read(junk)
    assert err.value.where() == "junk.csv:2"


def test_utf16_with_bom_and_semicolons_and_tabs_are_read(tmp_path):
    semi = write(tmp_path, "received_at;target_url;action;policy\n"
                 "2024-05-14T16:12:44Z;https://youtu.be/Qm3Vx9TzL0a;removed;Травля\n", "semi.csv", "utf-16")
    assert notices(semi)["policy"].tolist() == ["harassment"]
    tabs = write(tmp_path, "received_at\ttarget_url\taction\tpolicy\n"
                 "2024-05-14T16:12:44Z\thttps://youtu.be/Qm3Vx9TzL0a\tremoved\tspam, scams\n", "tabs.tsv")
    assert notices(tabs)["policy_raw"].tolist() == ["spam, scams"]


def test_template_is_a_header_that_reads_back_as_no_notices(tmp_path):
    text = notices_csv.template_csv()
    assert text.strip().split(",") == list(notices_csv.TEMPLATE_COLUMNS)
    assert notices_csv.TEMPLATE_COLUMNS[:4] == ("received_at", "target_url", "action", "policy")
    df = notices(write(tmp_path, text))
    assert df.empty and list(df.columns) == list(TABLES["notices"])


def test_the_documented_example_reads_as_documented(tmp_path):
    block = re.search(r"```csv\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    df = notices(write(tmp_path, block))
    assert df["source_ref"].tolist() == ["2", "3", "4"]
    assert df["action"].tolist() == ["warning", "strike", "removed"]
    assert df["policy"].tolist() == ["harassment", "hate_speech", "copyright"]
    assert df["notice_id"].iloc[2] == "youtube:CR-2024-0611"
    assert df["subject"].iloc[0] == "youtube:channel:UCx2hr9Yk6D3mPq0aLwT5sNe"
    assert df["received_at"].iloc[1] == pd.Timestamp("2024-05-15T03:40:02Z")
    assert list(pd.read_csv(write(tmp_path, block, "h.csv"), nrows=0).columns) == list(notices_csv.TEMPLATE_COLUMNS)


def test_sniff_wants_received_at_and_target_url_in_a_csv_header(tmp_path):
    assert notices_csv.sniff(Path("n.csv"), b"Received_At,target_url,action,policy\n")
    assert notices_csv.sniff(Path("n.tsv"), b"received_at\ttarget_url\n")
    assert not notices_csv.sniff(Path("n.csv"), b"video,date,views\n")
    assert not notices_csv.sniff(Path("n.json"), b"received_at,target_url\n")
    assert not notices_csv.sniff(Path("n.csv"), b"received_at,target_url\x00\x00\x00")


@pytest.mark.slow
def test_a_million_rows_take_seconds(tmp_path):
    n = 1_000_000
    lines = [HEADER + ",sender,reporter_id"]
    lines += [f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{i % 59:02d}Z,"
              f"https://www.youtube.com/watch?v=vid{i % 5000:08d},removed,Hate speech,YouTube,r{i % 1000}"
              for i in range(n)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    start = time.process_time()
    df = notices(path)
    # A guard against a reader that goes quadratic or row by row, not a benchmark (that is
    # bench/ingest.py): ~15 CPU-s here, and CPU time swells on a shared machine.
    assert time.process_time() - start < 60
    assert len(df) == n and df["notice_id"].is_unique
    assert df["source_ref"].iloc[-1] == str(n + 1)
