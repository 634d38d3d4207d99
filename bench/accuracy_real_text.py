"""Detection accuracy on simulated incidents whose calls and hard negatives are real posts.

``bench/accuracy.py`` scores detection on simulated incidents whose texts the project wrote. Here
the same incidents (same families and seeds) are simulated, then the texts of their posts that
matter are replaced by *real* labelled posts (``detector/data/calls/real/*.csv``) that the
classifier used in the analysis never saw:

1. The real rows are split into ``--folds`` folds grouped by ``language|group`` (a thread, page or
   file is on one side only), by the same ``StratifiedGroupKFold(shuffle=True, random_state=0)``
   as ``bench/calls.py`` / :func:`detector.features.calls.cross_validate_real`.
2. Case ``i`` of a family uses fold ``i % folds``. Its texts come from that fold's rows only, and
   its ``ingest``/``analyze``/``campaigns`` run in a child process (this file, ``--child-fold``)
   that replaces :func:`detector.features.calls.training_set` by the written rows plus the real
   rows of the *other* folds, then runs the CLI (``detector.cli.main``) unchanged. The default
   recipe (:func:`~detector.features.calls.fit_call_model`, weights, threshold, model cache) is
   otherwise the product's own; each fold has its own ``DETECTOR_CACHE_DIR`` so the fold models
   (whose cache key is the default model's, since the files are the same) never mix with each
   other or with the user's cache. That swap is the only fake.
3. Rewriting (:func:`plan_case`, :func:`rewrite_case`) touches the exported chat files only
   (Telegram Desktop ``result.json``, WhatsApp Android ``.txt`` and iOS ``.zip``): times, chats,
   authors, notices, views and every other post stay as simulated. The posts ``truth.json``
   names are replaced:

   ===========================================  =======================================
   simulated post (truth.json)                   real text of the fold
   ===========================================  =======================================
   campaign and failed calls (origin, forward,  ``call``; one real call per origin, shared by
   copy; "rephrased" copies get their own)      its forwards and copies (a real copy is the
                                                same text)
   campaign boasts                              ``boast``
   aftermath supporters' posts                  ``other`` kind ``victim`` (else ``appeal``)
   aftermath news posts                         ``other`` kind ``news``
   aftermath gloating by hostile channels       ``boast``
   news posts quoting a call                    ``other`` kind ``quoted_call`` (else ``news``)
   thanks and everyday status posts             ``other`` kind ``thanks``
   ordinary posts linking a viral video         ``other`` kind ``chatter``
   ===========================================  =======================================

   A real row of the post's language is taken when the fold has one (else any language; the log
   says which), without repetition within a case while the fold has unused rows. The simulated
   post's links (video and channel URLs, hidden ``text_link`` hrefs, defanged URLs) are appended
   after the real text, so the case's targets are still named: real calls often name their target
   in an image, an earlier post or a link preview, so appending the link is the minimal change
   that keeps the incident's ground truth. Not replaced: the simulator's unrelated scam calls,
   alerts, "report" in other senses and chatter without the subject's links (truth.json does not
   list them).

4. Scoring is ``bench/accuracy.py``'s own :func:`score_case` and :func:`summarise` (imported). For
   every replaced call the log also says how the analysis classified it (``is_call``, ``p_call``
   from the case's ``calls`` table; absent when the gate dropped it) and whether it was taken as a
   reaction (``call_targets.reaction``). The results also list the missed campaigns and the false
   alarms with the real rows behind their calls, the fold classifier's decision on each misread real
   text alone (``text_alone``: the classifier's own error, or what the appended links added), and
   ``link_effect``: the fold classifiers on every real post as written and with a video link appended.

    nice -n 10 .venv/bin/python bench/accuracy_real_text.py --seeds 20 --jobs 1   # 140 cases, ~1 h on 2 busy cores
    .venv/bin/python bench/accuracy_real_text.py --diagnose --baseline accuracy.json  # redo the diagnostics
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from accuracy import ALARM, _targets, print_table, score_case, summarise  # noqa: E402

from detector.features import calls as calls_module  # noqa: E402
from detector.ids import extract_urls  # noqa: E402

DETECTOR = str(Path(sys.executable).parent / "detector")
CHILD = "--child-fold"
FAMILIES = ("campaign", "failed", "mixed", "aftermath", "organic", "multichannel", "partial")
# role of a replaced post -> (label, preferred kinds in order; empty: any kind of that label)
ROLES = {
    "call": ("call", ()),
    "boast": ("boast", ()),
    "gloat": ("boast", ()),
    "supporter": ("other", ("victim", "appeal")),
    "news": ("other", ("news",)),
    "news_quote": ("other", ("quoted_call", "news")),
    "thanks": ("other", ("thanks",)),
    "mention": ("other", ("chatter",)),
}
# A line that a WhatsApp reader could take for a message header (a date then a time): a real text
# with such a line would split its message in two, so it is never put in a WhatsApp chat.
_HEADER_LIKE = re.compile(r"^\W*\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{0,12}\d{1,2}[:.]\d{2}", re.MULTILINE)


# ---- folds -------------------------------------------------------------------------------------

def real_rows() -> pd.DataFrame:
    """The real labelled posts (:func:`detector.features.calls.read_real`) with ``row``: the
    1-based data row of the post in its ``file``."""
    real = calls_module.read_real().reset_index(drop=True)
    return real.assign(row=real.groupby("file").cumcount() + 1)


def fold_of_rows(real: pd.DataFrame, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number of each real row: ``StratifiedGroupKFold`` by label, grouped by
    ``language|group``, exactly as :func:`detector.features.calls.cross_validate_real`."""
    from sklearn.model_selection import StratifiedGroupKFold

    fold = np.full(len(real), -1)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(real)), real["label"],
                                                 groups=real["language"] + "|" + real["group"])):
        fold[test] = k
    return fold


