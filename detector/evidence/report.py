"""The report of an evidence packet as a document model, rendered to HTML and to PDF.

:func:`build_report` turns :class:`~detector.evidence.data.PacketData` into sections of
paragraphs, lists, tables and figures. Both renderers walk the same model, so report.html and
report.pdf say the same thing. Every piece of text here is plain text: the HTML renderer
escapes it, the PDF renderer draws it as text, and links are only ever built by
:mod:`.data` from ids it has validated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from detector.evidence.data import PacketData, target_url
from detector.evidence.plots import network_png, timeline_png
from detector.features.explain import why_text
from detector.formatting import agree, count, decimal, duration, p_value, text
from detector.glossary import glossary
from detector.params import describe, format_value
from detector.vocab import ENFORCEMENT

REMOVAL_LIKE = ENFORCEMENT


@dataclass
class Cell:
    text: str
    href: str | None = None         # an external https link built from a validated id
    anchor: str | None = None       # this cell is the target of internal links (#anchor)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    widths: list[float]             # relative column widths (PDF)
    caption: str = ""
    small: bool = False


@dataclass
class Figure:
    name: str
    png: bytes
    caption: str
    width_mm: float = 170


@dataclass
class Para:
    text: str
    strong: str = ""                # a lead-in shown in bold


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]


# -- formatting helpers ------------------------------------------------------------------------
def utc(ts) -> str:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def local(ts, tz: str | None) -> str:
    if not tz or ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    t = pd.Timestamp(ts).tz_convert(tz)
    off = t.strftime("%z")
    return t.strftime("%Y-%m-%d %H:%M ") + f"UTC{off[:3]}:{off[3:]}"


def both(ts, tz: str | None) -> str:
    loc = local(ts, tz)
    return f"{utc(ts)} ({loc}, {tz})" if loc else utc(ts)


def pval(p, floor=None) -> str:
    return p_value(p, floor)


def num(x, digits: int = 1) -> str:
    return decimal(x, digits)


def hours(h) -> str:
    return duration(h)


def _s(v) -> str:
    """A value as text, with None and NaN as a dash."""
    return text(v)


def anchor_of(row_id: str, kind: str, index: dict[str, str]) -> str:
    """A short, safe anchor for a cited row (``n12``, ``p3``) — never the raw id."""
    if row_id not in index:
        index[row_id] = f"{kind}{len([k for k in index.values() if k.startswith(kind)]) + 1}"
    return index[row_id]


# -- the report --------------------------------------------------------------------------------
def build_report(d: PacketData) -> Report:
    c = d.campaign
    anchors: dict[str, str] = {}
    for pid in list(d.calls["post_id"]) + list(d.cited_posts["post_id"]):
        anchor_of(pid, "p", anchors)
    for nid in d.notices["notice_id"]:
        anchor_of(nid, "n", anchors)
    sections = [_summary(d), _glossary(d), _timeline(d), _findings(d, anchors), _calls(d, anchors), _links(d), _network(d),
                _methods(d), _notices(d, anchors)]
    if len(d.cited_posts):
        sections.append(_cited_posts(d, anchors))
    if len(d.alerts):
        sections.append(_alerts(d))
    if len(d.platform_context):
        sections.insert(next(i for i, s in enumerate(sections) if s.id == "methods"), _platform_context(d))
    subtitle = (f"Campaign {c['id']}, tier {c['tier']}: {utc(c['start'])} to {utc(c['end'])}. "
                f"Software {d.analysis.get('version') or 'unknown'}; analysis of {utc(d.analysis.get('analysed_at'))}.")
    return Report(title=f"Evidence of a coordinated reporting campaign ({c['id']})", subtitle=subtitle,
                  sections=sections)


def review_sentence(review: dict) -> str:
    """How many cited posts a person checked, and who ("12 of 14 … confirmed by A; 2 not reviewed")."""
    n = review.get("rows", 0)
    if not n:
        return "no posts to review."
    confirmed, unreviewed = review.get("confirmed", 0), review.get("unreviewed", 0)
    marked = review.get("marked", 0)
    who = ", ".join(review.get("reviewers") or [])
    if confirmed == 0 and not review.get("rejected") and not marked:
        return (f"none of the {n} posts this packet cites was reviewed by a person: each one is as the "
                f"classifier labelled it (machine-classified).")
    text = f"{confirmed} of the {n} posts this packet cites were confirmed by a person ({who})"
    if marked:
        text += (f"; {marked} {agree(marked, 'was', 'were')} marked as a call or claim of success by a person "
                 f"where the classifier had not counted {agree(marked, 'it', 'them')}")
    if review.get("rejected"):
        text += f"; {review['rejected']} rejected since the analysis"
    if unreviewed:
        text += f"; {unreviewed} were not reviewed and are marked machine-classified"
    return text + "."


def _platform_words(platforms) -> str:
    names = {"telegram": "Telegram", "whatsapp": "WhatsApp"}
    return " and ".join(names.get(p, p) for p in sorted(set(platforms)))


def _summary(d: PacketData) -> Section:
    c, calls, tz = d.campaign, d.calls, d.tz
    linked = d.notices[d.notices["linked"]]
    removal = linked[linked["action"].isin(REMOVAL_LIKE)]
    policy = f" under '{c['requested_policy']}'" if c.get("requested_policy") else ""
    kinds = sorted({t.split(":")[1] if t.count(":") >= 2 else "link" for t in c["targets"]})
    what = (f"Between {both(calls['posted_at'].min(), tz)} and {both(calls['posted_at'].max(), tz)}, "
            f"{count(len(calls), 'post')} in {count(calls['chat'].nunique(), _platform_words(calls['platform']) + ' chat')} "
            f"asked their readers to report {count(len(c['targets']), '/'.join(kinds) + ' target')}{policy}. Within "
            f"{d.params.window_h} hours after those calls, {count(len(linked), 'notice')} arrived on "
            f"{len(c['hit_targets'])} of those targets, {len(removal)} of them removals, strikes, restrictions or "
            f"suspensions.")
    shifts = c.get("p_link_floor")
    d_shifts = round(1 / shifts - 1) if shifts else None
    if c["p_link"] is None:
        link_txt = ("There were too few comparable days in the collected period to test whether the notices "
                    "follow the calls more closely than chance.")
    else:
        link_txt = (f"Timing test: p_link = {pval(c['p_link'], c.get('p_link_floor'))}. The same calls were "
                    f"moved to each of {d_shifts} other days, keeping their hour of the day; if the calls had no "
                    f"effect, notices would follow them as closely as they did on about that share of days. "
                    f"With {d_shifts} possible days, {pval(c.get('p_link_floor'))} is the smallest value this "
                    f"data can give.")
    burst_txt = (f"Burst test: p_burst = {pval(c['p_burst'])}, how often the channel's own hour-of-day and weekday "
                 f"rhythm would produce a pile-up of notices on these targets as large as the one after the calls, "
                 f"corrected for every time window examined.")
    tier_txt = {
        "strong": f"Tier strong: both tests are small (p_link ≤ {d.params.strong_link:g} and p_burst ≤ "
                  f"{d.params.strong_burst:g}) and at least two named targets, or a channel, were hit.",
        "moderate": f"Tier moderate: both tests are at or below {d.params.moderate:g}.",
        "weak": "Tier weak: the tests do not show that the calls changed anything.",
    }[c["tier"]]
    cannot = [
        "Who filed the complaints: platforms do not disclose reporters, so this shows timing and wording, "
        "not the identity of any reporter.",
        "Calls made where nothing was collected (private groups, other platforms, direct messages) cannot "
        "appear here, so the campaign may be larger than shown.",
        "Whether the platform's reviewers were right or wrong about each video: the packet shows that the "
        "enforcement followed organised calls, not the content's merits.",
        "Causation beyond statistics: small p-values say the coincidence is unlikely under the stated null "
        "models, not that every notice came from a call.",
    ]
    if d.redacted:
        cannot.append("Private people's names: authors in groups and complaint accounts appear as pseudonyms "
                      "(Person-…); the same person has the same pseudonym throughout this packet.")
    facts = Table(["measure", "value"], [[Cell(k), Cell(v)] for k, v in [
        ("campaign", f"{c['id']} (rank {c.get('rank', '')}, score {num(c.get('score'), 2)})"),
        ("tier", c["tier"]),
        ("calls / chats", f"{count(len(calls), 'call')} in {count(calls['chat'].nunique(), 'chat')}"),
        ("targets named / hit", f"{len(c['targets'])} / {len(c['hit_targets'])}"),
        (f"notices within {d.params.window_h} h of a call", str(len(linked))),
        ("removals, strikes, restrictions, suspensions", str(len(removal))),
        ("requested policy", c.get("requested_policy") or "none stated"),
        ("p_link (timing test)", pval(c["p_link"], c.get("p_link_floor"))),
        ("p_burst (burst test)", pval(c["p_burst"])),
        ("times shown", f"UTC, and {tz} where the table says so" if tz else "UTC"),
        ("human review", review_sentence(d.review)),
    ]], widths=[1.3, 2.7])
    blocks = [Para(what, "What happened. "), Para(tier_txt, "How strong. "), Bullets([link_txt, burst_txt]),
              Para(review_sentence(d.review) + (" Only posts an analyst confirmed or marked were counted in this "
                                                "analysis."
                                                if d.params.reviewed_only else ""), "Human review. "),
              facts, Para("", "What this packet cannot show."), Bullets(cannot)]
    return Section("summary", "Summary", blocks)


def _glossary(d: PacketData) -> Section:
    rows = [[Cell(t.name), Cell(t.meaning)] for t in glossary(d.params)]
    return Section("glossary", "Words and numbers used here", [
        Table(["term", "meaning"], rows, widths=[1, 6],
              caption="p-values are written with two significant figures, or '< 0.001'; lags in hours and minutes.")])


def timeline_figure(d: PacketData) -> Figure:
    """The campaign's timeline: notices per hour on its targets, the channel's other notices, the calls."""
    c = d.campaign
    start = min(pd.Timestamp(c["start"]), d.calls["posted_at"].min()) - pd.Timedelta(days=1)
    end = pd.Timestamp(c["end"]) + pd.Timedelta(days=1)
    named = d.named[(d.named["received_at"] >= start) & (d.named["received_at"] <= end)]
    other = d.context[(d.context["received_at"] >= start) & (d.context["received_at"] <= end)]
    letters = dict(zip(d.calls["chat"], d.calls["letter"], strict=True))
    png = timeline_png(named, other, d.calls, letters, start, end)
    caption = (f"Notices on the {count(len(c['targets']), 'named target')} (bars) and the same channel's other notices "
               f"(grey line), {utc(start)} to {utc(end)}; red lines and triangles mark the calls, by chat "
               f"letter (see the chat table).")
    return Figure("timeline", png, caption)


def network_figure(d: PacketData) -> Figure:
    """The campaign's chats and what ties them: near-duplicate texts, forwards, co-posting."""
    png = network_png(list(d.letters), d.letters, d.edges, d.calls.groupby("chat").size().to_dict(),
                      d.params.coposting_window_min)
    return Figure("network", png, "Chats of the campaign. Blue: calls whose texts are near-duplicates; red "
                                  "arrow: a call forwarded from one chat to another; green: chats that named "
                                  "the same target within 30 minutes of each other.")


