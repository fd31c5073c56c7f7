"""一图读懂: the report's numbers on one portrait page (SVG, PNG and a PDF page), with matplotlib.

Every number and label comes from the report model (the tables' grid cells, whose labels are the
format's official text); the only words of the graphic's own are "一图读懂" and the units
("件", "万元" come from the labels). A kind of result (（三）不予公开 …) shows the sum of its rows
in the 总计 column, as the table has it. Faces are the same stand-ins the PDF uses (``fonts``).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from nianbao.errors import NianbaoError
from nianbao.report.fonts import sc_font_copies, font_file
from nianbao.report.model import DRAFT_MARK, ReportDocument, TableGrid

TITLE = "一图读懂"
RED, DARK, LIGHT, GREY = "#b7282e", "#7a1a1f", "#fbeeee", "#555555"
PAGE_INCHES = (8.27, 11.69)  # A4 portrait
PNG_DPI = 150


@dataclass(frozen=True)
class Figure:
    label: str
    value: Decimal
    cell_ids: tuple[str, ...]  # the model cells this number is (or adds up)


@dataclass
class GraphicData:
    title: str
    unit: str
    year: int
    draft: bool
    active_heading: str
    active: list[Figure] = field(default_factory=list)  # table 二, one tile per number
    requests_heading: str = ""
    inflow: list[Figure] = field(default_factory=list)  # 一、新收 and 二、上年结转
    results: list[Figure] = field(default_factory=list)  # 三、办理结果 by kind
    results_total: Figure | None = None
    outflow: list[Figure] = field(default_factory=list)  # 四、结转下年度
    cases_heading: str = ""
    cases: list[tuple[str, Figure | None, list[Figure]]] = field(default_factory=list)  # group, total, results


def _number(text: str) -> Decimal:
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _labels_of_row(grid: TableGrid, row: int) -> list[str]:
    cells = sorted((c for c in grid.cells if c.role == "label" and c.row <= row <= c.last_row), key=lambda c: c.col)
    return [c.text for c in cells if c.text]


def _headers_of_col(grid: TableGrid, row: int, col: int) -> list[str]:
    """Header texts over ``col`` in the header rows just above ``row`` (nearest block first)."""
    found: list[str] = []
    for r in range(row - 1, -1, -1):
        if grid.row_kinds[r] == "body":
            if found:
                break
            continue
        if grid.row_kinds[r] == "title":
            break
        for c in grid.cells:
            if c.role == "header" and c.row == r and c.col <= col <= c.last_col and c.text:
                found.insert(0, c.text)
    return found


def graphic_data(doc: ReportDocument) -> GraphicData:
    tables = {t.table_id: t for t in doc.tables}
    if not {"t2", "t3", "t4"} <= set(tables):
        raise NianbaoError(f"格式 {doc.format_key} 没有表二至表四，无法生成一图读懂")
    data = GraphicData(doc.display_title, doc.unit, doc.year, doc.draft, tables["t2"].heading)
    _active(tables["t2"], data)
    _requests(tables["t3"], data)
    _cases(tables["t4"], data)
    return data


def _active(grid: TableGrid, data: GraphicData) -> None:
    for c in sorted((c for c in grid.cells if c.role == "number"), key=lambda c: (c.row, c.col)):
        row_label = "".join(_labels_of_row(grid, c.row))
        headers = _headers_of_col(grid, c.row, c.col)
        label = f"{row_label}·{headers[-1]}" if headers else row_label
        data.active.append(Figure(label, _number(c.text), (c.cell_id or "",)))


def _requests(grid: TableGrid, data: GraphicData) -> None:
    data.requests_heading = grid.heading
    total_col = max(c.col for c in grid.cells if c.role == "number")  # 总计 is the last column
    rows = sorted((c for c in grid.cells if c.role == "number" and c.col == total_col), key=lambda c: c.row)
    kinds: dict[str, list] = {}
    order: list[str] = []
    for c in rows:
        labels = _labels_of_row(grid, c.row)
        value, ids = _number(c.text), (c.cell_id or "",)
        if len(labels) == 1:  # a top-level row: 一、 二、 before the results, 四、 after
            (data.outflow if data.results or kinds else data.inflow).append(Figure(labels[0], value, ids))
            continue
        kind = labels[1]
        if c.cell_id and c.cell_id.split(".")[1] == "total":
            data.results_total = Figure(kind, value, ids)
            continue
        if kind not in kinds:
            kinds[kind] = []
            order.append(kind)
        kinds[kind].append(c)
    for kind in order:
        cells = kinds[kind]
        data.results.append(Figure(kind, sum((_number(c.text) for c in cells), Decimal(0)),
                                   tuple(c.cell_id or "" for c in cells)))


def _cases(grid: TableGrid, data: GraphicData) -> None:
    data.cases_heading = grid.heading
    groups: dict[str, tuple[list[Figure], list[Figure | None]]] = {}
    for c in sorted((c for c in grid.cells if c.role == "number"), key=lambda c: c.col):
        headers = _headers_of_col(grid, c.row, c.col)
        if len(headers) < 2:
            continue
        group, leaf = headers[-2], headers[-1]
        figures, total = groups.setdefault(group, ([], [None]))
        figure = Figure(leaf, _number(c.text), (c.cell_id or "",))
        if c.cell_id and c.cell_id.endswith("total"):
            total[0] = figure
        else:
            figures.append(figure)
    data.cases = [(group, total[0], figures) for group, (figures, total) in groups.items()]


# ------------------------------------------------------------------------------- drawing

def show(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


# Where fontconfig cannot be asked (Windows, macOS), the usual system faces of the same style.
SERIF_FALLBACKS = ("Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", "STSong")
SANS_FALLBACKS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "PingFang SC",
                  "WenQuanYi Zen Hei")
FONT_HINT = "apt-get install fonts-noto-cjk"


class _Faces:
    def __init__(self) -> None:
        from matplotlib.font_manager import FontProperties

        sc_font_copies()  # the SC faces as single files (fonts.py), which matplotlib can read
        self.serif_bold = self._load(FontProperties, SERIF_FALLBACKS, True)
        self.sans = self._load(FontProperties, SANS_FALLBACKS, False)
        self.sans_bold = self._load(FontProperties, SANS_FALLBACKS, True)

    @staticmethod
    def _load(props, families: tuple[str, ...], bold: bool):
        # The names go into the SVG's font-family (its text stays text), the file draws PNG and PDF.
        names = dict(family=list(families), weight="bold" if bold else "normal")
        path = _cached_file(families[0], bold) or font_file(families[0], bold)
        if path is not None:
            return props(fname=path, **names)
        from matplotlib import font_manager

        for family in families[1:]:
            try:
                found = font_manager.findfont(props(family=family, weight="bold" if bold else "normal"),
                                              fallback_to_default=False)
            except ValueError:
                continue
            return props(fname=found, **names)
        raise NianbaoError(f"未找到简体中文字体（{families[0]} 等），无法生成一图读懂。请先安装：{FONT_HINT}",
                           code="NO-CJK-FONT")


def _cached_file(family: str, bold: bool) -> str | None:
    folder, _ = sc_font_copies()
    stem = family.replace(" ", "").replace("CJKSC", "CJKsc") + ("-Bold" if bold else "-Regular")
    found = sorted(folder.glob(f"{stem}-*.otf")) if folder.is_dir() else []
    return str(found[-1]) if found else None


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def render(data: GraphicData, outputs: dict[str, Path]) -> None:
    """Draw the page once and save it to each of ``outputs`` (svg/png/pdf → path)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    faces = _Faces()
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 3, "axes.unicode_minus": False}):
        fig = plt.figure(figsize=PAGE_INCHES)
        try:
            _draw(fig, data, faces, FancyBboxPatch, FancyArrowPatch)
            for ext, path in outputs.items():
                fig.savefig(path, format=ext, dpi=PNG_DPI if ext == "png" else 72,
                            metadata=_metadata(data, ext))
        finally:
            plt.close(fig)


