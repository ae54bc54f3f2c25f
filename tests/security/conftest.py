"""A signed-in owner with real data, once per database kind for the whole package (route sweeps are large).

Made the quick way (tests/access/world.py): no TOTP ceremony, a full session straight in the
database. tests/web/test_auth_flow.py covers the ceremony itself.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from regie.web.app import create_app
from tests.access.world import Person, make_user, seed_record, sign_in
from tests.conftest import fast_settings, migrate, postgres_problem, postgres_schema, skip_or_fail


@dataclass
class Owner:
    app: object
    person: Person
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> a real id of this owner


def _database(kind: str, home: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{home / 'regie.sqlite3'}"
        return
    problem = postgres_problem()
    if problem:
        skip_or_fail(problem, "REQUIRE_POSTGRES")
    with postgres_schema() as url:
        yield url


def _post_json(person: Person, path: str, body: dict) -> dict:
    response = person.client.post(path, json=body, headers={"X-CSRF-Token": person.csrf})
    assert response.status_code == 201, (path, response.status_code, response.text)
    return response.json()


@pytest.fixture(scope="package", params=["sqlite", "postgres"])
def owner(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owner]:
    home = tmp_path_factory.mktemp("security")
    home.chmod(0o700)
    for url in _database(request.param, home):
        settings = fast_settings(home, url, public_url="https://regie.example")
        migrate(settings.resolved_database_url)
        app = create_app(settings)
        context = app.state.context
        user = make_user(context, f"eigenaar-{secrets.token_hex(3)}@voorbeeld.nl")
        seed_record(context, user)
        person = sign_in(app, context, user)
        person.client.base_url = "https://regie.example"
        found = Owner(app, person)
        items = person.client.get("/api/v1/record/items").json()
        first = items["items"][0] if isinstance(items, dict) else items[0]
        found.ids["item_id"] = first["id"]
        found.ids["code"] = "29463-7"
        found.ids["category"] = "allergies"
        measurement = _post_json(person, "/api/v1/measurements",
                                 {"type": "body_weight", "value": 72.5, "unit": "kg"})
        _post_json(person, "/api/v1/diary", {"severity": 2, "symptoms": ["hoofdpijn"], "text": "Dagboektekst"})
        found.ids["row_id"] = measurement["id"]
        yield found
        person.client.close()
        context.db.dispose()
