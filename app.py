"""The Streamlit shell: `streamlit run app.py` (the case: the sidebar picker, or $DETECTOR_DB).

Only layout lives here and in app_pages/; every number comes from the detector library.
"""

import streamlit as st

from detector import ui

st.set_page_config(page_title="Mass-reporting detector", page_icon=":material/policy:", layout="wide")
db = ui.pick_case()
ui.build_demo_if_missing(db)
st.sidebar.caption("Times are UTC. Texts from collected chats are shown as plain text, never as markup.")
st.navigation([
    st.Page(ui.PAGES["campaigns"], title="Campaigns", icon=":material/leaderboard:", default=True),
    st.Page(ui.PAGES["campaign"], title="Campaign detail", icon=":material/timeline:"),
    st.Page(ui.PAGES["check"], title="Check a claim", icon=":material/fact_check:"),
    st.Page(ui.PAGES["explore"], title="Explore", icon=":material/table_view:"),
    st.Page(ui.PAGES["add"], title="Add data", icon=":material/upload_file:"),
]).run()
