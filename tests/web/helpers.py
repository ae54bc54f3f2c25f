"""A tiny form-filling 'browser' over the TestClient, and TOTP codes on a test clock."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import event

from regie.web.context import AppContext

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'data-totp-secret="([A-Z2-7]+)"')
CODES = re.compile(r"<li><code>([a-z0-9-]{14})</code></li>")
PASSWORD = "paars-fietsje-wandelt-42"
LINK = re.compile(r"https?://\S+")


def outbox_mails(home: Path, to: str) -> list[tuple[str, str]]:
    """(subject, body) of every e-mail written to the outbox for ``to``, oldest first."""
    folder = home / "outbox"
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == to:
            found.append((str(message["Subject"]), message.get_content()))
    return found


def link_in_mail(home: Path, to: str, path_prefix: str) -> str:
    """The path (no host) of the newest link starting with ``path_prefix`` e-mailed to ``to``."""
    for _subject, body in reversed(outbox_mails(home, to)):
        for url in LINK.findall(body):
            if urlsplit(url).path.startswith(path_prefix):
                return urlsplit(url).path
    raise AssertionError(f"no e-mail to {to} with a link to {path_prefix}")


class TestClock:
    """Moves 30 s per code so each code is fresh (TOTP refuses replays)."""

    __test__ = False

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def code(self, secret: str) -> str:
        self.now += 30
        return pyotp.TOTP(secret).at(self.now)


@dataclass
class Account:
    email: str
    password: str
    totp_secret: str
    recovery_codes: list[str] = field(default_factory=list)


class Browser:
    __test__ = False

    def __init__(self, client: TestClient, context: AppContext, clock: TestClock | None = None,
                 mail_link: Callable[[str, str], str] | None = None) -> None:
        self.client = client
        self.context = context
        self.clock = clock or TestClock()
        context.accounts.clock = self.clock
        # Where registration mail is read: the outbox (no SMTP configured), or the caller's
        # SMTP inbox (a function of address and path prefix that returns the link's path).
        self.mail_link = mail_link or (lambda to, prefix: link_in_mail(context.settings.home, to, prefix))

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path} (status {page.status_code})"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], *, token_from: str | None = None, follow: bool = False):
        token = self.csrf(token_from or path)
        return self.client.post(path, data={**data, "csrf_token": token}, follow_redirects=follow)

    def register(self, email: str | None = None, password: str = PASSWORD) -> Account:
        email = email or f"patient-{secrets.token_hex(4)}@voorbeeld.nl"
        asked = self.post_form("/register", {"email": email})
        assert asked.status_code == 200, asked.text
        link = self.mail_link(email.lower(), "/register/continue/")
        opened = self.client.get(link, follow_redirects=False)
        assert opened.headers.get("location") == "/register/password", opened.text
        response = self.post_form("/register/password", {"password": password, "password_repeat": password})
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/setup"
        setup = self.client.get("/setup/totp")
        secret = SECRET.search(setup.text).group(1)
        confirmed = self.post_form("/setup/totp", {"code": self.clock.code(secret)}, token_from="/setup/totp")
        assert confirmed.status_code == 303, confirmed.text
        codes_page = self.client.get("/setup/recovery-codes")
        codes = CODES.findall(codes_page.text)
        assert len(codes) == 10
        return Account(email, password, secret, codes)

    def logout(self) -> None:
        response = self.post_form("/logout", {}, token_from="/")
        assert response.status_code == 303

    def password_step(self, account: Account, password: str | None = None):
        return self.post_form("/login", {"email": account.email, "password": password or account.password})

    def login(self, account: Account):
        first = self.password_step(account)
        assert first.headers["location"] == "/login/second-factor", first.text
        return self.post_form(
            "/login/second-factor", {"code": self.clock.code(account.totp_secret)}, token_from="/login/second-factor"
        )


def get_counting_statements(app, client: TestClient, path: str) -> tuple[str, list[str]]:
    """GET ``path`` (it must answer 200): its page and every statement it ran, on both of the
    database's pools (autocommit work has a pool of its own on PostgreSQL)."""
    statements: list[str] = []

    def listen(conn, cursor, sql, params, ctx, many) -> None:  # noqa: ANN001
        statements.append(" ".join(sql.split()))

    for engine in app.state.context.db.engines:
        event.listen(engine, "before_cursor_execute", listen)
    try:
        answer = client.get(path)
    finally:
        for engine in app.state.context.db.engines:
            event.remove(engine, "before_cursor_execute", listen)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.text, statements
