"""The portability report: services per provider, how often asked, when last collected."""
from __future__ import annotations

from regie.portability.report import as_json, portability_report


def test_services_per_provider_with_the_last_finished_collection() -> None:
    collections = [
        {"id": "1", "provider": "b@medmij", "services": ["48"], "state": "done",
         "created_at": "2024-01-01T10:00:00+00:00", "finished_at": "2024-01-01T10:05:00+00:00"},
        {"id": "2", "provider": "b@medmij", "services": ["48", "49"], "state": "failed",
         "created_at": "2024-02-01T10:00:00+00:00", "finished_at": "2024-02-01T10:01:00+00:00"},
        {"id": "3", "provider": "a@medmij", "services": ["99999"], "state": "pending",
         "created_at": "2024-03-01T10:00:00+00:00", "finished_at": None},
    ]
    consents = [{"provider": "b@medmij", "schedule_days": 7}]
    lines = portability_report(collections, consents)
    assert [line.provider for line in lines] == ["a@medmij", "b@medmij"]
    a, b = lines
    assert a.services[0].id == "99999" and a.services[0].name == "99999" and a.services[0].last_collected_at is None
    assert not a.lasting_permission and b.lasting_permission and b.schedule_days == 7
    bgz, other = b.services
    assert (bgz.id, bgz.collections, bgz.succeeded) == ("48", 2, 1)
    assert bgz.name.startswith("Basisgegevensset") and bgz.fhir_version == "STU3"
    assert bgz.last_collected_at.isoformat() == "2024-01-01T10:05:00+00:00"
    assert (other.id, other.collections, other.succeeded, other.last_collected_at) == ("49", 1, 0, None)
    data = as_json(lines)
    assert data["providers"][1]["services"][0]["id"] == "48"
