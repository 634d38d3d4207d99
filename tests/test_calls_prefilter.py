"""The fast calls step gives what the plain one gave: the gate prefilter, the anchor search, bulk
normalisation and the worker processes change no call, boast, score or target."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector import ingest
from detector.features import calls as C
from detector.features.anchors import AnchorIndex, _case_table, regex_anchors
from detector.features.mood import reporting_words
from detector.store import Case

DEMO = Path(__file__).resolve().parents[1] / "detector" / "data" / "demo"
EVERYDAY = Path(__file__).resolve().parents[1] / "bench" / "data" / "everyday_posts.csv.gz"

# Texts built to trip each step of normalise_post_text: invisible characters inside cue words,
# repeated letters, digits, full-width letters, the dotless i, mentions and links glued to words,
# whitespace runs, NUL, decomposed letters, Greek final sigma.
EDGE_TEXTS = [
    "", " ", "\u200b", "re\u200bport this", "REPORTTTT this channel!!!", "rep4rt it", "rep0rt", "ｒｅｐｏｒｔ it",
    "bıldırın", "şikayet edin", "ban\u200b@steppe_truth", "ban @steppe_truth now", "take   it\n\tdown",
    "taken\u00a0down", "channnnel terminated", "a\x00report", "\x00", "жалу\u0306йтесь", "удалилиии",
    "ΑΣ report", "ᲀсе жалобы", "gone!!!", "it's gone", "it’s gone", "举报！！", "举　报", "被删了", "ئەرز قىلىڭلار",
    "see youtu.be/Xk3pL9qRt2A report", "https://t.me/x удалили", "no cue at all", "0000 1111", "\ufe0freport\ufe0f",
    # word boundaries beside links, mentions, digits and marks; whitespace the quick form keeps
    "reporthttps://t.me/x", "@abcжалоба", "ΑΣ https://t.me/x", "xx ban @steppe_truth", "banned\u200b", "٣٣٣ report",
    "a\u2028\u2028report it", "REPORTED", "report\u0301", "ban  this   channel", "ban\u00a0this\nchannel", "бұғатталдыыы",
]


def _posts(texts) -> pd.DataFrame:
    return pd.DataFrame({"post_id": [f"p{i}" for i in range(len(texts))], "text": list(texts)})


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return list(C.read_labelled()["text"]) + list(C.read_real()["text"]) + EDGE_TEXTS


@pytest.fixture(scope="module")
def demo_posts(tmp_path_factory) -> pd.DataFrame:
    db = tmp_path_factory.mktemp("demo") / "case.duckdb"
    ingest([DEMO], db)
    with Case.open(db) as case:
        return case.table("posts")


def _same(a, b) -> bool:
    def plain(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v
    return plain(a) == plain(b)


def _assert_prefilter_loses_nothing(posts: pd.DataFrame) -> None:
    fast = C.classify_calls(posts, prefilter=True)
    full = C.classify_calls(posts, prefilter=False)
    assert fast["kind"].tolist() == full["kind"].tolist()
    assert fast["is_call"].tolist() == full["is_call"].tolist()
    described = np.flatnonzero(full["kind"].to_numpy() != "other")
    for column in ("confidence", "p_call", "targets", "requested_policy", "language"):
        assert all(_same(fast[column].iat[i], full[column].iat[i]) for i in described), column
    scored = fast["p_call"].notna().to_numpy()
    assert np.array_equal(fast["p_call"][scored], full["p_call"][scored])
    reporting, removal = C.gate_cues(posts["text"].tolist())
    assert np.array_equal(scored, reporting | removal)   # only posts that fail both gates go unscored
    assert scored.sum() < len(posts)


def test_prefilter_changes_nothing_on_the_labelled_and_real_posts(corpus):
    _assert_prefilter_loses_nothing(_posts(corpus))


def test_prefilter_changes_nothing_on_the_demo_case(demo_posts):
    _assert_prefilter_loses_nothing(demo_posts)


def _gates_by_regex(normalised: list[str]) -> tuple[list[bool], list[bool]]:
    """What the gates must give, by the plain regexes over the normalised texts: a report word
    inside an other-sense phrase ("bug report") does not count (mood.reporting_words)."""
    path = str(C.LEXICON_PATH)
    report, other_sense = C._reporting_pattern(path), C._other_sense_pattern(path)
    return ([bool(reporting_words(t, report, other_sense)) for t in normalised],
            [bool(C._removal_pattern(path).search(t)) for t in normalised])


def test_gate_cues_equal_the_gate_regexes_on_normalised_text(corpus):
    normalised = [C.normalise_post_text(t) for t in corpus]
    reporting, removal = C.gate_cues(corpus)
    assert (reporting.tolist(), removal.tolist()) == _gates_by_regex(normalised)
    assert reporting.any() and removal.any() and not (reporting | removal).all()


def test_bulk_normalisation_equals_one_post_at_a_time(corpus):
    rng = np.random.default_rng(0)
    glued = ["".join(rng.choice(EDGE_TEXTS, 3)) for _ in range(500)]
    texts = corpus + glued + [None, float("nan"), 12]
    assert C.normalise_texts(texts) == [C.normalise_post_text(t) for t in texts]


def test_lexicon_counts_with_anchor_search_equal_counts_of_every_regex(corpus):
    cues = dict(C.call_model().named_steps["features"].transformer_list)["cues"]
    texts = C.normalise_texts(corpus)
    whole = (*cues.cue_patterns_.values(), cues.policy_pattern_)
    plain = np.log1p(np.array([cues._counts(t, whole) for t in texts], dtype=float))
    assert np.array_equal(cues.transform(texts).toarray(), plain)


def test_requested_policies_equal_the_first_policy_regex_match(corpus):
    def first_match(text):
        found = [(m.start(), k, name) for k, (name, p) in enumerate(C._policy_patterns(str(C.LEXICON_PATH)))
                 if (m := p.search(C.normalise_post_text(text)))]
        return min(found)[2] if found else None
    assert C.requested_policies(corpus) == [first_match(t) for t in corpus]


def test_every_regex_match_holds_one_of_its_anchors(corpus):
    lexicon = C.load_lexicon()
    patterns = [p for kinds in (lexicon["cues"], lexicon["policies"]) for langs in kinds.values()
                for p in C._pooled(langs)]
    texts = C.normalise_texts(corpus)
    checked = 0
    for pattern in patterns:
        anchors = regex_anchors(pattern)
        compiled = re.compile(pattern, re.IGNORECASE)
        for text in texts:
            for match in compiled.finditer(text):
                table = _case_table(frozenset("".join(anchors)) | frozenset(match.group()))
                fold = "".join(table.get(ch, ch) for ch in match.group())
                assert any("".join(table.get(ch, ch) for ch in a) in fold for a in anchors), (pattern, match.group())
                checked += 1
    assert checked > 1000


def test_anchors_of_a_regex_cover_its_alternatives_and_skip_open_parts():
    assert regex_anchors(r"\bmass[- ]?(report|flag)") == {"mass report", "mass-report", "massreport",
                                                           "mass flag", "mass-flag", "massflag"}
    assert regex_anchors(r"пока .{0,20}не удалят") == {"не удалят"}
    assert regex_anchors(r"\w+(сын|сін)\b") == {"сын", "сін"}
    assert regex_anchors(r"\w*") is None


def test_a_text_with_a_stand_in_letter_matches_the_anchors_it_stands_for():
    index = AnchorIndex({"tr": ["bildirin"], "ru": ["в бан"]})
    assert index.candidates(["bıldırın", "bildirin", "ᲀ бан", "nothing", ""]).tolist() == [
        [True, False], [True, False], [False, True], [False, False], [False, False]]


def test_a_word_boundary_of_the_regex_rules_out_its_anchor_inside_a_longer_word():
    index = AnchorIndex({"report": [r"\breport(s|ing)?\b"]})
    texts = ["reported it", "report it", "reports!", "misreport", "reporting", "a\x00report"]
    assert index.candidates(texts)[:, 0].tolist() == [False, True, True, False, True, True]


def test_a_regex_needing_two_strings_is_a_candidate_only_where_both_occur():
    index = AnchorIndex({"zh": [r"让.{0,8}封"]})
    assert index.candidates(["让我们走", "封面", "让他们封号", "封了再让"])[:, 0].tolist() == [False, False, True, True]


def _de_tokenised(phrase: str, rng) -> str:
    """A raw text whose normalised form is ``phrase`` (a match of a gate regex)."""
    for token, raw in (("atmention", "@steppe_truth"), ("yturl", "https://youtu.be/Xk3pL9qRt2A"),
                       ("ytchannel", "https://www.youtube.com/@steppe_truth"), ("tgurl", "https://t.me/steppe_truth"),
                       ("weburl", "https://example.org/a")):
        phrase = phrase.replace(token, raw)
    return re.sub("0", lambda _: str(rng.integers(10, 999)), phrase)


def _perturbed(text: str, rng) -> str:
    """The same text as the regexes see it, or almost: case, runs, whitespace, invisible and
    stand-in letters, full-width forms."""
    chars = list(text)
    for _ in range(rng.integers(0, 3)):
        k = int(rng.integers(len(chars))) if chars else 0
        kind = rng.integers(7)
        if not chars:
            break
        if kind == 0:
            chars[k] = chars[k].upper()
        elif kind == 1:
            chars[k] = chars[k] * int(rng.integers(2, 5))
        elif kind == 2 and chars[k] == " ":
            chars[k] = str(rng.choice([" \n ", "\t", "\u00a0", "  ", "\u2028", "\u3000"]))
        elif kind == 3:
            chars[k] = chars[k] + str(rng.choice(["\u200b", "\ufe0f", "\u200d"]))
        elif kind == 4 and chars[k] == "i":
            chars[k] = "ı"
        elif kind == 5 and len(chars[k]) == 1 and "a" <= chars[k] <= "z":
            chars[k] = chr(ord(chars[k]) - ord("a") + ord("ａ"))
        elif kind == 6:
            chars[k] = chars[k] + "\u0301"
    return "".join(chars)


def test_gate_cues_equal_the_gate_regexes_on_perturbed_cue_phrases(corpus):
    """Every phrase a gate regex matches in the corpus, with perturbations that the loose form
    and the boundary checks must see through, glued to words, links, mentions and digits."""
    path = str(C.LEXICON_PATH)
    normalised = C.normalise_texts(corpus)
    phrases = sorted({m.group() for _, regex in C._gate_regexes(path) for t in normalised for m in regex.finditer(t)})
    rng = np.random.default_rng(0)
    glue = ["", " ", "\n\n", "x", "ж", "的", "5", "٣", "!!", "ed", "ing", "ы", "ı", "_", "https://t.me/x",
            "youtu.be/Xk3pL9qRt2A", "@steppe_truth", "www.example.org/a", "\u200b", "\u00a0"]
    texts = [str(rng.choice(glue)) + _perturbed(_de_tokenised(p, rng), rng) + str(rng.choice(glue))
             for p in phrases for _ in range(6)]
    normalised = [C.normalise_post_text(t) for t in texts]
    reporting, removal = C.gate_cues(texts)
    assert (reporting.tolist(), removal.tolist()) == _gates_by_regex(normalised)
    assert len(phrases) > 200 and 0 < (reporting | removal).mean() < 1


def test_nfkc_shortcut_equals_unicodedata(corpus):
    rng = np.random.default_rng(1)
    pool = list("，！？：（）；…‼⁉№～＂ \u00a0\u3000ｅe\u0301\u0327̈aA①ﬁ한ᄒ\u1161oN") + ["ΑΣ", "İ"]
    texts = corpus + ["".join(rng.choice(pool, int(rng.integers(1, 12)))) for _ in range(3000)]
    assert [C._nfkc(t) for t in texts] == [unicodedata.normalize("NFKC", t) for t in texts]


def test_quick_loose_form_equals_the_careful_one_without_the_characters_it_leaves(corpus):
    # The gate looks for _NOT_QUICK characters in the quick form (AnchorIndex recheck), so that is
    # where their absence must make the two forms equal: "˙" holds none itself but becomes " ̇".
    texts = [t for t in corpus + EDGE_TEXTS if "\x00" not in t]
    quick = C._quick_loose_form(texts).decode("utf-8", "surrogatepass").split("\x00")
    plain = [i for i, q in enumerate(quick) if not any(ch in q for ch in C._NOT_QUICK)]
    assert len(plain) > 0.9 * len(texts)
    assert [quick[i] for i in plain] == C._careful_loose_forms([texts[i] for i in plain])


# Unicode that trips case, NFKC and word boundaries: full-width letters, the Turkish dotted and
# dotless I, sharp s, combining marks (decomposed letters), Kazakh and Uyghur letters, emoji with
# variation selectors and joiners, other whitespace and invisible characters, Greek final sigma.
ADVERSARIAL_PIECES = ["ＲＥＰＯＲＴ", "ｒｅｐｏｒｔ", "İ", "ı", "I", "ß", "ẞ", "STRASSE", "e\u0301", "е\u0308", "й", "и\u0306",
                      "ңғүұқөһі", "ҢҒҮҰҚӨҺІ", "ئەرز قىلىڭلار", "يۇتۇب", "😀", "❗️", "👍🏽", "👨\u200d👩\u200d👧", "\ufe0f",
                      "\u200b", "\u2060", "\u2028", "\u2029", "\x85", "\u1680", "\u3000", "\u00a0", "\n\n", "  ", "ΑΣ",
                      "ΣΑΣ ", "ﬁ", "①", "№", "…", "ｶﾞ", "한", "ᄒ\u1161", "\u0307", "Ⅻ", "㎏", "\U0001d42b", "ᲀ"]


def _adversarial_texts(corpus, n: int, seed: int) -> list[str]:
    """Cue phrases the gate regexes match in the corpus and everyday words, glued to and cut by
    adversarial Unicode."""
    path = str(C.LEXICON_PATH)
    normalised = C.normalise_texts(corpus)
    phrases = sorted({m.group() for _, regex in C._gate_regexes(path) for t in normalised for m in regex.finditer(t)})
    words = [w for t in corpus[:400] for w in t.split()[:6]]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(int(rng.integers(1, 6))):
            kind = rng.integers(4)
            piece = str(rng.choice(phrases if kind == 0 else words if kind == 1 else ADVERSARIAL_PIECES))
            if kind == 0 and rng.random() < 0.5:
                piece = _perturbed(piece, rng)
            if rng.random() < 0.3:
                piece = piece.upper() if rng.random() < 0.5 else piece.title()
            parts.append(piece)
        out.append(str(rng.choice(["", " ", "\n"])).join(parts))
    return out


def test_rechecked_loose_forms_equal_the_careful_ones(corpus):
    texts = corpus + EDGE_TEXTS + _adversarial_texts(corpus, 3000, seed=2) + [
        "".join(ADVERSARIAL_PIECES), " \u200b \u2028\u200b  x", "\u0307", "a\x00b\u200b"]
    assert C._rechecked_loose_forms(texts) == C._careful_loose_forms(texts)
    assert C._rechecked_loose_forms([]) == C._careful_loose_forms([]) == []


def test_gate_cues_equal_the_gate_regexes_on_adversarial_unicode(corpus):
    texts = _adversarial_texts(corpus, 6000, seed=3)
    normalised = [C.normalise_post_text(t) for t in texts]
    reporting, removal = C.gate_cues(texts)
    assert (reporting.tolist(), removal.tolist()) == _gates_by_regex(normalised)
    assert 0.1 < (reporting | removal).mean() < 0.9


def test_gate_cues_equal_the_gate_regexes_on_everyday_posts():
    """Real everyday posts of real length (bench/data/everyday_posts.csv.gz, sources in its SOURCES.md)."""
    texts = pd.read_csv(EVERYDAY, dtype=str, keep_default_na=False)["text"].tolist()
    normalised = C.normalise_texts(texts)
    reporting, removal = C.gate_cues(texts)
    assert (reporting.tolist(), removal.tolist()) == _gates_by_regex(normalised)
    assert len(texts) > 10_000 and 0 < (reporting | removal).mean() < 0.1


def test_the_quick_loose_form_leaves_no_other_whitespace_than_ascii_and_the_listed():
    # Whitespace that NFKC and lower() can leave in a text; the quick form handles only ASCII.
    left = {ch for c in range(0x110000) for ch in unicodedata.normalize("NFKC", chr(c)).lower()
            if ch.isspace() and not ch.isascii()}
    assert left <= set(C._NOT_QUICK)


def test_every_character_that_becomes_an_invisible_one_is_rechecked_by_what_it_becomes():
    # "˙" (NFKC " ̇", in a real ZEPETO post) and "İ" (lower case "i̇") hold no invisible character
    # themselves: their quick form must hold one, so that the gate prepares them again carefully.
    invisible = set(C._INVISIBLE_CHARACTERS)
    becoming = [chr(c) for c in range(0x110000) if chr(c) not in invisible
                and invisible & set(unicodedata.normalize("NFKC", chr(c)).lower())]
    assert becoming
    quick = C._quick_loose_form(becoming).decode("utf-8", "surrogatepass").split("\x00")
    assert all(any(ch in q for ch in C._NOT_QUICK) for q in quick)
    texts = ["please remove˙this video now", "İSTANBUL: report˙this channel"]
    assert C.gate_cues(texts)[0].tolist() == _gates_by_regex(C.normalise_texts(texts))[0] == [True, True]


def test_any_number_of_workers_and_pieces_gives_the_same_output(corpus, monkeypatch):
    posts = _posts(corpus)
    whole = C.classify_calls(posts, workers=1)
    # Small pieces, processes forced however few the posts: serial, 2 and 3 workers.
    monkeypatch.setattr(C, "PARALLEL_CHUNK", 700)
    monkeypatch.setattr(C, "PARALLEL_MIN_POSTS", 0)
    for workers in (1, 2, 3):
        pd.testing.assert_frame_equal(whole, C.classify_calls(posts, workers=workers))


def test_small_inputs_stay_in_one_process(monkeypatch):
    def no_processes(*args, **kwargs):
        raise AssertionError("started worker processes for a small input")

    monkeypatch.setattr(C, "_in_processes", no_processes)
    out = C.classify_calls(_posts(["report this channel", "hello"] * 10), workers=2)
    assert len(out) == 20


def test_no_character_past_the_cased_limit_has_another_case():
    from detector.features.anchors import CASED_LIMIT

    assert not [c for c in range(CASED_LIMIT, 0x110000)
                if (ch := chr(c)).lower() != ch or ch.upper() != ch or ch.casefold() != ch]


def test_keeping_only_calls_and_boasts_gives_those_rows_of_the_whole_output(corpus, monkeypatch):
    posts = _posts(corpus).assign(urls=[["https://t.me/x"] if i % 7 == 0 else [] for i in range(len(corpus))],
                                  targets=[["telegram:y"] if i % 5 == 0 else [] for i in range(len(corpus))])
    whole = C.classify_calls(posts)
    expected = whole[whole["kind"] != "other"].reset_index(drop=True)
    assert 0 < len(expected) < len(whole)
    pd.testing.assert_frame_equal(C.classify_calls(posts, keep_other=False), expected)
    monkeypatch.setattr(C, "PARALLEL_CHUNK", 700)
    monkeypatch.setattr(C, "PARALLEL_MIN_POSTS", 0)
    pd.testing.assert_frame_equal(C.classify_calls(posts, workers=2, keep_other=False), expected)


def test_keeping_only_calls_and_boasts_of_chatter_gives_the_empty_rows_of_the_whole_output():
    whole = C.classify_calls(_posts(["hello", "good morning everyone", "weather is fine"]))
    assert (whole["kind"] == "other").all()
    pd.testing.assert_frame_equal(C.classify_calls(_posts(["hello", "good morning everyone", "weather is fine"]),
                                                   keep_other=False),
                                  whole[whole["kind"] != "other"].reset_index(drop=True))
