"""Reading the [smtp] / [imap] tables of campaign.toml into settings dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from nianbao.errors import NianbaoError

SECURITY = ("starttls", "ssl", "plain")


def settings_fields(cls: type, data: Mapping[str, object], where: str,
                    default_ports: Mapping[str, int]) -> dict[str, object]:
    """Validated constructor arguments for ``cls``; each problem is one Chinese line naming the key.

    ``security`` defaults to ssl on the well-known implicit-TLS ports, else starttls; ``port``
    defaults from ``default_ports`` by security.
    """
    known = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = sorted(set(data) - known)
    if unknown:
        raise NianbaoError(f"{where} 中的设置项无法识别：{'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    host = str(data.get("host", "")).strip()
    if not host:
        raise NianbaoError(f"{where} 缺少服务器地址 host")
    implicit = data.get("port") in (465, 993)
    security = str(data.get("security", "ssl" if implicit else "starttls")).strip().lower()
    security = {"none": "plain", "tls": "ssl"}.get(security, security)
    if security not in SECURITY:
        raise NianbaoError(f"{where} 的 security 应为 starttls、ssl 或 plain（none），而不是“{security}”")
    port = data.get("port", default_ports[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise NianbaoError(f"{where} 的端口 port 应为 1–65535 的整数，而不是“{port}”")
    out: dict[str, object] = {k: v for k, v in data.items() if k in known}
    out.update(host=host, port=port, security=security)
    if "timeout" in out:
        try:
            out["timeout"] = float(out["timeout"])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise NianbaoError(f"{where} 的 timeout 应为秒数") from None
    for key, value in out.items():
        if key not in ("port", "timeout") and not isinstance(value, str):
            raise NianbaoError(f"{where} 的 {key} 应为文字（用引号括起来）")
    if out.get("ca_file") and not Path(str(out["ca_file"])).is_file():
        raise NianbaoError(f"{where} 的 ca_file 指向的证书文件不存在：{out['ca_file']}")
    return out


__all__ = ["SECURITY", "settings_fields"]
