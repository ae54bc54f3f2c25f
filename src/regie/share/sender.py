"""After consent: exchange the code (``regie.medmij.oauth``) and POST the Bundle to the
provider's resource endpoint from the ZAL, over the collector's back-channel client
(URL policy, Whitelist, extra CA, client certificate for mutual TLS, no redirects).

A POST is not idempotent, so it is never retried blindly: only a 429/503 that says the
request was not processed (Retry-After within our limit) is tried once more.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from regie.collect.service import CollectError, provider_endpoints
from regie.medmij import oauth
from regie.medmij.fetch import FHIR_MEDIA, FetchFailure, FetchPolicy, guard_url, make_async_client
from regie.medmij.http import client_cert_of
from regie.medmij.oauth import new_request_id, retry_after_seconds
from regie.share.service import SendClaim, Sends

log = logging.getLogger("regie.share")
MAX_RESPONSE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None
    response: dict[str, Any] | None


def entry_failures(response: dict[str, Any] | None) -> int:
    """Entries of a batch/transaction-response whose status is not 2xx."""
    if not isinstance(response, dict):
        return 0
    bad = 0
    for entry in response.get("entry") or []:
        status = str(((entry or {}).get("response") or {}).get("status", ""))
        if not status[:1] == "2":
            bad += 1
    return bad


async def post_bundle(http: httpx.AsyncClient, url: str, bundle: dict[str, Any], *, access_token: str,
                      policy: FetchPolicy, allowed_host: Callable[[str], bool], correlation_id: str) -> Outcome:
    try:
        guard_url(url, policy, allowed_host)
    except FetchFailure as exc:
        log.warning("send: %s", exc.detail)
        return Outcome(False, None, "not-allowed", None)
    body = json.dumps(bundle).encode()
    for attempt in (1, 2):
        headers = {"Authorization": f"Bearer {access_token}", "Content-Type": FHIR_MEDIA, "Accept": FHIR_MEDIA,
                   "MedMij-Request-ID": new_request_id(), "X-Correlation-ID": correlation_id}
        try:
            async with asyncio.timeout(policy.deadline_seconds):
                async with http.stream("POST", url, content=body, headers=headers) as response:
                    status = response.status_code
                    wait = retry_after_seconds(response.headers.get("retry-after"))
                    chunks, size = [], 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_RESPONSE_BYTES:
                            break
                        chunks.append(chunk)
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(False, None, "timeout", None)
        except httpx.HTTPError as exc:
            log.warning("send to %s: %s", url, type(exc).__name__)
            return Outcome(False, None, "connection", None)
        if status in (429, 503) and attempt == 1 and wait is not None and wait <= policy.retry_after_max_seconds:
            await asyncio.sleep(wait)
            continue
        break
    try:
        answer = json.loads(b"".join(chunks)) if chunks else None
    except ValueError:
        answer = None
    answer = answer if isinstance(answer, dict) else None
    if status in (200, 201):
        if entry_failures(answer):
            return Outcome(False, status, "partly-refused", answer)
        return Outcome(True, status, None, answer)
    if status == 401:
        code = "unauthorized"
    elif status == 403:
        code = "forbidden"
    elif status in (400, 405, 409, 412, 415, 422):
        code = "refused"
    elif status in (429, 503):
        code = "busy"
    else:
        code = "server-error"
    return Outcome(False, status, code, answer)


async def deliver(sends: Sends, claim: SendClaim, code: str, directory, *,
                  transport: httpx.AsyncBaseTransport | None = None) -> Outcome:
    """Exchange the code, POST the Bundle, store the outcome and the receipt."""
    settings = sends.settings
    policy = FetchPolicy.from_settings(settings)
    try:
        outcome = await _deliver(sends, claim, code, directory, policy, transport)
    except Exception:
        log.exception("send %s: unexpected error", claim.send_id)
        outcome = Outcome(False, None, "internal", None)
    await asyncio.to_thread(sends.finish, claim.user_id, claim.send_id, ok=outcome.ok, status=outcome.status,
                            error=outcome.error, response=outcome.response)
    return outcome


async def _deliver(sends: Sends, claim: SendClaim, code: str, directory, policy: FetchPolicy,
                   transport) -> Outcome:
    try:
        endpoints = provider_endpoints(directory, claim.provider, [claim.service_id])
    except CollectError:
        return Outcome(False, None, "not-in-zal", None)
    resource = endpoints.services[0].resource_url
    if not resource:
        return Outcome(False, None, "not-in-zal", None)
    allowed = directory.allowed_host
    async with make_async_client(policy, extra_ca=sends.settings.medmij_ca, client_cert=client_cert_of(sends.settings),
                                 transport=transport) as http:
        try:
            guard_url(endpoints.token_url, policy, allowed)
        except FetchFailure:
            return Outcome(False, None, "not-allowed", None)
        try:
            token = await oauth.exchange_code(
                http, endpoints.token_url, code=code, redirect_uri=sends.redirect_uri, client_id=sends.client_id,
                verifier=claim.verifier, correlation_id=claim.correlation_id,
                retry_after_max=policy.retry_after_max_seconds)
        except oauth.TokenError as exc:
            log.info("send %s: %s", claim.send_id, exc.detail)
            return Outcome(False, exc.status, "token-refused", None)
        url = resource.rstrip("/")
        return await post_bundle(http, url, claim.bundle, access_token=token.access_token, policy=policy,
                                 allowed_host=allowed, correlation_id=claim.correlation_id)
