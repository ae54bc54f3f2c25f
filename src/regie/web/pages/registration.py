"""Registration by e-mail: an address, then a link from the e-mail, then a password.

The first step answers the same page for every well-formed address; the e-mail says what
comes next (a link to go on, or: you already have an account). Enrolment of the second
factor follows as before (regie.web.pages.enrol).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from regie.accounts import email_links
from regie.accounts.email_flows import EmailFlows, PendingLink
from regie.accounts.errors import EmailTaken, ValidationFailed
from regie.web.pages._email_link_pages import (
    ask_for_mail,
    flows,
    open_link,
    password_pair_errors,
    pending_link,
)
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other, translated
from regie.web.sessions import client_info, start_session
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
_SCRATCH = "register_link"


@router.get("/register")
def register_page(request: Request) -> Response:
    return render(request, "register.html", errors={}, email="", problem=None)


@router.post("/register")
async def register(request: Request, email: FormText = "") -> Response:
    return await ask_for_mail(request, "register.html", email, EmailFlows.request_registration,
                              gettext_for(request)(N_("Open the link in it to go on making your account.")))


@router.get("/register/continue/{token}")
def open_registration_link(request: Request, token: str) -> Response:
    return open_link(request, email_links.REGISTER, token, _SCRATCH, "/register", "/register/password")


def _pending(request: Request) -> PendingLink | None:
    return pending_link(request, email_links.REGISTER, _SCRATCH)


@router.get("/register/password")
def password_page(request: Request) -> Response:
    link = _pending(request)
    if link is None:
        return see_other("/register")
    return render(request, "register_password.html", email=link.email, errors={})


@router.post("/register/password")
def choose_password(request: Request, password: FormText = "", password_repeat: FormText = "") -> Response:
    link = _pending(request)
    if link is None:
        return see_other("/register")
    errors = password_pair_errors(password, password_repeat)
    try:
        if errors:
            raise ValidationFailed(errors)
        user = flows(request).complete_registration(link.id, password, client_info(request))
    except ValidationFailed as exc:
        return render(request, "register_password.html", 422, email=link.email, errors=translated(request, exc.errors))
    except (LookupError, EmailTaken):
        return see_other("/login")
    start_session(request, user.id, "enrol")
    return see_other("/setup")
