"""The desk over HTTP (Starlette's test client): every route, CSRF, login off localhost,
traversal, hostile uploads, escaping. The browser journey is in test_web_browser.py."""

from __future__ import annotations

import re
import time
from pathlib import Path

import openpyxl
import pytest
from starlette.testclient import TestClient

from nianbao.campaign.init import open_campaign
from nianbao.errors import NianbaoError
from nianbao.web import desk, security
from nianbao.web.app import create_app
from webdesk import demo_copy

RETURNS = "示例回件"
TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def client(camp: Path, host: str = "127.0.0.1") -> TestClient:
    return TestClient(create_app(camp, host, allowed_hosts=["testserver"]), follow_redirects=False)


def token(c: TestClient) -> str:
    return TOKEN.search(c.get("/").text).group(1)


def upload(c: TestClient, paths: list[Path], csrf: str | None) -> str:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = c.post("/receive", files=files, data={"csrf": csrf} if csrf else {})
    assert r.status_code == 200, r.text
    return finished(c, r.text)


def finished(c: TestClient, text: str) -> str:
    """Poll the drop's job fragment, as the page does, until collect is done."""
    job = re.search(r'id="job-([^"]+)"', text).group(1)
    deadline = time.monotonic() + 120
    while "处理完毕" not in text:
        assert time.monotonic() < deadline
        time.sleep(0.3)
        text = c.get(f"/job/{job}").text
    return text


@pytest.fixture
def camp(tmp_path):
    return demo_copy(tmp_path)


@pytest.fixture
def received(tmp_path):
    """The demo campaign with its eight returned files dropped on the desk."""
    path = demo_copy(tmp_path)
    c = client(path)
    text = upload(c, sorted((path / RETURNS).iterdir()), token(c))
    return path, c, text


# ----------------------------------------------------------------------------- pages


