"""Live Telegram collection, driven with real telethon Message objects through a fake client.

Telegram's servers cannot exist in a test. ``collect_channel`` talks to them only through
``client.get_entity`` and ``client.iter_messages``, so :class:`FakeTelegram` implements exactly
those two calls, the narrowest seam there is, and everything above it (mapping, resuming,
FloodWait handling, problems, writing to the case) runs for real.
"""

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from telethon import errors
from telethon.tl.types import (
    Channel,
    ChatPhotoEmpty,
    Message,
    MessageActionPinMessage,
    MessageEntityMention,
    MessageEntityTextUrl,
    MessageEntityUrl,
    MessageFwdHeader,
    MessageReplyHeader,
    MessageService,
    PeerChannel,
    PeerUser,
    User,
)

from detector.collect.telethon_live import (
    ChannelUnavailable,
    Credentials,
    channel_username,
    collect_channel,
    credentials_from_env,
    message_to_row,
)
from detector.errors import DetectorError
from detector.ingestion import collect_telegram
from detector.store import Case

CHANNEL_ID = 1234567890
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SECRETS = {"TELEGRAM_API_ID": "918273645", "TELEGRAM_API_HASH": "hash0ddc0ffee5ecret77",
           "TELEGRAM_SESSION": "1BVtsOKABu0SeSSionStr1ngSecret=="}


def _utf16(text: str, part: str) -> tuple[int, int]:
    """Offset and length of ``part`` in ``text`` in UTF-16 code units, as Telegram counts them."""
    start = text.index(part)
    return len(text[:start].encode("utf-16-le")) // 2, len(part.encode("utf-16-le")) // 2


def _post(mid: int, text: str = "", channel_id: int = CHANNEL_ID, **extra) -> Message:
    return Message(id=mid, peer_id=PeerChannel(channel_id=channel_id), date=T0 + timedelta(minutes=mid),
                   message=text or f"post {mid}", post=True, **extra)


def _channel(username: str, channel_id: int = CHANNEL_ID, title: str = "Calls channel") -> Channel:
    return Channel(id=channel_id, title=title, photo=ChatPhotoEmpty(), date=T0, username=username, broadcast=True)


class FakeTelegram:
    """The two client calls collect_channel makes, serving real Message objects.

    ``flood`` = (after how many messages, seconds): raise one FloodWaitError mid-stream;
    ``always_flood`` raises it before any message on every call.
    """

    def __init__(self, channels=None, refuse=None, flood=None, always_flood=False):
        self.channels = channels or {}          # username -> (entity, [messages])
        self.refuse = refuse or {}              # username -> exception from get_entity
        self.flood = flood
        self.always_flood = always_flood
        self.calls = []

    async def get_entity(self, name):
        if name in self.refuse:
            raise self.refuse[name]
        if name not in self.channels:
            raise ValueError(f'No user has "{name}" as username')
        return self.channels[name][0]

    async def iter_messages(self, entity, limit=None, *, reverse=False, min_id=0, offset_date=None,
                            wait_time=None):
        self.calls.append({"min_id": min_id, "offset_date": offset_date, "reverse": reverse})
        messages = sorted(self.channels[entity.username][1], key=lambda m: m.id, reverse=not reverse)
        served = 0
        for msg in messages:
            if msg.id <= min_id or (reverse and offset_date and msg.date < offset_date):
                continue
            if self.always_flood or (self.flood and served == self.flood[0]):
                seconds = self.flood[1] if self.flood else 5
                self.flood = None
                raise errors.FloodWaitError(request=None, capture=seconds)
            served += 1
            yield msg


def _collect(client, channel, since=None, min_id=0, **kw):
    return asyncio.run(collect_channel(client, channel, since, min_id, **kw))


# -- message_to_row -------------------------------------------------------------------------

