"""Wordings for the case simulator (:mod:`detector.simulate`): calls, boasts, chatter, names.

Kept apart from the simulator's logic, and never shared with the call classifier's labelled
data, so that the detector is not tuned to these exact phrasings. Templates use ``{links}``
(one or more links), ``{link}`` (one link), ``{policy}`` (a report-menu reason in the chat's
language), ``{channel}`` (the subject channel's link), ``{n}`` (a number), ``{name}`` (the
witness in a video's title), ``{backup}`` (a link to a mirror copy), ``{source}`` (the name of
a channel quoted by a news post) and ``{quote}`` (the quoted post).
Languages: ``en``, ``ru``, ``zh``, ``kk`` (Kazakh, Cyrillic) and ``ug`` (Uyghur, Arabic script).
"""

from __future__ import annotations

LANGS = ("en", "ru", "zh", "kk", "ug")

SUBJECT = {
    "title": "Dala Testimony Archive",
    "handle": "dalatestimony",
}

# The second channel of the ``multichannel`` scenario: one notices log covering two channels.
SECOND_SUBJECT = {
    "title": "Steppe Memory Project",
    "handle": "steppememory",
    "first_upload": "2020-06-01",
}

# Report-menu reasons as a reporter would see them in their interface language.
REPORT_REASONS = {
    "en": {"harassment": "Harassment or bullying", "hate_speech": "Hateful or abusive content",
           "violent_extremism": "Promotes terrorism", "misinformation": "Misinformation",
           "spam": "Spam or misleading"},
    "ru": {"harassment": "Дискриминация или оскорбления", "hate_speech": "Разжигание ненависти",
           "violent_extremism": "Пропаганда терроризма", "misinformation": "Дезинформация",
           "spam": "Спам или мошенничество"},
    "zh": {"harassment": "骚扰或欺凌", "hate_speech": "仇恨或辱骂性内容", "violent_extremism": "宣扬恐怖主义",
           "misinformation": "错误信息", "spam": "垃圾内容或误导性内容"},
    "kk": {"harassment": "Қорлау немесе қудалау", "hate_speech": "Өшпенділік тудыратын контент",
           "violent_extremism": "Терроризмді насихаттау", "misinformation": "Жалған ақпарат",
           "spam": "Спам немесе алаяқтық"},
    "ug": {"harassment": "ھاقارەت ياكى پاراكەندىچىلىك", "hate_speech": "ئۆچمەنلىك قوزغايدىغان مەزمۇن",
           "violent_extremism": "تېرورلۇقنى تەشۋىق قىلىش", "misinformation": "يالغان ئۇچۇر",
           "spam": "ئەخلەت ياكى ئالدامچىلىق"},
}

# Complaint rows (what a viewer ticked) in the platform's English report menu.
COMPLAINT_REASONS = {
    "harassment": "Harassment or bullying",
    "hate_speech": "Hateful or abusive content",
    "violent_extremism": "Promotes terrorism",
    "misinformation": "Misinformation",
    "spam": "Spam or misleading",
    "graphic": "Violent or repulsive content",
    "privacy": "Privacy complaint",
}

# Enforcement notices (removals, strikes, suspensions) cite the Community Guidelines by name.
POLICY_NAMES = {
    "harassment": "Harassment and cyberbullying",
    "hate_speech": "Hate speech",
    "violent_extremism": "Violent criminal organizations",
    "misinformation": "Misinformation",
    "spam": "Spam, deceptive practices, and scams",
    "graphic": "Violent or graphic content",
    "privacy": "Privacy",
}

