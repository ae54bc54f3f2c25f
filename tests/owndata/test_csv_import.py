"""The CSV reader and row checks, with bounded property tests."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from regie.owndata import csv_import

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_dutch_export_with_semicolons_and_decimal_commas() -> None:
    data = "Datum;Tijd;Gewicht;Opmerking\n05-01-2026;08:30;72,5;na het ontbijt\n06-01-2026;8.15;800;\n07-01-2026;xx;71;\n".encode("cp1252")
    table = csv_import.read_table(data)
    mapping = csv_import.guess_mapping(table.headers, "body_weight")
    assert mapping == ["date", "clock", "value", "comment"]
    results = csv_import.check_rows(table, mapping, "body_weight", "kg", now=NOW)
    assert [r.line for r in results] == [2, 3, 4]
    assert results[0].measurement.values["value"] == Decimal("72.5") and results[0].measurement.comment == "na het ontbijt"
    assert "value" in results[1].errors and results[1].measurement is None  # 800 kg
    assert "time" in results[2].errors


def test_blood_pressure_columns_and_unusual_rows() -> None:
    data = b"time,sys,dia,pulse\n2026-01-05T08:30,128,82,60\n2026-01-05 20:00,250,40,70\n"
    table = csv_import.read_table(data)
    mapping = csv_import.guess_mapping(table.headers, "blood_pressure")
    assert mapping[:3] == ["time", "systolic", "diastolic"]
    plain = csv_import.check_rows(table, mapping, "blood_pressure", None, now=NOW)
    assert plain[0].measurement is not None and "systolic" in plain[1].errors
    confirmed = csv_import.check_rows(table, mapping, "blood_pressure", None, confirm_unusual=True, now=NOW)
    assert all(r.measurement is not None for r in confirmed)


def test_unreadable_files_are_refused_with_a_reason() -> None:
    for data in (b"", b"\n\n", b"a\x00b", b"x" * (csv_import.MAX_BYTES + 1)):
        try:
            csv_import.read_table(data)
        except csv_import.CsvError:
            continue
        raise AssertionError(data[:20])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_either_read_or_refused(data: bytes) -> None:
    try:
        table = csv_import.read_table(data)
    except csv_import.CsvError:
        return
    assert all(len(row) == len(table.headers) for row in table.rows)
    mapping = csv_import.guess_mapping(table.headers, "heart_rate")
    assert len(mapping) == len(table.headers)
    for result in csv_import.check_rows(table, mapping, "heart_rate", None, now=NOW):
        assert (result.measurement is None) == bool(result.errors)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=15)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.dates(min_value=datetime(1990, 1, 1).date(), max_value=datetime(2026, 5, 1).date()),
                          st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59),
                          st.decimals(min_value=Decimal("30"), max_value=Decimal("200"), places=1),
                          cells),
                min_size=1, max_size=30),
       st.sampled_from([",", ";", "\t"]))
def test_written_rows_read_back(rows, delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Datum", "Tijd", "Gewicht", "Opmerking"])
    for day, hour, minute, weight, note in rows:
        writer.writerow([day.strftime("%d-%m-%Y"), f"{hour:02d}:{minute:02d}", str(weight).replace(".", ","), note])
    table = csv_import.read_table(out.getvalue().encode())
    mapping = csv_import.guess_mapping(table.headers, "body_weight")
    assert mapping[:3] == ["date", "clock", "value"]
    results = csv_import.check_rows(table, mapping, "body_weight", "kg", confirm_unusual=True, now=NOW)
    kept = [r for r in rows if any(str(c).strip() for c in r)]
    assert len(results) == len(kept)
    for result, (day, hour, minute, weight, _) in zip(results, kept):
        assert result.measurement is not None, result.errors
        assert result.measurement.values["value"] == weight
        local = result.measurement.time.astimezone(csv_import.ZONE)
        assert (local.date(), local.hour, local.minute) == (day, hour, minute) or local.hour != hour  # DST gap


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=12))
def test_parse_when_never_raises(date_text: str, clock_text: str) -> None:
    moment = csv_import.parse_when(date_text, clock_text)
    assert moment is None or moment.tzinfo is not None