def _timeline(d: PacketData) -> Section:
    return Section("timeline", "Timeline", [timeline_figure(d)])


def _findings(d: PacketData, anchors: dict[str, str]) -> Section:
    rows = []
    for f in d.findings.itertuples():
        cited = sorted((r for r in f.rows if r in anchors), key=lambda r: (anchors[r][0], int(anchors[r][1:])))
        shown = ", ".join(anchors[r] for r in cited[:20]) + (f" and {len(cited) - 20} more" if len(cited) > 20 else "")
        p = "" if f.p_value is None or (isinstance(f.p_value, float) and math.isnan(f.p_value)) else pval(f.p_value)
        rows.append([Cell(str(f.order)), Cell(f.kind), Cell(f.text), Cell(p),
                     Cell(count(len(f.rows), "row") + (f": {shown}" if shown else ""))])
    intro = Para("Each finding is one sentence with its numbers; the last column counts the rows it cites, by their "
                 "labels in the tables below and in the appendices (p = post, n = notice). findings.json lists "
                 "every cited row in full.")
    sweep = Table(["window", "notices within", "expected", "p-value"],
                  [[Cell(f"{int(s['window_h'])} h"), Cell(str(int(s["notices_within"]))),
                    Cell(num(s.get("expected_within"))), Cell(pval(s.get("p_value"), s.get("p_floor")))]
                   for s in d.sweep], widths=[1, 1, 1, 1.5],
                  caption="The timing test at every window from 6 hours to 7 days, so the result does not hinge "
                          "on the 48-hour window chosen in advance.")
    blocks = [intro, Table(["#", "kind", "finding", "p-value", "cites"], rows, widths=[0.3, 1.2, 4.7, 0.9, 1.6])]
    if d.sweep:
        blocks.append(sweep)
    return Section("findings", "Findings", blocks)


