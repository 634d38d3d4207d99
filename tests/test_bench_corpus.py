"""The benchmarks' everyday corpus (bench/data) and the large-case builder of bench/analyze.py."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from detector.ids import canonical_target, extract_urls
from detector.store import Case

BENCH = Path(__file__).resolve().parents[1] / "bench"
CORPUS = BENCH / "data" / "everyday_posts.csv.gz"
SOURCES = BENCH / "data" / "SOURCES.md"


def _analyze_module():
    spec = importlib.util.spec_from_file_location("bench_analyze", BENCH / "analyze.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return pd.read_csv(CORPUS, dtype=str, keep_default_na=False)


def test_everyday_corpus_holds_the_six_languages_with_a_thousand_posts_each(corpus):
    counts = corpus["lang"].value_counts()
    assert set(counts.index) == {"ru", "uk", "kk", "zh", "en", "ug"}
    assert counts.min() >= 1000
    assert (corpus["text"].str.strip() != "").all()
    assert corpus["text"].is_unique


def test_every_corpus_row_names_a_repository_and_commit_listed_in_sources_md(corpus):
    listed = SOURCES.read_text(encoding="utf-8")
    parts = corpus["source"].str.extract(r"^(?P<repo>[\w.-]+/[\w.-]+):(?P<path>.+)@(?P<commit>[0-9a-f]{40})#(?P<row>.+)$")
    assert parts.notna().all().all(), corpus.loc[parts.isna().any(axis=1), "source"].head().tolist()
    for repo, commit in parts[["repo", "commit"]].drop_duplicates().itertuples(index=False):
        assert re.search(rf"\|\s*{re.escape(repo)}\s*\|\s*{commit}\s*\|", listed), (repo, commit)
    assert (corpus["licence"].str.strip() != "").all()
    assert corpus["source"].is_unique


def test_bench_case_in_chunks_matches_what_the_store_would_hold(tmp_path):
    analyze = _analyze_module()
    db = tmp_path / "bench.duckdb"
    truth = analyze.build_case(db, 3000, 3000, seed=1, chunk=700)
    with Case.open(db, read_only=True) as case:
        notices, posts = case.table("notices"), case.table("posts")
        sources = case.table("sources").set_index("source_id")["rows"].to_dict()
    assert len(notices) == 3300 and len(posts) == 3020
    assert sources == {"notices": 3300, "posts": 3020}
    assert notices["notice_id"].is_unique and posts["post_id"].is_unique
    assert (posts["post_id"] == "telegram:" + posts["chat"] + ":" + posts["message_id"]).all()
    # URLs and targets as ingest would find them in each text
    assert [extract_urls(t) for t in posts["text"]] == [list(u) for u in posts["urls"]]
    assert all(list(t) == [canonical_target(u) for u in us] for us, t in zip(posts["urls"], posts["targets"],
                                                                            strict=True))
    assert posts["urls"].map(len).gt(0).sum() > 150  # 5 % link a video, and many Russian posts link out
    planted = notices[notices["notice_id"].str.startswith("bench:c")]
    assert set(planted["target"]) <= set(truth["named"]) and len(planted) == 300
    assert 0.65 < notices["reporter_id"].notna().mean() < 0.75  # 30 % automated flags, no reporter
    assert truth["corpus"]["name"] == "everyday"
    drawn = posts.loc[~posts["message_id"].str.startswith("c"), "text"].str.len()
    assert truth["corpus"]["post_chars_median"] == float(drawn.median())
    assert truth["corpus"]["post_chars_mean"] == round(float(drawn.mean()), 1)


def test_bench_case_is_the_same_for_the_same_seed(tmp_path):
    analyze = _analyze_module()
    frames = []
    for name in ("a", "b"):
        analyze.build_case(tmp_path / f"{name}.duckdb", 1000, 1000, seed=3, chunk=400)
        with Case.open(tmp_path / f"{name}.duckdb", read_only=True) as case:
            frames.append((case.table("notices"), case.table("posts")))
    for first, second in zip(*frames, strict=True):
        pd.testing.assert_frame_equal(first, second)