def test_entity_offsets_are_utf16_so_urls_after_emoji_are_cut_right():
    text = "🚨🇰🇿 report example.org/v/123 and tell @SomeChannel, details тут"
    url_at, url_len = _utf16(text, "example.org/v/123")
    mention_at, mention_len = _utf16(text, "@SomeChannel")
    here_at, here_len = _utf16(text, "тут")
    assert url_at != text.index("example.org")     # the emoji make UTF-16 and Python offsets differ
    msg = _post(1, text, entities=[MessageEntityUrl(offset=url_at, length=url_len),
                                   MessageEntityMention(offset=mention_at, length=mention_len),
                                   MessageEntityTextUrl(offset=here_at, length=here_len,
                                                        url="https://youtu.be/dQw4w9WgXcQ")])
    row = message_to_row(msg, "calls", "Calls channel")
    # example.org/v/123 has no scheme: only the entity finds it, so a wrong offset would show
    assert row["urls"] == ["example.org/v/123", "https://youtu.be/dQw4w9WgXcQ"]
    assert row["targets"] == ["url:https://example.org/v/123", "youtube:video:dQw4w9WgXcQ",
                              "telegram:channel:somechannel"]
    assert row["text"] == text


def test_channel_post_fields_map_onto_the_posts_schema():
    msg = _post(4242, "Report this: https://youtube.com/@victim", reply_to=MessageReplyHeader(reply_to_msg_id=4200),
                views=1532, forwards=87, post_author="admin")
    row = message_to_row(msg, "calls", "Calls channel")
    assert row["post_id"] == f"telegram:tg{CHANNEL_ID}:4242"
    assert row["chat"] == f"tg{CHANNEL_ID}" and row["chat_title"] == "Calls channel"
    assert row["message_id"] == row["source_ref"] == "4242"
    assert row["posted_at"] == T0 + timedelta(minutes=4242)
    assert row["views"] == 1532 and row["forwards"] == 87
    assert row["reply_to"] == "4200"
    assert row["author"] == "Calls channel"          # as an export's "from" names a channel post
    assert row["targets"] == ["youtube:handle:victim"]


def test_forward_from_a_channel_keeps_its_id_and_post():
    msg = _post(10, fwd_from=MessageFwdHeader(date=T0, from_id=PeerChannel(channel_id=987654321), channel_post=77))
    row = message_to_row(msg, "calls", "Calls channel")
    assert row["forwarded_from_id"] == "tg987654321"   # the same key form as ``chat``: chains join on it
    assert row["forwarded_post"] == "77"
    assert row["forwarded_from"] == "tg987654321"
    assert row["forwarded_at"] == T0                   # the original's date: a late copy is dated by it
    assert message_to_row(_post(12), "calls", "Calls channel")["forwarded_at"] is None


def test_forward_from_a_hidden_sender_keeps_the_name():
    msg = _post(11, fwd_from=MessageFwdHeader(date=T0, from_name="Hidden Person"))
    row = message_to_row(msg, "calls", "Calls channel")
    assert row["forwarded_from"] == "Hidden Person"
    assert row["forwarded_from_id"] is None and row["forwarded_post"] is None


def test_group_message_author_is_the_sender_key():
    msg = Message(id=5, peer_id=PeerChannel(channel_id=CHANNEL_ID), date=T0, message="hi",
                  from_id=PeerUser(user_id=555))
    assert message_to_row(msg, "group", "Group")["author"] == "tg555"


def test_channel_names_are_normalised_and_invite_links_refused():
    assert channel_username("@Calls_Channel") == "calls_channel"
    assert channel_username("https://t.me/s/Calls_Channel/123") == "calls_channel"
    assert channel_username("t.me/calls_channel") == "calls_channel"
    assert channel_username("https://t.me/+AbCdEfGh") is None
    assert channel_username("https://t.me/joinchat/AbCdEfGh") is None


# -- collect_channel --------------------------------------------------------------------------

