"""Account enumeration: registration, login and password reset answer an unknown address
exactly like a known one, in content (page and API) and in time (within a tolerance).

Login runs with a real Argon2 cost, so a skipped hash would show. Registration and reset
send one e-mail either way (through a local aiosmtpd server here, so the time includes a
real SMTP round trip); the e-mail, which only the owner of the mailbox reads, says whether
there is an account.
"""
from __future__ import annotations

import email
import statistics
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from regie.accounts.activity import ClientInfo
from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.web.app import create_app
from tests.conftest import fast_settings
from tests.sandbox.live import free_port
from tests.web.helpers import CSRF, PASSWORD, Browser

ROUNDS = 7  # below the lock-out (10 failures) of the known account
MAIL_ROUNDS = 9


def _browser(tmp_path: Path, database_url: str, **overrides) -> Iterator[Browser]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = fast_settings(home, database_url, **overrides)
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield Browser(client, app.state.context)
    app.state.context.db.dispose()


@pytest.fixture
def real_cost_browser(tmp_path: Path, database_url: str) -> Iterator[Browser]:
    # A real memory-hard cost (about 20-40 ms a hash), unlike the other tests.
    yield from _browser(tmp_path, database_url, argon2_time_cost=2, argon2_memory_cost_kib=19456)


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def mail_world(tmp_path: Path, database_url: str) -> Iterator[tuple[Browser, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Quotas up: this test asks for more e-mails per address than a person may.
        for browser in _browser(tmp_path, database_url, smtp_url=f"smtp://127.0.0.1:{port}",
                                smtp_from="Regie <regie@voorbeeld.nl>", mail_quota_per_address=100,
                                mail_quota_per_ip=100):
            yield browser, inbox
    finally:
        controller.stop()


def _timed(browser: Browser, path: str, data: dict[str, str]) -> tuple[float, int, str]:
    token = browser.csrf(path)
    started = time.perf_counter()
    response = browser.client.post(path, data={**data, "csrf_token": token})
    return time.perf_counter() - started, response.status_code, response.text


def _alike(known: list[float], unknown: list[float]) -> None:
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (ratio, known, unknown)


def test_login_answers_alike_in_content_and_time(real_cost_browser: Browser) -> None:
    browser = real_cost_browser
    account = browser.register()
    browser.logout()
    known, unknown = [], []
    for n in range(ROUNDS):  # interleaved, so load on the machine hits both alike
        data = {"email": account.email, "password": "verkeerd-wachtwoord-99"}
        elapsed, status, text = _timed(browser, "/login", data)
        known.append(elapsed)
        assert status == 401
        known_text = CSRF.sub("", text).replace(account.email, "")
        elapsed, status, text = _timed(browser, "/login", {**data, "email": f"niemand{n}@voorbeeld.nl"})
        unknown.append(elapsed)
        assert status == 401
        assert CSRF.sub("", text).replace(f"niemand{n}@voorbeeld.nl", "") == known_text
    _alike(known, unknown)  # a skipped hash would be far below 0.5

    api_known = browser.client.post("/api/v1/auth/login", json={"email": account.email, "password": "fout-fout-fout-1", "otp": "123456"})
    api_unknown = browser.client.post("/api/v1/auth/login", json={"email": "nergens@voorbeeld.nl",
                                                                   "password": "fout-fout-fout-1", "otp": "123456"})
    assert api_known.status_code == api_unknown.status_code == 401
    assert api_known.json() == api_unknown.json()


def _known_address(browser: Browser) -> str:
    address = "bekend@voorbeeld.nl"
    browser.context.accounts.register(address, PASSWORD, ClientInfo())
    return address


@pytest.mark.parametrize("path, known_subject, unknown_subject", [
    ("/register", "U heeft al een Regie-account", "Ga verder met uw Regie-account"),
    ("/password/forgot", "Een nieuw wachtwoord voor Regie", "Een nieuw wachtwoord voor Regie"),
])
def test_registration_and_reset_answer_alike_in_content_and_time(
        mail_world: tuple[Browser, Inbox], path: str, known_subject: str, unknown_subject: str) -> None:
    browser, inbox = mail_world
    address = _known_address(browser)
    known, unknown = [], []
    for n in range(MAIL_ROUNDS):
        elapsed, status, text = _timed(browser, path, {"email": address})
        known.append(elapsed)
        assert status == 200
        known_text = CSRF.sub("", text).replace(address, "")
        stranger = f"nieuw{n}@voorbeeld.nl"
        elapsed, status, text = _timed(browser, path, {"email": stranger})
        unknown.append(elapsed)
        assert status == 200
        assert CSRF.sub("", text).replace(stranger, "") == known_text
    _alike(known, unknown)
    # One e-mail per request, each to the address typed; only its words differ.
    assert len(inbox.messages) == 2 * MAIL_ROUNDS
    to_known = [m for m in inbox.messages if m["To"] == address]
    to_others = [m for m in inbox.messages if m["To"] != address]
    assert {m["Subject"] for m in to_known} == {known_subject}
    assert {m["Subject"] for m in to_others} == {unknown_subject}
    if path == "/register":
        assert all("/register/continue/" in m.get_content() for m in to_others)
        assert not any("/register/continue/" in m.get_content() for m in to_known)
    else:
        assert all("/password/link/" in m.get_content() for m in to_known)
        assert not any("/password/link/" in m.get_content() for m in to_others)


@pytest.mark.parametrize("path", ["/register", "/password/forgot"])
def test_the_mail_quota_answers_alike_for_known_and_unknown_addresses(
        tmp_path: Path, database_url: str, path: str) -> None:
    for browser in _browser(tmp_path, database_url, mail_quota_per_address=2):
        address = _known_address(browser)
        answers = []
        for typed in (address, "onbekend@voorbeeld.nl"):
            statuses = [browser.post_form(path, {"email": typed}).status_code for _ in range(2)]
            refused = browser.post_form(path, {"email": typed})
            answers.append((statuses, refused.status_code, CSRF.sub("", refused.text).replace(typed, "")))
        assert answers[0] == answers[1]
        assert answers[0][:2] == ([200, 200], 429)
        assert "in korte tijd veel e-mails gevraagd" in answers[0][2]
        sent = len(list((browser.context.settings.home / "outbox").glob("*.eml")))
        assert sent == 4  # the refused requests sent nothing
