"""/metrics: who may read it, and what it reports (request latency by route template,
job queue depth and age, collections, list age)."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from regie.jobs.queue import JobQueue
from regie.ops.metrics import observe_collection
from regie.store.db import Database
from regie.store.medmij_models import MedMijListRow
from regie.store.migrate import upgrade
from regie.store.types import utcnow
from regie.web.app import create_app
from tests.conftest import fast_settings


def _app(tmp_path: Path, database_url: str, **overrides):
    settings = fast_settings(tmp_path, database_url, **overrides)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    return create_app(settings), db


def test_metrics_only_for_loopback_or_the_token(tmp_path: Path, database_url: str) -> None:
    app, db = _app(tmp_path, database_url, metrics_token="s3cret-scrape-token")
    with TestClient(app) as remote:  # client address "testclient": not loopback
        assert remote.get("/metrics").status_code == 404
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
        # Through a reverse proxy the peer is loopback too: a proxy header means "not local".
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    with TestClient(create_app(fast_settings(tmp_path, database_url)), client=("::1", 1)) as no_token:
        assert no_token.get("/metrics").status_code == 200
        assert no_token.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 200
    db.dispose()


def test_metrics_report_routes_queue_collections_and_lists(tmp_path: Path, database_url: str) -> None:
    app, db = _app(tmp_path, database_url, medmij_lists_url="http://127.0.0.1:1/lists", lists_auto_refresh=False)
    queue = JobQueue(db)
    queue.enqueue("cleanup", run_after=utcnow() - timedelta(seconds=90))
    queue.enqueue("cleanup", run_after=utcnow() + timedelta(hours=1))
    with db.session() as session:
        session.add(MedMijListRow(kind="ZAL", volgnummer=3, fetched_at=utcnow() - timedelta(hours=2)))
    observe_collection("huisartsdevries@medmij", {"outcome": "partial", "services": [
        {"id": "49", "state": "complete"}, {"id": "51", "state": "failed"}]})
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        client.get("/login")
        client.get("/record/items/0123456789abcdef0123456789abcdef")
        text = client.get("/metrics").text
    assert 'regie_http_request_duration_seconds_count{method="GET",route="/login",status="200"}' in text
    assert 'route="/record/items/{item_id}"' in text and "0123456789abcdef" not in text
    assert 'regie_jobs_queue_depth{state="queued"} 1.0' in text
    assert 'regie_jobs_queue_depth{state="scheduled"} 1.0' in text
    age = float(next(line for line in text.splitlines() if line.startswith("regie_jobs_oldest_due_age_seconds ")).split()[1])
    assert 85 < age < 600
    assert 'regie_collections_active{state="running"} 0.0' in text
    assert "regie_record_reindex_waiting 0.0" in text
    provider = hashlib.sha256(b"huisartsdevries@medmij").hexdigest()[:12]  # an id, never the name
    assert (f'regie_collections_finished_total{{outcome="failed",provider_id="{provider}",service="51"}}'
            in text) and "huisartsdevries" not in text
    list_age = float(next(line for line in text.splitlines()
                          if line.startswith('regie_medmij_list_age_seconds{list="ZAL"}')).split()[1])
    assert 7100 < list_age < 7500
    db.dispose()
