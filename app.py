"""The Streamlit shell: `streamlit run app.py` (the case: the sidebar picker, or $DETECTOR_DB).

It listens on 127.0.0.1 only (.streamlit/config.toml); served to others, its case picker opens
case files only inside $DETECTOR_CASES_DIR (default cases/ and data/), and tracebacks stay in the
server's log.

Only layout lives here and in detector_app/pages/; every number comes from the detector library.
"""

import streamlit as st

from detector_app import ui

st.set_page_config(page_title="Mass-reporting detector", layout="wide")
db = ui.pick_case()
ui.build_demo_if_missing(db)
st.sidebar.caption("Times are UTC. Texts from collected chats are shown as plain text, never as markup.")
# No page_icon and no page icons: Streamlit fetches material icons for favicons from Google.
ui.run_page(st.navigation([
    st.Page(ui.PAGES["campaigns"], title="Campaigns", default=True),
    st.Page(ui.PAGES["campaign"], title="Campaign detail"),
    st.Page(ui.PAGES["check"], title="Check a claim"),
    st.Page(ui.PAGES["explore"], title="Explore"),
    st.Page(ui.PAGES["watch"], title="Early warning"),
    st.Page(ui.PAGES["add"], title="Add data"),
]))
