"""Reading an analysed case: the campaign list and the verdict on one target."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from detector.errors import DetectorError
from detector.findings import rendered
from detector.formatting import agree, count, decimal, duration, p_stated, p_value
from detector.identity import target_from_input
from detector.params import DEFAULTS
from detector.store import Case


def _iso(ts) -> str | None:
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


# Ties between chats, spelled once: every reader (app, packet) uses these codes.
EDGE_KINDS = ("forward", "copy", "coposting")
EDGE_LABELS = {"forward": "forward", "copy": "near-duplicate text", "coposting": "co-posting"}


def chat_titles(posts: pd.DataFrame) -> dict[str, str]:
    """chat id -> its most frequent title (the id itself when no title was collected)."""
    if posts.empty:
        return {}
    titled = posts.dropna(subset=["chat"])
    titles = (titled.dropna(subset=["chat_title"]).groupby("chat")["chat_title"]
              .agg(lambda s: s.value_counts().sort_index().idxmax()))
    return {chat: titles.get(chat, chat) for chat in titled["chat"].unique()}


def campaign_edges(calls: pd.DataFrame, pairs: pd.DataFrame, titles: dict[str, str], window: str) -> pd.DataFrame:
    """How a campaign's chats are tied, one row per tie: DataFrame[a, b, kind, weight, detail].

    ``kind`` is one of :data:`EDGE_KINDS`: "forward" (a call in ``b`` forwarded from ``a``; a
    forward names its origin by title, resolved to a chat id when exactly one chat has it),
    "copy" (near-duplicate calls in two chats, from the ``pairs`` table) and "coposting" (calls
    naming the same target within ``window``).
    """
    from detector.features.networks import coposting_edges, target_groups

    by_title: dict[str, set[str]] = {}
    for chat, title in titles.items():
        by_title.setdefault(title, set()).add(chat)
    rows = []
    if "forwarded_from" in calls:
        for r in calls.dropna(subset=["forwarded_from"]).itertuples():
            matches = by_title.get(r.forwarded_from, set())
            origin = next(iter(matches)) if len(matches) == 1 else r.forwarded_from
            if origin != r.chat:
                rows.append((origin, r.chat, "forward", 1, f"forwarded {r.posted_at:%Y-%m-%d %H:%M}"))
    ids = set(calls["post_id"])
    if len(pairs):
        mine = pairs[pairs["post_a"].isin(ids) & pairs["post_b"].isin(ids) & (pairs["chat_a"] != pairs["chat_b"])]
        for r in mine.itertuples():
            a, b = sorted((r.chat_a, r.chat_b))
            rows.append((a, b, "copy", 1, f"near-duplicate texts (similarity {r.similarity:.2f})"))
    if len(calls):
        for r in coposting_edges(target_groups(calls), window).itertuples():
            rows.append((r.chat_a, r.chat_b, "coposting", int(r.weight),
                         f"same target within {window} ({r.weight} targets, first {r.first_at:%Y-%m-%d %H:%M})"))
    return pd.DataFrame(rows, columns=["a", "b", "kind", "weight", "detail"])


def calls_before_notices(notices: pd.DataFrame, calls: pd.DataFrame, lookback: pd.Timedelta
                         ) -> tuple[list[list[str]], list[float | None]]:
    """For each notice: the calls naming its target strictly before it, within ``lookback``, and
    the hours since the latest of them (None when there is none).

    ``notices``: DataFrame[target, received_at]; ``calls``: DataFrame[post_id, posted_at, targets].
    The one rule for "the calls before a notice" (check, the app and the packet).
    """
    pairs = calls[["post_id", "posted_at", "targets"]].explode("targets").dropna(subset=["targets"])
    before, lags = [], []
    for target, received in zip(notices["target"], notices["received_at"], strict=True):
        prior = pairs[(pairs["targets"] == target) & (pairs["posted_at"] < received)
                      & (pairs["posted_at"] >= received - lookback)]
        before.append(list(dict.fromkeys(prior.sort_values("posted_at")["post_id"])))
        lags.append((received - prior["posted_at"].max()) / pd.Timedelta(hours=1) if len(prior) else None)
    return before, lags


def _text(x) -> str | None:
    """A string, or None for a missing value (a NaN would print as invalid JSON)."""
    return x if isinstance(x, str) else None


STALE_HINT = "run detector analyze to bring them up to date"


def stale_warning(case: Case) -> str | None:
    """A sentence for every reader when the results predate the case's latest inputs, else None."""
    reason = case.stale_reason()
    return f"these results predate the case's inputs ({reason}): {STALE_HINT}" if reason else None


def require_analysis(case: Case) -> None:
    if not case.analysed():
        raise DetectorError("this case has not been analysed yet", case.path, hint="run: detector analyze --db DB")


