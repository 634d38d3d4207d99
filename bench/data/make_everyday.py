"""Build bench/data/everyday_posts.csv.gz: real everyday public posts for the benchmarks.

Benchmark-only material (bench/analyze.py draws its posts from it); never training data for the
classifier. Reads the public repositories listed in bench/data/SOURCES.md, each at the commit given
there, from local git mirrors (``--mirrors``: a directory holding ``owner+name/repo`` git
directories, as the project's fetch tool writes them), samples a fixed number of rows per source
with a fixed seed, and writes one row per post: ``lang, text, kind, source, licence``. ``source``
names the repository, path, commit and the row's id inside the file, so every row can be found
again. Texts are copied verbatim (whitespace at the ends stripped; Uyghur markdown emphasis marks
``**`` removed; long Uyghur paragraphs cut at a sentence end).

    .venv/bin/python bench/data/make_everyday.py --mirrors /work/.mirror
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "everyday_posts.csv.gz"

# repository -> (commit, licence as the repository states it)
SOURCES = {
    "NKTKLN/telegram-news-classifier": ("b8b03f1982910fbf4151c184f1ade8b67aa1f585",
                                        "CC BY 4.0 (dataset licence, data/LICENCE.md)"),
    "lang-uk/1551.gov.ua": ("9d3719b9eb1772d0440189dd22a42bf3fe57fbf3", "not stated in the repository"),
    "IS2AI/KazSAnDRA": ("d769cf7f7bd62b59f88915508d4bc062310b54d6", "not stated in the repository (research dataset by ISSAI)"),
    "thunlp/Chinese_Rumor_Dataset": ("c1178d8cfd4c245c296889a51fc252b17c9037c5", "not stated in the repository"),
    "SophonPlus/ChineseNlpCorpus": ("a0b781d72158bde242c0626c9e354d2b328865ff", "not stated in the repository"),
    "cardiffnlp/tweeteval": ("4fbd22cd78421f05b1ecdb4fc5725bc7a7bd8f66", "TweetEval: 'released without any restrictions'; tweets subject to "
                                        "Twitter's terms (README, section License)"),
    "Uyghur-Corpus/Uyghur-Corpus": ("ccea2f360a36ed2bfb293edf8935182369960ee3", "MIT (README front matter)"),
}
PER_SOURCE = {"ru": 2000, "uk": 1500, "kk": 2000, "zh_weibo": 1000, "zh_comment": 600, "zh_waimai": 400,
              "en": 2000, "ug": 1500}


class Repo:
    def __init__(self, mirrors: Path, name: str):
        self.name = name
        self.commit_short, self.licence = SOURCES[name]
        self.git = mirrors / name.replace("/", "+") / "repo"
        self.commit = self._run("rev-parse", self.commit_short).decode().strip()  # fails if the mirror lacks it

    def _run(self, *args: str) -> bytes:
        return subprocess.run(["git", "-C", str(self.git), "-c", "core.quotepath=off", *args],
                              check=True, capture_output=True).stdout

    def ls(self, under: str) -> list[str]:
        return self._run("ls-tree", "-r", "--name-only", self.commit, under).decode().splitlines()

    def read(self, path: str) -> bytes:
        return self._run("show", f"{self.commit}:{path}")

    def read_many(self, paths: list[str]) -> list[bytes]:
        """Blobs of many files in one ``git cat-file --batch`` (one process, not one per file)."""
        query = "".join(f"{self.commit}:{p}\n" for p in paths).encode()
        out = subprocess.run(["git", "-C", str(self.git), "cat-file", "--batch"], input=query, check=True,
                             capture_output=True).stdout
        blobs, at = [], 0
        for _ in paths:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            blobs.append(out[header_end + 1:header_end + 1 + size])
            at = header_end + 1 + size + 1
        return blobs

    def ref(self, path: str, row: str) -> str:
        return f"{self.name}:{path}@{self.commit}#{row}"


def _row(lang: str, text: str, kind: str, repo: Repo, path: str, row_id: str) -> dict:
    return {"lang": lang, "text": text.strip(), "kind": kind, "source": repo.ref(path, row_id), "licence": repo.licence}


def _sample(rows: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    rows = [r for r in rows if len(r["text"]) >= 3]
    if len(rows) <= n:
        return rows
    return [rows[i] for i in sorted(rng.choice(len(rows), n, replace=False))]


def russian_telegram(mirrors: Path, rng) -> list[dict]:
    repo = Repo(mirrors, "NKTKLN/telegram-news-classifier")
    rows = []
    for path in repo.ls("data/raw"):
        for m in json.loads(repo.read(path)):
            if m.get("text"):
                rows.append(_row("ru", m["text"], "telegram_channel_post", repo, path, f"message_id={m['message_id']}"))
    return _sample(rows, PER_SOURCE["ru"], rng)


_UK_ONLY, _RU_ONLY = re.compile("[іїєґІЇЄҐ]"), re.compile("[ыэъёЫЭЪЁ]")


def ukrainian_requests(mirrors: Path, rng) -> list[dict]:
    """Requests to Kyiv's municipal portal 1551 written in Ukrainian (Ukrainian letters, no Russian ones)."""
    repo = Repo(mirrors, "lang-uk/1551.gov.ua")
    paths = repo.ls("raw")
    rows = []
    # 127k files of one request each: read a random 8,000, enough for a sample of 1,500.
    chosen = [paths[i] for i in sorted(rng.choice(len(paths), 8000, replace=False))]
    for path, blob in zip(chosen, repo.read_many(chosen), strict=True):
        for item in json.loads(gzip.decompress(blob)):
            text = (item.get("CallZText") or "").replace("\r\n", "\n").strip()
            if 20 <= len(text) <= 2000 and _UK_ONLY.search(text) and not _RU_ONLY.search(text):
                rows.append(_row("uk", text, "municipal_request", repo, path, f"CallId={item.get('CallId', '')}"))
    return _sample(rows, PER_SOURCE["uk"], rng)


