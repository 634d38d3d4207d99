"""YouTube notice e-mails: one ``.eml`` or a mailbox (``.mbox``, e.g. a Google Takeout of Gmail).

A creator's only record of enforcement is the e-mail YouTube sends (FORMATS.md §5.1):
Community Guidelines warnings, strikes and removals ("we think it violates our <policy>
policy"), the no-strike variant, the older "Your video has been removed from YouTube",
copyright takedowns ("Due to a copyright takedown notice … Video url: …"), age restrictions,
channel terminations, and reinstatements after appeal. Wordings change over the years and by
language, so the reader looks for cues rather than whole templates.

Decisions
---------
* Time: the ``Date`` header, with its offset, to UTC (no ``--tz`` needed). The time of a
  forward is not the notice's time, so forwarded notices (sent on by a person) are not read;
  they are counted in the detail as ``forwarded_youtube``.
* Action, when one e-mail says several things, is the strongest thing done to the channel:
  reinstated > appeal refused (``other``) > suspended > strike > restricted > removed, except
  that an explicit warning ("this is just a warning") wins over strike words, which warnings
  use as a threat ("if it happens again, your channel will get a strike"). A removal "without
  a strike" is ``removed``.
* Target: each video link in the body (plain text, or ``<a href>`` in the HTML part; Google
  redirect wrappers and Studio links are unwrapped), one row per video. A channel notice
  without a video targets the channel link if there is one. Many templates name the video
  only by title: then ``target`` is empty and ``target_title`` holds the title (counted in
  the detail as ``without_target``).
* ``sender`` = the From address; ``reporter_id`` = the copyright claimant when named.
* In a mailbox, mails that are not YouTube notices are skipped and counted; a single
  ``.eml`` that is not one is an error when named (a folder's sniffing leaves it aside).
  ``source_ref`` = the message's 1-based position in the mailbox, or the Message-ID of an ``.eml``.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from detector.collect.base import Format, Parsed, ReadOptions, decode_head, looks_binary, stable_id
from detector.collect.limits import DEFAULT_LIMITS, ParseLimits, check_size, read_bytes
from detector.errors import DetectorError
from detector.ids import canonical_target, extract_urls
from detector.schema import conform
from detector.vocab import normalise_policy

_EXPECTED = "a YouTube notice e-mail (.eml) or a mailbox (.mbox) such as a Google Takeout of Gmail"

# ---------------------------------------------------------------------------------------------
# Cues. Matched against subject + body with whitespace collapsed and curly quotes made straight.
_YOUTUBE_SENDER = re.compile(r"@(?:[\w.-]+\.)?youtube\.com$|youtube[\w.+-]*@google\.com$", re.I)
_NOTICE_CUE = re.compile(r"community guidelines|copyright|polic(?:y|ies)|terms of service|strike|appeal|"
                         r"правил|принцип|авторск|社区准则|版权|政策", re.I)
_OWNER_CUE = re.compile(r"\byour (?:video|content|channel|account|upload)|ваш\w* (?:видео|контент|канал)|"
                        r"您的", re.I)
_ACTION_RULES: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(pattern, re.I)) for name, pattern in (
    ("reinstated", r"reinstat|we(?:'ve| have) restored|(?:is|are) (?:now )?back (?:up )?on youtube|"
                   r"lifted the (?:age[- ])?restriction|removed the strike|восстановил|восстановлен|已恢复"),
    ("other", r"won't be (?:put back|reinstated)|will not be (?:put back|reinstated)|"
              r"confirmed (?:that )?it(?:'s| is) not allowed|upheld (?:our|the) (?:original )?decision|"
              r"appeal (?:was |has been )?(?:rejected|denied)|апелляци\w* отклонен"),
    ("suspended", r"(?:terminated|suspended|removed|disabled|deleted) your (?:youtube )?(?:channel|account)|"
                  r"your (?:youtube )?(?:channel|account) (?:has been|was|is) (?:terminated|suspended|removed|"
                  r"disabled)|(?:удалили|заблокировали) ваш канал|ваш канал (?:был )?(?:удал|заблок)|频道已被终止"),
    ("warning", r"just a warning|only a warning|this is a warning|(?:issued|received|given|got) a warning|"
                r"ограничимся предупреждением|ограничились предупреждением|только предупреждение"),
    ("strike", r"(?:assigned|applied|received|issued|given|got) (?:\w+ ){0,2}(?:community guidelines |"
               r"copyright )?strike|you now have \d+ (?:copyright |community guidelines )?strikes?|"
               r"(?:first|second|third) strike|(?:получил\w*|был\w* наложен\w*|наложили|вынесли) (?:\w+ ){0,2}страйк|"
               r"получил\w* предупреждение о нарушении|社区准则警示"),
    ("restricted", r"age[- ]restrict|restricted (?:your|this|the) (?:video|content)|limited features|"
                   r"ограничени\w* по возрасту|возрастн\w* ограничени|年龄限制"),
    ("removed", r"removed|taken down|take down|took down|disabled|has been deleted|удал|删除|移除"),
))
_POLICY_NAMED = re.compile(
    r"(?:violat\w*|not allowed under|against|under) (?:of )?our (?!community guidelines)([^.\n:]{2,80}?) "
    r"polic(?:y|ies)|"
    r"нарушает наши правила (?:в отношении|о|об|относительно) ([^.\n]{2,80}?)(?:[.\n]|$)|"
    r"违反了我们的(.{2,30}?)政策", re.I)
_POLICY_SECTION = re.compile(r"(?:what our policy says|video content restrictions|что говорится в правилах)"
                             r"\s*\n+\s*([^\n]{5,300})", re.I)
_COPYRIGHT = re.compile(r"copyright (?:takedown|strike|infringement|notice)|third-party notification|"
                        r"claiming that this material is infringing|нарушени\w* авторских прав", re.I)
_TITLE = (re.compile(r"^\s*(?:video(?: title)?|видео|视频)\s*[:：]\s*(.+?)\s*$", re.I | re.M),
          re.compile(r"\byour video [\"“«](.+?)[\"”»]", re.I),
          re.compile(r"ваше видео [\"“«](.+?)[\"”»]", re.I))
_CLAIMANT = (re.compile(r"takedown issued by\s*:\s*(.+?)\s*$", re.I | re.M),
             re.compile(r"third-party notification (?:by|from) (.+?) claiming", re.I),
             re.compile(r"^\s*claimant\s*:\s*(.+?)\s*$", re.I | re.M))
_FORWARDED = re.compile(r"^(?:-+ ?forwarded message ?-+|begin forwarded message:)", re.I | re.M)
_STUDIO_VIDEO = re.compile(r"studio\.youtube\.com/video/([A-Za-z0-9_-]{11})", re.I)


# ---------------------------------------------------------------------------------------------
class _HtmlText(HTMLParser):
    """Visible text and link targets of an HTML part (YouTube hides video links in <a href>)."""

    _BLOCK = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "td"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "head", "title"}:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]

    def handle_endtag(self, tag):
        if tag in {"script", "style", "head", "title"} and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> tuple[str, list[str]]:
    """(visible text, hrefs) of an HTML document."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts), parser.links