def fold_training_set(fold: int, folds: int = 5, seed: int = 0, full=None) -> pd.DataFrame:
    """The default training set (:func:`detector.features.calls.training_set`, or ``full``) without
    the real rows of ``fold``. Columns as the default's."""
    full = (full or calls_module.training_set)()
    real = full[full["origin"] == "real"]
    rows = real_rows()
    if len(real) != len(rows) or not (real["text"].to_numpy() == rows["text"].to_numpy()).all():
        raise RuntimeError("the default training set's real rows are not read_real()'s, in order")
    held_out = real.index[fold_of_rows(rows, folds, seed) == fold]
    return full.drop(index=held_out).reset_index(drop=True)


FOLD_ADAPTERS = "DETECTOR_BENCH_FOLD_ADAPTERS"


def fold_encoder(fold: int, folds: int, seed: int, folder: Path):
    """The tuned encoder fitted without fold ``fold``'s real rows (``bench/calls_finetune.py
    --save-fold-adapters``): refused unless it held out exactly this fold's threads."""
    from detector.features.tuned import TunedEncoder

    adapter, manifest = folder / f"fold{fold}" / "adapter.npz", folder / f"fold{fold}" / "adapter.json"
    rows = real_rows()
    mine = sorted(set((rows["language"] + "|" + rows["group"])[fold_of_rows(rows, folds, seed) == fold]))
    theirs = json.loads(manifest.read_text(encoding="utf-8")).get("held_out")
    if theirs != mine:
        raise RuntimeError(f"{manifest}: it did not hold out fold {fold}'s threads of this split")
    return TunedEncoder(adapter_path=adapter, manifest_path=manifest)


def child_main(fold: int, folds: int, seed: int, cli_args: list[str]) -> None:
    """Run the CLI with the fold's training set in place of the default one, and the fold's tuned
    encoder in place of the bundled one (which was fitted on every real row) when
    ``DETECTOR_BENCH_FOLD_ADAPTERS`` names them; without them the parent passes
    ``--no-call-encoder``."""
    full = calls_module.training_set
    calls_module.training_set = lambda: fold_training_set(fold, folds, seed, full=full)
    if os.environ.get(FOLD_ADAPTERS):
        import functools

        from detector.features import tuned

        encoder = fold_encoder(fold, folds, seed, Path(os.environ[FOLD_ADAPTERS]))
        tuned.tuned_encoder = functools.lru_cache(maxsize=1)(lambda: encoder)
    from detector.cli import main

    main.main(args=cli_args, prog_name="detector")


# ---- which posts get which real text -----------------------------------------------------------