def test_resume_from_min_id_collects_only_new_messages():
    messages = [_post(i) for i in range(1, 4)]
    client = FakeTelegram({"calls": (_channel("calls"), messages)})
    rows, last_id = _collect(client, "calls")
    assert [r["message_id"] for r in rows] == ["1", "2", "3"] and last_id == 3
    messages += [_post(4), _post(5)]
    rows, last_id = _collect(client, "calls", min_id=last_id)
    assert [r["message_id"] for r in rows] == ["4", "5"] and last_id == 5
    assert client.calls[-1]["min_id"] == 3 and client.calls[-1]["reverse"] is True


def test_nothing_new_keeps_the_resume_point():
    client = FakeTelegram({"calls": (_channel("calls"), [_post(1)])})
    assert _collect(client, "calls", min_id=1) == ([], 1)


def test_flood_wait_sleeps_the_given_seconds_and_loses_nothing():
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    client = FakeTelegram({"calls": (_channel("calls"), [_post(i) for i in range(1, 251)])}, flood=(120, 42))
    stats = {}
    rows, last_id = _collect(client, "calls", sleep=sleep, stats=stats)
    assert slept == [42]
    assert [int(r["message_id"]) for r in rows] == list(range(1, 251))   # none lost, none twice
    assert last_id == 250
    assert [c["min_id"] for c in client.calls] == [0, 120]               # resumed after the last seen
    assert stats["flood_waits"] == [42]


def test_flood_waits_without_progress_give_up_keeping_what_was_read():
    async def sleep(seconds):
        pass

    client = FakeTelegram({"calls": (_channel("calls"), [_post(1), _post(2)])}, always_flood=True)
    with pytest.raises(ChannelUnavailable) as err:
        _collect(client, "calls", sleep=sleep)
    assert "wait" in err.value.reason
    assert err.value.last_id == 0 and err.value.rows == []


def test_since_bounds_the_first_collection():
    client = FakeTelegram({"calls": (_channel("calls"), [_post(i) for i in range(1, 6)])})
    since = T0 + timedelta(minutes=3)
    rows, last_id = _collect(client, "calls", since=since)
    assert [r["message_id"] for r in rows] == ["3", "4", "5"]
    assert client.calls[0]["offset_date"] == since


def test_service_messages_are_skipped_but_advance_the_resume_point():
    pin = MessageService(id=3, peer_id=PeerChannel(channel_id=CHANNEL_ID), date=T0,
                         action=MessageActionPinMessage())
    client = FakeTelegram({"calls": (_channel("calls"), [_post(1), _post(2), pin])})
    stats = {}
    rows, last_id = _collect(client, "calls", stats=stats)
    assert len(rows) == 2 and last_id == 3
    assert stats["services_skipped"] == 1


@pytest.mark.parametrize("refusal, words", [
    (errors.ChannelPrivateError(request=None), "private"),
    (errors.UsernameNotOccupiedError(request=None), "no channel has this username"),
    (ValueError('Cannot find any entity corresponding to "gone"'), "no channel or user"),
])
def test_unreachable_channel_is_a_problem_not_a_crash(refusal, words):
    client = FakeTelegram(refuse={"gone": refusal})
    with pytest.raises(ChannelUnavailable) as err:
        _collect(client, "gone", min_id=7)
    assert words in err.value.reason
    assert err.value.last_id == 7


def test_a_user_account_is_not_collected():
    user = User(id=99, username="person", first_name="P")
    client = FakeTelegram({"person": (user, [])})
    with pytest.raises(ChannelUnavailable, match="user account"):
        _collect(client, "person")
    assert client.calls == []          # its private chat was never read


# -- collect_telegram into a case -------------------------------------------------------------

def _factory(client, seen=None):
    def factory(credentials):
        if seen is not None:
            seen.append(credentials)

        @asynccontextmanager
        async def connected():
            yield client
        return connected()
    return factory


