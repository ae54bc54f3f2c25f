"""A printable summary for a visit to the doctor (PDF, made on the server with ReportLab).

The patient chooses the sections; measurements and results with numbers get a line
chart per kind (ReportLab's own chart drawing: vector graphics in the PDF, no image
library). Texts are the app's message ids, in the patient's language; what providers
wrote (titles, values) is shown as they wrote it.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from regie.record import Category
from regie.web.i18n import N_, translations

# reportlab is imported in the functions that draw: a few tenths of a second per process,
# and the web app imports this module for SECTIONS.
if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing

#: The sections a patient can choose, in print order.
SECTIONS: dict[str, str] = {
    Category.PROBLEMS.value: N_("Problems and episodes"),
    Category.MEDICATION.value: N_("Medication"),
    Category.ALLERGIES.value: N_("Allergies and intolerances"),
    Category.VITAL_SIGNS.value: N_("Measurements"),
    Category.RESULTS.value: N_("Test results"),
    Category.IMMUNIZATIONS.value: N_("Vaccinations"),
    Category.PROCEDURES.value: N_("Procedures"),
    Category.DEVICES.value: N_("Medical aids"),
    Category.DIARY.value: N_("Symptom diary"),
}
DEFAULT_SECTIONS = ("problems", "medication", "allergies", "vital_signs", "results")
MAX_ROWS = 40  # per section: a summary that fits a visit
MAX_CHARTS = 4  # per section
_BLUE = "#1d4f91"


def _number(item: dict[str, Any]) -> float | None:
    value = item.get("value") or {}
    if value.get("type") in ("quantity", "decimal", "integer") and value.get("value") is not None:
        try:
            return float(value["value"])
        except (TypeError, ValueError):
            return None
    return None


def _day(item: dict[str, Any]) -> date | None:
    text = item.get("date") or ""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _value_text(item: dict[str, Any]) -> str:
    value = item.get("value") or {}
    kind = value.get("type")
    if kind == "quantity" and value.get("value") is not None:
        return f"{value.get('comparator') or ''}{value['value']} {value.get('unit') or value.get('code') or ''}".strip()
    if kind == "coding":
        return value.get("display") or value.get("code") or ""
    if kind in ("text", "integer", "decimal", "date"):
        return str(value.get("value") or "")
    if kind == "boolean":
        return "✓" if value.get("value") else "-"
    parts = [f"{c.get('title')}: {(c.get('value') or {}).get('value', '')}" for c in item.get("components") or []]
    return ", ".join(p for p in parts if p.strip(": "))


def _chart(title: str, points: list[tuple[date, float]], unit: str, gettext: Callable[[str], str]) -> Drawing:
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    width, height = 170 * mm, 55 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, f"{title} ({unit})" if unit else title, fontName="Helvetica-Bold", fontSize=9))
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 30, 20, width - 45, height - 40
    start = min(d for d, _ in points).toordinal()
    plot.data = [[(d.toordinal() - start, v) for d, v in points]]
    plot.lines[0].strokeColor = colors.HexColor(_BLUE)
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3)
    plot.xValueAxis.labelTextFormat = lambda x: date.fromordinal(int(x) + start).strftime("%d-%m-%y")
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.fontSize = 7
    span = points[-1][0].toordinal() - start
    if span == 0:
        plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = -1, 1
    drawing.add(plot)
    return drawing


def _charts(items: list[dict[str, Any]], gettext: Callable[[str], str]) -> list[Drawing]:
    series: dict[str, list[tuple[date, float]]] = {}
    units: dict[str, str] = {}
    for item in items:
        number, day = _number(item), _day(item)
        if number is None or day is None:
            continue
        key = item.get("title") or "-"
        series.setdefault(key, []).append((day, number))
        units.setdefault(key, (item.get("value") or {}).get("unit") or "")
    out = []
    for key, points in sorted(series.items(), key=lambda kv: -len(kv[1])):
        if len(points) < 2:
            continue
        out.append(_chart(key, sorted(points), units[key], gettext))
        if len(out) >= MAX_CHARTS:
            break
    return out


def build_pdf(items: Iterable[tuple[dict[str, Any], str]], *, patient_name: str, birth_date: str | None,
              sections: Iterable[str], language: str, now: datetime) -> bytes:
    """The PDF. ``items``: (record item dict, source name), newest first."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    gettext = translations(language).gettext
    chosen = [s for s in SECTIONS if s in set(sections)]
    by_section: dict[str, list[tuple[dict[str, Any], str]]] = {s: [] for s in chosen}
    for item, source in items:
        section = item.get("category")
        if section not in by_section or item.get("status") == "entered-in-error":
            continue
        if section == "medication" and item.get("active") is False:
            continue  # current medication only
        by_section[section].append((item, source))

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=gettext("Summary for your doctor"), author="Regie",
                            lang=language)
    story: list[Any] = [
        Paragraph(escape(gettext("Summary for your doctor")), styles["Title"]),
        Paragraph(escape(f"{gettext('Name')}: {patient_name}"), styles["BodyText"]),
    ]
    if birth_date:
        story.append(Paragraph(escape(f"{gettext('Date of birth')}: {birth_date}"), styles["BodyText"]))
    story.append(Paragraph(escape(gettext("Made with Regie on {date}. Data as your care providers and you "
                                          "recorded it.").format(date=now.strftime("%d-%m-%Y %H:%M"))), small))
    story.append(Spacer(1, 6 * mm))
    for section in chosen:
        rows = by_section[section]
        story.append(Paragraph(escape(gettext(SECTIONS[section])), styles["Heading2"]))
        if not rows:
            story.append(Paragraph(escape(gettext("Nothing recorded.")), styles["BodyText"]))
            continue
        if section in ("vital_signs", "results"):
            for drawing in _charts([item for item, _ in rows], gettext):
                story.append(KeepTogether([drawing, Spacer(1, 3 * mm)]))
        header = [gettext("What"), gettext("Date"), gettext("Value or status"), gettext("Source")]
        data = [[Paragraph(f"<b>{escape(h)}</b>", small) for h in header]]
        for item, source in rows[:MAX_ROWS]:
            status = _value_text(item) or (gettext("active") if item.get("active") else "")
            data.append([Paragraph(escape(item.get("title") or "-"), small),
                         Paragraph(escape((item.get("date") or "")[:10]), small),
                         Paragraph(escape(status), small), Paragraph(escape(source), small)])
        table = Table(data, colWidths=[62 * mm, 22 * mm, 44 * mm, 46 * mm], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
        if len(rows) > MAX_ROWS:
            story.append(Paragraph(escape(gettext("And {count} more in Regie.").format(count=len(rows) - MAX_ROWS)),
                                   small))
        story.append(Spacer(1, 4 * mm))
    doc.build(story)
    return buffer.getvalue()
