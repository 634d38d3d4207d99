"""Check a claim: was this video or channel's takedown preceded by calls to report it?"""

import pandas as pd
import streamlit as st

from detector.errors import DetectorError
from detector.figures import timeline_figure
from detector_app import ui

st.title("Check a claim")
st.caption("Paste a video or channel link to see what the collected sources show about it.")
db, version = ui.require_case()
with st.form("check"):
    url = st.text_input("Video or channel URL", placeholder="https://www.youtube.com/watch?v=…")
    since = st.date_input("Only notices from (optional)", value=None, format="YYYY-MM-DD")
    submitted = st.form_submit_button("Check", type="primary")
if submitted:
    st.session_state["check_query"] = (url.strip(), since)
query_url, query_since = st.session_state.get("check_query", ("", None))
if not query_url:
    st.stop()
try:
    result, bursts, headline = ui.check(db, version, query_url,
                                        pd.Timestamp(query_since, tz="UTC") if query_since else None)
except DetectorError as exc:
    ui.show_error(exc)
    st.stop()

st.subheader("Answer")
st.text(f"Target: {result.target}")
with st.container(border=True):
    st.text(headline)
st.subheader("What the collected sources show")
st.text(result.verdict)
for line in result.details:
    st.text(f"• {line}")
st.subheader("What they cannot show")
st.text(result.limits)
if result.campaign:
    if st.button(f"Open campaign {result.campaign['id']}"):
        ui.open_campaign(result.campaign["id"])

if len(result.notices) or len(result.calls) or len(result.named):
    st.plotly_chart(timeline_figure(result.notices, result.calls, bursts, target=result.target, named=result.named),
                    key="check_timeline")
    st.caption("This target's notices by action and policy; filled triangles are the collected calls naming it, "
               "open ones the posts that named it without being counted as calls.")
    notices = result.notices.assign(calls_before=result.notices["calls_before"].map(len))
    st.dataframe(ui.shown(notices[["received_at", "action", "policy", "calls_before", "lag_h", "notice_id"]]),
                 hide_index=True, column_config={"lag_h": st.column_config.TextColumn(
                     "after the latest call", help="Time from the latest call naming the target to the notice.")})
    if len(result.calls):
        st.dataframe(ui.shown(result.calls[["posted_at", "chat_title", "chat", "text", "post_id"]]), hide_index=True)
if len(result.named):
    st.subheader("Posts that named it but were not counted as calls")
    st.caption("The classifier misses some real calls to report. Posts that mention reporting come first, likeliest "
               "call first; an analyst who reads a call here can say so in the review.")
    named = result.named.assign(_order=~result.named["names_reporting"]).sort_values(
        ["_order", "p_call", "posted_at"], ascending=[True, False, True])
    st.dataframe(ui.shown(named[["posted_at", "chat_title", "chat", "kind", "p_call", "text", "post_id"]]),
                 hide_index=True)
