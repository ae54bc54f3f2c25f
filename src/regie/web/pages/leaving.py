"""Deleting an account: the offer to export first, re-authentication (the second factor
within the last minutes and the password now), the erasure, and the confirmation.
See docs/leaving.md."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from regie.accounts.errors import InvalidCredentials, Throttled
from regie.accounts.sessions import read_scratch
from regie.leaving.children import orphaned_by
from regie.leaving.erase import erase_user
from regie.store.models import User
from regie.web.guards import delegations_of, page_user, stepped_up
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other, throttle_text
from regie.web.sessions import client_info, context_of, current_session, end_session, ensure_session, remember
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_user)]
FormText = Annotated[str, Form(max_length=1024)]
#: Where the export lives (regie.portability); the page offers it before anything is deleted.
EXPORT_PATH = "/export"


def _page(request: Request, user: User, status: int = 200, errors: dict[str, str] | None = None,
          problem: str | None = None) -> Response:
    context = context_of(request)
    labels = delegations_of(request.app)
    children = [labels.owner_label(child_id) for child_id in orphaned_by(context.db, user.id)]
    return render(request, "account_delete.html", status, stepped_up=stepped_up(request), errors=errors or {},
                  problem=problem, export_path=EXPORT_PATH, children=children)


@router.get("/account/delete")
def delete_page(request: Request, user: CurrentUser) -> Response:
    return _page(request, user)


@router.post("/account/delete")
def delete_account(request: Request, user: CurrentUser, password: FormText = "",
                   understood: Annotated[str, Form(max_length=5)] = "") -> Response:
    if not stepped_up(request):
        return see_other("/account/confirm?next=/account/delete")
    gettext = gettext_for(request)
    errors: dict[str, str] = {}
    if understood != "1":
        errors["understood"] = gettext(N_("Tick the box to show you understand that this cannot be undone."))
    if not password:
        errors["password"] = gettext(N_("Fill in your password."))
    if errors:
        return _page(request, user, 422, errors)
    context = context_of(request)
    try:
        context.accounts.check_password(user.email, password, client_info(request))
    except Throttled as exc:
        return _page(request, user, 429, problem=throttle_text(request, exc))
    except InvalidCredentials:
        return _page(request, user, 401, {"password": gettext(N_("Your password is not right."))})
    # A child's record nobody else could reach any more goes first (the page said so).
    for child_id in orphaned_by(context.db, user.id):
        erase_user(context.db, child_id)
    erase_user(context.db, user.id)
    # The erasure removed every session of the account; this browser starts afresh.
    end_session(request)
    ensure_session(request)
    remember(request, account_deleted=True)
    return see_other("/account/deleted")


@router.get("/account/deleted")
def deleted_page(request: Request) -> Response:
    session = current_session(request)
    if session is None or session.user_id is not None or not read_scratch(session).get("account_deleted"):
        return see_other("/login")
    return render(request, "account_deleted.html")
