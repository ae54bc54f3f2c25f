from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from regie.sandbox import synth
from regie.sandbox.fhir import FhirConfig, SynthSource, create_fhir_app
from regie.sandbox.grants import GrantStore

PROVIDER = "huisartsdevries"
SEED = 7


@pytest.fixture(scope="module")
def bsn() -> str:
    return synth.person(SEED, 0).bsn


@pytest.fixture
def grants() -> GrantStore:
    return GrantStore()


@pytest.fixture
def config() -> FhirConfig:
    return FhirConfig(source=SynthSource(SEED))


@pytest.fixture
def app(config: FhirConfig, grants: GrantStore):
    return create_fhir_app(config, grants)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def token(grants: GrantStore, bsn: str) -> Callable[..., str]:
    def issue(*service_ids: str, provider: str = PROVIDER, who: str | None = None) -> str:
        return grants.issue(provider=provider, bsn=who or bsn, service_ids=service_ids,
                            client_id="pgo.example.test").access_token

    return issue


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}", "Accept": "application/fhir+json"}