CALLS = {
    "en": [
        "Report this video for {policy}: {links}",
        "Everyone please report these videos 👇\n{links}\nReason: {policy}",
        "🚨 MASS REPORT 🚨\n{links}\nTap ⋮ → Report → {policy}. Takes ten seconds!",
        "Friends, could you kindly flag these clips? They spread lies about our region.\n{links}\nChoose \"{policy}\" please.",
        "Let's get these taken down. Report → {policy}. Share with everyone you know.\n{links}",
        "Need as many reports as possible before tonight:\n{links}\n(select {policy}, then submit)",
        "Flag it, don't watch it, don't comment. {links} report as {policy} #report",
        "Please report {links}\nthree dots → Report → {policy} → Next → Report. Then send this to five friends 🙏",
    ],
    "ru": [
        "Жалуемся на это видео: {links}\nПричина: {policy}",
        "Друзья, просьба отправить жалобы на ролики ниже 👇\n{links}\nВыбирайте «{policy}»",
        "‼️ВСЕМ КИДАТЬ ЖАЛОБЫ‼️\n{links}\n⋮ → Пожаловаться → {policy}",
        "Пожалуйста, пожалуйтесь на эти видео, там сплошная ложь.\n{links}\nПункт: {policy}",
        "Надо снести эти ролики. Жалоба → {policy}. Репост обязателен!\n{links}",
        "Кто может — зарепортите, пожалуйста: {links} (пункт «{policy}»)",
        "Задача на вечер: каждому по жалобе на каждое видео.\n{links}\n{policy} — и отправить.",
        "Ютуб удаляет, когда жалоб много. Действуем вместе 💪 {links} — жалоба «{policy}»",
    ],
    "zh": [
        "大家举报这个视频：{links} 理由选「{policy}」",
        "请大家帮忙举报以下视频👇\n{links}\n举报理由：{policy}",
        "🔥集体举报🔥\n{links}\n点右上角⋮→举报→{policy}，一分钟搞定",
        "这些所谓的“证词”全是造谣，麻烦各位举报一下，理由选{policy}，谢谢！\n{links}",
        "转发周知：举报 {links} 选{policy}，越多越好",
        "今晚任务：每人举报一遍，务必选择“{policy}”。\n{links}",
        "看到就举报，别点赞别评论 {links}（{policy}）",
    ],
    "kk": [
        "Мына видеоға шағым түсіріңіздер: {links}\nСебебі: {policy}",
        "Ағайын, төмендегі видеоларға шағымданайық 👇\n{links}\n«{policy}» деп таңдаңыз",
        "‼️БАРЛЫҒЫ ШАҒЫМ ЖІБЕРСІН‼️\n{links}\n⋮ → Шағымдану → {policy}",
        "Өтініш, осы бейнелерге шағым жазыңыздар, елімізге жала жабуда.\n{links}\n{policy} тармағы",
        "Бұл видеоларды өшірту керек. Шағым → {policy}. Таратыңыздар!\n{links}",
        "Кім үлгерсе, шағым тастаңыз: {links} («{policy}» тармағы)",
        "Бүгін кешке дейін әр адам әр видеоға бір шағым жіберсін. {links} Себеп: {policy}",
    ],
    "ug": [
        "بۇ ۋىدېيوغا شىكايەت قىلىڭلار: {links}\nسەۋەبى: {policy}",
        "قېرىنداشلار، تۆۋەندىكى ۋىدېيولارغا شىكايەت يوللايلى 👇\n{links}\n«{policy}» نى تاللاڭ",
        "‼️ھەممەيلەن شىكايەت قىلسۇن‼️\n{links}\n⋮ ← شىكايەت ← {policy}",
        "ئۆتۈنۈپ قالاي، بۇ ۋىدېيولارنى دوكلات قىلىپ قويۇڭلار، سەۋەبى {policy}.\n{links}",
        "بۇ ۋىدېيولارنى ئۆچۈرتۈش كېرەك. شىكايەت ← {policy}. ھەمبەھىرلەڭلار!\n{links}",
        "كىم ئۈلگۈرسە شىكايەت قىلسۇن: {links} («{policy}» تۈرىنى تاللاڭ)",
    ],
}

