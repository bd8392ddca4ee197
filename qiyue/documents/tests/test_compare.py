"""Version compare: lines first, then characters (Chinese has no spaces), escaped markup."""

from qiyue.documents.compare import MAX_CHAR_DIFF, compare_texts


def test_identical_texts():
    result = compare_texts("第一条 合同标的\n第二条 价款", "第一条 合同标的\n第二条 价款")
    assert result.identical and [r.kind for r in result.rows] == ["equal", "equal"]


def test_chinese_insertion_is_marked_by_character():
    result = compare_texts("甲方应于三十日内付款。", "甲方应于收到发票后三十日内付款。")
    (row,) = result.rows
    assert row.kind == "replace"
    assert row.left == "甲方应于三十日内付款。"
    assert row.right == "甲方应于<ins>收到发票后</ins>三十日内付款。"
    assert (result.insertions, result.deletions) == (5, 0)


def test_chinese_deletion_and_replacement():
    result = compare_texts("违约金为合同总额的百分之二十。", "违约金为合同总额的百分之十。")
    (row,) = result.rows
    assert row.left == "违约金为合同总额的百分之<del>二</del>十。"
    assert row.right == "违约金为合同总额的百分之十。"
    assert (result.insertions, result.deletions) == (0, 1)

    result = compare_texts("本合同适用北京法律。", "本合同适用上海法律。")
    (row,) = result.rows
    assert row.left == "本合同适用<del>北京</del>法律。" and row.right == "本合同适用<ins>上海</ins>法律。"


def test_whole_lines_inserted_and_deleted_keep_their_numbers():
    old = "第一条 标的\n第二条 价款\n第三条 期限"
    new = "第一条 标的\n第三条 期限\n第四条 争议解决"
    rows = compare_texts(old, new).rows
    assert [(r.kind, r.left_number, r.right_number) for r in rows] == [
        ("equal", 1, 1), ("delete", 2, None), ("equal", 3, 2), ("insert", None, 3)]
    assert rows[1].left == "<del>第二条 价款</del>" and rows[1].right is None
    assert rows[3].right == "<ins>第四条 争议解决</ins>"


def test_unlike_lines_are_a_deletion_and_an_insertion():
    rows = compare_texts("保密条款", "Governing law: PRC").rows
    assert [r.kind for r in rows] == ["delete", "insert"]


def test_markup_is_escaped():
    result = compare_texts("<b>价款</b> & 税", "<script>alert(1)</script> & 税费")
    html = "".join(str(r.left or "") + str(r.right or "") for r in result.rows)
    assert "<script" not in html and "<b>" not in html and "</b>" not in html
    assert "&lt;" in html and "&amp;" in html
    assert "<ins>" in html and "<del>" in html
    inserted = compare_texts("第一条", "第一条\n<script>alert(1)</script>").rows[-1]
    assert inserted.right == "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>"


def test_equal_lines_are_escaped_too():
    rows = compare_texts("<i>a</i>\n同", "<i>a</i>\n异").rows
    assert rows[0].left == "&lt;i&gt;a&lt;/i&gt;"


def test_mixed_english_and_numbers():
    result = compare_texts("Amount: RMB 100,000", "Amount: RMB 120,000")
    (row,) = result.rows
    assert row.left == "Amount: RMB 1<del>0</del>0,000" and row.right == "Amount: RMB 1<ins>2</ins>0,000"


def test_line_endings_do_not_count_as_changes():
    assert compare_texts("甲\r\n乙", "甲\n乙").identical


def test_very_long_changed_lines_are_marked_whole():
    old, new = "甲" * MAX_CHAR_DIFF, "乙" + "甲" * MAX_CHAR_DIFF
    (row,) = compare_texts(old, new).rows
    assert row.left.startswith("<del>") and row.right.startswith("<ins>")
