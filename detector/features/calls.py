"""Posts that call people to report something: a classifier, the requested policy, the targets.

A *call* asks readers to report, flag or complain about a video, a channel or an account
("report this video for harassment: <link>", "кидайте жалобы", "大家去举报", "шағым жіберіңіз",
"ئەرز قىلىڭلار"). A *boast* claims success after such a call ("it's gone!", "снесли!", "删了！").
Everything else is *other*, including the hard cases that share words with calls: attacks on a
video that ask nobody to report it, news about reporting, "report" in the sense of a document or a
reporter, appeals, and the target's own posts.

The model is a scikit-learn :class:`~sklearn.pipeline.Pipeline`, fitted on the hand-written
``detector/data/calls/labelled.csv`` and the real public posts of ``detector/data/calls/real/`` (weighted
``REAL_WEIGHT``; sources in ``detector/data/calls/real/SOURCES.md``)::

    normalise, links and mentions dropped (a link does not make a call)
               ->  char n-gram TF-IDF (char_wb, 2-5, sublinear)  ┐
               ->  word 1-3-gram TF-IDF (address and mood)       │
               ->  cue counts from detector/data/calls/lexicon.json       ├─> LogisticRegression (balanced)
               ->  mood, person and address of the sentences     │
                   that name reporting (detector.features.mood)  │
               ->  how its removals are told: success, own loss, ┘
                   rule (detector.features.claims)

A boast must also claim a removal (the lexicon's ``removal`` cues): thanks and "done" are not
boasts (:func:`claims_removal`), and in a case it must name a target or follow a call in its
chat (:func:`confirm_boasts`).

The lexicon block lets a language with few or no labelled rows still be recognised from its
report verbs; the character n-grams learn phrasing, typos and emoji. Tuning lives in the two data
files, not in code paths. The fitted pipeline is cached on disk and per process (:func:`call_model`) and can be
saved and loaded as one object (:func:`save_call_model`, :func:`load_call_model`).

Threshold: a post is a call when ``p_call >= CALL_THRESHOLD`` (0.5), i.e. the model thinks a call
more likely than not. Measured on the real posts by cross-validation grouped by thread
(``bench/calls.py``; figures per language in ``bench/RESULTS.md``), precision and recall for
calls are far below the written set's: real talk about reporting is hard to tell from a call, and
some languages have few real calls. The statistics downstream therefore never rest on one post:
a call must be followed by notices on the target it names, before enforcement had begun.
"""

from __future__ import annotations

import collections
import functools
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from detector import model_cache
from detector.bundled import CALLS_DIR
from detector.errors import DetectorError
from detector.features.anchors import BOUNDARY, NEVER, AnchorIndex, bare, character_table, narrowing_of
from detector.features.char_grams import fast_features
from detector.features.claims import ClaimCues
from detector.features.class_gate import ClassGate
from detector.features.context import (
    ContextCues,
    PostInThread,
    context_of,
    contexts_of,
    reads_context,
    reply_context,
    with_context,
)
from detector.features.cueview import cue_view_vectorizer, cue_window_vectorizer
from detector.features.mood import MoodCues, other_sense_pattern, reporting_word, reporting_words
from detector.features.quoting import quoting_patterns, reports_a_call
from detector.ids import canonical_target, extract_urls
from detector.params import worker_count
from detector.vocab import POLICIES

DATA_DIR = CALLS_DIR
LABELLED_PATH = DATA_DIR / "labelled.csv"
LEXICON_PATH = DATA_DIR / "lexicon.json"

KINDS = ("call", "boast", "other")
CALL_THRESHOLD = 0.5
LANGUAGES = ("en", "ru", "uk", "kk", "zh", "ug", "other")
CUE_KINDS = ("report", "mobilise", "takedown", "boast", "removal", "news", "other_sense", "promote", "appeal",
             "victim", "negation")

# Zero-width characters, emoji variation selectors and the dot that lower("İ") leaves behind:
# invisible, but they split n-grams.
_INVISIBLE_CHARACTERS = "\u200b\u200c\u200d\u2060\ufe0e\ufe0f\u0307"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARACTERS}]")
_MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
_MENTION_TOKEN = re.compile(r"(?<![\w@/.])@[A-Za-z0-9_.]{3,}")
_REPEATS = re.compile(r"(.)\1{2,}")
_SENTENCES = re.compile(r"[.!?。！？\n;；]+")
_YOUTUBE_WORD = re.compile(r"youtube|\byt\b|ютуб|油管|ютюб|یۇتۇب|يۇتۇب", re.IGNORECASE)
_TELEGRAM_WORD = re.compile(r"telegram|телеграм|电报|تېلېگرام", re.IGNORECASE)


# --- text normalisation -------------------------------------------------------------------------

def _url_token(url: str) -> str:
    target = canonical_target(url)
    if target.startswith("youtube:video:"):
        return "yturl"
    if target.startswith("youtube:"):
        return "ytchannel"
    if target.startswith("telegram:"):
        return "tgurl"
    return "weburl"


