"""Early warnings become evidence: a watch alert on a campaign's target is in its packet, with its lead."""

import csv
import io
import shutil
import zipfile

import pandas as pd

from detector.evidence.packet import build_packet
from detector.evidence.verify import verify_packet
from detector.results import campaign_list
from detector.store import Case


def test_an_alert_raised_before_the_notices_is_in_the_packet_with_its_lead(mixed_case, tmp_path):
    db = tmp_path / "case.duckdb"
    shutil.copy(mixed_case, db)
    with Case.open(db, read_only=True) as case:
        top = campaign_list(case)[0]
        notices = case.table("notices")
        posts = case.table("posts")
    target = top["hit_targets"][0]
    first_notice = notices.loc[notices["target"] == target, "received_at"].min()
    call = posts[posts["post_id"] == top["call_post_ids"][0]].iloc[0]
    alerted = first_notice - pd.Timedelta(hours=5)
    alert = pd.DataFrame([{
        "alert_id": f"names_subject:{call.post_id}", "alerted_at": alerted, "reason": "names_subject",
        "post_id": call.post_id, "chat": call.chat, "chat_title": "Call +7 701 123 45 67 now", "message_id": "42",
        "posted_at": call.posted_at, "permalink": None, "targets": [target], "copy_of": None, "similarity": None,
        "p_call": 0.93, "text": "report this video, call +7 701 123 45 67"}])
    with Case.open(db, command="watch") as case:
        case.add_alerts(alert)
    out = build_packet(db, top["id"], tmp_path / "p.zip", allow_stale=True)
    assert verify_packet(out).intact
    with zipfile.ZipFile(out) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("alerts.csv").decode("utf-8"))))
        html = zf.read("report.html").decode("utf-8")
    assert [r["post_id"] for r in rows] == [call.post_id]
    assert float(rows[0]["lead_h"]) == 5.0
    assert "early warnings raised before the notices" in html and "5 h before the first notice" in html
    assert "701 123 45 67" not in rows[0]["text"] and "701 123 45 67" not in html     # redacted like any text
