"""The unit list: headers found by name, every bad row reported by its number."""

from __future__ import annotations

import pytest

from nianbao.campaign.units import UnitListError, read_units


def _csv(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "units.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_a_two_level_list_with_chinese_headers_in_gbk(tmp_path):
    path = _csv(tmp_path, "单位编码,单位名称,邮箱,联系人,联系电话,上级编码\n"
                          "A,丰城市人民政府,a@fc.gov.cn,王芳,123,\n"
                          "A01,张巷镇人民政府,zx@fc.gov.cn,李明,456,A\n", "gb18030")
    units = read_units(path)
    assert [(u.code, u.name, u.parent) for u in units] == [("A", "丰城市人民政府", ""), ("A01", "张巷镇人民政府", "A")]


def test_every_bad_row_is_reported_by_number(tmp_path):
    path = _csv(tmp_path, "code,name,email,parent\n"
                          "A,甲,a@x.cn,\n"
                          "A,乙,b@x.cn,\n"
                          "B,,c@x.cn,\n"
                          "C,丙,not-an-email,\n"
                          "D,丁,d@x.cn,Z\n")
    with pytest.raises(UnitListError) as err:
        read_units(path)
    text = str(err.value)
    assert "第 3 行：单位编码“A”与第 2 行重复" in text
    assert "第 4 行：缺少单位名称" in text
    assert "第 5 行：邮箱“not-an-email”格式不正确" in text
    assert "第 6 行：上级编码“Z”不在名单中" in text


def test_init_creates_nothing_from_a_bad_list(tmp_path):
    from nianbao.campaign.init import init_campaign

    path = _csv(tmp_path, "code,name\nA,\n")
    with pytest.raises(UnitListError):
        init_campaign(tmp_path / "camp", 2024, path)
    assert not (tmp_path / "camp").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["units.csv"]


def test_status_in_a_narrow_terminal_folds_long_unit_names(tmp_path, capsys, monkeypatch):
    from nianbao.cli import main

    name = "丰城市人力资源和社会保障局（丰城市医疗保障局）"
    units = _csv(tmp_path, f"code,name,email\nA01,{name},a@example.cn\n")
    assert main(["campaign", "init", str(tmp_path / "camp"), "--year", "2025", "--units", str(units)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["campaign", "status", str(tmp_path / "camp")]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    cells = [line.split("│")[2].strip() for line in out.splitlines() if line.count("│") > 2]
    assert "".join(cells) == name  # the whole name, over several lines


def test_names_are_normalised_and_a_cell_may_hold_several_addresses(tmp_path):
    path = _csv(tmp_path, "code,name,email\n"
                          "T,拖船镇　人民政府,t@x.cn\n"
                          "J,县教育局（本级）  ,\"j@x.cn; jyj@x.cn，office@x.cn\"\n"
                          "K,ＫＴＶ  管理站,k@x.cn\n")
    units = read_units(path)
    assert [u.name for u in units] == ["拖船镇人民政府", "县教育局（本级）", "KTV 管理站"]
    assert units[1].email == "j@x.cn, jyj@x.cn, office@x.cn"
    from nianbao.campaign.units import addresses, sender_units

    assert addresses(units[1].email) == ["j@x.cn", "jyj@x.cn", "office@x.cn"]
    assert sender_units("办公室 <JYJ@x.cn>", [(u.code, u.email) for u in units]) == ["J"]


def test_init_warns_of_duplicate_names_missing_addresses_and_a_past_deadline(tmp_path, capsys):
    from nianbao.cli import main

    units = _csv(tmp_path, "code,name,email\nA,甲镇人民政府,a@x.cn\nB,甲镇 人民政府,b@x.cn\nC,乙镇人民政府,\n")
    assert main(["campaign", "init", str(tmp_path / "camp"), "--year", "2025", "--units", str(units),
                 "--deadline", "2020-01-15"]) == 0
    err = capsys.readouterr().err
    assert "“甲镇人民政府”出现在 2 个编码下（A、B）" in err
    assert "没有邮箱" in err and "乙镇人民政府" in err
    assert "截止日期 2020-01-15 已经过去" in err
