"""YouTube notice e-mails: one .eml per template, and a mailbox built from them."""

import email
import email.policy
import mailbox
from pathlib import Path

import pandas as pd
import pytest

from detector.collect import notice_email
from detector.collect.base import ReadOptions
from detector.errors import DetectorError
from detector.schema import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "email"
NOTICES = sorted(p.name for p in FIXTURES.glob("*.eml")
                 if p.name not in {"not_a_notice_comment.eml", "forwarded_by_person.eml"})


def read(path):
    return notice_email.read(path, ReadOptions())


# file: (received_at UTC, action, policy, policy_raw, target, target_title)
EXPECTED = {
    "cg_warning_harassment.eml": ("2024-05-14T16:12:44Z", "warning", "harassment", "harassment and cyberbullying",
                                  "youtube:video:Qm3Vx9TzL0a", "Testimony of Aigerim – part 2"),
    "cg_strike_hate_speech.eml": ("2024-05-15T03:40:02Z", "strike", "hate_speech", "hate speech",
                                  "youtube:video:Hb7kP2wXc4E", "Қала туралы шындық / The truth about the city"),
    "removed_no_strike_child_safety.eml": ("2024-05-20T17:05:13Z", "removed", "child_safety", "child safety",
                                           "youtube:video:Zr8tNq1vWdY",
                                           "Children of the steppe – documentary trailer"),
    "legacy_strike_2016.eml": ("2016-06-18T22:23:45Z", "strike", "spam", "spam", None, "Pathway home – interview"),
    "copyright_takedown.eml": ("2024-06-07T09:02:55Z", "strike", "copyright", "copyright",
                               "youtube:video:Tq5Lm0RbX2s", "Night raid footage (raw)"),
    "age_restricted.eml": ("2024-05-23T11:45:00Z", "restricted", "other", "violent or graphic content",
                           "youtube:video:Wc3Rr8sPq1M", "Aftermath – Almaty, January"),
    "channel_terminated.eml": ("2024-06-01T06:13:00Z", "suspended", "spam", "spam, deceptive practices and scams",
                               "youtube:channel:UCx2hr9Yk6D3mPq0aLwT5sNe", None),
    "reinstated_after_appeal.eml": ("2024-06-03T18:30:21Z", "reinstated", "harassment",
                                    "harassment and cyberbullying", "youtube:video:Qm3Vx9TzL0a", None),
    "ru_warning_hate_speech.eml": ("2024-05-28T05:01:37Z", "warning", "hate_speech",
                                  "дискриминационных высказываний", "youtube:video:Rk4Yt7UvB9n",
                                  "Свидетельство Айгерим – часть 3"),
}


def test_every_notice_fixture_has_an_expectation():
    assert sorted(EXPECTED) == NOTICES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_gives_its_action_policy_video_and_time(name):
    received, action, policy, policy_raw, target, title = EXPECTED[name]
    df = read(FIXTURES / name).frames["notices"]
    assert list(df.columns) == list(TABLES["notices"])
    assert len(df) == 1
    row = df.iloc[0]
    assert row["received_at"] == pd.Timestamp(received)
    assert (row["action"], row["policy"], row["policy_raw"]) == (action, policy, policy_raw)
    assert (None if pd.isna(row["target"]) else row["target"]) == target
    assert (None if pd.isna(row["target_title"]) else row["target_title"]) == title
    assert row["platform"] == "youtube" and row["sender"].endswith("@youtube.com")
    assert row["source_ref"].startswith("<") and row["notice_id"].startswith("youtube:")


def test_copyright_claimant_becomes_the_reporter():
    row = read(FIXTURES / "copyright_takedown.eml").frames["notices"].iloc[0]
    assert row["reporter_id"] == "Steppe Media Holding LLP"
    assert row["target_url"] == "http://www.youtube.com/watch?v=Tq5Lm0RbX2s"