def _chat_label(letter, title) -> str:
    return f"{letter} · {title}" if letter else str(title)


def _post_rows(frame: pd.DataFrame, d: PacketData, anchors: dict[str, str]) -> list[list[Cell]]:
    titles = dict(zip(d.chats["chat"], d.chats["title"], strict=True))
    rows = []
    for p in frame.itertuples():
        when = utc(p.posted_at) + (f"\n{local(p.posted_at, d.tz)}" if d.tz else "")
        extra = []
        if isinstance(p.forwarded_shown, str) and p.forwarded_shown:
            extra.append(f"forwarded from {p.forwarded_shown}")
        if isinstance(getattr(p, "translation", None), str) and p.translation:
            extra.append(f"translation by {p.reviewer or 'the analyst'}: {p.translation}")
        link = Cell(p.permalink, href=p.permalink) if p.permalink else Cell("no public link")
        rows.append([Cell(anchors[p.post_id], anchor=anchors[p.post_id]), Cell(when),
                     Cell(_chat_label(p.letter if isinstance(p.letter, str) else "", titles.get(p.chat, p.chat_title))
                          + f"\n{p.platform}"),
                     Cell(p.author_shown or ""),
                     Cell(p.text_shown + ("\n[" + "; ".join(extra) + "]" if extra else "")),
                     link])
    return rows


