import unicodedata

from monitor.normalize import normalize, normalize_text


def test_traditional_and_simplified_have_the_same_analysis_form():
    assert normalize_text("這台冰箱門關不上，氣死我了") == normalize_text("这台冰箱门关不上，气死我了")


def test_nfkc_folds_full_width_characters():
    assert normalize_text("ＳＩＥＭＥＮＳ冰箱１２３") == "SIEMENS冰箱123"


def test_urls_mentions_and_repost_chain_are_separated_out():
    result = normalize("同款！[怒]😡 http://t.cn/A6abc //@老罗:西门子冰箱门关不上 //@路人甲:转发微博")
    assert result.urls == ["http://t.cn/A6abc"]
    assert result.mentions == ["老罗", "路人甲"]
    assert result.repost_chain == [
        {"user": "老罗", "text": "西门子冰箱门关不上"},
        {"user": "路人甲", "text": "转发微博"},
    ]
    assert result.text_norm == "同款![怒]😡"
    assert result.emoticons == ["[怒]", "😡"]


def test_a_bare_repost_is_analysed_by_what_it_quotes():
    assert normalize("//@老罗:西門子冰箱門關不上").text_norm == "西门子冰箱门关不上"


def test_weibo_html_is_stripped_from_the_analysis_form():
    result = normalize('门关不上<br /><a href="/n/西门子家电">@西门子家电</a> 管不管')
    assert "<" not in result.text_norm
    assert result.mentions == ["西门子家电"]


def test_full_width_punctuation_folds_as_nfkc_does_even_before_a_combining_mark():
    # Such characters are replaced before NFKC runs: a mark after one must still compose as NFKC would.
    text = "好，\u0338冷！？…\u0301 ℃\u0327 （ｅ\u0301）"
    expected = " ".join(unicodedata.normalize("NFKC", text).split())
    assert normalize_text(text) == expected
    assert normalize_text("门关不上，客服：不管！") == "门关不上,客服:不管!"


def test_whitespace_runs_collapse_to_one_space_and_ends_are_trimmed():
    assert normalize_text("\u3000 冰箱\t\n坏了\u2028\u2028又坏了 \x1c") == "冰箱 坏了 又坏了"