def test_links_hidden_in_html_and_redirects_are_found():
    # The warning's plain part names the video only by title; the link is in the HTML <a href>.
    plain = email.message_from_bytes((FIXTURES / "cg_warning_harassment.eml").read_bytes(),
                                     policy=email.policy.default).get_body(("plain",)).get_content()
    assert "youtube.com/watch" not in plain
    strike = read(FIXTURES / "cg_strike_hate_speech.eml").frames["notices"].iloc[0]
    assert strike["target_url"] == "https://youtu.be/Hb7kP2wXc4E"


def test_channel_notice_names_the_channel_as_subject():
    row = read(FIXTURES / "channel_terminated.eml").frames["notices"].iloc[0]
    assert row["subject"] == "youtube:channel:UCx2hr9Yk6D3mPq0aLwT5sNe"


def test_title_only_notices_are_counted_as_without_target():
    parsed = read(FIXTURES / "legacy_strike_2016.eml")
    assert parsed.detail["without_target"] == 1


def build_mbox(tmp_path, names) -> Path:
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    box = mailbox.mbox(path)
    for name in names:
        box.add(mailbox.mboxMessage((FIXTURES / name).read_bytes()))
    box.flush()
    box.close()
    return path


def test_mailbox_reads_notices_and_counts_what_it_skips(tmp_path):
    names = ["not_a_notice_comment.eml", *NOTICES, "forwarded_by_person.eml"]
    parsed = read(build_mbox(tmp_path, names))
    df = parsed.frames["notices"]
    assert len(df) == len(NOTICES)
    # source_ref = 1-based position in the mailbox: the comment mail was message 1.
    assert df["source_ref"].tolist() == [str(i) for i in range(2, len(NOTICES) + 2)]
    assert parsed.detail["skipped"] == {"not_a_notice": 1, "forwarded_youtube": 1}
    assert parsed.detail["messages"] == len(names) and parsed.detail["notices"] == len(NOTICES)
    assert df["notice_id"].is_unique
    singles = pd.concat([read(FIXTURES / n).frames["notices"] for n in NOTICES])
    assert sorted(df["notice_id"]) == sorted(singles["notice_id"])  # same notice, same id, either way


def test_mail_from_others_and_undated_notices_are_skipped_in_a_mailbox(tmp_path):
    undated = (FIXTURES / "copyright_takedown.eml").read_bytes().replace(
        b"Date: Fri, 07 Jun 2024 11:02:55 +0200\r\n", b"")
    other = b"From: Dana <dana@example.org>\nSubject: lunch?\nDate: Tue, 14 May 2024 10:00:00 +0000\n\nnoon?\n"
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(path)
    for data in (undated, other, (FIXTURES / "cg_warning_harassment.eml").read_bytes()):
        box.add(mailbox.mboxMessage(data))
    box.flush()
    box.close()
    parsed = read(path)
    assert len(parsed.frames["notices"]) == 1
    assert parsed.detail["skipped"] == {"undated": 1, "not_youtube": 1}


def test_a_mailbox_without_any_notice_is_refused_with_what_it_holds(tmp_path):
    other = b"From: Dana <dana@example.org>\nSubject: lunch?\nDate: Tue, 14 May 2024 10:00:00 +0000\n\nnoon?\n"
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(path)
    box.add(mailbox.mboxMessage(other))
    box.flush()
    box.close()
    with pytest.raises(DetectorError, match=r"none of the mailbox's 1 e-mails is a YouTube notice \(1 not youtube\)"):
        read(path)


@pytest.mark.parametrize("content", [b"\n\n", b"no From line at all\n"])
def test_an_empty_mailbox_is_refused(tmp_path, content):
    path = tmp_path / "Takeout.mbox"
    path.write_bytes(content)
    with pytest.raises(DetectorError, match="empty|holds no e-mail"):
        read(path)


