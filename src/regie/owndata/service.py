"""The user's own data in the record: measurements and diary entries with source "self".

Everything is written as FHIR JSON through :func:`regie.fhir.read_bytes` (so the same
validation applies as to an import) and stored by :class:`RecordRepository` under the
source ``self``. Editing stores a new version of the same resource (the previous one is
kept, see docs/storage.md); deleting stores it with status ``entered-in-error`` (also a
new version: nothing is lost, and the pages and the API leave it out).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from regie.fhir import FhirVersion, read_bytes
from regie.owndata import diary as diary_mod
from regie.owndata import measurements as meas
from regie.store.db import Database
from regie.store.crypto import KeyRing
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.record import UserKeys

SOURCE = "self"
DELETED = "entered-in-error"


class NotFound(LookupError):
    pass


@dataclass
class Stored:
    row_id: str
    measurement: meas.Measurement | None = None
    entry: diary_mod.DiaryEntry | None = None
    version: int = 1
    arrived_at: Any = None
    updated_at: Any = None
    outside: bool = False  # outside the user's target range


class OwnData:
    """One user's own data; ``channel`` is the audit channel (web, api-session, ...)."""

    def __init__(self, db: Database, keyring: KeyRing, user: User, channel: str) -> None:
        self.service = RecordService(db, keyring)
        self.user = user
        self.channel = channel
        self._keys: UserKeys | None = None

    @property
    def keys(self) -> UserKeys:
        if self._keys is None:
            self._keys = self.service.keys(self.user)
        return self._keys

    # -- writing ---------------------------------------------------------------
    def _store(self, resources: list[dict[str, Any]], action: str) -> list[str]:
        """Validate and store resources in one transaction; the row ids, in order."""
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": r} for r in resources]}
        doc = read_bytes(orjson.dumps(bundle), name="own-data.json", fhir_version=FhirVersion.STU3)
        with self.service.open(self.keys) as repo:
            _, written = repo.store_document(doc, source=SOURCE, file_name=None)
            ids = [repo.row_for(SOURCE, r["resourceType"], r["id"]) or "" for r in resources]
            repo.audit(self.user.id, action, [row_id for row_id, _ in written] or ids[:1], self.channel)
        return ids

    def save_measurement(self, m: meas.Measurement, *, action: str = "self-entry") -> str:
        resources = [meas.to_fhir(m)]
        if m.type in ("body_weight", "body_height") and m.status != DELETED:
            derived = self._bmi_for(m)
            if derived is not None:
                resources.append(meas.to_fhir(derived))
        return self._store(resources, action)[0]

    def save_many(self, items: list[meas.Measurement]) -> list[str]:
        """Store many measurements in one transaction (an import); no BMI is derived."""
        return self._store([meas.to_fhir(m) for m in items], "self-import")

    def _bmi_for(self, m: meas.Measurement) -> meas.Measurement | None:
        """BMI from a weight and the latest height (or a height and the latest weight)."""
        other_type = "body_height" if m.type == "body_weight" else "body_weight"
        others = [x for x in self.measurements(other_type) if x.measurement]
        if not others:
            return None
        if m.type == "body_height":
            # A new height gives the latest weight a BMI (only when that weight has none yet).
            weight = others[0].measurement
            assert weight is not None
            weight_value, height_value, base = weight.values["value"], m.values["value"], weight
        else:
            height = others[0].measurement
            assert height is not None
            weight_value, height_value, base = m.values["value"], height.values["value"], m
        if height_value <= 0:
            return None
        value = meas.bmi(weight_value, height_value)
        low, high = meas.TYPES["bmi"].fields[0].bounds.possible
        if not low <= value <= high:
            return None
        partner = others[0].measurement
        assert partner is not None
        return meas.Measurement("bmi", {"value": value}, base.time, "kg/m2",
                                resource_id=f"{base.resource_id}-bmi",
                                derived_from=[m.resource_id, partner.resource_id])

    def update_measurement(self, row_id: str, m: meas.Measurement) -> str:
        current = self.measurement(row_id)
        assert current.measurement is not None
        m = replace(m, resource_id=current.measurement.resource_id)
        return self.save_measurement(m, action="self-edit")

    def delete_measurement(self, row_id: str) -> None:
        current = self.measurement(row_id)
        assert current.measurement is not None
        gone = replace(current.measurement, status=DELETED)
        resources = [meas.to_fhir(gone)]
        if gone.type == "body_weight":
            for other in self.measurements("bmi"):
                if other.measurement and other.measurement.resource_id == f"{gone.resource_id}-bmi":
                    resources.append(meas.to_fhir(replace(other.measurement, status=DELETED)))
        self._store(resources, "self-delete")

    def save_entry(self, entry: diary_mod.DiaryEntry, *, action: str = "self-entry") -> str:
        return self._store([diary_mod.to_fhir(entry)], action)[0]

    def update_entry(self, row_id: str, entry: diary_mod.DiaryEntry) -> str:
        current = self.entry(row_id)
        assert current.entry is not None
        return self.save_entry(replace(entry, resource_id=current.entry.resource_id), action="self-edit")

    def delete_entry(self, row_id: str) -> None:
        current = self.entry(row_id)
        assert current.entry is not None
        self._store([diary_mod.to_fhir(replace(current.entry, status=DELETED))], "self-delete")

    def save_target(self, type_key: str, field_name: str, low, high) -> str:
        return self._store([meas.goal_to_fhir(type_key, field_name, low, high)], "self-entry")[0]

    def remove_target(self, type_key: str, field_name: str) -> None:
        current = self.targets().get((type_key, field_name))
        if current is not None:
            self._store([meas.goal_to_fhir(type_key, field_name, *current, status=DELETED)], "self-delete")

    def targets(self) -> dict[tuple[str, str], tuple[Any, Any]]:
        """The user's target ranges: (type, field) -> (low, high), in the stored unit."""
        out = {}
        for _, resource in self._rows("care_plans"):
            found = meas.goal_from_fhir(resource)
            if found is not None and resource.get("status") != DELETED:
                out[(found[0], found[1])] = (found[2], found[3])
        return out

    # -- reading ---------------------------------------------------------------
    def _rows(self, category: str) -> list[tuple[Any, dict[str, Any]]]:
        with self.service.open(self.keys) as repo:
            return [(row, orjson.loads(original)) for row, original in repo.source_rows(SOURCE, category)]

    def measurements(self, type_key: str | None = None, *, include_deleted: bool = False) -> list[Stored]:
        out = []
        for row, resource in self._rows("vital_signs"):
            m = meas.from_fhir(resource)
            if m is None or (type_key and m.type != type_key) or (m.status == DELETED and not include_deleted):
                continue
            out.append(Stored(row.id, measurement=m, version=row.version, arrived_at=row.arrived_at,
                              updated_at=row.updated_at))
        return out

    def entries(self, query: str = "") -> list[Stored]:
        out = []
        for row, resource in self._rows("diary"):
            entry = diary_mod.from_fhir(resource)
            if entry is None or entry.status == DELETED or not diary_mod.matches(entry, query):
                continue
            out.append(Stored(row.id, entry=entry, version=row.version, arrived_at=row.arrived_at,
                              updated_at=row.updated_at))
        return out

    def _one(self, row_id: str) -> tuple[Any, dict[str, Any], list[tuple[int, dict[str, Any]]]]:
        with self.service.open(self.keys) as repo:
            row = repo.get(row_id[:64])
            if row is None or repo.source_of(row.id) != SOURCE:
                raise NotFound(row_id)
            original = orjson.loads(repo.original(row.id) or b"{}")
            history = [(version, orjson.loads(blob)) for version, blob in repo.previous_originals(row.id)]
            repo.audit(self.user.id, "read", [row.id], self.channel)
            return row, original, history

    def measurement(self, row_id: str) -> Stored:
        row, original, _ = self._one(row_id)
        m = meas.from_fhir(original)
        if m is None or m.status == DELETED:
            raise NotFound(row_id)
        return Stored(row.id, measurement=m, version=row.version, arrived_at=row.arrived_at, updated_at=row.updated_at)

    def measurement_history(self, row_id: str) -> tuple[Stored, list[tuple[int, meas.Measurement]]]:
        row, original, history = self._one(row_id)
        m = meas.from_fhir(original)
        if m is None:
            raise NotFound(row_id)
        versions = [(v, parsed) for v, data in history if (parsed := meas.from_fhir(data)) is not None]
        return Stored(row.id, measurement=m, version=row.version, arrived_at=row.arrived_at,
                      updated_at=row.updated_at), versions

    def entry(self, row_id: str) -> Stored:
        row, original, _ = self._one(row_id)
        entry = diary_mod.from_fhir(original)
        if entry is None or entry.status == DELETED:
            raise NotFound(row_id)
        return Stored(row.id, entry=entry, version=row.version, arrived_at=row.arrived_at, updated_at=row.updated_at)

    def entry_history(self, row_id: str) -> tuple[Stored, list[tuple[int, diary_mod.DiaryEntry]]]:
        row, original, history = self._one(row_id)
        entry = diary_mod.from_fhir(original)
        if entry is None:
            raise NotFound(row_id)
        versions = [(v, parsed) for v, data in history if (parsed := diary_mod.from_fhir(data)) is not None]
        return Stored(row.id, entry=entry, version=row.version, arrived_at=row.arrived_at,
                      updated_at=row.updated_at), versions