def _posts_to_replace(truth: dict) -> list[tuple[str, dict, str]]:
    """(role, truth ref, group) for every collected post to rewrite; posts of one ``group`` share
    one real text (a call, its forwards and its copies)."""
    out = []

    def calls(refs: list[dict], key: str):
        group = None
        for i, ref in enumerate(refs):
            if ref["kind"] in ("origin",) or group is None:
                group = f"{key}:{i}"
            mine = group if ref["kind"] in ("origin", "forward", "copy") else f"{key}:{i}:rephrased"
            out.append(("call", ref, mine))

    for c in truth.get("campaigns", []):
        for w in c.get("waves", []):
            calls(w["calls"], f"{c['id']}:w{w['wave']}")
        for i, b in enumerate(c.get("boasts", [])):
            out.append(("boast", b, f"{c['id']}:boast{i}"))
    for f in truth.get("failed_calls", []):
        calls(f["calls"], f["id"])
    for i, r in enumerate(truth.get("reaction_posts", [])):
        out.append((r["reaction"], r, f"reaction{i}"))
    for i, r in enumerate(truth.get("news_quotes", [])):
        out.append(("news_quote", r, f"quote{i}"))
    for i, r in enumerate(truth.get("thanks_posts", [])):
        out.append(("thanks", r, f"thanks{i}"))
    for o in truth.get("organic_bursts", []):
        for i, r in enumerate(o.get("mentions", [])):
            out.append(("mention", r, f"{o['id']}:mention{i}"))
    return [(role, ref, group) for role, ref, group in out if ref.get("observed", True)]


def _candidates(pool: pd.DataFrame, role: str, language: str, whatsapp: bool) -> tuple[pd.DataFrame, bool]:
    """Rows of ``pool`` fit for ``role``: the preferred kind first, the post's language if any;
    returns (rows, same_language)."""
    label, kinds = ROLES[role]
    rows = pool[pool["label"] == label]
    if whatsapp:
        rows = rows[~rows["text"].str.contains(_HEADER_LIKE)]
    for kind in kinds:
        if (rows["kind"] == kind).any():
            rows = rows[rows["kind"] == kind]
            break
    same = rows[rows["language"] == language]
    return (same, True) if len(same) else (rows, False)


def plan_case(truth: dict, pool: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """The replacement of every post to rewrite: role, the post (chat, message id or local time and
    author), the real row (file, row, language, kind, label, source) and its text."""
    used: set[int] = set()
    chosen: dict[str, int] = {}
    plan = []
    for role, ref, group in _posts_to_replace(truth):
        if group not in chosen:
            rows, _ = _candidates(pool, role, ref["language"], ref["platform"] == "whatsapp")
            if rows.empty:
                continue
            fresh = rows[~rows.index.isin(used)]
            pick = (fresh if len(fresh) else rows).index[int(rng.integers(len(fresh) or len(rows)))]
            used.add(pick)
            chosen[group] = pick
        row = pool.loc[chosen[group]]
        post = {k: ref[k] for k in ("platform", "chat", "chat_title", "message_id", "local_time", "author",
                                    "post_id", "posted_at", "kind", "language") if k in ref}
        plan.append({"role": role, "group": group, "post": post, "file": row["file"], "row": int(row["row"]),
                     "real_language": row["language"], "same_language": row["language"] == ref["language"],
                     "real_label": row["label"], "real_kind": row["kind"], "source": row["source"],
                     "text": _clean(row["text"])})
    return plan


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n").strip()


# ---- rewriting the exports ---------------------------------------------------------------------

def _telegram_links(message: dict) -> list[dict]:
    """The link entities of a Telegram message (``link``, ``text_link``, ``mention``) and any URL
    written as plain text (bare or defanged), as entities, in order."""
    out = []
    for ent in message.get("text_entities") or []:
        if ent.get("type") in ("link", "text_link", "mention"):
            out.append({k: ent[k] for k in ("type", "text", "href") if k in ent})
        elif ent.get("type") == "plain":
            out.extend({"type": "plain", "text": url} for url in extract_urls(ent.get("text", "")))
    return out


def _telegram_rewrite(message: dict, text: str) -> None:
    """Set ``message``'s text to ``text`` followed by its own links, in the tdesktop shapes."""
    ents = [{"type": "plain", "text": text}]
    for ent in _telegram_links(message):
        ents.append({"type": "plain", "text": "\n"})
        ents.append(ent)
    merged: list[dict] = []
    for ent in ents:   # tdesktop never writes two plain entities in a row
        if merged and ent["type"] == "plain" and merged[-1]["type"] == "plain":
            merged[-1] = {"type": "plain", "text": merged[-1]["text"] + ent["text"]}
        else:
            merged.append(ent)
    message["text_entities"] = merged
    message["text"] = merged[0]["text"] if len(merged) == 1 else \
        [e["text"] if e["type"] == "plain" else e for e in merged]


def _rewrite_telegram_file(path: Path, by_id: dict[int, str]) -> int:
    doc = json.loads(path.read_text(encoding="utf-8"))
    done = 0
    for message in doc["messages"]:
        if message.get("id") in by_id:
            _telegram_rewrite(message, by_id[message["id"]])
            done += 1
    text = json.dumps(doc, ensure_ascii=False, indent=1).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    path.write_bytes(text.encode("utf-8"))
    return done


# The two header shapes detector.simulate writes (exports.py): Android "D/M/YY, HH:MM - " and iOS
# "[DD.MM.YY, HH:MM:SS] "; the author (up to ": ") follows on messages, not on system lines.
_WA_ANDROID = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}), (\d{2}):(\d{2}) - ")
_WA_IOS = re.compile(r"^\u200e?\[(\d{2})\.(\d{2})\.(\d{2}), (\d{2}):(\d{2}):(\d{2})\] ")
_WA_AUTHOR = re.compile(r"([^:\n]+): ")


