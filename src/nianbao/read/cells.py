"""A worksheet's cells in the plain form Excel, WPS, LibreOffice and our writer save, read
straight from the part's bytes; anything else is left to the lxml tree.

Why: building an lxml tree of a sheet's cells and visiting it from Python costs about 1 µs a
cell; a returned template has some 3,000 cells, most of them in the very-hidden _meta sheet
(1,300 strings) and the 检查 sheet, and that was a fifth of checking a file.

How it stays exact: the <sheetData> element must be *wholly* made of the forms below, or the
sheet is read from the tree as before (``plain_cells`` returns None):

- ``<row …>`` elements (any plain attributes but a namespace declaration) holding ``<c>``
  elements whose attributes are ``r`` (an upper-case A1 reference), then optionally ``s`` (a
  style number) and ``t``, in this order, and whose content is nothing, ``<f>…</f>`` (a formula
  without attributes: shared and array formulas go to the tree), ``<v>…</v>``, both in that
  order, or ``<is><t>…</t></is>``;
- text with no markup but the five predefined entities and character references (no CDATA,
  no comments, no carriage returns, which XML would rewrite);
- a UTF-8 part with exactly one ``<sheetData`` in it.

The part is still checked to be well-formed XML by expat (``Parts.verify_rest``), and the rest
of it (protection, validations) is parsed by lxml with the cells cut out; the cut-out
placeholder must then be the root's own main-namespace <sheetData>, else the tree decides.
"""

from __future__ import annotations

import re

_TEXT = rb'[^<&\r]*(?:&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});[^<&\r]*)*'
_T = rb'<t(?: xml:space="preserve")?'
# {G} opens a group that ``plain_cells`` captures; the row pattern uses the same text uncaptured.
_CELL = (rb'<c r="{G}[A-Z]{1,3}[0-9]{1,7})"(?: s="{G}[0-9]{1,6})")?(?: t="{G}[a-zA-Z]{1,9})")?(?:/>|>'
         rb'(?:{G}<is>)(?:' + _T + rb'>{G}' + _TEXT + rb')</' + rb't>|' + _T + rb'/>)</is>'
         rb'|(?:{G}<f>)(?:{G}' + _TEXT + rb')</f>)|<f/>)?(?:<v>{G}' + _TEXT + rb')</v>|<v/>)?)</c>)')
# (not xmlns: a default namespace declared on a row moves its cells out of the main namespace,
# where the tree, like openpyxl, does not see them)
_ROW = (rb'<row(?: (?!xmlns)[a-zA-Z]{1,20}="[^"<&\r]*")*(?:/>|>(?:' + _CELL.replace(b"{G}", b"(?:") + rb')*</row>)')
_SHEET_DATA = re.compile(rb'(?:' + _ROW + rb')*')
_CELL = _CELL.replace(b"{G}", b"(")
_CELLS = re.compile(_CELL)
_DECLARATION = re.compile(rb'<\?xml[^>]*?\?>')
_UTF8 = re.compile(rb'encoding=["\'](?i:utf-8)["\']')
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))

#: The groups of one plain cell, as bytes (b"" where absent): (reference, style, type, b"<is>"
#: when it has an inline string, its text, b"<f>" when it has a formula, its text, the value).
Groups = tuple[bytes, ...]


def plain_cells(data: bytes) -> tuple[bytes, dict[str, Groups]] | None:
    """(the part with an empty <sheetData/> in place of the cells, A1 -> the cell's groups), or
    None when the cells are not all in the plain form (the tree reads them then)."""
    if data.count(b"<sheetData") != 1:
        return None
    if data.startswith(b"<?xml"):
        declaration = _DECLARATION.match(data)
        if declaration is None or (b"encoding" in declaration.group() and not _UTF8.search(declaration.group())):
            return None
    start = data.find(b"<sheetData")
    if data.startswith(b"<sheetData/>", start):
        return data, {}
    if not data.startswith(b"<sheetData>", start):
        return None
    inner = start + len(b"<sheetData>")
    end = data.find(b"</sheetData>", inner)
    if end < 0 or _SHEET_DATA.fullmatch(data, inner, end) is None:
        return None
    cells = {groups[0].decode("ascii"): groups for groups in _CELLS.findall(data, inner, end)}
    return data[:start] + b"<sheetData/>" + data[end + len(b"</sheetData>"):], cells


def text(raw: bytes) -> str | None:
    """The text of a group, entities replaced (None: the element was not there or was empty, as
    lxml gives an empty element's text)."""
    if not raw:
        return None
    out = raw.decode("utf-8")
    if "&" in out:
        if "&#" in out:  # openpyxl writes every non-ASCII character so: &#24352;
            out = _CHAR_REF.sub(_char, out)
        for entity, char in _ENTITIES:  # &amp; last, so "&amp;lt;" stays "&lt;"
            out = out.replace(entity, char)
    return out


_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")


def _char(m: re.Match) -> str:
    ref = m.group(1)
    return chr(int(ref[1:], 16) if ref[0] == "x" else int(ref))
