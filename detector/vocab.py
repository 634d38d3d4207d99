"""The action and policy vocabularies, and the mapping of raw wordings onto them."""

from __future__ import annotations

import re
import unicodedata

ACTIONS = ("complaint", "removed", "strike", "restricted", "suspended", "reinstated", "warning", "other")
# The actions that enforce against a target (not a mere complaint or warning): one list for every reader.
ENFORCEMENT = ("removed", "strike", "restricted", "suspended")
POLICIES = ("harassment", "hate_speech", "violent_extremism", "privacy", "spam", "misinformation",
            "copyright", "impersonation", "child_safety", "other")

# Ordered: the first pattern that matches wins, so specific wordings come before general ones.
_POLICY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("child_safety", r"child|minor|csam|дет|儿童|未成年|балалар"),
    ("copyright", r"copyright|dmca|takedown notice|infring|counterfeit|trademark|авторск|版权|侵权"),
    ("impersonation", r"impersonat|fake account|pretend|самозван|выдает себя|冒充|冒名"),
    ("privacy", r"privacy|private information|personal information|personally identifiable|doxx|"
                r"data protection|конфиденц|личн\w* данн|隐私|个人信息|жеке"),
    ("violent_extremism", r"violent (criminal|extrem)|extremis|terror|criminal organi[sz]ation|"
                          r"dangerous organi[sz]ation|экстрем|террор|极端|恐怖|экстремизм|"
                          r"преступн\w* организац|犯罪组织"),
    ("hate_speech", r"hate|hateful|ненавист|разжига|дискриминац|仇恨|歧视|өшпенділ"),
    ("harassment", r"harass|bully|cyberbull|threat|abuse|insult|травл|оскорб|домогат|угроз|запугив|骚扰|霸凌|"
                   r"欺凌|辱骂|қорлау|қудалау"),
    # Spam first: YouTube's own reasons read "Spam or misleading" and "Spam, deceptive practices".
    ("spam", r"spam|scam|decept|misleading metadata|спам|мошенн|垃圾|诈骗"),
    ("misinformation", r"misinfo|disinfo|false|fake news|misleading|медицинск|дезинф|фейк|"
                       r"ложн|虚假|谣言|假新闻"),
)
_POLICY_RES = tuple((name, re.compile(pat, re.IGNORECASE)) for name, pat in _POLICY_PATTERNS)

_ACTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("reinstated", r"reinstat|restor|unblock|appeal (was )?(granted|successful|approved)|"
                   r"back up|восстановл|恢复"),
    ("suspended", r"suspend|terminat|ban(ned)?\b|block(ed)?\b(?! in )|channel (was )?(removed|deleted)|"
                  r"заблокир|удал[её]н\w* канал|канал\w* (?:был\w* )?(?:удал[её]н|закрыт)|封禁|封号|终止"),
    ("strike", r"strike|страйк|предупреждение о нарушении|警示"),
    ("warning", r"warning|warn\b|предупрежден|警告"),
    ("restricted", r"restrict|age[- ]?gat|limited|demoneti[sz]|blocked in |ограничен|限制"),
    ("removed", r"remov|taken down|take down|takedown|delet|disabled|удал[её]н|удалил|删除|下架"),
    ("complaint", r"complain|report|notice|flag|claim|жалоб|投诉|举报"),
)
_ACTION_RES = tuple((name, re.compile(pat, re.IGNORECASE)) for name, pat in _ACTION_PATTERNS)


def _clean(raw: object) -> str:
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    return "" if text.lower() in {"nan", "none", "null"} else text


def normalise_policy(raw: object) -> str:
    """Map a raw policy wording ("Harassment & cyberbullying policy") to the vocabulary.

    Exact vocabulary names (any case, spaces or dashes for underscores) map to themselves;
    anything unrecognised maps to ``"other"`` (the caller keeps the raw text in ``policy_raw``).
    """
    text = _clean(raw)
    if not text:
        return "other"
    key = re.sub(r"[\s\-]+", "_", text.lower())
    if key in POLICIES:
        return key
    for name, pattern in _POLICY_RES:
        if pattern.search(text):
            return name
    return "other"


def normalise_action(raw: object) -> str:
    """Map a raw action wording ("Video removed", "Community Guidelines strike") to the vocabulary."""
    text = _clean(raw)
    if not text:
        return "other"
    key = re.sub(r"[\s\-]+", "_", text.lower())
    if key in ACTIONS:
        return key
    for name, pattern in _ACTION_RES:
        if pattern.search(text):
            return name
    return "other"