# Calls that name the whole channel rather than videos.
CHANNEL_CALLS = {
    "en": ["Report the whole channel, not just the videos: {channel} → About → Report user → {policy}",
           "Videos come back, channels don't. Go to {channel}, open the flag on the About page and pick {policy}."],
    "ru": ["Жалобы на весь канал: {channel}\nО канале → Пожаловаться на пользователя → {policy}",
           "Мало снести ролики — надо снести канал целиком. {channel} → «О канале» → флажок → {policy}"],
    "zh": ["直接举报整个频道：{channel} 简介→举报用户→{policy}",
           "光删视频没用，把整个频道举报掉：{channel}（选{policy}）"],
    "kk": ["Арнаның өзіне шағым түсіріңіз: {channel} → Арна туралы → Шағымдану → {policy}",
           "Видео аз, бүкіл арнаны жаптырайық: {channel} → жалауша → {policy}"],
    "ug": ["پۈتۈن قانالغا شىكايەت قىلىڭلار: {channel} ← {policy}",
           "ۋىدېيو ئاز، پۈتكۈل قانالنى تاقىتايلى: {channel} ← {policy}"],
}

BOASTS = {
    "en": ["It's gone! 🎉 {link}", "Removed. Good job everyone 👏 {link}", "Down it goes. Thanks to all who reported. {link}"],
    "ru": ["Удалили! 🔥 {link}", "Готово, видео снесли. Спасибо всем! {link}", "Минус один 👍 {link}"],
    "zh": ["删了！{link}", "成功了，视频已被下架👏 {link}", "又少一个，谢谢大家 {link}"],
    "kk": ["Өшірілді! {link}", "Жойылды, бәрекелді 👏 {link}", "Біреуі кетті, рахмет барлығыңызға! {link}"],
    "ug": ["ئۆچۈرۈلدى! {link}", "تامام، ۋىدېيو ئۆچۈرۈلدى 👏 {link}"],
}

CHANNEL_DOWN_BOASTS = {
    "en": ["The whole channel is banned! 🎉 {channel}"],
    "ru": ["Канал заблокирован! Всем спасибо 🔥 {channel}"],
    "zh": ["频道被封了！🎉 {channel}"],
    "kk": ["Арна бұғатталды! 👏 {channel}"],
    "ug": ["قانال تاقالدى! {channel}"],
}

# Sympathetic chats describe the attack; they mention reports but ask nobody to report.
ALERTS = {
    "en": ["Testimony videos are being removed after a wave of mass reports. The archive is appealing. {link}",
           "The archive's channel is down right now. Appeals have been filed, please be patient. {channel}"],
    "ru": ["Видео со свидетельствами удаляют после массовых жалоб. Архив подаёт апелляции. {link}",
           "Канал архива сейчас заблокирован, апелляция подана. {channel}"],
    "zh": ["证词视频在大规模举报之后被删除，档案馆正在申诉。{link}"],
    "kk": ["Куәлік видеолары жаппай шағымнан кейін өшіріліп жатыр. Архив апелляция берді. {link}",
           "Архивтің арнасы қазір бұғатталған, апелляция жіберілді. {channel}"],
    "ug": ["گۇۋاھلىق ۋىدېيولىرى كۆپلەپ شىكايەت قىلىنغاندىن كېيىن ئۆچۈرۈلدى. ئارخىپ ئەرز سۇندى. {link}"],
}

# Posts that link the subject's videos without asking anyone to report them.
PRAISE = {
    "en": ["Listen to this testimony. Hard to watch, but everyone should. {link}",
           "This is why the archive matters. {link}", "Her voice when she talks about her son... {link}",
           "Share this one, people need to know. {link}"],
    "ru": ["Послушайте это свидетельство. Тяжело, но нужно. {link}", "Вот почему этот архив так важен {link}",
           "Посмотрите до конца. {link}", "Поделитесь, люди должны знать. {link}"],
    "zh": ["请听听这段证词，很难受，但每个人都应该看。{link}", "这就是档案的意义。{link}", "转给身边的人看看 {link}"],
    "kk": ["Мына куәлікті тыңдаңыздар. Ауыр, бірақ білу керек. {link}", "Архивтің маңызы осында {link}",
           "Соңына дейін көріңіздер {link}", "Бөлісіңіздер, жұрт білсін. {link}"],
    "ug": ["بۇ گۇۋاھلىقنى ئاڭلاڭلار، ھەممەيلەن بىلىشى كېرەك. {link}", "ئارخىپنىڭ ئەھمىيىتى مانا مۇشۇ. {link}",
           "ئاخىرىغىچە كۆرۈڭلار {link}"],
}

