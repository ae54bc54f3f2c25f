"""The sandbox on a real loopback port and a Regie that collects from it over HTTP.

Used by the collector tests, the browser test and the benchmark."""
from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from regie.accounts import tokens
from regie.accounts.activity import ClientInfo
from regie.medmij.lists_client import ListsClient
from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
from regie.sandbox.config import default_config
from regie.store.db import Database
from tests.conftest import fast_settings, migrate
from tests.sandbox.live import free_port, serve

BSN = "999990007"
GP = "huisartsdevries"
HOSPITAL = "ziekenhuisrivierenland"
FINISHED = ("done", "failed", "interrupted")


class Network:
    """The MedMij sandbox (lists, OAuth, FHIR) served by uvicorn in a thread."""

    def __init__(self, state_dir: Path, stack: ExitStack) -> None:
        self.port = free_port()
        self.config = default_config(port=self.port)
        self.app = create_sandbox_app(self.config, state_dir, fhir_app_factory=load_fhir_app_factory())
        stack.enter_context(serve(self.app, self.port))
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.key_path = self.app.state.publisher.trust_anchor_path
        self.admin = stack.enter_context(httpx.Client(base_url=self.base_url, timeout=10))

    def access_log(self, provider: str | None = None, service: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("provider", provider), ("service", service)) if v}
        return self.admin.get("/_sandbox/fhir/access-log.json", params=params).json()

    def fault(self, provider: str, service: str, **fault) -> None:
        response = self.admin.put(f"/_admin/faults/{provider}/fhir/{service}", json=fault)
        assert response.status_code == 200, response.text

    def oauth_fault(self, provider: str, **switches) -> None:
        response = self.admin.patch(f"/_admin/faults/{provider}", json=switches)
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        self.admin.delete("/_admin/faults")


def regie_settings(home: Path, database_url: str, network: Network, public_url: str, **overrides):
    values = dict(
        public_url=public_url, medmij_lists_url=network.base_url, medmij_lists_key=network.key_path,
        allow_insecure_loopback=True, lists_auto_refresh=False,
        collect_retry_base_seconds=0.05, collect_timeout_seconds=10.0, collect_deadline_seconds=15.0,
        collect_heartbeat_seconds=0.5,
    )
    values.update(overrides)
    settings = fast_settings(home, database_url, **values)
    migrate(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    outcomes = ListsClient(settings, database).refresh()
    assert all(o.ok for o in outcomes), outcomes
    database.dispose()
    return settings


def api_token(context, email: str = "patient@voorbeeld.nl") -> tuple[str, str]:
    """A registered user and an API token for it: (user id, token)."""
    user = context.accounts.register(email, "paars-fietsje-wandelt-42", ClientInfo())
    with context.db.session() as session:
        issued = tokens.create(session, user.id, "collect test", ClientInfo())
    return user.id, issued.token


def consent(authorization_url: str, *, bsn: str = BSN, answer: str = "yes", action: str = "login",
            http: httpx.Client | None = None) -> str:
    """Walk DigiD and consent at the sandbox with plain HTTP; returns the callback URL
    (``redirect_uri?code=…&state=…`` or ``?error=…``). ``*.localhost`` is sent to 127.0.0.1."""
    parts = urlsplit(authorization_url)
    base = f"http://127.0.0.1:{parts.port}"
    own = http is None
    http = http or httpx.Client(base_url=base, timeout=10)
    try:
        start = http.get(f"{parts.path}?{parts.query}")
        assert start.status_code in (302, 303), start.text
        location = start.headers["location"]
        if "/oauth/consent" not in location:
            flow = parse_qs(urlsplit(location).query)["flow"][0]
            login = http.post("/digid/login", data={"flow": flow, "bsn": bsn, "action": action})
            assert login.status_code in (302, 303), login.text
            location = login.headers["location"]
            if "/collect/callback" in location:
                return location
        flow = parse_qs(urlsplit(location).query)["flow"][0]
        provider = parts.path.split("/")[1]
        answered = http.post(f"/{provider}/oauth/consent", data={"flow": flow, "consent": answer})
        assert answered.status_code in (302, 303), answered.text
        return answered.headers["location"]
    finally:
        if own:
            http.close()


def wait_finished(get, collection_id: str, timeout: float = 30.0) -> dict:
    """Poll ``GET /api/v1/collections/{id}`` until the job is finished."""
    deadline = time.monotonic() + timeout
    while True:
        view = get(f"/api/v1/collections/{collection_id}").json()
        if view["state"] in FINISHED:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"collection still {view['state']}: {view.get('progress')}")
        time.sleep(0.1)
