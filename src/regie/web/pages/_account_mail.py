"""The account e-mails (registration, password reset): their words and sending them.

One module for the texts so the four e-mails read alike. Sent synchronously, for the
address that was typed, whether or not it has an account: the page after it is the same
either way, and so is the work (one e-mail), so neither the page nor its timing tells
whether an address is known (docs/security.md).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from regie.accounts.email_flows import MailDue
from regie.accounts.errors import Throttled
from regie.mail import MailError, deliver, mail_configured
from regie.web.i18n import N_
from regie.web.pages._helpers import _clock, gettext_for

log = logging.getLogger("regie.web.account_mail")

_SIGN_OFF = N_("Did you not ask for this? Then you can ignore this e-mail. Nothing changes.")

SUBJECTS = {
    "register-link": N_("Go on with your Regie account"),
    "account-exists": N_("You already have a Regie account"),
    "reset-link": N_("A new password for Regie"),
    "no-account": N_("A new password for Regie"),
}

BODIES = {
    "register-link": N_(
        "Someone, probably you, wants to make a Regie account with this e-mail address.\n\n"
        "Open this link to go on. The link works for {hours} hours and only once:\n\n{link}"),
    "account-exists": N_(
        "Someone, probably you, wants to make a Regie account with this e-mail address. "
        "But you already have an account with this address.\n\n"
        "Log in here:\n{login}\n\n"
        "Forgot your password? Make a new one here:\n{forgot}"),
    "reset-link": N_(
        "Someone, probably you, asked for a new password for your Regie account.\n\n"
        "Open this link to choose a new password. The link works for {minutes} minutes and only once:\n\n{link}\n\n"
        "After that, show that it is you with the code from your app, your passkey or a recovery code. "
        "Only then does the new password count."),
    "no-account": N_(
        "Someone, probably you, asked for a new password for a Regie account with this e-mail address. "
        "But there is no account with this address.\n\n"
        "Do you have an account with another e-mail address? Ask for a new password with that address.\n\n"
        "Do you want to make an account? Go to:\n{register}"),
}


@dataclass(frozen=True, slots=True)
class Sent:
    """What the page may show about the e-mail: in development only, its file and links."""

    outbox_file: Path | None
    links: tuple[str, ...]


def send_account_mail(request: Request, due: MailDue) -> Sent:
    """Send the e-mail ``due`` asks for; raise MailError when the mail server refuses."""
    settings = request.app.state.context.settings
    gettext = gettext_for(request)
    base = settings.public_url.rstrip("/")
    values = {
        "hours": settings.register_link_hours,
        "minutes": settings.reset_link_minutes,
        "link": f"{base}/register/continue/{due.token}" if due.kind == "register-link"
        else f"{base}/password/link/{due.token}",
        "login": f"{base}/login",
        "forgot": f"{base}/password/forgot",
        "register": f"{base}/register",
    }
    body = "\n\n".join([gettext("Hello,"), gettext(BODIES[due.kind]).format(**values), gettext(_SIGN_OFF), "Regie"])
    path = deliver(settings, due.email, gettext(SUBJECTS[due.kind]), body + "\n")
    shown = settings.dev_mail_links and not mail_configured(settings)
    links = tuple(line for line in body.splitlines() if line.startswith(base + "/")) if shown else ()
    return Sent(path if shown else None, links)


def mail_problem(request: Request, exc: Throttled | MailError) -> str:
    """Too many e-mails asked for, or the mail server refused: the same for every address."""
    gettext = gettext_for(request)
    if isinstance(exc, Throttled):
        return gettext("You asked for many e-mails in a short time. Try again after {time}.").format(
            time=_clock(exc.retry_at))
    return gettext("We could not send the e-mail just now. Try again later.")
