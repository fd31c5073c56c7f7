"""The official font names → installed Simplified-Chinese faces, for nianbao's own fontconfig."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from nianbao.report import fonts
from nianbao.report.docx import FONTS_USED
from tests.conftest import REPO


def _require_fontconfig() -> None:
    if shutil.which("fc-list") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("fontconfig (fc-list) not installed")
        pytest.skip("fontconfig (fc-list) not installed")


def test_every_font_the_docx_names_has_stand_ins_and_none_is_japanese():
    official = {f.official for f in fonts.FACES}
    assert set(FONTS_USED) <= official
    for face in fonts.FACES:
        assert face.families and not any("JP" in f or "jp" in f for f in face.families), face


def test_ci_and_readme_install_every_font_package():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for package in fonts.DEBIAN_PACKAGES:
        assert package in ci and package in readme, package


def test_the_profile_maps_each_official_name_and_leaves_out_the_jp_named_collections():
    _require_fontconfig()
    missing = fonts.missing_packages()
    if missing:
        message = f"font packages not installed: {' '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    xml = fonts.fontconfig_xml()
    for face in fonts.FACES:
        assert f"<string>{face.official}</string>" in xml
    assert xml.index("<match") < xml.index("<include")  # ours run before the system's rules
    folder, replaced = fonts.sc_font_copies()
    if replaced:  # Noto CJK came as collections: the profile uses the SC copies instead
        assert all(f"<glob>{path}</glob>" in xml for path in replaced)
        names = subprocess.run(["fc-scan", "-f", "%{postscriptname}\n", str(folder)], capture_output=True,
                               text=True).stdout.split()
        assert names and all("CJKsc-" in n for n in names), names
    subs = fonts.substitutions()
    assert subs["黑体"].startswith("Noto Sans CJK SC") and subs["方正小标宋简体"].endswith("Bold")