def _part_text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def body_of(message: EmailMessage) -> tuple[str, list[str]]:
    """(plain text, link targets) of a message: the text/plain part, else text from the HTML."""
    plain, html_parts, links = [], [], []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            text, hrefs = html_text(_part_text(part))
            html_parts.append(text)
            links += hrefs
    text = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html_parts)
    return _tidy(text), links


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\u00a0", " ").replace("\u200b", "")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _flat(text: str) -> str:
    """One line, straight quotes: for cue matching across line breaks."""
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("‘", "'"))


# ---------------------------------------------------------------------------------------------
def _unwrap(url: str) -> str:
    """The real address behind a redirect (google.com/url?q=…, youtube.com/redirect?q=…)."""
    for _ in range(3):
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        query = parse_qs(parts.query)
        inner = next((query[k][0] for k in ("q", "url", "u", "continue", "next")
                      if k in query and query[k][0].startswith("http")), None)
        if not inner or "/watch" in parts.path:
            break
        url = inner
    studio = _STUDIO_VIDEO.search(url)
    return f"https://www.youtube.com/watch?v={studio.group(1)}" if studio else url


def _links(text: str, hrefs: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(videos, channels): distinct (canonical id, url) pairs in order of appearance."""
    videos: dict[str, str] = {}
    channels: dict[str, str] = {}
    for raw in extract_urls(text) + hrefs:
        url = _unwrap(raw.strip())
        target = canonical_target(url)
        if target.startswith("youtube:video:"):
            videos.setdefault(target, url)
        elif target.startswith(("youtube:channel:", "youtube:handle:")):
            channels.setdefault(target, url)
    return list(videos.items()), list(channels.items())


def classify_action(text: str) -> str | None:
    """The action a notice e-mail reports (see the module's precedence), or None."""
    flat = _flat(text)
    for name, pattern in _ACTION_RULES:
        if pattern.search(flat):
            return name
    return None


def find_policy(text: str) -> str | None:
    """The policy wording the e-mail cites ("harassment and cyberbullying"), or None."""
    flat = _flat(text)
    if _COPYRIGHT.search(flat):
        return "copyright"
    named = _POLICY_NAMED.search(flat)
    if named:
        return next(g for g in named.groups() if g).strip(" \"'«»“”")
    section = _POLICY_SECTION.search(text)
    if section:
        return section.group(1).strip()
    if re.search(r"community guidelines|принцип\w* сообщества|社区准则", flat, re.I):
        return "Community Guidelines"
    return None


def _first_match(patterns, text: str) -> str | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return found.group(1).strip(" \"'«»“”")
    return None


def _received(message: EmailMessage) -> datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" (zone unknown) parses as naive; RFC 5322 still means UTC by it.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_notice(message: EmailMessage) -> tuple[dict | None, str]:
    """A notice's fields from one message, or (None, why it is not one).

    Pure: reads only the message. Fields: received_at, sender, subject, action, policy_raw,
    videos [(target, url)], channels, title, claimant, text, message_id.
    """
    sender = email.utils.parseaddr(str(message.get("From", "")))[1].lower()
    subject = _flat(str(message.get("Subject", ""))).strip()
    if not _YOUTUBE_SENDER.search(sender):
        # Most of a Takeout mailbox is other mail: decode bodies only of forwards.
        if not re.match(r"(?:fwd?|пересл\w*|转发)\s*:", subject, re.I):
            return None, "not_youtube"
        text, _ = body_of(message)
        forwarded = _FORWARDED.search(text) and re.search(r"youtube\.com>?\s*$", text, re.I | re.M)
        return None, "forwarded_youtube" if forwarded else "not_youtube"
    text, hrefs = body_of(message)
    whole = f"{subject}\n{text}"
    action = classify_action(whole)
    if action is None or not _NOTICE_CUE.search(whole) or not _OWNER_CUE.search(_flat(whole)):
        return None, "not_a_notice"
    received = _received(message)
    if received is None:
        return None, "undated"
    videos, channels = _links(text, hrefs)
    return {
        "received_at": received, "sender": sender, "subject": subject, "action": action,
        "policy_raw": find_policy(whole), "videos": videos, "channels": channels,
        "title": _first_match(_TITLE, text), "claimant": _first_match(_CLAIMANT, text),
        "text": text, "message_id": str(message.get("Message-ID", "")).strip() or None,
    }, "notice"


# ---------------------------------------------------------------------------------------------
def _is_mbox(path: Path, head: bytes) -> bool:
    # Some clients save a single .eml with an mbox "From " line first: still one message.
    suffix = path.suffix.lower()
    return suffix == ".mbox" or (suffix != ".eml" and head.startswith(b"From "))


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(65536)


def iter_records(path: Path, limits: ParseLimits = DEFAULT_LIMITS) -> Iterator[tuple[str, EmailMessage]]:
    """Raw layer: (source_ref, message) for each message of an .mbox, or the one of an .eml.

    Refuses a file over ``limits``, an empty file and a mailbox holding no e-mail.
    """
    path = Path(path)
    check_size(path, limits)
    head = _head(path)
    if looks_binary(head):
        raise DetectorError("not an e-mail file (binary data)", path, 1, f"expected {_EXPECTED}")
    if not head.strip():
        raise DetectorError("the file is empty", path, 1, f"expected {_EXPECTED}")
    if _is_mbox(path, head):
        box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default),
                           create=False)
        try:
            keys = box.keys()
            if not keys:
                raise DetectorError("the mailbox holds no e-mail (no line starts with 'From ')", path, 1,
                                    f"expected {_EXPECTED}")
            for index, key in enumerate(keys, 1):
                yield str(index), box[key]
        finally:
            box.close()
        return
    message = email.message_from_bytes(read_bytes(path, limits), policy=email.policy.default)
    if not message.keys():
        raise DetectorError("no e-mail headers found", path, 1, f"expected {_EXPECTED}")
    yield str(message.get("Message-ID", "")).strip() or "1", message


