"""Collecting every service of one provider with one access token (asyncio).

Per service: the catalogue's routine queries (dates resolved against today), each a
chain: the search, its ``Bundle.link[next]`` pages, then ``Binary`` for every
DocumentReference attachment (started as soon as the page naming it is read). Chains
run concurrently; :class:`ProviderSlots` bounds the requests in flight per provider and
gives a freed slot to a chain's continuation (next page, document) before a search that
has not started, so the longest chain is not pushed back by rounds of others. Each response
is ingested as soon as it arrives (one database transaction per response, in a worker
thread, one at a time per patient) while the chain goes on with its next request, so a
failure later never loses what came before. A failed request is one receipt line of its service; the rest goes on.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import httpx
import orjson

from regie.collect.slots import CONTINUATION, LEADS_ON, SEARCH, ProviderSlots
from regie.medmij.fetch import AccessToken, FetchFailure, FetchPolicy, get_fhir, guard_url
from regie.medmij.services import Query
from regie.store.ingest import FileOutcome

log = logging.getLogger("regie.collect")
MAX_PAGES = 200


@dataclass(frozen=True)
class ServicePlan:
    id: str
    name: str
    fhir_version: str | None
    base_url: str  # the ResourceEndpointuri from the ZAL, without a trailing slash
    queries: tuple[Query, ...]


@dataclass
class RequestLine:
    url: str  # relative to the service's base, as sent
    ok: bool = True
    resources: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None
    reference: str | None = None
    attempts: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None,)}


@dataclass
class ServiceOutcome:
    id: str
    name: str
    requests: list[RequestLine] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    resources: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None  # the whole service failed (no access, not on the ZAL ...)
    reference: str | None = None

    @property
    def failed_requests(self) -> list[RequestLine]:
        return [r for r in self.requests if not r.ok]

    @property
    def state(self) -> str:
        if self.error or (self.requests and all(not r.ok for r in self.requests)):
            return "failed"
        return "partial" if self.failed_requests else "complete"

    def to_json(self) -> dict:
        return {
            "id": self.id, "name": self.name, "state": self.state,
            "requests": [r.to_json() for r in self.requests],
            "counts": dict(sorted(self.counts.items())),
            "resources": self.resources, "new": self.new, "updated": self.updated,
            "unchanged": self.unchanged, "error": self.error, "reference": self.reference,
        }


# ingest(body, name, plan) -> FileOutcome; runs in a worker thread.
IngestFn = Callable[[bytes, str, ServicePlan], FileOutcome]
ProgressFn = Callable[[str, int, int], None]


class ProviderCollector:
    def __init__(
        self, http: httpx.AsyncClient, token: AccessToken, *, policy: FetchPolicy,
        allowed_host: Callable[[str], bool], correlation_id: str, ingest: IngestFn,
        new_reference: Callable[[], str], slots: ProviderSlots,
        on_progress: ProgressFn | None = None, today: date | None = None, log_prefix: str = "",
        ingest_lock: asyncio.Lock | None = None,
    ) -> None:
        self.http = http
        self.token = token
        self.policy = policy
        self.allowed_host = allowed_host
        self.correlation_id = correlation_id
        self.ingest = ingest
        self.new_reference = new_reference
        self.slots = slots
        self.on_progress = on_progress
        self.today = today or date.today()
        self.log_prefix = log_prefix
        # One write at a time per user: two responses may carry the same resource (a
        # Patient, an included Medication) and must not race to insert it.
        self.ingest_lock = ingest_lock or asyncio.Lock()
        self._done: Counter[str] = Counter()
        self._total: Counter[str] = Counter()

    async def run(self, plans: list[ServicePlan]) -> list[ServiceOutcome]:
        outcomes = [ServiceOutcome(p.id, p.name) for p in plans]
        await asyncio.gather(*(self._service(p, o) for p, o in zip(plans, outcomes, strict=True)))
        return outcomes

    def _progress(self, service_id: str) -> None:
        if self.on_progress is not None:
            self.on_progress(service_id, self._done[service_id], self._total[service_id])

    async def _service(self, plan: ServicePlan, outcome: ServiceOutcome) -> None:
        queries = [q.url(self.today) for q in plan.queries]
        self._total[plan.id] += len(queries)
        self._progress(plan.id)
        # Each document is read as soon as the page that names it is stored (not after
        # every search of the service): the longest chain stays search -> pages -> read.
        reads = _Reads()
        try:
            await asyncio.gather(*(self._chain(plan, outcome, rel, reads) for rel in queries))
            if reads.tasks:
                await asyncio.gather(*reads.tasks)
        finally:
            _cancel_pending(reads.tasks)

    def _absolute(self, plan: ServicePlan, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return url
        return f"{plan.base_url}/{url.lstrip('/')}"

    def _relative(self, plan: ServicePlan, url: str) -> str:
        prefix = plan.base_url + "/"
        return url[len(prefix):] if url.startswith(prefix) else url

    def _read_soon(self, plan: ServicePlan, outcome: ServiceOutcome, url: str, reads: _Reads) -> None:
        if url in reads.seen:
            return
        reads.seen.add(url)
        self._total[plan.id] += 1
        self._progress(plan.id)
        reads.tasks.append(asyncio.ensure_future(self._chain(plan, outcome, url, None)))

    async def _chain(self, plan: ServicePlan, outcome: ServiceOutcome, first: str,
                     attachments: _Reads | None) -> None:
        """A search and its next pages (or one read). The next page is requested while
        the current one is stored, and a page's documents as soon as it is read: the
        chain's length is its requests, not its requests plus every ingest."""
        url: str | None = self._absolute(plan, first)
        seen: set[str] = set()
        pages = 0
        if attachments is None:
            priority = CONTINUATION  # a document read: its search has been answered
        else:
            priority = LEADS_ON if first.lstrip("/").startswith("DocumentReference") else SEARCH
        storing: list[asyncio.Future] = []
        try:
            while url is not None and url not in seen and pages < MAX_PAGES:
                seen.add(url)
                pages += 1
                line = RequestLine(self._relative(plan, url))
                outcome.requests.append(line)
                url = await self._one(plan, outcome, line, url, attachments, storing, priority)
                priority = CONTINUATION
            if storing:
                await asyncio.gather(*storing)
        finally:
            _cancel_pending(storing)  # only when the collection itself is cancelled
        self._done[plan.id] += 1
        self._progress(plan.id)

    async def _one(self, plan: ServicePlan, outcome: ServiceOutcome, line: RequestLine, url: str,
                   attachments: _Reads | None, storing: list[asyncio.Future], priority: int) -> str | None:
        """Fetch one response and start storing it; returns the next page's URL, if any."""
        try:
            async with self.slots.hold(priority):
                fetched = await get_fhir(self.http, url, token=self.token, policy=self.policy,
                                         allowed_host=self.allowed_host, correlation_id=self.correlation_id)
            line.attempts, line.seconds = fetched.attempts, round(fetched.seconds, 3)
            body = fetched.body
            parsed = _parse_json(body, fetched.content_type, url)
            if isinstance(parsed, dict) and parsed.get("resourceType") == "OperationOutcome":
                raise FetchFailure("operation-outcome", f"{url}: OperationOutcome instead of data "
                                   f"({_issue_codes(parsed)})")
        except FetchFailure as failure:
            self._fail(plan, line, failure)
            return None
        storing.append(asyncio.ensure_future(self._store(plan, outcome, line, body)))
        if not isinstance(parsed, dict):
            return None
        if attachments is not None:
            for attachment in _attachment_urls(parsed):
                self._read_soon(plan, outcome, self._absolute(plan, attachment), attachments)
        following = _next_link(parsed)
        if following is None:
            return None
        following = self._absolute(plan, following)
        try:
            guard_url(following, self.policy, self.allowed_host)
        except FetchFailure as failure:
            extra = RequestLine(self._relative(plan, following))
            outcome.requests.append(extra)
            self._fail(plan, extra, failure)
            return None
        return following

    async def _store(self, plan: ServicePlan, outcome: ServiceOutcome, line: RequestLine, body: bytes) -> None:
        """Ingest one response (one transaction, in a worker thread, one at a time per
        patient) and count what it brought."""
        try:
            async with self.ingest_lock:
                result = await asyncio.to_thread(self.ingest, body, f"{plan.id} {line.url}"[:200], plan)
            if not result.ok:
                code = "unreadable" if result.error_reason != "could not be stored" else "store-failed"
                raise FetchFailure(code, result.error or "ingest failed")
        except FetchFailure as failure:
            self._fail(plan, line, failure)
            return
        line.resources, line.new, line.updated = result.resources, result.new, result.updated
        outcome.resources += result.resources
        outcome.new += result.new
        outcome.updated += result.updated
        outcome.unchanged += result.unchanged
        outcome.counts.update(result.by_category)

    def _fail(self, plan: ServicePlan, line: RequestLine, failure: FetchFailure) -> None:
        line.ok = False
        line.error = failure.code
        line.reference = self.new_reference()
        # The technical detail goes to the server log with the reference; never content.
        log.warning("%s service %s: %s [%s] %s", self.log_prefix, plan.id, failure.code,
                    line.reference, failure.detail)


