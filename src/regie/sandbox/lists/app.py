"""ASGI sub-app of the sandbox Stelselnode: serves the four lists and their
detached signatures at the production file names.

    GET /MedMij_Zorgaanbiederslijst.xml[?api=2]      application/xml
    GET /MedMij_Zorgaanbiederslijst.xml.jws           application/jose
    (likewise OAuthclientlist, Whitelist, Gegevensdienstnamenlijst)

``?api=`` is accepted and ignored: the sandbox publishes one version.
Mount it wherever the sandbox likes, e.g. ``Mount("/stelselnode", app=...)``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regie.medmij.lists import SIGNATURE_MEDIA_TYPE, ListKind

from .publisher import ListPublisher

# Lists change at any publication; clients must not cache them past a refresh.
_HEADERS = {"Cache-Control": "no-cache"}


def create_lists_app(publisher: ListPublisher) -> Starlette:
    def list_endpoint(kind: ListKind):
        async def serve(request: Request) -> Response:
            publication = publisher.current(kind)
            return Response(
                publication.xml,
                media_type="application/xml",
                headers={**_HEADERS, "X-MedMij-Volgnummer": str(publication.volgnummer)},
            )

        return serve

    def signature_endpoint(kind: ListKind):
        async def serve(request: Request) -> Response:
            return Response(
                publisher.current(kind).signature,
                media_type=SIGNATURE_MEDIA_TYPE,
                headers=_HEADERS,
            )

        return serve

    routes = []
    for kind in ListKind:
        routes.append(Route(f"/{kind.filename}", list_endpoint(kind), methods=["GET"]))
        routes.append(
            Route(f"/{kind.signature_filename}", signature_endpoint(kind), methods=["GET"])
        )
    app = Starlette(routes=routes)
    app.state.publisher = publisher
    return app