def _wa_header(line: str) -> tuple[str, str, int] | None:
    """(local time ISO, author or "", length of the header) of a simulated WhatsApp header line,
    None for a continuation line."""
    m = _WA_ANDROID.match(line)
    if m:
        d, mo, y, h, mi = m.groups()
        when = f"20{y}-{int(mo):02d}-{int(d):02d}T{h}:{mi}:00"
    else:
        m = _WA_IOS.match(line)
        if not m:
            return None
        d, mo, y, h, mi, s = m.groups()
        when = f"20{y}-{mo}-{d}T{h}:{mi}:{s}"
    a = _WA_AUTHOR.match(line, m.end())
    return (when, a.group(1), a.end()) if a else (when, "", m.end())


def _norm_author(author: str) -> str:
    return author.replace("\u202a", "").replace("\u202c", "").replace("\u00a0", " ").strip()


def rewrite_whatsapp_text(data: str, wanted: dict[tuple[str, str], list[str]]) -> tuple[str, int]:
    """Replace the bodies of the messages keyed (local time, author) in a simulated WhatsApp export
    by the texts of ``wanted`` (one per message with that key, in file order), each followed by the
    message's own URLs on their own lines. Line separator kept (``\\r\\n`` on iOS)."""
    sep = "\r\n" if "\r\n" in data else "\n"
    lines = data.split(sep)
    trailing = lines[-1] == ""
    if trailing:
        lines = lines[:-1]
    messages: list[list[str]] = []
    for line in lines:
        if _wa_header(line) or not messages:
            messages.append([line])
        else:
            messages[-1].append(line)
    queues = {k: list(v) for k, v in wanted.items()}
    done = 0
    out: list[str] = []
    for msg in messages:
        head = _wa_header(msg[0])
        key = (head[0], _norm_author(head[1])) if head else None
        if key in queues and queues[key]:
            body = "\n".join([msg[0][head[2]:], *msg[1:]])
            urls = extract_urls(body)
            new = "\n".join([queues[key].pop(0), *urls])
            msg = (msg[0][:head[2]] + new).split("\n")
            done += 1
        out.extend(msg)
    return sep.join(out) + (sep if trailing else ""), done


def _rewrite_whatsapp_file(path: Path, wanted: dict[tuple[str, str], list[str]]) -> int:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            info = zf.infolist()[0]
            data = zf.read(info).decode("utf-8")
        text, done = rewrite_whatsapp_text(data, wanted)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(info, text.encode("utf-8"), compresslevel=6)
        path.write_bytes(buf.getvalue())
        return done
    text, done = rewrite_whatsapp_text(path.read_text(encoding="utf-8"), wanted)
    path.write_bytes(text.encode("utf-8"))
    return done


def rewrite_case(case_dir: Path, truth: dict, plan: list[dict]) -> int:
    """Apply ``plan`` to the exported chats of ``case_dir``; returns the posts rewritten (raises if
    one could not be found)."""
    files = {c["chat"]: c["file"] for c in truth["chats"]}
    per_file: dict[str, list[dict]] = {}
    for item in plan:
        per_file.setdefault(files[item["post"]["chat"]], []).append(item)
    done = 0
    for rel, items in per_file.items():
        path = case_dir / rel
        if items[0]["post"]["platform"] == "telegram":
            n = _rewrite_telegram_file(path, {i["post"]["message_id"]: i["text"] for i in items})
        else:
            wanted: dict[tuple[str, str], list[str]] = {}
            for i in sorted(items, key=lambda i: i["post"]["posted_at"]):
                wanted.setdefault((i["post"]["local_time"], _norm_author(i["post"]["author"])), []).append(i["text"])
            n = _rewrite_whatsapp_file(path, wanted)
        if n != len(items):
            raise RuntimeError(f"{rel}: rewrote {n} of {len(items)} posts")
        done += n
    return done


