"""Pseudonyms for private people in an evidence packet.

A packet is meant to be shared with a platform's appeals team or a journalist, so the people
who wrote in WhatsApp groups or Telegram groups, and the accounts that filed complaints, appear
as stable pseudonyms (``Person-3f9a1c2e``) instead of names or phone numbers. Public channels
keep their names: a channel speaking as itself (a Telegram post whose author is its chat's
title) and the chats themselves are the places where the calls were made, which is the
evidence.

The pseudonym is an HMAC-SHA-256 of the name. Its key is the case's first source's SHA-256
(as ``sources.json`` shows it) mixed with a digest of every author and reporter in the case:
the same case always gives the same pseudonyms, while someone holding only the packet cannot
confirm a guessed name by recomputing its pseudonym, because most of the key's input is not in
the packet.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd

# International phone numbers written in a message ("+7 701 234 56 78"): masked in redacted packets.
_PHONE = re.compile(r"\+\d[\d\s\-().]{7,}\d")
PHONE_MASK = "[phone number removed]"


class Pseudonyms:
    """Map private names to ``Person-xxxxxxxx``; identity when ``enabled`` is false.

    Parameters
    ----------
    key : bytes keying the HMAC (see :func:`pseudonym_key`).
    enabled : False for ``--no-redact``: every name is returned unchanged.
    """

    def __init__(self, key: bytes, enabled: bool = True):
        self.key = key
        self.enabled = enabled

    def person(self, name: object) -> str | None:
        """The pseudonym of a private person (None and empty names stay None)."""
        if name is None or (isinstance(name, float) and pd.isna(name)) or str(name).strip() == "":
            return None
        name = str(name)
        if not self.enabled:
            return name
        digest = hmac.new(self.key, name.strip().casefold().encode("utf-8"), hashlib.sha256).hexdigest()
        return f"Person-{digest[:8]}"

    def author(self, author: object, platform: object, chat_title: object, public_names: set[str]) -> str | None:
        """A post's author: kept when it is a public channel speaking as itself, else a pseudonym."""
        if author is None or (isinstance(author, float) and pd.isna(author)):
            return None
        if platform == "telegram" and (str(author) == str(chat_title) or str(author) in public_names):
            return str(author)
        return self.person(author)

    def origin(self, name: object, public_names: set[str]) -> str | None:
        """A forward's origin: a chat of the case keeps its name; anyone else is a person."""
        if name is None or (isinstance(name, float) and pd.isna(name)) or str(name) == "":
            return None
        return str(name) if str(name) in public_names else self.person(name)

    def text(self, text: object) -> str:
        """Message text, verbatim except written phone numbers when redacting."""
        if text is None or (isinstance(text, float) and pd.isna(text)):
            return ""
        text = str(text)
        return _PHONE.sub(PHONE_MASK, text) if self.enabled else text


def pseudonym_key(sources: pd.DataFrame, posts: pd.DataFrame, notices: pd.DataFrame) -> bytes:
    """The HMAC key of a case: its first source's SHA-256 and a digest of every name in it.

    ``sources``: the sources table (first = earliest ``ingested_at``, then ``source_id``);
    ``posts`` and ``notices``: the case's tables (``author``; ``reporter_id``).
    """
    first = ""
    if len(sources):
        first = str(sources.sort_values(["ingested_at", "source_id"], kind="stable").iloc[0]["sha256"])
    names = set(posts["author"].dropna().astype(str)) if "author" in posts else set()
    if "reporter_id" in notices:
        names |= set(notices["reporter_id"].dropna().astype(str))
    digest = hashlib.sha256("\n".join(sorted(names)).encode("utf-8")).hexdigest()
    return hashlib.sha256(f"detector-pseudonyms-v1\n{first}\n{digest}".encode()).digest()