def to_rows(notices: list[tuple[str, dict]]) -> pd.DataFrame:
    """Mapping layer: (source_ref, fields) -> ``notices`` rows (one per video named)."""
    rows = []
    for ref, notice in notices:
        policy_raw = notice["policy_raw"]
        targets = notice["videos"] or notice["channels"][:1] or [(None, None)]
        key = notice["message_id"] or f"{notice['received_at'].isoformat()}|{notice['sender']}|{notice['subject']}"
        subject = notice["channels"][0][0] if notice["channels"] else None
        for k, (target, url) in enumerate(targets):
            rows.append({
                "notice_id": "youtube:" + stable_id(key, target, k), "source_ref": ref, "platform": "youtube",
                "received_at": notice["received_at"], "action": notice["action"],
                "policy": normalise_policy(policy_raw), "policy_raw": policy_raw,
                "target": target, "target_url": url,
                "target_title": notice["title"] if len(targets) == 1 else None,
                "subject": subject, "sender": notice["sender"], "reporter_id": notice["claimant"],
                "text": notice["text"],
            })
    return conform(pd.DataFrame(rows), "notices")


def read(path: Path, options: ReadOptions) -> Parsed:
    """Read YouTube notice e-mails into ``{"notices": rows}``; the detail counts what was skipped."""
    path = Path(path)
    notices, skipped = [], {}
    single = not _is_mbox(path, _head(path))
    for ref, message in iter_records(path, options.limits):
        fields, why = parse_notice(message)
        if fields is None:
            if single:
                raise DetectorError(f"not a YouTube notice e-mail ({_reason(why, message)})", path, 1,
                                    f"expected {_EXPECTED}")
            skipped[why] = skipped.get(why, 0) + 1
            continue
        notices.append((ref, fields))
    if not notices:
        counted = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(skipped.items()))
        raise DetectorError(f"none of the mailbox's {sum(skipped.values())} e-mails is a YouTube notice ({counted})",
                            path, None, f"expected {_EXPECTED}; ingest the mailbox that holds YouTube's notices")
    rows = to_rows(notices)
    detail = {"messages": len(notices) + sum(skipped.values()), "notices": len(notices), "skipped": skipped,
              "without_target": int(rows["target"].isna().sum())}
    return Parsed(kind=FORMAT.name, frames={"notices": rows}, detail=detail)