@dataclass
class _Reads:
    """The documents (``Binary``) of one service: each read once, started when found."""

    seen: set[str] = field(default_factory=set)
    tasks: list[asyncio.Future] = field(default_factory=list)


def _cancel_pending(futures: list[asyncio.Future]) -> None:
    for future in futures:
        if not future.done():
            future.cancel()


def _parse_json(body: bytes, content_type: str, url: str):
    if "json" not in content_type.lower():
        return None  # FHIR XML: ingested as it is; no paging links read from it
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FetchFailure("unreadable", f"{url}: not valid JSON ({exc})") from exc


def _issue_codes(outcome: dict) -> str:
    issues = outcome.get("issue") if isinstance(outcome.get("issue"), list) else []
    return ",".join(str(i.get("code")) for i in issues if isinstance(i, dict))[:100] or "no issue"


def _next_link(bundle: dict) -> str | None:
    if bundle.get("resourceType") != "Bundle" or not isinstance(bundle.get("link"), list):
        return None
    for link in bundle["link"]:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _attachment_urls(document: dict) -> list[str]:
    if document.get("resourceType") == "Bundle":
        resources = [e.get("resource") for e in document.get("entry") or [] if isinstance(e, dict)]
    else:
        resources = [document]
    urls = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
            continue
        for content in resource.get("content") or []:
            attachment = content.get("attachment") if isinstance(content, dict) else None
            url = attachment.get("url") if isinstance(attachment, dict) else None
            if isinstance(url, str) and url and not url.startswith(("urn:", "#", "data:")):
                urls.append(url)
    return urls