def normalise_post_text(text: object) -> str:
    """The text a call model sees: NFKC, lower case, URLs and mentions as tokens, digits as 0.

    URLs (defanged ones too) become `` yturl `` (a video), `` ytchannel `` (channel or handle),
    `` tgurl `` or `` weburl ``, so the model learns "a link to a video" rather than one link;
    ``@names`` become `` atmention ``; digit runs become ``0``; a character repeated three or more
    times is cut to two ("REPORTTTT!!!!" and "reportt!!" look alike). Emoji are kept.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    out = _tokens_for_links(unicodedata.normalize("NFKC", str(text)))
    out = _INVISIBLE.sub("", out.lower())
    out = re.sub(r"\d+", "0", out)
    out = _REPEATS.sub(r"\1\1", out)
    return " ".join(out.split())


def _as_text(text: object) -> str:
    return "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)


# Posts that may hold a URL or an @mention: every match of ids._URL_IN_TEXT holds "://", "www.",
# "youtu" or "me/" (any case), every mention an "@".
_LINK_MARKERS = ("://", "www.", "youtu", "me/", "@")
_ONE_BY_ONE = re.compile("|".join(map(re.escape, _LINK_MARKERS)), re.IGNORECASE)


def _tokens_for_links(text: str) -> str:
    """The URLs and mentions of an NFKC text as the tokens of :func:`normalise_post_text`."""
    for url in sorted(extract_urls(text), key=len, reverse=True):
        text = text.replace(url, f" {_url_token(url)} ")
    return _MENTION_TOKEN.sub(" atmention ", text)


def _cleaned(text: str) -> str:
    """The last steps of :func:`normalise_post_text` on lower-case texts joined by NUL, over code
    points as a numpy array: invisible characters out, digit runs as "0", runs of three or more
    equal characters (but newline and NUL) cut to two, whitespace runs as one space, no space at
    either end of a text."""
    a = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    a = a[~character_table(_INVISIBLE.pattern)[a]]
    digit = character_table(r"\d")[a]
    if digit.any():
        a = np.where(digit, ord("0"), a)[~(digit & np.r_[False, digit[:-1]])]
    if len(a) > 2:
        same = a[1:] == a[:-1]
        third = np.r_[False, False, same[1:] & same[:-1]] & (a != ord("\n")) & (a != 0)
        a = a[~third]
    space = character_table(r"\s")[a]
    keep = ~(space & np.r_[False, space[:-1]])
    a, space = np.where(space, ord(" "), a)[keep], space[keep]
    at_edge = np.r_[True, a[:-1] == 0] | np.r_[a[1:] == 0, True]
    return a[~(space & at_edge)].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


def normalise_texts(texts) -> list[str]:
    """:func:`normalise_post_text` over an iterable (the first step of the pipeline), in bulk.

    Only the URLs and mentions are replaced post by post (in the posts that may hold one); the
    other steps run once over all posts joined by NUL, which no step lets a change cross: the same
    output as one post at a time, without a Python call per post and step.
    """
    raw = [text if type(text) is str else _as_text(text) for text in texts]
    if not raw:
        return []
    out: list[str | None] = [None] * len(raw)
    plain = [i for i, t in enumerate(raw) if "\x00" not in t] if any("\x00" in t for t in raw) else range(len(raw))
    nfkc = [_nfkc(raw[i]) for i in plain]
    lower = "\x00".join(nfkc).lower() if nfkc else None
    if lower is not None and any(marker in lower for marker in _LINK_MARKERS):
        parts = lower.split("\x00")
        for k, part in enumerate(parts):
            if any(marker in part for marker in _LINK_MARKERS):
                # lower() after the tokens, as one post at a time (a final sigma depends on what follows).
                parts[k] = _tokens_for_links(nfkc[k]).lower()
        lower = "\x00".join(parts)
    for i, text in zip(plain, _cleaned(lower).split("\x00") if lower is not None else [], strict=True):
        out[i] = text
    for i, text in enumerate(out):
        if text is None:
            out[i] = normalise_post_text(raw[i])
    return out


def normalise_in_thread(texts) -> list:
    """:func:`normalise_texts` of posts that may carry thread context (:class:`PostInThread`): the
    first step of a model with the context block. A post with a context comes out as a
    ``PostInThread`` of its normalised text and normalised context; the others as plain strings."""
    texts = list(texts)
    normalised = normalise_texts(texts)
    contexts = [context_of(t) for t in texts]
    if not any(contexts):
        return normalised
    at = [i for i, c in enumerate(contexts) if c]
    for i, context in zip(at, normalise_texts([contexts[i] for i in at]), strict=True):
        normalised[i] = PostInThread(normalised[i], context)
    return normalised


# The tokens normalise_post_text puts for links and mentions; the model does not read them.
_LINK_TOKENS = re.compile(r" ?\b(?:yturl|ytchannel|tgurl|weburl|atmention)\b ?")


def _blind(text: str) -> str:
    out, dropped = _LINK_TOKENS.subn(" ", text)
    return " ".join(out.split()) if dropped else text


def without_link_tokens(normalised) -> list:
    """Normalised model inputs (:func:`normalise_in_thread`) without their link and mention tokens.

    Whether a post is a call is read from its words alone; which target it names is read apart
    (:func:`post_targets`). In the real labelled posts most calls carry a link and few other posts
    do, so a model that sees links learns that a link makes a call: a victim's story or a news item
    with a video link appended was taken for a call a fifth of the time (call precision 0.44,
    ``bench/calls_link_balance.py``). Without the tokens the decision is the same with or without
    a link. A ``PostInThread`` keeps its context (a context's links say where a thread points).
    """
    out = []
    for text in normalised:
        blind = _blind(str(text))
        out.append(PostInThread(blind, text.context) if isinstance(text, PostInThread) else blind)
    return out


# --- lexicon ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _read_lexicon(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_lexicon(path: str | Path = LEXICON_PATH) -> dict:
    """The cue lexicon: ``cues`` (kind -> language -> regexes), ``policies``, ``stopwords``."""
    try:
        lexicon = json.loads(_read_lexicon(str(path)))
    except (OSError, json.JSONDecodeError) as exc:
        raise DetectorError(f"cannot read the calls lexicon: {exc}", path=path) from exc
    missing = [k for k in ("cues", "policies", "stopwords") if k not in lexicon]
    if missing:
        raise DetectorError(f"calls lexicon lacks sections {missing}", path=path)
    return lexicon


def _alternation(patterns: list[str]) -> re.Pattern | None:
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _pooled(by_language: dict[str, list[str]]) -> list[str]:
    return [p for patterns in by_language.values() for p in patterns]


@functools.lru_cache(maxsize=8)
def _cue_index(patterns: tuple[str, ...]) -> AnchorIndex:
    """One anchor search for a tuple of regexes (one group each; "" for none)."""
    return AnchorIndex({str(i): [p] for i, p in enumerate(patterns)})


class LexiconCues(TransformerMixin, BaseEstimator):
    """Counts of multilingual cue words per post, one column per cue kind plus policy words.

    Languages are pooled within a cue kind, so "шағым", "举报" and "report" all raise the same
    ``report`` column: the classifier learns one weight per kind, and a language that has words in
    the lexicon but few labelled rows still gets the benefit. Columns are ``log1p(count)``.
    The regexes run only on the texts where their anchors occur (:mod:`detector.features.anchors`):
    elsewhere they cannot match, and the count is 0.

    Parameters
    ----------
    lexicon : dict or None
        The parsed lexicon (see :func:`load_lexicon`); None reads ``detector/data/calls/lexicon.json`` at fit.
    """

    def __init__(self, lexicon: dict | None = None):
        self.lexicon = lexicon

    def fit(self, X, y=None):
        lexicon = self.lexicon if self.lexicon is not None else load_lexicon()
        self.cue_patterns_ = {kind: _alternation(_pooled(lexicon["cues"].get(kind, {})))
                              for kind in CUE_KINDS}
        self.policy_pattern_ = _alternation([p for langs in lexicon["policies"].values()
                                             for p in _pooled(langs)])
        self.n_features_out_ = len(CUE_KINDS) + 3
        return self

    def _counts(self, text: str, patterns: tuple) -> list[float]:
        # patterns: each cue kind's (then the policy) alternation, narrowed to what may match the text.
        row = [len(p.findall(text)) if p is not None else 0 for p in patterns]
        # Address: a report word and a mobilising word (imperative, "everyone", "let's") in one
        # sentence urge; a report word beside victim or news words describes. A report word used in
        # another sense ("weather report") is not one.
        kind = dict(zip(CUE_KINDS, patterns, strict=False))
        report, mobilise = kind["report"], kind["mobilise"]
        describe = [kind[k] for k in ("victim", "news") if kind[k] is not None and kind[k] is not NEVER]
        urge = told = 0
        if report is not None and report is not NEVER:
            for sentence in _SENTENCES.split(text):
                if reporting_word(sentence, report, kind["other_sense"]):
                    urge += bool(mobilise is not None and mobilise.search(sentence))
                    told += any(p.search(sentence) for p in describe)
        return row + [urge, told]

    def transform(self, X):
        texts = [str(t) for t in X]
        patterns = (*self.cue_patterns_.values(), self.policy_pattern_)
        counts = np.zeros((len(texts), self.n_features_out_))
        # Each text meets only the alternatives that may match in it (the same counts, faster).
        for i, narrowed in enumerate(narrowing_of(patterns).per_text(texts)):
            if any(p is not None and p is not NEVER for p in narrowed):
                counts[i] = self._counts(texts[i], narrowed)
        return sp.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"cue_{k}" for k in CUE_KINDS] + ["cue_policy", "urge_report", "describe_report"],
                        dtype=object)


# --- the model ----------------------------------------------------------------------------------

def build_call_pipeline(lexicon: dict | None = None, C: float = 30.0, cue_weight: float = 1.0,
                        word_weight: float = 1.0, mood_weight: float = 1.0, claim_weight: float = 1.0,
                        cue_view_weight: float = 0.0, window_weight: float = 0.0, char_weight: float = 1.0,
                        context_weight: float = 0.0, context_text_weight: float = 0.0, see_links: bool = False,
                        seed: int = 0) -> Pipeline:
    """An unfitted call classifier (see the module docstring for its shape).

    Parameters
    ----------
    lexicon : the cue lexicon, or None for ``detector/data/calls/lexicon.json``.
    C : inverse regularisation of the logistic regression.
    cue_weight : scale of the lexicon block next to the (unit-length) TF-IDF block.
    mood_weight : scale of the mood, person and address block (:class:`detector.features.mood.MoodCues`);
        0 leaves it out.
    claim_weight : scale of the block that reads how removals are told (success, own loss, rule;
        :class:`detector.features.claims.ClaimCues`); 0 leaves it out.
    context_weight : scale of the thread-context block (what the post replies to;
        :class:`detector.features.context.ContextCues`); 0 leaves it out, and the model then reads
        the post's text alone.
    context_text_weight : scale of the character n-grams (2-5, TF-IDF) of the context itself (what
        the replied-to post says); 0 leaves them out.
    see_links : whether the features read the link and mention tokens (``yturl``, ``atmention``…).
        False (the default) drops them after the normalisation (:func:`without_link_tokens`), so
        that a link does not make a call.
    seed : random_state of the solver (the fit is deterministic; kept for the house rule).
    """
    blocks = [("cues", LexiconCues(lexicon=lexicon))]
    weights = {"cues": cue_weight}
    if char_weight > 0:
        blocks.insert(0, ("char_ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                                         min_df=2, lowercase=False, dtype=np.float64)))
        weights["char_ngrams"] = char_weight
    if word_weight > 0:
        # Word pairs carry address and mood ("you should report", "how to report", "reported me").
        blocks.append(("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                                lowercase=False, token_pattern=r"(?u)\b\w+\b", dtype=np.float64)))
        weights["words"] = word_weight
    if mood_weight > 0:
        blocks.append(("mood", MoodCues(lexicon=lexicon)))
        weights["mood"] = mood_weight
    if claim_weight > 0:
        blocks.append(("claims", ClaimCues(lexicon=lexicon)))
        weights["claims"] = claim_weight
    if cue_view_weight > 0:
        blocks.append(("cue_view", cue_view_vectorizer(lexicon=lexicon)))
        weights["cue_view"] = cue_view_weight
    if window_weight > 0:
        blocks.append(("cue_windows", cue_window_vectorizer(lexicon=lexicon)))
        weights["cue_windows"] = window_weight
    if context_weight > 0:
        blocks.append(("context", ContextCues(lexicon=lexicon)))
        weights["context"] = context_weight
    if context_text_weight > 0:
        blocks.append(("context_ngrams", Pipeline([
            ("pick", FunctionTransformer(contexts_of)),
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                      lowercase=False, dtype=np.float64))])))
        weights["context_ngrams"] = context_text_weight
    features = FeatureUnion(blocks, transformer_weights=weights)
    steps = [("normalise", FunctionTransformer(normalise_in_thread if context_weight > 0 or context_text_weight > 0
                                               else normalise_texts))]
    if not see_links:
        steps.append(("without_links", FunctionTransformer(without_link_tokens)))
    return Pipeline([
        *steps,
        ("features", features),
        # newton-cg: a few Newton steps on this sparse problem; lbfgs needs ~20x longer when
        # BLAS threads compete for the two shared cores.
        ("classifier", LogisticRegression(class_weight="balanced", C=C, solver="newton-cg",
                                          max_iter=1000, random_state=seed)),
    ])


def read_labelled(path: str | Path = LABELLED_PATH) -> pd.DataFrame:
    """The labelled posts: text, label (call/boast/other), language, policy, note."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except OSError as exc:
        raise DetectorError(f"cannot read labelled calls: {exc}", path=path) from exc
    missing = [c for c in ("text", "label", "language") if c not in df.columns]
    if missing:
        raise DetectorError(f"labelled calls lack columns {missing}", path=path)
    bad = df.index[~df["label"].isin(KINDS)]
    if len(bad):
        raise DetectorError(f"label {df.loc[bad[0], 'label']!r} is not one of {KINDS}",
                            path=path, line=int(bad[0]) + 2)
    return df


REAL_DIR = DATA_DIR / "real"
REAL_COLUMNS = ("text", "label", "language", "kind", "target_level", "source", "licence", "group")
# The post a real row answers (thread context) and where it came from; empty where none.
REAL_CONTEXT_COLUMNS = ("context", "context_source")


def read_real(folder: str | Path = REAL_DIR) -> pd.DataFrame:
    """The real labelled posts: every ``*.csv`` in ``folder`` (one per language), in name order.

    Each row is a real public post with its ``source`` (URL or repository:path@commit),
    ``licence`` and ``group`` (the thread or page it came from, so that cross-validation keeps a
    thread in one fold); ``kind`` is the finer type (``victim``, ``news``, ``quoted_call``, …);
    ``context`` and ``context_source`` (the post it answers, "" for none) where the file has them.
    Adds ``origin`` = "real". See ``detector/data/calls/real/SOURCES.md``.
    """
    frames = []
    for path in sorted(Path(folder).glob("*.csv")):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise DetectorError(f"cannot read real labelled posts: {exc}", path=path) from exc
        missing = [c for c in REAL_COLUMNS if c not in df.columns]
        if missing:
            raise DetectorError(f"real labelled posts lack columns {missing}", path=path)
        bad = df.index[~df["label"].isin(KINDS)]
        if len(bad):
            raise DetectorError(f"label {df.loc[bad[0], 'label']!r} is not one of {KINDS}", path=path,
                                line=int(bad[0]) + 2)
        optional = [c for c in REAL_CONTEXT_COLUMNS if c in df.columns]
        frames.append(df[[*REAL_COLUMNS, *optional]].assign(origin="real", file=path.name))
    if not frames:
        return pd.DataFrame(columns=[*REAL_COLUMNS, "origin", "file"])
    return pd.concat(frames, ignore_index=True)


def training_set() -> pd.DataFrame:
    """What the default model learns from: the written ``labelled.csv`` and the real posts.

    Columns text, label, language, kind, origin ("written" or "real"), group.
    """
    written = read_labelled().assign(origin="written", kind=lambda d: d["label"])
    written["group"] = "written:" + written.index.astype(str)
    real = read_real()
    cols = ["text", "label", "language", "kind", "origin", "group"]
    return pd.concat([written[cols], real[cols]], ignore_index=True)


def fit_call_model(labelled: pd.DataFrame | None = None, seed: int = 0, **params) -> Pipeline:
    """Fit the call classifier on labelled posts (default: :func:`training_set`).

    ``labelled`` needs columns ``text`` and ``label``; ``params`` go to :func:`build_call_pipeline`.
    """
    if labelled is None:
        labelled = training_set()
    model = build_call_pipeline(seed=seed, **params)
    return model.fit(labelled["text"].tolist(), labelled["label"].tolist(),
                     classifier__sample_weight=_row_weights(labelled))


# Real posts count more than written ones: they are what the model meets (chosen by grouped
# cross-validation on the real posts, bench/calls.py: 1 -> 3 raised call precision 0.59 -> 0.63).
REAL_WEIGHT = 3.0


def _row_weights(labelled: pd.DataFrame) -> np.ndarray:
    if "origin" not in labelled:
        return np.ones(len(labelled))
    return np.where(labelled["origin"].to_numpy() == "real", REAL_WEIGHT, 1.0)


def model_inputs() -> list[Path]:
    """The files the default classifier is made from: its training data, lexicon and glosses, and
    the code of the features (what keys its cached copy, :mod:`detector.model_cache`)."""
    here = Path(__file__).resolve().parent
    code = [*here.glob("*.py"), here.parent / "vocab.py", here.parent / "ids.py"]
    return sorted([*code, *(p for p in CALLS_DIR.rglob("*") if p.is_file())])


@functools.lru_cache(maxsize=1)
def call_model() -> Pipeline:
    """The default call classifier, fitted from the bundled labelled set once per machine (cached
    on disk, keyed by :func:`model_inputs`) and read once per process."""
    return model_cache.cached("calls", model_inputs(), fit_call_model, save_call_model, load_call_model)


def save_call_model(model: Pipeline, path: str | Path) -> Path:
    """Write a fitted call classifier to ``path`` (joblib); returns the path."""
    import joblib

    path = Path(path)
    joblib.dump({"kind": "detector.calls", "model": model}, path)
    return path


def load_call_model(path: str | Path) -> Pipeline:
    """Read a classifier written by :func:`save_call_model`.

    Only load files you wrote yourself: joblib files can run code when loaded.
    """
    import joblib

    try:
        payload = joblib.load(path)
    except (OSError, EOFError, ValueError) as exc:
        raise DetectorError(f"cannot load call model: {exc}", path=path) from exc
    if not isinstance(payload, dict) or payload.get("kind") != "detector.calls":
        raise DetectorError("not a call model written by save_call_model", path=path)
    return payload["model"]


def call_probabilities(texts, model: Pipeline | None = None) -> pd.DataFrame:
    """Probabilities per kind (columns ``p_call``, ``p_boast``, ``p_other``) for raw texts."""
    model = model if model is not None else call_model()
    texts = ["" if t is None else t if isinstance(t, str) else str(t) for t in texts]
    if not texts:
        return pd.DataFrame({f"p_{k}": pd.Series(dtype=float) for k in KINDS})
    proba = model.predict_proba(texts)
    classes = list(model.classes_)
    return pd.DataFrame({f"p_{k}": proba[:, classes.index(k)] for k in KINDS})


@functools.lru_cache(maxsize=4)
def _removal_pattern(path: str) -> re.Pattern | None:
    return _alternation(_pooled(load_lexicon(path)["cues"].get("removal", {})))


@functools.lru_cache(maxsize=4)
def _other_sense_pattern(path: str) -> re.Pattern | None:
    return other_sense_pattern(load_lexicon(path))


@functools.lru_cache(maxsize=4)
def _reporting_pattern(path: str) -> re.Pattern | None:
    cues = load_lexicon(path)["cues"]
    return _alternation(_pooled(cues.get("report", {})) + _pooled(cues.get("takedown", {})))


# What normalise_post_text puts into a text that the raw text lacks (tokens for mentions and
# links, "0" for a digit run): where an anchor found in the normalised text is cut into pieces
# that the loose text holds (see _loose_anchor).
_SEPARATORS = re.compile(r"(atmention)|yturl|ytchannel|tgurl|weburl|(0)")
_DIGIT_CHARACTERS = tuple(ch for ch in map(chr, range(0x20000)) if re.fullmatch(r"\d", ch))


def _is_word(ch: str) -> bool:
    return re.match(r"\w", ch) is not None


def _loose_anchor(anchor: str) -> list[tuple[str, ...]]:
    """Pieces the loose text of a post holds wherever its normalised text holds ``anchor``
    (boundary-marked, see :mod:`detector.features.anchors`): a list of alternatives, the loose
    text holding one string of each.

    The loose text (:func:`_careful_loose_forms`) is the raw text NFKC-normalised, lower-cased,
    without invisible characters and with whitespace runs as one space; it keeps URLs, mentions,
    digits and repeated letters. So an anchor is cut at the tokens that stand for URLs and
    mentions and at the "0" that stands for a digit run, and trimmed of spaces (a token brings its
    own); a piece before a "0" is searched with each digit after it, one before a mention token
    with what the mention looks like there. A doubled letter inside a
    piece is where the loose text may hold a longer run (a run of three or more becomes two), so
    the piece is cut there too, each side keeping the double ("banned" -> "bann", "nned"). A piece
    keeps the anchor's boundary marks at its ends, and gains one where a trimmed space met a word
    character.
    """
    left, right = anchor.startswith(BOUNDARY), anchor.endswith(BOUNDARY)
    anchor = bare(anchor)
    runs, start, before = [], 0, None
    for match in [*_SEPARATORS.finditer(anchor), None]:
        end = match.start() if match else len(anchor)
        after = None if match is None else "mention" if match.group(1) else "digit" if match.group(2) else "link"
        runs.append((anchor[start:end], before, after))
        start, before = (match.end(), after) if match else (start, before)
    pieces = []
    for run, before, after in runs:
        text = run.lstrip() if after == "digit" else run.strip()
        if not text:
            continue
        spaced_before, spaced_after = text[0] != run[0], text[-1] != run[-1]
        # A mark beside a doubled letter would be wrong where the loose text has a longer run.
        head = ((spaced_before and _is_word(text[0])) or (before is None and left)) and text[:1] != text[1:2]
        tail = (((spaced_after and _is_word(text[-1])) or (after is None and right)) and after not in ("digit", "mention")
                and text[-1:] != text[-2:-1])
        cuts = [k for k in range(1, len(text) - 1)
                if text[k] == text[k + 1] and (k + 2 < len(text) or after == "digit")]
        bounds = list(zip([0, *cuts], [*(k + 2 for k in cuts), len(text)], strict=True))
        for n, (a, b) in enumerate(bounds):
            last = n == len(bounds) - 1
            piece = (BOUNDARY if head and n == 0 else "") + text[a:b] + (BOUNDARY if tail and last else "")
            if last and after == "digit":
                pieces.append(tuple(piece + d for d in _DIGIT_CHARACTERS))
            elif last and after == "mention" and spaced_after:
                # " atmention" is " @name" in the loose text, "@name" after an invisible character,
                # or " atmention" typed as it is.
                pieces.append(tuple(piece + t for t in (" @", "@", " a")))
            else:
                pieces.append((piece,))
    if not pieces and "0" in anchor:
        return [_DIGIT_CHARACTERS]
    return pieces


_WHITESPACE_RUNS = re.compile(r"\s{2,}|[^\S ]")


def _careful_loose_forms(texts: list[str]) -> list[str]:
    """The loose form of each raw text: NFKC, lower case, without invisible characters, with
    whitespace runs as one space."""
    return [_WHITESPACE_RUNS.sub(" ", _INVISIBLE.sub("", _nfkc(text).lower())) for text in texts]


_ASCII_WHITESPACE = bytes.maketrans(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f", b" " * 9)
# Characters the quick loose form keeps and the careful one removes or turns into a space: the
# invisible ones, and the whitespace besides ASCII that NFKC and lower() leave (a test checks the
# list over all of Unicode). A text holding one is prepared again with _careful_loose_forms.
# They are looked for in the quick form, so "İ" and "˙", which NFKC and lower case turn into an
# invisible mark ("i̇", " ̇"), are rechecked by the mark they become (a test checks all of Unicode).
_NOT_QUICK = (*_INVISIBLE_CHARACTERS, "\x85", "\u1680", "\u2028", "\u2029")


# Characters that make most posts not NFKC-normalised (the full-width punctuation of Chinese
# posts, the ellipsis, no-break spaces, the numero sign of Ukrainian and Russian requests): replaced
# by their NFKC form before NFKC is asked for, which is much slower. Replacing a character by its
# NFKC form leaves the NFKC form of the text unchanged (both have the same compatibility
# decomposition).
_COMMON_COMPATIBLE = tuple((ch, unicodedata.normalize("NFKC", ch)) for ch in "，！？：（）；…\xa0\u3000‼⁉№～＂")


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster for the common cases."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for ch, image in _COMMON_COMPATIBLE:
        if ch in text:
            text = text.replace(ch, image)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def _quick_loose_form(texts: list[str]) -> bytes:
    """The loose form (:func:`_careful_loose_forms`) of raw texts without a _NOT_QUICK character,
    joined by NUL, as UTF-8: NFKC where needed, lower case and UTF-8 text by text (cheaper than on
    the joined text, which one emoji makes four bytes a character), whitespace over the whole buffer.
    Lower case text by text is lower case of the joined text: NUL ends a final sigma's context."""
    is_normalized, nfkc = unicodedata.is_normalized, _nfkc
    data = b"\x00".join([(text if text.isascii() or is_normalized("NFKC", text) else nfkc(text)).lower()
                         .encode("utf-8", "surrogatepass") for text in texts])
    return _spaces_collapsed(data.translate(_ASCII_WHITESPACE))


def _spaces_collapsed(data: bytes) -> bytes:
    """``data`` with each run of spaces cut to one."""
    space = np.frombuffer(data, dtype=np.uint8) == 32
    repeated = np.flatnonzero(space[1:] & space[:-1]) + 1   # a space after a space
    if not len(repeated):
        return data
    ends, starts = np.r_[repeated, len(data)].tolist(), np.r_[0, repeated + 1].tolist()
    return b"".join([data[a:b] for a, b in zip(starts, ends, strict=True)])


# The _NOT_QUICK characters as UTF-8 (self-synchronising: their bytes occur only where they do):
# the invisible ones go, the other whitespace becomes a space.
_NOT_QUICK_UTF8 = tuple((ch.encode("utf-8"), b"" if ch in _INVISIBLE_CHARACTERS else b" ") for ch in _NOT_QUICK)


def _rechecked_loose_forms(texts: list[str]) -> list[str]:
    """:func:`_careful_loose_forms` of texts that may hold a _NOT_QUICK character (the few the
    quick form leaves them in): the quick form with those characters dropped or made spaces
    before whitespace runs are cut, in bulk over the texts joined by NUL."""
    if not texts or any("\x00" in text for text in texts):
        return _careful_loose_forms(texts)
    data = b"\x00".join([_nfkc(text).lower().encode("utf-8", "surrogatepass") for text in texts])
    for character, image in _NOT_QUICK_UTF8:
        if character in data:
            data = data.replace(character, image)
    return _spaces_collapsed(data.translate(_ASCII_WHITESPACE)).decode("utf-8", "surrogatepass").split("\x00")


@functools.lru_cache(maxsize=4)
def _gate_regexes(path: str) -> tuple[tuple[str, re.Pattern], ...]:
    """Each gate regex on its own, with its gate: ("reporting" | "removal", compiled regex)."""
    cues = load_lexicon(path)["cues"]
    kinds = {"reporting": ("report", "takedown"), "removal": ("removal",)}
    return tuple((gate, re.compile(p, re.IGNORECASE)) for gate, names in kinds.items()
                 for name in names for p in _pooled(cues.get(name, {})) if p)


@functools.lru_cache(maxsize=4)
def _gate_index(path: str) -> AnchorIndex:
    return AnchorIndex({str(i): [p.pattern] for i, (_, p) in enumerate(_gate_regexes(path))}, loosen=_loose_anchor,
                       recheck=_NOT_QUICK, unbounded=_LINK_MARKERS)


@functools.lru_cache(maxsize=4)
def _class_gate(path: str) -> ClassGate:
    return ClassGate(_gate_index(path), dropped=_INVISIBLE_CHARACTERS)


def _may_match(texts: list[str], path: str) -> np.ndarray:
    """The gate's anchor search (texts x gate regexes), run only on the texts that the class pass
    (:mod:`detector.features.class_gate`) leaves: the same array as over all texts."""
    index = _gate_index(path)
    flagged = _class_gate(path).may_flag("\x00".join(texts), len(texts))
    if flagged is None:
        return index.candidates(texts, prepare_texts=_quick_loose_form, reprepare=_rechecked_loose_forms)
    out = np.zeros((len(texts), len(index.names)), dtype=bool)
    rows = np.flatnonzero(flagged)
    if len(rows):
        out[rows] = index.candidates([texts[i] for i in rows], prepare_texts=_quick_loose_form,
                                     reprepare=_rechecked_loose_forms)
    return out


def gate_cues(texts, lexicon_path: str | Path = LEXICON_PATH) -> tuple[np.ndarray, np.ndarray]:
    """For each raw text: does it name reporting (:func:`mentions_reporting`), does it claim a
    removal (:func:`claims_removal`). The two gates of the classifier; a post with neither can be
    neither a call nor a boast.

    Exact and fast: one search for the strings every match of a gate regex holds, with their word
    boundaries, over the loose form of every text (:func:`_loose_anchor`, :class:`AnchorIndex`),
    then the regexes themselves on the few normalised texts flagged (about 4 % of everyday posts).
    """
    return _gates(texts, str(lexicon_path))[:2]


def _gates(texts, path: str) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """:func:`gate_cues`, and the normalised text of each flagged row (by row), which the model
    reads again for the rows that pass."""
    texts = [text if type(text) is str else _as_text(text) for text in texts]
    regexes = _gate_regexes(path)
    reporting = np.full(len(texts), _reporting_pattern(path) is None)
    removal = np.zeros(len(texts), dtype=bool)
    if not regexes or not texts:
        return reporting, removal, {}
    may_match = _may_match(texts, path)
    flagged = np.flatnonzero(may_match.any(axis=1)).tolist()
    normalised = dict(zip(flagged, normalise_texts([texts[i] for i in flagged]), strict=True))
    # A text passes a gate when any of its regexes matches: only those whose anchors occur run.
    for i, text in normalised.items():
        for k in np.flatnonzero(may_match[i]):
            gate, regex = regexes[k]
            passed = reporting if gate == "reporting" else removal
            if not passed[i] and regex.search(text):
                passed[i] = True
    # "Bug report:", "weather report", "репортаж" hold a report word in another sense: a text whose
    # every report word sits inside such a phrase names no reporting (as the mood features read it).
    report, other_sense = _reporting_pattern(path), _other_sense_pattern(path)
    if report is not None and other_sense is not None:
        for i, text in normalised.items():
            if reporting[i] and other_sense.search(text) and not reporting_words(text, report, other_sense):
                reporting[i] = False
    return reporting, removal, normalised


def claims_removal(texts, lexicon_path: str | Path = LEXICON_PATH) -> np.ndarray:
    """Whether each text claims that something was removed, blocked, struck or restricted.

    A boast must make such a claim: "Рахмет!", "thanks for the support" or "translation ready"
    share words with boasts ("thanks everyone who reported") but claim nothing.
    """
    return gate_cues(texts, lexicon_path)[1]


def mentions_reporting(texts, lexicon_path: str | Path = LEXICON_PATH) -> np.ndarray:
    """Whether each text has a word for reporting, flagging, complaining or taking down.

    A call to report says so in some words ("report", "flag", "жалобы", "скарги", "举报",
    "шағым", "ban this account", "take it down"); a link with "👍" or "good morning everyone"
    is not a call however a model scores it (the lexicon's ``report`` and ``takedown`` cues).
    """
    return gate_cues(texts, lexicon_path)[0]


@functools.lru_cache(maxsize=4)
def _quoting(path: str):
    return quoting_patterns(load_lexicon(path))


def reported_calls(normalised_texts, lexicon_path: str | Path = LEXICON_PATH) -> np.ndarray:
    """Per normalised text: does it only quote or report someone else's call
    (:func:`detector.features.quoting.reports_a_call`)? Such a text is never a call."""
    patterns = _quoting(str(lexicon_path))
    return np.array([reports_a_call(t, *patterns) for t in normalised_texts], dtype=bool)


def _decide_texts(probs: pd.DataFrame, texts, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_decide` with both gates of the texts applied (a call names reporting, a boast a
    removal), and quoted calls told apart."""
    reporting, removal = gate_cues(texts)
    likely = np.flatnonzero(reporting & (probs["p_call"].to_numpy() >= threshold))
    quoted = np.zeros(len(probs), dtype=bool)
    quoted[likely] = reported_calls([normalise_post_text(texts[i]) for i in likely])
    return _decide(probs, threshold, removal=removal, reporting=reporting, quoted=quoted)


def _decide(probs: pd.DataFrame, threshold: float, removal: np.ndarray | None = None,
            reporting: np.ndarray | None = None, quoted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """kind and confidence per row: a call at ``p_call >= threshold``, else the likelier of the rest.

    ``removal`` (per row): whether the text claims a removal; a row without one is never a boast.
    ``reporting`` (per row): whether the text names reporting; a row without it is never a call.
    ``quoted`` (per row): whether the text only quotes or reports someone else's call
    (:func:`reported_calls`); such a row is never a call.
    """
    is_call = probs["p_call"].to_numpy() >= threshold
    if reporting is not None:
        is_call &= reporting
    if quoted is not None:
        is_call &= ~quoted
    boast = probs["p_boast"].to_numpy() >= probs["p_other"].to_numpy()
    if removal is not None:
        boast &= removal
    kind = np.where(is_call, "call", np.where(boast, "boast", "other"))
    # A post that claims no removal cannot be a boast: its boast share goes to "other".
    p_other = probs["p_other"].to_numpy() + (probs["p_boast"].to_numpy() * ~removal if removal is not None else 0.0)
    confidence = np.where(is_call, probs["p_call"], np.where(boast, probs["p_boast"], p_other))
    return kind, confidence


# --- requested policy, language, targets --------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _policy_patterns(path: str) -> tuple[tuple[str, re.Pattern], ...]:
    lexicon = load_lexicon(path)
    out = []
    for policy in POLICIES:  # vocabulary order breaks ties at the same position
        pattern = _alternation(_pooled(lexicon["policies"].get(policy, {})))
        if pattern is not None:
            out.append((policy, pattern))
    return tuple(out)


def requested_policy(text: object, lexicon_path: str | Path = LEXICON_PATH) -> str | None:
    """The policy a post asks reporters to cite, from the lexicon's policy words; None if none.

    When several are named, the one mentioned first wins: instructions name the option to pick
    ("Report → Hateful or abusive content → Promotes hatred" is hate speech, not harassment).

    Examples
    --------
    >>> requested_policy("Кидайте жалобы, пункт «Экстремизм»")
    'violent_extremism'
    >>> requested_policy("举报理由：骚扰")
    'harassment'
    """
    return requested_policies([text], lexicon_path)[0]


def requested_policies(texts, lexicon_path: str | Path = LEXICON_PATH, normalised: bool = False) -> list[str | None]:
    """:func:`requested_policy` of each text (``normalised``: the texts are already normalised);
    each policy's regex runs only where its anchors occur."""
    path = str(lexicon_path)
    texts = list(texts) if normalised else normalise_texts(texts)
    patterns = _policy_patterns(path)
    may_match = _cue_index(tuple(p.pattern for _, p in patterns)).candidates(texts, prepare=str.lower)
    out: list[str | None] = [None] * len(texts)
    for i in np.flatnonzero(may_match.any(axis=1)):
        best: tuple[int, str] | None = None
        for (policy, pattern), ok in zip(patterns, may_match[i], strict=True):
            match = pattern.search(texts[i]) if ok else None
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), policy)
        out[i] = best[1] if best else None
    return out


_KK_ONLY = set("ұі")            # Kazakh letters no other language here uses (і: Ukrainian too)
_KK_LETTERS = set("әғқңөұүһ")
_UK_ONLY = set("їєґ")
_TURKIC_CYRILLIC = set("әғқһ")  # Kazakh or Uyghur Cyrillic (ң ө ү alone are also Kyrgyz)
_UZ_CYRILLIC = set("ўҳ")
# Turkish letters; Uzbek o'/g' (o'chirildi, bo'ling), not English contractions (who's, we'll).
_TR_UZ_LATIN = re.compile(r"[şğıç]|[og]'(?!(s|t|ll|re|ve|d|m)\b)\w")
# Uyghur Arabic script: letters Arabic and Persian lack, or ى inside a word (Arabic has it only
# at the end of one).
_UG_ARABIC = re.compile(r"[ەېۆۈۋڭ]|ى\w")


@functools.lru_cache(maxsize=4)
def _stopwords(path: str) -> dict[str, frozenset[str]]:
    return {lang: frozenset(words) for lang, words in load_lexicon(path)["stopwords"].items()}


@functools.cache
def _script_of(ch: str) -> str | None:
    """The script :func:`_script_counts` counts a character in (None for none)."""
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        for script, prefix in (("han", "CJK"), ("arabic", "ARABIC"), ("cyrillic", "CYRILLIC"), ("latin", "LATIN")):
            if name.startswith(prefix):
                return script
    return None


def _script_counts(text: str) -> dict[str, int]:
    scripts = {"han": 0, "arabic": 0, "cyrillic": 0, "latin": 0}
    # Each distinct character once (posts repeat most of theirs).
    for ch, n in collections.Counter(text).items():
        script = _script_of(ch)
        if script is not None:
            scripts[script] += n
    return scripts


def detect_language(text: object, lexicon_path: str | Path = LEXICON_PATH) -> str:
    """A cheap language guess: en, ru, uk, kk, zh, ug or other, by script, letters and stop-words.

    Han script is ``zh``. Arabic script is ``ug`` when it has Uyghur letters (ە ې ۆ ۈ ۋ ڭ, or ى
    inside a word), else ``other``. Cyrillic is ``kk`` with ұ or і, ``ug`` with җ or more Uyghur
    than Kazakh stop-words, ``uk`` with ї є ґ (or і and no Kazakh letter), ``other`` with Uzbek ў ҳ, ``kk`` with ә ғ қ һ, ``kk`` or ``other``
    (Kyrgyz) with only ң ө ү, else ``ru``. Latin is ``other`` with Turkish or Uzbek spelling,
    ``ug`` with é or Uyghur stop-words, ``en`` with English stop-words or plain ASCII. Good enough
    to group posts; not a language model (short posts like "Жойылды!" read as Russian).
    """
    raw = _nfkc("" if text is None else str(text))
    for url in extract_urls(raw):
        raw = raw.replace(url, " ")
    raw = _MENTION_TOKEN.sub(" ", raw).lower()
    scripts = _script_counts(raw)
    if not any(scripts.values()):
        return "other"
    script = max(scripts, key=scripts.get)
    if script == "han":
        return "zh"
    if script == "arabic":
        return "ug" if _UG_ARABIC.search(raw) else "other"
    words = re.findall(r"[\w']+", raw)
    stop = _stopwords(str(lexicon_path))
    hits = {lang: sum(map(stop[lang].__contains__, words)) for lang in stop}
    letters = set(raw)
    if script == "cyrillic":
        # Ukrainian: ї є ґ, or і without any Kazakh letter (і alone is shared with Kazakh).
        if letters & _UK_ONLY or ("і" in letters and not letters & _KK_LETTERS
                                  and hits.get("uk", 0) >= hits.get("kk", 0)):
            return "uk"
        if letters & _KK_ONLY:
            return "kk"
        if "җ" in letters or hits.get("ug", 0) > hits.get("kk", 0):
            return "ug"
        if letters & _UZ_CYRILLIC:
            return "other"
        if letters & _TURKIC_CYRILLIC:
            return "kk"
        if letters & set("ңөү"):
            return "kk" if hits.get("kk", 0) > 0 else "other"
        return "ru"
    if _TR_UZ_LATIN.search(raw) or hits.get("other", 0) > max(hits.get("en", 0), hits.get("ug", 0)):
        return "other"
    if "é" in letters or hits.get("ug", 0) > hits.get("en", 0):
        return "ug"
    if hits.get("en", 0) > 0 or all(ch.isascii() for ch in raw if ch.isalpha()):
        return "en"
    return "ug" if letters & set("öü") else "other"


def post_targets(text: object, urls=None, targets=None) -> list[str]:
    """Canonical target ids a post names, in order of appearance, without duplicates.

    From the post's own ``targets`` and ``urls`` (as ingest stored them), every URL in the text
    (defanged too), and ``@name`` mentions. A bare mention is read as a Telegram channel unless the
    post talks about YouTube and not Telegram, then as a YouTube handle: a guess, since an @name
    alone does not say which platform it lives on.
    """
    found: dict[str, None] = {}
    for target in targets if isinstance(targets, list | tuple | np.ndarray) else []:
        if target:
            found.setdefault(str(target), None)
    for url in urls if isinstance(urls, list | tuple | np.ndarray) else []:
        if url:
            found.setdefault(canonical_target(str(url)), None)
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    for url in extract_urls(text):
        found.setdefault(canonical_target(url), None)
    youtube_context = bool(_YOUTUBE_WORD.search(text)) and not _TELEGRAM_WORD.search(text)
    for name in _MENTION.findall(text):
        if youtube_context:
            found.setdefault(f"youtube:handle:{name.lower()}", None)
        else:
            found.setdefault(canonical_target(f"https://t.me/{name}"), None)
    return list(found)


# --- the feature --------------------------------------------------------------------------------

CALLS_COLUMNS = ("post_id", "is_call", "kind", "confidence", "p_call", "targets", "requested_policy",
                 "language")


def classify_calls(posts: pd.DataFrame, model: Pipeline | None = None,
                   threshold: float = CALL_THRESHOLD, workers: int = 1, prefilter: bool = True,
                   keep_other: bool = True, second_opinion: bool | None = None) -> pd.DataFrame:
    """Classify posts as calls to report, boasts of success, or other.

    Parameters
    ----------
    posts : DataFrame
        The ``posts`` table (detector.schema); only ``post_id`` and ``text`` are required, and
        ``urls`` and ``targets`` (lists) are used when present, and ``context`` (the text of the
        post each one replies to, :func:`detector.features.context.reply_context`; None or "" for
        none) when the model reads thread context; without a ``context`` column, such a model
        takes it from ``chat``, ``message_id`` and ``reply_to`` when present.
    model : a fitted pipeline; default :func:`call_model`.
    threshold : ``p_call`` at or above which a post is a call (default :data:`CALL_THRESHOLD`).
    workers : processes for a large input (0: one per core); the output is the same for any number.
    prefilter : settle the posts that pass neither gate as ``other`` without the model (the
        default; exact, see below). False scores and describes every post.
    keep_other : False returns only the calls and boasts (the rows that are not ``other``), the
        same rows as the whole output has, without building a row for every other post.
    second_opinion : average the probabilities with the fine-tuned encoder's
        (:mod:`detector.features.tuned`) where the model gives a call or a boast at least
        :data:`SECOND_OPINION_FLOOR`; None (the default) does so with the default model only.

    Returns
    -------
    DataFrame, one row per post (with ``keep_other``), in input order:
        post_id; is_call (bool); kind (call/boast/other: call when ``is_call``, otherwise the
        likelier of boast and other); confidence (probability of ``kind``); p_call; targets (list
        of canonical ids, see :func:`post_targets`; a call may have none, since the target is often
        named in an earlier or later post of the same chat, which linkage handles); requested_policy
        (the policy named in a call or boast, else None); language (:func:`detect_language`).

    A call must name reporting and a boast must claim a removal (:func:`gate_cues`), so a post
    with neither is ``other`` whatever the model says: with ``prefilter`` such posts are not scored
    (``p_call`` and ``confidence`` NaN), and for every ``other`` post ``targets`` and ``language``
    are None (nothing downstream reads them; the app guesses the language of a post when shown).
    Calls and boasts, and the scores of every post that passes a gate, are the same either way.
    """
    missing = [c for c in ("post_id", "text") if c not in posts.columns]
    if missing:
        raise DetectorError(f"posts lack columns {missing} needed to classify calls")
    if posts.empty:
        return pd.DataFrame({c: pd.Series(dtype=bool if c == "is_call" else float
                                          if c in ("confidence", "p_call") else object)
                             for c in CALLS_COLUMNS})
    if second_opinion is None:
        second_opinion = model is None
    model = model if model is not None else call_model()
    encoder = _second_opinion_encoder() if second_opinion else None
    if "context" not in posts.columns and reads_context(model):
        # The thread context a model with the context block reads: the replied-to post's text.
        posts = posts.assign(context=reply_context(posts))
    columns = [c for c in ("post_id", "text", "urls", "targets", "context") if c in posts.columns]
    posts = posts[columns]
    workers = worker_count(workers) if len(posts) >= PARALLEL_MIN_POSTS else 1
    # Pieces of at most PARALLEL_CHUNK posts (what the anchor searches hold at once), several per
    # worker so that a piece dense in candidates does not leave the other workers idle. Every post
    # is classified on its own, so the pieces change nothing in the output.
    pieces = max(-(-len(posts) // PARALLEL_CHUNK), workers * PIECES_PER_WORKER if workers > 1 else 1)
    bounds = np.linspace(0, len(posts), pieces + 1).round().astype(int).tolist()
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    if workers <= 1:
        parts = [_classify_chunk(posts.iloc[a:b], model, threshold, prefilter, keep_other, encoder)
                 for a, b in spans]
    else:
        parts = _in_processes(posts, spans, model, threshold, prefilter, workers, keep_other, encoder)
    return pd.concat(parts, ignore_index=True)


# Posts per piece of work: the anchor searches hold a row per post and alternative of a piece.
PARALLEL_CHUNK = 20_000
# Below this many posts one process classifies them all. Forking a worker that holds the model
# and indexes costs 0.15-0.4 s (pages copied on write, the pool), as much as 20,000-50,000 everyday
# posts take (7 µs each) or 1,000 candidates (0.25 ms each): past this size a second core pays
# even on posts that are all chatter (bench/calls_speed.py --workers).
PARALLEL_MIN_POSTS = 50_000
PIECES_PER_WORKER = 4


_WORKER_STATE: tuple | None = None


def _set_worker_state(posts: pd.DataFrame, model: Pipeline, encoder) -> None:
    global _WORKER_STATE
    _WORKER_STATE = (posts, model, encoder)


def _classify_in_worker(span: tuple[int, int], threshold: float, prefilter: bool, keep_other: bool) -> pd.DataFrame:
    posts, model, encoder = _WORKER_STATE
    return _classify_chunk(posts.iloc[span[0]:span[1]], model, threshold, prefilter, keep_other, encoder)


def _warm(model: Pipeline, encoder=None) -> None:
    """Build the anchor indexes and tables the step uses, once, before the workers are forked
    (they inherit them instead of each building its own)."""
    sample = pd.DataFrame({"post_id": [0, 1], "text": ["report this channel, it's gone: @name", "hello"]})
    _classify_chunk(sample, model, CALL_THRESHOLD, True, encoder=encoder)


def _in_processes(posts: pd.DataFrame, spans: list[tuple[int, int]], model: Pipeline, threshold: float,
                  prefilter: bool, workers: int, keep_other: bool = True, encoder=None) -> list[pd.DataFrame]:
    """The spans of ``posts`` classified in ``workers`` processes, results in span order (so the
    same output as one process: every row is classified on its own).

    Forked workers share the parent's posts, fitted model and indexes (nothing is sent to them
    but the spans, nothing refitted); where fork is unavailable they are sent once per worker.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _warm(model, encoder)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_worker_state,
                             initargs=(posts, model, encoder)) as pool:
        n = len(spans)
        return list(pool.map(_classify_in_worker, spans, [threshold] * n, [prefilter] * n, [keep_other] * n))


def _column_at(posts: pd.DataFrame, name: str, rows: np.ndarray) -> list:
    """``posts[name].tolist()`` at ``rows`` (Nones without the column), converting only those rows."""
    if name not in posts.columns:
        return [None] * len(rows)
    return posts[name].iloc[rows].tolist()


def _classify_chunk(posts: pd.DataFrame, model: Pipeline, threshold: float, prefilter: bool,
                    keep_other: bool = True, encoder=None) -> pd.DataFrame:
    texts = model_texts(posts)
    n = len(texts)
    reporting, removal, normalised = _gates(texts, str(LEXICON_PATH))
    if not all(type(text) is str for text in texts):
        normalised = {}    # the model reads a missing text as str() does; the gate as ""
    scored = np.flatnonzero(reporting | removal) if prefilter else np.arange(n)
    p = {k: np.full(n, np.nan) for k in KINDS}
    kind = np.full(n, "other", dtype=object)
    confidence = np.full(n, np.nan)
    if len(scored):
        probs = _probabilities_of(texts, scored, model, normalised)
        if encoder is not None:
            probs = with_second_opinion(probs, [texts[i] for i in scored], encoder)
        for k in KINDS:
            p[k][scored] = probs[f"p_{k}"].to_numpy()
        # Quoted calls are told apart only where the model reads a call (a few rows).
        likely = np.flatnonzero(reporting[scored] & (probs["p_call"].to_numpy() >= threshold))
        quoted = np.zeros(len(scored), dtype=bool)
        quoted[likely] = reported_calls([normalised[scored[j]] if scored[j] in normalised
                                         else normalise_post_text(texts[scored[j]]) for j in likely])
        kind[scored], confidence[scored] = _decide(probs, threshold, removal=removal[scored],
                                                   reporting=reporting[scored], quoted=quoted)
    described = np.flatnonzero(kind != "other") if prefilter else np.arange(n)
    # Only the described rows' links and stored targets are read (most posts are chatter).
    urls, stored = _column_at(posts, "urls", described), _column_at(posts, "targets", described)
    targets: list = [None] * n
    language: list = [None] * n
    policy: list = [None] * n
    described_list = described.tolist()
    policies = (requested_policies([normalised[i] for i in described_list], normalised=True)
                if all(i in normalised for i in described_list) else requested_policies([texts[i] for i in described]))
    for j, (i, named) in enumerate(zip(described, policies, strict=True)):
        targets[i] = post_targets(texts[i], urls[j], stored[j])
        language[i] = detect_language(texts[i])
        policy[i] = named if kind[i] != "other" else None
    kept = np.flatnonzero(kind != "other")
    if keep_other or not len(kept):
        # Nothing kept: the whole frame's first zero rows, with the dtypes pandas infers from the
        # whole columns ("str" from strings; from no values it would infer "object").
        frame = _calls_frame(posts["post_id"].to_numpy(), kind, confidence, p["call"], targets, policy, language)
        return frame if keep_other else frame.iloc[:0]
    return _calls_frame(posts["post_id"].iloc[kept].to_numpy(), kind[kept], confidence[kept], p["call"][kept],
                        [targets[i] for i in kept], [policy[i] for i in kept], [language[i] for i in kept])


# The encoder's opinion is asked where the linear model gives a call or a boast at least this: below
# it the mean reaches a call only when the encoder is near-certain, which on the real posts never
# helped (bench/calls_finetune.py, 5 grouped folds: floors 0 and 0.05 give the same calls and boasts,
# 0.05 asks about 60 % as often; 0.1 loses 2 of 166 real calls).
SECOND_OPINION_FLOOR = 0.05


def _second_opinion_encoder():
    from detector.features.tuned import tuned_encoder

    return tuned_encoder()


def with_second_opinion(probs: pd.DataFrame, texts: list, encoder) -> pd.DataFrame:
    """``probs`` (``p_call``, ``p_boast``, ``p_other`` of ``texts`` from the linear model) averaged
    with the fine-tuned encoder's (:class:`detector.features.tuned.TunedEncoder`) on the rows where
    the linear model gives a call or a boast at least :data:`SECOND_OPINION_FLOOR`; the other rows
    as they were. The encoder reads each post alone (the linear model also reads its thread)."""
    columns = [f"p_{k}" for k in KINDS]
    linear = probs[columns].to_numpy()
    asked = np.flatnonzero(np.maximum(linear[:, 0], linear[:, 1]) >= SECOND_OPINION_FLOOR)
    if not len(asked):
        return probs
    tuned = encoder.probabilities([texts[i] for i in asked])
    linear = linear.copy()
    linear[asked] = (linear[asked] + tuned) / 2
    return pd.DataFrame(linear, columns=columns, index=probs.index)


def _calls_frame(post_id, kind, confidence, p_call, targets, policy, language) -> pd.DataFrame:
    return pd.DataFrame({
        "post_id": post_id,
        "is_call": kind == "call",
        "kind": kind,
        "confidence": confidence.astype(float),
        "p_call": p_call,
        "targets": targets,
        # object dtype: pandas 3 would infer a string column and turn None into NaN.
        "requested_policy": pd.Series(policy, dtype=object),
        "language": pd.Series(language, dtype=object),
    })


def _probabilities_of(texts: list, rows: np.ndarray, model: Pipeline,
                      normalised: dict[int, str] | None = None) -> pd.DataFrame:
    """:func:`call_probabilities` of ``texts[rows]``; the normalisation (the model's first step, which
    keeps a post's thread context) runs in bulk, or is taken from ``normalised`` (row -> normalised
    text, the gate's; plain posts only) when it holds every row."""
    chosen = ["" if texts[i] is None else texts[i] if isinstance(texts[i], str) else str(texts[i]) for i in rows]
    if model.steps[0][0] != "normalise":
        return call_probabilities(chosen, model)
    rows = rows.tolist()
    known = normalised is not None and all(i in normalised for i in rows)
    proba = _predict_proba(model, [normalised[i] for i in rows] if known else model.steps[0][1].func(chosen))
    classes = list(model.classes_)
    return pd.DataFrame({f"p_{k}": proba[:, classes.index(k)] for k in KINDS})


def _predict_proba(model: Pipeline, normalised: list[str]) -> np.ndarray:
    """``model[1:].predict_proba(normalised)``, with the character n-grams of its feature union
    counted in bulk (:mod:`detector.features.char_grams`; the same matrix)."""
    features = normalised
    for _name, step in model.steps[1:-1]:
        if step is None or step == "passthrough":
            continue
        features = (fast_features(step) if isinstance(step, FeatureUnion) else step).transform(features)
    return model.steps[-1][1].predict_proba(features)


def confirm_boasts(calls: pd.DataFrame, horizon: pd.Timedelta) -> pd.DataFrame:
    """Boasts stay boasts only when they name a target or follow a call in their own chat.

    A claim of removal with neither ("the weather app was removed from the store") is not a
    boast about any campaign. ``calls``: :func:`classify_calls` output joined to posts (needs
    ``kind``, ``targets``, ``chat``, ``posted_at``). Returns a copy with such rows turned to
    ``other``; ``horizon`` is how long after a call a boast may come. A post an analyst marked as
    a boast (``review`` "marked boast", :mod:`detector.review`) stays one: the rule tests the
    machine's verdicts, not a person's.
    """
    boast = calls["kind"].to_numpy() == "boast"
    if not boast.any():
        return calls
    out = calls.copy()
    named = out["targets"].map(lambda t: len(t) > 0 if isinstance(t, list | tuple | np.ndarray) else False)
    ns = pd.to_datetime(out["posted_at"], utc=True).dt.tz_convert(None).astype("datetime64[ns]").to_numpy()
    ns = ns.astype("int64")
    is_call = (out["kind"] == "call").to_numpy()
    chat = out["chat"].to_numpy()
    call_times = {c: np.sort(ns[is_call & (chat == c)]) for c in pd.unique(chat[is_call])}
    follows = np.zeros(len(out), dtype=bool)
    for i in np.flatnonzero(boast & ~named.to_numpy()):
        times = call_times.get(chat[i])
        if times is None:
            continue
        k = np.searchsorted(times, ns[i], side="left")
        follows[i] = k > 0 and (ns[i] - times[k - 1]) <= horizon.value
    marked = out["review"].eq("marked boast").to_numpy() if "review" in out else np.zeros(len(out), dtype=bool)
    demote = boast & ~named.to_numpy() & ~follows & ~marked
    out.loc[demote, "kind"] = "other"
    out.loc[demote, "requested_policy"] = None
    return out


# --- evaluation ---------------------------------------------------------------------------------

def _scores(truth: np.ndarray, predicted: np.ndarray, positive: str) -> tuple[float, float, float]:
    tp = int(np.sum((truth == positive) & (predicted == positive)))
    n_pred = int(np.sum(predicted == positive))
    n_true = int(np.sum(truth == positive))
    precision = tp / n_pred if n_pred else float("nan")
    recall = tp / n_true if n_true else float("nan")
    f1 = (2 * precision * recall / (precision + recall)
          if n_pred and n_true and (precision + recall) > 0 else (0.0 if n_pred and n_true else float("nan")))
    return precision, recall, f1


def _strata(labelled: pd.DataFrame, folds: int) -> pd.Series:
    # label+language where that stratum can be spread over the folds; rows of rarer strata join
    # their label's largest stratum, so every stratum has at least `folds` members.
    strata = labelled["label"] + "|" + labelled["language"]
    counts = strata.map(strata.value_counts())
    largest = strata[counts >= folds].groupby(labelled["label"]).agg(lambda s: s.value_counts().index[0])
    return strata.where(counts >= folds, labelled["label"].map(largest).fillna(labelled["label"]))


def cross_validate_real(written: pd.DataFrame, real: pd.DataFrame, folds: int = 5, seed: int = 0,
                        threshold: float = CALL_THRESHOLD, **params) -> pd.DataFrame:
    """Predict every real post with a model that saw neither it nor anything from its thread.

    Real posts are split by :class:`~sklearn.model_selection.StratifiedGroupKFold` on ``group``
    (a thread, page or file is never in both folds); each fold's model is fitted on the written
    posts and the other folds' real posts. Returns ``real`` with ``predicted`` and ``p_call``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    data = real.reset_index(drop=True)
    texts = np.array(model_texts(data), dtype=object)
    predicted = np.empty(len(data), dtype=object)
    p_call = np.zeros(len(data))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, data["label"], groups=data["language"] + "|" + data["group"]):
        fit_texts = list(written["text"]) + list(texts[train])
        fit_labels = list(written["label"]) + list(data["label"].to_numpy()[train])
        weights = np.r_[np.ones(len(written)), np.full(len(train), REAL_WEIGHT)]
        model = build_call_pipeline(seed=seed, **params).fit(fit_texts, fit_labels,
                                                             classifier__sample_weight=weights)
        probs = call_probabilities(texts[test], model)
        predicted[test], _ = _decide_texts(probs, texts[test], threshold)
        p_call[test] = probs["p_call"].to_numpy()
    return data.assign(predicted=predicted, p_call=p_call)


def model_texts(posts: pd.DataFrame) -> list:
    """What the model reads of each labelled post: its text, with its ``context`` column (the
    post it answers) attached where present (:func:`detector.features.context.with_context`)."""
    texts = posts["text"].tolist()
    return with_context(texts, posts["context"].tolist()) if "context" in posts.columns else texts


def score_by_language(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per-language call and boast precision/recall from :func:`cross_validate_real` output."""
    rows = []
    languages = list(predictions["language"].value_counts().index) + ["all"]
    for language in languages:
        part = predictions if language == "all" else predictions[predictions["language"] == language]
        truth, pred = part["label"].to_numpy(), part["predicted"].to_numpy()
        call, boast = _scores(truth, pred, "call"), _scores(truth, pred, "boast")
        rows.append({"language": language, "n": len(part), "n_call": int(np.sum(truth == "call")),
                     "call_precision": call[0], "call_recall": call[1], "call_f1": call[2],
                     "n_boast": int(np.sum(truth == "boast")), "boast_precision": boast[0],
                     "boast_recall": boast[1], "false_calls": int(np.sum((pred == "call") & (truth != "call"))),
                     "false_boasts": int(np.sum((pred == "boast") & (truth != "boast")))})
    return pd.DataFrame(rows)


def cross_validate_calls(labelled: pd.DataFrame, folds: int = 5, seed: int = 0,
                         threshold: float = CALL_THRESHOLD, leave_one_language_out: bool = True,
                         **params) -> pd.DataFrame:
    """Per-language precision, recall and F1 for calls and boasts, by cross-validation.

    Two designs:

    * stratified k-fold (by label and language, shuffled with ``seed``): every post is predicted
      by a model that did not see it; columns ``call_*`` and ``boast_*``;
    * leave one language out: for each language L, a model fitted without any post in L predicts
      the posts in L; columns ``lolo_call_*``. It measures what a new language or unseen phrasings
      get from the lexicon and shared cues (URLs, emoji, loanwords like "репорт") alone. The
      lexicon still holds L's words, so this is not a test of a language the project never saw.

    Parameters
    ----------
    labelled : DataFrame with columns text, label (call/boast/other), language.
    folds, seed : the k-fold design.
    threshold : ``p_call`` threshold for a call (boast/other decided as in :func:`classify_calls`).
    leave_one_language_out : also run the second design (one more fit per language); when False
        the ``lolo_*`` columns are NaN.
    params : passed to :func:`build_call_pipeline`.

    Returns
    -------
    DataFrame, one row per language (most rows first) and a final ``all`` row, columns: language,
    n, n_call, call_precision, call_recall, call_f1, n_boast, boast_precision, boast_recall,
    boast_f1, lolo_call_precision, lolo_call_recall, lolo_call_f1. Undefined ratios are NaN.
    """
    data = labelled.reset_index(drop=True)
    texts = data["text"].to_numpy(dtype=object)
    labels = data["label"].to_numpy(dtype=object)
    languages = data["language"].to_numpy(dtype=object)

    kfold_pred = np.empty(len(data), dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, _strata(data, folds)):
        model = build_call_pipeline(seed=seed, **params).fit(list(texts[train]), list(labels[train]))
        kfold_pred[test], _ = _decide_texts(call_probabilities(texts[test], model), texts[test], threshold)

    lolo_pred = np.full(len(data), None, dtype=object)
    for language in pd.unique(languages) if leave_one_language_out else []:
        test = languages == language
        model = build_call_pipeline(seed=seed, **params).fit(list(texts[~test]), list(labels[~test]))
        lolo_pred[test], _ = _decide_texts(call_probabilities(texts[test], model), texts[test], threshold)

    rows = []
    order = list(pd.Series(languages).value_counts().index) + ["all"]
    for language in order:
        mask = np.ones(len(data), bool) if language == "all" else languages == language
        truth = labels[mask]
        call = _scores(truth, kfold_pred[mask], "call")
        boast = _scores(truth, kfold_pred[mask], "boast")
        lolo = (_scores(truth, lolo_pred[mask], "call") if leave_one_language_out
                else (float("nan"),) * 3)
        rows.append({"language": language, "n": int(mask.sum()), "n_call": int(np.sum(truth == "call")),
                     "call_precision": call[0], "call_recall": call[1], "call_f1": call[2],
                     "n_boast": int(np.sum(truth == "boast")),
                     "boast_precision": boast[0], "boast_recall": boast[1], "boast_f1": boast[2],
                     "lolo_call_precision": lolo[0], "lolo_call_recall": lolo[1], "lolo_call_f1": lolo[2]})
    return pd.DataFrame(rows)
