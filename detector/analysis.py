"""``detector analyze``: from a case's notices and posts to calls, bursts, links and campaigns.

:func:`analyze_frames` is the pure pipeline (DataFrames in, DataFrames out);
:func:`analyze_case` reads a case, runs it and stores every derived table in the case.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from detector import custody
from detector.analysis_posts import AnalysisPosts, release_arrow_memory
from detector.campaign import CampaignInputs, build_campaigns
from detector.features.bursts import Period, detect_bursts
from detector.features.calls import (
    call_model,
    classify_calls,
    confirm_boasts,
    model_texts,
    requested_policies,
)
from detector.features.context import reads_context, reply_context
from detector.features.copies import copy_clusters, near_duplicate_pairs
from detector.features.networks import co_reporting_edges, forward_edges
from detector.identity import apply_aliases, case_aliases, resolve_aliases
from detector.params import DEFAULTS, Parameters
from detector.review import apply_reviews, marked_posts
from detector.store import Case

STEPS = ("calls", "copies", "bursts", "campaigns")
READ_MEMORY = "256MB"   # what DuckDB may hold while the analysis reads a case (it scans each table once)


@dataclass
class Analysis:
    """Every derived table of one analysis."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    period: Period | None = None
    parameters: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


software_version = custody.software_version


def analyze_frames(notices: pd.DataFrame, posts: pd.DataFrame | AnalysisPosts, exposure: pd.DataFrame,
                   params: Parameters | None = None, on_step: Callable[[str], None] | None = None,
                   aliases: pd.DataFrame | None = None, previous: pd.DataFrame | None = None,
                   seed: int | None = None, reviews: pd.DataFrame | None = None) -> Analysis:
    """Run the whole analysis on the case's tables (schemas in :mod:`detector.schema`).

    ``posts``: the posts table, or a case's posts with their texts apart
    (:class:`~detector.analysis_posts.AnalysisPosts`, as :func:`analyze_case` reads them).
    ``params``: every analysis parameter (:class:`detector.params.Parameters`; default
    :data:`~detector.params.DEFAULTS`); ``seed``, when given, replaces ``params.seed``.

    ``aliases``: stored channel alias pairs (the ``aliases`` table); with the pairs the notices
    give themselves they make one target of each channel (:mod:`detector.identity`).
    ``previous``: the campaigns of an earlier analysis of the case, so that campaigns keep their ids.
    ``reviews``: the analysts' decisions (the ``reviews`` table, :mod:`detector.review`): rejected
    posts are no calls or boasts, posts marked as a call or boast are one whatever the classifier
    said, and with ``params.reviewed_only`` only confirmed and marked ones count.
    """
    P = (params or DEFAULTS).replace(seed=seed)
    step = on_step or (lambda _name: None)
    identities = case_aliases(aliases if aliases is not None else pd.DataFrame(), notices)
    mapping = resolve_aliases(identities)
    identities = identities.assign(resolved=identities["canonical"].map(lambda c: mapping.get(c, c)))
    notices = apply_aliases(notices, mapping)
    read = posts if isinstance(posts, AnalysisPosts) else AnalysisPosts.of(posts)
    posts = apply_aliases(read.frame, mapping, columns=())
    period = Period.of(notices["received_at"], posts["posted_at"])
    step("calls")
    reviews = reviews if reviews is not None else pd.DataFrame()
    classified, callish = _calls_and_boasts(read, posts["targets"], mapping, P, marked=set(marked_posts(reviews)))
    post_cols = ["post_id", "platform", "chat", "chat_title", "author", "posted_at", "text", "forwarded_from",
                 "forwarded_at"]
    reviewed = apply_reviews(classified, reviews, P.reviewed_only, all_ids=posts["post_id"])
    # Only calls and boasts are joined to their posts and read from here on (confirming a boast
    # reads the calls and boasts alone): joining every post copied every post's text.
    calls = confirm_boasts(reviewed[reviewed["kind"] != "other"].merge(callish.reindex(columns=post_cols), on="post_id", how="left"),
                           pd.Timedelta(days=P.boast_horizon_days))
    calls = calls[calls["kind"] != "other"].reset_index(drop=True)
    step("copies")
    callish = callish[callish["post_id"].isin(set(calls["post_id"]))]
    pairs = near_duplicate_pairs(callish, threshold=P.copy_threshold, seed=P.rng_seed("copies"))
    clusters = copy_clusters(callish, pairs)
    forwards = forward_edges(posts)
    coreports = co_reporting_edges(notices, window_seconds=P.coreport_window_s, min_edge_weight=P.coreport_min_weight)
    step("bursts")
    scans, bursts = detect_bursts(notices, exposure, period, params=P)
    step("campaigns")
    inputs = CampaignInputs(posts=posts, calls=calls, notices=notices, exposure=exposure, pairs=pairs, period=period,
                            coreports=coreports, previous=previous, params=P, chats=read.chat_names)
    campaigns, findings, links, reactions = build_campaigns(inputs)
    bursts = explain_bursts(bursts, campaigns)
    tables = {"calls": calls, "pairs": pairs,
              "clusters": clusters, "forwards": forwards, "coreports": coreports, "scans": scans, "bursts": bursts, "links": links,
              "campaigns": campaigns, "findings": findings, "identities": identities,
              "call_targets": reactions}
    record = {"seed": P.seed, "parameters": P.as_dict(), "period_start": period.start.isoformat(),
              "period_end": period.end.isoformat(), "posts_classified": int(len(posts)),
              "version": software_version()}
    return Analysis(tables=tables, period=period, parameters=record)


