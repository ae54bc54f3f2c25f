"""Reading the chart data a page carries (the JSON data block that static/chart-1.js draws)."""
from __future__ import annotations

import re
from typing import Any

import orjson

_BOX = re.compile(r'<div class="chart-box" data-chart="([\w-]+)" hidden><canvas role="img" aria-label="[^"]+"></canvas></div>')


def chart_of(page: str) -> dict[str, Any] | None:
    """The first chart's data on the page, or None when the page has no chart."""
    box = _BOX.search(page)
    if box is None:
        return None
    block = re.search(rf'<script type="application/json" id="{box.group(1)}">(.*?)</script>', page, re.S)
    assert block, "a chart box without its data"
    return orjson.loads(block.group(1))