ATTACK = {
    "en": ["Another staged 'testimony' paid for by foreign grants. {link}", "Not one word of this is true. {link}",
           "They film these in Almaty apartments and call it evidence. {link}"],
    "ru": ["Очередное постановочное «свидетельство» на гранты. {link}", "Ни одного слова правды. {link}",
           "Снимают в съёмных квартирах и выдают за доказательства {link}"],
    "zh": ["又一个拿境外资金编造的所谓证词 {link}", "没有一句是真的。{link}", "演得真像，可惜全是假的 {link}"],
    "kk": ["Тағы бір қолдан жасалған «куәлік». {link}", "Бір ауыз шындық жоқ. {link}"],
    "ug": ["يەنە بىر ياساپ چىقىلغان «گۇۋاھلىق». {link}", "بىر ئېغىزمۇ راست گەپ يوق. {link}"],
}

DISCUSSION = {
    "en": ["Does anyone know the woman in this video? She says she is from {place}. {link}",
           "Was this one filmed before or after 2019? {link}", "The date she gives at 4:10 does not match the earlier interview {link}"],
    "ru": ["Кто-нибудь знает эту женщину? Говорит, она из {place}. {link}", "Это интервью записано до 2019 года? {link}",
           "Сравните с прошлым интервью, даты расходятся {link}"],
    "zh": ["有人认识视频里这位吗？她说自己是{place}人。{link}", "这个是2019年以前拍的吗？{link}"],
    "kk": ["Бейнедегі кісіні біреу таниды ма? {place} жақтан екен. {link}", "Бұл сұхбат қай жылы түсірілген? {link}"],
    "ug": ["بۇ ۋىدېيودىكى كىشىنى تونۇيدىغانلار بارمۇ؟ {place} دىن ئىكەن. {link}"],
}

NEWS = {
    "en": ["The archive passed {n} published testimonies this month. {channel}", "New interviews uploaded today {channel}"],
    "ru": ["Архив опубликовал уже {n} свидетельств. {channel}", "Сегодня выложили новые интервью {channel}"],
    "zh": ["该档案已发布{n}段证词。{channel}"],
    "kk": ["Архив {n} куәлік жариялады. {channel}", "Бүгін жаңа сұхбаттар жүктелді {channel}"],
    "ug": ["ئارخىپ ھازىرغىچە {n} گۇۋاھلىق ئېلان قىلدى. {channel}"],
}

# "Report" in the sense of a document or a news story: a trap for naive keyword matching.
CONFOUNDERS = {
    "en": ["New report on the camps, 60 pages: {link}", "RFA reported on the trial yesterday {link}",
           "Weather report for Almaty: snow tonight."],
    "ru": ["Вышел новый доклад ООН по Синьцзяну {link}", "Отчёт о встрече в Алматы: {link}", "Сообщают о снегопаде в Алматы."],
    "zh": ["联合国发布了关于新疆的新报告 {link}", "今天的新闻报道 {link}"],
    "kk": ["Жаңа баяндама жарияланды {link}", "Азаттық хабарлады: {link}"],
    "ug": ["يېڭى دوكلات ئېلان قىلىندى {link}", "ئەركىن ئاسىيا خەۋەر قىلدى {link}"],
}

# Calls to report things that have nothing to do with the subject (scams, other channels).
OTHER_CALLS = {
    "en": ["This is a scam account pretending to be a bank, report it: {link}"],
    "ru": ["Это мошенники, пожалуйтесь на аккаунт: {link}", "Жалуйтесь на этот фейковый канал {link}"],
    "zh": ["这是诈骗账号，请举报 {link}"],
    "kk": ["Бұл алаяқтар, шағым түсіріңіздер: {link}"],
    "ug": ["بۇ ئالدامچى ھېسابات، شىكايەت قىلىڭلار: {link}"],
}

