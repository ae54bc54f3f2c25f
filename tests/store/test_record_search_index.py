"""The encrypted search index (regie.store.record_search): text search and trend pages find
exactly what decrypting every row finds, while decrypting only the candidate rows; stale
entries never show; small segments are merged; the reindex builds it. Both databases."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.record import RecordRepository
from regie.store.record_models import RecordReindexPending, RecordSearchSegment
from regie.store.record_queries import Filters, RecordQueries
from regie.store.record_reindex import reindex_pending
from tests.fhir.fixtures import SKIP_REASON, available
from tests.store.record_helpers import import_standard, new_user, resolve_into, service_for

LOINC = "http://loinc.org"


def _lab(rid: str, code: str, name: str, value: float, day: int, status: str = "final") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": status, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": LOINC, "code": code, "display": name}]},
            "effectiveDateTime": f"2024-03-{day:02d}T09:00:00+01:00",
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}


def _bp(rid: str, day: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Bloeddruk"}]},
            "effectiveDateTime": f"2024-04-{day:02d}T08:00:00+01:00",
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolisch"}]},
                 "valueQuantity": {"value": 120 + day, "unit": "mm[Hg]"}},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolisch"}]},
                 "valueQuantity": {"value": 80, "unit": "mm[Hg]"}}]}


def _note(rid: str, text: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "code": {"text": text}, "onsetDateTime": "2023-05-01",
            "subject": {"reference": "Patient/p1"},
            "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">Verslag: {text}</div>'}}


def _store(service, keys, name: str, *resources: dict[str, Any]) -> None:
    data = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    outcome = service.import_bytes(keys, orjson.dumps(data), name=name, source=name,
                                   fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error


class _Counting:
    """Counts rows decrypted for lists (the cost the index saves)."""

    def __init__(self, repo: RecordRepository, monkeypatch) -> None:
        self.count = 0
        real = repo._decrypt_record_if

        def counted(*args):
            self.count += 1
            return real(*args)

        monkeypatch.setattr(repo, "_decrypt_record_if", counted)


def _search(service, keys, needle: str, *, without_index: bool = False, **filters) -> list[str]:
    with service.open(keys) as repo:
        if without_index:
            repo.search_index = lambda: None  # what a user waiting for the reindex gets
        items, cursor = RecordQueries(repo).items(Filters(q=needle, **filters), limit=1000)
        assert cursor is None
        return [item["id"] for item in items]


@pytest.fixture
def record(db: Database):
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    labs = [_lab(f"hb-{i}", "718-7", "Hemoglobine", 8.0 + i / 10, i + 1) for i in range(20)]
    labs += [_lab(f"gl-{i}", "14749-6", "Glucose nuchter", 5.0 + i / 10, i + 1) for i in range(10)]
    labs.append(_lab("gl-x", "14749-6", "Glucose nuchter", 99, 28, status="entered-in-error"))
    _store(service, keys, "lab.json", *labs)
    _store(service, keys, "bp.json", *[_bp(f"bp-{i}", i + 1) for i in range(5)])
    _store(service, keys, "notes.json", _note("c1", "Hoofdpijn na de STRASSE-oversteek"),
           _note("c2", "Rugpijn"), _note("c3", "Astma"))
    return service, keys, keyring


NEEDLES = ["hemoglobine", "GLUCOSE", "glucose n", "pijn", "straße", "verslag: rug", "mmol", "718-7",
           "niets-dat-er-is", "2024-03-05", "\x1f"]


def test_text_search_finds_what_reading_every_row_finds(record) -> None:
    service, keys, _ = record
    for needle in NEEDLES:
        assert _search(service, keys, needle) == _search(service, keys, needle, without_index=True), needle
    assert len(_search(service, keys, "hemoglobine")) == 20
    assert len(_search(service, keys, "glucose")) == 10  # the withdrawn one is left out
    assert len(_search(service, keys, "straße")) == 1  # casefolded: STRASSE
    assert _search(service, keys, "pijn", category="problems") == _search(service, keys, "pijn")


def test_search_decrypts_only_candidate_rows(record, monkeypatch) -> None:
    service, keys, _ = record
    with service.open(keys) as repo:
        counting = _Counting(repo, monkeypatch)
        items, _ = RecordQueries(repo).items(Filters(q="rugpijn"), limit=50)
        assert [i["title"] for i in items] == ["Rugpijn"] and counting.count == 1
        items, _ = RecordQueries(repo).items(Filters(q="niets-dat-er-is"), limit=50)
        assert items == [] and counting.count == 1
        repo.search_index = lambda: None
        RecordQueries(repo).items(Filters(q="niets-dat-er-is"), limit=50)
        assert counting.count > 30  # without the index: every row


def test_a_changed_resource_is_found_by_its_new_text_only(record) -> None:
    service, keys, _ = record
    _store(service, keys, "notes.json", _note("c1", "Migraine"), _note("c2", "Rugpijn"), _note("c3", "Astma"))
    assert _search(service, keys, "hoofdpijn") == []  # the old text is still in an older segment
    assert len(_search(service, keys, "migraine")) == 1
    for needle in ("hoofdpijn", "migraine", "pijn"):
        assert _search(service, keys, needle) == _search(service, keys, needle, without_index=True)


def test_small_segments_are_merged(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    for i in range(40):
        _store(service, keys, f"file-{i}.json", _note(f"n{i}", f"Klacht nummer {i}"))
    with db.session() as session:
        segments = session.scalar(select(func.count()).select_from(RecordSearchSegment)
                                  .where(RecordSearchSegment.user_id == keys.user_id))
    assert segments <= RecordRepository._SMALL_SEGMENTS + 1
    assert len(_search(service, keys, "klacht nummer")) == 40
    assert len(_search(service, keys, "nummer 3")) == 11  # 3, 30-39


def test_trend_reads_only_the_rows_of_its_codes(record, monkeypatch) -> None:
    service, keys, _ = record
    with service.open(keys) as repo:
        queries = RecordQueries(repo)
        counting = _Counting(repo, monkeypatch)
        items, kinds = queries.trend(["8480-6"])  # a blood-pressure component
        assert len(items) == 5 and counting.count == 5
        codes = {c["code"] for k in kinds for c in k["codes"]}
        assert codes == {"718-7", "14749-6", "85354-9"}
        assert all(k["category"] in ("results", "vital_signs") for k in kinds)
        glucose, _ = queries.trend(["14749-6"])
        assert len(glucose) == 10  # not the withdrawn one
        repo.search_index = lambda: None
        everything, same_kinds = queries.trend(["14749-6"])
        assert len(everything) == 35 and everything == same_kinds  # without the index: all measurements


def test_a_user_waiting_for_the_reindex_searches_every_row_then_the_index(record, db: Database) -> None:
    service, keys, keyring = record
    with db.session() as session:  # as after migration 0022 for data stored before it
        session.execute(RecordSearchSegment.__table__.delete().where(RecordSearchSegment.user_id == keys.user_id))
        session.add(RecordReindexPending(user_id=keys.user_id))
    with service.open(keys) as repo:
        assert repo.search_index() is None
    assert len(_search(service, keys, "hemoglobine")) == 20  # still found, by reading every row
    reindex_pending(db, keyring)
    with service.open(keys) as repo:
        index = repo.search_index()
        assert index is not None and len(index.candidates("hemoglobine")) == 20
    for needle in NEEDLES:
        assert _search(service, keys, needle) == _search(service, keys, needle, without_index=True), needle


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_fixture_search_matches_reading_every_row(db: Database, tmp_path: Path) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    standard = "GenPractData-2-0"
    assert import_standard(service, keys, resolve_into(tmp_path, {standard})[standard], standard) == []
    for needle in ("hoofdpijn", "consult", "S", "e", "xx-geen", "mg", "2017"):
        assert _search(service, keys, needle) == _search(service, keys, needle, without_index=True), needle


def test_many_candidates_walk_the_date_index_and_page_alike(record, monkeypatch) -> None:
    from regie.store import record_queries

    service, keys, _ = record
    by_id = {needle: _search(service, keys, needle) for needle in NEEDLES}
    monkeypatch.setattr(record_queries, "_MAX_CANDIDATES_BY_ID", 1)  # every search takes the walk
    for needle in NEEDLES:
        assert _search(service, keys, needle) == by_id[needle], needle
    with service.open(keys) as repo:  # pages of 7 with a cursor give the same rows in the same order
        queries, cursor, paged = RecordQueries(repo), None, []
        while True:
            items, cursor = queries.items(Filters(q="mmol"), limit=7, cursor=cursor)
            paged += [i["id"] for i in items]
            if cursor is None:
                break
    assert paged == by_id["mmol"] and len(paged) == 30


def test_the_repository_page_of_the_api_uses_the_index_too(record, monkeypatch) -> None:
    service, keys, _ = record
    with service.open(keys) as repo:
        with_index = {n: [i["id"] for i in repo.page(q=n, limit=200)[0]] for n in NEEDLES}
        counting = _Counting(repo, monkeypatch)
        assert repo.page(q="rugpijn", limit=50)[0][0]["title"] == "Rugpijn" and counting.count == 1
        repo.search_index = lambda: None
        for needle in NEEDLES:
            assert [i["id"] for i in repo.page(q=needle, limit=200)[0]] == with_index[needle], needle
