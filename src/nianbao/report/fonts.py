"""Which installed face stands in for each official font name, and nianbao's own fontconfig.

The .docx names the fonts of GB/T 9704 (方正小标宋简体, 仿宋_GB2312, 楷体_GB2312, 黑体, 宋体);
an office machine usually has them. A Linux machine converting to PDF does not, and without
help LibreOffice falls back to one face for everything (Noto Sans CJK *JP* on Debian), which
loses the title/heading/body hierarchy and uses Japanese glyph forms. The PDF route therefore
runs soffice with a fontconfig file of its own (FONTCONFIG_FILE, never the user's settings)
that maps each official name to a Simplified-Chinese face of the same style, from free Debian
packages (see README and .ci/run). The same table gives the 一图读懂 graphic its faces.

Noto CJK comes as collections (.ttc) whose faces share one CFF table named for Japanese
("NotoSansCJKjp-…"), so a PDF embedding the Simplified-Chinese face still names it jp. The
profile therefore uses single-face copies of the SC faces, written once into nianbao's cache
with the CFF names saying sc (same glyphs, same cmap; only the name bytes differ).

No free FangSong covers the GB2312 set (cwTeX 仿宋 lacks about a third of the simplified
characters), so 仿宋 maps to a light Song (AR PL SungtiL GB), the closest free face in stroke.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Face:
    official: str  # the name in the .docx
    style: str  # what the official face is, in Chinese (for messages)
    families: tuple[str, ...]  # installed stand-ins, best first
    bold: bool = False
    package: str = ""  # the Debian package of the first stand-in


FACES: tuple[Face, ...] = (
    Face("方正小标宋简体", "小标宋", ("Noto Serif CJK SC",), bold=True, package="fonts-noto-cjk"),
    Face("仿宋_GB2312", "仿宋", ("AR PL SungtiL GB", "Noto Serif CJK SC"), package="fonts-arphic-gbsn00lp"),
    Face("仿宋", "仿宋", ("AR PL SungtiL GB", "Noto Serif CJK SC"), package="fonts-arphic-gbsn00lp"),
    Face("楷体_GB2312", "楷体", ("AR PL KaitiM GB", "AR PL UKai CN"), package="fonts-arphic-gkai00mp"),
    Face("楷体", "楷体", ("AR PL KaitiM GB", "AR PL UKai CN"), package="fonts-arphic-gkai00mp"),
    Face("黑体", "黑体", ("Noto Sans CJK SC",), package="fonts-noto-cjk"),
    Face("宋体", "宋体", ("Noto Serif CJK SC",), package="fonts-noto-cjk"),
    Face("Times New Roman", "西文衬线", ("Liberation Serif", "Noto Serif CJK SC"), package="fonts-liberation2"),
)
DEBIAN_PACKAGES = tuple(dict.fromkeys(f.package for f in FACES))


@functools.cache
def installed_families() -> frozenset[str]:
    """Font family names fontconfig knows (every name of a multi-named family)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    try:
        out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


def stand_in(face: Face) -> str | None:
    """The installed family used for ``face`` (None when none of its stand-ins is installed)."""
    have = installed_families()
    return next((f for f in face.families if f in have), None)


def substitutions() -> dict[str, str]:
    """Official name → installed family, for the names that have an installed stand-in."""
    found = {}
    for face in FACES:
        family = stand_in(face)
        if family:
            found[face.official] = family + (" Bold" if face.bold else "")
    return found


def missing_packages() -> list[str]:
    return list(dict.fromkeys(f.package for f in FACES if stand_in(f) is None))


def fontconfig_xml() -> str:
    """A fontconfig file: our rules first (they run before the system's), then the system's."""
    rules = []
    for face in FACES:
        family = stand_in(face)
        if family is None:
            continue
        weight = '<edit name="weight" mode="assign"><const>bold</const></edit>' if face.bold else ""
        rules.append(
            '  <match target="pattern">'
            f'<test name="family" compare="eq"><string>{escape(face.official)}</string></test>'
            f'<edit name="family" mode="assign" binding="strong"><string>{escape(family)}</string></edit>'
            f'{weight}</match>')
    folder, replaced = sc_font_copies()
    if replaced:
        # The collections are left out of this profile, so no face of theirs (JP) is chosen.
        rules.insert(0, f"  <dir>{escape(str(folder))}</dir>")
        rejected = "".join(f"<glob>{escape(path)}</glob>" for path in replaced)
        rules.append(f"  <selectfont><rejectfont>{rejected}</rejectfont></selectfont>")
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
            + "\n".join(rules)
            + '\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n</fontconfig>\n')


def write_fontconfig(folder: Path) -> Path:
    path = folder / "fonts.conf"
    path.write_text(fontconfig_xml(), encoding="utf-8")
    return path


SC_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
SC_STYLES = ("Regular", "Bold")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nianbao" / "fonts"


def _collection_faces() -> list[tuple[str, int, str]]:
    """(collection file, face index, output name) of the SC faces that live in a .ttc."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    faces = []
    for family in SC_FAMILIES:
        try:
            out = subprocess.run([fc_list, "-f", "%{file}|%{index}|%{style[0]}|%{postscriptname}\\n", family],
                                 capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) == 4 and parts[0].endswith(".ttc") and parts[2] in SC_STYLES and parts[1].isdigit():
                faces.append((parts[0], int(parts[1]), parts[3]))
    return faces


@functools.cache
def sc_font_copies() -> tuple[Path, tuple[str, ...]]:
    """Nianbao's single-face SC copies (folder, the collections they replace); empty when impossible."""
    folder = cache_dir()
    replaced: list[str] = []
    try:
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.tables.DefaultTable import DefaultTable
    except ImportError:
        return folder, ()
    for ttc, index, psname in _collection_faces():
        stat = os.stat(ttc)
        out = folder / f"{psname}-{stat.st_size}-{int(stat.st_mtime)}.otf"
        if not out.is_file():
            try:
                folder.mkdir(parents=True, exist_ok=True)
                font = TTFont(ttc, fontNumber=index, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
                if "CFF " not in font.reader:
                    continue
                cff = DefaultTable("CFF ")
                # Same length, so no offset inside the table moves.
                cff.data = font.reader["CFF "].replace(b"CJKjp-", b"CJKsc-")
                font["CFF "] = cff
                tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
                font.save(str(tmp))
                tmp.replace(out)
            except Exception:  # a font we cannot copy: the profile keeps the collection
                continue
        replaced.append(ttc)
    return folder, tuple(dict.fromkeys(replaced))


def font_file(family: str, bold: bool = False) -> str | None:
    """The file of an installed family (for matplotlib, which does not read fontconfig)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    pattern = family + (":weight=bold" if bold else "")
    try:
        out = subprocess.run([fc_match, "-f", "%{file}\n%{family}", pattern], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.splitlines()
    if len(lines) < 2 or family not in lines[1].split(","):
        return None
    return lines[0]