def campaign_list(case: Case) -> list[dict]:
    """The campaigns as ``campaigns --json`` prints them, best first."""
    require_analysis(case)
    frame = case.derived("campaigns")
    texts = rendered(case.derived("findings")).groupby("campaign_id")["text"].agg(list).to_dict()
    ctx = case.derived("platform_context")
    out = []
    for c in frame.sort_values("rank").itertuples():
        out.append({
            "id": c.campaign_id, "rank": int(c.rank), "tier": c.tier, "score": _num(c.score),
            "targets": list(c.targets), "hit_targets": list(c.hit_targets),
            "start": _iso(c.start), "end": _iso(c.end), "notices": int(c.notices), "calls": int(c.calls),
            "chats": list(c.chats), "p_burst": _num(c.p_burst), "p_link": _num(c.p_link),
            "p_link_floor": _num(c.p_link_floor), "requested_policy": _text(c.requested_policy),
            "findings": texts.get(c.campaign_id, list(c.findings)) + _platform_findings(ctx, c.start, c.end),
            "call_post_ids": list(c.call_post_ids),
            "notice_ids": list(c.notice_ids)})
    return out


_SCOPE_ORDER = {"subject": 0, "policy": 1, "target": 2}


def unexplained_bursts(case: Case) -> pd.DataFrame:
    """Significant bursts that no campaign and no rise in views explains, each listed once.

    A subject with one policy (or one target) has streams holding the same notices, so the scan
    finds the same interval in each (``subject:(all)`` and ``policy:(all):harassment``). Such
    repeats (same subject, interval and notice count) are one burst: the row of the widest stream
    is kept and ``also_in`` names the others.
    """
    require_analysis(case)
    bursts = case.derived("bursts")
    if bursts.empty:
        return bursts.assign(also_in=pd.Series(dtype=object))
    significant = bursts["significant"].astype(bool) if "significant" in bursts else bursts["q_burst"] <= (
        case.analysis_parameters().alpha)
    return once_per_interval(bursts[significant & bursts["explained_by"].isna()])


def once_per_interval(bursts: pd.DataFrame) -> pd.DataFrame:
    """``bursts`` (the bursts table's columns) with repeats of one interval in nested streams merged."""
    if bursts.empty:
        return bursts.assign(also_in=pd.Series(dtype=object)).reset_index(drop=True)
    order = bursts["scope"].map(_SCOPE_ORDER).fillna(len(_SCOPE_ORDER))
    ranked = bursts.assign(_order=order).sort_values(["subject", "start", "end", "notices", "_order", "stream"],
                                                     kind="stable")
    keys = ["subject", "start", "end", "notices"]
    also = ranked.groupby(keys, sort=False, dropna=False)["stream"].agg(lambda s: list(s)[1:])
    kept = ranked.drop_duplicates(keys, keep="first").drop(columns="_order")
    kept = kept.merge(also.rename("also_in").reset_index(), on=keys, how="left")
    return kept.sort_values(["start", "stream"], kind="stable").reset_index(drop=True)


def too_little_history(case: Case) -> str | None:
    """A sentence when the notices span less time than a channel's baseline needs, else None.

    Bursts are judged against the channel's own hour-of-day and weekday rhythm; a few days of
    notices cannot show that rhythm, so every pile-up in them would look unusual.
    """
    notices = case.table("notices")
    if notices.empty:
        return None
    needed = case.analysis_parameters().min_history_days if case.analysed() else DEFAULTS.min_history_days
    times = pd.to_datetime(notices["received_at"], utc=True)
    span_days = (times.max() - times.min()) / pd.Timedelta(days=1)
    if span_days >= needed:
        return None
    return (f"Too little history to judge bursts: the notices span {duration(span_days * 24)}, and judging a "
            f"pile-up against the channel's own daily and weekly rhythm needs at least {needed} days of notices.")


def nothing_to_test(case: Case) -> str | None:
    """A sentence when the case lacks the notices or the posts that any test needs, else None."""
    counts = case.counts()
    notices, posts = counts.get("notices", 0), counts.get("posts", 0)
    if not notices and not posts:
        return "Nothing to test: the case holds no notices and no posts yet."
    if not notices:
        return ("Nothing to test: the case holds no notices, so there is no enforcement the collected posts could "
                "have caused. Add the notices the target received (e-mails, a notices CSV, Lumen notices).")
    if not posts:
        return ("Nothing to test: the case holds no posts from chats, so there are no calls to report to test. "
                "Add Telegram or WhatsApp exports.")
    return None


@dataclass
class CampaignRows:
    """Every stored row one campaign's readers (the app's page, the packet) need, read in one place.

    Tables are whole as stored (``posts``, ``notices``, ``sources``, derived ``calls``, ``links``,
    ``pairs``, ``clusters``, ``bursts``, ``findings``); the readers select and shape them.
    """

    campaign: dict                 # campaign_list() entry
    findings: pd.DataFrame         # this campaign's findings, records and rendered text
    stored_findings: pd.DataFrame  # the stored findings table (to render again, e.g. with pseudonyms)
    sweep: list[dict]              # the window sweep stored with the campaign
    posts: pd.DataFrame
    notices: pd.DataFrame
    sources: pd.DataFrame
    calls: pd.DataFrame
    links: pd.DataFrame
    pairs: pd.DataFrame
    clusters: pd.DataFrame
    bursts: pd.DataFrame
    params: object                 # detector.params.Parameters of the analysis
    record: dict                   # the analysis record (version, seed, period, analysed_at, inputs)
    tz: str | None                 # the case's zone for local times


