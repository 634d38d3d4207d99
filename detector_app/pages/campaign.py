"""One campaign: timeline, findings, calls, targets, copy clusters, chat network, evidence packet."""

import os

import streamlit as st

from detector.errors import DetectorError
from detector.figures import network_figure, timeline_figure
from detector.formatting import decimal, is_missing
from detector_app import ui

st.title("Campaign detail")
db, version = ui.require_case()
try:
    items = ui.campaigns(db, version)
except DetectorError as exc:
    ui.show_error(exc)
    st.stop()
if not items:
    empty, _ = ui.case_notes(db, version)
    st.info(empty or "No campaigns in this case: no evidence of coordination in the collected sources.")
    st.stop()
ids = [c["id"] for c in items]
chosen = st.session_state.get("selected_campaign")
cid = st.selectbox("Campaign", ids, index=ids.index(chosen) if chosen in ids else 0,
                   format_func=lambda i: next(f"#{c['rank']} {i} ({c['tier']})" for c in items if c["id"] == i))
st.session_state["selected_campaign"] = cid
d = ui.campaign_detail(db, version, cid)
c = d.campaign

st.subheader(f"{cid}: tier {c['tier']}, rank {c['rank']}", help=ui.term("tier"))
cols = st.columns(6)
linked_help = "Notices on the campaign's targets that arrived within the window after a call naming them."
for col, (label, value, tip) in zip(cols, [
        ("score", decimal(c["score"], 2), ui.term("score")), ("notices linked", c["notices"], linked_help),
        ("calls", c["calls"], "Posts that asked people to report one of the targets."),
        ("chats", len(c["chats"]), "Chats the calls were posted in."),
        ("p_link", ui.fmt_p(c["p_link"]), ui.term("p_link")), ("p_burst", ui.fmt_p(c["p_burst"]), ui.term("p_burst"))],
        strict=True):
    col.metric(label, value, help=tip)
st.caption(f"{c['start'][:16]} → {c['end'][:16]} UTC · requested policy: {c['requested_policy'] if isinstance(c['requested_policy'], str) else 'none named'}")

st.plotly_chart(timeline_figure(d.notices, d.calls, d.bursts, window=d.window), key="timeline")
st.caption("Notices on the campaign's targets by action (top) and by policy (bottom); triangles are calls to "
           "report, shading marks bursts. Zoom out with the toolbar to see the whole period.")

st.header("Findings")
for f in d.findings.itertuples():
    with st.container(border=True):
        st.text(f.text)
        st.caption(f"{f.kind}" + (f" · p = {ui.fmt_p(f.p_value)}" if not is_missing(f.p_value) else ""))

st.header("Calls to report")
st.dataframe(ui.shown(d.calls[["posted_at", "chat_title", "chat", "platform", "language", "requested_policy", "text", "why",
                      "targets named", "links", "forwarded_from", "post_id"]]), hide_index=True)

st.header("Review before export")
st.caption("Check each call and each post the findings cite: confirm it if it really asks people to report "
           "(or really claims a removal), reject it if the classifier was wrong, and mark a post it missed as a "
           "call or a boast. Decisions are stored in the case with your name and the time; re-analyse to recompute "
           "the campaign on them. Rejected posts never count; the packet marks posts nobody reviewed as "
           "machine-classified.")
candidates = st.checkbox("Also list the posts that named its targets without being counted as calls or boasts "
                         "(mark the calls the classifier missed)", key=f"candidates_{cid}")
queue = ui.review_queue(db, version, cid, candidates)
reviewer = st.text_input("Your name (recorded with each decision)", value=os.environ.get("DETECTOR_OPERATOR", ""),
                         key="reviewer")
shown = queue[["post_id", "kind", "p_call", "review", "review_note", "translation", "chat_title", "posted_at",
               "text", "reviewer"]].copy()
for col in ("review_note", "translation", "reviewer"):     # empty cells, not a raw "None"
    shown[col] = shown[col].astype(object).where(shown[col].notna(), "")
edited = st.data_editor(
    shown, hide_index=True, key=f"review_{cid}_{candidates}",
    disabled=["post_id", "kind", "p_call", "chat_title", "posted_at", "text", "reviewer"],
    column_config={
        "review": st.column_config.SelectboxColumn("decision", options=list(ui.REVIEW_CHOICES), required=True,
                                                   help="confirmed: a person checked it; rejected: not a call or "
                                                        "claim; marked call / marked boast: a call or claim the "
                                                        "classifier missed; unreviewed: as the classifier labelled "
                                                        "it"),
        "review_note": st.column_config.TextColumn("note"),
        "translation": st.column_config.TextColumn("translation", help="Your translation, shown in the packet"),
        "text": st.column_config.TextColumn("text (original)", width="large")})
counts = edited["review"].value_counts()
st.caption(f"{counts.get('confirmed', 0)} confirmed, {counts.get('rejected', 0)} rejected, "
           f"{counts.get('marked call', 0) + counts.get('marked boast', 0)} marked, "
           f"{counts.get('unreviewed', 0)} not reviewed of {len(edited)} posts.")
if st.button("Save decisions", disabled=not reviewer.strip()):
    try:
        n = ui.save_reviews(db, shown, edited, reviewer)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.success(f"Stored {n} decisions. Re-analyse (Add data page, or below) to recompute the campaign.")
        st.cache_data.clear()
if st.button("Re-analyse with the decisions"):
    try:
        ui.start_analysis(db)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.rerun()

st.header("Targets and their notices")
st.dataframe(ui.shown(d.targets), hide_index=True)
target = st.selectbox("Notices of target", list(d.targets["target"]), key="detail_target")
st.dataframe(ui.shown(d.notices[d.notices["target"] == target][
    ["received_at", "action", "policy", "policy_raw", "in_campaign", "notice_id", "platform"]]), hide_index=True)

st.header("Copy clusters")
if d.clusters.empty:
    st.text("None of these calls has a near-duplicate elsewhere in the collected posts.")
else:
    st.dataframe(ui.shown(d.clusters), hide_index=True)

st.header("Chat network")
st.plotly_chart(network_figure(d.network), key="network")
st.caption("Chats that posted the calls. Edges: forward (a call forwarded between them), copy (near-duplicate "
           "texts), co-posting (calls naming the same target within "
           f"{ui.parameters(db, version).coposting_window_min} minutes).")

st.header("Evidence packet")
redact = st.toggle("Replace private people's names by pseudonyms", value=True)
if st.button("Prepare the evidence packet"):
    try:
        data = ui.packet_bytes(db, version, cid, redact)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.download_button(f"Download {cid} evidence packet (.zip)", data, file_name=f"{cid}-evidence.zip",
                           mime="application/zip", on_click="ignore")

st.header("Appeal texts")
st.caption("Plain texts to paste: the appeal for the platform's form (conservative: it claims coordination only for "
           "a strong or moderate campaign, and cites the packet's manifest hash), a counter-notification draft for "
           "copyright takedowns with every personal field left for you to fill, and the routes that remain.")
limit = st.number_input("Length limit of the appeal form (characters)", min_value=200, max_value=20000, value=1000,
                        step=100)
if st.button("Write the appeal texts"):
    try:
        texts = ui.appeal_files(db, version, cid, redact, int(limit))
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        for name, text in texts.items():
            st.text_area(name, text, height=220 if name == "appeal.txt" else 300, key=f"appeal_{name}")
            st.download_button(f"Download {name}", text.encode("utf-8"), file_name=f"{cid}-{name}",
                               mime="text/plain", on_click="ignore", key=f"dl_{name}")
