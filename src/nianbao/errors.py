"""Exceptions that carry a Chinese, user-facing message.

The CLI turns every ``NianbaoError`` into one line on stderr and exit code 2; anything else
escaping to the CLI is a bug.
"""

from __future__ import annotations


class NianbaoError(Exception):
    """A usage or input problem the user can fix; ``str(err)`` is the Chinese message."""

    code = "USAGE"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class FormatDefinitionError(NianbaoError):
    """A format definition (workbook_templates/*.toml) is invalid; lists every problem."""

    code = "FORMAT-DEFINITION"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("格式定义有误：\n" + "\n".join(problems))


class InputFileError(NianbaoError):
    """A file handed to us cannot be read as what it should be (wrong type, hostile, damaged)."""

    code = "FILE-UNREADABLE"

    def __init__(self, path: object, message: str, *, code: str | None = None) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}：{message}", code=code)