def campaign_rows(case: Case, campaign_id: str) -> CampaignRows:
    """Read everything about one campaign; DetectorError when the case has no such campaign."""
    campaigns = campaign_list(case)
    found = [c for c in campaigns if c["id"] == campaign_id]
    if not found:
        known = ", ".join(c["id"] for c in campaigns) or "none"
        raise DetectorError(f"no campaign {campaign_id!r} in this case (campaigns: {known})", case.path,
                            hint="list them with: detector campaigns --db DB")
    stored = case.derived("findings")
    frame = case.derived("campaigns")
    row = frame[frame["campaign_id"] == campaign_id]
    sweep = row.iloc[0]["sweep"] if len(row) and "sweep" in row else []
    if isinstance(sweep, str):
        try:
            sweep = json.loads(sweep)
        except ValueError:
            sweep = []
    return CampaignRows(
        campaign=dict(found[0]), findings=rendered(stored, campaign_id), stored_findings=stored,
        sweep=list(sweep) if isinstance(sweep, list) else [], posts=case.table("posts"),
        notices=case.table("notices"), sources=case.table("sources"), calls=case.derived("calls"),
        links=case.derived("links"), pairs=case.derived("pairs"), clusters=case.derived("clusters"),
        bursts=case.derived("bursts"), params=case.analysis_parameters(), record=case.analysis_record(),
        tz=case.meta("tz"))


def target_bursts(case: Case, target: str) -> pd.DataFrame:
    """The significant bursts on one target's own notice stream."""
    require_analysis(case)
    bursts = case.derived("bursts")
    if bursts.empty:
        return bursts
    return bursts[(bursts["scope"] == "target") & (bursts["key"] == target) & bursts["significant"]
                  ].reset_index(drop=True)


