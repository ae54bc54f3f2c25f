"""Prometheus metrics (``/metrics``, see docs/deploy.md).

Counted in the process where things happen: request latency by route template, jobs run,
collections finished by provider, service and outcome. Read from the database at scrape
time: job queue depth and age, collections in progress, MedMij list age. Labels are
route templates, job kinds, provider ids and service ids: never users, paths with ids,
or content. Which provider a patient uses is medical (Regie stores it encrypted), so the
label is ``provider_id``, the first 12 hex digits of SHA-256 of the Zorgaanbiedernaam:
nobody reads a name off a dashboard, and an operator who looks into a failing provider
computes the id of a name from the public ZAL (docs/deploy.md).

Several web processes (``regie serve --workers N``): prometheus-client's multiprocess
mode. ``PROMETHEUS_MULTIPROC_DIR`` must be set before the processes start (``regie serve``
sets it to ``$REGIE_HOME/metrics`` and empties it when N > 1); any process's ``/metrics``
then reports the sum over all of them. A ``regie worker``'s counters live in its own
process: use ``regie_jobs_*`` from the database for the queue.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "regie_http_request_duration_seconds", "Time to answer a request, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOBS = Counter("regie_jobs_run", "Background jobs run, by kind and outcome.", ["kind", "outcome"])
JOB_SECONDS = Histogram("regie_job_duration_seconds", "Time a background job ran.", ["kind"],
                        buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900))
CLEANUP = Counter("regie_cleanup_removed", "Expired rows and files removed or made harmless by the clean-up job, "
                  "by kind (regie.jobs.cleanup).", ["kind"])
COLLECTIONS = Counter(
    "regie_collections_finished", "Collections finished, per provider, service and outcome "
    "(complete, partial, failed, interrupted).", ["provider_id", "service", "outcome"],
)
RECORD_PAGES = Counter(
    "regie_record_pages", "Start pages, category pages and timelines answered, by whether the web process had "
    "the page kept for the record as it is (kept) or read and rendered it (rendered); docs/decisions/0011.",
    ["outcome"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


def observe_record_page(outcome: str) -> None:
    RECORD_PAGES.labels(outcome).inc()


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    JOBS.labels(kind, outcome).inc()
    JOB_SECONDS.labels(kind).observe(seconds)


def observe_cleanup(counts: dict[str, int]) -> None:
    for kind, count in counts.items():
        CLEANUP.labels(kind).inc(count)


def provider_id(name: str) -> str:
    """The metrics label of a provider: not its name (see above)."""
    return hashlib.sha256(name.encode()).hexdigest()[:12] if name else "none"


def observe_collection(provider: str, receipt: dict) -> None:
    """Called once per finished collection (the collector's audit step) with its receipt."""
    outcome = receipt.get("outcome") or "unknown"
    provider = provider_id(provider)
    services = receipt.get("services") or []
    for service in services:
        COLLECTIONS.labels(provider, str(service.get("id", "?")), service.get("state") or outcome).inc()
    if not services:
        COLLECTIONS.labels(provider, "none", outcome).inc()


class DatabaseCollector(Collector):
    """Gauges read from the shared database at scrape time (the same in every process)."""

    def __init__(self, settings, db) -> None:
        self.settings = settings
        self.db = db

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from regie.jobs.queue import JobQueue
        from regie.medmij.lists_client import ListsClient
        from regie.store.collect_models import Collection
        from regie.store.types import utcnow

        now = utcnow()
        stats = JobQueue(self.db).stats(now)
        depth = GaugeMetricFamily("regie_jobs_queue_depth", "Jobs by queue state (queued: due now).",
                                  labels=["state"])
        depth.add_metric(["queued"], stats.queued)
        depth.add_metric(["scheduled"], stats.scheduled)
        depth.add_metric(["running"], stats.running)
        yield depth
        yield GaugeMetricFamily("regie_jobs_oldest_due_age_seconds",
                                "How long the oldest due job has waited (0: none waiting).",
                                value=stats.oldest_due_seconds)
        active = GaugeMetricFamily("regie_collections_active", "Collections not finished, by state.",
                                   labels=["state"])
        with self.db.session() as session:
            counts = dict(session.execute(
                select(Collection.state, func.count()).where(Collection.state.in_(("pending", "queued", "running")))
                .group_by(Collection.state)).all())
        for state in ("pending", "queued", "running"):
            active.add_metric([state], counts.get(state, 0))
        yield active
        from regie.store.record_reindex import waiting_count

        yield GaugeMetricFamily("regie_record_reindex_waiting",
                                "Accounts that wait for the rebuild of their record indexes after a "
                                "migration (regie worker works through them).", value=waiting_count(self.db))
        client = ListsClient(self.settings, self.db)
        if client.configured:
            age = GaugeMetricFamily("regie_medmij_list_age_seconds",
                                    "Time since each MedMij list was last downloaded and checked "
                                    "(absent: never).", labels=["list"])
            for status in client.status():
                if status.fetched_at is not None:
                    age.add_metric([status.kind], (now - status.fetched_at).total_seconds())
            yield age


def exposition(settings, db) -> bytes:
    """The text exposition: this process's (or all processes') counters plus the database gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(settings, db))
    return counters + generate_latest(database)
