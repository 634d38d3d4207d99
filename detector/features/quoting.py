"""A post that reports someone else's call is not a call.

News and commentary quote calls: "the channel urged its readers to file complaints; the post
said: «every one of you, a complaint on every video: <links>»". The call's words are all there,
so a classifier of words reads a call; what differs is that the writer urges no one. The call is
in quotation marks, or told in reported speech: "X призвал подписчиков пожаловаться",
"звернулася із закликом заблокувати", "шағым түсіруге шақырды".

:func:`reports_a_call` is true for a normalised text (:func:`~detector.features.calls.normalise_post_text`)
whose every report word (the lexicon's ``report`` and ``takedown`` cues, not in another sense)
is inside quotation marks or in a sentence that holds a reported-speech *frame* (the lexicon's
``quoting`` section: third-person verbs of calling on, urging and saying), with at least one
frame and no urging of the writer's own (the mood lexicon's ``urge``) outside quotation marks. The classifier then does not count the post as a call
(:func:`detector.features.calls._decide`). A call that names a button in quotes ("жмите
«Пожаловаться»") has no frame, and a post that quotes a call and then urges in its own words
("… he wrote: «report him». Report him too!") has a report word outside both: both stay calls.
"""

from __future__ import annotations

import re

from detector.features.mood import (
    _SENTENCE,
    _alternation,
    mood_patterns,
    other_sense_pattern,
    reporting_pattern,
    reporting_word,
    reporting_words,
)

# Text between a pair of quotation marks, across lines: guillemets, curly and low-high quotes,
# straight double quotes, CJK corner brackets. A frame or report word inside is quoted, not said.
QUOTED = re.compile(r"«[^«»]*»|“[^“”]*”|„[^„“”]*[“”]|\"[^\"]*\"|「[^「」]*」|『[^『』]*』")


def frame_pattern(lexicon: dict) -> re.Pattern | None:
    """The lexicon's reported-speech frames (its ``quoting`` section), languages pooled."""
    frames = lexicon.get("quoting", {}).get("frame", {})
    return _alternation(p for patterns in frames.values() for p in patterns)


def quoting_patterns(lexicon: dict) -> tuple[re.Pattern | None, ...]:
    """(report words, other senses, frames, urges) of ``lexicon``: what :func:`reports_a_call` reads."""
    return (reporting_pattern(lexicon), other_sense_pattern(lexicon), frame_pattern(lexicon),
            mood_patterns(lexicon)["urge"])


def reports_a_call(normalised: str, report: re.Pattern | None, other_sense: re.Pattern | None,
                   frame: re.Pattern | None, urge: re.Pattern | None = None) -> bool:
    """Whether every report word of ``normalised`` is quoted or in reported speech (module docstring).

    ``urge``: the mood lexicon's urging (an imperative or exhortative to report); outside quotation
    marks it is the writer's own call, whatever frame word the sentence also holds ("Отправьте
    жалобу по форме, где говорится …", "репорттаңыздар, зорлыққа шақырады")."""
    if report is None or frame is None or not normalised:
        return False
    quotes = [m.span() for m in QUOTED.finditer(normalised)]
    # The text outside quotation marks, positions kept: frames are read there, and sentences are
    # cut there (a full stop inside a quoted call does not end the writer's sentence).
    outside = list(normalised)
    for a, b in quotes:
        outside[a:b] = " " * (b - a)
    outside = "".join(outside)
    if frame.search(outside) is None or (urge is not None and urge.search(outside) is not None):
        return False
    words = 0
    for m in _SENTENCE.finditer(outside):
        a, b = m.span()
        # the sentence with its quotations put back: a quoted report word is quoted, not said
        said = [w.start() for w in reporting_words(normalised[a:b], report, other_sense)
                if not any(qa <= a + w.start() < qb for qa, qb in quotes)]
        words += len(said)
        if said and frame.search(outside[a:b]) is None:
            return False
    # every report word said is in reported speech; with none said, the quoted ones must exist
    # (a frame beside no report word at all reports no call)
    return words > 0 or any(reporting_word(normalised[a:b], report, other_sense) for a, b in quotes)

