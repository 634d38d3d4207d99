"""Explore: filter the notices and posts of the case, and the bursts no call explains."""

import streamlit as st

from detector.errors import DetectorError
from detector.formatting import decimal, p_value
from detector.views import filter_rows
from detector_app import ui

st.title("Explore")
db, version = ui.require_case()


def day_range(label: str, times, key: str):
    first, last = times.min(), times.max()
    if first != first:  # no rows
        return None, None
    picked = st.date_input(label, value=(first.date(), last.date()), min_value=first.date(),
                           max_value=last.date(), key=key)
    return (picked[0], picked[-1]) if len(picked) else (None, None)


notices_tab, posts_tab, bursts_tab, networks_tab = st.tabs(["Notices", "Posts", "Unexplained bursts",
                                                          "Forwards, co-reporting, streams"])
with notices_tab:
    notices = ui.notices(db, version)
    a, b, c = st.columns(3)
    policy = a.multiselect("Policy", sorted(notices["policy"].dropna().unique()), key="n_policy")
    action = b.multiselect("Action", sorted(notices["action"].dropna().unique()), key="n_action")
    text = c.text_input("Target, title or subject contains", key="n_text")
    start, end = day_range("Received between (UTC)", notices["received_at"], "n_days")
    shown = filter_rows(notices, "received_at", start, end, contains=text,
                        text_cols=("target", "target_title", "target_url", "subject"), policy=policy, action=action)
    st.caption(f"{len(shown)} of {len(notices)} notices")
    st.dataframe(shown[["received_at", "action", "policy", "policy_raw", "target_title", "target", "target_url",
                        "subject", "platform", "sender", "reporter_id", "notice_id", "source_ref"]], hide_index=True)

with posts_tab:
    posts = ui.posts(db, version)
    titles = dict(zip(posts["chat"], posts["chat_title"].fillna(posts["chat"]), strict=True))
    a, b, c, d = st.columns(4)
    chat = a.multiselect("Chat", sorted(titles), format_func=lambda x: titles[x], key="p_chat")
    language = b.multiselect("Language", sorted(posts["language"].dropna().unique()), key="p_language")
    kind = c.multiselect("Kind", ["call", "boast"], key="p_kind", help="As the analysis classified the post.")
    policy = d.multiselect("Requested policy", sorted(posts["requested_policy"].dropna().unique()), key="p_policy")
    text = st.text_input("Text contains", key="p_text")
    start, end = day_range("Posted between (UTC)", posts["posted_at"], "p_days")
    shown = filter_rows(posts, "posted_at", start, end, contains=text, text_cols=("text",), chat=chat,
                        language=language, kind=kind, requested_policy=policy)
    st.caption(f"{len(shown)} of {len(posts)} posts")
    st.dataframe(shown[["posted_at", "chat_title", "author", "text", "kind", "language", "requested_policy", "urls",
                        "forwarded_from", "chat", "platform", "post_id"]], hide_index=True)

with bursts_tab:
    try:
        bursts = ui.unexplained(db, version)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.caption("Significant bursts of notices that no campaign and no rise in views explains. A burst with "
                   "no call behind it is reported as such, not as a campaign. A burst found in several streams "
                   "holding the same notices (a channel with one policy) is listed once.")
        _, history = ui.case_notes(db, version)
        if history:
            st.warning(history)
        elif bursts.empty:
            st.text("No unexplained bursts.")
        else:
            table = bursts.assign(
                expected=bursts["expected"].map(decimal), rate_ratio=bursts["rate_ratio"].map(decimal),
                p_burst=bursts["p_burst"].map(p_value), q_burst=bursts["q_burst"].map(p_value),
                also_in=bursts["also_in"].map(lambda s: ", ".join(s) if isinstance(s, list) else ""))
            st.dataframe(ui.shown(table[["burst_id", "stream", "also_in", "start", "end", "notices", "expected",
                                         "rate_ratio", "p_burst", "q_burst", "policy_top"]]), hide_index=True,
                         column_config={
                             "also_in": st.column_config.TextColumn("same notices in", help="Other streams in "
                                                                    "which the scan found this very burst."),
                             "rate_ratio": st.column_config.TextColumn("rate ratio", help="Notices in the burst "
                                                                       "divided by those the channel's own rhythm "
                                                                       "leads one to expect."),
                             "p_burst": st.column_config.TextColumn("p_burst", help=ui.term("p_burst")),
                             "q_burst": st.column_config.TextColumn("q_burst", help=ui.term("q"))})

with networks_tab:
    try:
        tables = ui.networks(db, version)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.subheader("Forwards")
        st.caption("Which chats forwarded posts from which origin (every forward in the case, not only calls).")
        st.dataframe(tables["forwards"], hide_index=True)
        st.subheader("Co-reporting")
        st.caption("Reporters who flagged the same target within the co-reporting window, at least the minimum "
                   "number of times (only when notices carry reporter ids).")
        st.dataframe(tables["coreports"], hide_index=True)
        st.subheader("Notice streams scanned")
        st.caption("Every stream the burst scan examined (channel, policy, video), with its corrected p_burst.")
        st.dataframe(tables["scans"], hide_index=True)
