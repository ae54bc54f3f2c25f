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
from regie.accounts.email_flows import EmailFlows
from regie.accounts.errors import EmailTaken, Throttled, ValidationFailed
from regie.accounts.sessions import read_scratch
from regie.mail import MailError
from regie.web.pages._account_mail import mail_problem, send_account_mail
from regie.web.pages._helpers import gettext_for, see_other, translated
from regie.web.sessions import client_info, context_of, current_session, ensure_session, remember, start_session
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
_SCRATCH = "register_link"


def flows(request: Request) -> EmailFlows:
    return EmailFlows(context_of(request).accounts)


@router.get("/register")
def register_page(request: Request) -> Response:
    return render(request, "register.html", errors={}, email="", problem=None)


@router.post("/register")
def register(request: Request, email: FormText = "") -> Response:
    try:
        due = flows(request).request_registration(email, client_info(request))
        sent = send_account_mail(request, due)
    except ValidationFailed as exc:
        return render(request, "register.html", 422, errors=translated(request, exc.errors), email=email, problem=None)
    except (Throttled, MailError) as exc:
        status = 429 if isinstance(exc, Throttled) else 503
        return render(request, "register.html", status, errors={}, email=email, problem=mail_problem(request, exc))
    gettext = gettext_for(request)
    return render(request, "mail_sent.html", email=due.email, sent=sent,
                  next_text=gettext("Open the link in it to go on making your account."))


@router.get("/register/continue/{token}")
def open_registration_link(request: Request, token: str) -> Response:
    found, link = flows(request).open_link(email_links.REGISTER, token)
    if link is None:
        return link_problem(request, found, "/register")
    ensure_session(request)
    remember(request, **{_SCRATCH: link.id})
    # The token leaves the address bar (and the browser history) at once.
    return see_other("/register/password")


def link_problem(request: Request, found: str, start_again: str) -> Response:
    """The page for a link that does not work (any more), saying why."""
    gettext = gettext_for(request)
    reasons = {
        "used": gettext("You already used this link. A link works only once."),
        "expired": gettext("This link is too old. For your safety a link works only for a short time."),
    }
    reason = reasons.get(found, gettext("This link is not right. Did you copy the whole link from the e-mail?"))
    return render(request, "link_problem.html", 404 if found == "unknown" else 410, reason=reason,
                  start_again=start_again)


def _pending(request: Request):
    row = current_session(request)
    token_id = read_scratch(row).get(_SCRATCH) if row is not None else None
    return flows(request).pending(email_links.REGISTER, token_id)


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
    errors: dict[str, str] = {}
    if not password:
        errors["password"] = "password-required"
    elif password_repeat != password:
        errors["password_repeat"] = "passwords-differ"
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
