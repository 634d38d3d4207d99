"""Reaction or cause: calls posted after enforcement began are not tested as causes."""

import numpy as np
import pandas as pd
import pytest

from detector.campaign import CampaignInputs, build_campaigns
from detector.features.bursts import Period
from detector.features.calls import confirm_boasts
from detector.features.reaction import event_study, reaction_flags

T0 = pd.Timestamp("2024-03-01 12:00", tz="UTC")
V = "youtube:video:abcdefghijk"


def _notices(times, target=V, action="complaint", subject="youtube:channel:UCaaaaaaaaaaaaaaaaaaaaaa"):
    n = len(times)
    return pd.DataFrame({"notice_id": [f"n{i}-{target[-3:]}-{action}" for i in range(n)], "target": [target] * n,
                         "received_at": pd.to_datetime(times, utc=True), "action": [action] * n,
                         "policy": ["harassment"] * n, "subject": [subject] * n, "reporter_id": [None] * n,
                         "published_at": pd.to_datetime([None] * n, utc=True)})


def test_a_call_after_a_removal_is_a_reaction_and_one_before_is_not():
    notices = pd.concat([_notices([T0 - pd.Timedelta(hours=30)], action="removed"),
                         _notices([T0 + pd.Timedelta(hours=h) for h in (1, 2, 5)])])
    pairs = pd.DataFrame({"post_id": ["after", "before"], "target": [V, V],
                          "posted_at": [T0, T0 - pd.Timedelta(days=3)]})
    flags = reaction_flags(pairs, notices, period_hours=90 * 24, window_h=48, enforced_lookback_h=168,
                           min_notices=3, ratio=3.0)
    assert flags.set_index("post_id")["reaction"].to_dict() == {"after": True, "before": False}
    assert bool(flags.set_index("post_id").loc["after", "enforced_before"])


def test_a_call_inside_a_burst_of_complaints_is_a_reaction():
    notices = _notices([T0 - pd.Timedelta(hours=h) for h in (2, 5, 9, 20)])
    pairs = pd.DataFrame({"post_id": ["p"], "target": [V], "posted_at": [T0]})
    flags = reaction_flags(pairs, notices, 90 * 24, 48, 168, 3, 3.0)
    assert flags["pre_notices"].iloc[0] == 4 and bool(flags["reaction"].iloc[0])


def test_steady_complaints_on_a_popular_video_do_not_make_a_reaction():
    # 10 a day for 90 days: 20 in the 48 h before the call is its normal rate, not a burst.
    times = pd.date_range(T0 - pd.Timedelta(days=45), T0 + pd.Timedelta(days=45), periods=900, inclusive="left")
    pairs = pd.DataFrame({"post_id": ["p"], "target": [V], "posted_at": [T0]})
    flags = reaction_flags(pairs, _notices(times), 90 * 24, 48, 168, 3, 3.0)
    assert not bool(flags["reaction"].iloc[0])


def test_event_study_counts_before_and_after_and_flags_a_pre_trend():
    notices = _notices([T0 - pd.Timedelta(hours=h) for h in (1, 3, 7, 60)] + [T0 + pd.Timedelta(hours=2)])
    study = event_study(pd.Series({V: T0}), notices, 48)
    assert study == {"before_2": 1, "before": 3, "after": 1, "pre_trend": True}


def _case(call_times, notice_frame, texts=None, targets=None, days=60):
    n = len(call_times)
    posts = pd.DataFrame({"post_id": [f"tg:c:{i}" for i in range(n)], "platform": "telegram", "chat": "c",
                          "chat_title": "C", "author": None, "posted_at": pd.to_datetime(call_times, utc=True),
                          "text": texts or ["report it"] * n, "forwarded_from": None,
                          "targets": targets or [[V]] * n})
    calls = posts.assign(kind="call", is_call=True, confidence=0.9, p_call=0.9, requested_policy=None,
                         language="en")
    period = Period(T0 - pd.Timedelta(days=days), T0 + pd.Timedelta(days=days))
    empty_pairs = pd.DataFrame(columns=["post_a", "post_b", "similarity"])
    return CampaignInputs(posts=posts, calls=calls, notices=notice_frame, exposure=pd.DataFrame(
        columns=["target", "day", "views"]), pairs=empty_pairs, period=period)