# ---- one case ----------------------------------------------------------------------------------

def _run(args: list[str], env: dict | None = None) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed: {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def _outcomes(con, plan: list[dict]) -> None:
    """Add to each replaced post how the analysis classified it (calls table, by chat title and
    time) and, for calls, whether any of its targets was taken as a reaction."""
    calls = con.execute("SELECT post_id, chat_title, posted_at, is_call, kind, p_call, text FROM calls").df()
    calls["at"] = pd.to_datetime(calls["posted_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    reaction = con.execute("SELECT post_id, bool_or(reaction) AS reaction FROM call_targets GROUP BY post_id").df()
    reaction = dict(zip(reaction["post_id"], reaction["reaction"], strict=True))
    for item in plan:
        post = item["post"]
        hit = calls[(calls["chat_title"] == post["chat_title"]) & (calls["at"] == post["posted_at"])]
        hit = hit[hit["text"].fillna("").str.startswith(item["text"][:40])]
        if hit.empty:
            item["classified"] = "other"   # the calls table holds the calls and boasts only
            continue
        row = hit.iloc[0]
        item["analysed_post_id"] = row["post_id"]
        item["classified"] = row["kind"]
        item["p_call"] = None if pd.isna(row["p_call"]) else round(float(row["p_call"]), 3)
        item["reaction"] = bool(reaction[row["post_id"]]) if row["post_id"] in reaction else None


def run_case(family: str, seed: int, fold: int, folds: int, fold_seed: int, cache_root: str,
             fold_adapters: str | None = None) -> dict:
    """Simulate, rewrite with fold ``fold``'s real posts, then ingest, analyse and read back with
    the fold's classifier; return what bench/accuracy.py's scoring needs plus the replacements."""
    real = real_rows()
    pool = real[fold_of_rows(real, folds, fold_seed) == fold]
    env = dict(os.environ, DETECTOR_CACHE_DIR=str(Path(cache_root) / f"fold{fold}"))
    env.pop(FOLD_ADAPTERS, None)
    if fold_adapters:
        env[FOLD_ADAPTERS] = str(Path(fold_adapters).resolve())
    # the bundled encoder has read every real row, so without the fold's own it stays off
    encoder_off = [] if fold_adapters else ["--no-call-encoder"]
    child = [sys.executable, str(Path(__file__).resolve()), CHILD, f"{fold},{folds},{fold_seed}"]
    with tempfile.TemporaryDirectory() as tmp:
        out, db = Path(tmp) / "case", Path(tmp) / "case.duckdb"
        t0 = time.perf_counter()
        _run([DETECTOR, "simulate", "--out", str(out), "--seed", str(seed), "--scenario", family])
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        plan = plan_case(truth, pool, np.random.default_rng([seed, fold, FAMILIES.index(family)]))
        rewrite_case(out, truth, plan)
        _run([*child, "ingest", str(out), "--db", str(db)], env)
        t1 = time.perf_counter()
        _run([*child, "analyze", "--db", str(db), "--seed", str(seed), *encoder_off], env)
        t2 = time.perf_counter()
        campaigns = json.loads(_run([*child, "campaigns", "--db", str(db), "--json"], env))
        con = duckdb.connect(str(db), read_only=True)
        try:
            p_link = [r[0] for r in con.execute(
                "SELECT p_value FROM links WHERE p_value IS NOT NULL AND informative").fetchall()]
            p_burst = [r[0] for r in con.execute("SELECT p_burst FROM scans WHERE notices > 0").fetchall()]
            _outcomes(con, plan)
        finally:
            con.close()
    return {"family": family, "seed": seed, "fold": fold, "campaigns": campaigns, "truth": truth,
            "p_link": p_link, "p_burst": p_burst, "ingest_s": t1 - t0, "analyze_s": t2 - t1,
            "replacements": plan}


# ---- the run -----------------------------------------------------------------------------------

def missed(result: dict) -> list[dict]:
    """The true campaigns of a case that no alarm found, with their replaced calls' outcomes."""
    truth = result["truth"]
    handles = {f"youtube:handle:{s['handle']}".casefold(): s["target"] for s in truth.get("subjects", [])}
    alarms = [_targets(c, handles) for c in result["campaigns"] if c["tier"] in ALARM]
    out = []
    for camp in truth.get("campaigns", []):
        hits = set(camp.get("hit_targets") or camp["targets"])
        if any(len(hits & a) >= max(1, len(hits) / 2) for a in alarms):
            continue
        tiers = [c["tier"] for c in result["campaigns"] if _targets(c, handles) & hits]
        late = {(r["chat"], r["posted_at"]): r.get("after_first_notice") for r in camp.get("calls", [])}
        calls = [r for r in result["replacements"] if r["role"] == "call" and r["group"].startswith(camp["id"] + ":")]
        out.append({"family": result["family"], "seed": result["seed"], "campaign": camp["id"],
                    "tiers_naming_its_targets": tiers,
                    "calls": [{k: r.get(k) for k in ("file", "row", "real_language", "source", "classified", "p_call",
                                                     "reaction")}
                              | {"after_first_notice": late.get((r["post"]["chat"], r["post"]["posted_at"]))}
                              for r in calls]})
    return out


def false_alarms(result: dict) -> list[dict]:
    """The alarms of a case that name no hit target of a true campaign, with what their calls were:
    the replaced post behind each call (its role and real row) or "simulated" for a post kept as
    written."""
    truth = result["truth"]
    handles = {f"youtube:handle:{s['handle']}".casefold(): s["target"] for s in truth.get("subjects", [])}
    hits = set().union(*[set(c.get("hit_targets") or c["targets"]) for c in truth.get("campaigns", [])])
    organic = {t: o["id"] for o in truth.get("organic_bursts", []) for t in o["targets"]}
    out = []
    for camp in result["campaigns"]:
        targets = _targets(camp, handles)
        if camp["tier"] not in ALARM or targets & hits:
            continue
        posts = []
        for post_id in camp.get("call_post_ids", []):
            item = next((r for r in result["replacements"] if r.get("analysed_post_id") == post_id), None)
            posts.append({"post_id": post_id, "role": "simulated"} if item is None else
                         {"post_id": post_id, **{k: item.get(k) for k in ("role", "file", "row", "real_language",
                                                                          "source", "p_call", "reaction")}})
        out.append({"family": result["family"], "seed": result["seed"], "tier": camp["tier"],
                    "targets": sorted(targets), "organic_bursts": sorted({organic[t] for t in targets if t in organic}),
                    "p_link": camp.get("p_link"), "p_burst": camp.get("p_burst"), "calls": posts})
    return out


def text_alone(replacements: list[dict], folds: int, fold_seed: int) -> list[dict]:
    """For every replaced post the analysis got wrong (a real call not taken for a call, a real
    non-call taken for one), the decision of its fold's classifier on the real text alone, without
    the links appended and outside the case: tells the classifier's own error from what the
    rewriting added."""
    from detector.features.calls import CALL_THRESHOLD, _decide_texts, call_probabilities, fit_call_model

    real = real_rows().set_index(["file", "row"])
    wrong = [r for r in replacements if (r["role"] == "call") != (r.get("classified") == "call")]
    out = []
    for fold in sorted({r["fold"] for r in wrong}):
        mine = [r for r in wrong if r["fold"] == fold]
        model = fit_call_model(fold_training_set(fold, folds, fold_seed))
        texts = [_clean(real.loc[(r["file"], r["row"]), "text"]) for r in mine]
        probs = call_probabilities(texts, model)
        kinds, _ = _decide_texts(probs, texts, CALL_THRESHOLD)
        for r, kind, p in zip(mine, kinds, probs["p_call"], strict=True):
            out.append({k: r.get(k) for k in ("case", "fold", "role", "file", "row", "real_language",
                                              "classified", "p_call", "reaction")}
                       | {"source": real.loc[(r["file"], r["row"]), "source"], "alone": str(kind),
                          "p_call_alone": round(float(p), 3)})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "results" / "accuracy_real_text.json"))
    parser.add_argument("--fold-adapters", help="folder of per-fold tuned encoders (bench/calls_finetune.py "
                                                "--save-fold-adapters, same folds and seed); without it the "
                                                "analysis runs with --no-call-encoder")
    parser.add_argument("--diagnose", action="store_true",
                        help="only add 'text_alone' and 'link_effect' to an existing --out file (a run that "
                             "finishes does it too)")
    parser.add_argument("--baseline", help="with --diagnose: a bench/accuracy.py results file of the same "
                                           "families and seeds (the simulator's own texts) to keep beside")
    args = parser.parse_args(argv)
    if args.diagnose:
        add_text_alone(Path(args.out))
        if args.baseline:
            add_baseline(Path(args.out), Path(args.baseline))
        return
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)} (choose from {', '.join(FAMILIES)})")
    started = time.perf_counter()
    load = os.getloadavg()
    cache_root = tempfile.mkdtemp(prefix="accuracy-real-text-cache-")
    # seed-major order: a run stopped early still has every family at about the same count
    jobs = [(f, args.first_seed + i, i % args.folds) for i in range(args.seeds) for f in families]
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, f, s, k, args.folds, args.fold_seed, cache_root, args.fold_adapters) for f, s, k in jobs]
        for fut in futures:
            res = fut.result()
            results.append(res)
            sc = score_case(res)
            calls = [r for r in res["replacements"] if r["role"] == "call"]
            print(f"  {res['family']:12} seed {res['seed']} fold {res['fold']}: {len(res['campaigns'])} campaigns, "
                  f"{sc['alarms']} alarms, found {sc['found']}/{sc['true_campaigns']}; replaced "
                  f"{len(res['replacements'])} posts, real calls classified as calls "
                  f"{sum(r.get('classified') == 'call' for r in calls)}/{len(calls)} "
                  f"(analyze {res['analyze_s']:.1f} s)", flush=True)
            write_results(args, families, results, started, load)   # after every case: a partial run is kept
    shutil.rmtree(cache_root, ignore_errors=True)
    summary = write_results(args, families, results, started, load)
    add_text_alone(Path(args.out))
    print_table(summary)
    print(pd.DataFrame(json.loads(Path(args.out).read_text(encoding="utf-8"))["replaced_by_role"]).to_string())


