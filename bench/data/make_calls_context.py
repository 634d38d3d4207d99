"""Add thread context to the real labelled posts of ``detector/data/calls/real/``.

Writes two columns into every ``*.csv`` there (labels and every other cell unchanged):

- ``context``: the text the row answers, where its source is a thread;
- ``context_source``: where that text came from.

Two kinds of thread are covered:

- **Weibo repost chains** (rows from ``thunlp/Chinese_Rumor_Dataset``, ``CED_Dataset/*-repost/<id>.json``):
  the row's repost is found in its file by its text (or, for a row cut to
  one sentence, by its first 20 characters); the context is the text of its ``parent``
  repost when that repost is in the file and has text, else the original microblog
  (``CED_Dataset/original-microblog/<id>.json``). ``context_source`` names repository, path, commit
  and ``mid``. Read from a local git mirror of the repository (``--mirrors``: a directory holding
  ``owner+name/repo`` git directories, as the project's fetch tool writes them).
- **GitHub issue, pull-request and discussion threads** (rows whose ``source`` is such a URL): the rows
  of one thread were gathered in thread order, and the first gathered row is the issue's title or
  opening post in most threads (not all: some threads were entered at a reply). So every later row
  of the thread gets the first gathered row's text as its context (``context_source``
  ``thread-first-row:<source>``); the first row itself, and threads with one row, get none.

Every other row (web pages, news, datasets of single posts, Telegram channel posts that are not
replies) keeps an empty context. Run again after adding rows; the output is the same for the same
inputs.

    .venv/bin/python bench/data/make_calls_context.py --mirrors /work/.mirror
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import pandas as pd

REAL = Path(__file__).resolve().parents[2] / "detector" / "data" / "calls" / "real"
WEIBO = "thunlp/Chinese_Rumor_Dataset"
THREAD_URL = re.compile(r"^https://github\.com/[^/]+/[^/]+/(issues|pull|discussions)/\d+")


def _git_show(mirror: Path, commit: str, path: str) -> str:
    done = subprocess.run(["git", "-C", str(mirror), "show", f"{commit}:{path}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{mirror}: cannot read {path}@{commit}: {done.stderr.strip()}")
    return done.stdout


def weibo_context(source: str, text: str, mirrors: Path) -> tuple[str, str]:
    """(context, context_source) of a Weibo repost row: its parent repost's text, else the original post."""
    path, commit = source.split(":", 1)[1].split("@", 1)
    mirror = mirrors / WEIBO.replace("/", "+") / "repo"
    reposts = json.loads(_git_show(mirror, commit, path))
    by_mid = {r["mid"]: r for r in reposts}
    wanted = text.strip()
    found = [r for r in reposts if r.get("text") and r["text"].strip() == wanted]
    # A few rows are cut to the one sentence that forms the unit: find them by their opening.
    found = found or [r for r in reposts if r.get("text") and wanted[:20] in r["text"]]
    if not found:
        raise SystemExit(f"{source}: no repost with the row's text {wanted[:40]!r}")
    parent = by_mid.get(found[0]["parent"])
    if parent is not None and parent.get("text", "").strip():
        return parent["text"].strip(), f"{WEIBO}:{path}@{commit}#{parent['mid']}"
    original = "CED_Dataset/original-microblog/" + path.rsplit("/", 1)[1]
    post = json.loads(_git_show(mirror, commit, original))
    return post["text"].strip(), f"{WEIBO}:{original}@{commit}"


def add_context(frame: pd.DataFrame, mirrors: Path) -> pd.DataFrame:
    """``frame`` (one real CSV) with ``context`` and ``context_source`` filled as the module says."""
    out = frame.copy()
    context = [""] * len(out)
    origin = [""] * len(out)
    for i, (source, text) in enumerate(zip(out["source"], out["text"], strict=True)):
        if source.startswith(WEIBO + ":CED_Dataset/") and "-repost/" in source:
            context[i], origin[i] = weibo_context(source, text, mirrors)
    first_seen: dict[str, int] = {}
    for i, (source, group) in enumerate(zip(out["source"], out["group"], strict=True)):
        if not THREAD_URL.match(source) or context[i]:
            continue
        if group not in first_seen:
            first_seen[group] = i
            continue
        first = first_seen[group]
        context[i], origin[i] = out["text"].iat[first], f"thread-first-row:{out['source'].iat[first]}"
    out["context"], out["context_source"] = context, origin
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in sorted(REAL.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        done = add_context(frame.drop(columns=["context", "context_source"], errors="ignore"), args.mirrors)
        done.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        print(f"{path.name}: {int((done['context'] != '').sum())} of {len(done)} rows with context")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