def _metadata(data: GraphicData, ext: str) -> dict:
    if ext == "png":
        return {"Title": f"{data.title}{TITLE}", "Software": "nianbao"}
    if ext == "pdf":
        return {"Title": f"{data.title}{TITLE}", "Creator": "nianbao"}
    return {"Title": f"{data.title}{TITLE}"}


def _box(fig, Box, x, y, w, h, color, edge=None):
    fig.patches.append(Box((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.012", transform=fig.transFigure,
                           facecolor=color, edgecolor=edge or color, linewidth=1.2))


def _heading(fig, Box, faces, y, text):
    _box(fig, Box, 0.05, y - 0.012, 0.9, 0.036, RED)
    fig.text(0.07, y + 0.006, text, fontproperties=faces.sans_bold, fontsize=15, color="white", va="center")


def _draw(fig, data: GraphicData, faces: _Faces, Box, Arrow) -> None:
    # Header band: 一图读懂 and the report's own title.
    _box(fig, Box, 0.0, 0.885, 1.0, 0.115, RED)
    fig.text(0.5, 0.955, TITLE, fontproperties=faces.serif_bold, fontsize=34, color="white", ha="center", va="center")
    fig.text(0.5, 0.908, data.title, fontproperties=faces.serif_bold, fontsize=15, color="white", ha="center",
             va="center")
    if data.draft:
        fig.text(0.5, 0.5, DRAFT_MARK, fontproperties=faces.sans_bold, fontsize=120, color=RED, alpha=0.15,
                 ha="center", va="center", rotation=30)

    # 二、主动公开: one tile per number, four to a row.
    _heading(fig, Box, faces, 0.845, data.active_heading)
    cols, tile_w, tile_h, gap = 4, 0.21, 0.075, 0.02
    for i, figure in enumerate(data.active):
        r, c = divmod(i, cols)
        x, y = 0.05 + c * (tile_w + (0.9 - cols * tile_w) / (cols - 1)), 0.74 - r * (tile_h + gap)
        _box(fig, Box, x, y, tile_w, tile_h, LIGHT, RED)
        fig.text(x + tile_w / 2, y + tile_h * 0.66, show(figure.value), fontproperties=faces.sans_bold, fontsize=20,
                 color=RED, ha="center", va="center", gid=f"n-{i}")
        fig.text(x + tile_w / 2, y + tile_h * 0.26, _wrap(figure.label, 14), fontproperties=faces.sans, fontsize=7.5,
                 color=GREY, ha="center", va="center", linespacing=1.2)
    rows_used = -(-len(data.active) // cols)
    y_top = 0.74 - (rows_used - 1) * (tile_h + gap) - 0.05

    # 三、依申请: received + carried over → results by kind → carried forward.
    _heading(fig, Box, faces, y_top, data.requests_heading)
    band_top, band_bottom = y_top - 0.03, y_top - 0.30
    _flow_boxes(fig, Box, faces, data.inflow, 0.05, band_top, band_bottom)
    _flow_boxes(fig, Box, faces, data.outflow, 0.74, band_top, band_bottom)
    ax = fig.add_axes((0.46, band_bottom + 0.01, 0.22, band_top - band_bottom - 0.045))
    labels = [_wrap(f.label, 8) for f in data.results]
    values = [float(f.value) for f in data.results]
    ax.barh(range(len(values)), values, color=RED, height=0.6)
    ax.set_yticks(range(len(values)), labels, fontproperties=faces.sans, fontsize=7, linespacing=1.1)
    ax.invert_yaxis()
    top = max(values + [1.0])
    ax.set_xlim(0, top * 1.25)
    for i, f in enumerate(data.results):
        ax.text(float(f.value) + top * 0.03, i, show(f.value), fontproperties=faces.sans_bold, fontsize=9,
                color=DARK, va="center")
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.set_visible(False)
    if data.results_total is not None:
        fig.text(0.50, band_top - 0.02, f"{data.results_total.label}：{show(data.results_total.value)}",
                 fontproperties=faces.sans_bold, fontsize=10, color=DARK, ha="center", va="center")
    for x0, x1 in ((0.265, 0.30), (0.70, 0.735)):
        fig.patches.append(Arrow((x0, (band_top + band_bottom) / 2), (x1, (band_top + band_bottom) / 2),
                                 transform=fig.transFigure, arrowstyle="-|>", mutation_scale=18, color=RED,
                                 linewidth=2))

    # 四、复议、诉讼: one group per kind of case, its results as bars and its total.
    y4 = band_bottom - 0.035
    _heading(fig, Box, faces, y4, data.cases_heading)
    n = max(len(data.cases), 1)
    width = 0.9 / n
    for i, (group, total, figures) in enumerate(data.cases):
        x = 0.05 + i * width
        head = group if total is None else f"{group}（{total.label} {show(total.value)}）"
        fig.text(x + width / 2, y4 - 0.04, _wrap(head, 17), fontproperties=faces.sans_bold, fontsize=10,
                 color=DARK, ha="center", va="center")
        ax = fig.add_axes((x + 0.03, 0.05, width - 0.06, y4 - 0.12))
        vals = [float(f.value) for f in figures]
        ax.bar(range(len(vals)), vals, color=RED, width=0.6)
        ax.set_xticks(range(len(vals)), [_wrap(f.label, 2) for f in figures], fontproperties=faces.sans, fontsize=8)
        top = max(vals + [1.0])
        ax.set_ylim(0, top * 1.3)
        for j, f in enumerate(figures):
            ax.text(j, float(f.value) + top * 0.04, show(f.value), fontproperties=faces.sans_bold, fontsize=10,
                    color=DARK, ha="center")
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.yaxis.set_visible(False)


def _flow_boxes(fig, Box, faces, figures, x, top, bottom) -> None:
    if not figures:
        return
    gap = 0.015
    h = (top - bottom - gap * (len(figures) - 1)) / len(figures)
    for i, f in enumerate(figures):
        y = top - (i + 1) * h - i * gap
        _box(fig, Box, x, y, 0.21, h, LIGHT, RED)
        fig.text(x + 0.105, y + h * 0.62, show(f.value), fontproperties=faces.sans_bold, fontsize=24, color=RED,
                 ha="center", va="center")
        fig.text(x + 0.105, y + h * 0.25, _wrap(f.label, 9), fontproperties=faces.sans, fontsize=8, color=GREY,
                 ha="center", va="center", linespacing=1.2)


def write_graphic(doc: ReportDocument, outputs: dict[str, Path]) -> None:
    render(graphic_data(doc), outputs)