_KK_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def kazakh_reviews(mirrors: Path, rng) -> list[dict]:
    """Kazakh reviews of shops, apps, maps and books (KazSAnDRA validation split), Kazakh letters present."""
    repo = Repo(mirrors, "IS2AI/KazSAnDRA")
    path = "dataset/04_pc_valid.zip"
    with zipfile.ZipFile(io.BytesIO(repo.read(path))) as z:
        frame = pd.read_csv(z.open("04_pc_valid.csv"), dtype=str)
    rows = [_row("kk", t, f"review_{d}", repo, f"{path}/04_pc_valid.csv", f"custom_id={c}")
            for c, t, d in zip(frame["custom_id"], frame["text"].fillna(""), frame["domain"], strict=True)
            if _KK_LETTERS.search(t)]
    return _sample(rows, PER_SOURCE["kk"], rng)


def chinese_weibo(mirrors: Path, rng) -> list[dict]:
    """Weibo posts judged not rumours (CED), and the comments and reposts under them."""
    repo = Repo(mirrors, "thunlp/Chinese_Rumor_Dataset")
    names = [p.rsplit("/", 1)[1] for p in repo.ls("CED_Dataset/non-rumor-repost") if p.endswith(".json") and "/._" not in p]
    posts, comments = [], []
    paths = [f"CED_Dataset/original-microblog/{name}" for name in names]
    for path, blob in zip(paths, repo.read_many(paths), strict=True):
        posts.append(_row("zh", json.loads(blob).get("text") or "", "weibo_post", repo, path, "text"))
    paths = [f"CED_Dataset/non-rumor-repost/{names[i]}"
             for i in sorted(rng.choice(len(names), min(300, len(names)), replace=False))]
    for path, blob in zip(paths, repo.read_many(paths), strict=True):
        items = json.loads(blob)
        comments.extend(_row("zh", c.get("text") or "", "weibo_comment", repo, path, f"mid={c.get('mid')}")
                        for c in items if len((c.get("text") or "").strip()) >= 8 and c.get("text") != "转发微博")
    return _sample(posts, PER_SOURCE["zh_weibo"], rng) + _sample(comments, PER_SOURCE["zh_comment"], rng)


def chinese_reviews(mirrors: Path, rng) -> list[dict]:
    repo = Repo(mirrors, "SophonPlus/ChineseNlpCorpus")
    path = "datasets/waimai_10k/waimai_10k.csv"
    frame = pd.read_csv(io.BytesIO(repo.read(path)), dtype=str)
    rows = [_row("zh", t, "review_food_delivery", repo, path, f"line={i + 2}")
            for i, t in enumerate(frame["review"].fillna(""))]
    return _sample(rows, PER_SOURCE["zh_waimai"], rng)


def english_tweets(mirrors: Path, rng) -> list[dict]:
    repo = Repo(mirrors, "cardiffnlp/tweeteval")
    rows = []
    for path in ("datasets/sentiment/test_text.txt", "datasets/sentiment/val_text.txt"):
        for i, line in enumerate(repo.read(path).decode("utf-8").splitlines()):
            rows.append(_row("en", line, "tweet", repo, path, f"line={i + 1}"))
    return _sample(rows, PER_SOURCE["en"], rng)


_UG_SENTENCE_END = re.compile(r"(?<=[.!?؟。])\s+")


def uyghur_paragraphs(mirrors: Path, rng, longest: int = 400) -> list[dict]:
    """Paragraphs of Uyghur articles (essays, commentary, literature); long ones cut to their first sentences."""
    repo = Repo(mirrors, "Uyghur-Corpus/Uyghur-Corpus")
    rows = []
    for path in repo.ls("Articles"):
        body = repo.read(path).decode("utf-8", errors="replace")
        body = body.split("---", 2)[2] if body.startswith("---") else body
        for k, para in enumerate(p.strip() for p in body.split("\n\n")):
            if not para or para.startswith(("#", ">", "|", "-", "*", "!")) or len(para) < 40:
                continue
            text = para.replace("**", "")
            if len(text) > longest:
                kept = ""
                for sentence in _UG_SENTENCE_END.split(text):
                    if kept and len(kept) + len(sentence) + 1 > longest:
                        break
                    kept = f"{kept} {sentence}".strip()
                text = kept
            rows.append(_row("ug", text, "article_paragraph", repo, path, f"paragraph={k}"))
    return _sample(rows, PER_SOURCE["ug"], rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    rows = []
    for build in (russian_telegram, ukrainian_requests, kazakh_reviews, chinese_weibo, chinese_reviews,
                  english_tweets, uyghur_paragraphs):
        got = build(args.mirrors, rng)
        print(f"{build.__name__}: {len(got)} rows", flush=True)
        rows.extend(got)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    # mtime=0: the same rows give the same bytes
    with gzip.GzipFile(args.out, "wb", mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        frame.to_csv(f, index=False, quoting=csv.QUOTE_NONNUMERIC)
    print(frame.groupby("lang")["text"].agg(["count", lambda s: s.str.len().mean(), lambda s: s.str.len().median()]))


if __name__ == "__main__":
    main()
