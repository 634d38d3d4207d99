"""What an evidence packet holds, read from an analysed case: one campaign and every row it cites.

:func:`packet_data` gathers the campaign, its calls, the notices, the per-target link tests,
copy clusters, the chat network and the sources, with private names already replaced by
pseudonyms (:mod:`.redact`), so nothing downstream (report, CSV, JSON) can leak one by mistake.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

import pandas as pd

from detector.evidence.redact import Pseudonyms, mask_phones, phone_regions, private_chats, pseudonym_key
from detector.findings import rendered
from detector.params import DEFAULTS, Parameters
from detector.results import calls_before_notices, campaign_edges, campaign_rows, chat_titles, target_alerts
from detector.review import review_summary
from detector.store import Case

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_YT_VIDEO = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YT_CHANNEL = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_YT_HANDLE = re.compile(r"^[A-Za-z0-9_.-]{3,30}$")


@dataclass
class PacketData:
    """One campaign of one case, ready to write (all times UTC, names already redacted)."""

    campaign: dict                  # campaign_list() entry, findings text redacted
    findings: pd.DataFrame          # order, kind, text, p_value, rows (list)
    calls: pd.DataFrame             # the campaign's calls, one row each, with chat letter and permalink
    cited_posts: pd.DataFrame       # other posts the findings cite (boasts, …)
    notices: pd.DataFrame           # linked notices and other cited notices, with ``linked`` and ``lag_h``
    named: pd.DataFrame             # every notice on the named targets around the campaign (timeline)
    context: pd.DataFrame           # the subject's other notices around the campaign (timeline)
    links: pd.DataFrame             # per-target link tests of the campaign's targets
    clusters: pd.DataFrame          # copy clusters touching the campaign (members, similarity)
    pairs: pd.DataFrame             # near-duplicate pairs among the campaign's calls
    chats: pd.DataFrame             # letter, chat, title, platform, role, calls, first_call, public_url
    edges: pd.DataFrame             # network edges: a, b, kind, weight (a, b: keys of ``letters``)
    letters: dict[str, str]         # network node (chat key or forward origin) -> letter, in letter order
    sources: pd.DataFrame           # the sources it cites: name (redacted), kind, sha256, ingested_at, rows, tz
    tz: str | None                  # the case's zone for local times
    analysis: dict                  # version, seed, period_start, period_end, analysed_at
    redacted: bool
    sweep: list[dict] = field(default_factory=list)
    params: Parameters = DEFAULTS   # the parameters the analysis ran with
    review: dict = field(default_factory=dict)  # detector.review.review_summary of the calls and cited posts
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)  # detector watch alerts on the targets, with lead_h
    platform_context: pd.DataFrame = field(default_factory=pd.DataFrame)  # detector dsa context rows in the campaign


def file_name(name: object) -> str:
    """The last component of a name that might be a path (POSIX or Windows): never a local path."""
    text = str(name or "")
    return PureWindowsPath(PurePosixPath(text).name).name or "unnamed"


def target_url(target: str) -> str | None:
    """A public URL built from a canonical target id, or None when none can be built safely.

    Only ids whose parts match the platform's own id syntax become links, so a hostile
    ``url:javascript:…`` target can never turn into a clickable link.
    """
    kind, _, ident = str(target).partition(":")
    if kind == "youtube":
        sub, _, value = ident.partition(":")
        if sub == "video" and _YT_VIDEO.match(value):
            return f"https://www.youtube.com/watch?v={value}"
        if sub == "channel" and _YT_CHANNEL.match(value):
            return f"https://www.youtube.com/channel/{value}"
        if sub == "handle" and _YT_HANDLE.match(value):
            return f"https://www.youtube.com/@{value}"
    if kind == "telegram":
        sub, _, value = ident.partition(":")
        if sub == "channel" and _USERNAME.match(value):
            return f"https://t.me/{value}"
    return None


def _usernames(sources: pd.DataFrame) -> dict[str, str]:
    """Chat key -> public username, from live collections (Desktop exports never carry one)."""
    out = {}
    for detail in sources["detail"].dropna():
        try:
            d = json.loads(detail)
        except (TypeError, ValueError):
            continue
        if isinstance(d, dict) and d.get("chat") and d.get("username") and _USERNAME.match(str(d["username"])):
            out[str(d["chat"])] = str(d["username"])
    return out


def permalink(platform: str, chat: str, message_id: object, usernames: dict[str, str]) -> str | None:
    """``https://t.me/<username>/<id>`` for a public Telegram channel whose username is known.

    A Desktop export keys chats as ``tg<id>`` and never records the username, and a
    ``t.me/c/<id>/<msg>`` link opens only for members, so such posts get no link rather than a
    wrong one. WhatsApp messages have no links at all.
    """
    if platform != "telegram" or message_id is None or not str(message_id).isdigit():
        return None
    user = usernames.get(str(chat))
    if user is None and str(chat).startswith("tg@") and _USERNAME.match(str(chat)[3:]):
        user = str(chat)[3:]
    return f"https://t.me/{user}/{int(str(message_id))}" if user else None


def _letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        s, k = "", i
        while True:
            s = chr(ord("A") + k % 26) + s
            k = k // 26 - 1
            if k < 0:
                break
        out.append(s)
    return out


def packet_data(case: Case, campaign_id: str, redact: bool = True,
                phone_regions_hint: str | list[str] | None = None) -> PacketData:
    """Gather everything the packet of ``campaign_id`` shows or cites.

    ``phone_regions_hint``: the regions whose national phone formats are masked when redacting
    (ISO codes; default :data:`~detector.evidence.redact.DEFAULT_PHONE_REGIONS`).

    Raises
    ------
    DetectorError
        when the case is not analysed or has no such campaign.
    """
    rows = campaign_rows(case, campaign_id)
    camp = rows.campaign
    posts, notices, sources, params = rows.posts, rows.notices, rows.sources, rows.params
    regions = phone_regions(phone_regions_hint)
    names = Pseudonyms(pseudonym_key(sources, posts, notices), enabled=redact, regions=regions)
    renamed = _chat_renames(posts, sources, names) if redact else {}
    if renamed:
        posts, rows = _rename_chats(posts, rows, camp, renamed)
    usernames = _usernames(sources)
    public = set(posts["chat_title"].dropna().astype(str)) | set(posts["chat"].dropna().astype(str))
    public |= set(usernames.values())
    source_names = {r.source_id: (names.file_name(file_name(r.name), renamed), r.sha256) for r in sources.itertuples()}
    cited = {str(r) for ids in rows.findings["rows"] for r in ids}

    call_ids = list(camp["call_post_ids"])
    calls, other_posts = _campaign_posts(posts, rows.calls, call_ids, cited)
    titles = chat_titles(posts)
    chats, letters, display_key = _chat_table(calls, posts, titles, names, public, usernames)
    view = _PostView(names, public, letters, usernames, source_names)
    view.private.update(renamed)
    calls, other_posts = view(calls), view(other_posts)
    calls["targets"] = calls["targets"].map(lambda t: sorted(t) if isinstance(t, list) else [])
    shown = _shown_notices(camp, notices, cited, calls, params, names, source_names)
    context, named_all = _timeline_context(camp, notices)
    links, pairs, clusters = _campaign_tables(rows, camp, call_ids, letters, titles)

    ties = campaign_edges(calls, pairs, titles, f"{params.coposting_window_min}min")
    ties = ties[ties["a"].isin(display_key) & ties["b"].isin(display_key)]
    edges = ties.groupby(["a", "b", "kind"], as_index=False, sort=True)["weight"].sum()

    # Findings rendered from their records with private names as pseudonyms (fields, not substrings).
    def shown_name(raw: str) -> str:
        return names.text(view.private.get(raw) or names.origin(raw, public) or raw)

    findings = rendered(rows.stored_findings, campaign_id, names=shown_name)
    camp["findings"] = list(findings["text"])
    cited_sources = set(calls["source_id"]) | set(other_posts["source_id"]) | set(shown["source_id"])
    for frame, cols in ((shown, ("subject", "target_title")), (named_all, ("subject", "target_title")),
                        (context, ("subject", "target_title"))):
        for col in cols:
            frame[col] = frame[col].map(lambda v: names.text(v) if isinstance(v, str) else v)
    analysis = {k: rows.record.get(k) for k in ("version", "seed", "period_start", "period_end", "analysed_at")}
    alerts = _early_warnings(target_alerts(case, set(camp["targets"])), notices, names)
    return PacketData(campaign=camp, findings=findings, calls=calls, cited_posts=other_posts, notices=shown,
                      named=named_all, context=context, links=links, clusters=clusters, pairs=pairs,
                      chats=chats, edges=edges, letters=letters,
                      sources=_sources_table(sources, cited_sources, source_names),
                      tz=rows.tz, analysis=analysis, redacted=redact, sweep=rows.sweep, params=params,
                      review=review_summary(pd.concat([calls, other_posts], ignore_index=True)), alerts=alerts,
                      platform_context=_platform_context(case, camp))


def _early_warnings(alerts: pd.DataFrame, notices: pd.DataFrame, names: Pseudonyms) -> pd.DataFrame:
    """The watch alerts on the campaign's targets, each with how long before the first notice on a
    target it names it came (``lead_h``; NaN when no notice followed), texts redacted."""
    if alerts.empty:
        return alerts
    out = alerts.copy()
    lead = []
    for a in out.itertuples():
        later = notices[notices["target"].isin(set(a.targets or [])) & (notices["received_at"] > a.alerted_at)]
        first = later["received_at"].min() if len(later) else None
        lead.append((first - a.alerted_at).total_seconds() / 3600 if first is not None else float("nan"))
    out["lead_h"] = lead
    for col in ("text", "chat_title"):
        out[col] = out[col].map(lambda t: names.text(t) if isinstance(t, str) else t)
    return out.reset_index(drop=True)


def _platform_context(case: Case, camp: dict) -> pd.DataFrame:
    """``detector dsa context`` rows overlapping the campaign (empty when it was never run)."""
    from detector.results import platform_context

    return platform_context(case, camp["start"], camp["end"])


def _campaign_posts(posts: pd.DataFrame, derived_calls: pd.DataFrame, call_ids: list[str], cited: set[str]
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The campaign's calls, and the other posts its findings cite (boasts), with what the analysis saw."""
    call_cols = ["post_id", "kind", "machine_kind", "confidence", "p_call", "requested_policy", "language",
                 *REVIEW_FIELDS, "targets"]
    # analyses made before reviews existed have no review columns: every post is then unreviewed
    derived_calls = derived_calls.reindex(columns=list(dict.fromkeys([*derived_calls.columns, *call_cols])))
    derived_calls["review"] = derived_calls["review"].fillna("unreviewed")
    # nor, before posts could be marked, the machine's kind: it was then the kind
    derived_calls["machine_kind"] = derived_calls["machine_kind"].fillna(derived_calls["kind"])
    calls = posts[posts["post_id"].isin(call_ids)].drop(columns=["targets"]).merge(
        derived_calls[call_cols], on="post_id", how="left")
    calls = calls.sort_values(["posted_at", "post_id"], kind="stable").reset_index(drop=True)
    other_posts = posts[posts["post_id"].isin(cited - set(call_ids))].merge(
        derived_calls[call_cols[:-1]], on="post_id", how="left")
    other_posts["review"] = other_posts["review"].fillna("unreviewed")
    other_posts = other_posts.sort_values(["posted_at", "post_id"], kind="stable").reset_index(drop=True)
    return calls, other_posts


