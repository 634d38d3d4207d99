"""The Streamlit app driven headless with AppTest: every page, selections, the claim check, uploads."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from detector.errors import DetectorError
from detector.figures import network_figure, timeline_figure
from detector.results import campaign_list, check_target
from detector.store import Case
from detector.views import campaign_detail, filter_rows
from detector_app import ui

APP = Path(__file__).resolve().parents[1] / "app.py"
UNTOUCHED = "https://youtu.be/zzzzzzzzzzA"   # a well-formed video id the simulator never draws twice


@pytest.fixture(scope="module")
def campaigns(app_case) -> list[dict]:
    with Case.open(app_case, read_only=True) as case:
        return campaign_list(case)


@pytest.fixture
def app(app_case, monkeypatch) -> AppTest:
    monkeypatch.setenv(ui.ENV_DB, str(app_case))
    return AppTest.from_file(str(APP), default_timeout=60)


@pytest.fixture(scope="module")
def empty_case(tmp_path_factory) -> Path:
    """A case with notices and views but no posts: nothing can be a campaign."""
    from detector.analysis import analyze_case
    from detector.ingestion import ingest
    from detector.simulate import simulate_case

    root = tmp_path_factory.mktemp("empty_case")
    simulate_case(root / "sim", seed=2, scenario="null", days=30, n_videos=40)
    db = root / "case.duckdb"
    ingest([root / "sim" / "notices.csv", root / "sim" / "views.csv"], db)
    analyze_case(db)
    return db


def _texts(at: AppTest) -> list[str]:
    return [e.value for e in at.text] + [e.value for e in at.markdown] + [e.value for e in at.info]


def _campaign_video(campaigns: list[dict]) -> tuple[dict, str]:
    """The best campaign with a video that received notices after its calls, and that video's URL."""
    for c in campaigns:
        videos = [t for t in c["hit_targets"] if t.startswith("youtube:video:")]
        if c["tier"] in ("strong", "moderate") and videos:
            return c, "https://www.youtube.com/watch?v=" + videos[0].rsplit(":", 1)[1]
    pytest.fail("the simulated mixed case has no strong or moderate campaign on a video")


# -- landing ----------------------------------------------------------------------------------------
def test_landing_ranks_the_top_campaign_first(app, campaigns):
    app.run()
    assert not app.exception
    cards = [m.value for m in app.markdown if m.value.startswith("**#")]
    assert cards[0].startswith(f"**#1 {campaigns[0]['id']}**")
    assert len(cards) == len(campaigns)
    assert campaigns[0]["findings"][0] in [t.value for t in app.text]


