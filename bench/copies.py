"""Benchmark: near-duplicate call detection at 10^4, 10^5, 10^6 posts.

The corpus is mostly distinct chatter (Zipf-distributed words in English and Russian, as
multilingual channels are, 5% with links) and about 3% copies of calls to report: campaigns of
3-60 copies across chats, half forwarded verbatim and half edited (a word changed, another URL
shape of the same video, emoji added, case and punctuation changed). Measured: wall time and
peak memory of ``near_duplicate_pairs`` + ``copy_clusters``; recall and precision of same-campaign
post pairs judged on the clusters; and the LSH recall: of the same-campaign text pairs whose exact
Jaccard is >= 0.5 (brute force), the share reported as pairs. At 10^4 it also times datasketch's MinHash + MinHashLSH
on the same texts, the alternative this module replaces, and an all-pairs TF-IDF cosine product.

Run:  .venv/bin/python bench/copies.py [--sizes 10000 100000 1000000] [--seed 0]
Writes bench/results/copies.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.features import copies  # noqa: E402

ENGLISH = ("the to and a of i you it in is that for this on we my be have with not are they just "
           "but so what all was like do if at me can your he about there will from get one out "
           "people now know how up think good time go no would more when today news here new "
           "see really our some want because still only need them very video channel watch").split()
RUSSIAN = ("и в не на я что он с это как а то по все она так его но да ты к у же вы за бы "
           "только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если "
           "уже или ни быть был него до вас нибудь опять уж вам сказал ведь там потом себя "
           "новости сегодня канал видео люди город").split()
# Made-up words are consonant-vowel(-consonant) syllables, enough of them for a realistic
# number of distinct character 5-grams.
SYLLABLES_EN = [c + v + e for c in "bcdfghklmnprstvwz" for v in "aeiou" for e in ("", "n", "r", "s")]
SYLLABLES_RU = [c + v + e for c in "бвгдзклмнпрстфхч" for v in "аеиоуыя" for e in ("", "н", "р", "с")]
TEMPLATES = [
    "Report this video for harassment: {url} {extra}",
    "Everyone please report {url} as hate speech, {extra}",
    "URGENT!! Flag this channel's video {url} for violent extremism. {extra}",
    "Пожалуйста, пожалуйтесь на это видео за травлю: {url} {extra}",
    "Все кидаем жалобы на {url} как экстремизм! {extra}",
    "Бұл видеоға шағым жіберіңіз: {url} {extra}",
    "请大家举报这个视频 {url} 理由是骚扰 {extra}",
]
SHAPES = ["https://www.youtube.com/watch?v={v}", "https://youtu.be/{v}", "https://youtu.be/{v}?si=Xy12ab",
          "https://m.youtube.com/watch?v={v}&feature=share", "https://www.youtube.com/shorts/{v}",
          "youtube.com/watch?v={v}&t=3s"]
EMOJI = ["🔥", "‼️", "👉", "🙏", "😡", "⚠️"]
ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def _vocabulary(common: list[str], syllables: list[str], size: int, rng: np.random.Generator) -> np.ndarray:
    parts = rng.integers(0, len(syllables), size=(size, 4))
    lengths = rng.integers(1, 5, size=size)
    made = ["".join(syllables[p] for p in row[:n]) for row, n in zip(parts, lengths, strict=True)]
    return np.array(list(dict.fromkeys(common + made)))


def realistic_posts(n: int, seed: int = 0, call_share: float = 0.03, chats: int = 2000) -> pd.DataFrame:
    """A posts frame (post_id, chat, posted_at, text, campaign) with planted copy campaigns.

    ``campaign`` is -1 for chatter, else the campaign a call copy belongs to.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01", tz="UTC")
    span = 30 * 86400
    n_calls = int(n * call_share)
    n_chatter = n - n_calls

    # Chatter: Zipf words (s = 1.07) from a per-language vocabulary, lognormal lengths.
    texts = []
    langs = rng.random(n_chatter) < 0.5
    lengths = np.clip(rng.lognormal(2.2, 0.8, n_chatter).astype(int), 1, 80)
    for lang, vocab_words, syll in ((True, ENGLISH, SYLLABLES_EN), (False, RUSSIAN, SYLLABLES_RU)):
        vocab = _vocabulary(vocab_words, syll, 50000, rng)
        weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.07
        idx = np.flatnonzero(langs == lang)
        words = vocab[rng.choice(len(vocab), size=lengths[idx].sum(), p=weights / weights.sum())]
        cuts = np.cumsum(lengths[idx])[:-1]
        for k, chunk in zip(idx, np.split(words, cuts), strict=True):
            texts.append((k, " ".join(chunk)))
    texts = [t for _, t in sorted(texts)]
    with_link = rng.random(n_chatter) < 0.05
    for k in np.flatnonzero(with_link):
        vid = "".join(rng.choice(ALPHABET, 11))
        texts[k] += " " + SHAPES[rng.integers(len(SHAPES))].format(v=vid)
    chatter = pd.DataFrame({"chat": rng.integers(0, chats, n_chatter),
                            "offset": rng.integers(0, span, n_chatter), "text": texts, "campaign": -1})

    # Calls: campaigns of 3-60 copies in different chats within hours of the first.
    rows = []
    campaign = 0
    english_vocab = np.array(ENGLISH)
    while len(rows) < n_calls:
        size = int(min(60, max(3, rng.geometric(1 / 15))))
        vid = "".join(rng.choice(ALPHABET, 11))
        extra = " ".join(rng.choice(english_vocab, 8)) + " " + "".join(rng.choice(ALPHABET[:26], 6))
        template = TEMPLATES[rng.integers(len(TEMPLATES))]
        t0 = rng.integers(0, span - 86400)
        base_words = template.format(url=SHAPES[0].format(v=vid), extra=extra).split()
        for _ in range(size):
            words = list(base_words)
            if rng.random() < 0.5:  # edited copy
                if rng.random() < 0.7:
                    words[rng.integers(len(words))] = str(rng.choice(english_vocab))
                words = [SHAPES[rng.integers(len(SHAPES))].format(v=vid) if "youtube" in w else w for w in words]
                if rng.random() < 0.5:
                    words.insert(rng.integers(len(words) + 1), EMOJI[rng.integers(len(EMOJI))])
                if rng.random() < 0.3:
                    # Shouting leaves the link alone: YouTube ids are case-sensitive.
                    words = [w.upper() if rng.random() < 0.3 and "youtu" not in w else w for w in words]
            rows.append((rng.integers(0, chats), t0 + rng.integers(0, 6 * 3600), " ".join(words), campaign))
        campaign += 1
    calls = pd.DataFrame(rows[:n_calls], columns=["chat", "offset", "text", "campaign"])

    posts = pd.concat([chatter, calls], ignore_index=True)
    posts = posts.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    posts["chat"] = "chat" + posts["chat"].astype(str)
    posts["posted_at"] = (start + pd.to_timedelta(posts.pop("offset"), unit="s")).astype("datetime64[us, UTC]")
    posts["post_id"] = "telegram:" + posts["chat"] + ":" + posts.index.astype(str)
    return posts[["post_id", "chat", "posted_at", "text", "campaign"]]