REVIEW_FIELDS = ("review", "reviewer", "reviewed_at", "review_note", "translation")


def _chat_table(calls: pd.DataFrame, posts: pd.DataFrame, titles: dict, names: Pseudonyms, public: set[str],
                usernames: dict) -> tuple[pd.DataFrame, dict, dict]:
    """The campaign's chats by first call, then forward origins that are not among them, lettered."""
    by_title: dict[str, list[str]] = {}
    for chat, title in titles.items():
        by_title.setdefault(title, []).append(chat)
    # a forward names its origin by title: a chat id when exactly one chat has that title
    title_to_chat = {title: chats[0] for title, chats in by_title.items() if len(chats) == 1}
    first = calls.groupby("chat")["posted_at"].min().sort_values(kind="stable")
    chat_order = list(first.index)
    origins = []
    for origin in calls["forwarded_from"].dropna().astype(str):
        key = title_to_chat.get(origin, origin)
        if key not in chat_order and key not in origins:
            origins.append(key)
    all_chats = chat_order + sorted(origins)
    letters = dict(zip(all_chats, _letters(len(all_chats)), strict=True))
    platforms = posts.groupby("chat")["platform"].first().to_dict()
    calls_per_chat = calls.groupby("chat").size().to_dict()
    chat_rows = []
    for c in all_chats:
        known = c in platforms
        title = titles.get(c, c) if known else names.origin(c, public)
        user = usernames.get(c)
        chat_rows.append({"letter": letters[c], "chat": c if known else title, "title": title,
                          "platform": platforms.get(c, "unknown"),
                          "role": "posted calls" if c in calls_per_chat else "origin of a forwarded call",
                          "calls": int(calls_per_chat.get(c, 0)),
                          "first_call": first.get(c), "public_url": f"https://t.me/{user}" if user else None})
    chats = pd.DataFrame(chat_rows, columns=["letter", "chat", "title", "platform", "role", "calls", "first_call",
                                             "public_url"])
    display_key = {c: r["chat"] for c, r in zip(all_chats, chat_rows, strict=True)}
    return chats, letters, display_key


