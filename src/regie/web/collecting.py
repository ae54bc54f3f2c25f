"""The web process's collector: one :class:`CollectionRunner` per app (the access tokens
of its jobs live in this process), the held provider directory, and the helpers the
pages and the API share."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request

from regie.collect.runner import CollectionRunner
from regie.collect.service import Collections
from regie.collect.texts import SERVICE_STATES, STATES, error_text
from regie.web.i18n import translations


def collections_of(app) -> Collections:
    collections = getattr(app.state, "collections", None)
    if collections is None:
        context = app.state.context
        collections = app.state.collections = Collections(context.settings, context.db, context.accounts.keyring)
    return collections


def directory_of(app):
    cache = getattr(app.state, "directory_cache", None)
    if cache is None:
        from regie.medmij.lists_client import CachedDirectory, ListsClient

        context = app.state.context
        client = getattr(app.state, "lists_client", None)
        if client is None:
            client = app.state.lists_client = ListsClient(context.settings, context.db)
        cache = app.state.directory_cache = CachedDirectory(client)
    return cache.get()


def runner_of(app) -> CollectionRunner:
    runner = getattr(app.state, "collect_runner", None)
    if runner is None:
        runner = app.state.collect_runner = CollectionRunner(
            collections_of(app), lambda: directory_of(app),
            transport=getattr(app.state, "collect_transport", None))
    return runner


def request_language(request: Request) -> str:
    """The language the patient uses: the language cookie of the web pages, else (API
    clients) the first known language of ``Accept-Language``, else Dutch. Kept with a
    collection and a lasting permission for what Regie sends later (the e-mail)."""
    from regie.web.i18n import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, LANGUAGES

    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def session_key(request: Request) -> str | None:
    from regie.web.sessions import current_session

    session = current_session(request)
    return session.id[:32] if session is not None else None


def explain(view: dict[str, Any], language: str = "nl") -> dict[str, Any]:
    """The API's view of a collection: the receipt with plain-language messages added."""
    gettext = translations(language).gettext
    data = dict(view)
    data["state_text"] = gettext(STATES.get(view["state"], view["state"]))
    code = view.get("error")
    data["error"] = {"code": code, "message": gettext(error_text(code))} if code else None
    receipt = view.get("receipt")
    if receipt:
        receipt = dict(receipt)
        services = []
        for s in receipt.get("services", []):
            s = dict(s)
            s["state_text"] = gettext(SERVICE_STATES.get(s.get("state"), s.get("state") or ""))
            s["message"] = gettext(error_text(s["error"])) if s.get("error") else None
            s["requests"] = [
                {**r, "message": gettext(error_text(r["error"]))} if r.get("error") else r
                for r in s.get("requests", [])
            ]
            services.append(s)
        receipt["services"] = services
        receipt["message"] = gettext(error_text(receipt["error"])) if receipt.get("error") else None
        data["receipt"] = receipt
    return data
