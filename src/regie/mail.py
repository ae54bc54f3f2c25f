"""E-mail through SMTP (``REGIE_SMTP_URL``, ``REGIE_SMTP_FROM``).

``smtp://[user:password@]host[:port]`` (default port 587): STARTTLS when the server offers
it, and required unless the host is a loopback address; ``smtps://…`` (default port 465):
TLS from the start. Certificates are always verified. Callers put no medical content in
a message; this module logs only that a message went out, never its text or address.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from regie.config import Settings
from regie.medmij.http import is_loopback_host

log = logging.getLogger("regie.mail")


class MailError(Exception):
    """The message could not be sent (not configured, refused, no TLS)."""


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_url)


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_url:
        raise MailError("REGIE_SMTP_URL is not set")
    parts = urlsplit(settings.smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("REGIE_SMTP_URL must look like smtp://host:port or smtps://host:port")
    host = parts.hostname
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.rp_id or "regie.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    context = ssl.create_default_context()
    timeout = settings.smtp_timeout_seconds
    try:
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if parts.scheme == "smtp":
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif not is_loopback_host(host):
                    raise MailError("the mail server offers no STARTTLS; not sending in the clear")
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"sending failed ({type(exc).__name__})") from exc
    log.info("e-mail sent", extra={"kind": "notification"})