def test_missing_channels_are_reported_while_others_collect(tmp_path):
    client = FakeTelegram({"calls": (_channel("calls"), [_post(i) for i in range(1, 4)])},
                          refuse={"secret": errors.ChannelPrivateError(request=None)})
    db = tmp_path / "case.duckdb"
    report = collect_telegram(["@secret", "nobody_here", "https://t.me/+Invite", "t.me/calls"], db_path=db,
                              client_factory=_factory(client), progress=False, environ=SECRETS)
    problems = dict(report.problems)
    assert set(problems) == {"secret", "nobody_here", "https://t.me/+Invite"}
    assert "private" in problems["secret"]
    assert report.rows_added == 3
    with Case.open(db, read_only=True) as case:
        assert case.table("posts")["post_id"].tolist() == [f"telegram:tg{CHANNEL_ID}:{i}" for i in (1, 2, 3)]
        assert case.collect_state() == {"calls": 3}


def test_second_collection_adds_only_new_messages(tmp_path):
    messages = [_post(i) for i in range(1, 4)]
    client = FakeTelegram({"calls": (_channel("calls"), messages)})
    db = tmp_path / "case.duckdb"
    first = collect_telegram(["calls"], since="2024-05-01", db_path=db, client_factory=_factory(client),
                             progress=False, environ=SECRETS)
    messages += [_post(4), _post(5)]
    second = collect_telegram(["calls"], since="2024-05-01", db_path=db, client_factory=_factory(client),
                              progress=False, environ=SECRETS)
    assert first.rows_added == 3 and second.rows_added == 2
    assert second.channels[0].first_id == 3 and second.channels[0].last_id == 5
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts")
        sources = case.table("sources")
    assert len(posts) == 5 and posts["post_id"].is_unique
    assert posts["views"].dtype == "Int64"
    assert sources["kind"].tolist() == ["telethon", "telethon"]
    assert sources["name"].tolist() == ["@calls", "@calls"]
    assert '"username": "calls"' in sources["detail"].iloc[0]   # the username exports lack


def test_missing_credentials_name_the_variables():
    with pytest.raises(DetectorError) as err:
        credentials_from_env({})
    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_SESSION_FILE"):
        assert name in str(err.value)


