"""The case simulator: determinism, the real file shapes, and truth that matches the files."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from detector import simulate_text
from detector.errors import DetectorError
from detector.ids import canonical_target, extract_urls
from detector.simulate import NOTICE_HEADER, SCENARIOS, simulate_case
from detector.vocab import ACTIONS, normalise_policy

FAMILIES = ("campaign", "organic", "failed", "null", "mixed", "aftermath", "partial", "multichannel")
ANDROID_HEADER = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}), (\d{2}):(\d{2}) - ")
IOS_HEADER = re.compile(r"^\u200e?\[(\d{2})\.(\d{2})\.(\d{2}), (\d{2}):(\d{2}):(\d{2})\] ")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Path]:
    """Each family once, seed 3, written to its own folder."""
    root = tmp_path_factory.mktemp("sim")
    out = {}
    for scenario in FAMILIES:
        simulate_case(root / scenario, seed=3, scenario=scenario)
        out[scenario] = root / scenario
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "demo"
    simulate_case(path, seed=0, scenario="demo")
    return path


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _notices(folder: Path) -> list[dict]:
    with open(folder / "notices.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _views(folder: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(folder / "views.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(canonical_target(row["video"]), {})[row["date"]] = int(row["views"])
    return out


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _ios_chats(folder: Path) -> dict[str, bytes]:
    out = {}
    for z in sorted((folder / "whatsapp").glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            assert zf.namelist() == ["_chat.txt"]
            out[z.name] = zf.read("_chat.txt")
    return out


def _all_chat_text(folder: Path) -> str:
    parts = [p.read_text(encoding="utf-8") for p in sorted(folder.rglob("result.json"))]
    parts += [p.read_text(encoding="utf-8") for p in sorted((folder / "whatsapp").glob("*.txt"))]
    parts += [b.decode("utf-8") for b in _ios_chats(folder).values()]
    return "\n".join(parts)


# -- determinism -------------------------------------------------------------------------------

def test_same_seed_writes_identical_bytes(tmp_path):
    simulate_case(tmp_path / "a", seed=11, scenario="mixed")
    simulate_case(tmp_path / "b", seed=11, scenario="mixed")
    first = _hashes(tmp_path / "a")
    assert first == _hashes(tmp_path / "b")
    # writing again over an existing simulated case gives the same bytes too
    simulate_case(tmp_path / "a", seed=11, scenario="mixed")
    assert _hashes(tmp_path / "a") == first


def test_different_seeds_differ(tmp_path):
    simulate_case(tmp_path / "a", seed=1, scenario="campaign")
    simulate_case(tmp_path / "b", seed=2, scenario="campaign")
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    for name in ("notices.csv", "views.csv", "truth.json", "telegram/pravda_sinczyan/result.json"):
        assert a[name] != b[name], name


# -- files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", FAMILIES)
def test_every_family_writes_all_files(cases, scenario):
    folder = cases[scenario]
    for name in ("notices.csv", "views.csv", "detector-case.json", "truth.json", "README.txt"):
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0, name
    assert len(list(folder.glob("telegram/*/result.json"))) == 5
    assert len(list(folder.glob("whatsapp/WhatsApp Chat with *.txt"))) >= 1      # Android
    assert len(list(folder.glob("whatsapp/WhatsApp Chat - *.zip"))) >= 1        # iOS
    settings = json.loads((folder / "detector-case.json").read_text(encoding="utf-8"))
    assert settings["tz"] == "Asia/Almaty"
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total < 4_000_000
    truth = _truth(folder)
    assert truth["scenario"] == scenario and truth["seed"] == 3
    assert truth["subject"]["channel_id"].startswith("UC") and len(truth["subject"]["channel_id"]) == 24
    # the owner knows its own channel: every subject's @handle maps to its UC id
    assert settings["aliases"] == {f"@{s['handle']}": s["channel_id"] for s in truth["subjects"]}
    assert truth["subjects"][0] == truth["subject"]
    assert len(truth["subjects"]) == (2 if scenario == "multichannel" else 1)


def test_notices_csv_has_the_template_header_and_vocabulary(cases):
    for folder in cases.values():
        with open(folder / "notices.csv", encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == NOTICE_HEADER
        rows = _notices(folder)
        assert rows
        times = [r["received_at"] for r in rows]
        assert times == sorted(times)
        for r in rows:
            assert r["action"] in ACTIONS
            assert ISO_Z.match(r["received_at"])
            assert r["published_at"] == "" or ISO_Z.match(r["published_at"])
            assert r["published_at"] == "" or r["published_at"] < r["received_at"]
            assert canonical_target(r["target_url"]).startswith(("youtube:video:", "youtube:channel:"))
            assert r["policy"]
        # the automated stream cites one policy all along, in every month of the window
        automated = [r for r in rows if r["text"].startswith("Our automated systems")]
        assert {r["policy"] for r in automated} == {"Violent criminal organizations"}
        assert {r["received_at"][:7] for r in automated} >= {"2024-02", "2024-03", "2024-04"}


def test_telegram_exports_parse_with_the_documented_keys(cases):
    zone = ZoneInfo("Asia/Almaty")
    offsets = set()
    forwards = 0
    for path in sorted(cases["mixed"].glob("telegram/*/result.json")):
        raw = path.read_text(encoding="utf-8")
        assert raw.startswith('{\n "name": ') and raw.endswith("\n ]\n}")   # tdesktop: one-space indent
        doc = json.loads(raw)
        assert list(doc) == ["name", "type", "id", "messages"]
        assert doc["type"] == "public_channel"
        assert isinstance(doc["id"], int) and 10**9 <= doc["id"] < 10**10   # bare id, no -100
        ids = [m["id"] for m in doc["messages"]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for m in doc["messages"]:
            assert list(m)[:4] == ["id", "type", "date", "date_unixtime"]
            assert m["type"] in ("message", "service")
            assert isinstance(m["date_unixtime"], str) and m["date_unixtime"].isdigit()
            utc = datetime.fromtimestamp(int(m["date_unixtime"]), UTC)
            local = datetime.fromisoformat(m["date"])
            assert local.tzinfo is None and local == utc.astimezone(zone).replace(tzinfo=None)
            offsets.add(local - utc.replace(tzinfo=None))
            assert isinstance(m["text"], str | list) and isinstance(m["text_entities"], list)
            if isinstance(m["text"], list):
                flat = "".join(p if isinstance(p, str) else p["text"] for p in m["text"])
                assert flat == "".join(e["text"] for e in m["text_entities"])
                assert all(isinstance(p, str) or p["type"] != "plain" for p in m["text"])
            if m["type"] == "service":
                assert m["action"] == "pin_message" and m["text"] == "" and m["text_entities"] == []
                assert m["message_id"] in ids
            else:
                assert m["from"] == doc["name"] and m["from_id"] == f"channel{doc['id']}"
                forwards += "forwarded_from" in m
    # the default window crosses Almaty's move from UTC+6 to UTC+5 on 2024-03-01
    assert offsets == {timedelta(hours=6), timedelta(hours=5)}
    assert forwards >= 1


def test_whatsapp_lines_match_the_documented_header_shapes(cases):
    for scenario in ("campaign", "mixed"):
        folder = cases[scenario]
        for path in sorted((folder / "whatsapp").glob("*.txt")):
            data = path.read_bytes()
            assert b"\r" not in data and data.endswith(b"\n")
            lines = data.decode("utf-8").split("\n")[:-1]
            assert ANDROID_HEADER.match(lines[0]) and "end-to-end encrypted" in lines[0]
            headers = [ln for ln in lines if ANDROID_HEADER.match(ln)]
            assert len(headers) > 50
            assert any(ln.endswith(": <Media omitted>") for ln in headers)
            assert any(int(ANDROID_HEADER.match(ln).group(1)) > 12 for ln in headers)   # day-first shows
            continuation = [ln for ln in lines if not ANDROID_HEADER.match(ln)]
            assert len(continuation) >= 1                                              # multi-line messages
        for name, data in _ios_chats(folder).items():
            assert data.endswith(b"\r\n")
            lines = data.decode("utf-8").split("\r\n")[:-1]
            assert "\n" not in "".join(lines), name
            assert IOS_HEADER.match(lines[0]) and "\u200eMessages and calls are end-to-end encrypted" in lines[0]
            headers = [ln for ln in lines if IOS_HEADER.match(ln)]
            assert len(headers) > 50
            assert any(ln.startswith("\u200e[") and ln.endswith("\u200eimage omitted") for ln in headers)


def test_ios_zip_is_written_deterministically(cases):
    for z in sorted((cases["mixed"] / "whatsapp").glob("*.zip")):
        with zipfile.ZipFile(z) as zf:
            info = zf.getinfo("_chat.txt")
            assert info.date_time[:3] == (2024, 5, 1)       # the day after the window, export time
            assert info.compress_type == zipfile.ZIP_DEFLATED


# -- truth matches the files ---------------------------------------------------------------------

def _check_campaigns(folder: Path):
    truth, rows = _truth(folder), _notices(folder)
    for c in truth["campaigns"]:
        start = c["start"]
        assert c["hit_targets"] and set(c["hit_targets"]) <= set(c["targets"]) | {truth["subject"]["target"]}
        for target in c["hit_targets"]:
            after = [r for r in rows if canonical_target(r["target_url"]) == target and r["received_at"] > start]
            assert after, (c["id"], target)
        for target in c["removed_targets"]:
            assert any(canonical_target(r["target_url"]) == target and r["action"] == "removed"
                       and r["received_at"] > start for r in rows)
            removals = [r for r in rows if canonical_target(r["target_url"]) == target and r["action"] == "removed"
                        and r["received_at"] > start]
            assert normalise_policy(removals[0]["policy"]) == c["cited_policy"]
        # every call is a post that names at least one target, in a chat listed for the campaign
        assert c["calls"] and {x["chat"] for x in c["calls"]} == set(c["chats"])
        assert min(x["posted_at"] for x in c["calls"]) == start
        # call_ids: the calls in the collected (exported) Telegram chats
        assert len(c["call_ids"]) == sum(1 for x in c["calls"] if x["platform"] == "telegram" and x["observed"])
        assert all(re.match(r"^telegram:tg\d+:\d+$", i) for i in c["call_ids"])
        assert c["observed_calls"] == [x for x in c["calls"] if x["observed"]] and c["observed_calls"]
        for x in c["calls"]:
            if x["platform"] == "whatsapp":
                assert x["local_time"] and x["author"] and x["chat"]
        assert c["channel"] in {s["target"] for s in truth["subjects"]}
        channel_rows = [r for r in rows if canonical_target(r["target_url"]) == c["channel"]]
        for r in channel_rows:   # channel notices name the /channel/UC… URL, never a handle
            assert r["target_url"] == r["subject_url"] and "/channel/UC" in r["target_url"]
        if c["suspension"]:
            s = c["suspension"]
            gap = _utc(s["end"]) - _utc(s["start"])
            assert timedelta(days=2, hours=18) <= gap <= timedelta(days=3, hours=6)
            assert s["target"] == c["channel"]
            enforcement = [r for r in channel_rows if r["action"] != "complaint"]
            assert [r["action"] for r in enforcement] == ["suspended", "reinstated"]
            assert [r["received_at"] for r in enforcement] == [s["start"], s["end"]]
        complaints = [r for r in channel_rows if r["action"] == "complaint" and r["received_at"] > start]
        assert len(complaints) == c["channel_complaints"]
        if c["channel_complaints"]:
            assert any(c["channel"] in w["targets"] for w in c["waves"])
            assert all(r["received_at"] < s["start"] for r in complaints) if c["suspension"] else True
        for w in c["waves"]:
            assert set(w["hit_targets"]) <= set(w["targets"])


def test_truth_matches_the_notices(cases):
    for scenario in ("campaign", "mixed"):
        _check_campaigns(cases[scenario])
        assert _truth(cases[scenario])["campaigns"]


def test_calls_in_truth_are_in_the_exports(cases):
    folder = cases["mixed"]
    truth = _truth(folder)
    by_chat = {}
    for path in folder.glob("telegram/*/result.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        by_chat[f"tg{doc['id']}"] = {m["id"]: m for m in doc["messages"]}
    video_ids = {t for c in truth["campaigns"] for t in c["targets"]}
    for c in truth["campaigns"] + truth["failed_calls"]:
        for ref in c["calls"]:
            if ref["platform"] != "telegram":
                continue
            msg = by_chat[ref["chat"]][ref["message_id"]]
            assert msg["date_unixtime"] == str(int(_utc(ref["posted_at"]).timestamp()))
            if ref["kind"] == "forward":
                assert msg["forwarded_from"] == ref["forwarded_from"]
            urls = [p["href"] if p["type"] == "text_link" else p["text"] for p in msg["text_entities"]
                    if p["type"] in ("link", "text_link")]
            urls += [u for p in msg["text_entities"] if p["type"] == "plain" for u in extract_urls(p["text"])]
            named = {canonical_target(u) for u in urls}
            assert named & (set(c["targets"]) | video_ids), ref


def test_organic_spike_comes_with_a_rise_in_views_and_a_campaign_does_not(cases):
    for scenario in ("organic", "mixed"):
        folder = cases[scenario]
        truth, views = _truth(folder), _views(folder)
        (burst,) = truth["organic_bursts"]
        day0 = _utc(burst["start"]).astimezone(ZoneInfo("Asia/Almaty")).date()
        for target in burst["targets"]:
            series = views[target]
            before = [series.get(str(day0 - timedelta(days=k)), 0) for k in range(2, 16)]
            during = [series.get(str(day0 + timedelta(days=k)), 0) for k in range(0, 2)]
            assert max(during) > 5 * max(max(before), 20), (target, before, during)
            assert any(r["action"] == "removed" and canonical_target(r["target_url"]) == target
                       and burst["start"] < r["received_at"] <= burst["end"] for r in _notices(folder))
    truth, views = _truth(cases["campaign"]), _views(cases["campaign"])
    for c in truth["campaigns"]:
        day0 = _utc(c["start"]).astimezone(ZoneInfo("Asia/Almaty")).date()
        for target in c["hit_targets"]:
            if target not in views:
                continue
            series = views[target]
            before = [series.get(str(day0 - timedelta(days=k)), 0) for k in range(1, 15)]
            after = [series.get(str(day0 + timedelta(days=k)), 0) for k in range(0, 3)]
            assert max(after) <= 2 * max(before) + 15, (target, before, after)


def test_null_case_has_no_events(cases):
    truth = _truth(cases["null"])
    assert truth["campaigns"] == [] and truth["organic_bursts"] == [] and truth["failed_calls"] == []
    assert truth["suspensions"] == []
    assert truth["counts"]["notices"] == len(_notices(cases["null"]))


def test_failed_calls_change_nothing(cases):
    for scenario in ("failed", "mixed"):
        truth, rows = _truth(cases[scenario]), _notices(cases[scenario])
        assert truth["failed_calls"]
        for f in truth["failed_calls"]:
            assert f["times"] and f["chats"] and f["targets"]
            first = min(f["times"])
            week = (_utc(first) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
            month_before = (_utc(first) - timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for target in f["targets"]:
                mine = [r for r in rows if canonical_target(r["target_url"]) == target]
                after = [r for r in mine if first < r["received_at"] < week]
                before = [r for r in mine if month_before <= r["received_at"] < first]
                assert all(r["action"] != "removed" for r in after)
                assert len(after) <= len(before) / 2 + 5      # the video's own background, no burst


def test_links_come_in_every_youtube_url_shape(cases):
    text = _all_chat_text(cases["mixed"])
    for shape in ("youtube.com/watch?v=", "youtu.be/", "/shorts/", "m.youtube.com/watch", "music.youtube.com",
                  "/embed/", "/live/", "?si=", "feature=share", "youtube[.]com/watch", "youtube.com/@"):
        assert shape in text, shape
    truth = _truth(cases["mixed"])
    subject = {t for c in truth["campaigns"] for t in c["targets"]}
    seen = {canonical_target(u) for u in extract_urls(text)}
    assert subject <= seen


def test_phrasings_are_multilingual_and_varied():
    for lang in simulate_text.LANGS:
        calls = simulate_text.CALLS[lang]
        assert len(calls) >= 6 and len(set(calls)) == len(calls), lang
        assert all("{links}" in c for c in calls)
        assert set(simulate_text.REPORT_REASONS[lang]) == set(simulate_text.REPORT_REASONS["en"])
    assert any("\u0600" <= ch <= "\u06ff" for ch in "".join(simulate_text.CALLS["ug"]))   # Arabic script


def test_calls_come_in_several_languages(demo):
    truth = _truth(demo)
    languages = {x["language"] for c in truth["campaigns"] + truth["failed_calls"] for x in c["calls"]}
    assert len(languages) >= 3


def test_hard_negatives_link_the_subject_without_calls(cases):
    truth = _truth(cases["null"])
    assert truth["counts"]["subject_link_posts_without_call"] > 20
    assert truth["campaigns"] == []


# -- the demo --------------------------------------------------------------------------------

def test_demo_is_the_motivating_incident(demo):
    truth = _truth(demo)
    assert truth["subject"]["videos"] == 11000
    total = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    assert total < 10_000_000
    removed = {t for c in truth["campaigns"] for t in c["removed_targets"]}
    assert 9 <= len(removed) <= 15
    assert all(c["cited_policy_raw"] == "Harassment and cyberbullying" for c in truth["campaigns"])
    assert all("2025-04-01" <= c["start"] < "2025-07-01" for c in truth["campaigns"])
    (suspension,) = truth["suspensions"]
    assert "2025-04-01" <= suspension["start"] < "2025-07-01"
    assert {x["platform"] for c in truth["campaigns"] for x in c["calls"]} == {"telegram", "whatsapp"}
    _check_campaigns(demo)
    rows = _notices(demo)
    automated = [r for r in rows if r["policy"] == "Violent criminal organizations"
                 and r["text"].startswith("Our automated systems")]
    months = {r["received_at"][:7] for r in automated}
    assert months >= {f"2025-0{m}" for m in range(1, 8)}
    published = sorted({r["published_at"][:4] for r in rows if r["published_at"]})
    assert published[0] <= "2018"


# -- errors ----------------------------------------------------------------------------------

def test_unknown_scenario_or_parameter_is_a_user_error(tmp_path):
    with pytest.raises(DetectorError, match="unknown scenario"):
        simulate_case(tmp_path / "x", scenario="storm")
    with pytest.raises(DetectorError, match="unknown simulation parameter"):
        simulate_case(tmp_path / "x", scenario="null", videos=3)
    assert set(SCENARIOS) == set(FAMILIES) | {"demo"}


def test_a_folder_holding_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DetectorError, match="not empty"):
        simulate_case(tmp_path, scenario="null")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_rewriting_a_case_drops_files_of_the_previous_one(tmp_path):
    simulate_case(tmp_path, scenario="null", n_telegram=5)
    simulate_case(tmp_path, scenario="null", n_telegram=2)
    assert len(list(tmp_path.glob("telegram/*/result.json"))) == 2


# -- the collectors and the CLI read what the simulator writes -------------------------------

def _collectors_available() -> str | None:
    try:
        from detector.collect import FORMATS
        from detector.ingestion import plan_files  # noqa: F401
    except ImportError as exc:  # pragma: no cover - only while the collectors are being written
        return f"detector.ingestion or the collectors are not there yet ({exc})"
    names = {f.name for f in FORMATS}
    missing = {"telegram_json", "whatsapp", "notices_csv", "views_csv"} - names
    return f"collectors missing: {sorted(missing)}" if missing else None


@pytest.mark.parametrize("scenario", FAMILIES)
def test_collectors_read_each_family_without_tz(cases, scenario):
    reason = _collectors_available()
    if reason:
        pytest.skip(reason)
    from detector.collect import ReadOptions
    from detector.ingestion import plan_files

    folder = cases[scenario]
    planned, skipped = plan_files([folder])
    assert sorted(s for s, _ in skipped) == ["README.txt", "truth.json"]
    rows: dict[str, int] = {}
    posts = []
    for pf in planned:
        parsed = pf.fmt.read(pf.path, ReadOptions(tz=pf.settings.tz, dayfirst=pf.settings.dayfirst))
        for table, frame in parsed.frames.items():
            rows[table] = rows.get(table, 0) + len(frame)
        if "posts" in parsed.frames:
            posts.append(parsed.frames["posts"])
    counts = _truth(folder)["counts"]
    assert rows == {"notices": counts["notices"], "posts": counts["posts"], "exposure": counts["views_rows"]}
    # WhatsApp calls in truth are found by chat, author and local time
    import pandas as pd

    frame = pd.concat(posts)
    truth = _truth(folder)
    for c in truth["campaigns"] + truth["failed_calls"]:
        for ref in c["calls"]:
            expected = 1 if ref["observed"] else 0     # calls in unexported chats are in no file
            if ref["platform"] == "whatsapp":
                match = frame[(frame["chat"].str.casefold() == ref["chat"].casefold())
                              & (frame["author"] == ref["author"])
                              & (frame["posted_at"] == pd.Timestamp(ref["posted_at"]))]
                assert len(match) == expected, ref
            else:
                assert (frame["post_id"] == ref["post_id"]).sum() == expected, ref


@pytest.mark.parametrize("scenario", FAMILIES)
def test_cli_ingests_each_family_without_tz(cases, scenario, tmp_path):
    try:
        from click.testing import CliRunner

        from detector.cli import main
    except ImportError as exc:  # pragma: no cover - only while the CLI is being written
        pytest.skip(f"detector.cli is not there yet ({exc})")
    if "ingest" not in main.commands:  # pragma: no cover
        pytest.skip("detector.cli has no ingest command yet")
    import duckdb

    db = tmp_path / "case.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(cases[scenario]), "--db", str(db)])
    assert result.exit_code == 0, (result.output, result.exception)
    counts = _truth(cases[scenario])["counts"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("notices", "posts", "exposure")}
    finally:
        con.close()
    assert got == {"notices": counts["notices"], "posts": counts["posts"], "exposure": counts["views_rows"]}


def test_summary_reports_files_and_counts(tmp_path):
    summary = simulate_case(tmp_path, seed=5, scenario="failed")
    assert summary["scenario"] == "failed" and summary["seed"] == 5 and summary["tz"] == "Asia/Almaty"
    assert summary["files"]["notices.csv"] == (tmp_path / "notices.csv").stat().st_size
    assert summary["failed_calls"] == ["F1", "F2"] and summary["campaigns"] == []
    assert summary["counts"] == _truth(tmp_path)["counts"]


# -- the confounds real incidents have -------------------------------------------------------

def _post_text(folder: Path, ref: dict) -> str:
    """The text of the post a truth.json reference points at, read back from the export files."""
    truth = _truth(folder)
    (chat,) = [c for c in truth["chats"] if c["chat"] == ref["chat"]]
    path = folder / chat["file"]
    if ref["platform"] == "telegram":
        doc = json.loads(path.read_text(encoding="utf-8"))
        (msg,) = [m for m in doc["messages"] if m["id"] == ref["message_id"]]
        return "".join(e["text"] + (" " + e["href"] if e["type"] == "text_link" else "") for e in msg["text_entities"])
    data = zipfile.ZipFile(path).read("_chat.txt").decode("utf-8").replace("\r\n", "\n") if path.suffix == ".zip" \
        else path.read_text(encoding="utf-8")
    d = datetime.fromisoformat(ref["local_time"])
    if path.suffix == ".zip":
        head = f"[{d.day:02d}.{d.month:02d}.{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d}:{d.second:02d}] "
        header = IOS_HEADER
    else:
        head = f"{d.day}/{d.month}/{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d} - "
        header = ANDROID_HEADER
    out, taking = [], False
    for line in data.split("\n"):
        if header.match(line):
            author, _, body = line[len(head):].partition(": ")
            taking = line.startswith(head) and author.strip("\u202a\u202c").replace("\u00a0", " ") == ref["author"]
            if taking:
                out.append(body)
        elif taking:
            out.append(line)
    assert out, ref
    return "\n".join(out)


def _named(text: str) -> set[str]:
    return {canonical_target(u) for u in extract_urls(text)}


@pytest.mark.parametrize("scenario", ("aftermath", "partial", "multichannel"))
def test_new_families_give_identical_bytes_for_one_seed(tmp_path, scenario):
    simulate_case(tmp_path / "a", seed=7, scenario=scenario)
    simulate_case(tmp_path / "b", seed=7, scenario=scenario)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_aftermath_is_an_organic_wave_that_others_react_to(cases):
    folder = cases["aftermath"]
    truth, rows = _truth(folder), _notices(folder)
    assert truth["campaigns"] == [] and truth["failed_calls"] == []
    (wave,) = truth["organic_bursts"]
    assert wave["kind"] == "removal_wave" and len(wave["removed_targets"]) >= 2
    assert wave["channel"] == truth["subject"]["target"]
    removed_at = {}
    for target in wave["removed_targets"]:
        (r,) = [r for r in rows if canonical_target(r["target_url"]) == target and r["action"] == "removed"
                and r["received_at"] >= wave["start"]]
        removed_at[target] = r["received_at"]
    reactions = truth["reaction_posts"]
    assert {"supporter", "news", "gloat"} >= {r["reaction"] for r in reactions} >= {"supporter", "news"}
    assert truth["counts"]["reaction_posts"] == len(reactions)
    later = 0
    for ref in reactions:
        assert ref["wave"] == wave["id"] and ref["kind"] == "reaction" and ref["observed"]
        assert ref["targets"] and set(ref["targets"]) <= set(wave["targets"])
        # a reaction names videos that were already removed (or restricted) when it was posted
        assert all(ref["posted_at"] > removed_at[t] for t in ref["targets"] if t in removed_at)
        assert set(ref["targets"]) <= _named(_post_text(folder, ref)), ref
        later += sum(1 for r in rows if r["action"] == "complaint" and canonical_target(r["target_url"]) in ref["targets"]
                     and r["received_at"] > ref["posted_at"])
    assert later > 0   # complaints keep arriving after the reactions: the organic trickle goes on
    # a video that was removed and not reinstated gets no complaint while it is down
    for target, when in removed_at.items():
        if target not in wave["reinstated_targets"]:
            assert not [r for r in rows if canonical_target(r["target_url"]) == target and r["action"] == "complaint"
                        and r["received_at"] > when]


def test_partial_campaign_records_which_calls_were_observed(cases):
    folder = cases["partial"]
    truth = _truth(folder)
    (c,) = truth["campaigns"]
    origin = c["calls"][0]
    assert origin["kind"] == "origin" and not origin["observed"]
    hidden = {x["chat"] for x in truth["unexported_chats"]}
    assert hidden and not hidden & {x["chat"] for x in truth["chats"]}
    assert {x["chat"] for x in c["calls"] if not x["observed"]} <= hidden
    assert c["observed_calls"] and {x["chat"] for x in c["observed_calls"]} == set(c["observed_chats"])
    assert not set(c["observed_chats"]) & hidden
    assert len(list(folder.glob("telegram/*/result.json"))) == 5          # the hidden chats wrote no file
    assert c["first_notice"] and all(x["after_first_notice"] == (x["posted_at"] > c["first_notice"])
                                     for x in c["calls"])
    for ref in c["observed_calls"]:
        assert _named(_post_text(folder, ref)) & set(c["targets"]), ref
    _check_campaigns(folder)


def test_truth_keeps_each_collected_forwards_original_time_which_exports_drop(cases):
    """Desktop exports name a forward's origin only; truth.json keeps its original's time, what a
    live collection would have given (bench/accuracy.py --live-forwards uses it)."""
    for family in ("campaign", "partial"):
        folder = cases[family]
        truth = _truth(folder)
        originals = {f["post_id"]: f["forwarded_at"] for f in truth["forward_originals"]}
        forwards = [(c, x) for c in truth["campaigns"] for x in c["calls"]
                    if x["kind"] == "forward" and x["observed"]]
        assert forwards, family
        for c, ref in forwards:
            origins = {x["posted_at"] for x in c["calls"] if x["kind"] == "origin"}
            assert originals[ref["post_id"]] in origins and originals[ref["post_id"]] <= ref["posted_at"]
        exported = "".join(p.read_text(encoding="utf-8") for p in folder.glob("telegram/*/result.json"))
        assert '"forwarded_from"' in exported and "forwarded_at" not in exported


def test_multichannel_says_which_channel_each_event_concerns(cases):
    folder = cases["multichannel"]
    truth, rows = _truth(folder), _notices(folder)
    first, second = truth["subjects"]
    assert first["channel_id"] != second["channel_id"] and first["handle"] != second["handle"]
    url_of = {s["target"]: s["url"] for s in truth["subjects"]}
    assert {r["subject_url"] for r in rows} == set(url_of.values())
    (c,) = truth["campaigns"]
    (o,) = truth["organic_bursts"]
    assert {c["channel"], o["channel"]} == set(url_of)
    for event in (c, o):
        for target in event["targets"]:
            mine = [r for r in rows if canonical_target(r["target_url"]) == target]
            assert mine and {r["subject_url"] for r in mine} == {url_of[event["channel"]]}, target
    for s in truth["suspensions"]:
        assert s["channel"] in url_of and s["cause"] in ("organic", c["id"])
        if s["cause"] == "organic":
            assert s["channel"] == o["channel"]
    _check_campaigns(folder)


def test_campaign_family_has_channel_calls_that_end_in_a_termination(tmp_path):
    simulate_case(tmp_path, seed=4, scenario="campaign", channel_call=True)
    truth, rows = _truth(tmp_path), _notices(tmp_path)
    (c,) = truth["campaigns"]
    channel = truth["subject"]["target"]
    wave = c["waves"][-1]
    assert channel in wave["targets"] and channel in c["hit_targets"] and c["channel_complaints"] > 0
    handle = f"youtube.com/@{truth['subject']['handle']}"
    texts = [_post_text(tmp_path, ref) for ref in wave["calls"] if ref["observed"]]
    assert any(handle in t or truth["subject"]["url"] in t for t in texts)
    (s,) = truth["suspensions"]
    assert s["cause"] == c["id"] and s["channel"] == channel
    (suspended,) = [r for r in rows if r["action"] == "suspended"]
    assert suspended["target_url"] == truth["subject"]["url"] and suspended["received_at"] == s["start"]
    _check_campaigns(tmp_path)
    # the benchmark's seeds get some channel-level campaigns without being asked
    with_channel = 0
    for seed in range(1000, 1010):
        simulate_case(tmp_path / str(seed), seed=seed, scenario="campaign")
        with_channel += any(w["channel_complaints"] for w in _truth(tmp_path / str(seed))["campaigns"][0]["waves"])
    assert 1 <= with_channel <= 9


def test_thanks_and_news_quotes_are_posted_and_are_not_calls(cases):
    quoted = 0
    for scenario, folder in cases.items():
        truth = _truth(folder)
        assert truth["thanks_posts"], scenario
        assert truth["counts"]["thanks_posts"] == len(truth["thanks_posts"])
        for ref in truth["thanks_posts"][:15]:
            text = _post_text(folder, ref)
            assert text in simulate_text.THANKS[ref["language"]] and not extract_urls(text), (scenario, ref)
        call_ids = {i for c in truth["campaigns"] + truth["failed_calls"] for i in c["call_ids"]}
        events = {c["id"] for c in truth["campaigns"] + truth["failed_calls"]}
        for ref in truth["news_quotes"]:
            quoted += 1
            assert ref["kind"] == "news_quote" and ref.get("post_id") not in call_ids
            assert ref["quoted"] in events | {"outside"}
            text = _post_text(folder, ref)
            assert ref["source"] in text and set(ref["targets"]) & _named(text), (scenario, ref)
    assert quoted >= len(cases)


def test_thanks_and_quote_tables_cover_every_language():
    for table in (simulate_text.THANKS, simulate_text.NEWS_QUOTES, simulate_text.NEWS_QUOTES_OTHER,
                  simulate_text.SUPPORT_REACTIONS, simulate_text.NEWS_REACTIONS, simulate_text.GLOATS,
                  simulate_text.CHANNEL_CALLS):
        assert set(table) == set(simulate_text.LANGS)
    assert all("{quote}" in t and "{source}" in t for lang in simulate_text.LANGS
               for t in simulate_text.NEWS_QUOTES[lang] + simulate_text.NEWS_QUOTES_OTHER[lang])
    assert all("{links}" in t or "{link}" in t for lang in simulate_text.LANGS
               for t in simulate_text.SUPPORT_REACTIONS[lang] + simulate_text.GLOATS[lang])
    # the simulator's own wordings, not rows of the classifier's labelled data
    labelled = (Path(__file__).resolve().parents[1] / "detector" / "data" / "calls" / "labelled.csv")
    if labelled.is_file():
        with open(labelled, encoding="utf-8", newline="") as fh:
            texts = {row["text"].strip() for row in csv.DictReader(fh)}
        for table in (simulate_text.THANKS, simulate_text.SUPPORT_REACTIONS, simulate_text.NEWS_REACTIONS,
                      simulate_text.GLOATS, simulate_text.NEWS_QUOTES, simulate_text.CHANNEL_CALLS):
            for lang, rows in table.items():
                assert not set(rows) & texts, lang


def test_demo_has_a_channel_level_call_and_termination(demo):
    truth = _truth(demo)
    channel = truth["subject"]["target"]
    waves = [w for c in truth["campaigns"] for w in c["waves"] if channel in w["targets"]]
    assert waves and all(w["channel_complaints"] > 0 for w in waves)
    (s,) = truth["suspensions"]
    assert s["channel"] == channel and s["cause"] in {c["id"] for c in truth["campaigns"]}
    settings = json.loads((demo / "detector-case.json").read_text(encoding="utf-8"))
    assert settings["aliases"] == {"@dalatestimony": truth["subject"]["channel_id"]}
    assert truth["thanks_posts"] and truth["news_quotes"]