def _reason(why: str, message: EmailMessage) -> str:
    sender = email.utils.parseaddr(str(message.get("From", "")))[1] or "no sender"
    return {"not_youtube": f"sent by {sender}",
            "forwarded_youtube": f"a forward by {sender}; ingest the original from YouTube, whose date is "
                                 "the notice's time",
            "not_a_notice": f"from {sender} but it reports no removal, strike, restriction or reinstatement",
            "undated": "it has no readable Date header"}[why]


def sniff(path: Path, head: bytes) -> bool:
    """A mailbox (.mbox or "From " first line), or a single e-mail that is a YouTube notice.

    A single e-mail is parsed from the head: in a folder, YouTube's other mail (comments,
    newsletters) is then skipped rather than failing the whole ingest. One too long to judge
    from its head is accepted if YouTube sent it.
    """
    path = Path(path)
    if looks_binary(head):
        return False
    if path.suffix.lower() == ".mbox":
        return True
    text = decode_head(head)
    if text.startswith("From ") and re.match(r"From \S+ +\w{3} ", text):
        return True
    headers = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    if path.suffix.lower() != ".eml" and not re.match(r"^[A-Za-z][\w-]*: ", headers):
        return False
    sender = re.search(r"^From:[^\n]*?([\w.+-]+@[\w.-]+)", headers, re.I | re.M)
    if not (sender and _YOUTUBE_SENDER.search(sender.group(1).lower())):
        return False
    if len(head) >= 65536:
        return True
    fields, _ = parse_notice(email.message_from_bytes(head, policy=email.policy.default))
    return fields is not None


FORMAT = Format(name="notice_email", description="YouTube notice e-mails (.eml, or .mbox such as Google Takeout)",
                sniff=sniff, read=read)
