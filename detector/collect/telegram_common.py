"""What Telegram exports and live collection share: chat keys, post ids, URLs and targets.

Chat key: ``tg<bare peer id>`` (``tg1234567890``), in both collectors. A Desktop export carries
the chat's id and title but never its public username, while Telethon knows all three; keying
on the id is the only choice that lets a channel exported in March and collected live in May
land on the same ``chat`` (and the same ``post_id`` for overlapping messages). The title goes
to ``chat_title``; the username of a live collection is recorded in its source's detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from detector.ids import canonical_target, extract_urls

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
# Calls repeat the same few links thousands of times: parse each distinct URL once.
_target_of = lru_cache(maxsize=1 << 16)(canonical_target)


def _urls_in_text(text: str) -> list[str]:
    # Every URL shape extract_urls knows has a "/" or starts with "www."; most messages have
    # neither, and this test costs far less than the regex.
    if "/" not in text and "www" not in text.lower():
        return []
    return extract_urls(text)


def chat_key(chat_id: int | str) -> str:
    """``tg<id>`` for a bare peer id (no ``-100`` prefix, as exports and ``PeerChannel`` give it)."""
    return f"tg{chat_id}"


def post_id(chat: str, message_id: int | str) -> str:
    """``telegram:<chat key>:<message id>``: the same message gives the same id in every source."""
    return f"telegram:{chat}:{message_id}"


def mention_target(mention: str) -> str | None:
    """``@name`` -> ``telegram:channel:name``, the id a ``t.me/name`` link gets.

    A mention is how calls name a Telegram channel to report ("report @somechannel"), and
    ``t.me/name`` resolves users, groups and channels alike, so a mention of a person yields
    the same kind of id as a link to them would; whether it is a target of a call is decided
    by the calls classifier, not here.
    """
    name = mention.strip().lstrip("@")
    if not _USERNAME.match(name):
        return None
    return f"telegram:channel:{name.lower()}"


def urls_and_targets(text: str, entity_urls: Iterable[str], mentions: Iterable[str] = ()
                     ) -> tuple[list[str], list[str]]:
    """URLs of a message (entity URLs first, then URLs in its text) and their canonical ids.

    Hidden ``text_link`` URLs exist only in the entities; visible ones and defanged
    ``youtube[.]com`` forms are found in the text. Both lists keep first-seen order without
    repeats; mention targets follow the URL targets.
    """
    urls = list(dict.fromkeys(u for u in [*entity_urls, *_urls_in_text(text)] if u))
    targets = [_target_of(u) for u in urls]
    targets += [t for t in map(mention_target, mentions) if t]
    return urls, list(dict.fromkeys(targets))