CHATTER = {
    "en": ["Good morning everyone", "Any news from the consulate?", "Meeting moved to Saturday, 11:00.",
           "Thanks for sharing", "Who is going to the event on Friday?", "Snow again in Almaty",
           "Interview with the lawyer is tonight at 20:00", "Translation of yesterday's statement is ready",
           "Can someone send me the phone number of the volunteer office?", "👍", "Agreed.",
           "We need people who speak Uyghur for transcription"],
    "ru": ["Доброе утро всем", "Есть новости по делу?", "Встреча переносится на субботу.", "Спасибо!",
           "Кто едет в Алматы в пятницу?", "В Алматы опять снег", "Сегодня в 20:00 эфир", "Согласен",
           "Курс доллара опять вырос", "Подписывайтесь на наш канал", "Всех с праздником!", "👍",
           "Перевод заявления готов, скину вечером"],
    "zh": ["大家早上好", "今天天气不错", "周五的活动谁去？", "谢谢分享", "今晚八点直播", "同意", "👍",
           "最新消息请关注本频道", "中哈边境口岸恢复通关", "霍尔果斯今天很堵"],
    "kk": ["Қайырлы таң", "Жиналыс сенбіге ауысты", "Рахмет!", "Алматыда тағы қар", "Бүгін сағат 20:00-де эфир",
           "Келісемін", "👍", "Жұма күні кім барады?", "Мерекелеріңіз құтты болсын!", "Аударма дайын, кешке жіберемін",
           "Консулдықтан хабар бар ма?"],
    "ug": ["خەيرلىك ئەتىگەن", "رەھمەت!", "بۈگۈن كەچ سائەت 8 دە سۆھبەت بار", "ماقۇل", "👍",
           "يىغىن شەنبە كۈنىگە يۆتكەلدى", "ئالمۇتىدا يەنە قار ياغدى", "تەرجىمىسى تەييار بولدى"],
}

# Thanks and everyday status posts: they thank people or report work done, they are not boasts
# (no removal is claimed) and not calls. Posted in every kind of chat, hostile ones included.
THANKS = {
    "en": ["Thank you all for the support this week 🙏", "Thanks, got it!",
           "Many thanks to everyone who came to the meeting on Sunday",
           "Subtitles are finished, I'll send them after dinner", "Thank you for the kind words, it means a lot",
           "Thanks to everyone who watched yesterday's stream", "Grateful to our volunteers, as always ❤️"],
    "ru": ["Спасибо всем за поддержку на этой неделе 🙏", "Спасибо, получила!",
           "Огромное спасибо всем, кто пришёл в воскресенье", "Субтитры доделала, скину после ужина",
           "Благодарим за тёплые слова ❤️", "Спасибо всем, кто смотрел вчерашний эфир",
           "Спасибо, что вы с нами уже пятый год"],
    "zh": ["感谢大家这一周的支持🙏", "收到了，谢谢！", "谢谢周日来开会的各位", "字幕做完了，晚饭后发给你",
           "谢谢你的鼓励，很暖心", "感谢昨晚看直播的朋友们"],
    "kk": ["Осы аптадағы қолдауларыңызға көп рахмет 🙏", "Рахмет, алдым!",
           "Жексенбідегі жиынға келгендердің бәріне алғыс", "Субтитрді бітірдім, кешкі астан кейін салып жіберемін",
           "Жылы сөздеріңізге рақмет ❤️", "Кешегі эфирді көргендерге рахмет"],
    "ug": ["بۇ ھەپتىلىك قوللىشىڭلارغا كۆپ رەھمەت 🙏", "تاپشۇرۇپ ئالدىم، رەھمەت!",
           "يەكشەنبە يىغىنغا كەلگەنلەرنىڭ ھەممىسىگە رەھمەت", "تەرجىمىنى تۈگەتتىم، كەچلىك تاماقتىن كېيىن ئەۋەتىمەن",
           "ياخشى سۆزلىرىڭلار ئۈچۈن رەھمەت ❤️"],
}