def test_every_page_answers_in_chinese_with_the_security_headers(camp):
    c = client(camp)
    for url in ("/", "/?state=未提交", "/?overdue=1&q=张巷", "/unit/360981101", "/receive", "/answer", "/totals"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
        assert r.headers["x-frame-options"] == "DENY"
        assert '<html lang="zh-CN">' in r.text
        assert "<script>" not in r.text and " style=" not in r.text and " on" + "click" not in r.text
    assert c.get("/static/htmx.min.js").text.startswith("var htmx=")
    assert "mark-error" in c.get("/static/desk.css").text
    r = c.get("/unit/000")
    assert r.status_code == 404 and "名单中没有编码为“000”的单位" in r.text
    r = c.get("/no-such-page")
    assert r.status_code == 404 and "没有这个页面" in r.text and "Not Found" not in r.text


def test_overview_filters_return_the_table_alone_for_htmx(camp):
    c = client(camp)
    r = c.get("/?q=张巷", headers={"HX-Request": "true", "HX-Target": "units"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="units"')
    assert "张巷镇人民政府" in r.text and "石滩镇人民政府" not in r.text
    assert "没有符合条件的单位" in c.get("/?state=已确认", headers={"HX-Request": "true", "HX-Target": "units"}).text


def test_receive_collects_dropped_files_and_eml_attachments(received):
    camp, c, text = received
    rows = {m[0]: m[1] for m in re.findall(r'<th scope="row">([^<]+)</th>\s*<td data-label="结果"><span class="state '
                                            r'state-[a-z]+">([^<]+)</span>', text)}
    assert rows == {"孙渡街道2021年报.xls": "已收到·无法使用", "杜市镇年报.xlsx": "待核实", "拖船镇年报.xlsx": "有错误",
                    "河洲年报.xlsx": "有错误", "张巷镇2021年报（定稿）.xlsx": "无问题", "年报.xlsx": "无问题",
                    "荣塘镇.xlsx": "无问题", "尚庄街道2021年报.xlsx": "无问题"}
    page = c.get("/").text
    assert re.search(r'<span class="n">2</span> 有错误', page) and re.search(r'<span class="n">1</span> 待核实', page)
    assert "1 份文件未计入任何单位" in page
    again = upload(c, sorted((camp / RETURNS).iterdir()), token(c))
    assert "state-" not in again and again.count("已收过") == 8  # the same files twice: nothing recorded twice


def test_unit_page_marks_the_failing_cells_and_offers_its_files(received):
    camp, c, _ = received
    page = c.get("/unit/360981103").text
    assert 'data-cell="t3.new.natural" class="mark-error"' in page
    assert "表三 依申请公开!D6" in page
    sha = re.search(r'href="/original/([0-9a-f]{64})"', page).group(1)
    r = c.get(f"/original/{sha}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    r = c.get(f"/annotated/{sha}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = c.get(f"/preview/{sha}")
    assert r.status_code == 200 and "草稿" in r.text and "拖船镇人民政府" in r.text


def test_decisions_are_recorded_in_the_ledger(received):
    camp, c, _ = received
    csrf = token(c)
    r = c.post("/unit/360981103/decision", data={"csrf": csrf, "decision": "reject", "reason": ""})
    assert r.status_code == 303
    assert "退回时必须写明理由" in c.get("/unit/360981103").text
    c.post("/unit/360981103/decision", data={"csrf": csrf, "decision": "reject", "reason": "表三不平衡，请核对"})
    assert "已退回（理由：表三不平衡，请核对）" in c.get("/unit/360981103").text
    r = c.post("/unit/360981103/decision", data={"csrf": csrf, "decision": "accept"})
    assert "不能确认" in c.get("/unit/360981103").text  # errors, and "仍然确认" not ticked
    c.post("/unit/360981101/decision", data={"csrf": csrf, "decision": "accept"})
    with open_campaign(camp) as campaign:
        rows = campaign.ledger.db.execute("SELECT unit_code, action, reason, actor FROM reviews ORDER BY id").fetchall()
    assert [tuple(r)[:3] for r in rows] == [("360981103", "reject", "表三不平衡，请核对"), ("360981101", "accept", "")]
    assert all(r["actor"].endswith("工作台）") or r["actor"] == "工作台" for r in rows)
    assert "已退回" in c.get("/?state=已退回").text
    assert c.post("/unit/360981101/decision", data={"csrf": csrf, "decision": "maybe"}).status_code == 400


def test_a_held_file_is_assigned_from_the_page(received):
    camp, c, _ = received
    page = c.get("/receive").text
    file_id = re.search(r'<tr id="file-(\d+)">', page).group(1)
    assert "由杜市镇人民政府的登记邮箱发来，但文件中是荣塘镇人民政府的模板" in page
    r = c.post("/assign", data={"csrf": token(c), "file": file_id, "unit": "360981105", "reason": "电话核实：杜市借用了荣塘的模板"})
    assert r.status_code == 303 and r.headers["location"] == "/receive"
    assert "已计入该单位" in c.get("/receive").text
    unit = c.get("/unit/360981105").text
    assert "第 1 版" in unit and "把文件 " + file_id + " 指定给杜市镇人民政府：电话核实：杜市借用了荣塘的模板" in unit
    assert "未计入任何单位" not in c.get("/").text
    bad = c.post("/assign", data={"csrf": token(c), "file": "x", "unit": "360981105"})
    assert bad.status_code == 400
    c.post("/assign", data={"csrf": token(c), "file": "999", "unit": "360981105"})
    assert "登记簿中没有编号为 999 的文件" in c.get("/receive").text


def test_merge_with_no_accepted_unit_is_refused_in_one_line(received):
    camp, c, _ = received
    r = c.post("/totals/merge", data={"csrf": token(c)})
    assert r.status_code == 409 and "未能汇总：没有可汇总的单位" in r.text
    assert not (camp / "汇总" / "汇总.xlsx").exists()
    r = c.post("/totals/merge", data={"csrf": token(c), "include_unaccepted": "1"})
    assert r.status_code == 200 and "已汇总 4 个单位" in r.text, r.text  # the versions without errors, not yet accepted


def test_feedback_drafts_and_merge_from_the_page(received):
    camp, c, _ = received
    csrf = token(c)
    c.post("/unit/360981101/decision", data={"csrf": csrf, "decision": "accept"})
    c.post("/unit/360981102/decision", data={"csrf": csrf, "decision": "accept"})
    assert c.post("/answer/build", data={"csrf": csrf}).status_code == 303
    page = c.get("/answer").text
    assert "已生成 5 个单位的反馈" in page
    assert "表三 依申请公开!D6：表三“自然人”列不平衡" in page and "附件：360981103_2021_标注.xlsx" in page
    r = c.post("/answer/send", data={"csrf": csrf, "mode": "drafts", "unit": ["360981103", "360981109"]})
    assert r.status_code == 200 and "草稿已保存" in r.text
    assert r.text.count("已存草稿") == 2
    # from the page (htmx) the same runs in the background, with a progress bar
    r = c.post("/answer/send", data={"csrf": csrf, "mode": "drafts", "unit": ["360981104"]},
               headers={"HX-Request": "true"})
    job = re.search(r'id="job-([^"]+)"', r.text).group(1)
    for _ in range(300):
        if "草稿已保存" in r.text:
            break
        time.sleep(0.2)
        r = c.get(f"/job/{job}")
    assert "<progress" in r.text and "1 / 1 个单位" in r.text and "已存草稿" in r.text
    assert (camp / "outbox" / "360981103_2021_提醒邮件.eml").is_file()
    assert not (camp / "outbox" / "360981108_2021_提醒邮件.eml").exists()  # not ticked
    r = c.post("/totals/merge", data={"csrf": csrf})
    assert r.status_code == 200 and "已汇总 2 个单位" in r.text
    r = c.get("/files/汇总.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = c.get("/files/status.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(camp / "status.xlsx")["报送情况"]
    assert any("已确认" in (row[4] or "") for row in ws.iter_rows(min_row=5, values_only=True))


# ----------------------------------------------------------------------------- CSRF and origin


@pytest.mark.parametrize("url", ["/unit/360981101/decision", "/receive", "/assign", "/answer/build", "/answer/send",
                                 "/totals/merge", "/logout"])
def test_every_form_without_its_csrf_token_is_refused(camp, url):
    c = client(camp)
    c.get("/")  # a session exists, but the post does not carry its token
    r = c.post(url, data={"decision": "accept", "csrf": "forged"})
    assert r.status_code == 403 and "校验码" in r.text
    with open_campaign(camp) as campaign:
        assert campaign.ledger.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 0
    assert not (camp / "汇总").exists() and not (camp / "feedback").exists()


def test_a_post_from_another_site_is_refused_even_with_a_token(camp):
    c = client(camp)
    csrf = token(c)
    r = c.post("/totals/merge", data={"csrf": csrf}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_an_unknown_host_name_is_refused_on_localhost(camp):
    c = TestClient(create_app(camp))  # allowed hosts: 127.0.0.1, localhost only
    assert c.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert c.get("/", headers={"Host": "127.0.0.1:8750"}).status_code == 200


# ----------------------------------------------------------------------------- password off localhost


def test_another_host_needs_a_password_set_in_campaign_toml(camp):
    with pytest.raises(NianbaoError, match="必须先设置登录密码"):
        create_app(camp, "0.0.0.0")
    settings = camp / "campaign.toml"
    security.store_password_hash(settings, security.hash_password("县政务公开办2025"))
    text = settings.read_text(encoding="utf-8")
    assert "县政务公开办2025" not in text and "password_hash = \"scrypt$" in text
    assert "# 单个文件的大小上限" in text  # the rest of the file and its comments are kept
    security.store_password_hash(settings, security.hash_password("another-one"))
    assert settings.read_text(encoding="utf-8").count("[desk]") == 1
    c = TestClient(create_app(camp, "0.0.0.0"), follow_redirects=False)
    assert c.get("/").headers["location"] == "/login"
    assert c.get("/unit/360981101").status_code == 303
    assert c.post("/totals/merge").status_code == 401
    assert c.get("/static/desk.css").status_code == 200
    page = c.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"csrf": csrf, "password": "县政务公开办2025"})
    assert r.status_code == 401 and "密码不对" in r.text
    r = c.post("/login", data={"csrf": csrf, "password": "another-one"})
    assert r.status_code == 303
    assert c.get("/").status_code == 200


def test_password_hash_is_salted_scrypt():
    a, b = security.hash_password("secret-1"), security.hash_password("secret-1")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert security.verify_password("secret-1", a) and not security.verify_password("secret-2", a)
    assert not security.verify_password("secret-1", "plain") and not security.verify_password("x", "scrypt$a$b$c$d$e")


# ----------------------------------------------------------------------------- traversal


@pytest.mark.parametrize("url", [
    "/files/campaign.toml", "/files/ledger.sqlite", "/files/..%2Fcampaign.toml", "/files/%2E%2E%2Fledger.sqlite",
    "/files/..%5Cledger.sqlite", "/files/汇总.xlsx", "/original/..%2F..%2Fetc%2Fpasswd", "/original/" + "0" * 64,
    "/original/" + "A" * 64, "/annotated/..%2Fcampaign.toml", "/preview/%2e%2e", "/static/..%2Fapp.py",
    "/static/../security.py", "/files/", "/unit/..%2F..%2Fcampaign.toml",
])
def test_download_routes_refuse_traversal(camp, url):
    r = client(camp).get(url)
    assert r.status_code == 404, url
    assert b"[campaign]" not in r.content and b"SQLite" not in r.content and b"import" not in r.content


def test_original_refuses_a_ledger_path_outside_the_campaign(received):
    camp, c, _ = received
    with open_campaign(camp) as campaign, campaign.ledger.transaction() as db:
        sha = db.execute("SELECT sha256 FROM files LIMIT 1").fetchone()[0]
        db.execute("UPDATE files SET path = '../../../etc/passwd' WHERE sha256 = ?", (sha,))
    assert c.get(f"/original/{sha}").status_code == 404


# ----------------------------------------------------------------------------- hostile uploads


def test_hostile_upload_names_are_shown_as_text_and_never_used_as_paths(camp, tmp_path):
    c = client(camp)
    evil = "../../<img src=x onerror=alert(1)>\x1b[31m.xlsx"
    files = [("files", (evil, b"PK\x03\x04 not really a zip", "application/octet-stream"))]
    text = finished(c, c.post("/receive", files=files, data={"csrf": token(c)}).text)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "\x1b" not in text
    assert not list(tmp_path.glob("**/*onerror*"))
    assert "&lt;img" in c.get("/receive").text  # the file is listed as unusable, escaped


def test_a_file_over_the_campaign_limit_is_refused_unread(camp):
    settings = camp / "campaign.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("max_file_mb = 20", "max_file_mb = 0.01"),
                        encoding="utf-8")
    c = client(camp)
    files = [("files", ("大文件.xlsx", b"PK" + b"\0" * 20_000, "application/octet-stream"))]
    text = upload_raw(c, files)
    assert "文件过大" in text and "已收到·无法使用" in text
    with open_campaign(camp) as campaign:
        assert campaign.ledger.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
        assert campaign.ledger.db.execute("SELECT problem_code FROM receipts").fetchone()[0] == "FILE-TOO-LARGE"


def upload_raw(c: TestClient, files) -> str:
    return finished(c, c.post("/receive", files=files, data={"csrf": token(c)}).text)


def test_too_many_files_in_one_drop_are_refused(camp, monkeypatch):
    monkeypatch.setattr(desk, "MAX_UPLOAD_FILES", 3)
    c = client(camp)
    files = [("files", (f"{i}.xlsx", b"PK", "application/octet-stream")) for i in range(4)]
    r = c.post("/receive", files=files, data={"csrf": token(c)})
    assert r.status_code == 400
    with open_campaign(camp) as campaign:
        assert campaign.ledger.db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 0


def test_an_empty_drop_says_what_to_do(camp):
    c = client(camp)
    r = c.post("/receive", data={"csrf": token(c)})
    assert r.status_code == 400 and "没有收到文件" in r.text


def test_a_body_over_the_total_limit_is_cut_off(camp):
    import asyncio

    from nianbao.web.security import BodyLimit

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    limited = BodyLimit(app, 1000)
    c = TestClient(limited)
    assert c.post("/", content=b"x" * 999).status_code == 200
    r = c.post("/", content=b"x" * 1001)
    assert r.status_code == 413 and "上传的内容过大" in r.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(5):
            yield b"x" * 400

    assert c.post("/", content=chunks()).status_code == 413
    assert asyncio  # (the ASGI app above is driven by the test client)


def test_unit_page_escapes_what_units_wrote(received):
    camp, c, _ = received
    with open_campaign(camp) as campaign, campaign.ledger.transaction() as db:
        db.execute("UPDATE units SET contact = '<script>alert(1)</script>' WHERE code = '360981101'")
    page = c.get("/unit/360981101").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ----------------------------------------------------------------------------- sending from the page


def test_letters_are_sent_with_the_password_typed_in_the_page_and_never_stored(received, monkeypatch):
    from mailservers import SMTP_PASSWORD, smtp_server
    from test_campaign_mailing import configure

    camp, c, _ = received
    monkeypatch.delenv("NB_TEST_SMTP_PASSWORD", raising=False)
    csrf = token(c)
    c.post("/answer/build", data={"csrf": csrf})
    with smtp_server() as server:
        configure(camp, server)
        r = c.post("/answer/send", data={"csrf": csrf, "mode": "send", "password": "wrong", "unit": ["360981103"]})
        assert r.status_code == 409 or "<td data-label=\"结果\">失败</td>" in r.text, r.text
        assert not server.messages
        r = c.post("/answer/send", data={"csrf": csrf, "mode": "send", "password": SMTP_PASSWORD,
                                         "unit": ["360981103", "360981109"]})
        assert r.status_code == 200 and "发送结果" in r.text and r.text.count("<td data-label=\"结果\">已发送</td>") == 2
        assert sorted(m.rcpt_tos[0] for m in server.messages) == ["tuochuan@example.gov.cn", "xiushi@example.gov.cn"]
    assert SMTP_PASSWORD not in r.text
    secret = SMTP_PASSWORD.encode("utf-8")
    for path in camp.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


# ----------------------------------------------------------------------------- the serve command


def test_the_readme_demo_command_opens_the_desk(tmp_path):
    """`nianbao serve 演示任务 --demo samples/…` as the README says: the folder is made, the page answers."""
    import socket
    import subprocess
    import sys
    import urllib.request

    from webdesk import SAMPLE

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", "import sys; from nianbao.cli import main; sys.exit(main())", "serve", "演示任务",
           "--demo", str(SAMPLE), "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode("utf-8")
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert "丰城市2021年度政府信息公开工作年度报告收集" in page
        assert len(list((tmp_path / "演示任务" / "示例回件").iterdir())) == 8
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in out
    # another address without a password: one Chinese line, exit 2, nothing served
    other = subprocess.run([*cmd[:3], "serve", "演示任务", "--host", "0.0.0.0", "--no-browser", "--port", str(port)],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert other.returncode == 2 and other.stderr.startswith("错误：要在 0.0.0.0 上开放") and "Traceback" not in other.stderr


def test_set_password_asks_twice_and_stores_only_the_hash(camp, monkeypatch):
    from nianbao.web import server

    answers = iter(["政务公开办2025", "政务公开办2025"])
    monkeypatch.setattr(server.getpass, "getpass", lambda prompt="": next(answers))
    server.ask_password(camp)
    text = (camp / "campaign.toml").read_text(encoding="utf-8")
    stored = re.search(r'password_hash = "([^"]+)"', text).group(1)
    assert security.verify_password("政务公开办2025", stored) and "政务公开办2025" not in text
    answers = iter(["短", "短"])
    with pytest.raises(NianbaoError, match="至少 8 个字符"):
        server.ask_password(camp)
    answers = iter(["abcdefgh", "abcdefgX"])
    with pytest.raises(NianbaoError, match="不一致"):
        server.ask_password(camp)
    create_app(camp, "0.0.0.0")  # now allowed


def test_broken_mail_and_a_zip_with_escaping_paths_are_recorded_and_contained(camp, tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../../escaped.txt", "x")
        z.writestr("[Content_Types].xml", "<Types/>")
    c = client(camp)
    files = [("files", ("坏邮件.eml", b"\x00\xff not a mail \r\n\r\n\x00", "message/rfc822")),
             ("files", ("路径.xlsx", buf.getvalue(), "application/octet-stream"))]
    text = upload_raw(c, files)
    assert "处理完毕" in text and "Traceback" not in text
    assert not list(tmp_path.parent.glob("**/escaped.txt"))
    assert c.get("/").status_code == 200 and c.get("/receive").status_code == 200
