"""Mood, person and address cues of reporting sentences (detector.features.mood)."""

import numpy as np
import pytest

from detector.features.calls import load_lexicon, normalise_post_text
from detector.features.mood import (
    FEATURE_NAMES,
    MOOD_KINDS,
    MoodCues,
    mood_counts,
    mood_patterns,
    other_sense_pattern,
    reporting_pattern,
    reporting_word,
)


@pytest.fixture(scope="module")
def patterns():
    lexicon = load_lexicon()
    return reporting_pattern(lexicon), mood_patterns(lexicon), other_sense_pattern(lexicon)


def _features(text, patterns):
    return dict(zip(FEATURE_NAMES, mood_counts(normalise_post_text(text), *patterns), strict=True))


@pytest.mark.parametrize(("text", "kind"), [
    ("Everyone please report this channel https://youtube.com/@somechannel", "urge"),
    ("Кидайте жалобы на этот канал, друзья", "urge"),
    ("大家一起举报这个账号", "urge"),
    ("Бәріміз шағым жіберейік", "urge"),
    ("I already reported it to GitHub.", "self_report"),
    ("已经举报这个垃圾了", "self_report"),
    ("GOING TO REPORT + BLOCK HER!!", "self_report"),
    ("Tag this account so I can report her", "self_report"),
    ("ah right, i can report the account for impersonation now", "self_report"),
    ("Our channel got mass reported again last night", "narrate"),
    ("На нас опять жалуются боты, на меня кидают жалобы", "narrate"),
    ("If you see a scam like this, report it.", "conditional"),
    ("如果看到诈骗，请举报", "conditional"),
    ("How to report a channel on Telegram", "howto"),
    ("I'm reporting you too!", "threat_you"),
    ("Report him, he stole my account", "deictic"),
])
def test_each_mood_kind_is_found_in_its_typical_sentence(text, kind, patterns):
    assert _features(text, patterns)[f"mood_{kind}"] >= 1


def test_mood_is_read_only_in_sentences_that_name_reporting(patterns):
    features = _features("Please subscribe and share. If you see him, say hi. Nice video!", patterns)
    assert all(v == 0 for v in features.values())


def test_narration_is_not_an_urge_and_an_urge_is_not_narration(patterns):
    told = _features("They mass reported our videos and the channel was flagged.", patterns)
    urged = _features("Go report this video now: https://youtu.be/abcdefghijk", patterns)
    assert told["mood_narrate"] >= 1 and told["mood_urge"] == 0
    assert urged["mood_urge"] >= 1 and urged["mood_narrate"] == 0
    assert urged["mood_target_in_sentence"] == 1 and told["mood_target_in_post"] == 0


def test_question_and_quoted_report_words_are_counted(patterns):
    assert _features("Can you report it to GitHub?", patterns)["mood_question"] == 1
    assert _features('The post said "report this channel" and nothing else.', patterns)["mood_quoted"] == 1


def test_a_bare_report_heading_counts_as_plain(patterns):
    features = _features("Channel reports\nhttps://t.me/somechannel", patterns)
    assert features["mood_plain"] == 1 and features["mood_first_sentence"] == 1


def test_mood_cues_transform_gives_one_log_count_column_per_feature():
    texts = [normalise_post_text(t) for t in ("report this channel now", "nothing here")]
    matrix = MoodCues().fit(texts).transform(texts).toarray()
    assert matrix.shape == (2, len(FEATURE_NAMES))
    assert np.all(matrix[1] == 0) and matrix[0].max() == pytest.approx(np.log(2))
    assert list(MoodCues().fit(texts).get_feature_names_out()) == list(FEATURE_NAMES)


def test_every_mood_kind_has_a_gloss_and_patterns_for_the_six_languages():
    mood = load_lexicon()["mood"]
    for kind in MOOD_KINDS:
        assert mood["gloss"][kind]
        assert {"en", "ru", "uk", "zh", "kk", "ug"} <= set(mood["cues"][kind])


@pytest.mark.parametrize("text", ["Weather report for Almaty: snow tonight.", "Bug report: the app crashes on start.",
                                  "Смотрите репортаж нашего корреспондента", "Читайте звіт і репортаж"])
def test_a_report_word_used_in_another_sense_names_no_reporting(text, patterns):
    report, _, other_sense = patterns
    normalised = normalise_post_text(text)
    assert report.search(normalised) is not None          # the bare word is there…
    assert reporting_word(normalised, report, other_sense) is None   # …but only in another sense
    assert _features(text, patterns)["mood_report_sentences"] == 0


@pytest.mark.parametrize("text", ["Please file a report against this channel tonight",
                                  "Weather report is out; now everyone report this video"])
def test_a_report_word_outside_other_senses_still_names_reporting(text, patterns):
    report, _, other_sense = patterns
    assert reporting_word(normalise_post_text(text), report, other_sense) is not None