class _PostView:
    """Posts as the packet shows them: names as pseudonyms, letters, permalinks, source files.

    Remembers every private name it replaced (``private``), so findings can show the same pseudonym.
    """

    def __init__(self, names: Pseudonyms, public: set[str], letters: dict, usernames: dict, source_names: dict):
        self.names, self.public, self.letters = names, public, letters
        self.usernames, self.source_names = usernames, source_names
        self.private: dict[str, str] = {}

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        names, public, source_names = self.names, self.public, self.source_names
        out = frame.copy()
        out["author_shown"] = [names.author(a, p, t, public) for a, p, t in
                               zip(out["author"], out["platform"], out["chat_title"], strict=True)]
        out["forwarded_shown"] = [names.origin(f, public) for f in out["forwarded_from"]]
        for raw, shown in list(zip(out["author"], out["author_shown"], strict=True)) + list(
                zip(out["forwarded_from"], out["forwarded_shown"], strict=True)):
            if isinstance(raw, str) and shown and raw != shown:
                self.private[raw] = shown
        out["text_shown"] = [names.text(t) for t in out["text"]]
        out["letter"] = out["chat"].map(self.letters)
        out["permalink"] = [permalink(p, c, m, self.usernames) for p, c, m in
                            zip(out["platform"], out["chat"], out["message_id"], strict=True)]
        out["source_file"] = out["source_id"].map(lambda s: source_names.get(s, ("", ""))[0])
        out["source_sha256"] = out["source_id"].map(lambda s: source_names.get(s, ("", ""))[1])
        return out