_MARKED_AS = {"marked call": "a call", "marked boast": "a claim of success"}


def review_words(p) -> str:
    """Who decided what about a post, as the packet says it: "not reviewed (machine-classified)",
    "classified by the machine, confirmed by A, <time>", or "marked as a call by A, <time> (the
    classifier had classified it as other, p_call 0.23)"."""
    if p.review == "unreviewed" or not isinstance(p.review, str):
        return "not reviewed (machine-classified)"
    by = f" by {p.reviewer}, {utc(p.reviewed_at)}" if isinstance(p.reviewer, str) else ""
    machine = getattr(p, "machine_kind", None)
    p_call = getattr(p, "p_call", None)
    if p.review in _MARKED_AS:
        said = f"the classifier had classified it as {machine}" if isinstance(machine, str) else "the classifier"
        score = f", p_call {num(p_call, 2)}" if p_call is not None and not pd.isna(p_call) else ""
        return f"marked as {_MARKED_AS[p.review]}{by} ({said}{score})"
    if p.review == "confirmed":
        return f"classified by the machine, confirmed{by}"
    return f"{p.review}{by}"


def _review_cell(p) -> str:
    text = review_words(p)
    return text + (f"\nnote: {p.review_note}" if isinstance(p.review_note, str) and p.review_note else "")


