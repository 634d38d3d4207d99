"""Early warning: the channels to follow, the subject to protect, and the alerts raised so far."""

import streamlit as st

from detector.errors import DetectorError
from detector_app import jobs, ui

st.title("Early warning")
st.caption("Follow public Telegram channels and be alerted when a call to report names one of your videos or "
           "channels, or a near-copy of a known call appears in a new chat, often hours before the notices "
           "arrive. For continuous watching run `detector watch` as a service (see the README); here you can "
           "keep the list and read the channels once.")
db, version = ui.require_case()
state, alerts = ui.watch_state(db, version)
with st.form("watch_list"):
    channels = st.text_area("Public channels to follow (one username or t.me link per line)",
                            "\n".join(state["channels"]), height=120)
    subject = st.text_area("What to protect: your videos and channels (links, UC… ids or @handles, one per line)",
                           "\n".join(state["subject"]), height=120)
    if st.form_submit_button("Save the watch list"):
        try:
            ui.save_watch_list(db, [c.strip() for c in channels.splitlines() if c.strip()],
                               [s.strip() for s in subject.splitlines() if s.strip()])
        except DetectorError as exc:
            ui.show_error(exc)
        else:
            st.cache_data.clear()
            st.rerun()
job = jobs.current(db)
if st.button("Read the channels now", disabled=not state["channels"] or (job is not None and job.running)):
    try:
        ui.start_watch_poll(db)
    except DetectorError as exc:
        ui.show_error(exc)
    else:
        st.rerun()

st.header(f"Alerts ({len(alerts)})")
if alerts.empty:
    st.info("No alerts yet.")
else:
    st.dataframe(ui.shown(alerts[["alerted_at", "reason", "chat_title", "posted_at", "text", "targets", "permalink",
                                  "copy_of", "post_id"]]), hide_index=True,
                 column_config={"reason": st.column_config.TextColumn(
                     "why", help="names_subject: a call named one of your videos or channels; copy_in_new_chat: a "
                                 "near-copy of a known call appeared in a chat where none was seen before")})