def posts_and_calls(case: Case) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The posts table and the derived calls table, as stored (for exploring every post)."""
    return case.table("posts"), case.derived("calls")


REVIEW_QUEUE_COLUMNS = ("campaign_id", "post_id", "kind", "chat", "chat_title", "posted_at", "text", "targets",
                        "requested_policy", "language", "p_call", "review", "reviewer", "reviewed_at", "review_note",
                        "translation")


def review_queue(case: Case, campaign_id: str | None = None, candidates: bool = False,
                 target: str | None = None) -> pd.DataFrame:
    """The posts an analyst should check: each campaign's calls and the other posts its findings cite.

    One row per campaign and post, in campaign rank then time order, with the decision in force
    (``review``: confirmed, rejected, marked call, marked boast or unreviewed, and who, when, the
    note and translation). Posts rejected since the analysis are still listed (their decision
    shows it) until the next analysis drops them. ``campaign_id`` limits it to one campaign
    (DetectorError if unknown).

    ``candidates``: also, for each campaign, the posts that name one of its targets (any id of
    it, :func:`posts_naming`) but that the analysis took for neither a call nor a boast (``kind``
    "other"; ``p_call`` the model's where the post names reporting), so that an analyst can mark
    the calls the classifier missed. ``target`` (a link or id): instead of the campaigns, every
    post naming that target, the analysis's calls and boasts among them, with no ``campaign_id``.
    """
    from detector.review import apply_reviews

    stored = case.derived("findings")
    calls = case.derived("calls")
    analysed = calls.set_index("post_id") if len(calls) else pd.DataFrame()
    rows: list[tuple[str | None, str]] = []
    scored: dict[str, float] = {}          # p_call of the named posts the analysis did not keep
    if target is not None:
        require_analysis(case)
        resolved, names = resolve_target(case, target)
        named = calls["post_id"][calls["targets"].map(lambda t: resolved in t)] if len(calls) else []
        others = posts_naming(case, names)
        scored.update(zip(others["post_id"], others["p_call"], strict=True))
        ids = dict.fromkeys([*named, *others["post_id"]])
        campaigns, rows = [], [(None, pid) for pid in ids]
    else:
        campaigns = campaign_list(case)
        if campaign_id is not None:
            campaigns = [c for c in campaigns if c["id"] == campaign_id]
            if not campaigns:
                campaign_rows(case, campaign_id)   # raises the "no such campaign" error with the list
        for camp in campaigns:
            cited = stored.loc[stored["campaign_id"] == camp["id"], "rows"] if len(stored) else []
            ids = dict.fromkeys([*camp["call_post_ids"], *sorted({str(r) for rs in cited for r in rs})])
            if candidates:
                names = set().union(*(resolve_target(case, t)[1] for t in camp["targets"]))
                others = posts_naming(case, names)
                others = others[~others["post_id"].isin(analysed.index)]
                scored.update(zip(others["post_id"], others["p_call"], strict=True))
                ids.update(dict.fromkeys(others["post_id"]))
            rows += [(camp["id"], pid) for pid in ids]
    queue = pd.DataFrame(rows, columns=["campaign_id", "post_id"])
    # Only the listed posts are read (a cited row may be a notice: those are not posts, and drop out).
    posts = case.posts_among(queue["post_id"], ("post_id", "chat", "chat_title", "posted_at", "text", "targets"))
    queue = queue.merge(posts.rename(columns={"targets": "linked"}), on="post_id", how="inner")
    for col in ("kind", "targets", "requested_policy", "language", "p_call"):
        queue[col] = queue["post_id"].map(analysed[col]) if col in analysed else None
    # a post the analysis did not keep: the targets its links name, as ingested
    queue["targets"] = [t if isinstance(t, list) else [] if linked is None else list(linked)
                        for t, linked in zip(queue["targets"], queue["linked"], strict=True)]
    if scored:
        queue["p_call"] = queue["p_call"].astype(float).fillna(queue["post_id"].map(scored).astype(float))
    reviewed = apply_reviews(queue.assign(kind=queue["kind"].fillna("other")), case.reviews())
    queue["kind"] = queue["kind"].fillna("other")
    for col in ("review", "reviewer", "reviewed_at", "review_note", "translation"):
        queue[col] = reviewed[col].to_numpy()
    order = {c["id"]: i for i, c in enumerate(campaigns)}
    queue = queue.assign(_rank=queue["campaign_id"].map(order))
    queue = queue.sort_values(["_rank", "posted_at", "post_id"], kind="stable").drop(columns="_rank")
    return queue[list(REVIEW_QUEUE_COLUMNS)].reset_index(drop=True)


def machine_kinds(case: Case, post_ids) -> dict[str, str | None]:
    """What the stored analysis's classifier called each of ``post_ids``: call, boast or other;
    None when no analysis has classified the post (the case was never analysed, or the post came
    in after it). A post the analysis dropped because a person rejected it keeps the kind its
    latest review recorded."""
    calls = case.derived("calls")
    ids = list(dict.fromkeys(post_ids))
    if calls.empty and not case.analysed():
        return dict.fromkeys(ids)
    machine = calls["machine_kind"].fillna(calls["kind"]) if "machine_kind" in calls else calls.get("kind")
    known = dict(zip(calls["post_id"], machine, strict=True)) if len(calls) else {}
    # what the latest review of each post recorded the machine had called it (cleared ones too)
    reviews = case.reviews().dropna(subset=["kind"]).drop_duplicates("post_id", keep="last")
    recorded = dict(zip(reviews["post_id"], reviews["kind"], strict=True))
    # The posts the analysis read: those of the sources it recorded (a file ingested since is not classified).
    seen = (case.analysis_record().get("inputs") or {}).get("sources")
    read = case.posts_among(ids, ("post_id", "source_id"))
    analysed = set(read["post_id"] if seen is None else read.loc[read["source_id"].isin(seen), "post_id"])
    out = {}
    for pid in ids:
        kind = known.get(pid) or recorded.get(pid)
        out[pid] = kind if isinstance(kind, str) else ("other" if pid in analysed else None)
    return out


def rejected_posts(case: Case) -> pd.DataFrame:
    """Posts whose decision in force is "rejected", with their text (to restore one if it was a mistake)."""
    from detector.review import current_reviews

    now = current_reviews(case.reviews())
    now = now[now["decision"] == "rejected"]
    posts = case.table("posts")[["post_id", "chat_title", "posted_at", "text"]]
    return now.merge(posts, on="post_id", how="left").reset_index(drop=True)


def notices_table(case: Case) -> pd.DataFrame:
    """The notices table, as stored (for exploring every notice)."""
    return case.table("notices")


def analysis_parameters(case: Case):
    """The :class:`~detector.params.Parameters` of the case's stored analysis."""
    return case.analysis_parameters()


def case_networks(case: Case) -> dict[str, pd.DataFrame]:
    """The analysis's case-wide tables for exploring: ``forwards`` (origin → chat, posts, first),
    ``coreports`` (reporters flagging the same targets together, with weights) and ``scans``
    (every notice stream scanned, with its p_burst), each as stored."""
    require_analysis(case)
    return {name: case.derived(name) for name in ("forwards", "coreports", "scans")}


@dataclass
class CheckResult:
    """What the case shows about one target."""

    target: str
    notices: pd.DataFrame                  # notices on the target, each with the calls before it
    calls: pd.DataFrame                    # calls naming the target
    link: dict | None                      # the per-target link test, if any
    campaign: dict | None
    verdict: str
    limits: str
    details: list[str] = field(default_factory=list)
    headline: str = ""                     # the one-sentence answer to "was it preceded by calls?"
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)   # detector watch alerts naming it
    # posts that named it, up to its last notice, that were not counted as calls (posts_naming)
    named: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_json(self) -> dict:
        notices = []
        for n in self.notices.itertuples():
            notices.append({"notice_id": n.notice_id, "received_at": _iso(n.received_at), "action": n.action,
                            "policy": n.policy, "calls_before": list(n.calls_before),
                            "lag_h": _num(n.lag_h)})
        calls = [{"post_id": c.post_id, "chat": c.chat, "posted_at": _iso(c.posted_at), "text": c.text}
                 for c in self.calls.itertuples()]
        return {"target": self.target, "headline": self.headline, "verdict": self.verdict, "limits": self.limits, "details": self.details,
                "notices": notices, "calls": calls, "link": self.link,
                "campaign": self.campaign["id"] if self.campaign else None,
                "tier": self.campaign["tier"] if self.campaign else None,
                "alerts": [{"alert_id": a.alert_id, "reason": a.reason, "post_id": a.post_id, "chat": a.chat,
                            "permalink": a.permalink, "posted_at": _iso(a.posted_at), "alerted_at": _iso(a.alerted_at)}
                           for a in self.alerts.itertuples()],
                "other_posts_naming": [{"post_id": p.post_id, "chat": p.chat, "posted_at": _iso(p.posted_at),
                                        "kind": p.kind, "p_call": _num(p.p_call), "names_reporting": bool(p.names_reporting),
                                        "text": p.text} for p in self.named.itertuples()]}