def test_a_campaign_whose_calls_all_follow_the_removal_wave_is_never_an_alarm():
    rng = np.random.default_rng(0)
    wave = [T0 + pd.Timedelta(hours=float(h)) for h in rng.uniform(0, 30, 25)]
    notices = pd.concat([_notices(wave), _notices([T0 + pd.Timedelta(hours=31)], action="removed")])
    # supporters post the link after the removal; complaints keep coming on the video
    later = [T0 + pd.Timedelta(hours=float(h)) for h in rng.uniform(40, 70, 12)]
    notices = pd.concat([notices, _notices(later)]).reset_index(drop=True)
    notices["notice_id"] = [f"n{i}" for i in range(len(notices))]
    campaigns, findings, links, reactions = build_campaigns(_case([T0 + pd.Timedelta(hours=36)], notices))
    assert campaigns["tier"].iloc[0] == "weak" and campaigns["p_link"].iloc[0] is None
    assert reactions["reaction"].all()
    texts = findings[findings["kind"] == "reaction"]["text"].tolist()
    assert texts and texts[0].startswith("The only call was posted after enforcement on its targets had begun")
    assert "this cannot be an alarm" in texts[0]
    assert links.empty or not (links["basis"] == "call").any()


def test_boasts_need_a_named_target_or_an_earlier_call_in_their_chat():
    t = pd.to_datetime(["2024-03-01 10:00", "2024-03-02 10:00", "2024-03-02 11:00", "2024-03-20 10:00"], utc=True)
    calls = pd.DataFrame({"post_id": list("abcd"), "kind": ["call", "boast", "boast", "boast"],
                          "chat": ["x", "x", "y", "x"], "posted_at": t, "targets": [[V], [], [], []],
                          "requested_policy": [None] * 4})
    out = confirm_boasts(calls, pd.Timedelta(days=14))
    assert out["kind"].tolist() == ["call", "boast", "other", "other"]


def test_suspension_of_another_channel_in_the_case_is_not_this_campaigns_finding():
    rng = np.random.default_rng(1)
    call_t = T0
    wave = _notices([call_t + pd.Timedelta(hours=float(h)) for h in rng.uniform(1, 20, 12)])
    other = "youtube:channel:UCbbbbbbbbbbbbbbbbbbbbbb"
    susp = _notices([call_t + pd.Timedelta(hours=30)], target=other, action="suspended", subject=other)
    own = "youtube:channel:UCaaaaaaaaaaaaaaaaaaaaaa"
    own_susp = _notices([call_t + pd.Timedelta(hours=40)], target=own, action="suspended", subject=own)
    for extra, expected in ((susp, False), (own_susp, True)):
        notices = pd.concat([wave, extra]).reset_index(drop=True)
        notices["notice_id"] = [f"n{i}" for i in range(len(notices))]
        _, findings, _, _ = build_campaigns(_case([call_t], notices))
        assert (findings["kind"] == "suspended").any() == expected


def test_derived_tables_are_checked_against_their_declaration_where_they_are_written(tmp_path):
    from detector.errors import DetectorError
    from detector.schema import DERIVED
    from detector.store import Case

    with Case.open(tmp_path / "c.duckdb") as case:
        with pytest.raises(DetectorError, match="undeclared columns"):
            case.replace_table("links", pd.DataFrame({"target": ["x"], "surprise": [1]}))
        with pytest.raises(DetectorError, match="not a declared derived table"):
            case.replace_table("whatever", pd.DataFrame({"a": [1]}))
        case.replace_table("links", pd.DataFrame({"target": ["x"], "p_value": [float("nan")]}))
        stored = case.derived("links")
        assert list(stored.columns) == list(DERIVED["links"])
        assert case.con.execute("SELECT count(*) FROM links WHERE p_value IS NULL").fetchone()[0] == 1


