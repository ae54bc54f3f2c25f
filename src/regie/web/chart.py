"""Trend charts as server-made SVG (see docs/decisions/0002-charts.md).

No script and no inline style: colours and sizes come from classes in the stylesheet,
so the Content-Security-Policy (``style-src 'self'``) holds. Every chart is shown
with a table of the same values next to it, for screen readers and for exact reading.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Callable

from markupsafe import Markup

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 30, 40


@dataclass
class Point:
    when: datetime
    value: Decimal
    out_of_range: bool = False
    self_measured: bool = False
    label: str = ""


@dataclass
class Series:
    name: str
    unit: str
    points: list[Point] = field(default_factory=list)
    low: Decimal | None = None
    high: Decimal | None = None


def moment_of(sort_key: str) -> datetime | None:
    """A datetime from a record sort key (``2024-06-00T00:00:00`` counts as 1 June)."""
    if not sort_key:
        return None
    text = sort_key[:19].replace("-00", "-01")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    span = high - low
    raw = span / max(1, count - 1)
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = (low // step) * step
    ticks = []
    value = start
    while value <= high + step * 0.001:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float, number: Callable[[str], str]) -> str:
    text = f"{value:.10g}"
    return number(text)


def render_svg(series: list[Series], *, title: str, description: str, number: Callable[[str], str],
               date_label: Callable[[datetime], str], self_label: str, out_label: str) -> Markup:
    """One chart; at most two units (left and right axis)."""
    units: list[str] = []
    for s in series:
        if s.unit not in units:
            units.append(s.unit)
    units = units[:2]
    shown = [s for s in series if s.unit in units and s.points]
    if not shown:
        return Markup("")
    moments = [p.when for s in shown for p in s.points]
    start, end = min(moments), max(moments)
    if start == end:
        start = start.replace(year=start.year - 1) if start.month == 1 and start.day == 1 else start
    total = (end - start).total_seconds() or 86400.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(moment: datetime) -> float:
        if end == start:
            return LEFT + plot_w / 2
        return LEFT + (moment - start).total_seconds() / total * plot_w

    scales: dict[str, tuple[float, float, list[float]]] = {}
    for unit in units:
        values = [float(p.value) for s in shown if s.unit == unit for p in s.points]
        values += [float(b) for s in shown if s.unit == unit for b in (s.low, s.high) if b is not None]
        ticks = _nice_ticks(min(values), max(values))
        scales[unit] = (ticks[0], ticks[-1], ticks)

    def y_of(unit: str, value: float) -> float:
        low, high, _ = scales[unit]
        return TOP + plot_h - (value - low) / ((high - low) or 1) * plot_h

    out: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>',
    ]
    # Reference ranges as bands (behind everything).
    for index, s in enumerate(shown):
        if s.low is None and s.high is None:
            continue
        low_v = float(s.low) if s.low is not None else scales[s.unit][0]
        high_v = float(s.high) if s.high is not None else scales[s.unit][1]
        y1, y2 = y_of(s.unit, high_v), y_of(s.unit, low_v)
        out.append(f'<rect class="band band-{index % 4}" x="{LEFT}" y="{y1:.1f}" width="{plot_w}" '
                   f'height="{max(1.0, y2 - y1):.1f}"/>')
    # Grid and axes.
    left_unit = units[0]
    for tick in scales[left_unit][2]:
        y = y_of(left_unit, tick)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(tick, number))}</text>')
    out.append(f'<text class="axis-unit" x="{LEFT - 6}" y="{TOP - 14}" text-anchor="end">{escape(left_unit)}</text>')
    if len(units) > 1:
        right_unit = units[1]
        for tick in scales[right_unit][2]:
            y = y_of(right_unit, tick)
            out.append(f'<text class="tick" x="{LEFT + plot_w + 6}" y="{y + 4:.1f}">{escape(_fmt(tick, number))}</text>')
        out.append(f'<text class="axis-unit" x="{LEFT + plot_w + 6}" y="{TOP - 14}">{escape(right_unit)}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    labels = 5 if end != start else 1
    for i in range(labels):
        moment = start + (end - start) * (i / max(1, labels - 1)) if labels > 1 else start
        x = x_of(moment)
        anchor = "start" if i == 0 and labels > 1 else "end" if i == labels - 1 and labels > 1 else "middle"
        out.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 14}" text-anchor="{anchor}">{escape(date_label(moment))}</text>')
    # Lines and points.
    for index, s in enumerate(shown):
        coords = [(x_of(p.when), y_of(s.unit, float(p.value)), p) for p in sorted(s.points, key=lambda p: p.when)]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            out.append(f'<polyline class="line series-{index % 4}" points="{path}"/>')
        for x, y, p in coords:
            classes = f"point series-{index % 4}" + (" out" if p.out_of_range else "")
            label = escape(p.label)
            extra = []
            if p.self_measured:
                extra.append(self_label)
            if p.out_of_range:
                extra.append(out_label)
            tip = label + (f" ({escape(', '.join(extra))})" if extra else "")
            if p.self_measured:
                out.append(f'<rect class="{classes}" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10"><title>{tip}</title></rect>')
            else:
                out.append(f'<circle class="{classes}" cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{tip}</title></circle>')
            if p.out_of_range:
                out.append(f'<circle class="ring" cx="{x:.1f}" cy="{y:.1f}" r="9"/>')
    out.append("</svg>")
    return Markup("".join(out))
