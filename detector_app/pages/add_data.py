"""Add data: upload exports and notice files into the selected case, then re-analyse it."""

import zoneinfo

import pandas as pd
import streamlit as st

from detector.errors import DetectorError
from detector_app import jobs, ui

st.title("Add data")
db, _ = ui.current_case()
st.caption(f"Files go into the case selected in the sidebar: {ui.plain_markdown(ui.shown_path(db))}. Ingest is all or nothing: a file that "
           "cannot be read adds nothing, and the case stays as it was.")
uploads = st.file_uploader("Telegram exports (result.json), WhatsApp exports (.txt, .zip), notices (.csv, .eml, "
                           ".mbox, Lumen .json), views per day (.csv)", accept_multiple_files=True,
                           max_upload_size=ui.MAX_UPLOAD_MB)
zone = st.selectbox("Zone of phone-local or naive times", ["(the case's zone)"] + sorted(zoneinfo.available_timezones()),
                    help="WhatsApp exports and naive times are written in the phone's zone. Without a zone here, "
                         "the zone the case recorded earlier is used; if it has none, ingest stops and asks.")
order = st.radio("WhatsApp date order", ["detect", "day first", "month first"], horizontal=True)


def _show_files(job) -> None:
    report, names = job.result
    st.text(f"{report.rows} rows added and the case re-analysed.")
    st.dataframe(pd.DataFrame([{"file": names.get(f.name, f.name), "stored as": f.name, "format": f.kind,
                                "rows added": f.rows, "status": f.status} for f in report.files]), hide_index=True)
    if report.zone_note:
        st.text(report.zone_note)


job = jobs.current(db)
busy = job is not None and job.running
if st.button("Ingest and re-analyse", type="primary", disabled=not uploads or busy):
    try:
        ui.start_ingest_uploads(uploads, db, tz=None if zone.startswith("(") else zone,
                                dayfirst={"day first": True, "month first": False}.get(order))
    except DetectorError as exc:
        ui.show_error(exc)
        st.stop()
    st.rerun()
if job is not None:
    jobs.show_progress(db, on_done=_show_files if job.result is not None else None)
