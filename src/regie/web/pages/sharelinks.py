"""Share links: the owner's pages (make, list, see openings, revoke) and the recipient's
read-only page without an account (``/s/{token}``). See docs/share-links.md."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.accounts.sessions import read_scratch

from regie.sharelinks.emergency import SECTIONS as CARD_SECTIONS
from regie.sharelinks.qr import qr_svg
from regie.sharelinks.selection import (MAX_PER_SECTION, PERIODS, SHAREABLE, Selection, SelectionError, items_by_id,
                                       patient_details)
from regie.sharelinks.service import VALIDITY_HOURS, ShareLinkError, ShareLinks
from regie.store.models import User
from regie.store.record_queries import STATUS_CATEGORIES, Filters
from regie.web.guards import AccessContext, page_owner, record_access
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.pages.emergency import SECTION_NAMES as CARD_SECTION_NAMES
from regie.web.pages.viewer import open_record, presenter
from regie.web.present import CATEGORY_NAMES
from regie.web.sessions import client_info, context_of, current_session, ensure_session, remember
from regie.web.templating import DISPLAY_ZONE, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
Access = Annotated[AccessContext, Depends(record_access)]

#: Headers of every page that shows shared medical data (or could): never cached, the
#: secret URL never sent on as a referrer, never indexed.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}

ERRORS = {
    "share-selection-empty": N_("Choose at least one thing to share."),
    "share-selection-invalid": N_("This choice is not possible. Choose again."),
    "share-validity-invalid": N_("Choose how long the link works."),
    "share-name-required": N_("Fill in your name, so the doctor knows whose data it is."),
    "share-name-too-long": N_("The name is too long. Use at most 120 characters."),
    "share-label-too-long": N_("The description is too long. Use at most 100 characters."),
}
PERIOD_NAMES = {
    "": N_("Do not share"),
    "current": N_("Only what still applies"),
    "90d": N_("The last 3 months"),
    "365d": N_("The last year"),
    "all": N_("Everything"),
}
VALIDITY_NAMES = {1: N_("1 hour"), 4: N_("4 hours"), 24: N_("1 day"), 72: N_("3 days"), 168: N_("1 week"),
                  336: N_("2 weeks"), 720: N_("30 days")}
STATE_NAMES = {"active": N_("active"), "expired": N_("expired"), "revoked": N_("stopped"),
               "blocked": N_("blocked after too many wrong codes")}
#: Categories offered for picking single items on the form (the newest of each).
PICKABLE = ("problems", "medication", "allergies", "results", "vital_signs", "immunizations", "documents",
            "directives", "procedures", "encounters")
PICK_LIMIT = 30


def service_of(request: Request) -> ShareLinks:
    context = context_of(request)
    return ShareLinks(context.settings, context.db, context.accounts.keyring)


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _public_url(request: Request, token: str) -> str:
    base = context_of(request).settings.public_url.rstrip("/")
    return f"{base}/s/{token}"


def _periods_for(category: str) -> list[str]:
    return ["", *[p for p in PERIODS if p != "current" or category in STATUS_CATEGORIES]]


# -- the owner's pages ---------------------------------------------------------------------------
@router.get("/share-links")
def list_page(request: Request, user: CurrentUser) -> Response:
    links = service_of(request).list_for(user)
    return render(request, "sharelinks.html", links=links, states=STATE_NAMES)


def _form(request: Request, user: User, *, status: int = 200, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, problem: str | None = None) -> Response:
    values = values or {}
    chosen_items: list[str] = values.get("items", [])
    with open_record(request, user) as (repo, q):
        counts = q.category_counts()
        picks = {c: q.items(Filters(category=c, resource_types=("DocumentReference",) if c == "documents" else ()),
                            limit=PICK_LIMIT)[0] for c in PICKABLE if counts.get(c)}
        offered = {i["id"] for items in picks.values() for i in items}
        # Items asked for by id (from an item page) that the newest-first lists do not show.
        extra = items_by_id(q, [i for i in chosen_items if i not in offered])
        if "patient_name" not in values:
            values["patient_name"] = patient_details(q)[0]
        repo.audit(user.id, "list", [i["id"] for items in picks.values() for i in items] + [i["id"] for i in extra],
                   "web")
    gettext = gettext_for(request)
    return render(
        request, "sharelink_new.html", status, p=presenter(request), categories=SHAREABLE, counts=counts,
        category_names=CATEGORY_NAMES, periods_for=_periods_for, period_names=PERIOD_NAMES,
        validity=VALIDITY_HOURS, validity_names=VALIDITY_NAMES, picks=picks, extra=extra, values=values,
        errors={k: gettext(ERRORS.get(v, v)) for k, v in (errors or {}).items()}, problem=problem,
    )


@router.get("/share-links/new")
def new_page(request: Request, user: CurrentUser,
             item: Annotated[list[str] | None, Query(max_length=64)] = None,
             emergency_card: int = 0) -> Response:
    return _form(request, user, values={"items": [i for i in (item or [])[:100] if len(i) == 32],
                                        "emergency_card": bool(emergency_card), "hours": 24, "with_code": True})


@router.post("/share-links")
async def create(request: Request, access: Access) -> Response:
    form = await request.form()
    return await run_in_threadpool(_create, request, access, form)


def _create(request: Request, access: AccessContext, form) -> Response:
    user = access.owner
    categories = {c: str(form.get(f"cat_{c}") or "") for c in SHAREABLE}
    items = [str(i) for i in form.getlist("item")]
    try:
        hours = int(str(form.get("hours") or "0"))
    except ValueError:
        hours = 0
    values = {"categories": categories, "items": items, "emergency_card": form.get("emergency_card") == "1",
              "hours": hours, "label": str(form.get("label") or ""),
              "patient_name": str(form.get("patient_name") or ""), "with_code": form.get("with_code") == "1"}
    errors: dict[str, str] = {}
    selection = None
    try:
        selection = Selection.build(categories, items, values["emergency_card"])
    except SelectionError as exc:
        errors["selection"] = exc.code
    service = service_of(request)
    if selection is not None:
        try:
            # Someone acting for the owner (a parent) is named on the page as who shared it.
            created = service.create(user, actor_id=access.actor.id, selection=selection, hours=hours,
                                     label=values["label"], patient_name=values["patient_name"],
                                     shared_by=access.actor.email if access.for_other else None,
                                     with_code=values["with_code"])
        except ShareLinkError as exc:
            errors.update(exc.errors)
    if errors:
        return _form(request, user, status=422, values=values, errors=errors)
    url = _public_url(request, created.token)
    gettext = gettext_for(request)
    summary = service.get(user, created.link_id)
    return render(request, "sharelink_created.html", url=url, code=created.code, link=summary,
                  qr=qr_svg(url, gettext("QR code of the share link")), validity_names=VALIDITY_NAMES,
                  describe=_describer(request))


def _describer(request: Request):
    """A line per shared part, for the owner's pages: "Medication: only what still applies"."""
    gettext = gettext_for(request)

    def describe(selection: Selection) -> list[str]:
        lines = [f"{gettext(CATEGORY_NAMES[c])}: {gettext(PERIOD_NAMES[selection.categories[c]]).lower()}"
                 for c in SHAREABLE if c in selection.categories]
        if selection.items:
            lines.append(gettext(N_("{count} chosen items")).format(count=len(selection.items)))
        if selection.emergency_card:
            lines.append(gettext(N_("Your emergency card")))
        return lines

    return describe