def resolve_target(case: Case, value: str) -> tuple[str, set[str]]:
    """The target a link or id means in this analysed case, and every stored id of it.

    A channel known by several ids (``@handle``, ``UC…``) resolves to the one the analysis used
    (see :mod:`detector.identity`); the set lists all of its ids, for reading ingested rows.
    """
    target = target_from_input(value)
    identities = case.derived("identities")
    if identities.empty:
        return target, {target}
    resolved = dict(zip(identities["alias"], identities["resolved"], strict=True))
    resolved.update(zip(identities["canonical"], identities["resolved"], strict=True))
    target = resolved.get(target, target)
    names = {target} | {k for k, v in resolved.items() if v == target}
    return target, names


NAMED_COLUMNS = ("post_id", "platform", "chat", "chat_title", "posted_at", "text", "kind", "p_call",
                 "names_reporting", "review")


def posts_naming(case: Case, names: set[str], until: pd.Timestamp | None = None,
                 since: pd.Timestamp | None = None) -> pd.DataFrame:
    """The collected posts that name any of ``names`` and were not counted as calls, oldest first.

    The classifier misses real calls (bench/RESULTS.md gives its recall on real posts), so an
    answer of "no call named it" must show the posts a person should read before believing it.

    Returns DataFrame[post_id, platform, chat, chat_title, posted_at, text, kind, p_call,
    names_reporting, review]: ``kind`` is the analysis's verdict ("boast" or "other"; a call an
    analyst rejected is "other" with ``review`` "rejected"); ``names_reporting`` whether the post
    has a word for reporting (the classifier's gate: without one it never calls a post);
    ``p_call`` the model's probability of a call, read from the analysis where it kept the post
    (boasts, rejected calls) and computed here for the others that name reporting, else NaN.
    Only posts up to ``until`` (inclusive) and from ``since`` are kept.
    """
    if not names:
        return pd.DataFrame(columns=list(NAMED_COLUMNS))
    sql = ("SELECT post_id, platform, chat, chat_title, posted_at, text, urls, targets FROM posts "
           "WHERE list_has_any(targets, ?::VARCHAR[])")
    args: list = [sorted(names)]
    if until is not None:
        sql += " AND posted_at <= ?"
        args.append(until.to_pydatetime())
    if since is not None:
        sql += " AND posted_at >= ?"
        args.append(since.to_pydatetime())
    posts = case.query(sql + " ORDER BY posted_at, post_id", args)
    derived = case.derived("calls")
    if len(derived):
        derived = derived.set_index("post_id")
        counted = derived.index[derived["kind"] == "call"]
        posts = posts[~posts["post_id"].isin(counted)]
    if posts.empty:
        return pd.DataFrame(columns=list(NAMED_COLUMNS))
    from detector.features.calls import classify_calls, gate_cues

    # Only posts that name reporting can be calls; the model is loaded only when one does.
    reporting, _ = gate_cues(list(posts["text"]))
    asks = posts[reporting]
    P = case.analysis_parameters()
    scored = (classify_calls(asks[["post_id", "text", "urls", "targets"]], prefilter=False,   # gated just above
                             threshold=P.call_threshold, second_opinion=P.call_encoder).set_index("post_id")
              if len(asks) else pd.DataFrame({"p_call": pd.Series(dtype=float)}))
    out = posts.drop(columns=["urls", "targets"]).reset_index(drop=True)
    kept = out["post_id"].isin(derived.index) if len(derived) else pd.Series(False, index=out.index)
    out["kind"] = "other"
    out["p_call"] = out["post_id"].map(scored["p_call"]).astype(float)
    out["review"] = None
    if kept.any():
        ids = out.loc[kept, "post_id"]
        out.loc[kept, "kind"] = ids.map(derived["kind"]).to_numpy()
        out.loc[kept, "p_call"] = ids.map(derived["p_call"]).astype(float).to_numpy()
        if "review" in derived:
            out.loc[kept, "review"] = ids.map(derived["review"]).to_numpy()
    # The model's p_call decides nothing here: a post it would now call (a review rejected it, or the
    # analysis ran with another threshold) is still listed under the analysis's own verdict.
    out["names_reporting"] = reporting
    return out[list(NAMED_COLUMNS)]


