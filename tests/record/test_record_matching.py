"""match_key: the same thing from two sources groups; different things never do."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from regie.record import (
    Category, Coding, Component, FhirDate, Quantity, RecordItem, item_from_dict, item_to_dict,
    match_key,
)

LOINC = "http://loinc.org"


def _result(**kw: object) -> RecordItem:
    base = RecordItem(
        kind="Observation/laboratory", category=Category.RESULTS, title="Hb",
        resource_type="Observation", resource_id="a",
        codes=(Coding(LOINC, "718-7", "Hemoglobine"),),
        date=FhirDate.parse("2024-03-01T10:15:00+01:00"),
        value=Quantity(Decimal("8.5"), "mmol/L", "http://unitsofmeasure.org", "mmol/L"),
    )
    return replace(base, **kw)


def test_same_lab_result_from_two_sources_matches() -> None:
    a = _result()
    b = _result(resource_id="other", title="Hemoglobine",
                codes=(Coding("urn:oid:2.16.840.1.113883.6.1", "718-7"),
                       Coding("urn:oid:1.2.3", "HB")),
                date=FhirDate.parse("2024-03-01T09:15:00Z"),  # same instant in UTC
                value=Quantity(Decimal("8.50"), "mmol/l", None, "mmol/L"))
    assert match_key(a) is not None and match_key(a) == match_key(b)


def test_different_results_do_not_match() -> None:
    a = _result()
    assert match_key(a) != match_key(_result(value=Quantity(Decimal("8.6"), "mmol/L", None,
                                                            "mmol/L")))
    assert match_key(a) != match_key(_result(date=FhirDate.parse("2024-03-01T10:16:00+01:00")))
    assert match_key(a) != match_key(_result(codes=(Coding(LOINC, "4548-4"),)))
    assert match_key(_result(date=FhirDate.parse("2024-03-01"))) is None  # day only: too vague
    assert match_key(_result(codes=())) is None
    assert match_key(_result(value=None)) is None


def test_blood_pressure_components_are_part_of_the_key() -> None:
    def bp(sys_: str, dia: str) -> RecordItem:
        return _result(category=Category.VITAL_SIGNS, codes=(Coding(LOINC, "85354-9"),),
                       value=None, components=(
                           Component("sys", (Coding(LOINC, "8480-6"),),
                                     Quantity(Decimal(sys_), "mm[Hg]", None, "mm[Hg]")),
                           Component("dia", (Coding(LOINC, "8462-4"),),
                                     Quantity(Decimal(dia), "mm[Hg]", None, "mm[Hg]"))))
    assert match_key(bp("120", "80")) == match_key(bp("120", "80"))
    assert match_key(bp("120", "80")) != match_key(bp("120", "81"))


def _med(kind: str, day: str, code: str = "12345") -> RecordItem:
    return RecordItem(kind=kind, category=Category.MEDICATION, title="Paracetamol",
                      resource_type=kind.split("/")[0],
                      codes=(Coding("urn:oid:2.16.840.1.113883.2.4.4.10", code),),
                      date=FhirDate.parse(day))


def test_medication_from_gp_and_pharmacy() -> None:
    gp = _med("MedicationRequest/medication-agreement", "2024-01-05T09:00:00+01:00")
    pharmacy = _med("MedicationRequest/medication-agreement", "2024-01-05")
    assert match_key(gp) == match_key(pharmacy)
    dispense = _med("MedicationDispense/dispense", "2024-01-05")
    assert match_key(gp) != match_key(dispense)
    assert match_key(gp) != match_key(_med("MedicationRequest/medication-agreement",
                                           "2024-01-06"))
    assert match_key(gp) != match_key(_med("MedicationRequest/medication-agreement",
                                           "2024-01-05", code="999"))


def test_vaccination_needs_day() -> None:
    def vac(day: str) -> RecordItem:
        return RecordItem(kind="Immunization", category=Category.IMMUNIZATIONS, title="BMR",
                          resource_type="Immunization", codes=(Coding(
                              "http://snomed.info/sct", "871831003"),),
                          date=FhirDate.parse(day))
    assert match_key(vac("2021-06-15")) == match_key(vac("2021-06-15T10:00:00+02:00"))
    assert match_key(vac("2021-06-15")) != match_key(vac("2021-06-16"))
    assert match_key(vac("2021")) is None


def test_never_grouped_categories() -> None:
    item = RecordItem(kind="Observation/journal-E", category=Category.JOURNAL, title="E",
                      resource_type="Observation", codes=(Coding("x", "E"),),
                      date=FhirDate.parse("2024-01-01"))
    assert match_key(item) is None
    episode = RecordItem(kind="EpisodeOfCare", category=Category.PROBLEMS, title="x",
                         resource_type="EpisodeOfCare", codes=(Coding("x", "y"),))
    assert match_key(episode) is None


def test_serialise_round_trip() -> None:
    item = _result(reference_ranges=(), interpretation=(Coding("x", "H"),))
    assert item_from_dict(item_to_dict(item)) == item


def test_partial_dates_sort() -> None:
    dates = [FhirDate.parse(t) for t in ("2020-07-14", "2020", "2020-07",
                                         "2020-07-14T12:00:00+02:00")]
    assert all(d is not None for d in dates)
    ordered = sorted(dates, key=lambda d: d.sort_key)  # type: ignore[union-attr]
    assert [d.text for d in ordered] == ["2020", "2020-07", "2020-07-14",  # type: ignore[union-attr]
                                         "2020-07-14T12:00:00+02:00"]
    assert FhirDate.parse("14-07-2020") is None