def by_role(replaced: list[dict]) -> pd.DataFrame:
    """Per role of replaced post: how many, the share in the post's own language, and the share the
    analysis classified as a call, as a boast, and (calls) as a reaction."""
    df = pd.DataFrame(replaced)
    return (df.assign(as_call=df["classified"] == "call", as_boast=df["classified"] == "boast",
                      as_reaction=df.get("reaction", pd.Series(index=df.index, dtype=object)) == True)  # noqa: E712
            .groupby("role").agg(posts=("role", "size"), same_language=("same_language", "mean"),
                                 classified_call=("as_call", "mean"), classified_boast=("as_boast", "mean"),
                                 reaction=("as_reaction", "mean")).round(3).reset_index())


LINK = "https://youtu.be/Ab3dE_gH1jK"   # a video link of the shape the simulator writes


def link_effect(folds: int = 5, fold_seed: int = 0) -> dict:
    """The classifier on the real posts of each fold (fitted without them), as written and with a
    video link appended on its own line (what the rewriting does): per label, the share decided
    ``call``, and call precision and recall. Measures how far appending the link moves the
    decision, apart from any case."""
    from detector.features.calls import CALL_THRESHOLD, _decide_texts, call_probabilities, fit_call_model

    real = real_rows()
    fold = fold_of_rows(real, folds, fold_seed)
    decided = {"alone": np.empty(len(real), dtype=object), "link": np.empty(len(real), dtype=object)}
    for k in range(folds):
        model = fit_call_model(fold_training_set(k, folds, fold_seed))
        texts = [_clean(t) for t in real.loc[fold == k, "text"]]
        for name, batch in (("alone", texts), ("link", [t + "\n" + LINK for t in texts])):
            kinds, _ = _decide_texts(call_probabilities(batch, model), batch, CALL_THRESHOLD)
            decided[name][fold == k] = kinds
    out = {}
    label = real["label"].to_numpy()
    for name, kinds in decided.items():
        called = kinds == "call"
        out[name] = {"call_precision": round(float((called & (label == "call")).sum() / max(called.sum(), 1)), 3),
                     "call_recall": round(float((called & (label == "call")).sum() / (label == "call").sum()), 3),
                     "called_call_by_label": {lab: round(float(called[label == lab].mean()), 3)
                                              for lab in ("call", "boast", "other")},
                     "called_call_by_other_kind": {kind: round(float(called[(label == "other")
                                                                            & (real["kind"] == kind).to_numpy()].mean()), 3)
                                                   for kind in sorted(real.loc[real["label"] == "other", "kind"].unique())}}
    return out


