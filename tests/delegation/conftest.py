"""An app that sends e-mail to a local SMTP server (aiosmtpd), on both databases."""
from __future__ import annotations

import email
import socket
import time
from dataclasses import dataclass
from email import policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from regie.config import Settings
from regie.web.app import create_app
from tests.conftest import migrate
from tests.web.helpers import LINK, Browser, TestClock


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def take_link(self, to: str, path_prefix: str) -> str:
        """The path of the newest link to ``path_prefix`` mailed to ``to``; that message is
        taken out, so a test counting invitations does not count registration mail."""
        for message in reversed(self.messages):
            if message["To"] != to:
                continue
            for url in LINK.findall(message.get_content()):
                if urlsplit(url).path.startswith(path_prefix):
                    self.messages.remove(message)
                    return urlsplit(url).path
        raise AssertionError(f"no e-mail to {to} with a link to {path_prefix}")

    def wait(self, count: int) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + 5
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.messages) >= count, self.messages
        return self.messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Site:
    app: object
    inbox: Inbox
    clock: TestClock

    def browser(self) -> Browser:
        """A new visitor with an own cookie jar; TOTP codes on the shared test clock."""
        client = TestClient(self.app, base_url="http://localhost", raise_server_exceptions=False)
        return Browser(client, self.app.state.context, self.clock, mail_link=self.inbox.take_link)


@pytest.fixture
def site(settings: Settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}",
                                              "smtp_from": "Regie <regie@voorbeeld.nl>"})
        migrate(mailing.resolved_database_url)
        app = create_app(mailing)
        yield Site(app, inbox, TestClock())
        app.state.context.db.dispose()
    finally:
        controller.stop()
