"""Running collections as asyncio tasks in the process that exchanged the code.

The access token exists only in this process's memory (docs/collect.md, "Jobs"), so the
job runs here: a task per collection, its state and heartbeat in the ``collections``
table, so any process (and the CLI) can follow it and a restarted server reports a job
that died with its process as interrupted.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from regie.collect.engine import ProviderCollector, ServiceOutcome, ServicePlan
from regie.collect.service import Claim, CollectError, Collections, ProviderEndpoints, new_reference, provider_endpoints
from regie.collect.slots import ProviderSlots
from regie.collect.writelock import IngestLock
from regie.medmij import oauth
from regie.medmij.fetch import AccessToken, FetchFailure, FetchPolicy, guard_url, make_async_client
from regie.medmij.http import client_cert_of
from regie.medmij.services import service as catalogue_service
from regie.store.ingest import FileOutcome, RecordService
from regie.store.models import User

log = logging.getLogger("regie.collect")


class CollectionRunner:
    def __init__(
        self, collections: Collections, directory: Callable[[], Any], *,
        transport: httpx.AsyncBaseTransport | None = None, today: Callable[[], date] = date.today,
    ) -> None:
        self.collections = collections
        self.settings = collections.settings
        self.directory = directory  # () -> Directory (held lists)
        self.transport = transport
        self.today = today
        self.policy = FetchPolicy.from_settings(self.settings)
        # Mutual TLS on the back channel; a half or broken setting stops the start.
        self.client_cert = client_cert_of(self.settings)
        self.records = RecordService(collections.db, collections.keyring)
        # One user's responses are stored one at a time, across processes (writelock).
        self.ingest_lock = IngestLock(collections.db)
        self.tasks: dict[str, asyncio.Task] = {}
        self._provider_slots: dict[str, ProviderSlots] = {}
        self._user_locks: dict[str, asyncio.Lock] = {}

    # --- starting -------------------------------------------------------------------
    def start(self, claim: Claim, code: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(self.run(claim, code), name=f"collect-{claim.collection_id}")
        self.tasks[claim.collection_id] = task
        task.add_done_callback(lambda _t, cid=claim.collection_id: self.tasks.pop(cid, None))
        return task

    async def shutdown(self, grace_seconds: float | None = None) -> None:
        """The process is stopping (SIGTERM): running collections get up to
        ``REGIE_COLLECT_SHUTDOWN_GRACE_SECONDS`` to finish; what is still running then is
        cancelled and marked interrupted (with "try again"). It cannot be handed to
        another process: its access token exists only in this one's memory."""
        grace = self.settings.collect_shutdown_grace_seconds if grace_seconds is None else grace_seconds
        tasks = list(self.tasks.values())
        if not tasks:
            return
        log.info("stopping: %d running collections get up to %.0f s to finish", len(tasks), grace)
        _done, pending = await asyncio.wait(tasks, timeout=max(0.0, grace))
        for task in pending:
            task.cancel()
        if pending:
            log.warning("stopping: %d collections did not finish in time and are interrupted", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    def _slots(self, provider: str) -> ProviderSlots:
        # Per provider and process, shared by every patient collecting there at once.
        if provider not in self._provider_slots:
            self._provider_slots[provider] = ProviderSlots(max(1, self.settings.collect_concurrency_per_provider))
        return self._provider_slots[provider]

    def _user_lock(self, user_id: str) -> asyncio.Lock:
        return self._user_locks.setdefault(user_id, asyncio.Lock())

    # --- one job --------------------------------------------------------------------
    async def run(self, claim: Claim, code: str) -> None:
        """After consent: exchange the code, then collect."""
        async def get_token(http, endpoints, allowed) -> AccessToken:
            return await self._token(http, claim, code, endpoints, allowed)

        await self._run(claim, get_token)

    async def run_scheduled(self, claim: Claim, refresh_token: str) -> None:
        """A scheduled re-collect with a long-lived consent: a new access token from the
        refresh token (rotated when the provider sends a new one), then collect."""
        async def get_token(http, endpoints, allowed) -> AccessToken:
            return await self._token_from_refresh(http, claim, refresh_token, endpoints, allowed)

        await self._run(claim, get_token)

    async def _run(self, claim: Claim, get_token) -> None:
        cid = claim.collection_id
        progress: dict[str, Any] = {"services": {sid: {"done": 0, "total": 0} for sid in claim.services},
                                    "resources": 0}
        heartbeat: asyncio.Task | None = None
        token: AccessToken | None = None
        try:
            if not await asyncio.to_thread(self.collections.mark_running, claim.user_id, cid):
                log.warning("collect %s: no longer queued (reported interrupted); not started", cid)
                return
            # From here on the heartbeat says this process is alive, also while the token is
            # being exchanged: a sweep elsewhere interrupts only collections without one.
            heartbeat = asyncio.create_task(self._heartbeat(claim.user_id, cid, progress))
            try:
                directory = await asyncio.to_thread(self.directory)
                endpoints = provider_endpoints(directory, claim.provider, list(claim.services))
            except CollectError as exc:
                await asyncio.to_thread(self.collections.fail, claim.user_id, cid, "not-in-zal", str(exc))
                return
            allowed = directory.allowed_host
            async with make_async_client(self.policy, extra_ca=self.settings.medmij_ca,
                                         client_cert=self.client_cert,
                                         transport=self.transport) as http:
                try:
                    token = await get_token(http, endpoints, allowed)
                except CollectError as exc:
                    await asyncio.to_thread(self.collections.fail, claim.user_id, cid, exc.code, str(exc))
                    return
                outcomes = await self._collect(http, claim, endpoints, token, allowed, progress)
            receipt = self._receipt(claim, endpoints, outcomes)
            await asyncio.to_thread(self.collections.finish, claim.user_id, cid, receipt, progress)
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(self.collections.interrupt, claim.user_id, cid))
            raise
        except Exception:
            reference = new_reference()
            log.exception("collect %s: unexpected error [%s]", cid, reference)
            await asyncio.to_thread(self.collections.fail, claim.user_id, cid, "internal", f"unexpected error [{reference}]")
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            if token is not None:
                token.forget()

    async def sweep_stale(self) -> None:
        """Runs for the life of the process: every ``collect_sweep_seconds``, collections
        whose process stopped (stale heartbeat) are reported interrupted — except this
        runner's own. Without it, a process that crashed and was restarted within
        ``collect_stale_after_seconds``, or not restarted at all, would leave its patients
        waiting on a collection that never ends."""
        while True:
            await asyncio.sleep(self.settings.collect_sweep_seconds)
            try:
                swept = await asyncio.to_thread(self.collections.sweep_interrupted, keep=frozenset(self.tasks))
            except Exception as exc:  # a database that is briefly down: try again next time
                log.warning("could not sweep stale collections", extra={"error": type(exc).__name__})
                continue
            if swept:
                log.warning("collections of a stopped process reported interrupted", extra={"count": swept})

    async def _heartbeat(self, user_id: str, cid: str, progress: dict[str, Any]) -> None:
        while True:
            await asyncio.sleep(self.settings.collect_heartbeat_seconds)
            await asyncio.to_thread(self.collections.heartbeat, user_id, cid, progress)

    async def _token(self, http: httpx.AsyncClient, claim: Claim, code: str, endpoints: ProviderEndpoints,
                     allowed: Callable[[str], bool]) -> AccessToken:
        try:
            guard_url(endpoints.token_url, self.policy, allowed)
        except FetchFailure as exc:
            raise CollectError("not-allowed", exc.detail) from exc
        client_id = self.collections.client_id
        try:
            answer = await oauth.exchange_code(
                http, endpoints.token_url, code=code, redirect_uri=self.collections.redirect_uri,
                client_id=client_id, verifier=claim.verifier, correlation_id=claim.correlation_id,
                retry_after_max=self.policy.retry_after_max_seconds)
        except oauth.TokenError as exc:
            unavailable = exc.code in ("timeout", "connection") or (exc.status or 0) >= 500 or exc.status == 429
            raise CollectError("token-unavailable" if unavailable else "token-refused", exc.detail) from exc
        refresh_token = answer.refresh_token
        scope = answer.scope or oauth.scope_for(claim.provider, claim.services)
        if refresh_token and claim.long_lived:
            await asyncio.to_thread(self.collections.keep_consent, claim.user_id, claim.provider, scope,
                                    refresh_token, claim.language)

        async def refresher() -> str | None:
            nonlocal refresh_token
            if not refresh_token:
                return None
            try:
                renewed = await oauth.refresh(http, endpoints.token_url, refresh_token=refresh_token,
                                              client_id=client_id, correlation_id=claim.correlation_id,
                                              retry_after_max=self.policy.retry_after_max_seconds)
            except oauth.TokenError as exc:
                log.warning("collect %s: refresh failed: %s", claim.collection_id, exc.detail)
                return None
            if renewed.refresh_token:
                refresh_token = renewed.refresh_token
                if claim.long_lived:
                    await asyncio.to_thread(self.collections.keep_consent, claim.user_id, claim.provider,
                                            scope, refresh_token)
            return renewed.access_token

        return AccessToken(answer.access_token, refresher)

    async def _token_from_refresh(self, http: httpx.AsyncClient, claim: Claim, refresh_token: str,
                                  endpoints: ProviderEndpoints, allowed: Callable[[str], bool]) -> AccessToken:
        try:
            guard_url(endpoints.token_url, self.policy, allowed)
        except FetchFailure as exc:
            raise CollectError("not-allowed", exc.detail) from exc
        client_id = self.collections.client_id
        scope = oauth.scope_for(claim.provider, claim.services)
        current = refresh_token

        async def renew() -> str | None:
            nonlocal current
            try:
                answer = await oauth.refresh(http, endpoints.token_url, refresh_token=current, client_id=client_id,
                                             correlation_id=claim.correlation_id,
                                             retry_after_max=self.policy.retry_after_max_seconds)
            except oauth.TokenError as exc:
                log.warning("collect %s: refresh failed: %s", claim.collection_id, exc.detail)
                return None
            if answer.refresh_token and answer.refresh_token != current:
                current = answer.refresh_token
                await asyncio.to_thread(self.collections.keep_consent, claim.user_id, claim.provider,
                                        answer.scope or scope, current)
            return answer.access_token

        try:
            first = await oauth.refresh(http, endpoints.token_url, refresh_token=current, client_id=client_id,
                                        correlation_id=claim.correlation_id,
                                        retry_after_max=self.policy.retry_after_max_seconds)
        except oauth.TokenError as exc:
            unavailable = exc.code in ("timeout", "connection") or (exc.status or 0) >= 500 or exc.status == 429
            if not unavailable:
                # Withdrawn or expired at the provider: the stored token is worth nothing.
                await asyncio.to_thread(self.collections.drop_consent, claim.user_id, claim.provider)
            raise CollectError("token-unavailable" if unavailable else "token-refused", exc.detail) from exc
        if first.refresh_token and first.refresh_token != current:
            current = first.refresh_token
            await asyncio.to_thread(self.collections.keep_consent, claim.user_id, claim.provider,
                                    first.scope or scope, current)
        return AccessToken(first.access_token, renew)

    async def _collect(self, http, claim: Claim, endpoints: ProviderEndpoints, token: AccessToken,
                       allowed, progress: dict[str, Any]) -> list[ServiceOutcome]:
        plans: list[ServicePlan] = []
        early: dict[str, ServiceOutcome] = {}
        for endpoint in endpoints.services:
            try:
                entry = catalogue_service(endpoint.id)
            except KeyError:
                entry = None
            if entry is None or not entry.routine() or endpoint.resource_url is None:
                early[endpoint.id] = ServiceOutcome(endpoint.id, endpoint.name, error="not-supported",
                                                    reference=new_reference())
                continue
            # Searches only: reads (``Binary/{id}``) follow from what the searches found.
            searches = tuple(q for q in entry.routine() if q.interaction == "search")
            plans.append(ServicePlan(endpoint.id, endpoint.name, entry.fhir_version,
                                     endpoint.resource_url.rstrip("/"), searches))
        user = await asyncio.to_thread(self._user, claim.user_id)
        keys = self.records.keys(user)
        display = endpoints.display_name

        def ingest(body: bytes, name: str, plan: ServicePlan) -> FileOutcome:
            with self.ingest_lock.hold(claim.user_id):
                outcome = self.records.import_bytes(
                    keys, body, name=name, source=f"{display} · {plan.name}",
                    fhir_version=_version(plan.fhir_version), channel="collect", max_bytes=self.policy.max_bytes)
            progress["resources"] += outcome.resources
            entry = progress["services"].setdefault(plan.id, {"done": 0, "total": 0})
            entry["resources"] = entry.get("resources", 0) + outcome.resources
            return outcome

        def on_progress(service_id: str, done: int, total: int) -> None:
            entry = progress["services"].setdefault(service_id, {"done": 0, "total": 0})
            entry["done"], entry["total"] = done, total

        collector = ProviderCollector(
            http, token, policy=self.policy, allowed_host=allowed, correlation_id=claim.correlation_id,
            ingest=ingest, new_reference=new_reference, slots=self._slots(claim.provider),
            on_progress=on_progress, today=self.today(), log_prefix=f"collect {claim.collection_id}",
            ingest_lock=self._user_lock(claim.user_id),
        )
        fetched = {o.id: o for o in await collector.run(plans)}
        return [early.get(e.id) or fetched[e.id] for e in endpoints.services]

    def _user(self, user_id: str) -> User:
        with self.collections.db.session() as session:
            return session.get(User, user_id)

    @staticmethod
    def _receipt(claim: Claim, endpoints: ProviderEndpoints, outcomes: list[ServiceOutcome]) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for o in outcomes:
            counts.update(o.counts)
        states = {o.state for o in outcomes}
        outcome = "complete" if states == {"complete"} else ("failed" if states == {"failed"} else "partial")
        return {
            "version": 1, "collection": claim.collection_id, "provider": endpoints.provider,
            "provider_name": endpoints.display_name, "outcome": outcome,
            "error": None if outcome != "failed" else next(
                (o.error or (o.failed_requests[0].error if o.failed_requests else None)
                 for o in outcomes if o.error or o.failed_requests), "internal"),
            "services": [o.to_json() for o in outcomes],
            "totals": {
                "resources": sum(o.resources for o in outcomes), "new": sum(o.new for o in outcomes),
                "updated": sum(o.updated for o in outcomes), "unchanged": sum(o.unchanged for o in outcomes),
                "counts": dict(sorted(counts.items())),
            },
        }


def _version(name: str | None):
    from regie.fhir import FhirVersion

    if name is None:
        return None
    try:
        return FhirVersion[name]
    except KeyError:
        return FhirVersion(name)
