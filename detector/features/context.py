"""Thread context for the call classifier: what the post answers, and what that says about the post.

Most calls the text-only model misses are short replies whose target is in the thread: "举报吧",
"Киньте репорты", "Can you report it to github?" under a post that names the scam repository or the
channel. :class:`ContextCues` reads the text a post answers (the Telegram message it replies to,
the post a Weibo repost reposts, the opening post of an issue thread) next to the post itself and
gives the classifier a few yes/no features: is there a context, does it name reporting, does it
urge reporting (is it itself a call), does it name a target (a link or a mention), is the post a
short reply, and the pairs of these that tell a reply to a call from a remark.

A post carries its context as a :class:`PostInThread`: the post's text (it *is* a ``str``, so every
other block of the model reads it as before) with the context in ``.context``. A plain ``str`` has
no context. Both the text and the context are normalised by the model's first step
(:func:`detector.features.calls.normalise_in_thread`) before this block reads them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from detector.features.mood import _TARGET_TOKEN, MoodCues, mood_counts
from detector.features.mood import FEATURE_NAMES as MOOD_FEATURES

# A reply this short (normalised characters) says little on its own: "report it", "举报吧", "+1 done".
SHORT_REPLY_CHARS = 60

CONTEXT_FEATURES = ("ctx_present", "ctx_reporting", "ctx_urges", "ctx_target", "reply_short",
                    "reply_short_to_reporting", "reply_short_to_call", "reply_borrows_target",
                    "reply_reporting_to_call")

_REPORT_SENTENCES = MOOD_FEATURES.index("mood_report_sentences")
_URGE = MOOD_FEATURES.index("mood_urge")


class PostInThread(str):
    """A post's text with the text it answers (``context``: the replied-to or opening post, or "")."""

    def __new__(cls, text: str, context: str = ""):
        post = super().__new__(cls, text)
        post.context = context
        return post

    def __reduce__(self):
        return PostInThread, (str(self), self.context)


def context_of(post: object) -> str:
    """The context a model input carries ("" for a plain text)."""
    return getattr(post, "context", "") or ""


def contexts_of(posts) -> list[str]:
    """The contexts of model inputs ("" where none): what the context n-gram block reads."""
    return [context_of(p) for p in posts]


def with_context(texts, contexts) -> list:
    """Model inputs: each text as a :class:`PostInThread` where its context is a non-empty string,
    else the text as it is."""
    return [PostInThread(t, c) if isinstance(c, str) and c and isinstance(t, str) else t
            for t, c in zip(texts, contexts, strict=True)]


def reply_context(posts: pd.DataFrame) -> pd.Series:
    """For each post, the text of the post it replies to when that post is in ``posts``, else None.

    ``posts``: the posts table (``chat``, ``message_id``, ``reply_to``, ``text``; detector.schema).
    A reply is matched in its own chat by message id; a reply to another chat (``reply_to`` written
    ``peer:id`` by the Telegram readers) or to a message not collected has no context.
    Returns a Series aligned with ``posts``.
    """
    out = pd.Series([None] * len(posts), index=posts.index, dtype=object)
    if posts.empty or not {"chat", "message_id", "reply_to", "text"} <= set(posts.columns):
        return out
    replies = posts.loc[posts["reply_to"].notna(), ["chat", "reply_to"]]
    if replies.empty:
        return out
    # Only the posts some reply points at take part in the join (few, in a large case).
    answered = posts.loc[posts["message_id"].isin(set(replies["reply_to"])), ["chat", "message_id", "text"]]
    answered = answered.drop_duplicates(["chat", "message_id"]).rename(columns={"message_id": "reply_to"})
    found = replies.reset_index().merge(answered, on=["chat", "reply_to"], how="inner")
    out.loc[found["index"].to_numpy()] = found["text"].to_numpy(dtype=object)
    return out


def reads_context(model) -> bool:
    """Whether a call pipeline has a block that reads the context (``PostInThread.context``): the
    context cues or the context n-grams."""
    features = dict(getattr(model, "named_steps", {})).get("features")
    return features is not None and bool({"context", "context_ngrams"} & set(dict(features.transformer_list)))


class ContextCues(MoodCues):
    """Yes/no features (:data:`CONTEXT_FEATURES`) of a normalised post and its normalised context.

    Parameters
    ----------
    lexicon : dict or None
        The parsed calls lexicon (its ``mood`` section and ``report``/``takedown`` cues name
        reporting and urging); None reads the bundled one at fit, as :class:`MoodCues` does.
    """

    def _row(self, post: str, context: str) -> list[int]:
        ctx = mood_counts(context, self.report_pattern_, self.kind_patterns_)
        own = mood_counts(post, self.report_pattern_, self.kind_patterns_)
        reporting, urges = ctx[_REPORT_SENTENCES] > 0, ctx[_URGE] > 0
        target = bool(_TARGET_TOKEN.search(context))
        short = len(post) <= SHORT_REPLY_CHARS
        return [1, reporting, urges, target, short, short and reporting, short and urges,
                target and not _TARGET_TOKEN.search(post), own[_REPORT_SENTENCES] > 0 and urges]

    def transform(self, X):
        rows = np.zeros((len(X), len(CONTEXT_FEATURES)))
        for i, post in enumerate(X):
            context = context_of(post)
            if context:
                rows[i] = self._row(str(post), context)
        return sp.csr_matrix(rows)

    def get_feature_names_out(self, input_features=None):
        return np.array(CONTEXT_FEATURES, dtype=object)
