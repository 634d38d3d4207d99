"""Lumen Database notices (JSON): one notice ``{"dmca": {...}}`` or search results.

Shapes: ``{<type>: notice}`` from ``/notices/<id>.json`` (the root key is the notice type:
dmca, counterfeit, court_order, defamation, trademark, other, private_information, …),
``{"notices": [...], "meta": {...}}`` from ``/notices/search.json``, or a bare list of notices.

One row per infringing URL (``works[].infringing_urls[].url``; ``problematic_urls`` and
``urls_with_private_information`` in the other/private types). Decisions:

* action ``complaint`` (a notice asks the platform to act; ``action_taken`` goes to ``text``),
  except a counter-notice, which is the uploader answering one: action ``other``.
* policy from the notice type: DMCA, counterfeit and trademark -> ``copyright`` (the
  vocabulary's intellectual-property class); private information and data protection ->
  ``privacy``. Defamation has no class of its own: it is a legal claim, not a Community
  Guidelines policy, and calling it harassment or misinformation would fabricate matches with
  calls that ask for those policies; it stays ``other``. Other types (court order,
  government request, other, …) go through :func:`detector.vocab.normalise_policy` over their
  topics and title. ``policy_raw`` = type and topics ("DMCA; Copyright").
* Without a researcher key Lumen shows ``{fqdn, count}`` instead of URLs. Such an entry
  becomes one row with target ``url:https://<fqdn>`` (the notice's time and sender are real
  evidence; only the exact URL is hidden) and ``text`` saying how many URLs it stands for;
  the detail counts these rows. ``"No URL submitted"`` and empty entries are skipped.
* ``received_at`` = ``date_received``, else ``date_sent``; a notice with neither is skipped
  and counted. ``notice_id`` = ``lumen:<id>:<k>`` (k = 1, 2, … over the notice's rows);
  ``source_ref`` = the Lumen notice id; ``sender`` = ``sender_name``.

The YouTube legal-webform e-mails that Lumen keeps (spec/support/example_files/youtube_*.html)
carry no date, so they cannot be placed on a timeline and are left unrecognised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from detector.collect.base import Format, Parsed, ReadOptions, decode_head, decode_text, looks_binary
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, check_json_depth, read_bytes
from detector.collect.noticerows import clean_cell, platform_of
from detector.errors import DetectorError
from detector.ids import canonical_target
from detector.schema import conform
from detector.vocab import normalise_policy

NOTICE_TYPES = ("dmca", "counterfeit", "counternotice", "court_order", "data_protection", "defamation",
                "government_request", "law_enforcement_request", "local_law", "private_information",
                "trademark", "other", "placeholder")
_URL_KEYS = ("infringing_urls", "problematic_urls", "urls_with_private_information")
_TYPE_POLICY = {"dmca": "copyright", "counternotice": "copyright", "counterfeit": "copyright",
                "trademark": "copyright", "privateinformation": "privacy", "dataprotection": "privacy",
                "defamation": "other"}
_NO_URL = {"", "no url submitted"}
_EXPECTED = "a Lumen notice (lumendatabase.org/notices/<id>.json) or search result (search.json)"


def _type_key(name: object) -> str:
    return re.sub(r"[^a-z]", "", str(name or "").lower())


def _load_text(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> str:
    data = read_bytes(path, limits)
    if looks_binary(data[:65536]):
        raise DetectorError("not a text file (binary data)", path, 1, f"expected {_EXPECTED}")
    text = decode_text(data, path)
    if not text.strip():
        raise DetectorError("the file is empty", path, 1, f"expected {_EXPECTED}")
    check_json_depth(data, path, limits)
    return text


def _parse(text: str, path: Path):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DetectorError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path, exc.lineno,
                            "the file may be cut short; download it again") from None


def iter_records(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> Iterator[tuple[str, dict]]:
    """Raw layer: each notice object with its root type (``""`` inside search results).

    Refuses a file with no notices, and notices whose ``works`` or URL lists are not lists of
    objects (a string there would be read letter by letter).
    """
    path = Path(path)
    text = _load_text(path, limits)
    doc = _parse(text, path)
    if isinstance(doc, dict) and isinstance(doc.get("notices"), list):
        notices = [("", n) for n in doc["notices"]]
    elif isinstance(doc, list):
        notices = [("", n) for n in doc]
    elif isinstance(doc, dict) and len(doc) == 1 and isinstance(next(iter(doc.values())), dict):
        notices = [next(iter(doc.items()))]
    else:
        raise DetectorError("not a Lumen notice: expected {\"<type>\": {...}} or {\"notices\": [...]}",
                            path, 1, f"expected {_EXPECTED}")
    if not notices:
        raise DetectorError("no notices in this file", path, 1, f"expected {_EXPECTED}")
    for k, (root, notice) in enumerate(notices, 1):
        if not isinstance(notice, dict) or "works" not in notice or "id" not in notice:
            raise DetectorError(f"notice {k} has no id or works: not a Lumen notice", path, 1,
                                f"expected {_EXPECTED}")
        problem = _shape_problem(notice)
        if problem:
            raise DetectorError(f"notice {notice['id']!r}: {problem}", path, _line_of_notice(text, notice["id"]),
                                f"expected {_EXPECTED}")
        yield root, notice


def _shape_problem(notice: dict) -> str | None:
    """What is wrong with a notice's structure, or None."""
    if isinstance(notice["id"], bool) or not isinstance(notice["id"], int | str):
        return "its id is not a number or text"
    works = notice["works"]
    if works is None:
        return None
    if not isinstance(works, list):
        return f"works is {type(works).__name__}, not a list"
    for work in works:
        if work is None:
            continue
        if not isinstance(work, dict):
            return f"a work is {type(work).__name__}, not an object"
        for key in _URL_KEYS:
            if not isinstance(work.get(key), list | None):
                return f"{key} is {type(work[key]).__name__}, not a list"
    for key in ("topics",):
        if not isinstance(notice.get(key), list | None):
            return f"{key} is {type(notice[key]).__name__}, not a list"
    for key in ("date_received", "date_sent"):
        if not isinstance(notice.get(key), str | None):
            return f"{key} is {type(notice[key]).__name__}, not a date"
    return None


