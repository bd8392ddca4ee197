"""Snippets: the highlight lands on what the query matched, in the original text, escaped."""

from qiyue.search.snippets import highlight
from qiyue.search.tokenizer import parse_query


def test_highlight_marks_chinese_and_latin_and_escapes():
    html, first = highlight("甲方<公司>应于三十日内开具 Invoice，违约金另计。", parse_query("违约金 invoice"))
    assert "<mark>违约金</mark>" in html and "<mark>Invoice</mark>" in html
    assert "&lt;公司&gt;" in html and first == 15  # the first match, Invoice


def test_highlight_maps_full_width_text_back_to_the_original_characters():
    text = "付款条件：收到ＩＮＶＯＩＣＥ后３０日内付清。"
    html, first = highlight(text, parse_query("invoice 30"))
    assert "<mark>ＩＮＶＯＩＣＥ</mark>" in html and "<mark>３０</mark>" in html and first == text.index("Ｉ")


def test_highlight_of_text_without_a_match_starts_at_the_beginning():
    html, first = highlight("没有命中的文字", parse_query("违约金"))
    assert first is None and html == "没有命中的文字"


def test_a_phrase_is_highlighted_where_its_words_stand_together():
    text = "Force is physics. Majeure is French. " + "Filler text. " * 20 + "Delays by force\nmajeure excuse."
    html, first = highlight(text, parse_query('"force majeure"'))
    assert "<mark>force\nmajeure</mark>" in html and html.count("<mark>") == 1 and "physics" not in html
    assert first == text.index("force\nmajeure")


def test_a_phrase_follows_the_index_rules_for_runs():
    # CJK runs of a phrase must be separated; a Latin word and a CJK run may touch.
    html, first = highlight("北京上海 北京，上海", parse_query('"北京 上海"'))
    assert html == "北京上海 <mark>北京，上海</mark>" and first == 5
    html, _first = highlight("USB 大接口；USB接口", parse_query("USB接口"))
    assert html == "USB 大接口；<mark>USB接口</mark>"


def test_several_words_are_shown_where_they_stand_near_each_other():
    text = "Warranty first. " + "Filler text. " * 30 + "The warranty covers the invoice amount."
    html, first = highlight(text, parse_query("invoice warranty"))
    assert "<mark>warranty</mark> covers the <mark>invoice</mark>" in html and "first" not in html
    assert first == text.index("warranty covers")


def test_compatibility_characters_are_matched_in_their_normal_form():
    text = "付款：第①期 Straße ﬁnal"  # the tokenizer indexed 1, strasse, final
    html, first = highlight(text, parse_query("1期 strasse final"))
    assert "<mark>①期</mark>" in html and "<mark>Straße</mark>" in html and "<mark>ﬁnal</mark>" in html
    assert first == text.index("①")
