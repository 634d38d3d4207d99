"""The language-independent views of a post used by the calls classifier's experiments."""

from detector.features import calls as C
from detector.features.cueview import (
    CueTokens,
    CueWindows,
    cue_token_patterns,
    cue_tokens,
    cue_window_pattern,
    cue_windows,
)


def _normalised(text):
    return C.normalise_texts([text])[0]


def test_cue_tokens_read_the_same_in_english_and_chinese_calls():
    patterns = cue_token_patterns(C.load_lexicon())
    english = cue_tokens(_normalised("Please report @okmc"), patterns).split()
    chinese = cue_tokens(_normalised("请大家举报 @okmc"), patterns).split()
    assert "REPORT" in english and "REPORT" in chinese
    assert english[-1] == chinese[-1] == "TARGET"


def test_cue_tokens_tell_a_story_of_reporting_apart_from_an_urge():
    patterns = cue_token_patterns(C.load_lexicon())
    told = cue_tokens(_normalised("I reported this channel yesterday and it was removed!"), patterns).split()
    urged = cue_tokens(_normalised("Please report this channel!"), patterns).split()
    assert "REMOVAL" in told and "REMOVAL" not in urged
    assert "URGE" in urged and "URGE" not in told


def test_cue_windows_keep_only_the_words_around_reporting():
    pattern = cue_window_pattern(C.load_lexicon())
    text = _normalised("The weather was lovely all week long at the lake house. Please report this account now.")
    window = cue_windows(text, pattern, width=10)
    assert "report" in window and "weather" not in window
    assert cue_windows(_normalised("Nothing about it here, just a holiday photo."), pattern) == ""


def test_cue_views_are_transformers_over_normalised_texts():
    texts = [_normalised(t) for t in ("Кидайте жалобы на этот канал", "Hello there")]
    tokens = CueTokens().fit(texts).transform(texts)
    windows = CueWindows().fit(texts).transform(texts)
    assert tokens[0] and not tokens[1]
    assert "жалоб" in windows[0] and windows[1] == ""


def test_pipeline_with_cue_windows_and_without_char_ngrams_fits_and_scores():
    data = C.read_labelled()
    model = C.build_call_pipeline(window_weight=1.0, char_weight=0.0, cue_view_weight=1.0).fit(
        data["text"].tolist(), data["label"].tolist())
    names = dict(model.named_steps["features"].transformer_list)
    assert "char_ngrams" not in names and {"cue_windows", "cue_view"} <= set(names)
    probs = C.call_probabilities(["Кидайте жалобы на этот канал: t.me/xyz_channel", "Nice weather today"], model)
    assert probs["p_call"].iloc[0] > probs["p_call"].iloc[1]