def check_target(case: Case, url: str, since: pd.Timestamp | None = None) -> CheckResult:
    """For one video or channel (a URL or a canonical id): its notices, the calls before each,
    the lag and the significance."""
    require_analysis(case)
    params = case.analysis_parameters()
    lookback = pd.Timedelta(days=params.check_lookback_days)
    target, names = resolve_target(case, url)
    marks = ", ".join("?" for _ in names)
    notices = case.query(f"SELECT * FROM notices WHERE target IN ({marks}) ORDER BY received_at", sorted(names))
    if since is not None:
        notices = notices[notices["received_at"] >= since]
    calls_all = case.derived("calls")
    calls = calls_all[(calls_all["kind"] == "call") & calls_all["targets"].map(lambda t: target in t)]
    calls = calls.sort_values("posted_at").reset_index(drop=True)
    before, lags = calls_before_notices(notices.assign(target=target), calls, lookback)   # ids resolved
    notices = notices.assign(calls_before=before, lag_h=lags)
    links = case.derived("links")
    link_row = links[(links["target"] == target)] if len(links) else links
    if len(link_row):
        # Several posting episodes may name the target: report the calls' most significant one.
        link_row = link_row.assign(_call=link_row["basis"] != "call").sort_values(["_call", "p_value"],
                                                                                   na_position="last")
    link = None
    if len(link_row):
        r = link_row.iloc[0]
        link = {"basis": r["basis"], "notices_within": int(r["notices_within"]),
                "notices_total": int(r["notices_total"]), "expected_within": _num(r["expected_within"]),
                "p_value": _num(r["p_value"]), "q_value": _num(r["q_value"]), "p_floor": _num(r["p_floor"]),
                "median_lag_h": _num(r["median_lag_h"]), "window_h": params.window_h}
    campaign = next((c for c in campaign_list(case) if target in c["targets"]), None)
    enforcement = notices[notices["action"] != "reinstated"]
    named = posts_naming(case, names, until=enforcement["received_at"].max() if len(enforcement) else None,
                         since=since - lookback if since is not None else None)
    verdict, details = _verdict(target, notices, calls, link, campaign, params, named)
    limits = ("These sources show timing, not who filed the complaints: platforms do not disclose reporters, and "
              "calls made in chats that were not collected (private groups, other platforms) cannot appear here.")
    alerts = target_alerts(case, names | {target})
    if len(alerts):
        first = alerts.iloc[0]
        details.append(f"{len(alerts)} early-warning alert{'s' if len(alerts) != 1 else ''} (detector watch) named it, "
                       f"first at {first['alerted_at']:%Y-%m-%d %H:%M} UTC for a post of "
                       f"{first['posted_at']:%Y-%m-%d %H:%M} UTC in {first['chat_title'] or first['chat']}.")
    result = CheckResult(target, notices, calls, link, campaign, verdict, limits, details, alerts=alerts, named=named)
    result.headline = _headline(result, params.check_lookback_days)
    return result


def watch_state(case: Case) -> tuple[dict, pd.DataFrame]:
    """The saved watch list (``{"channels": [...], "subject": [...]}``) and every alert, newest first."""
    try:
        saved = json.loads(case.meta("watch_list") or "{}")
    except ValueError:
        saved = {}
    alerts = case.table("alerts")
    if len(alerts):
        alerts = alerts.sort_values("alerted_at", ascending=False).reset_index(drop=True)
    return {"channels": list(saved.get("channels", [])), "subject": list(saved.get("subject", []))}, alerts


def target_alerts(case: Case, names: set[str]) -> pd.DataFrame:
    """The watch alerts whose call named one of ``names`` (or copied a call that did), oldest first."""
    alerts = case.table("alerts")
    if alerts.empty:
        return alerts
    named = alerts["targets"].map(lambda ts: bool(set(ts) & names))
    calls = case.table("posts").loc[lambda p: p["targets"].map(lambda ts: bool(set(ts) & names)), "post_id"]
    copies = alerts["copy_of"].isin(set(calls)) | alerts["post_id"].isin(set(calls))
    return alerts[named | copies].sort_values("alerted_at").reset_index(drop=True)


