"""What the command line says about itself, in Chinese: help pages and usage errors.

Help is plain text wrapped to the terminal (East Asian characters count two columns), never
cut: every option's help is shown in full, required inputs first, so a clerk at an 80-column
window sees what a command needs. It is written here rather than by rich (which truncates
table cells and takes half a second to import). ``localize`` walks the whole command tree, so
every command, including ones added later, gets the same help and messages.

Usage errors (typer/click raise them in English) become one Chinese line naming the option,
the value given and what is expected.
"""

from __future__ import annotations

import enum
import re
import shutil
import types
import typing
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from pathlib import PurePath

from typer import _click as click  # typer vendors click

MIN_WIDTH, MAX_WIDTH = 40, 100
TYPE_NAMES = {"integer": "整数", "float": "数字", "text": "文本", "path": "路径", "boolean": "是/否",
              "filename": "文件", "file": "文件", "uuid": "UUID", "datetime": "日期时间"}
HELP_TEXT = "显示本帮助并退出"
CLOSING = "，。、；：？！）》」』”’】〕…,.;:?!)"


# ------------------------------------------------------------------------------- wrapping

def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _tokens(text: str) -> list[str]:
    """Latin words (with their trailing space) stay whole; each wide character is a token."""
    return re.findall(r"[^\s\u2e80-\uffef]+\s*|[\u2e80-\uffef]\s*|\s+", text)


def wrap(text: str, width: int, indent: int = 0, first: int | None = None) -> list[str]:
    """``text`` in lines of at most ``width`` columns; the first line starts at ``first``.

    Closing punctuation never starts a line (禁则): the character before it moves down too.
    """
    lines: list[list[str]] = [[]]
    used = indent if first is None else first
    for token in _tokens(text):
        if lines[-1] and used + width_of(token.rstrip()) > width:
            carried: list[str] = []
            while token[0] in CLOSING and len(lines[-1]) > 1 and lines[-1][-1][0] not in " ":
                carried.insert(0, lines[-1].pop())
                if carried[0][0] not in CLOSING:
                    break
            lines.append(carried)
            used = indent + sum(width_of(t) for t in carried)
            token = token.lstrip() if not carried else token
            if not token:
                continue
        lines[-1].append(token)
        used += width_of(token)
    out = ["".join(line).rstrip() for line in lines]
    return [line for line in out if line] or [""]


def terminal_width() -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns))


# ------------------------------------------------------------------------------- help

def _is_option(param) -> bool:
    return getattr(param, "param_type_name", "") == "option"


def _annotation(param):
    """The Python type a parameter converts to, without Optional/list (typer keeps it)."""
    ann = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    for _ in range(3):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if typing.get_origin(ann) in (typing.Union, types.UnionType, list, tuple, set) and args:
            ann = args[0]
    return ann


def choices(param) -> list[str]:
    ann = _annotation(param)
    if typing.get_origin(ann) is typing.Literal:
        return [str(a) for a in typing.get_args(ann)]
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return [str(m.value) for m in ann]
    found = getattr(getattr(param, "type", None), "choices", None)  # plain click
    return [str(c) for c in found] if found else []


def kind_name(param) -> str:
    ann = _annotation(param)
    if isinstance(ann, type):
        for base, name in ((bool, "是/否"), (int, "整数"), (float, "数字"), (Decimal, "数字"), (str, "文本"),
                           (PurePath, "路径")):
            if issubclass(ann, base):
                return name
    return TYPE_NAMES.get(getattr(getattr(param, "type", None), "name", ""), "")


def _metavar(param) -> str:
    options = choices(param)
    if options:
        return "{" + "|".join(options) + "}"
    return kind_name(param) or "值"


def _is_flag(param) -> bool:
    return bool(getattr(param, "is_flag", False)) or kind_name(param) == "是/否"


def _argument_name(param) -> str:
    name = (param.name or "").upper()
    return f"{name}…" if param.nargs == -1 else name


def _option_label(param) -> str:
    names = ", ".join(sorted(param.opts + param.secondary_opts, key=len))
    return names if _is_flag(param) else f"{names} {_metavar(param)}"


def _default_text(param) -> str:
    default = param.default
    if param.required or _is_flag(param) or default in (None, "", (), []) or callable(default):
        return ""
    if not getattr(param, "show_default", True):
        return ""
    if isinstance(default, enum.Enum):
        default = default.value
    return f"（默认：{default}）"


def _rows(rows: list[tuple[str, str]], width: int) -> list[str]:
    """Two columns: names, then the help text wrapped under itself."""
    col = min(max((width_of(n) for n, _ in rows), default=0) + 4, 26)
    out = []
    for name, text in rows:
        head = f"  {name}"
        if width_of(head) + 2 > col:  # a long name gets its own line
            out.append(head)
            out.extend(" " * col + line for line in wrap(text, width, col))
            continue
        lines = wrap(text, width, col)
        out.append(head + " " * (col - width_of(head)) + lines[0])
        out.extend(" " * col + line for line in lines[1:])
    return out


