"""Why a post counts as a call or a claim of success, in English: its cue words and their glosses.

A reviewer who cannot read Kazakh, Uyghur or Chinese must still see why the machine called a post
a call. :func:`cue_words` finds, in one post, the lexicon's cue words of the kinds that make a
call or a claim (reporting, takedown, mobilising, removal, success) and glosses each from
``data/calls/glosses.json``: the word as written, its kind, and an English meaning when the
gloss table knows the word, otherwise what its kind means. No machine translation is involved.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from detector.bundled import DATA_DIR
from detector.features.calls import LEXICON_PATH, load_lexicon, normalise_post_text

GLOSSES_PATH = DATA_DIR / "calls" / "glosses.json"
EXPLAINED_KINDS = ("report", "takedown", "mobilise", "removal", "boast")
MAX_WORDS = 6          # a reviewer needs the evidence, not every pronoun of a long post


@functools.lru_cache(maxsize=2)
def _glosses(path: str = str(GLOSSES_PATH)) -> tuple[dict[str, str], list[tuple[str, str]]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    words = sorted(((k.lower(), v) for k, v in data["words"].items()), key=lambda kv: -len(kv[0]))
    return data["kinds"], words


@functools.lru_cache(maxsize=2)
def _patterns(path: str = str(LEXICON_PATH)) -> tuple[tuple[str, re.Pattern], ...]:
    cues = load_lexicon(path)["cues"]
    return tuple((kind, re.compile(p, re.IGNORECASE)) for kind in EXPLAINED_KINDS
                 for patterns in cues.get(kind, {}).values() for p in patterns if p)


def _gloss(word: str, kind: str) -> str:
    kinds, words = _glosses()
    low = word.lower().strip()
    for known, meaning in words:            # longest known word first
        if low.startswith(known) or (len(low) >= 2 and known.startswith(low) and len(low) >= len(known) - 2):
            return meaning
    return kinds.get(kind, kind)


def cue_words(text: object) -> list[dict]:
    """The cue words of one post: ``[{"word", "kind", "gloss"}, …]`` in reading order, at most
    :data:`MAX_WORDS`, each word once. ``word`` is as it appears in the normalised text (lower case)."""
    norm = normalise_post_text(text)
    found: dict[str, tuple[int, str]] = {}
    for kind, pattern in _patterns():
        for m in pattern.finditer(norm):
            word = m.group(0).strip()
            if len(word) < 2 or word in found:
                continue
            # widen a stem to the whole word it sits in ("жалоб" -> "жалобы"), for a readable quote
            start, end = m.start(), m.end()
            while start > 0 and norm[start - 1].isalnum() and not _cjk(norm[start - 1]):
                start -= 1
            while end < len(norm) and norm[end].isalnum() and not _cjk(norm[end]):
                end += 1
            found.setdefault(norm[start:end].strip() or word, (m.start(), kind))
    ordered = sorted(found.items(), key=lambda kv: kv[1][0])      # reading order
    return [{"word": w, "kind": k, "gloss": _gloss(w, k)} for w, (_, k) in ordered[:MAX_WORDS]]


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def why_text(text: object) -> str:
    """The cue words of one post as one line: ``举报 = report (reporting word); 大家 = everyone (…)``."""
    kind_words = {"report": "reporting word", "takedown": "asks for removal", "mobilise": "urges readers",
                  "removal": "says removed", "boast": "claims success"}
    kinds, _ = _glosses()
    parts = [f"{c['word']} ({kind_words.get(c['kind'], c['kind'])})" if c["gloss"] == kinds.get(c["kind"])
             else f"{c['word']} = {c['gloss']} ({kind_words.get(c['kind'], c['kind'])})" for c in cue_words(text)]
    return "; ".join(parts) if parts else "no cue word from the lexicon (the model's n-grams decided)"
