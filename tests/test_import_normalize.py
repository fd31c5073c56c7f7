from nianbao.importer.normalize import clean_text, normalize_label, same_label, similarity


def test_half_width_brackets_line_breaks_and_quotes_compare_equal_to_the_official_label():
    assert same_label("第二十条第(一)项", "第二十条第（一）项")
    assert same_label("商业\n企业", "商业企业")
    assert same_label("本年收费金额(单位:万元)", "本年收费金额（单位：万元）")
    assert same_label('3.危及"三安全一稳定"', "3.危及“三安全一稳定”")
    assert same_label("1、属于国家秘密", "1.属于国家秘密")
    assert same_label("　结果 维持｜", "结果维持")


def test_different_wording_stays_different():
    assert not same_label("（五）不予公开", "（五）不予处理")
    assert 0.5 < similarity("（五）不予公开", "（五）不予处理") < 1


def test_normalized_form_is_full_width():
    assert normalize_label("(二)部分公开") == "（二）部分公开"


def test_clean_text_drops_word_bookmarks_and_ideographic_indent():
    assert clean_text("[bookmark: _GoBack]\u3000\u3000本报告根据") == "本报告根据"