def test_malformed_credentials_are_not_echoed(tmp_path):
    with pytest.raises(DetectorError) as err:
        credentials_from_env({**SECRETS, "TELEGRAM_API_ID": "12ab-secret-id"})
    assert "12ab-secret-id" not in str(err.value) and "TELEGRAM_API_ID" in str(err.value)
    credentials = credentials_from_env({**SECRETS, "TELEGRAM_SESSION": "not-base64-secret!"})
    with pytest.raises(DetectorError) as err:
        credentials.telethon_session()
    assert "not-base64-secret!" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_credentials_never_reach_the_case_or_the_output(tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[Credentials] = []
    client = FakeTelegram({"calls": (_channel("calls"), [_post(i) for i in range(1, 151)])}, flood=(100, 3),
                          refuse={"secret": errors.ChannelPrivateError(request=None)})

    async def sleep(seconds):
        pass

    db = tmp_path / "case.duckdb"
    report = collect_telegram(["calls", "secret"], db_path=db, client_factory=_factory(client, seen),
                              progress=True, environ=SECRETS, sleep=sleep)
    assert seen and seen[0].api_hash == SECRETS["TELEGRAM_API_HASH"]     # they were read and handed over
    with Case.open(db, read_only=True) as case:
        stored = "\n".join(case.table(t).to_csv() for t in ("posts", "sources", "collect_state", "case_meta"))
    out, err = capfd.readouterr()
    places = {"tables": stored, "stdout": out, "stderr": err, "logs": caplog.text,
              "report": repr(report), "credentials repr": repr(seen[0]) + str(seen[0]),
              "db file": db.read_bytes().decode("latin-1")}
    for name, secret in SECRETS.items():
        for place, text in places.items():
            assert secret not in text, f"{name} found in {place}"
    assert "@calls" in err                      # the progress display did print
    assert report.rows_added == 150


def test_unparseable_since_is_an_error(tmp_path):
    with pytest.raises(DetectorError, match="--since"):
        collect_telegram(["calls"], since="next tuesday", db_path=tmp_path / "c.duckdb",
                         client_factory=_factory(FakeTelegram()), progress=False, environ=SECRETS)


def test_collected_rows_conform_to_the_posts_schema(tmp_path):
    client = FakeTelegram({"calls": (_channel("calls"), [_post(1, views=10)])})
    db = tmp_path / "case.duckdb"
    collect_telegram(["calls"], db_path=db, client_factory=_factory(client), progress=False, environ=SECRETS)
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts")
    assert posts.loc[0, "posted_at"] == pd.Timestamp(T0 + timedelta(minutes=1))
    assert posts.loc[0, "views"] == 10 and posts.loc[0, "platform"] == "telegram"


def test_collect_with_telethon_without_credentials_names_them_and_writes_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from detector.cli import main

    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_SESSION_FILE"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "case.duckdb"
    # Without credentials the default is the web preview (tests/test_telegram_web.py); --telethon asks for them.
    result = CliRunner().invoke(main, ["collect", "telegram", "somechannel", "--telethon", "--db", str(db)])
    assert result.exit_code == 2 and "TELEGRAM_API_ID" in result.stderr
    assert "Traceback" not in result.output
    if db.exists():   # nothing collected: the case, if it was opened, holds no posts
        from detector.store import Case

        with Case.open(db, read_only=True) as case:
            assert case.counts()["posts"] == 0


def test_demo_through_the_cli_builds_analyses_and_ranks(tmp_path):
    from click.testing import CliRunner

    from detector.cli import main

    result = CliRunner().invoke(main, ["demo", "--db", str(tmp_path / "demo.duckdb")])
    assert result.exit_code == 0, result.output
    assert "#1 " in result.output and "tier strong" in result.output


def test_a_case_written_before_forward_dates_gains_the_column_and_stores_them(tmp_path):
    """Posts gained ``forwarded_at`` (the original's date) as their last column: a case written
    without it is given it, empty, when next opened for writing, and live rows fill it."""
    import duckdb

    from detector.schema import TABLES

    db = tmp_path / "case.duckdb"
    old = {c: t for c, t in TABLES["posts"].items() if c != "forwarded_at"}
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE posts (" + ", ".join(f'"{c}" {t}' for c, t in old.items()) + ")")
    con.execute("INSERT INTO posts (post_id, chat, text) VALUES ('telegram:tgold:1', 'tgold', 'old row')")
    con.close()
    original = T0 - timedelta(hours=6)
    fwd = _post(2, fwd_from=MessageFwdHeader(date=original, from_id=PeerChannel(channel_id=987654321),
                                             channel_post=77))
    client = FakeTelegram({"calls": (_channel("calls"), [_post(1), fwd])})
    collect_telegram(["calls"], db_path=db, client_factory=_factory(client), progress=False, environ=SECRETS)
    with Case.open(db, read_only=True) as case:
        posts = case.table("posts").set_index("post_id")
    assert list(posts.reset_index().columns) == list(TABLES["posts"])
    assert pd.isna(posts.loc["telegram:tgold:1", "forwarded_at"])
    assert posts.loc[f"telegram:tg{CHANNEL_ID}:2", "forwarded_at"] == pd.Timestamp(original)
    assert pd.isna(posts.loc[f"telegram:tg{CHANNEL_ID}:1", "forwarded_at"])


def test_a_case_whose_posts_table_this_version_cannot_read_is_refused_by_name(tmp_path):
    import duckdb

    db = tmp_path / "odd.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE posts (post_id VARCHAR, surprise VARCHAR)")
    con.close()
    with pytest.raises(DetectorError, match="odd.duckdb: table posts has columns"):
        with Case.open(db):
            pass
