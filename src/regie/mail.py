"""E-mail through SMTP (``REGIE_SMTP_URL``, ``REGIE_SMTP_FROM``), or to the outbox folder.

``smtp://[user:password@]host[:port]`` (default port 587): STARTTLS when the server offers
it, and required unless the host is a loopback address; ``smtps://…`` (default port 465):
TLS from the start. Certificates are always verified. Callers put no medical content in
a message; this module logs only that a message went out, never its text or address.

Account e-mails (registration, password reset) go through :func:`deliver`: without SMTP
they are written to ``REGIE_HOME/outbox`` (one ``.eml`` file each, mode 0600), so nothing
is lost on a server without mail and a development set-up works (docs/security.md).
"""
from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import time
from pathlib import Path
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


def outbox_dir(settings: Settings) -> Path:
    return settings.home / "outbox"


def deliver(settings: Settings, to: str, subject: str, body: str) -> Path | None:
    """Send by SMTP when configured, else write the message to the outbox; the file or None.

    Raises MailError when SMTP is configured and sending fails.
    """
    if mail_configured(settings):
        send_mail(settings, to, subject, body)
        return None
    folder = outbox_dir(settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Sortable by time; the random part keeps two messages in one nanosecond apart.
    path = folder / f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(_message(settings, to, subject, body)))
    # Without SMTP outside development, no one receives these: say so every time.
    level = logging.INFO if settings.dev_mail_links else logging.WARNING
    log.log(level, "no SMTP server set: e-mail written to the outbox folder", extra={"kind": "account"})
    return path


def _message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.rp_id or "regie.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_url:
        raise MailError("REGIE_SMTP_URL is not set")
    parts = urlsplit(settings.smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("REGIE_SMTP_URL must look like smtp://host:port or smtps://host:port")
    host = parts.hostname
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    message = _message(settings, to, subject, body)
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