def _pair_accuracy(posts: pd.DataFrame, clusters: pd.DataFrame) -> dict:
    """Recall and precision of same-campaign membership, judged on clusters (all pairs within)."""
    camp = posts.set_index("post_id")["campaign"]
    truth = camp[camp >= 0].value_counts()
    true_pairs = int((truth * (truth - 1) // 2).sum())
    joined = clusters.assign(campaign=camp.reindex(clusters["post_id"]).to_numpy())
    found = joined.groupby("cluster_id").size()
    found_pairs = int((found * (found - 1) // 2).sum())
    right = joined[joined["campaign"] >= 0].groupby(["cluster_id", "campaign"]).size()
    right_pairs = int((right * (right - 1) // 2).sum())
    return {"true_pairs": true_pairs, "found_pairs": found_pairs, "correct_pairs": right_pairs,
            "recall": right_pairs / true_pairs if true_pairs else None,
            "precision": right_pairs / found_pairs if found_pairs else None}


def _lsh_recall(posts: pd.DataFrame, pairs: pd.DataFrame, threshold: float = 0.5, k: int = 5) -> dict:
    """Of the same-campaign pairs of distinct texts with exact Jaccard >= threshold (found by brute
    force), the share that near_duplicate_pairs reported: what MinHash LSH lost."""
    calls = posts[posts["campaign"] >= 0]
    norm = calls.assign(norm=[copies.normalise_text(t) for t in calls["text"]]).drop_duplicates("norm")
    texts = norm["norm"].tolist()
    ids, starts = copies._shingle_ids(texts, k)
    ranks = pd.factorize(ids)[0].astype(np.int64)
    camp = norm["campaign"].to_numpy()
    order = np.argsort(camp, kind="stable")
    same = []
    for members in np.split(order, np.flatnonzero(np.diff(camp[order])) + 1):
        i, j = np.triu_indices(len(members), 1)
        same.append(np.column_stack([members[i], members[j]]))
    same = np.concatenate(same)
    truth = same[copies._exact_jaccard(ranks, starts, same) >= threshold]
    text_of = dict(zip(calls["post_id"], [copies.normalise_text(t) for t in calls["text"]], strict=True))
    index = {t: n for n, t in enumerate(texts)}
    found = {tuple(sorted((index[text_of[a]], index[text_of[b]]))) for a, b in zip(pairs["post_a"], pairs["post_b"],
                                                                                       strict=True)
             if a in text_of and b in text_of}
    hits = sum((min(a, b), max(a, b)) in found for a, b in truth)
    return {"pairs_at_threshold": len(truth), "lsh_recall_at_threshold": hits / len(truth) if len(truth) else None}


def _datasketch_seconds(posts: pd.DataFrame, num_perm: int = 64, lsh_threshold: float = 0.3) -> float:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    norm = [copies.normalise_text(t) for t in posts["text"]]
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
    shingles = [[s[i:i + 5].encode() for i in range(max(1, len(s) - 4))] for s in norm]
    for k, m in enumerate(MinHash.bulk(shingles, num_perm=num_perm, seed=0)):
        lsh.insert(k, m)
    return time.perf_counter() - t0


def _tfidf_all_pairs_seconds(posts: pd.DataFrame) -> tuple[float, int]:
    """All-pairs cosine of character 5-gram TF-IDF vectors (the quadratic alternative)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    norm = [copies.normalise_text(t) for t in posts["text"]]
    X = TfidfVectorizer(analyzer="char", ngram_range=(5, 5)).fit_transform(norm)
    products = X @ X.T
    return time.perf_counter() - t0, int(products.nnz)


def run(sizes: list[int], seed: int) -> list[dict]:
    results = []
    for n in sizes:
        posts = realistic_posts(n, seed=seed)
        t0 = time.perf_counter()
        pairs = copies.near_duplicate_pairs(posts, threshold=0.5, lsh_threshold=0.3, num_perm=64, seed=seed)
        t1 = time.perf_counter()
        clusters = copies.copy_clusters(posts, pairs)
        t2 = time.perf_counter()
        row = {"posts": n, "call_copies": int((posts["campaign"] >= 0).sum()),
               "campaigns": int(posts["campaign"].max() + 1),
               "pairs_seconds": round(t1 - t0, 2), "clusters_seconds": round(t2 - t1, 2),
               "pairs": len(pairs), "clusters": int(clusters["cluster_id"].nunique()),
               "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        row.update(_pair_accuracy(posts, clusters))
        row.update(_lsh_recall(posts, pairs))
        if n <= 10_000:
            row["datasketch_minhash_lsh_seconds"] = round(_datasketch_seconds(posts), 2)
            seconds, nnz = _tfidf_all_pairs_seconds(posts)
            row["tfidf_all_pairs_seconds"] = round(seconds, 2)
            row["tfidf_all_pairs_nonzero"] = nnz
        results.append(row)
        print(row, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = run(args.sizes, args.seed)
    print(f"\n{'posts':>9} {'copies':>7} {'seconds':>8} {'pairs':>8} {'clusters':>8} {'recall':>7} "
          f"{'precision':>9} {'LSH recall':>10} {'peak MiB':>8}")
    for r in results:
        print(f"{r['posts']:>9} {r['call_copies']:>7} {r['pairs_seconds'] + r['clusters_seconds']:>8.2f} "
              f"{r['pairs']:>8} {r['clusters']:>8} {r['recall']:>7.3f} {r['precision']:>9.3f} "
              f"{r['lsh_recall_at_threshold']:>10.4f} {r['peak_rss_mib']:>8}")
    out = Path(__file__).parent / "results" / "copies.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": {"python": platform.python_version(), "cores": 2, "ram_gib": 24},
                               "seed": args.seed, "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
