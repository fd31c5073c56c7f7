"""The HTML page parsed back: table grids with colspan/rowspan/scope, escaping, no external resources."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from nianbao.report.html import render_html
from nianbao.report.model import build_document
from nianbao.submission import Submission


class Page(HTMLParser):
    """Collects tables as lists of rows of (tag, attrs, text), plus headings, paragraphs, tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.blocks: list[tuple[str, str]] = []  # (tag, text) of h1/h2/h3/p
        self.tags: list[tuple[str, dict]] = []
        self._cell = None
        self._text_of = None
        self._section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append({"id": attrs.get("id"), "rows": [], "sections": []})
        elif tag in ("thead", "tbody"):
            self._section = tag
            self.tables[-1]["sections"].append(tag)
        elif tag == "tr":
            self.tables[-1]["rows"].append({"section": self._section, "cells": []})
        elif tag in ("td", "th"):
            self._cell = [tag, attrs, ""]
            self.tables[-1]["rows"][-1]["cells"].append(self._cell)
        elif tag in ("h1", "h2", "h3", "p", "div"):
            self._text_of = [tag, ""]

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif self._text_of and tag == self._text_of[0]:
            self.blocks.append(tuple(self._text_of))
            self._text_of = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data
        if self._text_of is not None:
            self._text_of[1] += data


def grid_of(table: dict) -> dict[tuple[int, int], tuple]:
    """Place cells on a grid the way a browser does (skipping positions taken by rowspans)."""
    taken: dict[tuple[int, int], tuple] = {}
    for r, row in enumerate(table["rows"]):
        c = 0
        for tag, attrs, text in row["cells"]:
            while (r, c) in taken:
                c += 1
            rs, cs = int(attrs.get("rowspan", 1)), int(attrs.get("colspan", 1))
            for dr in range(rs):
                for dc in range(cs):
                    taken[r + dr, c + dc] = (r, c, rs, cs, tag, attrs, text)
            c += cs
    return taken


@pytest.fixture(scope="module")
def sub(fmt2021):
    values = {c.id: Decimal(i % 5) for i, c in enumerate(fmt2021.input_cells)}
    values["t2.fees.amount"] = Decimal("75.926")
    narratives = {n.id: f"{n.title}正文。" for n in fmt2021.narratives}
    narratives["problems"] = '<script>alert("x")</script> & <b>粗体</b>'
    unit = {"name": "张巷镇人民政府", "compiler": "张巷镇党政办公室", "url": "<a href='http://evil'>站</a>"}
    return Submission(format=fmt2021, year=2021, unit=unit, values=values, narratives=narratives)


@pytest.fixture(scope="module")
def page(sub):
    doc = build_document(sub)
    parser = Page()
    text = render_html(doc)
    parser.feed(text)
    return doc, parser, text


def test_every_table_cell_span_and_text_matches_the_model(page):
    doc, parser, _ = page
    assert [t["id"] for t in parser.tables] == ["table-t2", "table-t3", "table-t4"]
    for grid, table in zip(doc.tables, parser.tables):
        placed = grid_of(table)
        assert set(placed) == {(r, c) for r in range(grid.nrows) for c in range(grid.ncols)}, grid.table_id
        for (r, c), (ar, ac, rs, cs, tag, attrs, text) in placed.items():
            expected = grid.anchor(r, c)
            assert (ar, ac, rs, cs) == (expected.row, expected.col, expected.rowspan, expected.colspan)
            assert text == expected.text
            assert tag == ("td" if expected.role == "number" else "th")


def test_headers_carry_scopes(page):
    _, parser, _ = page
    ths = [(attrs, text) for tag, attrs in parser.tags if tag == "th" for text in [None]]
    assert ths and all(a.get("scope") in ("col", "colgroup", "row") for a, _ in ths)
    t3 = grid_of(parser.tables[1])
    assert t3[0, 3][5]["scope"] == "colgroup"  # 申请人情况
    assert t3[1, 3][5]["scope"] == "col"  # 自然人
    assert t3[5, 0][5]["scope"] == "row"  # 三、本年度办理结果
    t2 = grid_of(parser.tables[0])
    assert t2[5, 1][6] == "本年处理决定数量" and t2[5, 1][5]["scope"] == "col"  # one column spanning three


def test_table_header_rows_are_in_thead_and_blocks_in_tbodies(page):
    _, parser, _ = page
    t2, t3, t4 = parser.tables
    assert t2["sections"] == ["tbody"] * 4  # one row group per 第二十条 block
    assert [r["section"] for r in t3["rows"][:4]] == ["thead"] * 3 + ["tbody"]
    assert t4["sections"] == ["thead", "tbody"]


def test_script_in_narrative_is_shown_as_text(page):
    _, parser, text = page
    assert "<script>" not in text and "<b>" not in text and "href='http://evil'" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;" in text
    assert ("p", '<script>alert("x")</script> & <b>粗体</b>') in parser.blocks
    assert not any(tag == "script" for tag, _ in parser.tags)


def test_page_is_standalone(page):
    _, parser, text = page
    for tag, attrs in parser.tags:
        assert tag not in ("link", "script", "img", "iframe")
        assert not any(k in ("src", "href") for k in attrs)
    assert "@import" not in text and "url(" not in text
    assert "@media print" in text and "table-header-group" in text


def test_headings_in_order(page, sub):
    doc, parser, _ = page
    assert parser.blocks[0] == ("h1", "张巷镇人民政府2021年政府信息公开工作年度报告")
    assert [t for tag, t in parser.blocks if tag == "h2"] == [p.heading for p in sub.format.parts]
    assert [t for tag, t in parser.blocks if tag == "h3"] == [n.title for n in sub.format.narratives]
    assert ("p", doc.intro) in parser.blocks


def test_draft_has_a_banner(sub):
    parser = Page()
    parser.feed(render_html(build_document(sub, draft=True)))
    assert any(tag == "div" and text.startswith("草稿") for tag, text in parser.blocks)
    assert parser.blocks[1] == ("h1", "张巷镇人民政府2021年政府信息公开工作年度报告（草稿）")
