"""Thread context for the call classifier (detector.features.context) and the real rows' context columns."""

import pickle

import numpy as np
import pandas as pd
import pytest

from detector.features.calls import (
    build_call_pipeline,
    call_probabilities,
    classify_calls,
    model_texts,
    normalise_in_thread,
    read_labelled,
    read_real,
)
from detector.features.context import (
    CONTEXT_FEATURES,
    ContextCues,
    PostInThread,
    context_of,
    reads_context,
    reply_context,
    with_context,
)


def _posts(rows):
    return pd.DataFrame(rows, columns=["post_id", "chat", "message_id", "reply_to", "text"])


def test_reply_context_is_the_replied_post_of_the_same_chat_only():
    posts = _posts([
        ("t:a:1", "a", "1", None, "Please report https://youtu.be/abcdefghijk"),
        ("t:a:2", "a", "2", "1", "Киньте репорты"),
        ("t:b:1", "b", "1", None, "hello"),
        ("t:b:2", "b", "2", "9", "reply to a message not collected"),
        ("t:b:3", "b", "3", "c9:1", "reply to another chat"),
        ("t:b:4", "b", "4", "1", "reply in chat b"),
    ])
    assert reply_context(posts).tolist() == [None, "Please report https://youtu.be/abcdefghijk", None, None, None,
                                             "hello"]


def test_reply_context_without_reply_column_is_all_none():
    posts = pd.DataFrame({"post_id": ["1"], "text": ["report it"]})
    assert reply_context(posts).tolist() == [None]


def test_post_in_thread_is_its_text_and_keeps_its_context_through_pickling():
    post = PostInThread("举报吧", "这个账号在骗钱 @scammer")
    assert post == "举报吧" and context_of(post) == "这个账号在骗钱 @scammer"
    again = pickle.loads(pickle.dumps(post))
    assert again == "举报吧" and context_of(again) == "这个账号在骗钱 @scammer"
    assert context_of("plain") == ""
    assert with_context(["a", "b"], ["", None]) == ["a", "b"]
    assert all(type(t) is str for t in with_context(["a", "b"], ["", None]))


def test_normalising_a_post_in_thread_normalises_its_context_too():
    out = normalise_in_thread([PostInThread("Report IT!!!!", "Watch https://youtu.be/abcdefghijk 123"), "Hi 42"])
    assert out[0] == "report it!!" and context_of(out[0]) == "watch yturl 0"
    assert out[1] == "hi 0" and type(out[1]) is str


def _cues(post, context):
    block = ContextCues().fit([])
    [row] = block.transform(normalise_in_thread([PostInThread(post, context)])).toarray()
    return dict(zip(CONTEXT_FEATURES, row, strict=True))


def test_short_reply_to_a_call_that_names_a_target():
    cues = _cues("Can you report it too?", "Everyone please report this channel @fakechannel")
    assert cues["ctx_present"] == cues["ctx_urges"] == cues["ctx_target"] == 1
    assert cues["reply_short"] == cues["reply_short_to_call"] == cues["reply_borrows_target"] == 1


def test_long_reply_with_its_own_target_to_an_unrelated_post():
    cues = _cues("Thanks, the new release works well for me on Linux and Windows, see https://example.org/notes "
                 "for the notes I wrote", "New release 2.0 is out")
    assert cues["ctx_present"] == 1
    assert cues["ctx_reporting"] == cues["ctx_urges"] == cues["ctx_target"] == 0
    assert cues["reply_short"] == cues["reply_borrows_target"] == 0


def test_a_post_without_context_has_no_context_features():
    block = ContextCues().fit([])
    assert block.transform(normalise_in_thread(["report it"])).nnz == 0


@pytest.fixture(scope="module")
def models():
    # The real rows carry context; the written ones do not (a model fitted on them alone gives the
    # context block no weight).
    labelled, real = read_labelled(), read_real()
    texts = labelled["text"].tolist() + model_texts(real)
    labels = labelled["label"].tolist() + real["label"].tolist()
    return (build_call_pipeline().fit(texts, labels),
            build_call_pipeline(context_weight=1.0).fit(texts, labels))


def test_only_a_model_with_the_context_block_reads_context(models):
    plain, threaded = models
    assert not reads_context(plain) and reads_context(threaded)
    assert reads_context(build_call_pipeline(context_text_weight=1.0))
    texts = ["Report it please", "举报吧"]
    contexts = ["Everyone report @fakechannel now", "大家举报这个账号 @骗子"]
    both = with_context(texts, contexts)
    assert np.allclose(call_probabilities(both, plain), call_probabilities(texts, plain))
    assert not np.allclose(call_probabilities(both, threaded), call_probabilities(texts, threaded))


def test_classify_calls_takes_the_context_from_reply_to_when_the_model_reads_it(models):
    _plain, threaded = models
    posts = _posts([
        ("t:a:1", "a", "1", None, "Everyone please report this channel @fakechannel"),
        ("t:a:2", "a", "2", "1", "Report it please"),
        ("t:a:3", "a", "3", None, "Report it please"),
    ])
    out = classify_calls(posts, model=threaded, prefilter=False)
    expected = call_probabilities(with_context(posts["text"].tolist(), reply_context(posts).fillna("").tolist()),
                                  threaded)["p_call"]
    assert np.allclose(out["p_call"], expected)
    assert out["p_call"].iloc[1] != out["p_call"].iloc[2]


def test_real_rows_with_context_say_where_it_came_from():
    real = read_real()
    assert {"context", "context_source"} <= set(real.columns)
    threaded = real[real["context"] != ""]
    assert len(threaded) > 300
    assert (threaded["context_source"] != "").all()
    assert (real.loc[real["context"] == "", "context_source"] == "").all()
    # A row is almost never its own context (one thread repeats its opening post in a reply).
    assert (threaded["context"] == threaded["text"]).sum() <= 1
    assert sum(isinstance(t, PostInThread) for t in model_texts(real)) == len(threaded)
