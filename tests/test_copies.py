"""Near-duplicate calls across chats: edited copies found, unrelated posts not, similarities exact."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.features.copies import copy_clusters, near_duplicate_pairs, normalise_text

T0 = pd.Timestamp("2024-05-01T08:00", tz="UTC")

CALL = ("Friends, report this video for harassment and bullying right now: "
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ they lie about our soldiers")
COPIES = {
    "forward": CALL,
    "word_changed": CALL.replace("right now", "today"),
    "short_url": CALL.replace("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ?si=AbCdEf"),
    "shorts_url_emoji": "🔥🔥 " + CALL.replace("https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                                               "m.youtube.com/shorts/dQw4w9WgXcQ") + " ‼️👉",
    "shouted": CALL.replace("Friends, report this video for harassment", "FRIENDS!!! REPORT THIS VIDEO FOR HARASSMENT"),
    "two_words": CALL.replace("Friends", "Brothers").replace("bullying", "insults"),
}
UNRELATED = {
    "other_call": "Report this channel for spam: https://youtu.be/AAAAAAAAAAA it posts fake news every day",
    "chatter": "Friends, the weather in Almaty is lovely today, we are going to the mountains right now",
    "same_words_other_video": "they lie about our soldiers, see https://www.youtube.com/watch?v=ZZZZZZZZZZZ friends",
}


def _posts(texts: dict[str, str]) -> pd.DataFrame:
    names = list(texts)
    return pd.DataFrame({
        "post_id": [f"telegram:{name}:1" for name in names],
        "chat": [f"chat_{name}" for name in names],
        "posted_at": [T0 + pd.Timedelta(minutes=7 * k) for k in range(len(names))],
        "text": list(texts.values()),
    })


def _direct_jaccard(a: str, b: str, k: int = 5) -> float:
    """Jaccard of character k-gram sets, computed the plain way."""
    sa = {a[i:i + k] for i in range(len(a) - k + 1)}
    sb = {b[i:i + k] for i in range(len(b) - k + 1)}
    return len(sa & sb) / len(sa | sb)


def test_normalisation_makes_url_shapes_emoji_and_case_agree():
    assert normalise_text(COPIES["short_url"]) == normalise_text(CALL)
    assert normalise_text(COPIES["shorts_url_emoji"]) == normalise_text(CALL)
    assert "youtube:video:dQw4w9WgXcQ" in normalise_text(CALL)  # the id keeps its case
    assert normalise_text("Ｒｅｐｏｒｔ  IT\n\n now!!") == "report it now"  # NFKC full-width, runs of space


def test_a_nul_in_a_call_with_a_link_is_a_space_not_a_crash():
    # NUL is the sentinel that cuts links out; a hostile post carrying one used to raise ValueError.
    hostile = CALL.replace("Friends, report", "Friends,\x00 report\x00")
    assert normalise_text(hostile) == normalise_text(CALL)
    assert normalise_text("\x000\x00 https://youtu.be/dQw4w9WgXcQ") == "0 youtube:video:dQw4w9WgXcQ"
    pairs = near_duplicate_pairs(_posts({"forward": CALL, "hostile": hostile}))
    assert len(pairs) == 1


def test_edited_copies_across_chats_are_found_and_unrelated_posts_are_not():
    posts = _posts({**COPIES, **UNRELATED})
    pairs = near_duplicate_pairs(posts, threshold=0.5, seed=0)
    linked = set(pairs["post_a"]) | set(pairs["post_b"])
    assert linked == {f"telegram:{name}:1" for name in COPIES}
    clusters = copy_clusters(posts, pairs)
    assert clusters["cluster_id"].nunique() == 1
    assert set(clusters["chat"]) == {f"chat_{name}" for name in COPIES}
    # Each edited copy is within one hop of the original call, not only through other copies.
    assert set(pairs.loc[pairs["post_a"] == "telegram:forward:1", "post_b"]) == {
        f"telegram:{name}:1" for name in COPIES if name != "forward"}


def test_quoted_similarities_equal_a_direct_jaccard_of_the_normalised_texts():
    posts = _posts({**COPIES, **UNRELATED})
    pairs = near_duplicate_pairs(posts, threshold=0.3, seed=3)
    text = dict(zip(posts["post_id"], posts["text"], strict=True))
    assert len(pairs) >= 5
    for row in pairs.itertuples(index=False):
        expected = _direct_jaccard(normalise_text(text[row.post_a]), normalise_text(text[row.post_b]))
        assert row.similarity == expected
    # Word edits lower the similarity; URL shape, emoji and case do not.
    sims = {row.post_b: row.similarity for row in pairs.itertuples(index=False) if row.post_a == "telegram:forward:1"}
    assert sims["telegram:short_url:1"] == sims["telegram:shouted:1"] == 1.0
    assert 0.5 < sims["telegram:two_words:1"] < sims["telegram:word_changed:1"] < 1.0


def test_pairs_run_from_the_earlier_post_with_its_lag():
    posts = _posts(COPIES)
    pairs = near_duplicate_pairs(posts)
    row = pairs[(pairs["post_a"] == "telegram:forward:1") & (pairs["post_b"] == "telegram:word_changed:1")].iloc[0]
    assert row["lag_seconds"] == 7 * 60
    assert (row["chat_a"], row["chat_b"]) == ("chat_forward", "chat_word_changed")
    assert (pairs["lag_seconds"] >= 0).all()


def _noisy_corpus(seed: int) -> pd.DataFrame:
    """Random-word chatter plus edited copies of three calls, shuffled."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{k}" for k in range(3000)])
    texts = [" ".join(rng.choice(words, rng.integers(6, 30))) for _ in range(1500)]
    truth = [-1] * len(texts)
    for call in range(3):
        base = f"report video {call} for harassment https://youtu.be/{'ABCDEFGHIJ' + str(call)} " + " ".join(
            rng.choice(words, 10))
        for _ in range(8):
            tokens = base.split()
            tokens[rng.integers(len(tokens))] = str(rng.choice(words))
            texts.append(" ".join(tokens))
            truth.append(call)
    order = rng.permutation(len(texts))
    return pd.DataFrame({
        "post_id": [f"p{k:05d}" for k in range(len(texts))],
        "chat": [f"c{k % 40}" for k in range(len(texts))],
        "posted_at": [T0 + pd.Timedelta(seconds=int(s)) for s in rng.integers(0, 86400, len(texts))],
        "text": [texts[k] for k in order], "campaign": [truth[k] for k in order]})


