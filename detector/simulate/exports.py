"""The real formats a simulated case is written in: Telegram Desktop JSON, WhatsApp text and zip, CSV."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime

from detector.simulate.case import _Case
from detector.simulate.model import (
    _FILE_SKIPPED,
    _WA_ENCRYPTED,
    LRM,
    _Chat,
    _plain_text,
)

# --------------------------------------------------------------------------------------------
# writers

def _tg_text(parts: list) -> tuple[object, list]:
    ents = []
    for part in parts:
        if isinstance(part, str):
            ents.append({"type": "plain", "text": part})
        elif part[0] == "text_link":
            ents.append({"type": "text_link", "text": part[1], "href": part[2]})
        else:
            ents.append({"type": part[0], "text": part[1]})
    if not ents:
        return "", []
    if len(ents) == 1 and ents[0]["type"] == "plain":
        return ents[0]["text"], ents
    text = [e["text"] if e["type"] == "plain" else e for e in ents]
    return text, ents


def _telegram_export(case: _Case, chat: _Chat) -> bytes:
    posts = sorted(chat.posts, key=lambda q: (q.t, q.seq))
    for i, q in enumerate(posts):
        q.msg_id = chat.first_msg_id + i
    messages = []
    for q in posts:
        local = case.clock.local(q.t).replace(tzinfo=None).isoformat(timespec="seconds")
        m: dict = {"id": q.msg_id, "type": "service" if q.kind == "service" else "message",
                   "date": local, "date_unixtime": str(q.t)}
        if q.edited:
            m["edited"] = case.clock.local(q.edited).replace(tzinfo=None).isoformat(timespec="seconds")
            m["edited_unixtime"] = str(q.edited)
        if q.kind == "service":
            m.update(actor=chat.title, actor_id=f"channel{chat.tg_id}", action="pin_message",
                     message_id=q.pin.msg_id if q.pin else 0)
        else:
            m.update({"from": chat.title, "from_id": f"channel{chat.tg_id}"})
            if q.forwarded_from:
                m["forwarded_from"] = q.forwarded_from
            if q.media == "photo":
                m.update(photo=_FILE_SKIPPED, width=1280, height=int(case.rng.choice([720, 853, 960])))
            elif q.media == "video":
                m.update(file=_FILE_SKIPPED, thumbnail=_FILE_SKIPPED, media_type="video_file",
                         mime_type="video/mp4", duration_seconds=int(case.rng.integers(8, 600)),
                         width=1280, height=720)
        m["text"], m["text_entities"] = _tg_text(q.parts)
        messages.append(m)
    doc = {"name": chat.title, "type": "public_channel", "id": chat.tg_id, "messages": messages}
    # tdesktop: one-space indentation, raw UTF-8, U+2028/U+2029 escaped, no trailing newline
    text = json.dumps(doc, ensure_ascii=False, indent=1).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode("utf-8")


_WA_MEDIA_IOS = {"image": "image omitted", "video": "video omitted", "sticker": "sticker omitted",
                 "audio": "audio omitted"}


def _whatsapp_export(case: _Case, chat: _Chat) -> bytes:
    posts = sorted(chat.posts, key=lambda q: (q.t, q.seq))
    ios = chat.os == "ios"
    lines = []
    for q in posts:
        d = case.clock.local(q.t)
        if ios:
            stamp = f"[{d.day:02d}.{d.month:02d}.{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d}:{d.second:02d}]"
            q.shown = d.replace(tzinfo=None).isoformat(timespec="seconds")
        else:
            stamp = f"{d.day}/{d.month}/{d.year % 100:02d}, {d.hour:02d}:{d.minute:02d}"
            q.shown = d.replace(tzinfo=None, second=0).isoformat(timespec="seconds")
        author = q.author
        if ios and author.startswith("+"):
            author = "\u202a" + author + "\u202c"
        q.shown_author = q.author.replace("\u00a0", " ")
        if q.kind == "system":
            if ios:
                lines.append(f"{stamp} {chat.title}: {LRM}{q.system}" if q.system == _WA_ENCRYPTED
                             else f"{LRM}{stamp} {chat.title}: {LRM}{q.system}")
            else:
                lines.append(f"{stamp} - {q.system}")
            continue
        if q.kind == "media":
            lines.append(f"{LRM}{stamp} {author}: {LRM}{_WA_MEDIA_IOS[q.media]}" if ios
                         else f"{stamp} - {author}: <Media omitted>")
            continue
        if q.kind == "deleted":
            body = f"{LRM}This message was deleted." if ios else "This message was deleted"
            lines.append(f"{stamp} {author}: {body}" if ios else f"{stamp} - {author}: {body}")
            continue
        body = _plain_text(q.parts, "whatsapp")
        lines.append(f"{stamp} {author}: {body}" if ios else f"{stamp} - {author}: {body}")
    sep = "\r\n" if ios else "\n"
    text = sep.join(line.replace("\n", sep) if ios else line for line in lines) + sep
    return text.encode("utf-8")


def _zip_bytes(name: str, data: bytes, when: datetime) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour, when.minute,
                                                 when.second - when.second % 2))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o644 << 16
        zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def _csv_bytes(header: list[str], rows: list) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _safe_name(name: str) -> str:
    return "".join("_" if ch in '<>:"/\\|?*' or ord(ch) < 32 else ch for ch in name).strip() or "chat"


