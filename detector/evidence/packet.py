"""``detector packet``: one campaign as a ZIP that stands on its own, for an appeal or a journalist.

The packet holds

- ``report.html`` and ``report.pdf``: what happened, when, how strong the evidence is and what it
  cannot show; the timeline and network figures; the findings with their numbers; the calls
  with their original text; the notices; the method and the data sources;
- ``calls.csv``, ``notices.csv``, ``links.csv``: the rows behind the report;
- ``findings.json``: the findings and every row they cite;
- ``sources.json``: each input file the packet cites, by kind, SHA-256, ingestion time and name
  (redacted like any private field; never a local path);
- ``manifest.json``: the SHA-256 of every other file, the packet's one creation timestamp and its
  custody record: the SHA-256 of the case file when the packet was read from it, and the case's
  custody log (:mod:`detector.custody`) up to then, with the head of its hash chain;
- ``signature.json`` (with ``--sign-key``): an Ed25519 signature over ``manifest.json``
  (:mod:`detector.evidence.signing`); ``timestamp.tsr`` (added by ``detector timestamp``): an
  RFC 3161 timestamp over it (:mod:`detector.evidence.timestamp`).

The same case and campaign give the same bytes in every file but ``manifest.json`` (its
``created_at``, and its custody record, which grows as the case is used) and the signature over
it: ZIP entries are sorted with a fixed date, the PDF's creation date is the analysis time,
figures carry no metadata. :func:`detector.evidence.verify.verify_packet` recomputes the hashes.
After the packet is written, one custody log entry in the case records it (campaign, the
manifest's SHA-256, the signer's fingerprint).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from detector import custody
from detector.errors import DetectorError
from detector.evidence.appeal import DEFAULT_MAX_CHARS, appeal_texts
from detector.evidence.data import PacketData, packet_data, target_url
from detector.evidence.render_html import render_html
from detector.evidence.render_pdf import render_pdf
from detector.evidence.report import build_report
from detector.evidence.signing import SIGNATURE, fingerprint, load_private_key, signature_file
from detector.features.explain import why_text
from detector.store import Case

PACKET_FORMAT = 1
MANIFEST = "manifest.json"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def build_packet(db: str | Path, campaign_id: str, out_path: str | Path, redact: bool = True,
                 created_at: datetime | None = None, allow_stale: bool = False, reviewed_only: bool = False,
                 phone_regions: str | list[str] | None = None, *, sign_key: str | Path | None = None,
                 operator: str | None = None) -> Path:
    """Write the evidence packet of ``campaign_id`` from the analysed case at ``db`` to ``out_path``.

    Parameters
    ----------
    db : the case file.
    campaign_id : a campaign id as ``detector campaigns`` lists it (``C3F2A91``).
    out_path : the ZIP to write (replaced if it exists; written atomically).
    redact : replace private people's names by pseudonyms (default); False keeps them.
    created_at : the timestamp written to ``manifest.json`` (default: now, UTC). Nothing else in
        the packet depends on when it was built.
    allow_stale : build it even when the analysis predates the case's latest ingest (refused by
        default: the packet would not show the evidence the case now holds).
    phone_regions : region hints for phone numbers written in national formats (ISO codes such
        as ``"KZ,RU"``; default KZ, RU, CN, US, UA, GB), masked when redacting.
    sign_key : an Ed25519 private key file (``detector keygen``): sign the manifest with it.
    operator : who builds it, for the custody log (default: ``DETECTOR_OPERATOR`` or the OS user).

    Returns
    -------
    Path of the written ZIP.

    Raises
    ------
    DetectorError
        when the case is missing or not analysed, or has no such campaign.
    """
    key = load_private_key(sign_key) if sign_key else None
    if not Path(db).is_file():
        raise DetectorError(f"no case at {Path(db).name}", hint="ingest files first: detector ingest PATH --db DB")
    # Opened for writing: the case lock is held while the file is checkpointed and hashed.
    with Case.open(db, command="packet") as case:
        reason = case.stale_reason()
        if reason and not allow_stale:
            raise DetectorError(f"the analysis predates the case's inputs ({reason})", case.path,
                                hint="run detector analyze first, or pass --allow-stale")
        if reviewed_only and not case.analysis_parameters().reviewed_only:
            raise DetectorError("the analysis also counted posts nobody reviewed", case.path,
                                hint="run detector analyze --reviewed-only, then build the packet again")
        case_sha = custody.case_file_sha256(case)
        data = packet_data(case, campaign_id, redact=redact, phone_regions_hint=phone_regions)
        custody_record = packet_custody(custody.read_log(case), case_sha, data)
    files = packet_files(data)
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    files[MANIFEST] = _json_bytes({**manifest(files, data, created), "custody": custody_record})
    if key is not None:
        files[SIGNATURE] = signature_file(files[MANIFEST], key)
    out = Path(out_path)
    write_atomically(out, zip_bytes(files))
    with Case.open(db, command="packet") as case, case.transaction():
        custody.append(case, "packet", {
            "campaign_id": data.campaign["id"], "packet_format": PACKET_FORMAT, "redacted": data.redacted,
            "manifest_sha256": hashlib.sha256(files[MANIFEST]).hexdigest(), "case_sha256": case_sha,
            "signed_by": fingerprint(key.public_key()) if key is not None else None}, operator)
    return out


def write_appeal(db: str | Path, campaign_id: str, out_dir: str | Path, packet_zip: str | Path | None = None,
                 max_chars: int = DEFAULT_MAX_CHARS, redact: bool = True) -> dict[str, Path]:
    """Write the appeal texts of ``campaign_id`` (appeal.txt, counter_notification.txt, routes.txt).

    The appeal cites the SHA-256 of the evidence packet's manifest: of ``packet_zip`` when given
    (it must be intact and of this campaign), else of a packet built now into ``out_dir``.
    Returns {file name: path written}, the packet included.
    """
    from detector.evidence.verify import verify_packet

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if packet_zip is None:
        packet_zip = build_packet(db, campaign_id, out / f"{campaign_id}-evidence.zip", redact=redact)
    checked = verify_packet(packet_zip)
    if not checked.intact:
        raise DetectorError("the evidence packet does not match its manifest", packet_zip,
                            hint="build it again with detector packet")
    if checked.campaign_id != campaign_id:
        raise DetectorError(f"the evidence packet is for campaign {checked.campaign_id}, not {campaign_id}",
                            packet_zip)
    with Case.open(db, read_only=True) as case:
        data = packet_data(case, campaign_id, redact=redact)
    written = {"packet": Path(packet_zip)}
    for name, text in appeal_texts(data, checked.manifest_sha256, max_chars).files().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written[name] = path
    return written


def packet_custody(log: list[custody.Entry], case_sha256: str, data: PacketData) -> dict:
    """The custody record a packet carries: the case file's hash and the log with its head.

    A redacted packet withholds the file items of sources it does not cite (only their digests
    stay, so every entry's hash still checks); file names are never in the log's shown form.
    """
    cited = set(data.sources.loc[data.sources["cited"].astype(bool), "sha256"]) if len(data.sources) else set()
    keep = (lambda sha: sha in cited) if data.redacted else None
    chain = custody.check_chain(log)
    return {"case_sha256": case_sha256, "log_head": {"seq": chain.head_seq, "entry_hash": chain.head_hash},
            "log": [entry.as_json(keep) for entry in log]}


def packet_files(data: PacketData) -> dict[str, bytes]:
    """Every file of the packet but the manifest, by name."""
    report = build_report(data)
    analysed = data.analysis.get("analysed_at")
    created = pd.Timestamp(analysed).to_pydatetime() if analysed else datetime(2000, 1, 1, tzinfo=UTC)
    return {
        "report.html": render_html(report),
        "report.pdf": render_pdf(report, created, footer=f"Evidence packet, campaign {data.campaign['id']}"),
        "calls.csv": _csv_bytes(*_calls_table(data)),
        "notices.csv": _csv_bytes(*_notices_table(data)),
        "links.csv": _csv_bytes(*_links_table(data)),
        "findings.json": _json_bytes(_findings_json(data)),
        "sources.json": _json_bytes(_sources_json(data)),
        **({"alerts.csv": _csv_bytes(*_alerts_table(data))} if len(data.alerts) else {}),
        # inside the packet the appeal cannot cite the packet's own manifest hash: it points to verify
        **{f"appeal/{name}": text.encode("utf-8") for name, text in appeal_texts(data).files().items()},
    }


def manifest(files: dict[str, bytes], data: PacketData, created: datetime) -> dict:
    return {
        "packet_format": PACKET_FORMAT,
        "campaign_id": data.campaign["id"],
        "software_version": data.analysis.get("version"),
        "redacted": data.redacted,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "algorithm": "sha256",
        "files": {name: {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
                  for name, body in sorted(files.items())},
    }


def write_atomically(out: Path, data: bytes) -> None:
    """Write ``out`` through a temporary file in its folder, so it is never seen half-written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")     # same folder: os.replace is atomic
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def rewrite_packet(path: str | Path, extra: dict[str, bytes]) -> None:
    """Add (or replace) the files ``extra`` in the packet at ``path``; every other entry keeps its bytes."""
    with zipfile.ZipFile(path) as zf:
        files = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    write_atomically(Path(path), zip_bytes({**files, **extra}))


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A ZIP of ``files`` with sorted entries, a fixed date and fixed attributes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


# -- the tables --------------------------------------------------------------------------------
def _iso(ts) -> str:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_local(ts, tz: str | None) -> str:
    if not tz or ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    return pd.Timestamp(ts).tz_convert(tz).isoformat()


def _plain(v):
    """JSON-safe scalar: NaN and NA become None, numpy numbers Python numbers."""
    if v is None:
        return None
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, pd.Timestamp):
        return _iso(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return None
    return v


def _calls_table(d: PacketData) -> tuple[list[str], list[list]]:
    cols = ["post_id", "platform", "chat", "chat_title", "chat_letter", "message_id", "author", "posted_at_utc",
            "posted_at_local", "language", "requested_policy", "classifier_confidence", "classifier_kind", "p_call",
            "targets", "forwarded_from", "forwarded_original_at_utc", "permalink", "source_file", "source_sha256",
            "source_ref", "review",
            "reviewer", "reviewed_at_utc", "review_note", "translation", "why_a_call", "text"]
    rows = [[p.post_id, p.platform, p.chat, p.chat_title, p.letter, p.message_id, p.author_shown,
             _iso(p.posted_at), _iso_local(p.posted_at, d.tz), p.language, p.requested_policy,
             None if pd.isna(p.confidence) else round(float(p.confidence), 4), p.machine_kind,
             None if pd.isna(p.p_call) else round(float(p.p_call), 4), ";".join(p.targets),
             p.forwarded_shown, _iso(getattr(p, "forwarded_at", None)), p.permalink, p.source_file, p.source_sha256,
             p.source_ref,
             p.review if p.review != "unreviewed" else "not reviewed (machine-classified)", p.reviewer,
             _iso(p.reviewed_at), p.review_note, p.translation, why_text(p.text), p.text_shown]
            for p in d.calls.itertuples()]
    return cols, rows


def _alerts_table(d: PacketData) -> tuple[list[str], list[list]]:
    cols = ["alert_id", "alerted_at_utc", "reason", "post_id", "chat", "chat_title", "message_id", "posted_at_utc",
            "permalink", "targets", "copy_of", "similarity", "p_call", "lead_h", "text"]
    rows = [[a.alert_id, _iso(a.alerted_at), a.reason, a.post_id, a.chat, a.chat_title, a.message_id,
             _iso(a.posted_at), a.permalink, ";".join(a.targets or []), a.copy_of,
             None if pd.isna(a.similarity) else round(float(a.similarity), 4),
             None if pd.isna(a.p_call) else round(float(a.p_call), 4),
             None if pd.isna(a.lead_h) else round(float(a.lead_h), 2), a.text] for a in d.alerts.itertuples()]
    return cols, rows


def _notices_table(d: PacketData) -> tuple[list[str], list[list]]:
    cols = ["notice_id", "platform", "received_at_utc", "received_at_local", "action", "policy", "policy_raw",
            "target", "target_url", "target_title", "subject", "reporter", "published_at_utc",
            "hours_after_latest_call", "within_window_after_call", "source_file", "source_sha256", "source_ref"]
    rows = [[n.notice_id, n.platform, _iso(n.received_at), _iso_local(n.received_at, d.tz), n.action, n.policy,
             n.policy_raw, n.target, target_url(n.target) or "", n.target_title, n.subject, n.reporter_shown,
             _iso(n.published_at), None if n.lag_h is None or pd.isna(n.lag_h) else round(float(n.lag_h), 3),
             bool(n.linked), n.source_file, n.source_sha256, n.source_ref]
            for n in d.notices.itertuples()]
    return cols, rows


def _links_table(d: PacketData) -> tuple[list[str], list[list]]:
    cols = ["target", "calls", "first_call_utc", "notices_total", "notices_within", "expected_within",
            "rate_ratio", "median_lag_h", "p_value", "p_floor", "shifts", "insufficient", "q_value", "window_h"]
    rows = []
    for r in d.links.itertuples():
        rows.append([r.target, int(r.calls), _iso(r.first_call), int(r.notices_total), int(r.notices_within),
                     _round(r.expected_within), _round(r.rate_ratio), _round(r.median_lag_h), _round(r.p_value),
                     _round(r.p_floor), int(r.shifts), bool(r.insufficient), _round(r.q_value), d.params.window_h])
    return cols, rows


def _round(x, digits: int = 6):
    x = _plain(x)
    return round(float(x), digits) if isinstance(x, int | float) and not isinstance(x, bool) else x


def _post_json(p, tz) -> dict:
    out = {"post_id": p.post_id, "platform": p.platform, "chat": p.chat, "chat_title": _plain(p.chat_title),
           "chat_letter": _plain(p.letter), "message_id": _plain(p.message_id), "author": p.author_shown,
           "posted_at": _iso(p.posted_at), "posted_at_local": _iso_local(p.posted_at, tz) or None,
           "text": p.text_shown, "urls": [str(u) for u in (p.urls if isinstance(p.urls, list) else [])],
           "forwarded_from": _plain(p.forwarded_shown),
           # a forward's original date, when the collection gave it (what the tests dated the call by)
           "forwarded_original_at": _iso(getattr(p, "forwarded_at", None)) or None, "permalink": p.permalink,
           "kind": _plain(p.kind), "language": _plain(p.language), "requested_policy": _plain(p.requested_policy),
           "source": {"file": p.source_file, "sha256": p.source_sha256, "ref": _plain(p.source_ref)}}
    if "targets" in p._fields:
        out["targets"] = list(p.targets)
    return out


def _findings_json(d: PacketData) -> dict:
    c = d.campaign
    notices = {n.notice_id: {
        "notice_id": n.notice_id, "platform": _plain(n.platform), "received_at": _iso(n.received_at),
        "received_at_local": _iso_local(n.received_at, d.tz) or None, "action": n.action, "policy": n.policy,
        "policy_raw": _plain(n.policy_raw), "target": n.target, "target_url": target_url(n.target),
        "target_title": _plain(n.target_title), "subject": _plain(n.subject), "reporter": n.reporter_shown,
        "published_at": _iso(n.published_at) or None, "within_window_after_call": bool(n.linked),
        "hours_after_latest_call": _round(n.lag_h, 3),
        "source": {"file": n.source_file, "sha256": n.source_sha256, "ref": _plain(n.source_ref)}}
        for n in d.notices.itertuples()}
    posts = {p.post_id: _post_json(p, d.tz) for p in d.calls.itertuples()}
    posts.update({p.post_id: _post_json(p, d.tz) for p in d.cited_posts.itertuples()})
    findings = [{"order": int(f.order), "kind": f.kind, "text": f.text, "p_value": _round(f.p_value),
                 "rows": [str(r) for r in f.rows]} for f in d.findings.itertuples()]
    summary = {k: _plain(c.get(k)) for k in ("id", "rank", "tier", "score", "start", "end", "notices", "calls",
                                             "p_link", "p_link_floor", "p_burst", "requested_policy")}
    summary.update(targets=list(c["targets"]), hit_targets=list(c["hit_targets"]), chats=list(d.chats["chat"]),
                   call_post_ids=list(c["call_post_ids"]), notice_ids=list(c["notice_ids"]))
    return {"campaign": summary, "window_sweep": [{k: _round(v) for k, v in s.items()} for s in d.sweep],
            "findings": findings, "rows": {"posts": dict(sorted(posts.items())),
                                           "notices": dict(sorted(notices.items()))},
            "time_zone": d.tz, "analysis": d.analysis, "redacted": d.redacted}


def _sources_json(d: PacketData) -> list[dict]:
    return [{"source_id": r.source_id, "name": r.name, "kind": r.kind, "sha256": r.sha256,
             "ingested_at": _iso(r.ingested_at), "rows": _plain(r.rows), "tz": _plain(r.tz),
             "cited_in_packet": bool(r.cited)} for r in d.sources.itertuples()]


# -- serialisation -----------------------------------------------------------------------------
def _csv_cell(v) -> str:
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    text = str(v)
    # A cell starting like a formula would run as one in a spreadsheet: prefix it so it stays text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_bytes(columns: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, str | bool) or obj is None:
        return obj
    return _plain(obj)


def _json_bytes(obj) -> bytes:
    return (json.dumps(_json_safe(obj), ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")

