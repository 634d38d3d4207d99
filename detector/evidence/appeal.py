"""Appeal-ready texts for one campaign: the platform appeal, a counter-notification draft, the routes left.

All three are plain text built from the packet's own rows (:class:`~.data.PacketData`), so they
say nothing the packet does not show. The appeal is conservative by default: it claims
coordination only for a strong or moderate campaign, states the timing evidence in one sentence
a reviewer understands, fits the appeal form's length limit by dropping whole optional
sentences (never cutting one), and cites the packet by its manifest hash. The
counter-notification leaves every field the law requires of the sender as a ``[placeholder]``:
nothing about the user is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from detector.errors import DetectorError
from detector.evidence.data import PacketData, target_url
from detector.vocab import ENFORCEMENT

DEFAULT_MAX_CHARS = 1000          # the length YouTube's appeal form takes (a conservative common limit)
REMOVAL_LIKE = ENFORCEMENT
FILES = ("appeal.txt", "counter_notification.txt", "routes.txt")


@dataclass(frozen=True)
class AppealTexts:
    appeal: str
    counter_notification: str
    routes: str

    def files(self) -> dict[str, str]:
        return dict(zip(FILES, (self.appeal, self.counter_notification, self.routes), strict=True))


def _day(ts) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%d %B %Y").lstrip("0")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _chance(p: float | None, floor: float | None) -> str | None:
    """p_link as a reviewer reads it: "on at most 1 in 170 comparable days"."""
    if p is None or pd.isna(p):
        return None
    days = round(1 / floor - 1) if floor else None
    one_in = max(1, round(1 / p)) if p > 0 else None
    if one_in is None:
        return None
    tail = f" (p = {p:.3f}, day-shift test over {days} days)" if days else f" (p = {p:.3f})"
    return f"notices followed the calls this closely on about 1 in {one_in} comparable days{tail}"


def _links(targets: list[str]) -> list[str]:
    return [target_url(t) or t for t in targets]


def appeal_text(d: PacketData, manifest_sha256: str | None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text for the platform's appeal form, at most ``max_chars`` characters.

    ``manifest_sha256``: the SHA-256 of the packet's manifest.json, cited so the reviewer can
    check the evidence is the one described; None inside the packet itself (a file cannot
    contain its own hash), where the text points to ``detector verify`` instead.
    """
    c = d.campaign
    linked = d.notices[d.notices["linked"]] if "linked" in d.notices else d.notices
    enforced = linked[linked["action"].isin(REMOVAL_LIKE)]
    hit = list(c.get("hit_targets") or [])
    urls = _links(hit)
    alarm = c.get("tier") in ("strong", "moderate")
    n_calls, n_chats = int(c.get("calls") or len(d.calls)), len(c.get("chats") or [])
    first_call, last_call = d.calls["posted_at"].min(), d.calls["posted_at"].max()
    policy = c.get("requested_policy")
    what = (f"We ask for a human review of the enforcement against {_plural(len(hit), 'item')} of our content"
            + (f" ({', '.join(urls[:3])}{' and others' if len(urls) > 3 else ''})" if urls else "") + ".")
    calls = (f"Between {_day(first_call)} and {_day(last_call)}, {_plural(n_calls, 'public post')} in "
             f"{_plural(n_chats, 'chat')} asked readers to report {'them' if len(hit) > 1 else 'it'}" + (f" for {policy.replace('_', ' ')}"
                                                                          if isinstance(policy, str) else "") + ".")
    timing = (f"{_plural(len(linked), 'notice')} arrived within {d.params.window_h} hours after those calls"
              + (f", {len(enforced)} of them removals, strikes or restrictions" if len(enforced) else "") + ".")
    chance = _chance(c.get("p_link"), c.get("p_link_floor"))
    stat = (f"A timing test shows this is unlikely to be chance: {chance}." if alarm and chance else None)
    claim = ("We believe these reports were organised and do not reflect a breach of your policies."
             if alarm else "We cannot show that these reports changed the outcome, but ask that the decision be "
                           "checked against the content itself.")
    cite = (f"Evidence packet (SHA-256 of its manifest): {manifest_sha256}." if manifest_sha256 else
            "Evidence packet: attached; its manifest's SHA-256 is printed by 'detector verify'.")
    # In order of importance; optional sentences go first when the form's limit is tight.
    required = [what, calls, timing, claim, cite]
    optional = [stat, "We can provide the original posts, their times and their sources on request."]
    sentences = [what, calls, timing, *[s for s in [stat] if s], claim, optional[1], cite]
    text = " ".join(sentences)
    for drop in reversed([s for s in optional if s]):
        if len(text) <= max_chars:
            break
        sentences.remove(drop)
        text = " ".join(sentences)
    if len(text) > max_chars:
        short = " ".join(required)
        if len(short) <= max_chars:
            return short
        raise DetectorError(f"the appeal needs at least {len(short)} characters and the limit is {max_chars}",
                            hint="raise --max-chars, or shorten it by hand from appeal.txt with a larger limit")
    return text