# News posts that quote a call to report ({quote}, in the call's own language) and name who
# posted it ({source}): they describe a call and ask nobody to report anything.
NEWS_QUOTES = {
    "en": ["The Telegram channel \"{source}\" urged its followers to file complaints against testimony videos "
           "of the Dala archive. The post read: \"{quote}\" The archive says it will appeal any removal.",
           "Monitoring: a call to mass-report the archive's videos is circulating. Posted by {source}:\n«{quote}»"],
    "ru": ["Telegram-канал «{source}» призвал подписчиков массово жаловаться на видео архива свидетельств. "
           "Текст поста: «{quote}» В архиве говорят, что будут обжаловать удаления.",
           "Мониторинг: в сети распространяют призыв жаловаться на ролики архива. Источник — {source}:\n«{quote}»"],
    "zh": ["电报频道“{source}”呼吁其关注者举报Dala证词档案的视频，帖子原文：“{quote}”档案方表示将对删除提出申诉。",
           "监测：网上流传集体举报档案视频的号召，来源：{source}\n「{quote}」"],
    "kk": ["«{source}» Telegram-арнасы оқырмандарын архивтің куәлік видеоларына шағым түсіруге шақырды. "
           "Жазбада: «{quote}» делінген. Архив өшірулерге шағымданатынын айтты.",
           "Мониторинг: архив видеоларына жаппай шағым жазуға үндеу таралып жүр. Дереккөз — {source}:\n«{quote}»"],
    "ug": ["«{source}» تېلېگرام قانىلى ئەگەشكۈچىلىرىنى ئارخىپنىڭ گۇۋاھلىق ۋىدېيولىرىغا شىكايەت قىلىشقا چاقىردى. "
           "يازمىدا: «{quote}» دېيىلگەن. ئارخىپ ئەرز سۇنىدىغانلىقىنى ئېيتتى."],
}
# The same about calls against other people's videos (quoted with their links).
NEWS_QUOTES_OTHER = {
    "en": ["Bloggers in the region say they are targeted: {source} told its readers \"{quote}\""],
    "ru": ["Блогеры жалуются на травлю: канал {source} написал своим читателям «{quote}»"],
    "zh": ["有博主称遭到围攻：{source}对读者说“{quote}”"],
    "kk": ["Блогерлер қысымға шағымданады: {source} арнасы оқырмандарына «{quote}» деп жазды"],
    "ug": ["بىلوگچىلار قىستاققا ئۇچرىغانلىقىنى ئېيتتى: {source} ئوقۇرمەنلىرىگە «{quote}» دەپ يازدى"],
}
# Channels outside the collection that news posts quote.
OUTSIDE_SOURCES = ["Голос Степи", "Patriot Qazaq", "边疆卫士", "Ақ Орда жаңалықтары", "Steppe Watchdog"]

# Reactions to an organic removal wave (scenario ``aftermath``): supporters, news, gloating.
SUPPORT_REACTIONS = {
    "en": ["Another testimony removed after a wave of reports. We have filed an appeal. {links}",
           "They took down {name}'s testimony again. Please share the backup copy: {backup}\nOriginal: {link}",
           "Removed overnight: {links}\nAppeal submitted, we will keep you posted."],
    "ru": ["Ещё одно свидетельство удалено после жалоб, апелляция подана: {links}",
           "Снова сняли свидетельство {name}. Пожалуйста, распространяйте резервную копию: {backup}\nОригинал: {link}",
           "За ночь удалили: {links}\nАпелляцию отправили, будем держать в курсе."],
    "zh": ["又一段证词在被举报后遭删除，我们已提出申诉：{links}",
           "{name}的证词又被删了，请转发备份：{backup}\n原链接：{link}"],
    "kk": ["Тағы бір куәлік шағымдардан кейін жойылды, апелляция берілді: {links}",
           "{name} куәлігін тағы алып тастады. Сақтық көшірмесін таратыңыздар: {backup}\nТүпнұсқа: {link}"],
    "ug": ["يەنە بىر گۇۋاھلىق شىكايەتتىن كېيىن ئۆچۈرۈلدى، ئەرز سۇنۇلدى: {links}",
           "{name} نىڭ گۇۋاھلىقى يەنە ئېلىۋېتىلدى. زاپاس نۇسخىسىنى تارقىتىڭلار: {backup}\nئەسلى: {link}"],
}
NEWS_REACTIONS = {
    "en": ["YouTube removed {n} videos of the Dala Testimony Archive this week after complaints; the archive "
           "has appealed. {links}"],
    "ru": ["YouTube удалил {n} видео архива свидетельств Dala после жалоб зрителей. Архив обжалует решение. {links}"],
    "zh": ["YouTube本周以收到投诉为由删除了Dala证词档案的{n}个视频，档案方已申诉。{links}"],
    "kk": ["YouTube осы аптада шағымдардан кейін Dala архивінің {n} видеосын жойды. Архив шешімге шағымданды. {links}"],
    "ug": ["YouTube بۇ ھەپتە شىكايەتلەردىن كېيىن Dala ئارخىپىنىڭ {n} ۋىدېيوسىنى ئۆچۈردى. ئارخىپ ئەرز سۇندى. {links}"],
}
GLOATS = {
    "en": ["Ha, YouTube finally noticed the fake 'testimony'. Bye! {link}", "The lie factory lost another one 😂 {link}"],
    "ru": ["Ютуб наконец-то заметил эту фальшивку. Туда ей и дорога {link}",
           "Фабрика лжи лишилась ещё одного ролика 😂 {link}"],
    "zh": ["YouTube终于把这个假视频撤了，活该 {link}", "造谣工厂又少了一个😂 {link}"],
    "kk": ["YouTube ақыры жалған «куәлікті» байқады. Қош бол! {link}", "Өтірік зауыты тағы бірінен айырылды 😂 {link}"],
    "ug": ["YouTube ئاخىرى ساختا «گۇۋاھلىق» نى بايقىدى {link}", "يالغانچىلار يەنە بىرىدىن ئايرىلدى 😂 {link}"],
}
BACKUP_URL = "https://archive.org/details/dalatestimony-{n:05d}"