def _headline(result: CheckResult, lookback_days: int) -> str:
    """A one-sentence answer to "was this takedown preceded by calls to report it?"."""
    enforcement = result.notices[result.notices["action"] != "reinstated"] if len(result.notices) else result.notices
    if enforcement.empty and result.calls.empty:
        return "Nothing in the collected sources: no notice against this target and no post asking to report it."
    if enforcement.empty:
        return "Collected posts asked people to report it, but the collected notices show no action against it."
    reporting = int(result.named["names_reporting"].sum()) if len(result.named) else 0
    if result.calls.empty and reporting:
        return (f"It received notices; no collected post was classified as a call to report it, but "
                f"{count(reporting, 'post')} that named it {agree(reporting, 'mentions', 'mention')} reporting: read "
                f"{agree(reporting, 'it', 'them')} before concluding.")
    if result.calls.empty:
        return "It received notices, but no collected post asked anyone to report it."
    preceded = enforcement["calls_before"].map(len) > 0
    if not preceded.any():
        return (f"Collected posts asked people to report it, but none of its notices came within {lookback_days} "
                f"days after one.")
    campaign = result.campaign
    if campaign and campaign["tier"] in ("strong", "moderate"):
        return (f"Yes, as far as these sources show: its notices followed calls to report it more closely than "
                f"chance allows (campaign {campaign['id']}, tier {campaign['tier']}).")
    return ("Some of its notices came after calls to report it, but the timing is not clearly beyond chance "
            + (f"(campaign {campaign['id']}, tier {campaign['tier']})." if campaign else "(no campaign)."))


NAMED_SHOWN = 5      # posts that named a target, quoted in check's details (all are in its table and JSON)


def _named_details(named: pd.DataFrame, calls: pd.DataFrame, enforced: bool) -> list[str]:
    """check's lines on the posts that named the target but were not counted as calls: those that
    name reporting first (likeliest call first), then the rest by time."""
    if named.empty:
        return []
    reporting = named[named["names_reporting"]].sort_values(["p_call", "posted_at"], ascending=[False, True])
    rest = named[~named["names_reporting"]]
    where = " up to its last notice" if enforced else ""
    lines = [f"{count(len(named), 'other post')} named it{where} without being counted as "
             f"{'calls' if len(calls) else 'a call'}: {len(reporting)} of them {agree(len(reporting), 'mentions', 'mention')} reporting"
             + (f" (p_call up to {decimal(reporting['p_call'].max())}); the classifier misses some real calls, so "
                "read them:" if len(reporting) else ", the others only share or discuss it:")]
    for p in pd.concat([reporting, rest]).head(NAMED_SHOWN).itertuples():
        chat = p.chat_title if isinstance(p.chat_title, str) and p.chat_title else p.chat
        score = (f"p_call {decimal(p.p_call)}" if pd.notna(p.p_call) else "") + (
            "" if p.names_reporting else (", " if pd.notna(p.p_call) else "") + "no reporting named")
        text = " ".join(str(p.text or "").split())
        lines.append(f"{p.posted_at:%Y-%m-%d %H:%M} UTC, {chat}, {p.kind}, {score}"
                     f"{', rejected by an analyst' if p.review == 'rejected' else ''}: "
                     f"\"{text[:160]}{'…' if len(text) > 160 else ''}\"")
    if len(named) > NAMED_SHOWN:
        lines.append(f"… and {count(len(named) - NAMED_SHOWN, 'more post')} (the full list: the Check page's table, or check --json's other_posts_naming).")
    return lines


def _verdict(target, notices, calls, link, campaign, params, named: pd.DataFrame | None = None
             ) -> tuple[str, list[str]]:
    """check's answer and its detail lines, the posts that named the target without being calls last."""
    named = named if named is not None else pd.DataFrame(columns=list(NAMED_COLUMNS))
    verdict, details = _verdict_of_calls(target, notices, calls, link, campaign, params,
                                         int(named["names_reporting"].sum()) if len(named) else 0)
    enforced = bool((notices["action"] != "reinstated").any())
    return verdict, details + _named_details(named, calls, enforced)