def add_baseline(path: Path, baseline: Path) -> None:
    """Keep ``baseline`` (bench/accuracy.py's results on the same families and seeds, the texts as
    simulated) in the results file: its command, time, machine, summary and per-case scores."""
    out = json.loads(path.read_text(encoding="utf-8"))
    base = json.loads(baseline.read_text(encoding="utf-8"))
    out["written_texts_baseline"] = {k: base[k] for k in ("command", "when", "machine", "seconds", "summary")} | {
        "cases": [{k: c[k] for k in ("family", "seed", "score")} for c in base["cases"]]}
    write_json(path, out)


def add_text_alone(path: Path) -> None:
    """Add :func:`text_alone` and its counts per role to the results file at ``path``."""
    out = json.loads(path.read_text(encoding="utf-8"))
    log = out["replacements"]
    rows = text_alone([dict(zip(log["columns"], row, strict=True)) for row in log["rows"]],
                      out["folds"], out["fold_seed"])
    out["text_alone"] = rows
    df = pd.DataFrame(rows)
    if len(df):
        df["still_wrong_alone"] = (df["role"] == "call") != (df["alone"] == "call")
        out["text_alone_by_role"] = json.loads(df.groupby("role").agg(
            wrong_in_case=("role", "size"), wrong_alone=("still_wrong_alone", "sum")).reset_index().to_json(
            orient="records"))
        print(pd.DataFrame(out["text_alone_by_role"]).to_string())
    out["link_effect"] = link_effect(out["folds"], out["fold_seed"])
    print(json.dumps(out["link_effect"], indent=1))
    write_json(path, out)