# Links in ordinary posts that are not the subject's videos.
NEWS_URLS = [
    "https://www.rfa.org/english/news/uyghur/",
    "https://rus.azattyq.org/a/xinjiang-camps-kazakhs/",
    "https://tengrinews.kz/kazakhstan_news/",
    "https://www.bbc.com/russian/features",
    "https://www.globaltimes.cn/page/xinjiang.html",
    "https://www.hrw.org/report/xinjiang",
    "https://www.ohchr.org/en/documents/country-reports/ohchr-assessment-human-rights-concerns-xinjiang",
    "https://informburo.kz/novosti/",
    "https://t.me/tengrinews/104522",
    "https://www.xinhuanet.com/english/china/xinjiang.htm",
]
SCAM_URLS = [
    "https://t.me/kaspi_bonus_official",
    "https://www.instagram.com/halyk.bonus.kz/",
    "https://t.me/egov_kz_help",
]

COPY_PREFIXES = {
    "en": ["Repost:", "‼️", "IMPORTANT", "🔁", "Pass it on:"],
    "ru": ["Репост:", "‼️", "ВАЖНО!", "Срочно:", "Переслано:"],
    "zh": ["转：", "‼️", "扩散！", "紧急："],
    "kk": ["Маңызды!", "‼️", "Тарат:", "Шұғыл:"],
    "ug": ["مۇھىم!", "‼️", "تارقىتىڭ:"],
}
COPY_SUFFIXES = {
    "en": ["🙏", "Thanks all", "Share!", "💪"],
    "ru": ["🙏", "Спасибо всем", "Распространите!", "💪"],
    "zh": ["谢谢", "🙏", "请转发"],
    "kk": ["Рахмет", "🙏", "Таратыңыздар!"],
    "ug": ["رەھمەت", "🙏"],
}
# Words behind hidden (text_link) links in Telegram posts.
LINK_WORDS = {
    "en": ["video {i}", "here", "this one"], "ru": ["видео {i}", "тут", "ссылка"],
    "zh": ["视频{i}", "这里"], "kk": ["видео {i}", "мұнда"], "ug": ["ۋىدېيو {i}", "بۇ يەردە"],
}