def _calls(d: PacketData, anchors: dict[str, str]) -> Section:
    cols = ["#", "posted", "chat", "author", "text (original)", "link"]
    note = Para("The posts that asked people to report, with their original text as collected. Times in UTC "
                + (f"and in {d.tz}, the zone of the case. " if d.tz else ". ")
                + "A link is given only where a public one can be built: Telegram Desktop exports identify a "
                  "chat by a number (tg…) without its public username, and t.me/c/ links open only for members, "
                  "so those posts have no link rather than a wrong one; WhatsApp messages have no links. "
                  "Each post's source file and SHA-256 are in calls.csv and findings.json; report.html and calls.csv "
                  "hold each text exactly as collected.")
    meta = Table(["#", "post id", "language", "requested policy", "classifier confidence", "targets named",
                  "human review"],
                 [[Cell(anchors[p.post_id]), Cell(p.post_id), Cell(_s(p.language)),
                   Cell(_s(p.requested_policy)), Cell(num(p.confidence, 2)), Cell("\n".join(p.targets)),
                   Cell(_review_cell(p))]
                  for p in d.calls.itertuples()], widths=[0.5, 1.8, 0.7, 1.1, 0.8, 2.0, 1.2], small=True)
    why = Table(["#", "why the classifier counts it as a call: its cue words, with English meanings"],
                [[Cell(anchors[p.post_id]), Cell((f"{review_words(p)}. " if p.review in _MARKED_AS else "")
                                                  + why_text(p.text))] for p in d.calls.itertuples()],
                widths=[0.5, 7.6], small=True,
                caption="Cue words come from the project's multilingual lexicon and its English glosses (dictionary "
                        "meanings, not a translation of the post); the model also weighs letter and word sequences. "
                        "An analyst's own translation, where given, is shown under the post's text.")
    return Section("calls", "The calls to report", [
        note, Table(cols, _post_rows(d.calls, d, anchors), widths=[0.55, 1.35, 1.4, 1.1, 4.15, 1.1]), meta, why])


def _cited_posts(d: PacketData, anchors: dict[str, str]) -> Section:
    cols = ["#", "posted", "chat", "author", "text (original)", "link"]
    return Section("cited-posts", "Appendix B: other posts the findings cite", [
        Para("Later posts in the same chats that the findings cite (for example, claims that the videos were "
             "removed)."),
        Table(cols, _post_rows(d.cited_posts, d, anchors), widths=[0.55, 1.35, 1.4, 1.1, 4.15, 1.1], small=True)])


def _alerts(d: PacketData) -> Section:
    reasons = {"names_subject": "a call named a watched video or channel",
               "copy_in_new_chat": "a near-copy of a known call in a new chat"}
    rows = [[Cell(utc(a.alerted_at)), Cell(reasons.get(a.reason, str(a.reason))), Cell(str(a.chat_title or a.chat)),
             Cell(utc(a.posted_at)), Cell(text(a.text)),
             Cell("no notice after it" if pd.isna(a.lead_h) else f"{duration(a.lead_h)} before the first notice"),
             Cell(a.permalink, href=a.permalink) if isinstance(a.permalink, str) and a.permalink.startswith(
                 "https://t.me/") else Cell("")] for a in d.alerts.itertuples()]
    return Section("alerts", "Appendix C: early warnings raised before the notices", [
        Para("Alerts that detector watch raised while following public channels, on posts naming this campaign's "
             "targets (or copying a call that did), with how long before the first notice on a target they came. "
             "They were recorded in the case when raised, so they show the calls were seen as they appeared."),
        Table(["alerted", "why", "chat", "posted", "text (original)", "lead", "link"], rows,
              widths=[1.2, 1.4, 1.1, 1.2, 3.0, 1.2, 1.0], small=True)])


def _notices(d: PacketData, anchors: dict[str, str]) -> Section:
    rows = []
    for n in d.notices.itertuples():
        url = target_url(n.target)
        title = n.target_title if isinstance(n.target_title, str) else ""
        rows.append([Cell(anchors[n.notice_id], anchor=anchors[n.notice_id]),
                     Cell(utc(n.received_at) + (f"\n{local(n.received_at, d.tz)}" if d.tz else "")),
                     Cell(n.action), Cell(n.policy + (f"\n({n.policy_raw})" if isinstance(n.policy_raw, str)
                                                       and n.policy_raw and n.policy_raw != n.policy else "")),
                     Cell(n.target + (f"\n{title}" if title else ""), href=url),
                     Cell(hours(n.lag_h)), Cell("yes" if n.linked else "cited")])
    linked = int(d.notices["linked"].sum())
    return Section("notices", "Appendix A: the notices", [
        Para(f"{count(linked, 'notice')} arrived within {d.params.window_h} h after a call naming their target ('yes'); "
             f"other notices the findings cite (reinstatements, suspensions) are marked 'cited'. 'After call' is "
             f"the time since the latest call naming the target. notices.csv has every column, with source file "
             f"and line."),
        Table(["#", "received", "action", "policy", "target", "after call", "linked"], rows,
              widths=[0.5, 1.5, 0.9, 1.4, 3.2, 0.8, 0.6], small=True)])