def help_text(command, ctx) -> str:
    width = terminal_width()
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if not _is_option(p)]
    options = [p for p in params if _is_option(p)]
    is_group = hasattr(command, "list_commands")
    usage = [ctx.command_path] + (["[选项]"] if options else []) + [
        _argument_name(a) if a.required else f"[{_argument_name(a)}]" for a in arguments]
    if is_group:
        usage.append("命令 [参数]…")
    wrapped = wrap("用法：" + " ".join(usage), width, 6)
    lines = wrapped[:1] + ["      " + w for w in wrapped[1:]]
    for paragraph in re.split(r"\n\s*\n", (command.help or "").strip()):
        groups: list[str] = []  # an example line (示例：…) always starts a line of its own
        for line in (ln.strip() for ln in paragraph.splitlines()):
            if not line or line == "\b":
                continue
            if not groups or line.startswith("示例"):
                groups.append(line)
            else:
                groups[-1] += ("" if width_of(line[0]) == 2 and width_of(groups[-1][-1]) == 2 else " ") + line
        if groups:
            lines.append("")
            for group in groups:
                hang = 6 if group.startswith("示例：") else 0  # an example's rest sits under its command
                wrapped = wrap(group, width, hang)
                lines += wrapped[:1] + [" " * hang + w for w in wrapped[1:]]
    required = [(_argument_name(a), a_help(a)) for a in arguments if a.required]
    required += [(_option_label(o), o_help(o)) for o in options if o.required]
    optional = [(f"[{_argument_name(a)}]", a_help(a)) for a in arguments if not a.required]
    optional += [(_option_label(o), o_help(o)) for o in options if not o.required]
    if required:
        lines += ["", "必填："] + _rows(required, width)
    if optional:
        lines += ["", "选项："] + _rows(optional, width)
    if is_group:
        rows = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                rows.append((name, _first_paragraph(sub.help or sub.short_help or "")))
        if rows:
            lines += ["", "命令："] + _rows(rows, width)
            lines += ["", f"每个命令的用法：{ctx.command_path} 命令 --help"]
    return "\n".join(lines) + "\n"


def a_help(param) -> str:
    return (getattr(param, "help", None) or "").strip() or "（无说明）"


def o_help(param) -> str:
    if any(opt in ("--help", "-h") for opt in param.opts):
        return HELP_TEXT
    return ((param.help or "").strip() or "（无说明）") + _default_text(param)


def _first_paragraph(text: str) -> str:
    first = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    return " ".join(line.strip() for line in first.splitlines())


def _format_help(self, ctx, formatter) -> None:
    formatter.write(help_text(self, ctx))


def localize(command) -> None:
    """Give ``command`` and every command under it the Chinese help page."""
    command.format_help = types.MethodType(_format_help, command)
    for sub in getattr(command, "commands", {}).values():
        localize(sub)


# ------------------------------------------------------------------------------- usage errors

def _param_name(param) -> str:
    if param is None:
        return "参数"
    if _is_option(param):
        return max(param.opts, key=len)
    return _argument_name(param)


def _given(param, argv: Sequence[str]) -> str | None:
    """The value the user typed for ``param`` (None when it cannot be told)."""
    if not _is_option(param):
        return None
    for i, token in enumerate(argv):
        for opt in param.opts:
            if token == opt and i + 1 < len(argv):
                return argv[i + 1]
            if token.startswith(opt + "="):
                return token[len(opt) + 1:]
    return None


def usage_message(err: Exception, argv: Sequence[str]) -> str:
    """One Chinese line for a click/typer usage error."""
    if isinstance(err, click.exceptions.NoSuchOption):
        text = f"没有 {err.option_name} 这个选项"
        if err.possibilities:
            text += f"，是否要用 {'、'.join(sorted(err.possibilities))}？"
        return text
    if isinstance(err, click.exceptions.MissingParameter):
        param = err.param
        kind = "选项" if _is_option(param) else "参数"
        what = (getattr(param, "help", None) or "").strip()
        return f"缺少必填{kind} {_param_name(param)}" + (f"（{what}）" if what else "")
    if isinstance(err, click.exceptions.BadParameter):
        param = err.param
        given = _given(param, argv)
        shown = f"“{given}”" if given is not None else ""
        name = _param_name(param)
        if err.message and not err.message.isascii():  # our own callbacks' messages are Chinese
            return f"{name}：{err.message}"
        options = choices(param) if param is not None else []
        if options:
            return f"{name} 的值{shown}不在可选范围内，可选：{'、'.join(options)}"
        kind = kind_name(param) if param is not None else ""
        if kind in ("整数", "数字"):
            return f"{name} 的值{shown}不是{kind}" + ("，年度请写四位数字，例如 2025" if "year" in name else "")
        return f"{name} 的值{shown}无效" + (f"，应为{kind}" if kind else "")
    if isinstance(err, click.exceptions.BadOptionUsage):
        if "requires an argument" in err.message or "requires" in err.message:
            return f"选项 {err.option_name} 后面需要写一个值"
        if "does not take a value" in err.message:
            return f"选项 {err.option_name} 不需要写值"
        return f"选项 {err.option_name} 用法不对"
    message = getattr(err, "message", "") or str(err)
    found = re.match(r"No such command '(.+?)'\.(?: Did you mean '(.+?)'\?)?", message)
    if found:
        near = f"，是否要用 {found.group(2)}？" if found.group(2) else ""
        return f"没有 {found.group(1)} 这个命令{near}"
    found = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", message)
    if found:
        return f"多余的参数：{found.group(1)}"
    if message and not message.isascii():
        return message
    return "命令行参数有误"


def four_digit_year(value: int | None) -> int | None:
    """An option callback: a report year has four digits (25 is 2025, not year 25)."""
    if value is not None and not 1000 <= value <= 9999:
        hint = f"，是否指 {2000 + value} 年？" if 0 <= value < 100 else ""
        raise click.exceptions.BadParameter(f"年度应写四位数字，例如 2025（收到：{value}）{hint}")
    return value
