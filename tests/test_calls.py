"""Calls to report: the classifier, the requested policy, the language guess and the targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detector.errors import DetectorError
from detector.features.calls import (
    CALL_THRESHOLD,
    LexiconCues,
    call_model,
    call_probabilities,
    claims_removal,
    classify_calls,
    cross_validate_calls,
    detect_language,
    load_call_model,
    mentions_reporting,
    normalise_post_text,
    post_targets,
    read_labelled,
    read_real,
    reported_calls,
    requested_policy,
    save_call_model,
)
from detector.ids import extract_urls

# Floors the cross-validated figures must keep (measured well above them: see bench/RESULTS.md).
CV_FLOOR = 0.85
MAIN_LANGUAGES = ("en", "ru", "zh", "kk", "ug")
# Held-out paraphrases: the share of each group the model must get right, per language.
HELD_OUT_FLOOR = 0.8

# Written for this test only, not in data/calls/labelled.csv: new wordings, new handles and ids,
# emoji and defanged links.
HELD_OUT_CALLS = {
    "en": [
        "Yo everyone 📢📢 smash that report button on this one → hxxps://www[.]youtube[.]com/watch?v=Hy6Tg5Rf4Ed 🚩🚩",
        "Need all of you to report this channel under hate speech, they mock our people daily https://www.youtube.com/@steppe_truth_media",
        "Kindly flag the video below 🙏 reason: privacy (they filmed a family without asking) youtu.be/Xk3pL9qRt2A",
        "🚨🚨 REPORT ALERT 🚨🚨 target: t.me/steppe_witness — choose Violence",
        "Plz everyone report dis vid for harrassment, thx https://youtube.com/shorts/Xk3pL9qRt2A?si=abc",
        "Send as many reports as you can to this liar's channel https://www.youtube.com/channel/UCa1b2c3d4e5f6g7h8i9j0k1",
    ],
    "ru": [
        "Народ, все срочно жалуемся на этот ролик 🚩🚩 hxxps://youtu[.]be/Xk3pL9qRt2A",
        "Отправляем репорты на канал, причина «Разжигание ненависти» https://www.youtube.com/@steppe_truth_media",
        "Прошу вас пожаловаться на видео — там разглашают личные данные людей https://youtu.be/Xk3pL9qRt2A",
        "Снесите этот канал, кидайте жалобы на всё подряд t.me/steppe_witness",
        "👉 Жалоба → Экстремизм 👈 делаем все!!! youtube[.]com/shorts/Xk3pL9qRt2A",
        "Зарепортите пожалуйста этот канал в телеге @steppe_witness",
    ],
    "zh": [
        "兄弟姐妹们，马上举报这个视频🚩🚩 hxxps://youtu[.]be/Xk3pL9qRt2A",
        "大家举报这个频道，理由选仇恨言论 https://www.youtube.com/@steppe_truth_media",
        "请帮忙投诉一下，这个视频泄露了别人的隐私 youtu.be/Xk3pL9qRt2A",
        "把这个电报频道举报掉 t.me/steppe_witness 理由：暴力",
        "👉一起举报👈 冲！ youtube[.]com/shorts/Xk3pL9qRt2A",
    ],
    "kk": [
        "Ағайындар, бәріміз осы видеоға шағым жіберейік 🚩🚩 hxxps://youtu[.]be/Xk3pL9qRt2A",
        "Бұл арнаға шағымданыңыздар, себебі өшпенділік тілі https://www.youtube.com/@steppe_truth_media",
        "Өтініш, видеоға шағым жазып жіберіңіздер, адамдардың жеке деректерін жариялаған youtu.be/Xk3pL9qRt2A",
        "Телеграмдағы мына арнаны жабу керек, бәрі шағым жіберсін t.me/steppe_witness",
        "👉 Шағым → Экстремизм 👈 бәріміз жасаймыз!!! youtube[.]com/shorts/Xk3pL9qRt2A",
    ],
    "ug": [
        "قېرىنداشلار، ھەممىمىز بۇ ۋىدېئوغا ئەرز قىلايلى 🚩🚩 hxxps://youtu[.]be/Xk3pL9qRt2A",
        "بۇ قانالنى ئۆچمەنلىك سۆزى دەپ دوكلات قىلىڭلار https://www.youtube.com/@steppe_truth_media",
        "ئۆتۈنەي، بۇ ۋىدېئوغا شىكايەت قىلىڭلار، كىشىلەرنىڭ شەخسىي مەخپىيەتلىكىنى ئاشكارىلىغان youtu.be/Xk3pL9qRt2A",
        "Bu qanalni hemminglar erz qilinglar t.me/steppe_witness",
        "👉 ئەرز → ئەسەبىيلىك 👈 ھەممىمىز قىلايلى!!! youtube[.]com/shorts/Xk3pL9qRt2A",
    ],
}

# Attack without a call, praise, news about reports, "report" as a document, the victim's own post.
HELD_OUT_NOT_CALLS = {
    "en": [
        "This so-called documentary is a pack of lies from start to finish 🤥 https://youtu.be/Xk3pL9qRt2A",
        "Beautiful and brave video, sharing with my family ❤️ https://youtu.be/Xk3pL9qRt2A",
        "YouTube took down three of the NGO's videos last month after a flood of complaints, the group said",
        "The full report on forced labour is now available in English and Kazakh https://example.org/forced-labour.pdf",
        "Our channel received a strike today. Please subscribe to our backup channel 🙏",
        "Reporters without Borders condemned the removal of the videos",
    ],
    "ru": [
        "Смотрите, как этот лжец перевирает факты 🤥 https://youtu.be/Xk3pL9qRt2A",
        "Отличный выпуск, спасибо! Переслал родным ❤️",
        "В прошлом месяце YouTube удалил три ролика организации после потока жалоб, сообщили в НКО",
        "Полный текст доклада о принудительном труде опубликован на сайте https://example.org/forced-labour.pdf",
        "Нашему каналу выдали страйк. Подпишитесь на запасной канал 🙏",
    ],
    "zh": [
        "这人满嘴谎话，看得我火大 🤬 https://youtu.be/Xk3pL9qRt2A",
        "拍得很好，已经转发给家人了 ❤️",
        "上个月YouTube在大量投诉后删除了该组织的三个视频，该组织表示",
        "关于强迫劳动的完整报告已经在网站发布 https://example.org/forced-labour.pdf",
        "我们的频道今天被警告了，请关注我们的备用频道 🙏",
    ],
    "kk": [
        "Мына өтірікшінің айтқанын қараңыз 🤥 https://youtu.be/Xk3pL9qRt2A",
        "Керемет видео, туыстарыма жібердім ❤️",
        "Өткен айда YouTube көптеген шағымнан кейін ұйымның үш видеосын өшірді",
        "Мәжбүрлі еңбек туралы толық баяндама сайтта жарияланды https://example.org/forced-labour.pdf",
        "Арнамыз бүгін ескерту алды, қосалқы арнаға жазылыңыздар 🙏",
    ],
    "ug": [
        "بۇ يالغانچىنىڭ سۆزىگە قاراڭ 🤥 https://youtu.be/Xk3pL9qRt2A",
        "ناھايىتى ياخشى ۋىدېئو، ئائىلەمگە ئەۋەتتىم ❤️",
        "ئۆتكەن ئايدا YouTube نۇرغۇن ئەرزدىن كېيىن تەشكىلاتنىڭ ئۈچ ۋىدېئوسىنى ئۆچۈردى",
        "مەجبۇرىي ئەمگەك توغرىسىدىكى تولۇق دوكلات تور بېتىدە ئېلان قىلىندى https://example.org/forced-labour.pdf",
        "قانىلىمىز بۈگۈن ئاگاھلاندۇرۇش ئالدى، زاپاس قانالىمىزغا مۇشتەرى بولۇڭلار 🙏",
    ],
}

HELD_OUT_BOASTS = {
    "en": ["Poof 💨 video gone. Good job team", "They terminated the channel!!! Thanks for all the reports 🎉"],
    "ru": ["Всё, канала больше нет 😎 спасибо всем за жалобы", "Удалили за сутки! Отличная работа"],
    "zh": ["没了没了，频道被封了 😎 谢谢大家", "一天就删了，大家太给力了"],
    "kk": ["Болды, арна жоқ енді 😎 шағым жібергендерге рахмет", "Бір күнде өшірілді! Жарайсыңдар"],
    "ug": ["بولدى، قانال يوق 😎 ئەرز قىلغانلارغا رەھمەت", "بىر كۈندىلا ئۆچۈرۈلدى! ياشاڭلار"],
}


def _posts(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"post_id": [f"telegram:test:{i}" for i in range(len(texts))], "text": texts})


@pytest.fixture(scope="session")
def model():
    return call_model()


@pytest.fixture(scope="session")
def labelled():
    return read_labelled()


@pytest.fixture(scope="session")
def cv_table(labelled):
    return cross_validate_calls(labelled, folds=5, seed=0, leave_one_language_out=False).set_index("language")


def test_labelled_set_is_large_varied_and_clean(labelled):
    assert len(labelled) >= 600
    assert not labelled["text"].duplicated().any()
    counts = labelled.groupby(["language", "label"]).size()
    for language in MAIN_LANGUAGES:
        for label in ("call", "boast", "other"):
            assert counts.get((language, label), 0) >= 10, (language, label)
    policies = set(labelled["policy"]) - {""}
    assert policies <= {"harassment", "hate_speech", "violent_extremism", "privacy", "spam",
                        "misinformation", "copyright", "impersonation", "child_safety"}


@pytest.mark.parametrize("language", MAIN_LANGUAGES)
def test_cross_validated_call_precision_and_recall_hold_per_language(cv_table, language):
    row = cv_table.loc[language]
    assert row["call_precision"] >= CV_FLOOR, row.to_dict()
    assert row["call_recall"] >= CV_FLOOR, row.to_dict()


def test_cross_validated_boasts_are_recognised_overall(cv_table):
    assert cv_table.loc["all", "boast_f1"] >= 0.8


@pytest.mark.parametrize("language", MAIN_LANGUAGES)
def test_held_out_calls_are_classified_as_calls(model, language):
    texts = HELD_OUT_CALLS[language]
    result = classify_calls(_posts(texts), model=model)
    missed = [t for t, hit in zip(texts, result["is_call"], strict=True) if not hit]
    assert result["is_call"].mean() >= HELD_OUT_FLOOR, missed


@pytest.mark.parametrize("language", MAIN_LANGUAGES)
def test_held_out_hard_negatives_are_not_calls(model, language):
    texts = HELD_OUT_NOT_CALLS[language]
    result = classify_calls(_posts(texts), model=model)
    flagged = [t for t, hit in zip(texts, result["is_call"], strict=True) if hit]
    assert (~result["is_call"]).mean() >= HELD_OUT_FLOOR, flagged


def test_held_out_boasts_are_recognised_as_boasts(model):
    texts = [t for group in HELD_OUT_BOASTS.values() for t in group]
    result = classify_calls(_posts(texts), model=model)
    wrong = [t for t, kind in zip(texts, result["kind"], strict=True) if kind != "boast"]
    assert (result["kind"] == "boast").mean() >= HELD_OUT_FLOOR, wrong
    assert not result["is_call"].any()


def test_attack_on_a_video_without_a_call_is_not_a_call(model):
    result = classify_calls(_posts([
        "This video is a disgrace and its author is a paid traitor https://youtu.be/Xk3pL9qRt2A",
        "Read the report before you believe this channel https://example.org/report.pdf",
    ]), model=model)
    assert not result["is_call"].any()


def test_classify_calls_returns_the_documented_columns_and_decision(model):
    posts = _posts(["Report this video for harassment: https://youtu.be/Xk3pL9qRt2A",
                    "Good morning everyone ☀️"])
    result = classify_calls(posts, model=model)
    assert list(result.columns) == ["post_id", "is_call", "kind", "confidence", "p_call", "targets",
                                    "requested_policy", "language"]
    assert list(result["post_id"]) == list(posts["post_id"])
    assert result["is_call"].tolist() == [True, False]
    assert result.loc[0, "kind"] == "call" and result.loc[0, "p_call"] >= CALL_THRESHOLD
    assert result.loc[0, "confidence"] == result.loc[0, "p_call"]
    assert result.loc[0, "targets"] == ["youtube:video:Xk3pL9qRt2A"]
    assert result.loc[0, "requested_policy"] == "harassment"
    assert result.loc[1, "requested_policy"] is None
    # A post that passes neither gate is settled unscored and undescribed; without the prefilter
    # it is scored and described like the rest.
    assert result["language"].tolist() == ["en", None] and result["p_call"].isna().tolist() == [False, True]
    assert classify_calls(posts, model=model, prefilter=False)["language"].tolist() == ["en", "en"]


def test_a_call_without_a_target_is_still_a_call(model):
    result = classify_calls(_posts(["Everyone report the video I posted above, reason hate speech"]), model=model)
    assert result.loc[0, "is_call"]
    assert result.loc[0, "targets"] == []


def test_higher_threshold_makes_fewer_calls(model):
    texts = [t for group in HELD_OUT_CALLS.values() for t in group]
    loose = classify_calls(_posts(texts), model=model, threshold=0.3)
    strict = classify_calls(_posts(texts), model=model, threshold=0.99)
    assert strict["is_call"].sum() < loose["is_call"].sum()


def test_classify_calls_uses_stored_urls_and_targets(model):
    posts = pd.DataFrame({"post_id": ["p1"], "text": ["report this 👇"],
                          "urls": [["https://youtu.be/Xk3pL9qRt2A"]], "targets": [["telegram:channel:abcd"]]})
    result = classify_calls(posts, model=model)
    assert result.loc[0, "targets"] == ["telegram:channel:abcd", "youtube:video:Xk3pL9qRt2A"]


def test_classify_calls_on_no_posts_gives_an_empty_frame_with_columns(model):
    result = classify_calls(_posts([]), model=model)
    assert result.empty and "is_call" in result.columns


def test_classify_calls_names_the_missing_column():
    with pytest.raises(DetectorError, match="text"):
        classify_calls(pd.DataFrame({"post_id": ["p1"]}))


def test_saved_model_loads_and_predicts_the_same(model, tmp_path):
    texts = HELD_OUT_CALLS["kk"] + HELD_OUT_NOT_CALLS["zh"]
    path = save_call_model(model, tmp_path / "calls.joblib")
    loaded = load_call_model(path)
    pd.testing.assert_frame_equal(classify_calls(_posts(texts), model=loaded),
                                  classify_calls(_posts(texts), model=model))


def test_loading_a_foreign_file_is_a_user_error(tmp_path):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"something": "else"}, path)
    with pytest.raises(DetectorError, match="not a call model"):
        load_call_model(path)


@pytest.mark.parametrize(("text", "policy"), [
    ("Report it → Hateful or abusive content → Promotes hatred https://youtu.be/Xk3pL9qRt2A", "hate_speech"),
    ("flag it as spam pls", "spam"),
    ("report for impersonation, they pretend to be Kazinform", "impersonation"),
    ("Кидайте жалобы, пункт «Экстремизм»", "violent_extremism"),
    ("Жалуйтесь: нарушение конфиденциальности", "privacy"),
    ("Пожалуйтесь за нарушение авторских прав", "copyright"),
    ("大家去举报，理由：骚扰", "harassment"),
    ("举报理由选虚假信息", "misinformation"),
    ("举报它，儿童安全那一项", "child_safety"),
    ("Шағым жіберіңіз, себебі: өшпенділік тілі", "hate_speech"),
    ("Жалған ақпарат деп шағымданыңыз", "misinformation"),
    ("ئەرز قىلىڭلار، سەۋەبى: ئەسەبىيلىك", "violent_extremism"),
    ("پاراكەندىچىلىك دەپ دوكلات قىلىڭلار", "harassment"),
    ("Shikayet qilinglar, yalghan uchur", "misinformation"),
    ("Bu videoyu şikayet edin, terör propagandası", "violent_extremism"),
])
def test_requested_policy_in_each_language(text, policy):
    assert requested_policy(text) == policy


def test_requested_policy_is_none_without_policy_words():
    assert requested_policy("report this video now") is None
    # "балалар" means "guys" here, not children.
    assert requested_policy("Репорт кидайық балалар") is None


def test_requested_policy_ignores_words_inside_links():
    assert requested_policy("report https://example.org/hate-speech-and-spam") is None


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/watch?v=Xk3pL9qRt2A",
    "https://youtu.be/Xk3pL9qRt2A?si=abcdef",
    "https://youtube.com/shorts/Xk3pL9qRt2A?feature=share",
    "https://www.youtube.com/live/Xk3pL9qRt2A",
    "https://www.youtube.com/embed/Xk3pL9qRt2A",
    "https://m.youtube.com/watch?v=Xk3pL9qRt2A&t=45s",
    "https://music.youtube.com/watch?v=Xk3pL9qRt2A",
    "hxxps://youtu[.]be/Xk3pL9qRt2A",
    "youtube[.]com/watch?v=Xk3pL9qRt2A",
    "youtu.be/Xk3pL9qRt2A",
])
def test_targets_from_every_youtube_video_url_shape(url):
    assert post_targets(f"report this 👉 {url} now!") == ["youtube:video:Xk3pL9qRt2A"]


def test_targets_from_channel_urls_handles_and_telegram_links():
    text = ("report https://www.youtube.com/channel/UCa1b2c3d4e5f6g7h8i9j0k1, "
            "https://www.youtube.com/@Steppe_Truth and https://youtube.com/c/NomadRightsTV, "
            "plus t.me/s/Steppe_Witness and https://t.me/other_channel/412")
    assert post_targets(text) == ["youtube:channel:UCa1b2c3d4e5f6g7h8i9j0k1", "youtube:handle:steppe_truth",
                                  "youtube:handle:nomadrightstv", "telegram:channel:steppe_witness",
                                  "telegram:channel:other_channel"]


def test_mentions_are_telegram_channels_unless_the_post_is_about_youtube():
    assert post_targets("Mass report @Steppe_Witness now") == ["telegram:channel:steppe_witness"]
    assert post_targets("Report @steppe_truth on YouTube") == ["youtube:handle:steppe_truth"]
    assert post_targets("Пожалуйтесь на @steppe_truth в ютубе") == ["youtube:handle:steppe_truth"]


def test_email_addresses_and_duplicates_are_not_targets():
    text = "write to press@example.org; report t.me/steppe_witness and @steppe_witness"
    assert post_targets(text) == ["telegram:channel:steppe_witness"]


@pytest.mark.parametrize(("text", "language"), [
    ("Please report this video for harassment", "en"),
    ("Кидайте жалобы на это видео", "ru"),
    ("Барлығы осы арнаға шағым жіберіңіз", "kk"),
    ("大家去举报这个视频", "zh"),
    ("بۇ ۋىدېئونى ئەرز قىلىڭ", "ug"),
    ("Hemminglar bu qanalni doklat qilinglar", "ug"),
    ("Һәммиңлар бу қанални доклат қилиңлар", "ug"),
    ("Herkes bu videoyu şikayet etsin", "other"),
    ("Баарыңар бул видеого арыз жазгыла", "other"),
    ("🔥🔥 https://youtu.be/Xk3pL9qRt2A", "other"),
])
def test_language_guess_by_script_and_stopwords(text, language):
    assert detect_language(text) == language


def test_normalisation_maps_links_mentions_digits_and_repeats():
    text = "REPORTTTT!!!! @Some_Channel 1000 reports https://youtu.be/Xk3pL9qRt2A t.me/abcd hxxps://example[.]org/x"
    assert normalise_post_text(text) == "reportt!! atmention 0 reports yturl tgurl weburl"


def test_lexicon_cues_pool_languages_into_one_column_per_kind():
    cues = LexiconCues().fit(["x"])
    names = list(cues.get_feature_names_out())
    row = cues.transform(["report жалоба 举报 шағым ئەرز"]).toarray()[0]
    assert row[names.index("cue_report")] == pytest.approx(__import__("math").log1p(5))
    assert row[names.index("cue_boast")] == 0


def test_language_guess_agrees_with_the_labelled_languages(labelled):
    main = labelled[labelled["language"].isin(MAIN_LANGUAGES)]
    guessed = main["text"].map(detect_language)
    assert (guessed == main["language"]).mean() >= 0.95


def test_leave_one_language_out_scores_each_language_from_a_model_without_it(labelled):
    small = pd.concat([labelled[labelled["language"].isin(["tr", "uz", "ky"])],
                       labelled[labelled["language"] == "en"].groupby("label").head(12)])
    table = cross_validate_calls(small, folds=3, seed=1).set_index("language")
    assert set(table.index) == {"en", "tr", "uz", "ky", "all"}
    assert table.loc["all", "n"] == len(small)
    assert table[["lolo_call_precision", "lolo_call_recall"]].notna().all().all()
    without = cross_validate_calls(small, folds=3, seed=1, leave_one_language_out=False)
    assert without["lolo_call_f1"].isna().all()


@pytest.mark.parametrize("text", ["Спасибо за поддержку", "Рахмет!", "Аударма дайын, кешке жіберемін",
                                  "رەھمەت!", "Thanks everyone for coming tonight", "谢谢大家的支持", "Готово, жду вас вечером"])
def test_thanks_and_everyday_posts_are_never_boasts(text):
    result = classify_calls(pd.DataFrame({"post_id": ["p"], "text": [text]}))
    assert result["kind"].iloc[0] == "other"


@pytest.mark.parametrize("text", [
    "My channel was terminated this morning after a wave of false reports. We will appeal.",
    "They got my account banned again, third time this year.",
    "Мой канал удалили после массовых жалоб, подаём апелляцию.",
    "Меня опять забанили, кто-то кидает жалобы на каждое видео.",
    "我的频道昨天被封了，估计是被恶意举报了。",
    "Мій канал заблокували після масових скарг.",
    "Менің арнам жабылды, шағым түсіпті.",
    "If a channel gets three strikes it is terminated.",
    "Was the video removed? I can't open it.",
])
def test_a_removal_told_as_ones_own_loss_a_rule_or_a_question_is_not_a_boast(text, model):
    result = classify_calls(pd.DataFrame({"post_id": ["p"], "text": [text]}), model=model)
    assert result["kind"].iloc[0] == "other"


@pytest.mark.parametrize("text", [
    "Finally! The scam channel is gone, thanks everyone for the reports 🎉",
    "Их канал снесли, ура! Спасибо всем за жалобы",
    "举报成功，那个造谣号终于被封了哈哈",
    "Канал заблоковано, дякуємо всім! ✅",
    "Their channel is finally gone, great job everyone who reported",
    "Каналды жауып тастады! Шағым жібергендерге рахмет",
])
def test_a_removal_told_as_a_win_is_a_boast(text, model):
    result = classify_calls(pd.DataFrame({"post_id": ["p"], "text": [text]}), model=model)
    assert result["kind"].iloc[0] == "boast"


@pytest.mark.parametrize(("text", "claims"), [("Their channel is finally gone", True), ("The video is now gone", True),
                                             ("The channel is not gone, it is still up", False),
                                             ("The account is never gone for long", False)])
def test_gone_with_an_adverb_claims_a_removal_but_not_when_negated(text, claims):
    assert claims_removal([text])[0] == claims


@pytest.mark.parametrize("text", ["大家早上好 https://youtu.be/dQw4w9WgXcQ", "👍 https://youtu.be/dQw4w9WgXcQ",
                                  "Everyone watch this now!!! https://youtu.be/dQw4w9WgXcQ",
                                  "Всем смотреть до конца https://youtu.be/dQw4w9WgXcQ"])
def test_a_link_without_a_reporting_word_is_not_a_call(text):
    result = classify_calls(pd.DataFrame({"post_id": ["p"], "text": [text]}))
    assert result["kind"].iloc[0] != "call"


def test_a_link_does_not_make_a_call(model):
    """The model reads a post's words, not whether it carries a link: real talk about reporting
    (read_real rows that are not calls) scores the same with a video link appended or an @name
    added, and a call the same without its link (bench/calls_link_balance.py measured the old
    model taking a fifth of such posts for calls once a link was appended)."""
    real = read_real()
    talk = real[(real["label"] != "call") & mentions_reporting(real["text"].tolist())]["text"].head(60).tolist()
    calls = [t for t in real.loc[real["label"] == "call", "text"] if "youtu" in t][:20]
    assert len(talk) == 60 and len(calls) >= 5
    link = "https://youtu.be/Ab3dE_gH1jK"
    plain = call_probabilities(talk, model)
    for variant in ([f"{t}\n{link}" for t in talk], [f"{t} @some_channel" for t in talk]):
        np.testing.assert_allclose(call_probabilities(variant, model)["p_call"], plain["p_call"], atol=1e-9)
    cut = []
    for text in calls:
        for url in extract_urls(text):
            text = text.replace(url, " ")
        cut.append(text)
    np.testing.assert_allclose(call_probabilities(cut, model)["p_call"], call_probabilities(calls, model)["p_call"],
                               atol=1e-9)


@pytest.mark.parametrize("text", ["Задача на сегодня: каждому по жалобе на этот канал.",
                                  "Task for tonight: each of you files one report per video.",
                                  "今晚的任务：每个人给每个视频投诉一次。"])
def test_a_task_handed_to_each_reader_is_a_call(text, model):
    """"A complaint each" is mobilisation without an imperative verb; the lexicon names the task
    and "each of you" in every language it covers (the Russian "задача", "каждому" were missing)."""
    assert classify_calls(_posts([text]), model)["kind"].iloc[0] == "call"


@pytest.mark.parametrize("text", ["Завдання на вечір: кожному по скарзі на кожне відео.",
                                  "Надішліть по скарзі на цей канал"])
def test_every_case_of_the_ukrainian_word_for_complaint_names_reporting(text):
    assert mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["Weather report for Almaty: snow tonight.",
                                  "Bug report: the app crashes on start.",
                                  "Смотрите репортаж нашего корреспондента из Алматы сегодня вечером"])
def test_a_report_word_in_another_sense_is_not_a_call(text):
    """"Weather report", "bug report" and "репортаж" hold the word without naming a complaint: the
    mood and address features skip them (the demo's weather posts were calls at p 0.79). Asked of
    the product (the linear model and the encoder's second opinion): since the fourth round of real
    posts, many of them English calls to report copycat apps, the linear model alone gives "Bug
    report: the app crashes on start." p_call 0.58 (bench/RESULTS.md says so)."""
    assert classify_calls(_posts([text]))["kind"].iloc[0] != "call"


@pytest.mark.parametrize("text", ["Weather report for Almaty: snow tonight.", "Bug report: the app crashes on start.",
                                  "Смотрите репортаж нашего корреспондента из Алматы сегодня вечером"])
def test_a_report_word_in_another_sense_is_not_a_call_for_the_linear_model_alone(text, model):
    """The same with ``--no-call-encoder``: the linear model alone gave "Bug report: ..." p_call
    0.58 after the fourth round of real posts; the reporting gate now reads report words as the
    mood features do, so a post whose only report word is "bug report" names no reporting."""
    assert classify_calls(_posts([text]), model)["kind"].iloc[0] != "call"


@pytest.mark.parametrize("text", ["Bug report: the app crashes on start.", "Weather report for Almaty: snow tonight.",
                                  "Here is the scan report for this contribution: https://example.org/scan/1",
                                  "Репортаж New York Times про волонтера. Подивіться обов’язково.",
                                  "Главным материалом выпуска стал репортаж из больницы"])
def test_a_post_whose_only_report_word_is_in_another_sense_does_not_name_reporting(text):
    assert not mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["Weather report is out. Also report this channel @spam_bot for spam!",
                                  "Bug report filed; now everyone report https://youtu.be/dQw4w9WgXcQ please"])
def test_a_report_word_outside_the_other_sense_phrase_still_names_reporting(text):
    assert mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["Заблокируйте этот канал, друзья", "Забаньте его уже", "Блокируем этот аккаунт вместе",
                                  "Заблокуйте цей канал", "Забаньте цього бота", "Знесіть його канал"])
