"""Numbers as people read them, a glossary, and honest empty answers."""

from __future__ import annotations

import pandas as pd
import pytest

from detector.evidence.render_html import render_html
from detector.evidence.report import Cell, Report, Section, Table
from detector.formatting import count, duration, p_value, text, times
from detector.glossary import glossary, help_text
from detector.params import DEFAULTS
from detector.results import once_per_interval


@pytest.mark.parametrize("p, shown", [(0.0096, "0.0096"), (0.00962, "0.0096"), (0.0099, "0.0099"), (0.01, "0.010"),
                                      (0.05, "0.050"), (0.5, "0.50"), (1.0, "1.0"), (0.0004, "< 0.001"),
                                      (None, "insufficient data"), (float("nan"), "insufficient data")])
def test_one_p_value_has_one_spelling(p, shown):
    assert p_value(p) == shown


def test_a_p_value_at_its_floor_says_so():
    assert p_value(1 / 171, 1 / 171) == "0.0058 (the smallest attainable)"


@pytest.mark.parametrize("hours, shown", [(0.2394, "14 min"), (14 + 20 / 60, "14 h 20 min"), (3.0, "3 h"),
                                          (75.5, "3 days 4 h"), (None, "–")])
def test_lags_are_hours_and_minutes(hours, shown):
    assert duration(hours) == shown


def test_plurals_and_missing_values():
    assert [count(1, "target"), count(2, "target"), count(0, "notice")] == ["1 target", "2 targets", "0 notices"]
    assert [times(1), times(2)] == ["once", "2 times"]
    assert [text(None), text(float("nan")), text(pd.NaT), text("x")] == ["–", "–", "–", "x"]


def test_findings_write_singulars_and_lags_in_plain_words():
    from detector.findings import render

    link = render("link", {"hit": 1, "named": 1, "window_h": 48, "removed": 1, "within": 1, "notices_total": 1,
                           "expected": 0.04, "rate_ratio": 25.0, "ratio_lo": 3.1, "ratio_hi": 80.0,
                           "median_lag_h": 0.2394, "p_link": 0.00962, "p_floor": 0.0099, "shifts": 100})
    assert "1 of 1 named target received" in link and "1 of 1 notice on" in link
    assert "median lag after the first call 14 min" in link and "0.2394" not in link
    assert "p_link = 0.0096 over 100 day shifts (the smallest attainable)" in link
    assert "1 targets" not in link and "None" not in link
    assert render("suspended", {"count": 1, "first": "2025-01-01T00:00:00+00:00"}).startswith(
        "The channel was suspended or blocked once")
    one = {"all": True, "calls": 1, "reactions": 1, "why": "burst", "pre_notices": 19, "window_h": 48}
    assert render("reaction", one).startswith("The only call was posted after enforcement on its targets had begun "
                                              "(after 19 notices in the 48 h before it). It may be a reaction")
    assert "All 1 call" not in render("reaction", one)
    assert render("reaction", {**one, "calls": 3, "reactions": 3}).startswith("All 3 calls were posted after")
    spread = {"calls": 1, "chats": 1, "platforms": ["whatsapp"], "first": "2024-03-03T18:38:00+00:00",
              "last": "2024-03-03T18:38:00+00:00", "span_h": 0.0}
    assert render("spread", spread) == "1 call in 1 chat (whatsapp) at 2024-03-03 18:38 UTC."
    none = {"reporters": 5, "multi": 0, "network": {"window_min": 60, "min_weight": 2, "linked": 0, "edges": 0,
                                                    "max_weight": 0, "share_other": 0.1}}
    assert "None of them is linked in the co-reporting network (same target within 60 min, at least 2 times)" \
        in render("coreporting", none)
    assert "0 directed edges" not in render("coreporting", none)
    one = {**none, "network": {**none["network"], "linked": 1, "edges": 1, "max_weight": 3}}
    assert "1 of them is linked by 1 directed edge (weights up to 3)" in render("coreporting", one)
    shift = render("policy_shift", {"policy": "harassment", "matching": 319, "notices": 352, "share": 0.91,
                                    "baseline_share": 0.2, "p_value": 1e-9})
    assert shift.endswith("(binomial p < 0.001).") and "p = <" not in shift
    policy = render("policy", {"policy": "hate_speech", "matching": 6, "notices": 352, "share": 0.02,
                               "baseline_share": 0.24, "p_value": 1.0})
    assert policy.endswith("binomial p = 1.0).")