# Public Telegram channels: the first ones are used first, so small cases get every role.
TELEGRAM_CHANNELS = [
    {"title": "Правда о Синьцзяне", "username": "pravda_sinczyan", "lang": "ru", "role": "hostile"},
    {"title": "新疆真相 Xinjiang Truth", "username": "xj_zhenxiang", "lang": "zh", "role": "hostile"},
    {"title": "Qazaq Ult Aggregator", "username": "qazaqult_news", "lang": "kk", "role": "neutral"},
    {"title": "Friends of the Dala Archive", "username": "dala_friends", "lang": "en", "role": "sympathetic"},
    {"title": "Антисепаратист KZ", "username": "antiseparatist_kz", "lang": "ru", "role": "hostile"},
    {"title": "ئۇيغۇر ئاۋازى", "username": "uyghur_awazi", "lang": "ug", "role": "sympathetic"},
    {"title": "丝路观察", "username": "silu_guancha", "lang": "zh", "role": "hostile"},
    {"title": "Zhetisu Talk", "username": "zhetisu_talk", "lang": "kk", "role": "neutral"},
]

WHATSAPP_GROUPS = [
    {"name": "Отан қорғаушылары", "lang": "kk", "role": "hostile", "os": "android"},
    {"name": "Tekes Diaspora", "lang": "ug", "role": "sympathetic", "os": "ios"},
    {"name": "新疆老乡群", "lang": "zh", "role": "hostile", "os": "ios"},
    {"name": "Alatau Family", "lang": "ru", "role": "neutral", "os": "android"},
    {"name": "Жетісу жастары", "lang": "kk", "role": "neutral", "os": "ios"},
    {"name": "Volunteers Almaty", "lang": "en", "role": "sympathetic", "os": "android"},
]

# Chats that carry calls but are not in the collection (scenario ``partial``): never exported.
HIDDEN_CHATS = [
    {"title": "Тихий фронт", "username": "tihiy_front", "lang": "ru", "role": "hostile", "platform": "telegram"},
    {"name": "Батыр жігіттер", "lang": "kk", "role": "hostile", "platform": "whatsapp", "os": "android"},
    {"title": "护疆联盟", "username": "hujiang_lianmeng", "lang": "zh", "role": "hostile", "platform": "telegram"},
]

PEOPLE = {
    "en": ["Dana", "Aliya", "Timur", "Sam", "Nadia", "Erik"],
    "ru": ["Сергей", "Ольга", "Дмитрий К.", "Наталья", "Игорь", "Марина", "Вадим"],
    "zh": ["王磊", "李娜", "张伟", "刘洋", "陈静", "老马"],
    "kk": ["Айгерім", "Нұрлан", "Гүлнар", "Серік", "Ержан", "Мадина", "Бақыт", "Дәулет"],
    "ug": ["Gulnur", "Abdurehim", "Mihray", "Ilham A.", "Zulpiye", "Ekrem", "Tursun"],
}
PHONE_PREFIXES = ["+7 701", "+7 705", "+7 707", "+7 747", "+7 771", "+7 777", "+86 138", "+90 532"]

WITNESSES = ["Gulbahar", "Orynbek", "Sayragul", "Erbaqyt", "Qalymbek", "Zhanargul", "Tursunay", "Abdurahman",
             "Gulzira", "Bahytzhan", "Mihrigul", "Nurlan", "Aqiqat", "Kaisha", "Rahima", "Serikzhan",
             "Zumrat", "Yerzhan", "Dilnur", "Asqar", "Rysgul", "Muhtar", "Shahida", "Qaster"]
PLACES = ["Ghulja", "Tekes", "Chöchek", "Altay", "Ürümqi", "Kashgar", "Aksu", "Hotan", "Qaramay", "Bortala",
          "Shikho", "Qorghas", "Nilqa", "Künes", "Mongghulküre", "Toqquztara", "Burchin", "Qaba"]
TITLE_TEMPLATES = [
    "Testimony {n}: {name} {initial}., {place}",
    "{name} {initial}. from {place} — testimony #{n}",
    "Куәлік №{n}: {name} {initial}., {place}",
    "Свидетельство №{n}. {name} {initial}. ({place})",
    "{place}: {name} {initial}. speaks about her husband (testimony {n})",
    "{place}: {name} {initial}. about the camp in 2018 (№{n})",
    "Testimony {n} | {name} {initial}. | {place} | English subtitles",
]