def _links(d: PacketData) -> Section:
    rows = []
    for r in d.links.itertuples():
        rows.append([Cell(r.target, href=target_url(r.target)), Cell(str(int(r.calls))),
                     Cell(f"{int(r.notices_within)} of {int(r.notices_total)}"), Cell(num(r.expected_within)),
                     Cell(hours(r.median_lag_h)), Cell(pval(None if r.insufficient else r.p_value, r.p_floor)),
                     Cell(pval(r.q_value) if not r.insufficient else "")])
    return Section("links", "Per-target timing tests", [
        Para(f"The timing test for each named target alone: notices within {d.params.window_h} h after a call naming "
             f"it, against the number expected when the calls are moved to other days. q is the p-value adjusted "
             f"for testing many targets (Benjamini–Hochberg). With one target the smallest attainable p-value is "
             f"limited by the number of days, so single targets are weaker evidence than the campaign as a whole."),
        Table(["target", "calls", f"within {d.params.window_h} h", "expected", "median lag", "p", "q"], rows,
              widths=[2.6, 0.6, 1.1, 0.8, 0.9, 1.4, 0.8], small=True)])


def _network(d: PacketData) -> Section:
    table = Table(["chat", "name", "platform", "role", "calls", "first call", "public page"],
                  [[Cell(r.letter), Cell(str(r.title)), Cell(r.platform), Cell(r.role), Cell(str(r.calls)),
                    Cell(utc(r.first_call)), Cell(r.public_url or "", href=r.public_url)]
                   for r in d.chats.itertuples()], widths=[0.5, 2.2, 0.8, 1.6, 0.5, 1.4, 1.4], small=True)
    blocks = [network_figure(d), table]
    if len(d.clusters):
        rows = [[Cell(str(r.cluster_id)), Cell(utc(r.posted_at)), Cell(_chat_label(r.letter if isinstance(
            r.letter, str) else "", r.title)), Cell(str(r.post_id)), Cell("first" if r.is_first else ""),
                 Cell("yes" if r.in_campaign else "no")] for r in d.clusters.itertuples()]
        blocks += [Para("Copy clusters: groups of posts whose texts are near-duplicates of each other (Jaccard "
                        "similarity of character shingles; MinHash to find candidates, exact similarity to "
                        "confirm)."),
                   Table(["cluster", "posted", "chat", "post id", "", "in this campaign"], rows,
                         widths=[2.1, 1.3, 1.6, 2.1, 0.5, 0.9], small=True)]
    if len(d.pairs):
        rows = [[Cell(r.post_a), Cell(r.post_b), Cell(num(r.similarity, 2)), Cell(hours(r.lag_seconds / 3600))]
                for r in d.pairs.itertuples()]
        blocks.append(Table(["post", "near-duplicate of", "similarity", "time apart"], rows,
                            widths=[2.4, 2.4, 0.8, 0.8], small=True))
    return Section("network", "Copies, forwards and co-posting", blocks)


