"""Pseudonyms for private people in an evidence packet.

A packet is meant to be shared with a platform's appeals team or a journalist, so the people
who wrote in WhatsApp groups or Telegram groups, and the accounts that filed complaints, appear
as stable pseudonyms (``Person-3f9a1c2e``) instead of names or phone numbers. Public channels
keep their names: a channel speaking as itself (a Telegram post whose author is its chat's
title) and the chats themselves are the places where the calls were made, which is the
evidence.

Phone numbers are found by ``phonenumbers`` (Google's libphonenumber metadata), in national and
international formats, read with a list of region hints (the regions whose national formats,
such as ``8 (701) 123-45-67`` or ``(202) 555-0143``, are expected). They are masked in every free
text the packet shows. A chat with one private person (a one-to-one WhatsApp chat, a Telegram
personal chat) is named after that person or their number, so its title, key and the file name
of its export are pseudonymised like an author.

The pseudonym is an HMAC-SHA-256 of the name. Its key is the case's first source's SHA-256
(as ``sources.json`` shows it) mixed with a digest of every author and reporter in the case:
the same case always gives the same pseudonyms, while someone holding only the packet cannot
confirm a guessed name by recomputing its pseudonym, because most of the key's input is not in
the packet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache

import pandas as pd
import phonenumbers

from detector.errors import DetectorError

PHONE_MASK = "[phone number removed]"
# Where the cases this tool serves come from (Kazakhstan, Russia, China, the US, Ukraine, Britain):
# the regions whose national formats are read as phone numbers unless the packet is told others.
DEFAULT_PHONE_REGIONS = ("KZ", "RU", "CN", "US", "UA", "GB")
# Telegram Desktop's chat types for a chat with one person (or a bot, or oneself).
_TELEGRAM_PRIVATE_TYPES = {"personal_chat", "bot_chat", "saved_messages"}


def phone_regions(regions: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Region hints as upper-case ISO 3166 codes (``"KZ,RU"`` or a list); the defaults for None."""
    if regions is None:
        return DEFAULT_PHONE_REGIONS
    items = regions.split(",") if isinstance(regions, str) else list(regions)
    out = tuple(dict.fromkeys(str(r).strip().upper() for r in items if str(r).strip()))
    unknown = [r for r in out if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown or not out:
        raise DetectorError(f"unknown phone region {', '.join(unknown) or '(none given)'}",
                            hint="give ISO 3166 country codes separated by commas, e.g. KZ,RU,US")
    return out


@lru_cache(maxsize=65536)
def phone_spans(text: str, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> tuple[tuple[int, int], ...]:
    """Where ``text`` writes a phone number: merged (start, end) spans.

    A number counts when libphonenumber finds it valid in one of ``regions`` (national formats
    with a trunk prefix, ``00`` international prefixes) or it is written in international form
    with a leading ``+`` (possible, even if not assigned: the writer meant a number).
    """
    spans = []
    for region in regions:
        spans += [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)]
    spans += [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, None, leniency=phonenumbers.Leniency.POSSIBLE)
              if m.raw_string.startswith("+")]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def mask_phones(text: str, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> str:
    """``text`` with every phone number replaced by :data:`PHONE_MASK`."""
    if not any(ch.isdigit() for ch in text):
        return text
    out, last = [], 0
    for start, end in phone_spans(text, regions):
        out += [text[last:start], PHONE_MASK]
        last = end
    return "".join(out) + text[last:]


def is_phone_number(text: str, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> bool:
    """Whether ``text`` is nothing but a phone number (a chat named after a contact's number)."""
    text = str(text).strip()
    return bool(text) and mask_phones(text, regions).strip() == PHONE_MASK


def private_chats(posts: pd.DataFrame, sources: pd.DataFrame,
                  regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> dict[str, str]:
    """The chats with one private person, as {chat key: chat title}.

    ``posts``: DataFrame[platform, chat, chat_title, author]; ``sources``: DataFrame[detail]
    (Telegram exports record each chat's type there). A WhatsApp export names a one-to-one chat
    after the contact, so a WhatsApp chat counts as private when its title is a phone number,
    is the name of one of its authors, or the chat has at most two authors (the exporter and
    the contact); a group's name is the evidence of where calls were made and stays.
    """
    out: dict[str, str] = {}
    telegram_private = set()
    for detail in sources["detail"].dropna() if "detail" in sources else []:
        try:
            d = json.loads(detail)
        except (TypeError, ValueError):
            continue
        for chat in d.get("chats", []) if isinstance(d, dict) else []:
            if isinstance(chat, dict) and chat.get("type") in _TELEGRAM_PRIVATE_TYPES and chat.get("chat"):
                telegram_private.add(str(chat["chat"]))
    titled = posts.dropna(subset=["chat"])
    for (platform, chat), group in titled.groupby(["platform", "chat"], sort=True):
        titles = group["chat_title"].dropna().astype(str)
        title = titles.value_counts().sort_index().idxmax() if len(titles) else str(chat)
        authors = {a.strip().casefold() for a in group["author"].dropna().astype(str)}
        if platform == "telegram" and str(chat) in telegram_private:
            out[str(chat)] = title
        elif platform == "whatsapp" and (is_phone_number(title, regions) or title.strip().casefold() in authors
                                         or len(authors) <= 2):
            out[str(chat)] = title
    return out


class Pseudonyms:
    """Map private names to ``Person-xxxxxxxx``; identity when ``enabled`` is false.

    Parameters
    ----------
    key : bytes keying the HMAC (see :func:`pseudonym_key`).
    enabled : False for ``--no-redact``: every name is returned unchanged.
    """

    def __init__(self, key: bytes, enabled: bool = True, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS):
        self.key = key
        self.enabled = enabled
        self.regions = regions

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
        return mask_phones(text, self.regions) if self.enabled else text

    def file_name(self, name: str, private: dict[str, str]) -> str:
        """An input file's name with the private names in it (``private``: name -> pseudonym)
        replaced, longest first, and phone numbers masked ("WhatsApp Chat with Person-3f9a1c2e.txt")."""
        if not self.enabled:
            return name
        for raw in sorted(private, key=len, reverse=True):
            if len(raw.strip()) >= 2:
                name = _replace_casefolded(name, raw.strip(), private[raw])
        return mask_phones(name, self.regions)


def _replace_casefolded(text: str, old: str, new: str) -> str:
    """``text`` with every case-insensitive occurrence of ``old`` replaced by ``new``."""
    folded, target = text.casefold(), old.casefold()
    if len(folded) != len(text) or target not in folded:     # casefold changed lengths: compare exactly
        return text.replace(old, new)
    out, i = [], 0
    while (j := folded.find(target, i)) >= 0:
        out += [text[i:j], new]
        i = j + len(target)
    return "".join(out) + text[i:]


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