def test_glossary_defines_every_term_the_results_show_with_the_thresholds_in_force():
    names = [t.name for t in glossary()]
    assert {"tier", "score", "p_link", "p_burst", "rate ratio", "floor"} <= set(names)
    stricter = DEFAULTS.replace(strong_link=0.01)
    assert "p_link at most 0.01" in help_text("tier", stricter)
    assert "not a probability" in help_text("score")


def test_html_tables_break_only_long_tokens():
    url = "https://www.youtube.com/watch?v=abcdefghijk&list=" + "x" * 20
    report = Report("t", "", [Section("s", "s", [Table(["a"], [[Cell(f"harassment and cyberbullying {url}")]],
                                                         [1])])])
    html = render_html(report).decode()
    assert "overflow-wrap: anywhere" not in html.split(".token")[0]       # cells wrap whole words
    assert f'harassment and cyberbullying <span class="token">{url.replace("&", "&amp;")}</span>' in html


def _burst(stream, scope, start, notices=12):
    return {"burst_id": stream, "stream": stream, "scope": scope, "subject": "(all)", "key": stream,
            "start": pd.Timestamp(start, tz="UTC"), "end": pd.Timestamp(start, tz="UTC") + pd.Timedelta(hours=5),
            "notices": notices}


def test_a_burst_found_in_nested_streams_is_listed_once():
    bursts = pd.DataFrame([_burst("policy:(all):harassment", "policy", "2025-03-01"),
                           _burst("subject:(all)", "subject", "2025-03-01"),
                           _burst("subject:(all)", "subject", "2025-03-09"),
                           _burst("policy:(all):spam", "policy", "2025-03-01", notices=4)])
    once = once_per_interval(bursts)
    assert list(zip(once["stream"], once["also_in"], strict=True)) == [
        ("policy:(all):spam", []), ("subject:(all)", ["policy:(all):harassment"]), ("subject:(all)", [])]


@pytest.fixture(scope="module")
def short_case(tmp_path_factory):
    """Five days of notices and one call: analysed, but too short a history for a baseline."""
    from detector.analysis import analyze_case
    from detector.ingestion import ingest

    root = tmp_path_factory.mktemp("short")
    rows = ["received_at,target_url,action,policy"]
    for day in range(5):
        for hour in (3, 9, 15):
            rows.append(f"2025-03-0{day + 1}T{hour:02d}:00:00Z,https://youtu.be/dQw4w9WgXcQ,complaint,harassment")
    (root / "notices.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = root / "case.duckdb"
    ingest([root / "notices.csv"], db)
    analyze_case(db)
    return db


def test_a_few_days_of_notices_are_too_little_history_and_nothing_to_test(short_case):
    from click.testing import CliRunner

    from detector.cli import main
    from detector.results import nothing_to_test, too_little_history
    from detector.store import Case

    with Case.open(short_case, read_only=True) as case:
        history = too_little_history(case)
        empty = nothing_to_test(case)
    assert history.startswith("Too little history to judge bursts: the notices span 4 days 12 h")
    assert empty.startswith("Nothing to test: the case holds no posts")
    out = CliRunner().invoke(main, ["campaigns", "--db", str(short_case)]).output
    assert "Nothing to test" in out and "Too little history to judge bursts" in out
    assert "No evidence of coordination" not in out and "bursts with no call" not in out
