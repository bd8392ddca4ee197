from qiyue.search.tokenizer import Phrase, parse_query, phrase_of, tokenize


def test_cjk_runs_become_bigrams_and_a_closing_unigram():
    assert tokenize("北京市") == ["北京", "京市", "市"]
    assert tokenize("京") == ["京"]
    assert tokenize("北京，上海") == ["北京", "京", "上海", "海"]


def test_latin_words_and_numbers_are_whole_and_case_folded_after_nfkc():
    assert tokenize("Warranty ISO9001 ＦＵＬＬ-width 2026年") == ["warranty", "iso9001", "full", "width", "2026", "年"]
    assert tokenize("HT-2026-00001") == ["ht", "2026", "00001"]


def test_punctuation_and_underscores_only_separate():
    assert tokenize("a_b！？…（c）") == ["a", "b", "c"]
    # Nothing a user types becomes a key token ("_o12").
    assert all(not t.startswith("_") for t in tokenize("_o12 __t3"))


def test_mixed_scripts_split_at_the_boundary():
    assert tokenize("USB接口v2") == ["usb", "接口", "口", "v2"]


def test_query_word_of_two_or_more_cjk_characters_is_a_phrase_of_bigrams():
    assert phrase_of("北京市") == Phrase(("北京", "京市"), False, (("北京市", True),))
    assert phrase_of("北京").tokens == ("北京",)


def test_single_cjk_character_at_the_end_is_a_prefix():
    assert phrase_of("京").tokens == ("京",) and phrase_of("京").prefix
    phrase = phrase_of("北京 市")
    assert phrase.tokens == ("北京", "京", "市") and phrase.prefix


def test_cjk_run_followed_by_more_keeps_its_closing_unigram():
    assert phrase_of("接口USB").tokens == ("接口", "口", "usb")
    assert phrase_of("USB接口").tokens == ("usb", "接口")


def test_words_are_anded_and_quotes_make_phrases():
    assert [p.tokens for p in parse_query('北京 warranty')] == [("北京",), ("warranty",)]
    assert [p.tokens for p in parse_query('"force majeure" 合同')] == [("force", "majeure"), ("合同",)]
    assert [p.tokens for p in parse_query('“不可 抗力”')] == [("不可", "可", "抗力")]
    assert parse_query('  ，。!  ') == []
    assert [p.tokens for p in parse_query('合同 合同')] == [("合同",)]
