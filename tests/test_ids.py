import pytest

from detector.ids import canonical_target, extract_urls, target_url

VIDEO = "youtube:video:dQw4w9WgXcQ"


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "http://youtube.com/watch?v=dQw4w9WgXcQ&feature=share&si=AbC",
    "https://youtu.be/dQw4w9WgXcQ?si=tracking",
    "youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/shorts/dQw4w9WgXcQ",
    "https://youtube.com/live/dQw4w9WgXcQ?feature=shared",
    "https://www.youtube.com/embed/dQw4w9WgXcQ?start=10",
    "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
    "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
    "https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RDAMVM",
    "https://www.youtube.com/watch?app=desktop&v=dQw4w9WgXcQ",
    "hxxps://youtube[.]com/watch?v=dQw4w9WgXcQ",
    "HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ",
])
def test_every_youtube_video_url_shape_maps_to_one_id(url):
    assert canonical_target(url) == VIDEO


def test_channel_handle_and_telegram_ids():
    assert canonical_target("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv/videos") == \
        "youtube:channel:UCabcdefghijklmnopqrstuv"
    assert canonical_target("https://youtube.com/@SomeNGO") == "youtube:handle:somengo"
    assert canonical_target("https://www.youtube.com/c/SomeNGO") == "youtube:handle:somengo"
    assert canonical_target("https://t.me/SomeChannel/123") == "telegram:channel:somechannel"
    assert canonical_target("t.me/s/SomeChannel") == "telegram:channel:somechannel"


def test_other_urls_are_normalised_without_tracking():
    assert canonical_target("https://www.Example.com/a/b/?utm_source=x&id=3#frag") == "url:https://example.com/a/b?id=3"
    # t.me invite links are not channels
    assert canonical_target("https://t.me/joinchat/AAAAAE").startswith("url:")


def test_video_id_of_wrong_length_is_not_a_video():
    assert not canonical_target("https://youtu.be/short").startswith("youtube:video:")


def test_extract_urls_strips_punctuation_and_finds_bare_and_defanged_links():
    text = "Report (https://youtu.be/dQw4w9WgXcQ), also youtube[.]com/watch?v=dQw4w9WgXcQ! and t.me/foo_bar."
    assert extract_urls(text) == ["https://youtu.be/dQw4w9WgXcQ", "youtube[.]com/watch?v=dQw4w9WgXcQ", "t.me/foo_bar"]
    assert [canonical_target(u) for u in extract_urls(text)][:2] == [VIDEO, VIDEO]


def test_target_url_round_trips():
    for target in (VIDEO, "youtube:channel:UCabcdefghijklmnopqrstuv", "youtube:handle:somengo",
                   "telegram:channel:somechannel"):
        assert canonical_target(target_url(target)) == target
