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
