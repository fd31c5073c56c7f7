"""Start the desk: make the demo campaign if asked, set the password if asked, run uvicorn."""

from __future__ import annotations

import getpass
import socket
import threading
import webbrowser
from pathlib import Path

from nianbao.campaign.folder import SETTINGS_NAME, open_campaign
from nianbao.errors import NianbaoError
from nianbao.web import security


def serve(directory: Path, host: str = "127.0.0.1", port: int = 8750, open_browser: bool = True,
          set_password: bool = False, demo: Path | None = None) -> None:
    import uvicorn

    from nianbao.web.app import create_app

    directory = Path(directory)
    if demo is not None and not (directory / SETTINGS_NAME).is_file():
        from nianbao.web.demo import RETURNS, make_demo

        make_demo(directory, demo)
        print(f"已建立演示任务 {directory}：9 个单位；{directory / RETURNS} 中的 8 份回件可以拖到“收件”页")
    if set_password:
        ask_password(directory)
        return
    app = create_app(directory, host)
    _check_port(host, port)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"协调人工作台已打开：{url}（按 Ctrl+C 关闭）")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


def ask_password(directory: Path) -> None:
    with open_campaign(directory):  # a campaign folder, or one clear line
        pass
    first = getpass.getpass("设置登录密码（至少 8 个字符）：")
    if len(first) < 8:
        raise NianbaoError("密码太短：至少 8 个字符")
    if getpass.getpass("再输入一次：") != first:
        raise NianbaoError("两次输入的密码不一致，未修改")
    security.store_password_hash(Path(directory) / SETTINGS_NAME, security.hash_password(first))
    print(f"已把密码的加盐散列值写入 {Path(directory) / SETTINGS_NAME}（密码本身不保存）")


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            raise NianbaoError(f"端口 {port} 已被占用（可能工作台已经开着）：换一个端口，例如 --port {port + 1}") from None


__all__ = ["ask_password", "serve"]