def test_q_burst_is_the_streams_benjamini_hochberg_q_value():
    """q_burst was once overwritten with max(q, p); it must stay the BH q-value of its stream."""
    from detector.features.bursts import Period, detect_bursts
    from detector.features.linkage import benjamini_hochberg

    rng = np.random.default_rng(4)
    base = [T0 + pd.Timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 60, 120)]
    burst = [T0 + pd.Timedelta(days=30, hours=float(h)) for h in rng.uniform(0, 6, 40)]
    notices = pd.concat([_notices(base), _notices(burst)]).reset_index(drop=True)
    notices["notice_id"] = [f"n{i}" for i in range(len(notices))]
    scans, bursts = detect_bursts(notices, None, Period.of(notices["received_at"]))
    q = dict(zip(scans["stream"], benjamini_hochberg(scans["p_burst"]), strict=True))
    assert len(bursts) and all(abs(b.q_burst - q[b.stream]) < 1e-12 for b in bursts.itertuples())
    assert bursts["significant"].equals((bursts["q_burst"] <= 0.05) & (bursts["p_burst"] <= 0.05))


W2 = "youtube:video:bcdefghijkl"


def _burst_after(t, target=V, n=12):
    return _notices([t + pd.Timedelta(hours=1 + 0.5 * i) for i in range(n)], target=target)


def _tiers(case):
    campaigns, findings, _, _ = build_campaigns(case)
    return campaigns["tier"].iloc[0], findings[findings["kind"] == "single"]


def test_one_call_followed_by_a_burst_on_its_one_target_is_not_an_alarm():
    """One post and one burst on the one video it names: the day-shift test gives its smallest
    p-value, but so would an ordinary post about a video that was going viral anyway."""
    notices = _burst_after(T0).reset_index(drop=True)
    tier, single = _tiers(_case([T0], notices))
    assert tier == "weak"
    assert len(single) == 1 and single["text"].iloc[0].startswith("The link rests on one call and one target")
    assert "not an alarm until a second call, or a second target hit" in single["text"].iloc[0]
    assert "= <" not in single["text"].iloc[0]
    from detector.findings import render
    assert "p_link = 0.011 and p_burst < 0.001," in render("single", {"target": V, "p_link": 0.0115,
                                                                      "p_burst": 0.0004})
    assert single["rows"].iloc[0] == '["tg:c:0"]'


def test_one_call_on_one_target_in_a_case_too_short_for_a_p_value_is_weak_without_the_one_call_finding():
    notices = _burst_after(T0).reset_index(drop=True)
    campaigns, findings, _, _ = build_campaigns(_case([T0], notices, days=4))
    assert campaigns["tier"].iloc[0] == "weak" and campaigns["p_link"].iloc[0] is None
    assert "limits" in set(findings["kind"]) and "single" not in set(findings["kind"])


def test_a_second_call_or_a_second_target_hit_corroborates_the_link():
    notices = _burst_after(T0).reset_index(drop=True)
    tier, single = _tiers(_case([T0, T0 + pd.Timedelta(minutes=20)], notices))
    assert tier in ("moderate", "strong") and single.empty
    two = pd.concat([_burst_after(T0), _burst_after(T0, target=W2)]).reset_index(drop=True)
    two["notice_id"] = [f"n{i}" for i in range(len(two))]
    tier, single = _tiers(_case([T0], two, targets=[[V, W2]]))
    assert tier in ("moderate", "strong") and single.empty


def test_a_call_forwarded_from_a_chat_that_was_not_collected_says_where_its_original_is():
    """Partial observation: the copies collected may all come after the notices began while the
    original, in a chat the case does not hold, came before. The finding names that chat."""
    notices = _burst_after(T0).reset_index(drop=True)
    case = _case([T0 + pd.Timedelta(hours=5), T0 + pd.Timedelta(hours=6)], notices)
    origins = ["Штаб «Правда» <b>", "C"]   # the second is the case's own chat (its title)
    case.posts["forwarded_from"] = origins
    case.calls["forwarded_from"] = origins
    _, findings, _, _ = build_campaigns(case)
    text = findings[findings["kind"] == "forwards"]["text"].iloc[0]
    assert text.startswith("2 of the calls are forwards (from C, Штаб «Правда» <b>).")
    assert "Штаб «Правда» <b> is not among the collected chats" in text and "C is not" not in text
    assert "collecting it, or these forwards live (detector collect), would date the call" in text


