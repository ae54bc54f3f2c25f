"""A real PostgreSQL restart under a read load: `regie serve` (a process of its own, forked
from the test process: tests/processes.py) on a private
cluster (tests/reliability/private_postgres.py), two clients reading without pause (the JSON
API with a token, the overview page with a signed-in session), the server stopped for a few
seconds and later restarted with ``pg_ctl restart -m fast``.

While the database is away every request fails fast (well under 5 s) with a friendly 503:
a problem document "try again" on the API, a page saying so on the web, ``Retry-After`` on
both, never a 500 or a stack trace; /healthz and /readyz say 503. Once it is back every
request succeeds again without restarting Regie (the pool's pre-ping replaces the dead
connections)."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp
import pytest

from regie.cli._common import open_accounts
from regie.cli.user import create_enrolled_user
from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.web.app import create_app
from tests.collect.harness import api_token
from tests.conftest import _require, fast_settings
from tests.processes import Server, environment
from tests.reliability.private_postgres import missing_reason, private_cluster
from tests.sandbox.live import free_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "paars-fietsje-wandelt-42"
FAST = 5.0  # seconds: a request slower than this while the database is away "hangs"


@dataclass
class Seen:
    at: float  # when the answer came
    kind: str
    status: int
    seconds: float
    body: str

    @property
    def sent(self) -> float:
        return self.at - self.seconds


@dataclass
class Load:
    """Two clients reading back to back in a thread until stopped."""

    api: httpx.Client
    page: httpx.Client
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for kind, client, path in (("api", self.api, "/api/v1/record/summary"), ("page", self.page, "/"),
                                       ("health", self.api, "/healthz")):
                t0 = time.monotonic()
                try:
                    response = client.get(path)
                    status, body = response.status_code, response.text
                    retry_after = response.headers.get("retry-after")
                except httpx.HTTPError as exc:
                    status, body, retry_after = 0, type(exc).__name__, None
                if status == 503 and kind != "health":
                    body = f"retry-after={retry_after}\n{body}"
                self.seen.append(Seen(time.monotonic(), kind, status, time.monotonic() - t0, body))
            time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Seen]:
        return [s for s in self.seen if start <= s.at <= end]

    def sent_and_answered_between(self, start: float, end: float) -> list[Seen]:
        # By the time a request was sent, not answered: on a busy machine a request the
        # database served just before it stopped can be answered a second later.
        return [s for s in self.seen if start <= s.sent and s.at <= end]


def _login(page: httpx.Client, email: str, secret: str) -> None:
    token = CSRF.search(page.get("/login").text).group(1)
    first = page.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert first.headers.get("location") == "/login/second-factor", first.text[:300]
    token = CSRF.search(page.get("/login/second-factor").text).group(1)
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the current code was used to enrol
    done = page.post("/login/second-factor", data={"code": code, "csrf_token": token})
    assert done.status_code == 303 and "/login" not in done.headers.get("location", ""), done.text[:300]
    assert page.get("/").status_code == 200


def _friendly(seen: Seen) -> str | None:
    """What is wrong with one answer given while the database is away, or None."""
    if seen.seconds >= FAST:
        return f"{seen.kind} took {seen.seconds:.1f} s"
    if seen.status == 200:
        return None  # answered before the database went, or from what it already had
    if seen.status != 503:
        return f"{seen.kind} answered {seen.status}: {seen.body[:200]}"
    if "Traceback" in seen.body or "OperationalError" in seen.body:
        return f"{seen.kind} showed internals: {seen.body[:200]}"
    if seen.kind == "api":
        if "retry-after=5" not in seen.body or "urn:regie:problem:unavailable" not in seen.body:
            return f"api 503 is not the unavailable problem with Retry-After: {seen.body[:200]}"
    if seen.kind == "page" and ("retry-after=5" not in seen.body or "<html" not in seen.body.lower()):
        return f"page 503 is not a page with Retry-After: {seen.body[:200]}"
    return None


def test_postgres_restarted_under_load_fails_fast_and_recovers(tmp_path: Path) -> None:
    reason = missing_reason()
    if reason:
        if _require("REQUIRE_POSTGRES"):
            pytest.fail(f"{reason}, and REQUIRE_POSTGRES=1 is set")
        pytest.skip(reason)
    with private_cluster() as cluster:
        home = tmp_path / "home"
        home.mkdir()
        port = free_port()
        settings = fast_settings(home, cluster.url, public_url=f"http://127.0.0.1:{port}", log_level="WARNING")
        database = Database(settings.database_url)
        upgrade(database.engine)
        database.dispose()
        app = create_app(settings)
        _user, token = api_token(app.state.context)
        app.state.context.db.dispose()
        accounts = open_accounts(settings)
        enrolled = create_enrolled_user(accounts, "lezer@voorbeeld.nl", PASSWORD)
        accounts.db.dispose()

        server = Server(environment(settings), port, tmp_path / "serve.log")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api, \
                httpx.Client(base_url=base, timeout=30) as page:
            try:
                server.start()
                _login(page, enrolled["email"], enrolled["totp_secret"])
                load = Load(api, page)
                thread = threading.Thread(target=load.run, daemon=True)
                thread.start()
                try:
                    time.sleep(1.5)
                    warm_end = time.monotonic()
                    # 1. The database is away for a few seconds.
                    cluster.stop("fast")
                    down = time.monotonic()
                    time.sleep(3.0)
                    starting = time.monotonic()  # pg_ctl -w returns only once the server answers
                    cluster.start()
                    up = time.monotonic()
                    time.sleep(4.0)
                    # 2. A restart while requests come in.
                    cluster.restart()
                    restarted = time.monotonic()
                    time.sleep(4.0)
                    end = time.monotonic()
                finally:
                    load.stop.set()
                    thread.join(30)
            finally:
                server.stop()
        log = (tmp_path / "serve.log").read_text()

    assert all(s.status == 200 for s in load.between(0, warm_end)), "the load failed before any fault"
    during = load.sent_and_answered_between(down + 0.5, starting)  # certainly down in between
    assert [s for s in during if s.kind == "api"] and [s for s in during if s.kind == "page"], \
        "no request was made while the database was away"
    problems = [p for s in load.seen if (p := _friendly(s))]
    assert problems == [], (problems[:5], log[-2000:])
    assert all(s.status == 503 for s in during), [(s.kind, s.status) for s in during if s.status != 503]
    # Back: from two seconds after each start every request succeeds again, Regie untouched.
    for since, until in ((up, restarted - 0.5), (restarted, end)):
        later = load.between(since + 2.0, until)
        assert len(later) >= 6 and all(s.status == 200 for s in later), [(s.kind, s.status) for s in later]
    assert "unhandled error" not in log and "Traceback" not in log, log[-3000:]
