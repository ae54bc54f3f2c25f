"""The web process's sends: the :class:`Sends` store per app, the providers that receive
a service, and starting a send (shared by the pages and the API)."""
from __future__ import annotations

from typing import Any

from regie.collect.service import CollectError, provider_endpoints
from regie.share.service import Sends
from regie.web.collecting import directory_of


def sends_of(app) -> Sends:
    sends = getattr(app.state, "sends", None)
    if sends is None:
        context = app.state.context
        sends = app.state.sends = Sends(context.settings, context.db, context.accounts.keyring)
    return sends


def receivers(app, service_id: str) -> list[tuple[str, str]]:
    """(Zorgaanbiedernaam, name) of every provider on the ZAL that offers *service_id*."""
    try:
        directory = directory_of(app)
    except Exception:  # no lists yet: nobody to send to
        return []
    return [(p.zorgaanbiedernaam, p.display_name) for p in directory.providers
            if any(s.id == service_id for s in p.services)]


def provider_name(app, provider: str) -> str:
    try:
        entry = directory_of(app).provider(provider)
    except Exception:
        entry = None
    return entry.display_name if entry else provider


def authorization_url(app, user_id: str, send_id: str, session_id: str | None) -> str | None:
    sends = sends_of(app)
    view = sends.get(user_id, send_id, with_bundle=False)
    if view is None or view["state"] != "pending":
        return None
    try:
        endpoints = provider_endpoints(directory_of(app), view["provider"], [view["service"]])
    except CollectError:
        return None
    return sends.authorize(user_id, send_id, endpoints, session_id=session_id)


def check_receiver(app, provider: str, service_id: str) -> str | None:
    """The Zorgaanbiedernaam when *provider* receives *service_id*, else None."""
    from regie.collect.service import normalise_provider

    name = normalise_provider(provider) if provider else ""
    return name if any(p == name for p, _ in receivers(app, service_id)) else None


def start(app, user_id: str, *, kind: str, provider: str, service_id: str, bundle: dict[str, Any],
          channel: str, session_id: str | None) -> str:
    return sends_of(app).create(user_id, kind=kind, provider=provider, service_id=service_id, bundle=bundle,
                                channel=channel, session_id=session_id)
