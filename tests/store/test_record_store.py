"""The health record store: every fixture imports, counts match, re-import is idempotent,
failing files leave nothing, nothing medical is stored in plain text, users are separated."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.store.record_models import AuditEntry, RecordResource, RecordResourceVersion
from tests.fhir.fixtures import SKIP_REASON, available, load
from tests.store.record_helpers import (
    expected_counts,
    import_standard,
    new_user,
    resolve_into,
    service_for,
    version_of,
)

needs_fixtures = pytest.mark.skipif(not available(), reason=SKIP_REASON)
SMALL_STANDARD = "GenPractData-2-0"


def _by_source_type(service, keys) -> dict[str, Counter[str]]:
    """Stored resources per standard (source names are '<standard>/<file>') and type."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    with service.open(keys) as repo:
        rows = repo.session.execute(
            repo._select(RecordResource, RecordResource.source_id, RecordResource.resource_type)
        ).all()
        names = repo.source_names()
    for source_id, resource_type in rows:
        found[names[source_id].split("/")[0]][resource_type] += 1
    return found


@needs_fixtures
def test_every_fixture_imports_with_counts_per_standard(tmp_path: Path) -> None:
    """All standards on SQLite: zero errors, stored counts per type equal the files' resources."""
    db = Database(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    upgrade(db.engine)
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    files = resolve_into(tmp_path / "fixtures")
    errors = []
    for standard, paths in files.items():
        errors += import_standard(service, keys, paths, standard)
    assert errors == []
    found = _by_source_type(service, keys)
    assert set(found) == set(files)
    for standard in files:
        assert found[standard] == expected_counts(standard), standard
    with service.open(keys) as repo:
        summary = repo.summary()
    assert summary["resources"] == sum(sum(c.values()) for c in found.values())
    assert sum(summary["categories"].values()) == summary["resources"]
    assert len(summary["categories"]) >= 18
    db.dispose()


@needs_fixtures
def test_one_standard_imports_and_reimport_is_idempotent(db: Database, tmp_path: Path) -> None:
    """Both databases: one standard, counts match, importing again changes nothing."""
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    files = resolve_into(tmp_path / "fixtures", {SMALL_STANDARD})[SMALL_STANDARD]
    assert import_standard(service, keys, files, SMALL_STANDARD) == []
    first = _by_source_type(service, keys)
    assert first[SMALL_STANDARD] == expected_counts(SMALL_STANDARD)
    assert import_standard(service, keys, files, SMALL_STANDARD) == []
    assert _by_source_type(service, keys) == first
    with service.open(keys) as repo:
        assert repo.session.scalar(repo._select(RecordResourceVersion, RecordResourceVersion.id)) is None
        # a GP attention flag in another file of the same source marks its episode
        items, _ = repo.page(category="problems", limit=200)
    assert items


def _observation(value: str, rid: str = "bp-1") -> bytes:
    return orjson.dumps({
        "resourceType": "Observation", "id": rid, "status": "final",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]},
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Bloeddruk"}]},
        "effectiveDateTime": "2024-05-01T10:00:00+02:00",
        "valueString": value,
    })


