"""A stand-in for t.me on 127.0.0.1: serves real saved preview messages as t.me/s pages.

The messages are the real ones saved in ``tests/fixtures/telegram_web/tchan/`` (SOURCES.md);
the server puts them, twenty to a page, into the page frame every ``t.me/s/<channel>`` page has
(``section.tgme_channel_history`` with the ``tme_messages_more`` cursor), and answers
``?before=<id>`` with the page before, as Telegram does. A channel it does not know redirects to
``/<channel>`` (how Telegram answers for a channel without a public preview); it can be told to
answer 429 with ``Retry-After`` a few times, and new messages can be planted while it runs.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).parent / "fixtures" / "telegram_web"
TCHAN = FIXTURES / "tchan"
PAGE_SIZE = 20
TCHANTEST_ID = 1591537674


def saved_messages(channel: str = "tchantest") -> dict[int, str]:
    """message id -> the saved ``tgme_widget_message_wrap`` HTML of every saved message of ``channel``."""
    out = {}
    for path in sorted(TCHAN.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        found = re.search(r'data-post="([^"/]+)/(\d+)"', text)
        if found and found.group(1) == channel:
            out[int(found.group(2))] = text
    return out


def _view_token(chat_id: int, message_id: int) -> str:
    raw = json.dumps({"c": -chat_id, "p": message_id, "t": 1677241343, "h": "0"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def planted_message(channel: str, message_id: int, when: datetime, text: str, views: str = "12",
                    chat_id: int = TCHANTEST_ID) -> str:
    """A new post in the shape of the saved ``unsigned_text_message`` (message 6 of tchantest):
    the same markup with this id, time, text (``\\n`` as ``<br/>``, URLs as links) and views."""
    template = (TCHAN / "unsigned_text_message.html").read_text(encoding="utf-8")
    body = "<br/>".join(re.sub(r"(https?://\S+)", r'<a href="\1" target="_blank" rel="noopener">\1</a>',
                               html.escape(line, quote=False)) for line in text.split("\n"))
    out = template.replace('data-post="tchantest/6"', f'data-post="{channel}/{message_id}"')
    out = re.sub(r'data-view="[^"]+"', f'data-view="{_view_token(chat_id, message_id)}"', out)
    out = out.replace("https://t.me/tchantest/6", f"https://t.me/{channel}/{message_id}")
    out = out.replace("2023-02-24T07:30:39+00:00", when.isoformat())
    out = out.replace(">Unsigned message", ">" + body)
    out = out.replace('tgme_widget_message_views">2<', f'tgme_widget_message_views">{views}<')
    assert body in out and when.isoformat() in out
    return out


def render_page(channel: str, messages: dict[int, str], before: int | None, title: str) -> str:
    """A t.me/s page: the newest ``PAGE_SIZE`` messages older than ``before``, oldest first."""
    ids = sorted(i for i in messages if before is None or i < before)[-PAGE_SIZE:]
    more = ""
    if ids and any(i < ids[0] for i in messages):
        more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}?before={ids[0]}" '
                f'class="tme_messages_more js-messages_more" data-before="{ids[0]}"></a></div>')
    body = "\n".join(messages[i] for i in ids)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)} – Telegram</title>
<meta property="og:title" content="{html.escape(title)}"></head>
<body class="widget_frame_base tgme_webpreview emoji_image thin_box_shadow tme_mode no_transitions">
<header class="tgme_header search_collapsed"><div class="tgme_container"><div class="tgme_header_right_column">
<section class="tgme_right_column"><div class="tgme_channel_info"><div class="tgme_channel_info_header">
<div class="tgme_channel_info_header_title_wrap"><div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(title)}</span></div></div>
<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div>
</div></div></section></div></div></header>
<main class="tgme_main" data-url="/{channel}"><div class="tgme_container">
<section class="tgme_channel_history js-message_history">
{more}
{body}
</section></div></main></body></html>"""


NO_PREVIEW_CARD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: Contact @{channel}</title></head>
<body class="no_transition"><div class="tgme_page_wrap"><div class="tgme_body_wrap"><div class="tgme_page">
<div class="tgme_page_title"><span dir="auto">{channel}</span></div>
<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact @{channel} right away.</div>
</div></div></div></body></html>"""


class FakeTelegram:
    """The server's state: channels with their messages, refusals to play, requests seen."""

    def __init__(self):
        self.channels: dict[str, dict[int, str]] = {"tchantest": saved_messages("tchantest")}
        self.titles = {"tchantest": "tchan's test channel 👍"}
        self.cards = {"someuser"}              # answer with a tgme_page card, no history
        self.throttle: dict[str, list[int]] = {}   # channel -> Retry-After values to answer first
        self.requests: list[str] = []
        self.webhooks: list[dict] = []
        self.lock = threading.Lock()

    def plant(self, channel: str, message_id: int, when: datetime, text: str, **kw) -> None:
        """Add a post; a channel other than tchantest gets an id of its own (1000000000 + its length)."""
        kw.setdefault("chat_id", TCHANTEST_ID if channel == "tchantest" else 1_000_000_000 + len(channel))
        with self.lock:
            self.channels.setdefault(channel, {})[message_id] = planted_message(channel, message_id, when, text, **kw)

    def answer(self, path: str, query: str) -> tuple[int, dict, bytes]:
        with self.lock:
            self.requests.append(path + ("?" + query if query else ""))
            parts = path.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "s":
                return 404, {}, b"not found"
            channel = parts[1]
            if self.throttle.get(channel):
                return 429, {"Retry-After": str(self.throttle[channel].pop(0))}, b"Too Many Requests"
            if channel in self.cards:
                return 200, {"Content-Type": "text/html"}, NO_PREVIEW_CARD.format(channel=channel).encode()
            if channel not in self.channels:
                return 302, {"Location": f"/{channel}"}, b""
            before = parse_qs(query).get("before", [None])[0]
            page = render_page(channel, self.channels[channel], int(before) if before else None,
                               self.titles.get(channel, channel))
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    state: FakeTelegram

    def do_GET(self):   # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        status, headers, body = self.server.state.answer(url.path, url.query)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):   # noqa: N802 — the webhook receiver
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        with self.server.state.lock:
            self.server.state.webhooks.append(payload)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):   # quiet
        pass


class Server:
    """``with Server() as srv:`` serves ``srv.state`` at ``srv.url`` (127.0.0.1, a free port)."""

    def __init__(self):
        self.state = FakeTelegram()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.state = self.state
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

