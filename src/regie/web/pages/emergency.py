"""The emergency card: view, edit, print (docs/share-links.md)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.sharelinks.emergency import SECTIONS, CardContent, CardError, EmergencyCards, ResolvedCard
from regie.sharelinks.selection import patient_details
from regie.store.models import User
from regie.web.guards import AccessContext, page_owner, record_access
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.pages.viewer import open_record, presenter
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
Access = Annotated[AccessContext, Depends(record_access)]

SECTION_NAMES = {
    "allergies": N_("Allergies"),
    "medication": N_("Medication I use"),
    "problems": N_("Important health problems"),
    "directives": N_("Wishes and directives"),
}
ERRORS = {
    "card-field-too-long": N_("This is too long. Use at most 120 characters."),
    "card-text-too-long": N_("This is too long. Use at most 1000 characters."),
    "card-phone-invalid": N_("This is not a phone number. Use digits, for example 06 12345678."),
}
_cards = EmergencyCards()


def _load(request: Request, access: AccessContext) -> tuple[CardContent | None, ResolvedCard | None,
                                                         tuple[str, str | None]]:
    user = access.owner
    with open_record(request, user) as (repo, q):
        content = _cards.load(repo.session, repo.keys)
        card = _cards.resolve(content, q) if content is not None else None
        # A helper who may read only some categories sees only those sections' own lines too
        # (the record items are limited by the store already).
        limits = access.grant.categories if access.for_other else None
        if card is not None and limits is not None:
            card.lines = {s: (lines if s in limits else []) for s, lines in card.lines.items()}
        person = patient_details(q)
        if card is not None:
            repo.audit(user.id, "list", [i["id"] for items in card.sections.values() for i in items], "web")
    return content, card, person


def _values(request: Request) -> dict[str, Any]:
    return {"p": presenter(request), "card_sections": SECTIONS, "card_section_names": SECTION_NAMES}


@router.get("/emergency-card")
def card_page(request: Request, access: Access, saved: int = 0) -> Response:
    content, card, (name, birth) = _load(request, access)
    gettext = gettext_for(request)
    return render(request, "emergency_card.html", card=card, name=(content.name if content else "") or name,
                  birth_date=(content.birth_date if content else "") or (birth or ""),
                  notice=gettext(N_("Your emergency card is saved.")) if saved else None, **_values(request))


@router.get("/emergency-card/print")
def print_page(request: Request, access: Access) -> Response:
    content, card, (name, birth) = _load(request, access)
    if card is None:
        return see_other("/emergency-card/edit")
    return render(request, "emergency_print.html", card=card, name=content.name or name,
                  birth_date=content.birth_date or (birth or ""), **_values(request))


def _edit(request: Request, user: User, status: int = 200, form: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None) -> Response:
    with open_record(request, user) as (repo, q):
        content = _cards.load(repo.session, repo.keys)
        candidates = _cards.candidates(q)
        name, birth = patient_details(q)
        repo.audit(user.id, "list", [i["id"] for items in candidates.values() for i in items], "web")
    if form is None:
        if content is None:
            content = CardContent(name=name, birth_date=birth or "", items=_cards.suggested(candidates))
        form = content.to_json()
    gettext = gettext_for(request)
    return render(request, "emergency_edit.html", status, candidates=candidates, form=form,
                  errors={k: gettext(ERRORS.get(v, v)) for k, v in (errors or {}).items()}, **_values(request))


@router.get("/emergency-card/edit")
def edit_page(request: Request, user: CurrentUser) -> Response:
    return _edit(request, user)


@router.post("/emergency-card/edit")
async def save(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    return await run_in_threadpool(_save, request, user, form)


def _save(request: Request, user: User, form) -> Response:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    fields = {"name": text("name"), "birth_date": text("birth_date"), "contact_name": text("contact_name"),
              "contact_relation": text("contact_relation"), "contact_phone": text("contact_phone"),
              "notes": text("notes")}
    extra = {section: text(f"extra_{section}") for section in SECTIONS}
    items = [i for i in form.getlist("item") if isinstance(i, str)]
    try:
        content = CardContent.build(items=items, extra=extra, **fields)
    except CardError as exc:
        return _edit(request, user, 422, form={**fields, "items": items, "extra": extra}, errors=exc.errors)
    with open_record(request, user, reading=False) as (repo, _):
        _cards.save(repo.session, repo.keys, content)
    return see_other("/emergency-card?saved=1")
