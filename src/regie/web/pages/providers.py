"""Provider search for patients (/providers) and the lists' state for administrators
(/admin/lists)."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.medmij.lists_client import CachedDirectory, ListsClient
from regie.store.models import User
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.sessions import context_of
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
MAX_QUERY = 100
MAX_RESULTS = 20

KIND_LABELS = {
    "huisarts": N_("GP practice"),
    "apotheek": N_("Pharmacy"),
    "ziekenhuis": N_("Hospital"),
    "ggz": N_("Mental health care"),
    "langdurige-zorg": N_("Long-term care"),
    "overig": N_("Other care provider"),
}
LIST_LABELS = {
    "ZAL": N_("Care provider list (ZAL)"),
    "OCL": N_("OAuth client list (OCL)"),
    "WHITELIST": N_("Whitelist"),
    "GNL": N_("Service name list (GNL)"),
    "DETAILS": N_("Provider details"),
}


def lists_client(request: Request) -> ListsClient:
    context = context_of(request)
    client = getattr(request.app.state, "lists_client", None)
    if client is None:
        client = request.app.state.lists_client = ListsClient(context.settings, context.db)
    return client


def directory_cache(request: Request) -> CachedDirectory:
    cache = getattr(request.app.state, "directory_cache", None)
    if cache is None:
        cache = request.app.state.directory_cache = CachedDirectory(lists_client(request))
    return cache


@router.get("/providers")
async def providers(request: Request, user: CurrentUser, q: str = "", batch: str = "") -> Response:
    query = q.strip()[:MAX_QUERY]
    # From a collection's queue ("add another care provider"): the choice joins that queue.
    batch = batch if batch.isalnum() and len(batch) <= 64 else ""
    directory = await run_in_threadpool(directory_cache(request).get)
    results = directory.search(query, MAX_RESULTS) if query else []
    return render(
        request, "providers.html", query=query, results=results, kind_labels=KIND_LABELS,
        directory_empty=len(directory) == 0, batch=batch,
    )


def _age_parts(age: timedelta | None) -> tuple[int, int] | None:
    if age is None:
        return None
    minutes = max(0, int(age.total_seconds() // 60))
    return minutes // 60, minutes % 60


@router.get("/admin/lists")
async def admin_lists(request: Request, user: CurrentUser) -> Response:
    if not user.is_admin:
        raise HTTPException(403)
    client = lists_client(request)
    rows = await run_in_threadpool(client.status)
    return render(
        request, "admin_lists.html", rows=[(s, _age_parts(s.age())) for s in rows],
        list_labels=LIST_LABELS, configured=client.configured,
        refresh_hours=context_of(request).settings.lists_refresh_hours,
    )