def _urls(notice: dict) -> Iterator[tuple[str | None, str | None, int | None]]:
    """(url, fqdn, count) for each entry of the notice's works; (None, None, None) for "no URL"."""
    for work in notice.get("works") or []:
        for key in _URL_KEYS:
            for entry in (work or {}).get(key) or []:
                if isinstance(entry, str):
                    entry = {"url": entry}
                if not isinstance(entry, dict):
                    continue
                url = clean_cell(entry.get("url"))
                if url and url.lower() not in _NO_URL:
                    yield url, None, None
                elif not url and clean_cell(entry.get("fqdn")):
                    yield None, clean_cell(entry.get("fqdn")), entry.get("count")
                else:
                    yield None, None, None


def _policy(kind: str, notice: dict) -> tuple[str, str]:
    topics = [str(t) for t in notice.get("topics") or [] if t]
    raw = "; ".join(dict.fromkeys([str(notice.get("type") or kind)] + topics))  # "DMCA; Copyright"
    policy = _TYPE_POLICY.get(_type_key(notice.get("type") or kind))
    if policy is None:
        policy = normalise_policy(" ".join(topics + [str(notice.get("title") or "")]))
    return policy, raw


def _text(notice: dict) -> str | None:
    parts = [notice.get("title"), notice.get("body") or notice.get("explanation")]
    parts += [(w or {}).get("description") or (w or {}).get("complaint") for w in notice.get("works") or []]
    if notice.get("principal_name"):
        parts.append(f"on behalf of: {notice['principal_name']}")
    if notice.get("action_taken"):
        parts.append(f"action taken: {notice['action_taken']}")
    text = "\n".join(str(p).strip() for p in parts if p and str(p).strip())
    return text or None


class _BadDate(ValueError):
    def __init__(self, value, notice_id):
        super().__init__(f"cannot read date {value!r} of notice {notice_id}")
        self.notice_id = notice_id


def _utc(value: object, notice_id) -> pd.Timestamp:
    """Lumen writes UTC ("2017-04-15T21:59:11.000Z"); a value without a zone is UTC too."""
    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, OverflowError):
        raise _BadDate(value, notice_id) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _line_of_notice(text: str, notice_id) -> int:
    found = re.search(rf'"id"\s*:\s*"?{re.escape(str(notice_id))}\b', text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def to_rows(records, counts: dict) -> pd.DataFrame:
    """Mapping layer: notices -> ``notices`` rows; ``counts`` receives what was skipped and why."""
    rows = []
    for root, notice in records:
        when = notice.get("date_received") or notice.get("date_sent")
        if not when:
            counts["undated_notices"] = counts.get("undated_notices", 0) + 1
            continue
        received = _utc(when, notice["id"])
        kind = _type_key(notice.get("type") or root)
        policy, policy_raw = _policy(root, notice)
        action = "other" if kind == "counternotice" else "complaint"
        text = _text(notice)
        k = 0
        for url, fqdn, count in _urls(notice):
            if url is None and fqdn is None:
                counts["skipped_no_url"] = counts.get("skipped_no_url", 0) + 1
                continue
            k += 1
            if url is None:
                counts["fqdn_only_rows"] = counts.get("fqdn_only_rows", 0) + 1
                target, target_url = f"url:https://{fqdn.lower()}", f"https://{fqdn.lower()}"
                note = f"Lumen shows {count or 'some'} URL(s) on {fqdn} without the full addresses"
                row_text = f"{text}\n{note}" if text else note
            else:
                target, target_url, row_text = canonical_target(url), url, text
            rows.append({
                "notice_id": f"lumen:{notice['id']}:{k}", "source_ref": str(notice["id"]),
                "platform": platform_of(target), "received_at": received, "action": action,
                "policy": policy, "policy_raw": policy_raw, "target": target, "target_url": target_url,
                "sender": clean_cell(notice.get("sender_name")), "text": row_text,
            })
        if k == 0:
            counts["notices_without_urls"] = counts.get("notices_without_urls", 0) + 1
    return conform(pd.DataFrame(rows), "notices")


def read(path: Path, options: ReadOptions) -> Parsed:
    """Read Lumen notice JSON into ``{"notices": rows}`` (dates are UTC; no zone needed)."""
    path = Path(path)
    records = list(iter_records(path, options.limits))
    counts: dict = {}
    try:
        rows = to_rows(records, counts)
    except _BadDate as exc:
        raise DetectorError(str(exc), path, _line_of_notice(_load_text(path, options.limits), exc.notice_id),
                            "Lumen dates look like 2017-04-15T21:59:11.000Z") from None
    detail = {"notices": len(records), **counts}
    return Parsed(kind=FORMAT.name, frames={"notices": rows}, detail=detail)


def sniff(path: Path, head: bytes) -> bool:
    """JSON with Lumen's notice fields (``works`` and ``date_received``/``date_sent``)."""
    if looks_binary(head):
        return False
    text = decode_head(head).lstrip()
    return (text[:1] in "{[" and '"works"' in text
            and ('"date_received"' in text or '"date_sent"' in text))


FORMAT = Format(name="lumen", description="Lumen Database notices (JSON: one notice or search results)",
                sniff=sniff, read=read)