@router.get("/share-links/{link_id}")
def detail_page(request: Request, link_id: str, user: CurrentUser, revoked: int = 0) -> Response:
    link = service_of(request).get(user, link_id[:32])
    if link is None:
        raise HTTPException(404)
    gettext = gettext_for(request)
    notice = gettext(N_("The link is stopped. Nobody can open it any more.")) if revoked else None
    return render(request, "sharelink_detail.html", link=link, states=STATE_NAMES, notice=notice,
                  describe=_describer(request))


@router.post("/share-links/{link_id}/revoke")
def revoke(request: Request, link_id: str, user: CurrentUser) -> Response:
    service = service_of(request)
    if service.get(user, link_id[:32]) is None:
        raise HTTPException(404)
    service.revoke(user, link_id[:32])
    return see_other(f"/share-links/{link_id[:32]}?revoked=1")


# -- the recipient's page (no account) -------------------------------------------------------------
def _unlocked(request: Request, link_id: str) -> bool:
    session = current_session(request)
    if session is None:
        return False
    return link_id in (read_scratch(session).get("share_unlocked") or [])


def _shared_page(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    return _private(render(request, template, status, p=presenter(request), category_names=CATEGORY_NAMES,
                           period_names=PERIOD_NAMES, card_sections=CARD_SECTIONS,
                           card_section_names=CARD_SECTION_NAMES, max_items=MAX_PER_SECTION,
                           **values))


@router.get("/s/{token}")
def shared(request: Request, token: str) -> Response:
    service = service_of(request)
    link_id = service.link_id_of(token[:120])
    view = service.view(token[:120], unlocked=bool(link_id) and _unlocked(request, link_id))
    if view.state == "unknown":
        return _shared_page(request, "shared_gone.html", 404)
    if view.state == "gone":
        return _shared_page(request, "shared_gone.html", 410)
    if view.state == "code":
        return _shared_page(request, "shared_code.html", token=token, errors={})
    return _shared_page(request, "shared.html", view=view, token=token[:120])


@router.get("/s/{token}/documents/{item_id}")
def shared_document(request: Request, token: str, item_id: str) -> Response:
    """A document of a shared page: only while the link works, only one it shows."""
    service = service_of(request)
    token, item_id = token[:120], item_id[:32]
    link_id = service.link_id_of(token)
    found = service.document(token, item_id, unlocked=bool(link_id) and _unlocked(request, link_id))
    if found is None:
        return _shared_page(request, "shared_gone.html", 404)
    content_type, payload, title = found
    inline = content_type == "application/pdf" or content_type.startswith("image/")
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "text/plain": "txt"}.get(
        content_type, "bin")
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title)[:80].strip() or "document"
    name = safe.encode("ascii", "replace").decode().replace("?", "_")
    return Response(payload, media_type=content_type, headers={
        **PRIVATE_HEADERS, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}.{extension}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
    })


