"""Page steps that registration and password reset share: ask for an address and send the
e-mail, open the e-mailed link, find the link this session holds, check a new password pair.

Both flows must answer alike for known and unknown addresses (docs/security.md), so they
go through the same code rather than two copies that could drift apart.
"""
from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from regie.accounts.email_flows import EmailFlows, MailDue, PendingLink
from regie.accounts.errors import Throttled, ValidationFailed
from regie.accounts.sessions import read_scratch
from regie.mail import MailError
from regie.web.pages._account_mail import mail_problem, send_account_mail
from regie.web.mail_lane import send_in_mail_lane
from regie.web.pages._helpers import gettext_for, see_other, translated
from regie.web.sessions import client_info, context_of, current_session, ensure_session, remember
from regie.web.templating import render

#: ``EmailFlows.request_registration`` or ``EmailFlows.request_reset``.
MailRequest = Callable[[EmailFlows, str, object], MailDue]


def flows(request: Request) -> EmailFlows:
    return EmailFlows(context_of(request).accounts)


async def ask_for_mail(request: Request, form_template: str, email: str, ask: MailRequest,
                       next_text: str) -> Response:
    """Send the e-mail ``ask`` decides on; the same page follows for every address. The
    database work runs on the page threads, the sending on the mail lane (regie.web.mail_lane)."""
    try:
        due = await run_in_threadpool(ask, flows(request), email, client_info(request))
        sent = await send_in_mail_lane(request, send_account_mail, request, due)
    except ValidationFailed as exc:
        return await run_in_threadpool(render, request, form_template, 422,
                                       errors=translated(request, exc.errors), email=email, problem=None)
    except (Throttled, MailError) as exc:
        status = 429 if isinstance(exc, Throttled) else 503
        return await run_in_threadpool(render, request, form_template, status, errors={}, email=email,
                                       problem=mail_problem(request, exc))
    return await run_in_threadpool(render, request, "mail_sent.html", email=due.email, sent=sent,
                                   next_text=next_text)


def open_link(request: Request, kind: str, token: str, scratch_key: str, start_again: str, next_path: str) -> Response:
    """Keep the link in the session and send the browser on, so the token leaves the
    address bar (and the browser history) at once."""
    found, link = flows(request).open_link(kind, token)
    if link is None:
        return link_problem(request, found, start_again)
    ensure_session(request)
    remember(request, **{scratch_key: link.id})
    return see_other(next_path)


def pending_link(request: Request, kind: str, scratch_key: str) -> PendingLink | None:
    """The e-mailed link this session opened, while it is still usable."""
    row = current_session(request)
    token_id = read_scratch(row).get(scratch_key) if row is not None else None
    return flows(request).pending(kind, token_id)


def password_pair_errors(password: str, repeat: str) -> dict[str, str]:
    """Empty or typed differently twice; the password rules themselves are the accounts'."""
    if not password:
        return {"password": "password-required"}
    if repeat != password:
        return {"password_repeat": "passwords-differ"}
    return {}


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