def _calls_and_boasts(posts: AnalysisPosts, targets: pd.Series, mapping: dict[str, str], P: Parameters,
                      marked: set[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The calls step over ``posts`` batch by batch: the calls and boasts :func:`classify_calls`
    finds (ids resolved through ``mapping``), and their posts with every column, in the posts'
    order and index. ``targets``: every post's targets, already resolved (a row per post, in
    order), which each batch takes instead of resolving its own again.

    ``marked``: ids of posts an analyst marked as a call or boast; those the classifier took for
    ``other`` are kept too, described by :func:`_described_marked` (their rows' ``kind`` stays
    the machine's "other" until the reviews are applied).

    Only calls and boasts go on (every table reads those alone): no row per other post to
    resolve, review, join to its post and store, which at 10^6 chatter posts cost seconds; and
    no other post's text is held past its batch. Each post is classified on its own, so the
    batches change nothing, unless the model reads a post's thread (the text of the post it
    replies to, which may be in another batch): then the posts are one batch.
    """
    rows = len(posts) if len(posts) > posts.BATCH_ROWS and reads_context(call_model()) else None
    found, kept, first = [], [], 0
    for batch in posts.batches(rows):
        batch = batch.assign(targets=targets.iloc[first:first + len(batch)].set_axis(batch.index))
        first += len(batch)
        classified = apply_aliases(classify_calls(_texts_present(batch), threshold=P.call_threshold,
                                                  workers=P.workers, keep_other=False,
                                                  second_opinion=P.call_encoder), mapping, columns=())
        missed = _described_marked(batch, marked - set(classified["post_id"]), P) if marked else None
        if missed is not None:
            classified = pd.concat([classified, apply_aliases(missed, mapping, columns=())], ignore_index=True)
        found.append(classified)
        kept.append(batch[batch["post_id"].isin(set(classified["post_id"]))])
        del batch           # one batch's texts at a time
        release_arrow_memory()
    return pd.concat(found, ignore_index=True), pd.concat(kept)


def _described_marked(batch: pd.DataFrame, marked: set[str], P: Parameters) -> pd.DataFrame | None:
    """The posts of ``batch`` in ``marked`` (an analyst marked them; the classifier kept none of
    them), as :func:`classify_calls` describes a call: scored even where no gate passes (so their
    ``p_call`` is the machine's), their targets and language, and the policy they name read as the
    classifier reads it for a call (:func:`requested_policies`). None when the batch has none."""
    rows = batch[batch["post_id"].isin(marked)]
    if rows.empty:
        return None
    model = call_model()
    if reads_context(model) and "context" not in rows:
        rows = rows.assign(context=reply_context(batch).loc[rows.index])    # the replied-to post may be any of the batch
    rows = _texts_present(rows)
    described = classify_calls(rows, model, threshold=P.call_threshold, workers=1, prefilter=False,
                               second_opinion=P.call_encoder)
    return described.assign(requested_policy=pd.Series(requested_policies(model_texts(rows)), dtype=object))


def _texts_present(posts: pd.DataFrame) -> pd.DataFrame:
    """Posts whose missing texts are empty strings, as the classifier reads a missing text (an
    Arrow-backed column gives NaN for it, which ``str()`` would make "nan")."""
    missing = posts["text"].isna()
    return posts.assign(text=posts["text"].fillna("")) if missing.any() else posts


def analysis_log_record(analysis: Analysis, inputs: dict) -> dict:
    """What the custody log keeps of an analysis: its parameters (and their digest), a digest of
    the inputs it read, and the campaigns it found with their tiers."""
    parameters = analysis.parameters["parameters"]
    camps = analysis.tables["campaigns"]
    return {"parameters": parameters, "parameters_sha256": custody.sha256_hex(custody.canonical(parameters)),
            "inputs_sha256": custody.sha256_hex(custody.canonical(inputs)), "sources": len(inputs["sources"]),
            "aliases": len(inputs["aliases"]),
            "campaigns": [{"id": str(c), "tier": str(t)} for c, t in zip(camps.get("campaign_id", []), camps.get("tier", []),
                                                              strict=True)]}


def explain_bursts(bursts: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Add ``explained_by``: the campaign whose targets and time the burst overlaps, 'views', or None."""
    bursts = bursts.copy()
    # Only strong and moderate campaigns explain a burst; their targets as sets, built once.
    explaining = [(c.campaign_id, c.start, c.end, set(c.targets)) for c in campaigns.itertuples()
                  if c.tier in ("strong", "moderate")]
    explained = []
    for start, end, scope, key, by_views in zip(bursts["start"], bursts["end"], bursts["scope"], bursts["key"],
                                                bursts["explained_by_views"], strict=True):
        by = next((cid for cid, c_start, c_end, targets in explaining
                   if start <= c_end and end >= c_start and (scope != "target" or key in targets)), None)
        if by is None and by_views:
            by = "views"
        explained.append(by)
    bursts["explained_by"] = explained
    return bursts


#: Folders of posts' texts kept apart during an analysis: ``.analysis-<pid>-<random>`` beside the case.
_APART_PREFIX = ".analysis-"


def remove_abandoned_texts(folder: Path) -> list[Path]:
    """Remove the texts' folders that analyses killed before their cleanup left in ``folder``.

    A folder is abandoned when the process named in it is no longer running; another analysis
    of a case in the same folder may be running, so a live process's folder is left alone (a
    reused process id errs on that side). Returns the folders removed.
    """
    removed = []
    for path in folder.glob(f"{_APART_PREFIX}*-*"):
        pid = path.name[len(_APART_PREFIX):].split("-", 1)[0]
        if not (path.is_dir() and pid.isdigit()) or _running(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                 # someone else's process
    return True


def analyze_case(db: str | Path, params: Parameters | None = None, on_step: Callable[[str], None] | None = None,
                 seed: int | None = None, lock_wait: float | None = None, operator: str | None = None) -> Analysis:
    """Analyse the case at ``db`` and store the derived tables in it (replacing earlier ones).

    ``params`` (default :data:`~detector.params.DEFAULTS`, ``seed`` replacing its seed) are
    validated when made and stored with the results, so every reader knows what produced them.

    The inputs are read from the case's last committed state and the analysis runs without
    holding the case lock, so ingests and readers go on meanwhile; only storing the results takes
    it (waiting up to ``lock_wait`` seconds, :mod:`detector.caselock`). The results record the
    inputs they saw, so an ingest that lands during the analysis marks them stale, never mixed.
    One custody log entry (by ``operator``) records the parameters, the inputs read and the
    campaigns found, in the same transaction as the results.
    """
    db = Path(db)
    if not db.exists():
        with Case.open(db, command="analyze", wait=lock_wait):
            pass            # an empty case, as ingest would create it: analysing it finds nothing
    # The posts' texts wait in a file beside the case while the calls step reads them batch by
    # batch (the analysis holds no connection to the case meanwhile, so writers go on).
    remove_abandoned_texts(db.parent)
    with tempfile.TemporaryDirectory(prefix=f"{_APART_PREFIX}{os.getpid()}-", dir=db.parent) as apart:
        with Case.open(db, read_only=True) as case:
            case.cap_memory(READ_MEMORY)
            # Text and ids Arrow-backed: the inputs' strings are most of an analysis' memory.
            notices, exposure = (case.table(name, arrow_text=True) for name in ("notices", "exposure"))
            posts = case.analysis_posts(Path(apart))
            previous = case.derived("campaigns") if case.analysed() else None
            inputs = case.inputs_seen()
            aliases, reviews = case.aliases(), case.reviews()
        release_arrow_memory()      # the read's joined batches
        analysis = analyze_frames(notices, posts, exposure, params=params, seed=seed, on_step=on_step,
                                  aliases=aliases, previous=previous, reviews=reviews)
    with Case.open(db, command="analyze", wait=lock_wait) as case, case.transaction():
        for name, frame in analysis.tables.items():
            case.replace_table(name, frame)
        case.set_meta("analysis", json.dumps({**analysis.parameters, "inputs": inputs,
                                              "analysed_at": datetime.now(UTC).isoformat()}))
        custody.append(case, "analyze", analysis_log_record(analysis, inputs), operator)
    return analysis