def test_the_imperative_of_every_takedown_verb_names_reporting(text):
    """The lexicon had the infinitives ("заблокировать", "забанить") but not the imperatives a call
    uses, so "Заблокируйте этот канал" did not even reach the classifier."""
    assert mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["EVERYONE REPORTE THIS ACC HES HACKED MY ACCOUNT GUYS!!!!!",
                                  "Fake account suspend him",
                                  "you should initiate a takedown of the fraudulent app from the play store"])
def test_a_misspelt_report_word_or_a_takedown_verb_names_reporting(text):
    """Real calls of the fifth round of posts that the gate kept from the model."""
    assert mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["Osy videoğa şağym jiberińder: https://youtu.be/dQw4w9WgXcQ",
                                  "Bul kanalga shagym jiberinder"])
def test_a_kazakh_complaint_word_in_latin_letters_names_reporting(text):
    """Kazakh is written in Latin letters too (the 2021 alphabet, or ad hoc "sh"/"gh" for ş/ğ)."""
    assert mentions_reporting([text])[0]


@pytest.mark.parametrize("text", ["Надо жаловаться на этот канал всем вместе",
                                  "If not, that account should probably be reported.",
                                  "This channel must be banned from YouTube",
                                  "Please take steps to have it reported and removed from Telegram."])