def test_landing_without_posts_says_nothing_to_test_and_what_was_collected(empty_case, monkeypatch):
    monkeypatch.setenv(ui.ENV_DB, str(empty_case))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    # No posts: no call could be found, so the case cannot speak to coordination either way.
    assert any(i.value.startswith("Nothing to test: the case holds no posts") for i in at.info)
    assert not any("No evidence of coordination" in i.value for i in at.info)
    with Case.open(empty_case, read_only=True) as case:
        notices = case.counts()["notices"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["notices"] == str(notices) and metrics["posts"] == "0"


@pytest.mark.parametrize("page", ["campaign", "check", "explore", "add"])
def test_every_page_renders_on_a_case_without_campaigns(empty_case, monkeypatch, page):
    monkeypatch.setenv(ui.ENV_DB, str(empty_case))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(ui.PAGES[page]).run()
    assert not at.exception
    if page == "check":
        at.text_input[0].input(UNTOUCHED)
        at.button[0].click().run()
        assert not at.exception
        assert any(t.value.startswith("Nothing in the collected sources") for t in at.text)


def test_first_start_builds_the_missing_demo_case(tmp_path, monkeypatch):
    from detector.simulate import simulate_case

    simulate_case(tmp_path / "demo", seed=3, scenario="campaign", days=30, n_videos=40)
    monkeypatch.delenv(ui.ENV_DB, raising=False)
    monkeypatch.setattr(ui, "DATA_DIR", tmp_path)
    monkeypatch.setattr(ui, "DEMO_DIR", tmp_path / "demo")
    monkeypatch.setattr(ui, "DEMO_DB", tmp_path / "demo.duckdb")
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    with Case.open(tmp_path / "demo.duckdb", read_only=True) as case:
        assert case.analysed()
        top = campaign_list(case)[0]["id"]
    assert any(m.value.startswith(f"**#1 {top}**") for m in at.markdown)


def test_missing_case_file_points_to_add_data(tmp_path, monkeypatch):
    monkeypatch.setenv(ui.ENV_DB, str(tmp_path / "new.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("no case file" in i.value for i in at.info)


def test_open_button_shows_that_campaign(app, campaigns):
    app.run()
    second = campaigns[1]["id"]
    app.button(key=f"open-{second}").click().run()
    assert not app.exception
    assert app.subheader[0].value.startswith(f"{second}:")
    assert len(app.get("plotly_chart")) == 2      # timeline and network


# -- campaign detail --------------------------------------------------------------------------------
def test_campaign_page_shows_timeline_findings_calls_and_targets(app, app_case, campaigns):
    app.run()
    app.switch_page(ui.PAGES["campaign"]).run()
    assert not app.exception
    top = campaigns[0]
    assert app.subheader[0].value.startswith(f"{top['id']}:")
    shown = [t.value for t in app.text]
    assert all(f in shown for f in top["findings"])
    frames = [d.value for d in app.dataframe]
    calls = next(f for f in frames if "targets named" in f.columns)
    assert set(calls["post_id"]) == set(top["call_post_ids"])
    targets = next(f for f in frames if "linked notices" in f.columns)
    assert list(targets["target"]) == top["targets"]


def test_choosing_another_campaign_changes_the_page(app, campaigns):
    app.run()
    app.switch_page(ui.PAGES["campaign"]).run()
    before = app.subheader[0].value
    other = campaigns[2]["id"]
    app.selectbox[0].select(other).run()
    assert not app.exception
    assert app.subheader[0].value != before and app.subheader[0].value.startswith(f"{other}:")
    app.switch_page(ui.PAGES["campaigns"]).run()
    app.switch_page(ui.PAGES["campaign"]).run()
    assert app.subheader[0].value.startswith(f"{other}:"), "the selection survives a page change"


def test_hostile_texts_never_reach_markdown(app, app_case, campaigns):
    app.run()
    app.switch_page(ui.PAGES["campaign"]).run()
    with Case.open(app_case, read_only=True) as case:
        texts = campaign_detail(case, campaigns[0]["id"]).calls["text"].dropna()
    markdown = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
    assert not any(t[:30] in markdown for t in texts if len(t) >= 30)


def test_packet_download_when_the_builder_exists(app, monkeypatch, campaigns):
    built = []

    def build_packet(db, campaign_id, out_path, redact=True, allow_stale=False):
        built.append((campaign_id, redact))
        with zipfile.ZipFile(out_path, "w") as z:
            z.writestr("README.txt", campaign_id)
        return Path(out_path)

    import detector

    monkeypatch.setattr(detector, "packet", build_packet)
    app.run()
    app.switch_page(ui.PAGES["campaign"]).run()
    next(b for b in app.button if b.label == "Prepare the evidence packet").click().run()
    assert not app.exception
    assert built == [(campaigns[0]["id"], True)]
    assert len(app.get("download_button")) == 1


def test_the_real_packet_builder_gives_a_zip(app_case, campaigns):
    data = ui.packet_bytes(str(app_case), ui.case_version(app_case), campaigns[0]["id"], True)
    assert zipfile.is_zipfile(io.BytesIO(data))


# -- check a claim ----------------------------------------------------------------------------------
def _check(app: AppTest, url: str) -> AppTest:
    app.run()
    app.switch_page(ui.PAGES["check"]).run()
    app.text_input[0].input(url)
    app.button[0].click().run()
    assert not app.exception
    return app


def test_check_a_campaign_video_says_yes_and_names_the_campaign(app, app_case, campaigns):
    campaign, url = _campaign_video(campaigns)
    _check(app, url)
    with Case.open(app_case, read_only=True) as case:
        result = check_target(case, url)
    shown = [t.value for t in app.text]
    assert any(t.startswith("Yes, as far as these sources show") and campaign["id"] in t for t in shown)
    assert result.verdict in shown and result.limits in shown
    assert len(app.get("plotly_chart")) == 1
    assert any(b.label == f"Open campaign {campaign['id']}" for b in app.button)


def test_check_from_a_date_after_the_notices_leaves_only_the_calls(app, campaigns):
    import datetime as dt

    campaign, url = _campaign_video(campaigns)
    app.run()
    app.switch_page(ui.PAGES["check"]).run()
    app.text_input[0].input(url)
    app.date_input[0].set_value(pd.Timestamp(campaign["end"]).date() + dt.timedelta(days=60))
    app.button[0].click().run()
    assert not app.exception
    assert any(t.value.startswith("Collected posts asked people to report it, but the collected notices show no "
                                  "action") for t in app.text)


def test_check_an_untouched_video_says_nothing_was_collected(app, app_case):
    with Case.open(app_case, read_only=True) as case:
        assert "youtube:video:zzzzzzzzzzA" not in set(case.table("notices")["target"])
    _check(app, UNTOUCHED)
    shown = [t.value for t in app.text]
    assert any(t.startswith("Nothing in the collected sources") for t in shown)
    assert any("show no enforcement against youtube:video:zzzzzzzzzzA" in t for t in shown)
    assert not app.get("plotly_chart")


# -- explore ----------------------------------------------------------------------------------------
def test_explore_filters_notices_and_posts(app, app_case):
    app.run()
    app.switch_page(ui.PAGES["explore"]).run()
    assert not app.exception
    with Case.open(app_case, read_only=True) as case:
        notices = case.table("notices")
        calls = case.derived("calls")
    assert app.caption[0].value == f"{len(notices)} of {len(notices)} notices"
    policy = notices["policy"].value_counts().index[0]
    app.multiselect(key="n_policy").select(policy).run()
    assert app.caption[0].value == f"{(notices['policy'] == policy).sum()} of {len(notices)} notices"
    app.multiselect(key="p_kind").select("call").run()
    posts_caption = next(c.value for c in app.caption if c.value.endswith(" posts"))
    assert posts_caption.startswith(f"{(calls['kind'] == 'call').sum()} of ")


def test_explore_lists_the_unexplained_bursts(app, app_case):
    from detector.results import unexplained_bursts

    app.run()
    app.switch_page(ui.PAGES["explore"]).run()
    with Case.open(app_case, read_only=True) as case:
        expected = unexplained_bursts(case)
    frames = [d.value for d in app.dataframe if "burst_id" in d.value.columns]
    if expected.empty:
        assert not frames and "No unexplained bursts." in [t.value for t in app.text]
    else:
        assert list(frames[0]["burst_id"]) == list(expected["burst_id"])


# -- add data ---------------------------------------------------------------------------------------
class _Upload:
    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def test_add_data_page_renders(app):
    app.run()
    app.switch_page(ui.PAGES["add"]).run()
    assert not app.exception
    assert app.button[0].disabled, "nothing to ingest before a file is chosen"


@pytest.mark.parametrize("name, expected", [
    ("notices.csv", "upload-001-notices.csv"),
    ("../../etc/passwd", "upload-001-passwd"),
    ("C:\\Users\\x\\WhatsApp Chat with Отан.txt", "upload-001-WhatsApp Chat with Отан.txt"),
    (".bashrc", "upload-001.bashrc"),
    ("a.b/../c.JSON", "upload-001-c.json"),
    ("x.tar;rm -rf", "upload-001-x"),
])
def test_upload_names_are_generated(name, expected):
    assert ui.safe_upload_name(1, name) == expected


def test_upload_ingests_into_the_case_and_reanalyses(tmp_path):
    from detector.simulate import simulate_case

    simulate_case(tmp_path / "sim", seed=3, scenario="campaign", days=30, n_videos=40)
    db = tmp_path / "case.duckdb"
    files = [_Upload("notices.csv", (tmp_path / "sim" / "notices.csv").read_bytes())]
    for chat in sorted((tmp_path / "sim" / "telegram").iterdir()):
        files.append(_Upload("result.json", (chat / "result.json").read_bytes()))
    report, names = ui.ingest_uploads(files, db, tz=None, dayfirst=None)
    assert report.rows > 0 and set(names.values()) == {"notices.csv", "result.json"}
    with Case.open(db, read_only=True) as case:
        assert case.analysed() and case.counts()["notices"] > 0


def test_a_bad_upload_adds_nothing_and_names_the_file(tmp_path):
    db = tmp_path / "case.duckdb"
    good = "received_at,target_url,action,policy\n2024-03-01T10:00:00Z,https://youtu.be/aaaaaaaaaaa,removed,spam\n"
    bad = "received_at,target_url,action,policy\nsoon,https://youtu.be/aaaaaaaaaaa,removed,spam\n"
    with pytest.raises(DetectorError) as err:
        ui.ingest_uploads([_Upload("good.csv", good.encode()), _Upload("my notices.csv", bad.encode())],
                          db, tz=None, dayfirst=None)
    assert str(err.value).startswith("my notices.csv")
    if db.exists():
        with Case.open(db, read_only=True) as case:
            assert case.counts().get("notices", 0) == 0


# -- figures ----------------------------------------------------------------------------------------
def test_figures_escape_collected_text():
    hostile = '<a href="javascript:alert(1)">report</a> <b>now</b>'
    t = pd.Timestamp("2024-03-01T10:00:00Z")
    notices = pd.DataFrame({"received_at": [t], "action": ["removed"], "policy": ["spam"], "target": ["x"],
                            "target_title": [hostile]})
    calls = pd.DataFrame({"posted_at": [t - pd.Timedelta(hours=2)], "chat": ["c"], "chat_title": [hostile],
                          "text": [hostile], "targets": [["x"]]})
    named = pd.DataFrame({"posted_at": [t - pd.Timedelta(hours=1)], "chat": ["d"], "chat_title": [hostile],
                          "text": ["<script>alert(2)</script>"], "kind": ["other"], "p_call": [0.41]})
    fig = timeline_figure(notices, calls, pd.DataFrame({"start": [t], "end": [t], "key": ["x"]}), target="x",
                          named=named)
    hover = " ".join(str(h) for tr in fig.data for h in (tr.text if tr.text is not None else []))
    assert "&lt;a href" in hover and "<a href" not in hover
    assert "&lt;script&gt;" in hover and "<script>" not in hover and "p_call 0.41" in hover
    import networkx as nx

    G = nx.Graph()
    G.add_node("c", label=hostile, calls=1)
    labels = " ".join(" ".join(map(str, tr.text)) for tr in network_figure(G).data if tr.text is not None)
    assert "<b>" not in labels


def test_filter_rows_includes_the_whole_last_day():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-03-01T00:00Z", "2024-03-02T23:59Z", "2024-03-03T00:00Z"]),
                          "c": ["a", "b", "a"]})
    assert len(filter_rows(frame, "t", pd.Timestamp("2024-03-01").date(), pd.Timestamp("2024-03-02").date())) == 2
    assert list(filter_rows(frame, c=["a"])["c"]) == ["a", "a"]


@pytest.mark.parametrize("page", ["campaigns", "campaign", "check", "explore"])
def test_every_page_says_when_results_predate_the_latest_ingest(empty_case, tmp_path, monkeypatch, page):
    import shutil

    from detector.ingestion import ingest
    from detector.simulate import simulate_case

    db = tmp_path / "stale.duckdb"
    shutil.copy(empty_case, db)
    simulate_case(tmp_path / "more", seed=9, scenario="null", days=20, n_videos=20)
    ingest([sorted((tmp_path / "more" / "telegram").iterdir())[0]], db)
    monkeypatch.setenv(ui.ENV_DB, str(db))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if page != "campaigns":
        at.switch_page(ui.PAGES[page]).run()
    assert not at.exception
    assert any("predate the case's inputs" in w.value for w in at.warning), page


def test_explore_shows_the_forwards_coreporting_and_stream_tables(app, app_case):
    app.run()
    app.switch_page(ui.PAGES["explore"]).run()
    assert not app.exception
    subheaders = [s.value for s in app.subheader]
    assert {"Forwards", "Co-reporting", "Notice streams scanned"} <= set(subheaders)
    with Case.open(app_case, read_only=True) as case:
        scans = case.derived("scans")
    assert any(len(df.value) == len(scans) for df in app.dataframe)


def test_error_boxes_show_hostile_text_as_typed_not_as_markdown(app):
    hostile = "![track](https://evil.example/p.png) [Click to fix](https://evil.example) **now** :red[x]"
    rendered = ui.plain_markdown(hostile)
    assert "](" not in rendered.replace("\\](", "").replace("\\]\\(", "")
    assert "\\[Click to fix\\]\\(https\\:" in rendered and "\\*\\*now\\*\\*" in rendered
    app.run()
    app.switch_page(ui.PAGES["check"]).run()
    app.text_input[0].input(hostile)
    app.button[0].click().run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert errors and "not a link or an id" in errors[0]
    assert "](" not in errors[0].replace("\\]\\(", "")


def test_check_shows_the_posts_that_named_it_without_being_calls(app, app_case):
    with Case.open(app_case, read_only=True) as case:
        targets = case.query("SELECT DISTINCT unnest(targets) AS t FROM posts ORDER BY t")["t"]
        found = None
        for target in targets[targets.str.startswith("youtube:video:")]:
            result = check_target(case, target)
            if len(result.named):
                found = (target, result)
                break
    assert found, "the simulated mixed case has no video named by a post that is not a call"
    target, result = found
    _check(app, target)
    assert any(s.value == "Posts that named it but were not counted as calls" for s in app.subheader)
    shown = app.dataframe[-1].value
    assert set(shown["post_id"]) == set(result.named["post_id"])
    chart = app.get("plotly_chart")[0].proto.spec
    assert "post naming it, not a call" in chart


def test_the_review_table_can_list_the_posts_that_named_the_targets_to_mark_missed_calls(app, app_case, campaigns):
    from detector.results import review_queue

    cid = campaigns[0]["id"]
    with Case.open(app_case, read_only=True) as case:
        plain = review_queue(case, cid)
        more = review_queue(case, cid, candidates=True)
    assert len(more) > len(plain), "the mixed case's top campaign has posts naming its targets that are not calls"
    app.run()
    app.switch_page(ui.PAGES["campaign"]).run()

    def listed() -> int:
        caption = next(c.value for c in app.caption if " not reviewed of " in c.value)
        return int(caption.rsplit(" of ", 1)[1].split()[0])

    assert listed() == len(plain)
    box = next(c for c in app.checkbox if c.label.startswith("Also list the posts that named its targets"))
    box.check().run()
    assert not app.exception
    assert listed() == len(more)
