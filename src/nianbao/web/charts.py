"""The overview's two charts as plain shapes, drawn as inline SVG by the templates (no script).

* submissions over time: received versions per day, cumulative, against the deadline;
* most common findings: one bar per code, units affected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 560, 180, 40, 28, 14


@dataclass
class TimeChart:
    width: int
    height: int
    points: str  # polyline points of the cumulative count
    dots: list[tuple[float, float, str]]  # x, y, tooltip
    deadline_x: float | None
    ticks_x: list[tuple[float, str]]
    ticks_y: list[tuple[float, str]]
    total_units: int
    summary: str  # the chart in one sentence, for screen readers and as its caption
    empty: bool = False


def time_chart(days: list[tuple[dt.date, int]], deadline: dt.date | None, total_units: int,
               today: dt.date | None = None) -> TimeChart:
    today = today or dt.date.today()
    plot_w, plot_h = WIDTH - PAD_LEFT - 10, HEIGHT - PAD_BOTTOM - PAD_TOP
    if not days:
        summary = "还没有收到任何单位的报送。" + (f"截止日期 {deadline.isoformat()}。" if deadline else "")
        return TimeChart(WIDTH, HEIGHT, "", [], None, [], [], total_units, summary, empty=True)
    start = min(days[0][0], deadline or days[0][0], today)
    end = max(days[-1][0], deadline or days[-1][0], today)
    span = max((end - start).days, 1)
    top = max(total_units, sum(n for _, n in days), 1)
    x = lambda d: PAD_LEFT + plot_w * (d - start).days / span
    y = lambda n: PAD_TOP + plot_h * (1 - n / top)
    running, pts, dots = 0, [f"{x(start):.1f},{y(0):.1f}"], []
    for day, n in days:
        pts.append(f"{x(day):.1f},{y(running):.1f}")
        running += n
        pts.append(f"{x(day):.1f},{y(running):.1f}")
        dots.append((x(day), y(running), f"{day.isoformat()}：收到 {n} 份，累计 {running} 份"))
    pts.append(f"{x(end):.1f},{y(running):.1f}")
    ticks_x = [(x(start), start.strftime("%m-%d")), (x(end), end.strftime("%m-%d"))]
    ticks_y = [(y(0), "0"), (y(top), str(top))]
    summary = f"共收到 {running} 份报送（{total_units} 个单位）"
    if deadline:
        summary += f"，截止日期 {deadline.isoformat()}"
    return TimeChart(WIDTH, HEIGHT, " ".join(pts), dots, x(deadline) if deadline else None, ticks_x, ticks_y,
                     total_units, summary + "。")


@dataclass
class Bar:
    label: str
    count: int
    code: str
    share: float  # bar length, 0–100, relative to the most common


@dataclass
class BarChart:
    bars: list[Bar] = field(default_factory=list)


def findings_chart(top: list[tuple[str, str, int]]) -> BarChart:
    most = max((n for _, _, n in top), default=1)
    return BarChart([Bar(text or code, n, code, 100 * n / most) for code, text, n in top])


__all__ = ["BarChart", "TimeChart", "findings_chart", "time_chart"]