def _verdict_of_calls(target, notices, calls, link, campaign, params, named: int) -> tuple[str, list[str]]:
    """``named``: how many posts that named the target mention reporting without being calls."""
    lookback_days, window_h = params.check_lookback_days, params.window_h
    enforcement = notices[notices["action"] != "reinstated"]
    details = []
    if enforcement.empty:
        return (f"The collected notices show no enforcement against {target}."
                + (f" {count(len(calls), 'collected call')} named it." if len(calls) else "")), details
    preceded = enforcement[enforcement["calls_before"].map(len) > 0]
    details.append(f"{count(len(enforcement), 'notice')} ({', '.join(sorted(set(enforcement['action'])))}) between "
                   f"{enforcement['received_at'].min():%Y-%m-%d %H:%M} and "
                   f"{enforcement['received_at'].max():%Y-%m-%d %H:%M} UTC.")
    if calls.empty and named:
        return (f"{count(len(enforcement), 'notice')} against {target}. No collected post was classified as a call to "
                f"report it, but {count(named, 'other post')} that named it {agree(named, 'mentions', 'mention')} "
                f"reporting (below); unless one of "
                f"them asks readers "
                "to report it, the collected sources give no evidence that these notices were organised."), details
    if calls.empty:
        return (f"{count(len(enforcement), 'notice')} against {target}, and no collected post asked anyone to report it. "
                "The collected sources give no evidence that these notices were organised."), details
    # Chat titles as people know them ("tg1305530619" is only the export's key).
    names = calls["chat_title"].fillna(calls["chat"]) if "chat_title" in calls else calls["chat"]
    chats = sorted(set(names.astype(str)))
    details.append(f"{count(len(calls), 'call')} named it in {count(len(chats), 'chat')} ({', '.join(chats[:6])}), first at "
                   f"{calls['posted_at'].min():%Y-%m-%d %H:%M} UTC.")
    if preceded.empty:
        return (f"{count(len(calls), 'call')} named {target}, but none of its {count(len(enforcement), 'notice')} came within "
                f"{lookback_days} days after one."), details
    med = preceded["lag_h"].median()
    text = (f"{len(preceded)} of {len(enforcement)} notices against {target} came within {lookback_days} days after "
            f"calls naming it (median lag {duration(med)} after the latest call).")
    if link and link.get("p_value") is not None:
        text += (f" For this target alone, {count(link['notices_within'], 'notice')} came within {window_h} h of a "
                 f"call against {decimal(link['expected_within'])} expected on other days "
                 f"({p_stated(link['p_value'], floor=link.get('p_floor'))}).")
    elif link:
        text += " Too few comparable days to test this target alone."
    if campaign:
        text += (f" It belongs to campaign {campaign['id']} (tier {campaign['tier']}, "
                 f"p_link = {p_value(campaign['p_link'])}, p_burst = {p_value(campaign['p_burst'])}).")
    return text, details


# -- platform context (detector dsa context) -----------------------------------------------------


def case_bursts(case: Case, scope: str = "subject") -> pd.DataFrame:
    """The case's significant bursts of its own notices, for comparing with platform-wide data.

    Returns DataFrame[burst_id, scope, key, start, end, notices, policy_top, platform, targets]:
    ``platform`` is the most common platform of the burst's notices, ``targets`` the canonical
    targets they name. Bursts of ``scope`` ("subject": the channel's whole stream) are used;
    when there are none, every significant burst.
    """
    require_analysis(case)
    bursts = case.derived("bursts")
    cols = ["burst_id", "scope", "key", "start", "end", "notices", "policy_top", "platform", "targets"]
    if bursts.empty:
        return pd.DataFrame(columns=cols)
    sig = bursts[bursts["significant"].astype(bool)]
    chosen = sig[sig["scope"] == scope]
    chosen = chosen if len(chosen) else sig
    notices = case.table("notices").set_index("notice_id")
    rows = []
    for b in chosen.itertuples():
        ids = [i for i in (b.notice_ids or []) if i in notices.index]
        sub = notices.loc[ids]
        platform = sub["platform"].mode().iloc[0] if len(sub) and sub["platform"].notna().any() else None
        rows.append({"burst_id": b.burst_id, "scope": b.scope, "key": b.key, "start": b.start, "end": b.end,
                     "notices": int(b.notices), "policy_top": b.policy_top, "platform": platform,
                     "targets": sorted(set(sub["target"].dropna())) if len(sub) else []})
    return pd.DataFrame(rows, columns=cols).sort_values(["start", "burst_id"]).reset_index(drop=True)


def _overlapping(ctx: pd.DataFrame, start, end) -> pd.DataFrame:
    if ctx.empty or start is None or end is None:
        return ctx
    s, e = pd.Timestamp(start).strftime("%Y-%m-%d"), pd.Timestamp(end).strftime("%Y-%m-%d")
    return ctx[(ctx["window_start"] <= e) & (ctx["window_end"] >= s)].reset_index(drop=True)


def platform_context(case: Case, start=None, end=None) -> pd.DataFrame:
    """The stored platform-context rows (``detector dsa context``), optionally those overlapping start..end."""
    return _overlapping(case.derived("platform_context"), start, end)


def _platform_findings(ctx: pd.DataFrame, start, end) -> list[str]:
    """The "platform context" findings of a campaign: one sentence per overlapping context row."""
    rows = _overlapping(ctx, start, end)
    if rows.empty:
        return []
    from detector.dsa.context import describe

    return [f"Platform context (EU DSA Transparency Database): {describe(r)}" for r in rows.to_dict("records")]
