"""Talking to the provider for questionnaires (service 906), in the order the
qualification scripts expect: ``GET Task?code=http://loinc.org|74468-0&status=requested``,
``PUT Task/<id>`` with status ``accepted`` (the body otherwise as received), then
``GET Questionnaire/<id>`` from the Task's input. The answers go later, as a send
(``regie.share.sender``) with the user's confirmation and a fresh permission.

Over the collector's back-channel client: URL policy, Whitelist, the extra CA, the client
certificate for mutual TLS, no redirects. The token lives in memory here; the caller keeps
it encrypted for at most its lifetime (``Tasks.granted``).
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from regie.collect.service import CollectError, provider_endpoints
from regie.medmij import oauth
from regie.medmij.fetch import (FHIR_MEDIA, AccessToken, FetchFailure, FetchPolicy, get_fhir, guard_url,
                                make_async_client)
from regie.medmij.http import client_cert_of
from regie.share.questionnaire.bundle import questionnaire_reference
from regie.share.questionnaire.tasks import SERVICE, AccessClaim, Tasks

log = logging.getLogger("regie.share.questionnaire")
TASK_SEARCH = "Task?code=http://loinc.org|74468-0&status=requested"


class ProviderError(Exception):
    def __init__(self, code: str, status: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass
class Connection:
    """One provider's 906 endpoint with an open client and a token."""

    http: httpx.AsyncClient
    base_url: str
    token: str
    policy: FetchPolicy
    allowed: Any
    correlation_id: str

    async def get(self, path: str) -> dict[str, Any]:
        try:
            fetched = await get_fhir(self.http, f"{self.base_url}/{path}", token=AccessToken(self.token),
                                     policy=self.policy, allowed_host=self.allowed,
                                     correlation_id=self.correlation_id)
        except FetchFailure as exc:
            raise ProviderError(exc.code, exc.status) from None
        try:
            doc = json.loads(fetched.body)
        except ValueError:
            raise ProviderError("not-fhir") from None
        if not isinstance(doc, dict):
            raise ProviderError("not-fhir")
        return doc

    async def put(self, path: str, resource: dict[str, Any]) -> dict[str, Any] | None:
        url = f"{self.base_url}/{path}"
        try:
            guard_url(url, self.policy, self.allowed)
        except FetchFailure:
            raise ProviderError("not-allowed") from None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": FHIR_MEDIA, "Accept": FHIR_MEDIA,
                   "MedMij-Request-ID": oauth.new_request_id(), "X-Correlation-ID": self.correlation_id}
        try:
            async with asyncio.timeout(self.policy.deadline_seconds):
                response = await self.http.put(url, content=json.dumps(resource).encode(), headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise ProviderError("timeout") from None
        except httpx.HTTPError:
            raise ProviderError("connection") from None
        if response.status_code == 401:
            raise ProviderError("unauthorized", 401)
        if response.status_code not in (200, 201):
            raise ProviderError("refused" if response.status_code < 500 else "server-error", response.status_code)
        try:
            answer = response.json()
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None


class Provider:
    """Opens :class:`Connection` s to a provider's 906 service."""

    def __init__(self, tasks: Tasks, directory, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.tasks = tasks
        self.directory = directory
        self.transport = transport
        self.policy = FetchPolicy.from_settings(tasks.settings)

    def _endpoints(self, provider: str):
        try:
            endpoints = provider_endpoints(self.directory, provider, [SERVICE])
        except CollectError:
            raise ProviderError("not-in-zal") from None
        resource = endpoints.services[0].resource_url
        if not resource:
            raise ProviderError("not-in-zal")
        return endpoints, resource.rstrip("/")

    def client(self) -> httpx.AsyncClient:
        settings = self.tasks.settings
        return make_async_client(self.policy, extra_ca=settings.medmij_ca, client_cert=client_cert_of(settings),
                                 transport=self.transport)

    async def exchange(self, http: httpx.AsyncClient, claim: AccessClaim, code: str) -> oauth.TokenResponse:
        endpoints, _ = self._endpoints(claim.provider)
        try:
            guard_url(endpoints.token_url, self.policy, self.directory.allowed_host)
        except FetchFailure:
            raise ProviderError("not-allowed") from None
        try:
            return await oauth.exchange_code(
                http, endpoints.token_url, code=code, redirect_uri=self.tasks.redirect_uri,
                client_id=self.tasks.settings.rp_id, verifier=claim.verifier, correlation_id=claim.correlation_id,
                retry_after_max=self.policy.retry_after_max_seconds)
        except oauth.TokenError as exc:
            log.info("questionnaires at %s: token refused (%s)", claim.provider, exc.code)
            raise ProviderError("token-refused", exc.status) from None

    def connection(self, http: httpx.AsyncClient, provider: str, token: str, correlation_id: str) -> Connection:
        _, base = self._endpoints(provider)
        return Connection(http, base, token, self.policy, self.directory.allowed_host, correlation_id)


async def find_tasks(conn: Connection) -> list[dict[str, Any]]:
    bundle = await conn.get(TASK_SEARCH)
    found = []
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") == "Task" and resource.get("id") and resource.get("status") == "requested":
            found.append(resource)
    return found


async def accept_task(conn: Connection, task: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """PUT the Task with status ``accepted``, then read its Questionnaire."""
    reference = questionnaire_reference(task)
    if reference is None:
        raise ProviderError("no-questionnaire")
    body = dict(task)
    body["status"] = "accepted"
    answer = await conn.put(f"Task/{task['id']}", body)
    accepted = answer if answer and answer.get("resourceType") == "Task" else body
    path = reference if "://" not in reference else "Questionnaire/" + reference.rsplit("/Questionnaire/", 1)[1]
    questionnaire = await conn.get(path)
    if questionnaire.get("resourceType") != "Questionnaire":
        raise ProviderError("no-questionnaire")
    return accepted, questionnaire