def test_copies_of_a_call_join_one_campaign_but_a_template_reused_weeks_later_starts_another():
    """Copies spread within hours; the same text posted three weeks later for other videos is a new
    call, so a strong wave's tier does not spread to the targets of a later wave that failed."""
    from detector.campaign import group_calls

    calls = pd.DataFrame({"post_id": ["a", "b", "c"], "targets": [[V], [W2], ["youtube:video:cdefghijklm"]],
                          "posted_at": [T0, T0 + pd.Timedelta(hours=3), T0 + pd.Timedelta(days=21)]})
    pairs = pd.DataFrame({"post_a": ["a", "a"], "post_b": ["b", "c"], "similarity": [1.0, 1.0]})
    groups = group_calls(calls, pairs).to_dict()
    assert groups["a"] == groups["b"] != groups["c"]
    assert len(set(group_calls(calls, pairs, copy_gap=pd.Timedelta(days=30)).to_numpy())) == 1


def test_a_late_forward_whose_original_came_before_the_notices_is_dated_by_its_original():
    """Collected live, a forward carries its original's date: late copies of a call posted before
    the notices began are not reactions, and the finding says when the original was posted."""
    two = pd.concat([_burst_after(T0), _burst_after(T0, target=W2)]).reset_index(drop=True)
    two["notice_id"] = [f"n{i}" for i in range(len(two))]
    copies = [T0 + pd.Timedelta(hours=7), T0 + pd.Timedelta(hours=9)]
    as_exported = _case(copies, two, targets=[[V, W2]] * 2)
    as_exported.posts["forwarded_from"] = as_exported.calls["forwarded_from"] = "Штаб <b>"
    campaigns, _, _, reactions = build_campaigns(as_exported)
    assert campaigns["tier"].iloc[0] == "weak" and reactions["reaction"].all()

    live = _case(copies, two, targets=[[V, W2]] * 2)
    live.posts["forwarded_from"] = live.calls["forwarded_from"] = "Штаб <b>"
    live.calls["forwarded_at"] = [T0 - pd.Timedelta(minutes=30), pd.NaT]
    campaigns, findings, _, reactions = build_campaigns(live)
    assert campaigns["tier"].iloc[0] in ("moderate", "strong")
    dated = reactions.set_index("post_id")
    assert not dated.loc["tg:c:0", "reaction"].any() and dated.loc["tg:c:1", "reaction"].all()
    assert (dated.loc["tg:c:0", "posted_at"] == T0 - pd.Timedelta(minutes=30)).all()
    text = findings[findings["kind"] == "forwards"]["text"].iloc[0]
    assert ("1 of them carries the original's date, as a live collection gives it" in text and
            "the earliest original was posted at 2024-03-01 11:30 UTC, 7 h 30 min before its copy here" in text)
    assert "Штаб <b> is not among the collected chats" in text      # the other forward is undated
    spread = findings[findings["kind"] == "spread"]["text"].iloc[0]
    assert "between 2024-03-01 19:00 and 2024-03-01 21:00 UTC" in spread   # the copies' own times


def test_a_forwards_original_date_never_moves_a_call_later_or_before_the_period():
    from detector.features.reaction import date_by_originals

    calls = pd.DataFrame({"posted_at": pd.to_datetime([T0, T0, T0, T0], utc=True),
                          "forwarded_at": [T0 + pd.Timedelta(hours=2), T0 - pd.Timedelta(days=400), None,
                                           T0 - pd.Timedelta(hours=1)]})
    out = date_by_originals(calls, T0 - pd.Timedelta(days=60))
    assert out["posted_at"].tolist() == [T0, T0 - pd.Timedelta(days=60), T0, T0 - pd.Timedelta(hours=1)]
    assert out["copied_at"].isna().tolist() == [True, False, True, False]
    assert date_by_originals(calls.drop(columns="forwarded_at"), T0)["copied_at"].isna().all()
