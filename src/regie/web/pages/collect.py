"""Collecting from care providers: start from the provider search, the explanation and
queue (one provider's consent after the other), the OAuth callback, live progress, the
receipt, and the history with long-lived consents."""
from __future__ import annotations

from datetime import datetime

from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from regie.collect.service import CollectError, normalise_provider, provider_endpoints
from regie.collect.texts import SERVICE_STATES, STATES, error_text
from regie.store.collect_models import SCHEDULE_DAYS
from regie.store.models import User, new_id
from regie.web.collecting import collections_of, directory_of, runner_of, session_key
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.oauth_callback import read_callback
from regie.web.pages._helpers import see_other
from regie.web.pages.viewer import presenter
from regie.web.templating import language_of as request_language, render

router = APIRouter(include_in_schema=False)
SCHEDULE_CHOICES = (
    (1, N_("Every day")), (7, N_("Every week")), (14, N_("Every two weeks")), (30, N_("Every month")),
    (0, N_("Only when I ask")),
)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
MAX_PROVIDERS = 20


def provider_names(app) -> dict[str, Any]:
    directory = directory_of(app)
    return {p.zorgaanbiedernaam: p for p in directory.providers}


def describe_collections(rows: list[dict[str, Any]], providers: dict[str, Any]) -> list[dict[str, Any]]:
    for row in rows:
        entry = providers.get(row["provider"])
        row["provider_name"] = entry.display_name if entry else row["provider"]
        names = {s.id: s.name for s in entry.services} if entry else {}
        row["service_names"] = [names.get(s, s) for s in row["services"]]
        row["state_text"] = STATES.get(row["state"], row["state"])
        # Aware datetimes, so pages show them in Dutch time (templating's ``when``).
        row["created_dt"] = datetime.fromisoformat(row["created_at"])
        row["finished_dt"] = datetime.fromisoformat(row["finished_at"]) if row.get("finished_at") else None
        row["error_text"] = error_text(row.get("error"))
    return rows


@router.post("/collect")
async def start(request: Request, user: CurrentUser) -> Response:
    """From the provider search: ``service`` = ``<Zorgaanbiedernaam>~<id>`` (several),
    or ``provider`` = a Zorgaanbiedernaam for everything it offers."""
    form = await request.form()
    chosen: OrderedDict[str, list[str] | None] = OrderedDict()
    for value in form.getlist("service"):
        provider, _, sid = str(value).partition("~")
        if provider and sid:
            current = chosen.setdefault(normalise_provider(provider), [])
            if current is not None and sid not in current:
                current.append(sid)
    for value in form.getlist("provider"):
        chosen[normalise_provider(str(value))] = None
    if not chosen or len(chosen) > MAX_PROVIDERS:
        return see_other("/providers?nothing=1")
    app = request.app
    collections = collections_of(app)
    key = session_key(request)
    # "Add another care provider" from a batch page: join that batch if it still waits.
    join = str(form.get("batch") or "")[:64]
    # "Keep permission": ask each provider for long-lived consent (a refresh token).
    keep = form.get("keep") == "1"
    language = request_language(request)

    def work() -> str:
        directory = directory_of(app)
        batch, start_at = new_id(), 0
        if join:
            rows = collections.batch(user.id, join)
            if rows and any(r["state"] == "pending" for r in rows):
                waiting = {r["provider"] for r in rows if r["state"] == "pending"}
                for provider in waiting & set(chosen):
                    chosen.pop(provider)  # already in the queue
                batch, start_at = join, max(r["position"] for r in rows) + 1
                if not chosen:
                    return batch
        made = 0
        for position, (provider, services) in enumerate(chosen.items(), start=start_at):
            try:
                endpoints = provider_endpoints(directory, provider, services)
            except CollectError:
                continue
            collections.create(user.id, endpoints, channel="web", session_id=key, batch_id=batch, position=position,
                               long_lived=keep, language=language)
            made += 1
        if not made:
            raise HTTPException(400)
        return batch

    batch = await run_in_threadpool(work)
    return see_other(f"/collect/batch/{batch}")


@router.get("/collect/batch/{batch_id}")
async def batch_page(request: Request, batch_id: str, user: CurrentUser) -> Response:
    app = request.app

    def work():
        rows = collections_of(app).batch(user.id, batch_id)
        return describe_collections(rows, provider_names(app)) if rows else rows

    rows = await run_in_threadpool(work)
    if not rows:
        raise HTTPException(404)
    pending = [r for r in rows if r["state"] == "pending"]
    return render(request, "collect_batch.html", rows=rows, next_row=pending[0] if pending else None,
                  batch_id=batch_id,
                  first_visit=all(r["state"] == "pending" for r in rows),
                  active=any(r["state"] in ("queued", "running") for r in rows))


