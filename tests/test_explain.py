"""Why a post is a call, in English: cue words from the lexicon with glosses, in the app's data and the packet."""

import csv
import io
import zipfile

import pytest

from detector.evidence.packet import build_packet
from detector.features.explain import cue_words, why_text
from detector.results import campaign_list
from detector.store import Case


@pytest.mark.parametrize("text, word, gloss", [
    ("大家一起举报这个视频 https://youtu.be/dQw4w9WgXcQ 理由：仇恨言论", "举报", "report"),
    ("Всем срочно жалобы на канал @dala_news! Пишите за травлю", "жалобы", "complaint"),
    ("Барлығы шағым жіберіңіздер: https://youtu.be/abcdefghijk", "шағым", "complaint"),
    ("ھەممىڭلار بۇ ۋىدىيوغا ئەرز قىلىڭلار https://youtu.be/abcdefghijk", "ئەرز", "complaint"),
    ("Усім терміново скарги на цей канал https://youtube.com/@somechannel", "скарги", "complaint"),
    ("Everyone please mass report this video for harassment https://youtu.be/abcdefghijk", "mass report",
     "mass-report"),
])
def test_the_reporting_word_of_a_call_is_glossed_in_english(text, word, gloss):
    found = {c["word"]: c for c in cue_words(text)}
    assert word in found and found[word]["kind"] == "report"
    assert gloss in found[word]["gloss"]
    assert f"{word} = " in why_text(text)


def test_a_post_without_cue_words_says_the_model_decided():
    assert "model" in why_text("👍 https://youtu.be/abcdefghijk")


def test_every_call_in_a_packet_says_why_in_english(mixed_case, tmp_path):
    with Case.open(mixed_case, read_only=True) as case:
        top = campaign_list(case)[0]
    packet = build_packet(mixed_case, top["id"], tmp_path / "p.zip")
    with zipfile.ZipFile(packet) as zf:
        calls = list(csv.DictReader(io.StringIO(zf.read("calls.csv").decode("utf-8"))))
        html = zf.read("report.html").decode("utf-8")
    assert calls and all("(reporting word)" in c["why_a_call"] or "(asks for removal)" in c["why_a_call"]
                         for c in calls)
    assert "why the classifier counts it as a call" in html