def test_a_call_in_the_infinitive_or_the_passive_names_reporting(text):
    """Real calls the gate did not let through: "should probably be reported" (a GitHub thread),
    "have it reported and removed" (a request to Telegram), and Russian's plain infinitive
    "жаловаться" ("призывают жаловаться", "надо жаловаться"); the model then decides."""
    assert mentions_reporting([text])[0]


# News and commentary quote calls: the words of the call are there, the writer urges no one.
REPORTED_CALLS = [
    "The channel called on its followers to mass report the archive's videos, a spokesperson said.",
    'The post said: "Report every one of these videos for harassment: https://youtu.be/abcdefghijk"',
    "Канал призвал подписчиков массово пожаловаться на видео архива https://youtu.be/abcdefghijk",
    "Блогер звернулася із закликом до підписників поскаржитися на канал архіву.",
    "«Арна» оқырмандарын видеоларға шағым түсіруге шақырды. Жазбада: «Әр видеоға шағым жіберіңдер» делінген.",
    "该频道呼吁粉丝举报这些视频。",
]
OWN_CALLS = [
    "Все дружно жмём «Пожаловаться» под видео https://youtu.be/abcdefghijk",    # a button in quotes
    'He wrote: "report him". Report him too, everyone! https://youtu.be/abcdefghijk',  # quoted, then urged
    "Report this video, it calls for violence: https://youtu.be/abcdefghijk",    # a frame word, and an urge
    "Бұл видеоны репорттаңыздар, зорлыққа шақырады https://youtu.be/abcdefghijk",
]


def test_a_post_that_quotes_or_reports_someone_elses_call_reports_it():
    """Every report word in quotation marks or in reported speech ("called on its followers to
    report", "призвал", "шақырды"), with a frame and no urging of the writer's own outside them."""
    norm = [normalise_post_text(t) for t in REPORTED_CALLS + OWN_CALLS]
    assert reported_calls(norm).tolist() == [True] * len(REPORTED_CALLS) + [False] * len(OWN_CALLS)


def test_a_news_post_quoting_a_call_is_not_a_call_but_the_call_itself_is(model):
    quoted = ("«Правда» каналы оқырмандарын видеоларға шағым түсіруге шақырды. Жазбада: «Каждому по жалобе на "
              "каждое видео: https://youtu.be/abcdefghijk — Дискриминация или оскорбления — и отправить» делінген.")
    call = "Каждому по жалобе на каждое видео: https://youtu.be/abcdefghijk — Дискриминация или оскорбления — и отправить"
    out = classify_calls(_posts([quoted, call]), model)
    assert out["kind"].tolist() == ["other", "call"]
    assert out["p_call"].iloc[0] >= 0.5        # the model reads the quoted words; the rule tells them apart