def test_changed_resource_updates_in_place_and_keeps_the_previous_version(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    first = service.import_bytes(keys, _observation("eerste"), name="bp.json", source="self", channel="cli")
    assert first.ok and first.new == 1, first.error
    again = service.import_bytes(keys, _observation("eerste"), name="bp.json", source="self", channel="cli")
    assert again.ok and again.unchanged == 1 and again.new == 0
    changed = service.import_bytes(keys, _observation("tweede"), name="bp.json", source="self", channel="cli")
    assert changed.ok and changed.updated == 1
    with service.open(keys) as repo:
        assert repo.summary()["resources"] == 1
        items, _ = repo.page()
        assert len(items) == 1 and items[0]["value"]["value"] == "tweede"
        assert orjson.loads(repo.original(items[0]["id"]))["valueString"] == "tweede"
        previous = repo.previous_originals(items[0]["id"])
        assert [v for v, _ in previous] == [1]
        assert orjson.loads(previous[0][1])["valueString"] == "eerste"
        assert repo.detail(items[0]["id"])["provenance"]["previous_versions"] == 1
    # the same resource id from another source is another resource
    other = service.import_bytes(keys, _observation("eerste"), name="bp.json", source="huisarts", channel="cli")
    assert other.ok and other.new == 1
    with service.open(keys) as repo:
        summary = repo.summary()
        assert summary["resources"] == 2 and summary["sources"] == {"huisarts": 1, "self": 1}


def test_same_measurement_from_two_sources_is_one_item_with_both_sources(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    for source in ("huisarts", "ziekenhuis"):
        assert service.import_bytes(keys, _observation("120/80"), name="x.json", source=source, channel="cli").ok
    with service.open(keys) as repo:
        items, _ = repo.page()
        assert len(items) == 1 and items[0]["sources"] == ["huisarts", "ziekenhuis"]
        assert len(items[0]["group"]) == 1
        detail = repo.detail(items[0]["group"][0])
        assert detail["group"][0]["id"] == items[0]["id"]
        assert repo.summary()["resources"] == 2


@needs_fixtures
def test_a_bad_resource_leaves_the_record_unchanged_and_is_named(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    assert service.import_bytes(keys, _observation("goed"), name="good.json", source="self", channel="cli").ok
    with service.open(keys) as repo:
        before = repo.summary()
        audits = len(repo.audit_page(limit=200)[0])
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": orjson.loads(_observation("nieuw", "bp-2"))},
        {"resource": {**orjson.loads(_observation("fout", "bp-3")), "status": "bijna-klaar"}},
    ]}
    outcome = service.import_bytes(keys, orjson.dumps(bundle), name="bad.json", source="self", channel="cli")
    assert not outcome.ok
    assert "bad.json" in outcome.error and "Observation/bp-3" in outcome.error
    assert outcome.error_location and outcome.error_location.startswith("$.entry[1]")
    with service.open(keys) as repo:
        assert repo.summary() == before
        assert len(repo.audit_page(limit=200)[0]) == audits


def test_a_storage_failure_rolls_the_whole_file_back(db: Database, monkeypatch) -> None:
    from regie.store import record as record_module

    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": orjson.loads(_observation("een", "a"))},
        {"resource": orjson.loads(_observation("twee", "b"))},
    ]}
    original = record_module.RecordRepository._insert

    def failing_insert(self, model, rows):
        if model is record_module.AuditEntry:
            raise RuntimeError("disk full")
        return original(self, model, rows)

    monkeypatch.setattr(record_module.RecordRepository, "_insert", failing_insert)
    outcome = service.import_bytes(keys, orjson.dumps(bundle), name="b.json", channel="cli")
    assert not outcome.ok and "nothing from this file was kept" in outcome.error
    monkeypatch.undo()
    with service.open(keys) as repo:
        assert repo.summary()["resources"] == 0


def test_queries_are_scoped_to_the_user(db: Database) -> None:
    service, keyring = service_for(db)
    alice, bob = (service.keys(new_user(db, keyring)) for _ in range(2))
    assert service.import_bytes(alice, _observation("a"), name="a.json", channel="cli").ok
    with service.open(alice) as repo:
        item_id = repo.page()[0][0]["id"]
    with service.open(bob) as repo:
        assert repo.summary()["resources"] == 0
        assert repo.page() == ([], None)
        assert repo.detail(item_id) is None and repo.original(item_id) is None
    with db.session() as session:
        assert session.scalar(select(AuditEntry.user_id)) == alice.user_id


@needs_fixtures
def test_database_file_holds_no_medical_text(tmp_path: Path) -> None:
    """Names, BSNs, lab displays and values of a known fixture are only in ciphertext."""
    from regie.fhir import read_bytes

    path = "BgZ-3-0"
    db_file = tmp_path / "record.sqlite3"
    db = Database(f"sqlite:///{db_file}")
    upgrade(db.engine)
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    files = resolve_into(tmp_path / "fixtures", {path})[path]
    assert import_standard(service, keys, files, path) == []
    secrets_: set[str] = set()
    birth_dates: set[str] = set()
    for file in files:
        for res in read_bytes(file.read_bytes(), name=file.name, fhir_version=version_of(path)).resources:
            data = res.data
            if res.resource_type == "Patient":
                secrets_ |= {n["family"] for n in data.get("name", []) if n.get("family")}
                secrets_ |= {i["value"] for i in data.get("identifier", []) if "bsn" in i.get("system", "") and i.get("value")}
                if data.get("birthDate"):  # the item's date, never the plain sort_date
                    birth_dates.add(data["birthDate"])
            if res.resource_type == "Observation":
                secrets_ |= {c["display"] for c in data.get("code", {}).get("coding", [])
                             if len(c.get("display", "")) >= 8}
    assert len(secrets_) >= 5, secrets_
    assert birth_dates
    secrets_ |= birth_dates
    db.dispose()  # checkpoints the WAL into the main file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("record.sqlite3*"))
    # Also as the search index would hold them (casefolded), had it been left unencrypted.
    secrets_ |= {s.casefold() for s in secrets_}
    leaked = sorted(s for s in secrets_ if s.encode() in raw)
    assert leaked == []
    assert load  # the fixture loader resolved placeholders into tmp_path, not the project


def test_the_same_resource_twice_in_one_file_is_stored_once(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": orjson.loads(_observation("oud", "same"))},
        {"resource": orjson.loads(_observation("nieuw", "same"))},
    ]}
    outcome = service.import_bytes(keys, orjson.dumps(bundle), name="twice.json", channel="cli")
    assert outcome.ok and outcome.resources == 1, outcome.error
    with service.open(keys) as repo:
        items, _ = repo.page()
    assert [i["value"]["value"] for i in items] == ["nieuw"]
