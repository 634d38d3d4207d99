"""How removals are told: success, the writer's own loss, a rule (detector.features.claims)."""

import numpy as np
import pytest

from detector.features.calls import load_lexicon, normalise_post_text
from detector.features.claims import (
    CLAIM_KINDS,
    FEATURE_NAMES,
    ClaimCues,
    claim_counts,
    claim_patterns,
    removal_pattern,
)
from detector.features.mood import reporting_pattern


@pytest.fixture(scope="module")
def patterns():
    lexicon = load_lexicon()
    return removal_pattern(lexicon), claim_patterns(lexicon), reporting_pattern(lexicon)


def _features(text, patterns):
    return dict(zip(FEATURE_NAMES, claim_counts(normalise_post_text(text), *patterns), strict=True))


@pytest.mark.parametrize(("text", "kind"), [
    ("The account has finally been suspended!", "success"),
    ("Канал снесли, ура!", "success"),
    ("举报成功，终于删了哈哈", "success"),
    ("My channel was terminated last night.", "own"),
    ("Мой канал удалили без предупреждения", "own"),
    ("我的视频被删了", "own"),
    ("If a video gets removed three times, the channel is terminated.", "generic"),
    ("如果被删了怎么办", "generic"),
    ("The scam repo has been removed.", "third"),
    ("Их канал заблокирован", "third"),
])
def test_each_claim_kind_is_found_in_its_typical_sentence(text, kind, patterns):
    assert _features(text, patterns)[f"claim_{kind}"] >= 1


def test_claims_are_read_only_in_posts_that_claim_a_removal(patterns):
    for text in ("Thanks everyone for the support!", "Рахмет!", "If you see him, report him. My channel is new."):
        assert all(v == 0 for v in _features(text, patterns).values()), text


def test_success_and_reporting_count_anywhere_in_a_post_that_claims_a_removal(patterns):
    features = _features("Thanks for all the reports. The account has been suspended.", patterns)
    assert features["claim_success_in_post"] == 1 and features["claim_after_reporting"] == 1
    assert features["claim_sentences"] == 1


def test_a_told_loss_and_a_question_are_not_plain_claims(patterns):
    assert _features("Was the video removed?", patterns)["claim_question"] == 1
    assert _features("Was the video removed?", patterns)["claim_plain"] == 0
    assert _features("My account was banned.", patterns)["claim_plain"] == 0
    assert _features("The account was banned.", patterns)["claim_plain"] == 1


def test_claim_cues_transform_gives_one_log_count_column_per_feature():
    texts = [normalise_post_text(t) for t in ("the channel was removed", "nothing here")]
    matrix = ClaimCues().fit(texts).transform(texts).toarray()
    assert matrix.shape == (2, len(FEATURE_NAMES))
    assert np.all(matrix[1] == 0) and matrix[0].max() == pytest.approx(np.log(2))
    assert list(ClaimCues().fit(texts).get_feature_names_out()) == list(FEATURE_NAMES)


def test_every_claim_kind_has_a_gloss_and_patterns_for_the_six_languages():
    claim = load_lexicon()["claim"]
    for kind in CLAIM_KINDS:
        assert claim["gloss"][kind]
        assert {"en", "ru", "uk", "zh", "kk", "ug"} <= set(claim["cues"][kind])
