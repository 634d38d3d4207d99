"""Landing page: the ranked campaigns of the case, or a plain "no evidence" with what was collected."""

import pandas as pd
import streamlit as st

from detector.errors import DetectorError
from detector.formatting import count, decimal, p_value, timestamp
from detector_app import ui

st.title("Campaigns")
db, version = ui.require_case()
status, analysed = ui.status(db, version)
if not analysed:
    st.warning("This case has not been analysed yet: there are no campaigns to show.")
    if st.button("Analyse now", type="primary"):
        bar = st.progress(0.0, text="Analysing…")
        try:
            ui.analyse(db, progress=lambda f, text: bar.progress(f, text=text))
        except DetectorError as exc:
            ui.show_error(exc)
            st.stop()
        st.rerun()
    st.stop()

items = ui.campaigns(db, version)
unexplained = ui.unexplained(db, version)
empty, history = ui.case_notes(db, version)
if empty:
    st.info(empty)
elif not any(c["tier"] in ("strong", "moderate") for c in items):
    st.info("No evidence of coordination in the collected sources: " + (
        "calls to report were collected, but the notices that followed them are not beyond chance "
        "(every campaign below is tier weak)." if items else
        "no collected post asked anyone to report a target that received notices."))
if items:
    st.caption(f"{count(len(items), 'campaign')}, best first. A campaign joins calls to report, the targets they "
               "name, the notices that followed and the chats involved; the tier weighs its p-values. "
               "Hover over a column's name for what it means.")
    st.dataframe(pd.DataFrame([{
        "rank": c["rank"], "campaign": c["id"], "tier": c["tier"], "score": decimal(c["score"], 2),
        "targets": len(c["targets"]), "from": timestamp(c["start"]), "to": timestamp(c["end"]),
        "chats": len(c["chats"]), "calls": c["calls"], "notices": c["notices"], "p_link": p_value(c["p_link"]),
        "p_burst": p_value(c["p_burst"]),
    } for c in items]), hide_index=True, key="ranking", column_config={
        "tier": st.column_config.TextColumn("tier", help=ui.term("tier")),
        "score": st.column_config.TextColumn("score", help=ui.term("score")),
        "p_link": st.column_config.TextColumn("p_link", help=ui.term("p_link")),
        "p_burst": st.column_config.TextColumn("p_burst", help=ui.term("p_burst")),
        "notices": st.column_config.NumberColumn("notices", help="Notices on the named targets that arrived within "
                                                 "the window after a call naming them."),
    })
    for c in items:
        with st.container(border=True):
            head, button = st.columns([5, 1], vertical_alignment="center")
            head.markdown(f"**#{c['rank']} {c['id']}** · tier **{c['tier']}** · score {decimal(c['score'], 2)} · "
                          f"{count(len(c['targets']), 'target')} · {count(c['calls'], 'call')} in "
                          f"{count(len(c['chats']), 'chat')} · {count(c['notices'], 'notice')} · "
                          f"{c['start'][:16]} → {c['end'][:16]} UTC", help=ui.term("tier"))
            if button.button(f"Open {c['id']}", key=f"open-{c['id']}"):
                ui.open_campaign(c["id"])
            if c["findings"]:
                st.text(c["findings"][0])
if history:
    st.caption(history)
elif len(unexplained):
    one = len(unexplained) == 1
    st.caption(f"{count(len(unexplained), 'significant burst')} of notices {'has' if one else 'have'} no call behind "
               f"{'it' if one else 'them'}: listed on the Explore page, not counted as campaigns.")

with st.expander("What this case holds", expanded=not items):
    counts = status.counts
    cols = st.columns(5)
    cols[0].metric("sources", counts.get("sources", 0))
    cols[1].metric("notices", counts.get("notices", 0))
    cols[2].metric("posts", counts.get("posts", 0))
    cols[3].metric("chats", status.chats)
    cols[4].metric("notice targets", status.targets)
    for table, (first, last) in status.spans.items():
        st.text(f"{table}: {first} → {last}")
    st.dataframe(status.sources, hide_index=True)

with st.expander("Words and numbers used here"):
    from detector.glossary import glossary

    for entry in glossary(ui.parameters(db, version)):
        st.markdown(f"**{entry.name}**: {ui.plain_markdown(entry.meaning)}")
