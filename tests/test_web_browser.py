"""A coordinator's journey through the desk in a real Chromium against a real uvicorn on 127.0.0.1.

Debian's chromium driven by Playwright (``executable_path``; no browser download). Skips with the
reason when either is missing, and fails under CI=true.
"""

from __future__ import annotations

import base64
import email
import os
from decimal import Decimal
from email import policy
from pathlib import Path

import openpyxl
import pytest

from nianbao.layout import table_layout
from nianbao.read.reader import read_submission
from nianbao.template import compute_derived
from nianbao.web.app import create_app
from webdesk import Server, demo_copy

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - reported by the skip below
    sync_playwright = None

_missing = ("the playwright package is not installed" if sync_playwright is None else
            f"Chromium is not installed at {CHROMIUM}" if not CHROMIUM.exists() else "")
if _missing and os.environ.get("CI") == "true":
    raise RuntimeError(f"browser tests cannot run under CI: {_missing}")
pytestmark = [pytest.mark.chromium, pytest.mark.slow, pytest.mark.skipif(bool(_missing), reason=_missing)]


def shots_dir(tmp_path: Path) -> Path:
    """Screenshots go to $NIANBAO_SHOTS when set (to look at them), else into the test's folder."""
    folder = Path(os.environ.get("NIANBAO_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


DROP = """async ([files]) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name));
  }
  const zone = document.getElementById("drop-zone");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
}"""


def attachment(eml: Path) -> bytes:
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    return next(msg.iter_attachments()).get_content()


def test_a_coordinators_journey(tmp_path):
    camp = demo_copy(tmp_path)
    returns = sorted((camp / "示例回件").iterdir())
    assert len(returns) == 8
    shots = shots_dir(tmp_path)
    with Server(create_app(camp)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        base = server.url

        # the overview of a round where nothing has come back yet
        page.goto(base + "/")
        expect(page.locator("h1")).to_have_text("丰城市2021年度政府信息公开工作年度报告收集")
        expect(page.locator("a.count", has_text="未提交")).to_contain_text("9")

        # drop the eight returned files on the drop zone (a real drop event, handled by desk.js + htmx)
        page.click("nav >> text=收件")
        files = [{"name": f.name, "data": base64.b64encode(f.read_bytes()).decode()} for f in returns]
        page.evaluate(DROP, [files])
        expect(page.locator(".job")).to_contain_text("处理完毕：8 / 8 份", timeout=90_000)
        results = page.locator(".job tbody tr")
        expect(results).to_have_count(8)
        expect(page.locator(".job tr", has_text="孙渡街道2021年报.xls")).to_contain_text("已收到·无法使用")
        expect(page.locator(".job tr", has_text="杜市镇年报.xlsx")).to_contain_text("待核实")
        expect(page.locator(".job tr", has_text="拖船镇年报.xlsx")).to_contain_text("有错误")
        # the list of files counted for nobody refreshes by itself
        expect(page.locator("#problems")).to_contain_text("由杜市镇人民政府的登记邮箱发来")

        # the states changed on the overview
        page.click("nav >> text=总览")
        expect(page.locator("a.count", has_text="有错误")).to_contain_text("2")
        expect(page.locator("a.count", has_text="待核实")).to_contain_text("1")
        expect(page.locator("a.count", has_text="无问题")).to_contain_text("4")
        expect(page.locator("a.count", has_text="未提交")).to_contain_text("1")
        page.screenshot(path=str(shots / "overview-1280.png"), full_page=True)
        # filter by state without reloading the page (htmx)
        page.select_option("#f-state", "有错误")
        expect(page.locator("#units tbody tr")).to_have_count(2)
        page.select_option("#f-state", "")
        expect(page.locator("#units tbody tr")).to_have_count(9)

        # open a unit with errors: the failing cells are red
        page.click("text=拖船镇人民政府")
        expect(page.locator("h1")).to_contain_text("拖船镇人民政府")
        page.wait_for_load_state("load")  # the style sheet is in
        red = page.locator("td.mark-error")
        expect(red).to_have_count(2)
        assert red.first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 215, 213)"
        expect(page.locator("ul.findings li.error").first).to_contain_text("表三 依申请公开!D6")
        page.screenshot(path=str(shots / "unit-1280.png"), full_page=True)

        # return it with a reason
        page.fill("#reason", "表三“自然人”列不平衡，请核对后重新报送")
        page.click("button:has-text('退回')")
        expect(page.locator(".flash")).to_contain_text("已退回（理由：表三“自然人”列不平衡")
        expect(page.locator(".lead .state")).to_have_text("已退回")

        # accept two others
        for name in ("张巷镇人民政府", "石滩镇人民政府"):
            page.goto(base + "/")
            page.click(f"text={name}")
            page.click("button:has-text('确认（纳入汇总）')")
            expect(page.locator(".lead .state")).to_have_text("已确认")

        # assign the misattributed file (杜市 sent 荣塘's template) to the unit that sent it, then accept it
        page.click("nav >> text=收件")
        row = page.locator("#problems tbody tr").first
        expect(row.locator("select")).to_have_value("360981105")
        row.locator("input[name=reason]").fill("电话核实：杜市镇借用了荣塘镇的模板")
        row.locator("button:has-text('指定')").click()
        expect(page.locator("#problems .flash")).to_contain_text("已计入该单位")
        expect(page.locator("#problems")).to_contain_text("没有：收到的每份文件都已计入单位")
        page.goto(base + "/unit/360981105")
        expect(page.locator(".lead .state")).to_have_text("无问题")
        expect(page.locator("ol.history")).to_contain_text("指定给杜市镇人民政府：电话核实")
        page.click("button:has-text('确认（纳入汇总）')")
        expect(page.locator(".lead .state")).to_have_text("已确认")

        # feedback to the units that must act, saved as drafts
        page.click("nav >> text=反馈")
        page.click("button:has-text('生成反馈')")
        expect(page.locator(".flash")).to_contain_text("个单位的反馈", timeout=60_000)
        letter = page.locator("details.letter", has_text="拖船镇人民政府")
        letter.locator("summary").click()
        expect(letter.locator("pre")).to_contain_text("表三“自然人”列不平衡，请核对后重新报送")
        page.click("button:has-text('保存为邮件草稿')")
        expect(page.locator("#result-h")).to_have_text("草稿已保存", timeout=60_000)
        drafted = page.locator("#send-result tbody tr", has_text="已存草稿")
        assert drafted.count() >= 3
        assert (camp / "outbox" / "360981103_2021_提醒邮件.eml").is_file()

        # merge and download 汇总.xlsx
        page.click("nav >> text=汇总")
        page.click("button:has-text('汇总')")
        expect(page.locator("#merged-h")).to_have_text("已汇总 3 个单位", timeout=60_000)
        with page.expect_download() as info:
            page.click("a:has-text('汇总.xlsx')")
        download = info.value
        assert download.suggested_filename == "汇总.xlsx"
        saved = tmp_path / "汇总.xlsx"
        download.save_as(saved)

        # the phone
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                 has_touch=True)
        for url, shot in (("/", "overview-390.png"), ("/unit/360981103", "unit-390.png"), ("/receive", None),
                          ("/answer", None), ("/totals", None)):
            phone.goto(base + url)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{url} scrolls sideways on a phone ({width} px); only its tables may"
            if shot:
                phone.screenshot(path=str(shots / shot), full_page=True)
        browser.close()
    assert not errors, errors  # no script error and nothing refused by the Content-Security-Policy

    # the totals are the sums of the three accepted workbooks, read independently here
    accepted = [camp / "示例回件" / name for name in ("张巷镇2021年报（定稿）.xlsx", "年报.xlsx")]
    borrowed = tmp_path / "borrowed.xlsx"
    borrowed.write_bytes(attachment(camp / "示例回件" / "杜市镇报送.eml"))
    subs = [read_submission(p) for p in [*accepted, borrowed]]
    fmt = subs[0].format
    expected: dict[str, Decimal] = {}
    for sub in subs:
        for cell_id, value in compute_derived(fmt, dict(sub.values)).items():
            expected[cell_id] = expected.get(cell_id, Decimal(0)) + (value or 0)
    wb = openpyxl.load_workbook(saved)
    checked = 0
    for table in fmt.tables.values():
        ws = wb[table.sheet]
        for cell_id, box in table_layout(table).cells.items():
            got = ws.cell(row=box.row + 1, column=box.col + 1).value
            assert Decimal(str(got or 0)) == expected[cell_id], cell_id
            checked += 1
    assert checked == len(fmt.cells)
    assert any(v for v in expected.values())  # the sample has numbers: the comparison is not all zeros
    for name in ("overview-1280.png", "unit-1280.png", "overview-390.png", "unit-390.png"):
        assert (shots / name).stat().st_size > 20_000