def counter_notification(d: PacketData) -> str:
    """A counter-notification draft (17 U.S.C. § 512(g)(3)) for the campaign's copyright removals.

    Lists the removed items whose notices cite copyright; the sender's identity, address,
    signature and sworn statements are placeholders for the user, never filled in.
    """
    notices = d.notices
    copyright_rows = notices[(notices["policy"] == "copyright") & notices["action"].isin(REMOVAL_LIKE)]
    head = ["COUNTER-NOTIFICATION DRAFT (copyright takedowns only)", ""]
    if copyright_rows.empty:
        head += ["None of this campaign's notices removed content for copyright. A counter-notification "
                 "applies only to copyright takedowns; use the appeal text (appeal.txt) instead.", ""]
    items = sorted(set(copyright_rows["target"]))
    lines = head + [
        "Fill every [bracketed] field yourself. Send it only if you believe in good faith that the material was "
        "removed by mistake or misidentification: a false counter-notification can make you liable. Consider "
        "legal advice first.", "",
        "To: the platform's copyright agent (see its copyright counter-notification form)", "",
        "1. Material removed and where it appeared before removal:"]
    lines += [f"   - {target_url(t) or t} (notice{'s' if (copyright_rows['target'] == t).sum() > 1 else ''} "
              f"received {', '.join(_day(x) for x in sorted(copyright_rows.loc[copyright_rows['target'] == t, 'received_at']))})"
              for t in items] or ["   - [URL of each removed item]"]
    lines += [
        "", "2. I swear, under penalty of perjury, that I have a good faith belief that the material identified "
            "above was removed or disabled as a result of mistake or misidentification of the material to be "
            "removed or disabled.",
        "", "3. I consent to the jurisdiction of the Federal District Court for the judicial district in which my "
            "address is located, or, if my address is outside the United States, for any judicial district in "
            "which the service provider may be found, and I will accept service of process from the person who "
            "provided the notification or an agent of such person.",
        "", "Name: [YOUR FULL LEGAL NAME]",
        "Address: [YOUR POSTAL ADDRESS]",
        "Telephone: [YOUR TELEPHONE NUMBER]",
        "E-mail: [YOUR E-MAIL ADDRESS]",
        "Signature: [YOUR PHYSICAL OR ELECTRONIC SIGNATURE]",
        "Date: [DATE]", ""]
    return "\n".join(lines)


def routes_text(d: PacketData) -> str:
    """The routes that remain after (or beside) the platform's appeal form."""
    c = d.campaign
    return "\n".join([
        f"ROUTES AFTER AN APPEAL (campaign {c['id']})", "",
        "1. The platform's internal complaint-handling system. Under the EU Digital Services Act (Art. 20), "
        "users in the EU can contest a removal, suspension or restriction for at least six months after being "
        "told of it, and the platform must decide with human involvement, not by automated means alone.",
        "",
        "2. Out-of-court dispute settlement (DSA Art. 21). If the complaint fails, a body certified by an EU "
        "member state's Digital Services Coordinator can review the platform's decision. It costs the user "
        "little or nothing and the platform must take part in good faith. The European Commission lists the "
        "certified bodies and the platforms each one covers.",
        "",
        "3. The statement of reasons. The platform must state the facts, the ground and whether automated "
        "means were used for each decision (DSA Art. 17). Ask for it if you did not get it; the EU DSA "
        "Transparency Database holds the platform's statements of reasons.",
        "",
        "4. Trusted flaggers and civil-society partners. Organisations in a platform's trusted-flagger or "
        "partner programmes can raise coordinated abuse of the reporting system directly.",
        "",
        "5. The press. Journalists can check this packet on their own: 'detector verify' recomputes its hashes, "
        "and every finding cites the rows behind it.",
        "",
        "Outside the EU, the DSA routes may not apply; the platform's own appeal and the press remain.", ""])


def appeal_texts(d: PacketData, manifest_sha256: str | None = None,
                 max_chars: int = DEFAULT_MAX_CHARS) -> AppealTexts:
    """The three texts for one campaign (see the module docstring)."""
    return AppealTexts(appeal=appeal_text(d, manifest_sha256, max_chars) + "\n",
                       counter_notification=counter_notification(d), routes=routes_text(d))
