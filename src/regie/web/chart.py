"""Trend charts drawn by the vendored Chart.js (see docs/decisions/0002-charts.md).

The server writes the chart's data as a JSON data block (``<script type="application/json">``,
which a browser never runs, so the Content-Security-Policy holds) next to an empty canvas;
``static/chart-1.js`` reads it and draws with ``static/vendor/chart-4.6.1.umd.min.js``.
Without JavaScript the chart box stays hidden and the table every caller shows under the
chart carries the same values (also the alternative for screen readers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from itertools import count

import orjson
from markupsafe import Markup, escape

#: The scripts a chart needs, in order; deferred, so they run after the page is parsed.
SCRIPTS = ("/static/vendor/chart-4.6.1.umd.min.js", "/static/chart-1.js")
_ids = count(1)


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


def _epoch_ms(moment: datetime) -> int:
    """Wall-clock time as if UTC: the chart shows the dates the page shows, whatever the browser's zone."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def chart_data(series: list[Series], *, title: str, band_label: str, self_label: str, out_label: str,
               scale: tuple[Decimal, Decimal] | None = None) -> dict:
    """What ``chart-1.js`` draws: at most two units (left and right axis); the table has everything."""
    units: list[str] = []
    for s in series:
        if s.points and s.unit not in units:
            units.append(s.unit)
    units = units[:2]
    shown = [s for s in series if s.points and s.unit in units]
    return {
        "title": title,
        "units": units,
        "scale": [float(scale[0]), float(scale[1])] if scale else None,
        "labels": {"band": band_label, "self": self_label, "out": out_label},
        "series": [{
            "name": s.name, "unit": s.unit, "axis": units.index(s.unit),
            "self": all(p.self_measured for p in s.points),
            "low": _number(s.low), "high": _number(s.high),
            "points": [{"x": _epoch_ms(p.when), "y": float(p.value), "out": p.out_of_range,
                        "self": p.self_measured, "label": p.label}
                       for p in sorted(s.points, key=lambda p: p.when)],
        } for s in shown],
    }


def render_chart(series: list[Series], *, title: str, description: str, band_label: str, self_label: str,
                 out_label: str, scale: tuple[Decimal, Decimal] | None = None) -> Markup:
    """The chart box: a canvas described in words, its data, and the scripts that draw it.

    ``scale`` fixes the value axis (e.g. a 0-10 score) instead of a band."""
    data = chart_data(series, title=title, band_label=band_label, self_label=self_label, out_label=out_label,
                      scale=scale)
    if not data["series"]:
        return Markup("")
    number = next(_ids)
    # orjson escapes nothing HTML-special: "</script>" in a label must not end the data block.
    payload = (orjson.dumps(data).decode().replace("<", "\\u003c").replace(">", "\\u003e")
               .replace("&", "\\u0026"))
    scripts = "".join(f'<script src="{src}" defer></script>' for src in SCRIPTS)
    return Markup(
        f'<div class="chart-box" data-chart="chart-data-{number}" hidden>'
        f'<canvas role="img" aria-label="{escape(title)}. {escape(description)}"></canvas></div>'
        f'{_legend(data)}'
        f'<script type="application/json" id="chart-data-{number}">{payload}</script>{scripts}'
    )


def _legend(data: dict) -> Markup:
    """The chart's legend as text on the page (it wraps on a phone and is read aloud); the
    same colours and shapes as chart-1.js draws. Hidden with the chart when there is no script."""
    entries = []
    for index, s in enumerate(data["series"]):
        shape = " self" if s["self"] else ""
        unit = f" ({escape(s['unit'])})" if s["unit"] else ""
        entries.append(f'<li><span class="swatch series-{index % 4}{shape}" aria-hidden="true"></span>'
                       f'{escape(s["name"])}{unit}</li>')
    labels = data["labels"]
    banded = [(index, s) for index, s in enumerate(data["series"]) if s["low"] is not None or s["high"] is not None]
    for index, s in banded if labels["band"] else ():
        # One entry per band, in its own colour, named after its test when there are several.
        text = f'{labels["band"]} ({s["name"]})' if len(banded) > 1 else labels["band"]
        entries.append(f'<li><span class="swatch band band-{index % 4}" aria-hidden="true"></span>'
                       f'{escape(text)}</li>')
    if labels["out"] and any(p["out"] for s in data["series"] for p in s["points"]):
        entries.append(f'<li><span class="swatch ring" aria-hidden="true"></span>{escape(labels["out"])}</li>')
    return Markup(f'<ul class="legend chart-legend" hidden>{"".join(entries)}</ul>')


__all__ = ["Point", "SCRIPTS", "Series", "chart_data", "moment_of", "render_chart"]