def _methods(d: PacketData) -> Section:
    a = d.analysis
    P = d.params
    replicates, threshold = P.campaign_replicates, P.copy_threshold
    widths = ", ".join(str(w) for w in P.scan_widths_h)
    sweep = ", ".join(str(w) for w in P.sweep_windows_h)
    items = [
        ("Calls to report", "posts are classified as calls by a character and word n-gram model with a "
                            "multilingual lexicon (English, Russian, Chinese, Kazakh, Uyghur cues), trained on "
                            "written and real public posts"
                            + ("; where it sees a call or a success claim, its probabilities are averaged with "
                               "those of a multilingual transformer (multilingual-e5-small) fine-tuned on the "
                               "same posts" if P.call_encoder else "") + "; a post that names no reporting is "
                            "never a call, nor one that only quotes or reports someone else's call; targets are the video and channel links they contain, "
                            "mapped to canonical ids, and a channel's @handle, /c/ name and UC… id are one target "
                            "when the case knows them to be one channel (an alias the user gave, or a notice that "
                            "names both). A post counts as a claim of success only when it says something was "
                            "removed, blocked or struck and names a target or follows a call in its chat."),
        ("Reaction or cause", f"a call posted after enforcement on its target had begun is treated as a reaction "
                              f"(supporters, news and gloating name videos because they were removed): its target "
                              f"was removed, restricted or suspended in the {P.reaction_lookback_h} h "
                              f"before it, or had at least {P.min_alarm_notices} notices in the {d.params.window_h} h "
                              f"before it and {P.reaction_ratio:g} times its own average rate. Reactions are left "
                              f"out of both tests; a campaign whose calls are all reactions is never strong or "
                              f"moderate. A Telegram forward collected live carries its original's date and is "
                              f"dated by it when that is earlier (a late copy of an earlier call). Each campaign also reports the notices in the {d.params.window_h} h before "
                              f"and after its first call and the window before that (a pre-trend check)."),
        ("Human review", "an analyst may confirm or reject each call and cited post before a packet is built, "
                         "and mark any collected post the classifier missed as a call or claim of success "
                         "(detector review, or the app's campaign page); decisions are stored in the case with "
                         "who and when. A rejected post counts as neither call nor claim of success in the next "
                         "analysis, a marked one as what it was marked" +
                         ("; this analysis counted only confirmed and marked posts" if P.reviewed_only else
                                       "; posts nobody reviewed count as the classifier labelled them and are "
                                       "marked machine-classified") + "."),
        ("Campaign", f"calls are joined when they name a common target within {P.group_gap_days} days of each other "
                     f"or are near-duplicate copies (Jaccard ≥ {threshold})."),
        ("Timing test (p_link)", f"counts notices that arrive within {d.params.window_h} h after a call naming their "
                                 f"target. Null model: a day-shift permutation — all calls are moved together by "
                                 f"whole days to every other day where they stay inside the observation period "
                                 f"(and after the videos were published), which keeps each call's hour of the day; "
                                 f"p = (1 + shifts scoring at least as high) / (shifts + 1), so the smallest "
                                 f"attainable p is 1 / (shifts + 1). Windows swept: {sweep} h. Per-target p-values "
                                 f"are adjusted by Benjamini–Hochberg."),
        ("Burst test (p_burst)", f"Kulldorff's Poisson scan statistic over hourly counts of the named targets' "
                                 f"notices, against the channel's own hour-of-day and weekday cycle (robust to "
                                 f"earlier bursts; times views per day where supplied), scanning windows of "
                                 f"{widths} h that start between the first call and {d.params.window_h} h after the "
                                 f"last; Monte Carlo with {replicates} replicates, so it is corrected for every "
                                 f"window scanned."),
        ("Tiers", f"strong: p_link ≤ {P.strong_link:g} and p_burst ≤ {P.strong_burst:g} with at least two named targets "
                  f"(or a channel) hit; moderate: both ≤ {P.moderate:g}, resting on more than one call or more than "
                  f"one target hit (one post before one burst cannot be told from a post and a burst that share a "
                  f"cause); either needs at least {P.min_alarm_notices} "
                  f"notices within {d.params.window_h} h after calls that were not reactions; otherwise weak."),
        ("Analysis", f"software version {a.get('version') or 'unknown'}, seed {a.get('seed')}, observation period "
                     f"{utc(a.get('period_start'))} to {utc(a.get('period_end'))}, analysed "
                     f"{utc(a.get('analysed_at'))}. The same case, version and seed give the same numbers."),
        ("Times", "every time is stored in UTC. " + (f"Local times are shown in {d.tz}, the case's zone. " if d.tz
                                                      else "") + "Phone-local times (WhatsApp) were read in the "
                  "zone listed for their source below."),
        ("Text", "message texts are shown as collected" + (", except that phone numbers (national and "
                                                           "international formats) are replaced by "
                                                           "'[phone number removed]'" if d.redacted else "")
                 + ". The PDF draws them in DejaVu Sans with Noto fonts for Chinese, Arabic script and emoji, "
                   "shaping Arabic-script text (Uyghur) right to left; a character no font has is marked by a "
                   "replacement sign and counted in a warning when the packet is built. report.html and the CSV "
                   "files hold the exact text."),
        ("Privacy", ("authors in groups, WhatsApp authors and complaint accounts appear as pseudonyms "
                     "(Person- and eight hexadecimal digits of an HMAC-SHA-256 keyed by the case), and so do "
                     "chats with one private person; public channels and group chats keep their names." if d.redacted else
                     "this packet was built with --no-redact: authors' names are shown as collected.")),
        ("Integrity", "manifest.json lists the SHA-256 of every other file in this packet. Check it with "
                      "'detector verify PACKET.zip', or compute each file's SHA-256 (sha256sum, certutil "
                      "-hashfile FILE SHA256) and compare. Each source file's SHA-256 below identifies the exact "
                      "input the analysis read."),
    ]
    src_rows = [[Cell(r.name), Cell(r.kind), Cell(r.sha256), Cell(utc(r.ingested_at)), Cell(str(r.rows)),
                 Cell(_s(r.tz))] for r in d.sources.itertuples()]
    param_rows = [[Cell(r["name"]), Cell(format_value(r["value"], r["unit"])), Cell(r["doc"])]
                  for r in describe(P)]
    return Section("methods", "Method and sources", [
        Bullets([f"{k}: {v}" for k, v in items]),
        Table(["parameter", "value", "what it does"], param_rows, widths=[1.6, 1.2, 4.4], small=True,
              caption="Every parameter of the analysis behind this packet, with the value it ran with."),
        Table(["file", "kind", "SHA-256", "ingested", "rows", "zone"], src_rows,
              widths=[2.0, 1.0, 3.5, 1.3, 0.6, 0.8], small=True,
              caption="Data sources: the input files this packet cites rows from, with their SHA-256 and when "
                      "they were ingested" + (" (names of private people in file names as pseudonyms)."
                                              if d.redacted else "."))])