def test_same_seed_same_pairs_and_clusters_recover_planted_calls():
    posts = _noisy_corpus(seed=5)
    first = near_duplicate_pairs(posts, seed=11)
    assert first.equals(near_duplicate_pairs(posts, seed=11))
    clusters = copy_clusters(posts, first).merge(posts[["post_id", "campaign"]], on="post_id")
    assert set(clusters["campaign"]) == {0, 1, 2}  # no chatter got in
    per_campaign = clusters.groupby("campaign")["cluster_id"].nunique()
    assert (per_campaign == 1).all()
    assert (clusters.groupby("campaign").size() == 8).all()


def test_cluster_id_names_the_earliest_post_and_survives_later_copies():
    posts = _posts(COPIES)
    before = copy_clusters(posts, near_duplicate_pairs(posts))
    assert set(before["cluster_id"]) == {"copy:telegram:forward:1"}
    assert before.loc[before["is_first"], "post_id"].tolist() == ["telegram:forward:1"]
    later = pd.concat([posts, pd.DataFrame({"post_id": ["telegram:late:9"], "chat": ["chat_late"],
                                            "posted_at": [T0 + pd.Timedelta(days=2)], "text": [CALL + " !!"]})])
    after = copy_clusters(later, near_duplicate_pairs(later))
    assert set(after["cluster_id"]) == {"copy:telegram:forward:1"}
    assert len(after) == len(before) + 1


def test_short_posts_and_empty_input_make_no_pairs():
    posts = pd.DataFrame({"post_id": ["a", "b", "c"], "chat": ["x", "y", "z"],
                          "posted_at": [T0, T0, T0], "text": ["ok 👍", "ok 👍", None]})
    assert near_duplicate_pairs(posts).empty
    assert near_duplicate_pairs(posts.iloc[:0]).empty
    assert copy_clusters(posts, near_duplicate_pairs(posts)).empty


def test_similarities_stay_exact_when_the_alphabet_is_too_large_to_pack():
    # Over 4096 distinct characters: a 5-gram no longer packs into one int64 directly.
    rng = np.random.default_rng(7)
    han = [chr(c) for c in range(0x4E00, 0x9FFF)]
    texts = {f"noise{k}": "".join(rng.choice(han, 40)) for k in range(300)}
    call = "请大家举报这个视频理由是骚扰 https://youtu.be/dQw4w9WgXcQ " + "".join(rng.choice(han, 20))
    texts |= {"call": call, "call_edit": call.replace("骚扰", "仇恨言论"), "call_emoji": "🔥" + call}
    posts = _posts(texts)
    assert len(set("".join(texts.values()))) > 4096
    pairs = near_duplicate_pairs(posts, threshold=0.5, seed=1)
    assert set(pairs["post_a"]) | set(pairs["post_b"]) == {"telegram:call:1", "telegram:call_edit:1",
                                                            "telegram:call_emoji:1"}
    for row in pairs.itertuples(index=False):
        a, b = (texts[p.split(":")[1]] for p in (row.post_a, row.post_b))
        assert row.similarity == _direct_jaccard(normalise_text(a), normalise_text(b))


def test_a_phrase_shared_by_thousands_of_posts_does_not_hide_the_copies():
    # "good morning everyone" occurs in 2500 texts: its shingles exceed the stop-shingle limit
    # (1000 occurrences) and leave the LSH bands; the planted copies must still be found.
    rng = np.random.default_rng(9)
    words = np.array([f"w{k}" for k in range(5000)])
    texts = {f"chat{k}": "good morning everyone " + " ".join(rng.choice(words, 12)) for k in range(2500)}
    call = "good morning everyone report https://youtu.be/dQw4w9WgXcQ for harassment " + " ".join(rng.choice(words, 6))
    copies = {"c0": call, "c1": call + " 🙏", "c2": call.replace("harassment", "bullying")}
    posts = _posts(texts | copies)
    found = near_duplicate_pairs(posts, seed=2)
    assert set(found["post_a"]) | set(found["post_b"]) == {f"telegram:{name}:1" for name in copies}
    assert found.equals(near_duplicate_pairs(posts, seed=2, stop_shingle_share=None))
