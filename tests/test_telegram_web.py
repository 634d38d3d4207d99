"""The t.me/s web preview collector, on real saved preview messages served from 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from telegram_web_server import TCHAN, TCHANTEST_ID, Server, saved_messages

from detector.cli import main
from detector.collect.telegram_web import PreviewClient, parse_page, parse_views, record_to_row
from detector.ingestion import collect_telegram
from detector.store import Case

TELETHON_VARS = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_SESSION_FILE")


def _record(name: str) -> dict:
    page = parse_page((TCHAN / f"{name}.html").read_text(encoding="utf-8"), "https://t.me/s/tchantest")
    assert len(page.records) == 1
    return page.records[0]


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _client(srv: Server, fake: FakeTime | None = None, delay: float = 0.0) -> PreviewClient:
    fake = fake or FakeTime()
    return PreviewClient(srv.url, delay=delay, clock=fake.clock, sleep=fake.sleep)


# -- parsing real saved messages ------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("44", 44), ("1.2K", 1200), ("3.1M", 3_100_000), ("436.6K", 436_600),
                                           ("", None), ("n/a", None)])
def test_views_abbreviations_become_exact_integers(raw, expected):
    assert parse_views(raw) == expected


def test_multiline_text_keeps_its_line_breaks():
    assert _record("text_message_multiline")["text"] == "Bigger\ntext\nmessage\nnumber\n34"   # tchan's expectation too


def test_link_text_entity_and_edit_mark_are_read():
    r = _record("text_message_link_no_preview")
    assert r["text"] == "This is a message with a link\n\nhttps://brasil.io/"   # <br/><br/> in the page
    assert r["links"] == ["https://brasil.io/"] and r["entities"][0]["type"] == "url"
    assert r["edited"] is True and r["views"] == 2


def test_date_views_and_signature_of_a_signed_edited_post():
    r = _record("signed_edited_text_message")
    assert r["posted_at"] == datetime(2023, 2, 24, 7, 29, 57, tzinfo=UTC)
    assert r["text"] == "Hello! Signed and edited message" and r["signature"] == "Álvaro Justen" and r["edited"]
    assert _record("text_message_signed_not_edited")["edited"] is False


def test_forward_keeps_the_origin_name_and_link():
    r = _record("forwarded_text_message")
    assert (r["forwarded_from"], r["forwarded_url"], r["text"]) == ("Some user", "https://t.me/some_user", ";)")


def test_reply_gives_the_replied_message_id_and_not_its_quoted_text():
    r = _record("text_reply_to_video")
    assert r["reply_to"] == 19 and r["text"] == "Reply to a video (not recorded in telegram)"


@pytest.mark.parametrize("name, kinds", [("photo_single", ["photo"]), ("photo_multiple", ["photo"]),
                                         ("video_single", ["video"]), ("round_video_single", ["round_video"]),
                                         ("multimedia_message", ["photo", "video"]), ("poll", ["poll"]),
                                         ("sticker_message", ["sticker"]), ("audio_document", ["document"]),
                                         ("audio_message", ["voice"]), ("location_message", ["location"]),
                                         ("text_message_link_with_right_preview", ["link_preview"])])
def test_media_kinds_are_named(name, kinds):
    assert _record(name)["media"] == kinds


def test_service_messages_are_marked_and_big_view_counts_read():
    assert _record("service_message_channel_created")["service"] is True
    assert _record("service_message_channel_video_changed")["views"] == 3_100_000   # "3.1M" on the page


def test_hashtag_search_links_are_entities_not_urls():
    r = _record("message_weird_preview")
    assert "hashtag" in {e["type"] for e in r["entities"]}
    assert all("?q=" not in url for url in r["links"]) and "http://bit.ly/3Tq1C4G" in r["links"]
    assert r["views"] == 1200 and r["edited"] is True


def test_rows_join_telethon_and_exports_on_the_channel_id():
    row = record_to_row(_record("forwarded_text_message"), "tchantest", "tchan's test channel")
    assert row["chat"] == f"tg{TCHANTEST_ID}" and row["post_id"] == f"telegram:tg{TCHANTEST_ID}:89"
    assert row["forwarded_from"] == "Some user" and row["views"] == 2 and row["author"] == "tchan's test channel"


def test_no_posts_found_page_is_an_empty_history_and_a_card_is_no_preview():
    assert parse_page((TCHAN / "no_posts_found.html").read_text()).kind == "history"
    assert parse_page("<html><body><div class='tgme_page'>Contact @x</div></body></html>").kind == "no_preview"


# -- collecting from the fixture server -----------------------------------------------------

def test_collect_stores_posts_with_views_and_forwards_and_rerun_adds_nothing(tmp_path):
    db = tmp_path / "case.duckdb"
    saved = saved_messages()
    with Server() as srv:
        first = collect_telegram(["tchantest"], db_path=db, web=True, preview_client=_client(srv))
        assert first.problems == [] and first.channels[0].last_id == max(saved)
        assert any("before=" in r for r in srv.state.requests)        # it paged back
        second = collect_telegram(["tchantest"], db_path=db, web=True, preview_client=_client(srv))
    assert second.rows_added == 0
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts").set_index("message_id")
        sources = case.table("sources")
        pages = case.query("SELECT * FROM web_pages")
    services = {1, 2, 3, 92}
    assert set(posts.index.astype(int)) == set(saved) - services
    assert posts.loc["89", "forwarded_from"] == "Some user" and posts.loc["82", "views"] == 3_100_000
    assert posts.loc["24", "urls"] == ["https://brasil.io/"]
    assert sources["kind"].tolist() == ["telegram_web"] and len(pages) == 2
    for page in pages.itertuples():        # each page as received, compressed, with its hash
        raw = gzip.decompress(page.content)
        assert hashlib.sha256(raw).hexdigest() == page.sha256 and b"tgme_channel_history" in raw
    assert sorted(sum((json.loads(p) for p in pages["message_ids"]), [])) == sorted(set(saved) - services)


def test_resume_takes_only_what_is_new_and_since_bounds_the_first_run(tmp_path):
    db = tmp_path / "case.duckdb"
    with Server() as srv:
        report = collect_telegram(["tchantest"], since="2023-02-24T11:00:00Z", db_path=db, web=True,
                                  preview_client=_client(srv))
        assert report.rows_added == 5 and not any("before=" in r for r in srv.state.requests)
        srv.state.plant("tchantest", 95, datetime(2023, 2, 25, 9, 0, tzinfo=UTC), "one more")
        again = collect_telegram(["tchantest"], db_path=db, web=True, preview_client=_client(srv))
    assert again.rows_added == 1 and again.channels[0].first_id == 94 and again.channels[0].last_id == 95


def test_limit_keeps_the_newest_messages(tmp_path):
    with Server() as srv:
        report = collect_telegram(["tchantest"], db_path=tmp_path / "c.duckdb", web=True, limit=3,
                                  preview_client=_client(srv))
    with Case.open(tmp_path / "c.duckdb", read_only=True) as case:
        ids = sorted(case.table("posts")["message_id"].astype(int))
    assert report.rows_added == 3 and ids == [88, 89, 94]     # 92, between them, is a service message


def test_channel_without_public_preview_is_reported_clearly(tmp_path):
    with Server() as srv:
        report = collect_telegram(["privatechan", "someuser", "tchantest"], db_path=tmp_path / "c.duckdb", web=True,
                                  preview_client=_client(srv))
    problems = dict(report.problems)
    assert "no public preview" in problems["privatechan"] and "redirects to /privatechan" in problems["privatechan"]
    assert "no public preview" in problems["someuser"]
    assert report.rows_added > 0          # the others are collected


def test_429_waits_retry_after_and_loses_nothing(tmp_path):
    fake = FakeTime()
    with Server() as srv:
        srv.state.throttle["tchantest"] = [7, 3]
        report = collect_telegram(["tchantest"], db_path=tmp_path / "c.duckdb", web=True,
                                  preview_client=_client(srv, fake, delay=2.0))
    assert report.problems == [] and report.rows_added == len(saved_messages()) - 4
    # Retry-After 7 s, then 3 s; those pauses already exceed the 2 s between requests, so only the
    # request for the second page waits the polite delay.
    assert fake.slept == [7.0, 3.0, 2.0]


def test_endless_429_gives_up_with_a_problem_not_a_traceback(tmp_path):
    fake = FakeTime()
    with Server() as srv:
        srv.state.throttle["tchantest"] = [1] * 10
        report = collect_telegram(["tchantest"], db_path=tmp_path / "c.duckdb", web=True,
                                  preview_client=_client(srv, fake))
    assert "429" in dict(report.problems)["tchantest"]


def test_cli_defaults_to_the_web_preview_without_telethon_credentials(tmp_path, monkeypatch):
    for name in TELETHON_VARS:
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "case.duckdb"
    with Server() as srv:
        monkeypatch.setenv("DETECTOR_TELEGRAM_WEB_URL", srv.url)
        result = CliRunner().invoke(main, ["collect", "telegram", "tchantest", "--db", str(db), "--delay", "0.5"])
        again = CliRunner().invoke(main, ["collect", "telegram", "tchantest", "--db", str(db), "--delay", "0.5"])
    assert result.exit_code == 0, result.output
    assert f"{len(saved_messages()) - 4} rows added" in result.output and "0 rows added" in again.output


def test_fixtures_are_listed_in_sources():
    listed = (Path(TCHAN).parent / "SOURCES.md").read_text(encoding="utf-8")
    for path in TCHAN.glob("*.html"):
        assert path.name in listed


def _planted_forward(message_id: int, when: datetime, origin_url: str) -> str:
    """The real saved forward (tchantest/89) as message ``message_id`` at ``when``, forwarded from ``origin_url``."""
    from telegram_web_server import _view_token

    raw = (TCHAN / "forwarded_text_message.html").read_text(encoding="utf-8")
    out = raw.replace('data-post="tchantest/89"', f'data-post="tchantest/{message_id}"')
    out = out.replace('href="https://t.me/some_user"', f'href="{origin_url}"')
    out = out.replace("https://t.me/tchantest/89", f"https://t.me/tchantest/{message_id}")
    out = out.replace("2023-02-24T12:13:31+00:00", when.isoformat())
    out = re.sub(r'data-view="[^"]+"', f'data-view="{_view_token(TCHANTEST_ID, message_id)}"', out)
    assert origin_url in out and when.isoformat() in out
    return out


def test_forwards_from_public_channels_are_dated_by_their_originals_preview(tmp_path):
    """The preview links a forward's original post but does not date it; the origin's own preview
    does. A forward from a channel without a preview, or from a user, stays undated."""
    from detector.collect.telegram_web import forward_origin

    assert forward_origin("https://t.me/origin_chan/500") == ("origin_chan", 500)
    assert forward_origin("https://t.me/some_user") is None and forward_origin("https://t.me/c/123/45") is None
    db = tmp_path / "case.duckdb"
    original = datetime(2023, 2, 20, 6, 15, tzinfo=UTC)
    with Server() as srv:
        for mid in range(480, 520):     # the original sits among other posts, two pages back
            srv.state.plant("origin_chan", mid, datetime(2023, 2, 19, tzinfo=UTC).replace(hour=mid % 24),
                            f"post {mid}")
        srv.state.plant("origin_chan", 500, original, "Report these videos: https://youtu.be/abcdefghijk")
        srv.state.channels["tchantest"][95] = _planted_forward(95, datetime(2023, 2, 25, 9, 0, tzinfo=UTC),
                                                               "https://t.me/origin_chan/500")
        srv.state.channels["tchantest"][96] = _planted_forward(96, datetime(2023, 2, 25, 9, 5, tzinfo=UTC),
                                                               "https://t.me/hidden_chan/7")
        report = collect_telegram(["tchantest"], db_path=db, web=True, preview_client=_client(srv))
        asked = [r for r in srv.state.requests if "origin_chan" in r or "hidden_chan" in r]
    assert report.problems == []
    assert asked == ["/s/hidden_chan?before=8", "/s/origin_chan?before=501"]     # one page each, no more
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts").set_index("message_id")
        pages = case.query("SELECT channel, url, message_ids FROM web_pages WHERE channel = 'origin_chan'")
        detail = json.loads(case.table("sources")["detail"].iloc[0])
    assert posts.loc["95", "forwarded_at"] == pd.Timestamp(original)
    assert pd.isna(posts.loc["96", "forwarded_at"]) and pd.isna(posts.loc["89", "forwarded_at"])
    assert len(pages) == 1 and pages["url"].iloc[0].endswith("/s/origin_chan?before=501")  # kept as provenance
    assert detail["forwards_dated"] == 1 and detail["dating_pages"][0]["originals"] == [500]
