"""The words and numbers the results use, in plain language: one text for the packet and the app.

:func:`glossary` fills in the thresholds of the analysis that produced the results (a
:class:`~detector.params.Parameters`), so the definitions never disagree with the numbers; the
packet prints it as a section and the app shows each entry as a tooltip (:func:`help_text`).
"""

from __future__ import annotations

from dataclasses import dataclass

from detector.params import DEFAULTS, Parameters


@dataclass(frozen=True)
class Term:
    name: str          # as the results show it (``p_link``)
    meaning: str       # one or two plain sentences


def glossary(P: Parameters = DEFAULTS) -> list[Term]:
    """The glossary for results analysed with ``P``, in reading order."""
    w = P.window_h
    return [
        Term("tier", f"How strong the evidence for a campaign is. Strong: p_link at most {P.strong_link:g} and "
                     f"p_burst at most {P.strong_burst:g}, with at least two named targets (or a channel) hit. "
                     f"Moderate: both at most {P.moderate:g}. Both also need at least {P.min_alarm_notices} notices "
                     f"within {w} h after calls that were not reactions to enforcement. Weak: the tests do not show "
                     f"that the calls changed anything."),
        Term("score", "Orders campaigns within a tier, and nothing more: -log10(p_link) + -log10(p_burst) + "
                      "log2(1 + targets hit) + half of log2(1 + chats), at most 2 for a weak campaign. Higher means "
                      "smaller p-values and a wider spread. It is not a probability and cannot be compared between "
                      "cases: read the tier and the p-values."),
        Term("p_link", f"The timing test. The same calls are moved to every other eligible day, keeping their "
                       f"hour of the day, and the notices arriving within {w} h after them are counted each time. "
                       f"p_link is the share of days on which the notices follow the calls at least as closely as "
                       f"they really did: small (at most {P.alpha:g}) means closer than chance allows."),
        Term("p_burst", "The burst test. How often the channel's own rhythm of notices (by hour of day and weekday, "
                        "and views when known) would produce a pile-up on these targets as large as the one after "
                        "the calls, corrected for every time window examined. Small means the pile-up is unusual "
                        "for this channel."),
        Term("rate ratio", f"Notices within {w} h after the calls divided by the number expected when the calls "
                           f"are moved to other days. 1 means no more than usual; 10 means ten times as many."),
        Term("floor", f"The smallest p-value a test can give with the data at hand: with D comparable days, "
                      f"1/(D + 1). A p-value at its floor is as small as the data allows. When the floor is above "
                      f"{P.alpha:g} the test cannot show anything and is reported as insufficient data."),
        Term("q", "A p-value adjusted for testing many targets or streams at once (Benjamini–Hochberg), so that "
                  "a few small values among many tests are not taken for evidence."),
    ]


def help_text(name: str, P: Parameters = DEFAULTS) -> str:
    """The glossary entry for ``name`` (a tooltip); KeyError for a term the glossary lacks."""
    for term in glossary(P):
        if term.name == name:
            return term.meaning
    raise KeyError(name)