@router.get("/collect/{collection_id}/go")
async def go(request: Request, collection_id: str, user: CurrentUser) -> Response:
    """To the provider's authorization endpoint (a link, not a form: the CSP's
    form-action would block a form that ends on another site)."""
    app = request.app
    collections = collections_of(app)
    key = session_key(request)

    def work() -> str | None:
        view = collections.get(user.id, collection_id)
        if view is None or view["state"] != "pending":
            return None
        endpoints = provider_endpoints(directory_of(app), view["provider"], view["services"])
        return collections.authorize(user.id, collection_id, endpoints, session_id=key)

    try:
        url = await run_in_threadpool(work)
    except CollectError:
        url = None
    if url is None:
        raise HTTPException(404)
    return RedirectResponse(url, status_code=303)


@router.get("/collect/callback")
async def callback(request: Request) -> Response:
    """Back from the provider: ``code`` and ``state``, or ``error`` and ``state``."""
    received = read_callback(request)
    key = session_key(request)
    collections = collections_of(request.app)
    if received is None:
        return _callback_problem(request, "state-mismatch")
    if received.error:
        try:
            _cid, batch = await run_in_threadpool(collections.refuse, received.state, key, received.error)
        except CollectError as exc:
            return _callback_problem(request, exc.code)
        return _after(request, batch)
    try:
        claim = await run_in_threadpool(collections.claim, received.state, key)
    except CollectError as exc:
        return _callback_problem(request, exc.code)
    runner_of(request.app).start(claim, received.code)
    return _after(request, claim.batch_id, claim.channel)


def _after(request: Request, batch: str, channel: str = "web") -> Response:
    if channel == "web" and session_key(request) is not None:
        return see_other(f"/collect/batch/{batch}")
    # Started over the API or the CLI: nothing to show in this browser but where to look.
    return render(request, "collect_started.html")


def _callback_problem(request: Request, code: str) -> Response:
    return render(request, "collect_problem.html", 400, message=error_text(code))


@router.get("/collect/{collection_id}")
async def receipt_page(request: Request, collection_id: str, user: CurrentUser) -> Response:
    app = request.app

    def work():
        view = collections_of(app).get(user.id, collection_id)
        return describe_collections([view], provider_names(app))[0] if view else None

    view = await run_in_threadpool(work)
    if view is None:
        raise HTTPException(404)
    return render(request, "collect_receipt.html", row=view, receipt=view["receipt"], p=presenter(request),
                  service_states=SERVICE_STATES, error_text=error_text,
                  service_names=dict(zip(view["services"], view["service_names"], strict=False)))


@router.post("/collect/{collection_id}/retry")
async def retry(request: Request, collection_id: str, user: CurrentUser) -> Response:
    """Try again: a new collection with the services that failed (all when none did)."""
    app = request.app
    collections = collections_of(app)
    key = session_key(request)
    language = request_language(request)

    def work() -> str | None:
        view = collections.get(user.id, collection_id)
        if view is None or view["state"] not in ("done", "failed", "interrupted"):
            return None
        receipt = view["receipt"] or {}
        failed = [s["id"] for s in receipt.get("services", []) if s.get("state") != "complete"]
        endpoints = provider_endpoints(directory_of(app), view["provider"], failed or view["services"])
        batch = new_id()
        collections.create(user.id, endpoints, channel="web", session_id=key, batch_id=batch, language=language)
        return batch

    try:
        batch = await run_in_threadpool(work)
    except CollectError:
        batch = None
    if batch is None:
        raise HTTPException(404)
    return see_other(f"/collect/batch/{batch}")


@router.get("/collect")
async def history(request: Request, user: CurrentUser) -> Response:
    app = request.app
    collections = collections_of(app)

    def work():
        names = provider_names(app)
        rows = describe_collections(collections.history(user.id), names)
        consents = collections.consents(user.id)
        for c in consents:
            entry = names.get(c["provider"])
            c["provider_name"] = entry.display_name if entry else c["provider"]
        return rows, consents, collections.unfinished_batches(user.id)

    rows, consents, unfinished = await run_in_threadpool(work)
    return render(request, "collect_history.html", rows=rows, consents=consents, unfinished=unfinished,
                  schedule_choices=SCHEDULE_CHOICES, saved=request.query_params.get("saved") == "1",
                  revoked=request.query_params.get("revoked") == "1")


@router.post("/collect/consents/{consent_id}/schedule")
async def schedule(request: Request, consent_id: str, user: CurrentUser) -> Response:
    """The patient's schedule for a long-lived consent, and the e-mail about new data."""
    form = await request.form()
    try:
        days = int(str(form.get("days", "")))
    except ValueError:
        days = -1
    if days not in SCHEDULE_DAYS:
        raise HTTPException(400)
    email = form.get("email") == "1"
    done = await run_in_threadpool(collections_of(request.app).set_schedule, user.id, consent_id, days, email,
                                   language=request_language(request))
    if not done:
        raise HTTPException(404)
    return see_other("/collect?saved=1#consents-heading")


@router.post("/collect/consents/{consent_id}/revoke")
async def revoke(request: Request, consent_id: str, user: CurrentUser) -> Response:
    done = await run_in_threadpool(collections_of(request.app).revoke_consent, user.id, consent_id)
    if not done:
        raise HTTPException(404)
    return see_other("/collect?revoked=1")