@router.post("/s/{token}")
def shared_code(request: Request, token: str, code: Annotated[str, Form(max_length=40)] = "") -> Response:
    service = service_of(request)
    token = token[:120]
    gettext = gettext_for(request)
    link_id = service.link_id_of(token)
    if link_id is None:
        return _shared_page(request, "shared_gone.html", 404)
    if not code.strip():
        return _shared_page(request, "shared_code.html", 422, token=token,
                            errors={"code": gettext(N_("Fill in the code."))})
    check = service.check_code(token, code, client_info(request).ip)
    if check.outcome == "unknown":
        return _shared_page(request, "shared_gone.html", 404)
    if check.outcome == "gone":
        return _shared_page(request, "shared_gone.html", 410)
    if check.outcome == "locked":
        until = check.retry_at.astimezone(DISPLAY_ZONE).strftime("%H:%M") if check.retry_at else ""
        return _shared_page(request, "shared_code.html", 429, token=token, errors={
            "code": gettext(N_("Too many wrong codes. Try again after {time}.")).format(time=until)})
    if check.outcome == "wrong":
        return _shared_page(request, "shared_code.html", 401, token=token, errors={
            "code": gettext(N_("This code is not right. Ask the person who shared the link for the code."))})
    session = current_session(request) or ensure_session(request)
    unlocked = [i for i in (read_scratch(session).get("share_unlocked") or []) if i != link_id][-9:]
    remember(request, share_unlocked=[*unlocked, link_id])
    return _private(see_other(f"/s/{token}"))