def write_json(path: Path, out: dict) -> None:
    """The results as indented JSON, the replacement log's rows one per line (it has ~100 a case)."""
    head = json.dumps({k: v for k, v in out.items() if k != "replacements"}, indent=1, ensure_ascii=False,
                      default=str)
    log = out.get("replacements")
    if log is not None:
        rows = ",\n  ".join(json.dumps(r, ensure_ascii=False, default=str) for r in log["rows"])
        head = (head[:-2] + ',\n "replacements": {"columns": ' + json.dumps(log["columns"])
                + ', "rows": [\n  ' + rows + "\n ]}\n}")
    path.write_text(head, encoding="utf-8")


LOG_COLUMNS = ("case", "fold", "role", "group", "platform", "chat", "post", "post_kind", "post_language", "file", "row",
               "real_language", "real_kind", "classified", "p_call", "reaction")


def replacement_table(replaced: list[dict]) -> dict:
    """The log of every replaced post as one table (``columns``, ``rows``): the case, the post
    (Telegram post id, or WhatsApp "local time|author"), the real row (file, 1-based data row) and
    how the analysis classified the post. The real row's source is in its file."""
    rows = []
    for r in replaced:
        post = r["post"]
        where = post.get("post_id") or f"{post.get('local_time')}|{post.get('author')}"
        values = {**r, "platform": post["platform"], "chat": post["chat"], "post": where, "post_kind": post["kind"],
                  "post_language": post["language"]}
        rows.append([values.get(c) for c in LOG_COLUMNS])
    return {"columns": list(LOG_COLUMNS), "rows": rows}


def case_record(result: dict) -> dict:
    """One case as kept in the results: family, seed, fold, times, score and its campaigns (without
    the findings' text)."""
    return {"family": result["family"], "seed": result["seed"], "fold": result["fold"],
            "ingest_s": result["ingest_s"], "analyze_s": result["analyze_s"], "score": score_case(result),
            "campaigns": [{k: v for k, v in c.items() if k not in ("findings", "notice_ids")}
                          for c in result["campaigns"]]}


def write_results(args, families: list[str], results: list[dict], started: float, load) -> dict:
    summary = summarise(results, [f for f in families if any(r["family"] == f for r in results)])
    replaced = [r | {"case": f"{res['family']}:{res['seed']}", "fold": res["fold"]}
                for res in results for r in res["replacements"]]
    out = {"command": " ".join(["python bench/accuracy_real_text.py", *sys.argv[1:]]),
           "when": datetime.now(UTC).isoformat(),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_average_at_start": [round(x, 2) for x in load],
                       "load_average_now": [round(x, 2) for x in os.getloadavg()]},
           "seconds": round(time.perf_counter() - started, 1), "folds": args.folds, "fold_seed": args.fold_seed,
           "cases_done": len(results), "cases_planned": args.seeds * len(families),
           "summary": summary, "replaced_by_role": json.loads(by_role(replaced).to_json(orient="records")),
           "missed_campaigns": [m for res in results for m in missed(res)],
           "false_alarms": [m for res in results for m in false_alarms(res)],
           "cases": [case_record(r) for r in results],
           "replacements": replacement_table(replaced)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out), out)
    return summary


if __name__ == "__main__":
    if sys.argv[1:2] == [CHILD]:   # a child: CHILD "fold,folds,seed" then the detector CLI's arguments
        fold, folds, seed = map(int, sys.argv[2].split(","))
        child_main(fold, folds, seed, sys.argv[3:])
    else:
        main()