def _shown_notices(camp: dict, notices: pd.DataFrame, cited: set[str], calls: pd.DataFrame, params,
                   names: Pseudonyms, source_names: dict) -> pd.DataFrame:
    """The notices linked to the calls, then any other the findings cite, with lags and sources."""
    linked = set(camp["notice_ids"])
    wanted = linked | (cited & set(notices["notice_id"]))
    shown = notices[notices["notice_id"].isin(wanted)].sort_values(["received_at", "notice_id"], kind="stable")
    shown = shown.reset_index(drop=True)
    shown["linked"] = shown["notice_id"].isin(linked)
    _, shown["lag_h"] = calls_before_notices(shown, calls, pd.Timedelta(days=params.check_lookback_days))
    shown["reporter_shown"] = [names.person(r) for r in shown["reporter_id"]]
    shown["source_file"] = shown["source_id"].map(lambda s: source_names.get(s, ("", ""))[0])
    shown["source_sha256"] = shown["source_id"].map(lambda s: source_names.get(s, ("", ""))[1])
    return shown


def _timeline_context(camp: dict, notices: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subject's other notices, and the named targets' own, a few days around the campaign."""
    start, end = pd.Timestamp(camp["start"]), pd.Timestamp(camp["end"])
    subjects = set(notices.loc[notices["target"].isin(camp["targets"]), "subject"].dropna())
    lo, hi = start - pd.Timedelta(days=3), end + pd.Timedelta(days=3)
    context = notices[notices["subject"].isin(subjects) & ~notices["target"].isin(camp["targets"])
                      & (notices["received_at"] >= lo) & (notices["received_at"] <= hi)]
    named_all = notices[notices["target"].isin(camp["targets"]) & (notices["received_at"] >= lo)
                        & (notices["received_at"] <= hi)]
    return context, named_all


def _campaign_tables(rows, camp: dict, call_ids: list[str], letters: dict, titles: dict):
    """The campaign's per-target link tests, near-duplicate pairs and copy clusters."""
    links = rows.links
    if len(links):
        links = links[(links["basis"] == "call") & links["target"].isin(camp["targets"])]
        links = links.sort_values("target").reset_index(drop=True)
    pairs = rows.pairs
    if len(pairs):
        pairs = pairs[pairs["post_a"].isin(call_ids) & pairs["post_b"].isin(call_ids)]
        pairs = pairs.sort_values(["similarity", "post_a", "post_b"], ascending=[False, True, True]).reset_index(drop=True)
    clusters = rows.clusters
    if len(clusters):
        touching = set(clusters.loc[clusters["post_id"].isin(call_ids), "cluster_id"])
        clusters = clusters[clusters["cluster_id"].isin(touching)].copy()
        clusters["in_campaign"] = clusters["post_id"].isin(call_ids)
        clusters["letter"] = clusters["chat"].map(letters)
        clusters["title"] = clusters["chat"].map(lambda c: titles.get(c, c))
        clusters = clusters.sort_values(["cluster_id", "posted_at", "post_id"], kind="stable").reset_index(drop=True)
    return links, pairs, clusters


def _sources_table(sources: pd.DataFrame, cited_sources: set[str], source_names: dict) -> pd.DataFrame:
    """The input files the packet cites rows from, with their SHA-256 and names as shown.

    Only cited files: the other files of a case (a friendly group's export, a private chat) are
    none of the reader's business, and even their names could tell whom the case talked to.
    """
    src = sources[sources["source_id"].isin(cited_sources)]
    src = src.sort_values(["ingested_at", "source_id"], kind="stable").reset_index(drop=True)
    return pd.DataFrame({"source_id": src["source_id"], "name": src["source_id"].map(lambda s: source_names[s][0]),
                         "kind": src["kind"], "sha256": src["sha256"], "ingested_at": src["ingested_at"],
                         "rows": src["rows"], "tz": src["tz"], "cited": True})


def _chat_renames(posts: pd.DataFrame, sources: pd.DataFrame, names: Pseudonyms) -> dict[str, str]:
    """Chat keys and titles the packet must not show as collected -> what it shows instead.

    A chat with one private person (:func:`~detector.evidence.redact.private_chats`) is shown by
    the person's pseudonym; any other chat whose key or title writes a phone number keeps its
    name with the number masked.
    """
    out = {}
    for chat, title in private_chats(posts, sources, names.regions).items():
        out[chat] = out[title] = names.person(title)
    for value in set(posts["chat"].dropna().astype(str)) | set(posts["chat_title"].dropna().astype(str)):
        if value not in out and (masked := mask_phones(value, names.regions)) != value:
            out[value] = masked
    return out


def _rename_chats(posts: pd.DataFrame, rows, camp: dict, renamed: dict[str, str]):
    """``posts`` and the campaign's derived tables with chat keys and titles renamed (see :func:`_chat_renames`)."""
    import dataclasses

    def rename(frame: pd.DataFrame, cols) -> pd.DataFrame:
        frame = frame.copy()
        for col in cols:
            if col in frame:
                frame[col] = frame[col].map(lambda v: renamed.get(v, v) if isinstance(v, str) else v)
        return frame

    post_cols = ("chat", "chat_title", "forwarded_from")
    posts = rename(posts, post_cols)
    rows = dataclasses.replace(rows, posts=posts, calls=rename(rows.calls, post_cols),
                               pairs=rename(rows.pairs, ("chat_a", "chat_b")), clusters=rename(rows.clusters, ("chat",)))
    if isinstance(camp.get("chats"), list):
        camp["chats"] = [renamed.get(c, c) for c in camp["chats"]]
    return posts, rows