@pytest.mark.parametrize(("name", "why"), [
    ("not_a_notice_comment.eml", "reports no removal"),
    ("forwarded_by_person.eml", "a forward by dana.iskakova@example.org"),
])
def test_a_single_eml_that_is_not_a_notice_is_an_error_naming_the_file(name, why):
    with pytest.raises(DetectorError, match=why) as err:
        read(FIXTURES / name)
    assert err.value.where() == f"{name}:1"


def test_empty_binary_and_headerless_files_are_refused(tmp_path):
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    with pytest.raises(DetectorError, match="empty") as err:
        read(empty)
    assert err.value.where() == "empty.eml:1"
    junk = tmp_path / "junk.mbox"
    junk.write_bytes(b"From \x00\x01\x02" * 50)
    with pytest.raises(DetectorError, match="binary"):
        read(junk)
    text = tmp_path / "note.eml"
    text.write_text("just some words\nno headers here\n", encoding="utf-8")
    with pytest.raises(DetectorError, match="not a YouTube notice|no e-mail headers"):
        read(text)


def test_date_without_a_zone_is_read_as_utc(tmp_path):
    data = (FIXTURES / "copyright_takedown.eml").read_bytes().replace(b"+0200", b"-0000")
    path = tmp_path / "cr.eml"
    path.write_bytes(data)
    assert read(path).frames["notices"]["received_at"].iloc[0] == pd.Timestamp("2024-06-07T11:02:55Z")


@pytest.mark.parametrize(("text", "action"), [
    ("Because it's the first time, this is just a warning. If it happens again, your channel will get a strike.",
     "warning"),
    ("We've removed it from YouTube and assigned a Community Guidelines strike to your account.", "strike"),
    ("so we're not applying a strike to your channel. However, we have removed the following content", "removed"),
    ("We reviewed your video again and confirmed it's not allowed under our hate speech policy. "
     "Your video won't be put back on YouTube.", "other"),
    ("We have removed your channel from YouTube.", "suspended"),
    ("After review, we've reinstated your video. The strike was removed.", "reinstated"),
    ("Ваш канал заблокирован за нарушение правил.", "suspended"),
    ("Your weekly analytics are ready.", None),
])
def test_action_cues(text, action):
    assert notice_email.classify_action(text) == action


@pytest.mark.parametrize(("text", "policy"), [
    ("we think it violates our\nharassment and cyberbullying policy.", "harassment and cyberbullying"),
    ("severe or repeated violations of our spam, deceptive practices and scams policy", "spam, deceptive practices and "
                                                                                        "scams"),
    ("it violates our Community Guidelines.", "Community Guidelines"),
    ("What our policy says\nSpam, scams or commercially deceptive content are not allowed on YouTube.",
     "Spam, scams or commercially deceptive content are not allowed on YouTube."),
    ("Due to a copyright takedown notice that we received", "copyright"),
    ("Hello!", None),
])
def test_policy_wording_is_found(text, policy):
    assert notice_email.find_policy(text) == policy


def test_sniff_takes_mailboxes_and_youtube_notices_only(tmp_path):
    for name in NOTICES:
        path = FIXTURES / name
        assert notice_email.sniff(path, path.read_bytes()[:65536]), name
    for name in ("forwarded_by_person.eml", "not_a_notice_comment.eml"):
        path = FIXTURES / name
        assert not notice_email.sniff(path, path.read_bytes()), name
    long_mail = (FIXTURES / "copyright_takedown.eml").read_bytes() + b"x" * 70000
    assert notice_email.sniff(Path("long.eml"), long_mail[:65536])
    assert notice_email.sniff(Path("All mail Including Spam and Trash.mbox"), b"From 17991@xxx Tue May 14 2024\n")
    assert notice_email.sniff(Path("export"), b"From 1799176@xxx Tue May 14 09:12:44 +0000 2024\nFrom: x\n")
    assert not notice_email.sniff(Path("notes.txt"), b"From here on we talk about YouTube\n")
    assert not notice_email.sniff(Path("a.csv"), b"received_at,target_url\n")
