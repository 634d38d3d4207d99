"""Raw policy and action wordings (as notices, Studio and translations write them) -> vocabulary."""

import pytest

from detector.vocab import ACTIONS, POLICIES, normalise_action, normalise_policy


@pytest.mark.parametrize(("raw", "policy"), [
    ("Harassment & cyberbullying policy", "harassment"),
    ("harassment and cyberbullying", "harassment"),
    ("Violent criminal organizations policy", "violent_extremism"),
    ("Hate speech", "hate_speech"),
    ("Spam, deceptive practices, and scams", "spam"),
    ("Child safety", "child_safety"),
    ("Copyright", "copyright"),
    ("DMCA; Copyright", "copyright"),
    ("Privacy", "privacy"),
    ("Misinformation", "misinformation"),
    ("Impersonation", "impersonation"),
    ("hate_speech", "hate_speech"),
    ("Child-Safety", "child_safety"),
    # Russian (YouTube's own translations of the policy names)
    ("Травля и оскорбления", "harassment"),
    ("Преследование и запугивание", "harassment"),
    ("Дискриминационные высказывания", "hate_speech"),
    ("дискриминационных высказываний", "hate_speech"),
    ("Насильственные преступные организации", "violent_extremism"),
    ("Спам, обман и мошенничество", "spam"),
    ("Безопасность детей", "child_safety"),
    ("Нарушение авторских прав", "copyright"),
    # Chinese
    ("骚扰和网络欺凌", "harassment"),
    ("仇恨言论", "hate_speech"),
    ("暴力犯罪组织", "violent_extremism"),
    ("垃圾内容、欺骗性做法和诈骗", "spam"),
    ("儿童安全", "child_safety"),
    # No class of their own in the vocabulary: other (the caller keeps the raw wording).
    ("Violent or graphic content", "other"),
    ("Nudity and sexual content", "other"),
    ("Defamation", "other"),
    ("", "other"),
    (None, "other"),
])
def test_policy_wordings(raw, policy):
    assert normalise_policy(raw) == policy


@pytest.mark.parametrize(("raw", "action"), [
    ("Community Guidelines strike", "strike"),
    ("Copyright strike", "strike"),
    ("Video removed", "removed"),
    ("Age-restricted", "restricted"),
    ("Video blocked in some countries", "restricted"),
    ("Channel terminated", "suspended"),
    ("Channel blocked", "suspended"),
    ("Reinstated after appeal", "reinstated"),
    ("Warning", "warning"),
    ("Content ID claim", "complaint"),
    ("Trusted flagger report", "complaint"),
    ("Appeal rejected", "other"),
    ("Removed", "removed"),
    # Russian
    ("Видео удалено", "removed"),
    ("Канал удалён", "suspended"),
    ("Канал был удален", "suspended"),
    ("Канал заблокирован", "suspended"),
    ("Предупреждение", "warning"),
    ("Страйк", "strike"),
    ("Ограничение по возрасту", "restricted"),
    ("Восстановлено после апелляции", "reinstated"),
    # Chinese
    ("视频已删除", "removed"),
    ("频道已终止", "suspended"),
    ("社区准则警示", "strike"),
    ("警告", "warning"),
    ("已恢复", "reinstated"),
    ("年龄限制", "restricted"),
    ("nan", "other"),
])
def test_action_wordings(raw, action):
    assert normalise_action(raw) == action


def test_every_vocabulary_term_maps_to_itself():
    assert [normalise_action(a) for a in ACTIONS] == list(ACTIONS)
    assert [normalise_policy(p) for p in POLICIES] == list(POLICIES)
