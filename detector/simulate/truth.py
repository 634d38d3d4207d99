"""What really happened in a simulated case (truth.json) and its README."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from detector.simulate.case import _Case
from detector.simulate.exports import (
    _safe_name,
)
from detector.simulate.model import (
    SimParams,
    _Chat,
    _iso,
    _Notice,
    _Post,
)


def _final_notices(case: _Case) -> list[_Notice]:
    kept = []
    for n in sorted(case.notices, key=lambda n: (n.t, n.seq)):
        if not (case.clock.t0 <= n.t < case.clock.t1):
            continue
        if n.filterable and n.video is not None and not case.is_up(n.video, n.t):
            continue
        if n.filterable and case.suspended(n.channel if n.video is None else int(case.owner[n.video]), n.t):
            continue
        kept.append(n)
    return kept


def _notice_row(case: _Case, i: int, n: _Notice) -> list:
    if n.video is None:   # channel notices (complaints, terminations) name the /channel/UC… URL
        channel = case.channels[n.channel]
        url, title, published = channel["url"], channel["title"], ""
    else:
        channel = case.channels[int(case.owner[n.video])]
        url = f"https://www.youtube.com/watch?v={case.video_ids[n.video]}"
        title, published = case.titles[n.video], _iso(case.published[n.video])
    return [f"yt-{i:06d}", "youtube", _iso(n.t), n.action, n.policy, url, title, channel["url"], published,
            n.sender, n.reporter, n.text]


def _resolve(case: _Case, chat: _Chat, post: _Post, kind: str) -> dict:
    ref = {"platform": chat.platform, "chat": chat.key, "chat_title": chat.title, "kind": kind,
           "language": post.lang, "observed": chat.exported}
    if chat.platform == "telegram":
        ref["post_id"] = f"telegram:{chat.key}:{post.msg_id}"
        ref["message_id"] = post.msg_id
        ref["posted_at"] = _iso(post.t)
    else:
        ref["local_time"] = post.shown
        ref["author"] = post.shown_author
        shown = datetime.fromisoformat(post.shown).replace(tzinfo=case.clock.zone)
        ref["posted_at"] = _iso(shown.timestamp())
    if post.forwarded_from:
        ref["forwarded_from"] = post.forwarded_from
    return ref


def _truth(case: _Case, notices: list[_Notice], views: list) -> dict:
    p = case.p
    subjects = [{"channel_id": c["id"], "target": case.target_id(None, k), "handle": c["handle"],
                 "title": c["title"], "url": c["url"], "videos": c["videos"]} for k, c in enumerate(case.channels)]
    # which named targets really received notices, after the final filtering (a complaint that
    # arrives while a video or the channel is down never reaches the platform's log)
    answered = {(n.cause, n.wave, case.target_id(n.video, n.channel)) for n in notices}
    answered_any = {(cause, target) for cause, _, target in answered}
    campaigns = []
    for c in case.campaigns:
        c = dict(c)
        for w in c["waves"]:
            w["hit_targets"] = [x for x in w["targets"] if (c["id"], w["wave"], x) in answered]
            w["channel_complaints"] = sum(1 for n in notices if n.cause == c["id"] and n.wave == w["wave"]
                                          and n.video is None and n.action == "complaint")
        c["channel_complaints"] = sum(w["channel_complaints"] for w in c["waves"])
        c["hit_targets"] = [x for x in c["targets"] if (c["id"], x) in answered_any]
        if c["suspension"] and c["channel"] not in c["hit_targets"]:
            c["hit_targets"].append(c["channel"])
        mine = [n.t for n in notices if n.cause == c["id"]]
        first = _iso(min(mine)) if mine else None
        refs = [_resolve(case, chat, q, kind) for chat, q, kind in c.pop("_posts")]
        for r in refs:
            r["after_first_notice"] = bool(first and r["posted_at"] > first)
        c["calls"] = refs
        # calls in the collected (exported) chats; unexported calls are in "calls" with observed false
        c["call_ids"] = [r["post_id"] for r in refs if "post_id" in r and r["observed"]]
        c["observed_calls"] = [r for r in refs if r["observed"]]
        c["observed_chats"] = list(dict.fromkeys(r["chat"] for r in refs if r["observed"]))
        c["first_notice"] = first
        c["boasts"] = [_resolve(case, b["_chat"], b["_post"], b["kind"]) for b in c["boasts"]]
        for w in c["waves"]:
            w["calls"] = [_resolve(case, r["_chat"], r["_post"], r["kind"]) for r in w["calls"]]
        c["notices"] = sum(1 for n in notices if n.cause == c["id"])
        campaigns.append(c)
    organic = []
    for o in case.organic:
        o = dict(o)
        o["mentions"] = [_resolve(case, chat, q, kind) for chat, q, kind in o.pop("_posts")]
        o["notices"] = sum(1 for n in notices if n.cause == o["id"])
        organic.append(o)
    failed = []
    for f in case.failed:
        f = dict(f)
        refs = [_resolve(case, chat, q, kind) for chat, q, kind in f.pop("_posts")]
        f.update(calls=refs, call_ids=[r["post_id"] for r in refs if "post_id" in r],
                 times=[r["posted_at"] for r in refs], chats=list(dict.fromkeys(r["chat"] for r in refs)))
        failed.append(f)
    other_calls = []
    thanks = []
    for chat in case.chats:
        for q in chat.posts:
            if q.kind == "other_call":
                other_calls.append(_resolve(case, chat, q, "other_call"))
            elif q.kind == "thanks":
                thanks.append(_resolve(case, chat, q, "thanks"))
    reactions = [_resolve(case, r["_chat"], r["_post"], "reaction") |
                 {k: v for k, v in r.items() if not k.startswith("_")} for r in case.reactions]
    quotes = [_resolve(case, r["_chat"], r["_post"], "news_quote") |
              {k: v for k, v in r.items() if not k.startswith("_")} for r in case.quotes]
    tg_msgs = sum(1 for c in case.chats if c.platform == "telegram" for q in c.posts if q.kind != "service")
    tg_service = sum(1 for c in case.chats if c.platform == "telegram" for q in c.posts if q.kind == "service")
    wa_msgs = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind != "system")
    wa_deleted = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind == "deleted")
    wa_system = sum(1 for c in case.chats if c.platform == "whatsapp" for q in c.posts if q.kind == "system")
    by_action: dict[str, int] = {}
    for n in notices:
        by_action[n.action] = by_action.get(n.action, 0) + 1
    by_cause: dict[str, int] = {}
    for n in notices:
        key = n.cause if n.cause in ("organic", "automated") else "events"
        by_cause[key] = by_cause.get(key, 0) + 1
    chats = [{"platform": c.platform, "chat": c.key, "title": c.title, "language": c.lang, "role": c.role,
              **({"username": c.username, "file": f"telegram/{c.username}/result.json"} if c.platform == "telegram"
                 else {"os": c.os, "file": (f"whatsapp/WhatsApp Chat with {_safe_name(c.title)}.txt" if c.os == "android"
                                            else f"whatsapp/WhatsApp Chat - {_safe_name(c.title)}.zip")}),
              "messages": sum(1 for q in c.posts if q.kind not in ("service", "system"))}
             for c in case.chats]
    link_posts = sum(1 for c in case.chats for q in c.posts if q.kind in ("link", "alert", "reaction"))
    unexported = [{"platform": c.platform, "chat": c.key, "title": c.title, "language": c.lang, "role": c.role,
                   "calls": sum(1 for q in c.posts if q.kind == "call")} for c in case.hidden]
    return {
        "generator": "detector.simulate",
        "scenario": case.scenario,
        "seed": case.seed,
        "params": {f.name: getattr(p, f.name) for f in fields(SimParams)},
        "tz": p.tz,
        "window": {"start": _iso(case.clock.t0), "end": _iso(case.clock.t1)},
        "subject": subjects[0],
        "subjects": subjects,
        "automated_policy": p.automated_policy,
        "campaigns": campaigns,
        "organic_bursts": organic,
        "failed_calls": failed,
        "other_calls": other_calls,
        "reaction_posts": reactions,
        "news_quotes": quotes,
        "thanks_posts": thanks,
        "suspensions": [{"start": _iso(a), "end": _iso(b), "channel": case.target_id(None, ch), "cause": cause}
                        for (a, b, ch), cause in zip(case.suspensions, case.suspension_causes, strict=True)],
        "chats": chats,
        "unexported_chats": unexported,
        # every collected forward's original time: Desktop exports drop it, a live collection
        # (Telethon's fwd_from.date) keeps it; bench/accuracy.py --live-forwards stands in for one
        "forward_originals": [{"post_id": f"telegram:{c.key}:{q.msg_id}", "forwarded_at": _iso(q.forwarded_at)}
                              for c in case.chats if c.exported and c.platform == "telegram"
                              for q in c.posts if q.forwarded_at is not None],
        "counts": {
            "videos": case.n_total,
            "notices": len(notices),
            "notices_by_action": dict(sorted(by_action.items())),
            "notices_by_cause": dict(sorted(by_cause.items())),
            "telegram_messages": tg_msgs,
            "telegram_service": tg_service,
            "whatsapp_messages": wa_msgs,
            "whatsapp_deleted": wa_deleted,
            "whatsapp_system": wa_system,
            # messages with content: Telegram service messages, WhatsApp system lines and
            # "This message was deleted" placeholders carry no post
            "posts": tg_msgs + wa_msgs - wa_deleted,
            "subject_link_posts_without_call": link_posts,
            "views_rows": len(views),
            "views_videos": len({r[0] for r in views}),
            "campaigns": len(campaigns),
            "organic_bursts": len(organic),
            "failed_calls": len(failed),
            "reaction_posts": len(reactions),
            "news_quotes": len(quotes),
            "thanks_posts": len(thanks),
        },
    }


def _readme(case: _Case, truth: dict) -> str:
    c = truth["counts"]
    lines = [
        f"Simulated case: scenario '{case.scenario}', seed {case.seed}",
        "",
        "Written by detector.simulate (detector simulate --out DIR --seed N --scenario NAME). Nothing here is real:",
        *[f"the subject is a fictional YouTube channel ({x['title']}, {x['url']}, @{x['handle']})"
          if k == 0 else f"a second fictional channel is in the same notices log ({x['title']}, {x['url']}, "
                         f"@{x['handle']})" for k, x in enumerate(truth["subjects"])],
        f"with {c['videos']} testimony videos in all; the chats and names are invented.",
        "",
        f"Window: {truth['window']['start']} to {truth['window']['end']} (UTC). Phone-local times are {case.p.tz};",
        "detector-case.json records the zone, so `detector ingest DIR` needs no --tz, and the channels'",
        "@handles (aliases of their UC… ids).",
        "",
        "Files:",
        f"  notices.csv            {c['notices']} notices and complaints (the project's notices template)",
        f"  views.csv              views per day for {c['views_videos']} videos ({c['views_rows']} rows)",
        f"  telegram/*/result.json Telegram Desktop exports of {sum(1 for x in truth['chats'] if x['platform'] == 'telegram')} public channels",
        f"  whatsapp/              WhatsApp exports of {sum(1 for x in truth['chats'] if x['platform'] == 'whatsapp')} groups "
        "(Android .txt, iOS .zip with _chat.txt)",
        "  truth.json             what really happened: campaigns, organic bursts, failed calls, posts that",
        "                         are not calls (reactions, news quotes, thanks) (do not read it before an",
        "                         analysis you want to be blind)",
        "",
        f"Events: {c['campaigns']} campaign(s), {c['organic_bursts']} organic burst(s), {c['failed_calls']} failed call(s).",
        f"Not calls: {c['reaction_posts']} reaction post(s), {c['news_quotes']} news post(s) quoting a call, "
        f"{c['thanks_posts']} thanks post(s).",
        _STORIES[case.scenario],
        "",
        "Notes: views.csv dates are local days in the case zone; notices.csv times are UTC. Complaints carry",
        "an anonymous reporter id (as a data-access request might give); enforcement e-mails do not.",
        "",
    ]
    return "\n".join(lines)


_STORIES = {
    "campaign": "A hostile channel posts a call to report several videos; other channels and groups copy it;\n"
                "complaints and removals follow.",
    "organic": "A few videos go viral; views jump, complaints follow the views and the videos are removed,\n"
               "with no call anywhere.",
    "failed": "Calls to report videos are posted and copied, and nothing happens.",
    "null": "Background only: ordinary complaints, an automated notice stream, chatter that links the videos.",
    "mixed": "Campaign, viral burst and failed calls in one case, at different times.",
    "aftermath": "Several videos draw complaints and are removed with no call anywhere; afterwards supporters,\n"
                 "news and hostile channels post their links, and complaints keep trickling in.",
    "partial": "A campaign called in chats that were not collected; only some copies (some late) are in the\n"
               "exports. truth.json marks each call observed or not.",
    "multichannel": "One notices log for two channels: a campaign against one, a viral burst (and perhaps a\n"
                    "termination) on the other. truth.json names the channel of every event.",
    "demo": "The motivating incident: testimony videos reported for harassment after calls in Telegram\n"
            "channels and WhatsApp groups (April to June 2025), a channel block lifted three days later, and\n"
            "automated 'Violent criminal organizations' notices all along; plus a viral burst and failed calls.",
}