def _platform_context(d: PacketData) -> Section:
    """What the platform did on the campaign's days, from the EU DSA Transparency Database."""
    def pct(x):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"
    rows, dumps = [], {}
    for r in d.platform_context.to_dict("records"):
        rows.append([Cell(f"{r['window_start']} to {r['window_end']}"),
                     Cell(", ".join(c.replace("STATEMENT_CATEGORY_", "").lower().replace("_", " ")
                                    for c in r["categories"])),
                     Cell(f"{num(r['notice_per_day_in'])} ({num(r['notice_per_day_usual'])})"),
                     Cell(f"{num(r['own_per_day_in'])} ({num(r['own_per_day_usual'])})"),
                     Cell(f"{pct(r['notice_share_in'])} ({pct(r['notice_share_usual'])})"),
                     Cell(pval(r["p_notice_shift"])),
                     Cell(f"{pct(r['automated_share_in'])} ({pct(r['automated_share_usual'])})"),
                     Cell(f"{pct(r['old_content_share_in'])} ({pct(r['old_content_share_usual'])})"),
                     Cell(r["verdict"]), Cell(str(int(r["candidate_count"])))])
        for dump in r["dumps"] or []:
            dumps[dump["name"]] = dump["sha1"]
    first = d.platform_context.iloc[0]
    return Section("platform-context", "Platform context (EU DSA Transparency Database)", [
        Para("Every statement of reasons the platform sent to the EU Digital Services Act Transparency Database "
             "on the days of this campaign's bursts, in the categories that match the reported policy, against "
             f"the {first['parameters'].get('baseline_days', '')} days before them (in brackets). Notice-driven "
             "decisions answer user notices (Article 16), trusted flaggers or other notifications; own-initiative "
             "decisions are the platform's own. p tests whether the notice share rose (one-sided binomial). "
             "Candidates match platform, date and category only: none is claimed to be the statement for a "
             "particular removal, because no field of the database was shown to name the removed item."),
        Table(["days", "categories", "notice-driven / day", "own-initiative / day", "notice share", "p",
               "fully automated", "old content", "verdict", "candidates"], rows,
              widths=[1.4, 2.0, 0.9, 0.9, 0.8, 0.7, 0.8, 0.8, 1.1, 0.7], small=True),
        Para(f"Computed with {first['engine']} from {len(dumps)} daily dump file(s) of the database (DOI "
             "10.2906/134353607485211, European Commission, CC BY 4.0):", strong="Sources. "),
        Bullets([f"{name}: SHA-1 {sha1}" for name, sha1 in sorted(dumps.items())][:60]
                + ([f"... and {len(dumps) - 60} more"] if len(dumps) > 60 else [])),
    ])

