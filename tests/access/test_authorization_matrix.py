"""The authorization matrix: every route of the app × every kind of person.

Generated from the route table, like tests/web/test_route_protection.py: a route without an
entry in ``regie.access.ROUTES`` fails :func:`test_every_route_has_a_policy`, and every
route is requested by each persona below. The expected outcome is written here by hand
from the rules (docs/delegation.md), not read from the policy: what each persona may do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from regie.access import PUBLIC, ROUTES, SELF, Action, Need
from regie.store.db import Database
from regie.store.delegation_models import Delegation
from regie.store.migrate import upgrade
from regie.store.types import utcnow
from regie.web.app import create_app
from regie.web.guards import uses_policy
from tests.access.world import (
    PASSWORD,
    Person,
    act_for,
    delegate,
    make_user,
    seed_record,
    service_of,
    sign_in,
    years_ago,
)
from tests.conftest import fast_settings
from tests.web.routes import iter_routes

EVERYTHING = frozenset(Action)
FAKE = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Persona:
    name: str
    # The record this persona acts on: "own" or a key of World.records.
    record: str
    # What the persona may do there (None: nothing at all, the session falls back to its own).
    allowed: frozenset[Action] | None
    categories: frozenset[str] | None = None


PERSONAS = [
    Persona("owner", "own", EVERYTHING),
    Persona("caregiver-allergies", "adult", frozenset({Action.READ}), frozenset({"allergies"})),
    Persona("caregiver-everything", "adult", frozenset({Action.READ})),
    Persona("caregiver-adds", "adult", frozenset({Action.ADD})),
    Persona("caregiver-collects", "adult", frozenset({Action.COLLECT})),
    Persona("caregiver-revoked", "adult", None),
    Persona("caregiver-expired", "adult", None),
    Persona("stranger", "adult", None),
    Persona("parent-child-under-12", "child8", EVERYTHING),
    Persona("parent-child-12-to-16", "child13", EVERYTHING),
    Persona("parent-child-16-no-login", "child17_open", frozenset({Action.SHARING, Action.HANDOVER})),
    Persona("parent-child-16-kept", "child17_kept", frozenset({Action.READ, Action.ADD, Action.COLLECT})),
    Persona("parent-child-16-not-kept", "child17_left", None),
    Persona("child-12-to-16-own-login", "own",
            frozenset({Action.READ, Action.ADD, Action.AUDIT, Action.SHARING})),
    Persona("child-16-own-login", "own", EVERYTHING),
]


@dataclass
class World:
    app: object
    people: dict[str, Person]
    records: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    home = tmp_path_factory.mktemp("matrix")
    home.chmod(0o700)
    settings = fast_settings(home, f"sqlite:///{Path(home) / 'regie.sqlite3'}")
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    app = create_app(settings)
    context = app.state.context
    service = service_of(app)

    owner = make_user(context, "eigenaar@voorbeeld.nl")
    seed_record(context, owner)
    helpers = {name: make_user(context, f"{name}@voorbeeld.nl") for name in (
        "caregiver-allergies", "caregiver-everything", "caregiver-adds", "caregiver-collects",
        "caregiver-revoked", "caregiver-expired", "stranger")}
    delegate(app, owner, helpers["caregiver-allergies"], categories={"allergies"})
    delegate(app, owner, helpers["caregiver-everything"], categories=None)
    delegate(app, owner, helpers["caregiver-adds"], categories=set(), can_add=True)
    delegate(app, owner, helpers["caregiver-collects"], categories=set(), can_collect=True)
    service.revoke(owner, owner, delegate(app, owner, helpers["caregiver-revoked"], categories=None))
    expired = delegate(app, owner, helpers["caregiver-expired"], categories=None,
                       valid_until=utcnow() + timedelta(days=1))
    with context.db.session() as session:  # the end date passed yesterday
        session.execute(update(Delegation).where(Delegation.user_id == owner.id, Delegation.id == expired)
                        .values(valid_until=utcnow() - timedelta(days=1)))

    parents = {name: make_user(context, f"{name}@voorbeeld.nl") for name in (
        "parent-child-under-12", "parent-child-12-to-16", "parent-child-16-no-login", "parent-child-16-kept",
        "parent-child-16-not-kept")}
    child8 = service.create_child(parents["parent-child-under-12"], "Kind acht", years_ago(8))
    child13 = service.create_child(parents["parent-child-12-to-16"], "Kind dertien", years_ago(13))
    child17_open = service.create_child(parents["parent-child-16-no-login"], "Kind open", years_ago(17))
    child17_kept = service.create_child(parents["parent-child-16-kept"], "Kind houdt", years_ago(17))
    child17_left = service.create_child(parents["parent-child-16-not-kept"], "Kind alleen", years_ago(17))
    for child in (child8, child13, child17_open, child17_kept, child17_left):
        seed_record(context, child)
    claimed = {}
    for key, child, by in (("child13", child13, "parent-child-12-to-16"), ("child17_kept", child17_kept,
                           "parent-child-16-kept"), ("child17_left", child17_left, "parent-child-16-not-kept")):
        token = service.invite_child_login(child, parents[by])
        claimed[key] = service.claim(token, f"{key}@voorbeeld.nl", PASSWORD)
    kept = service.for_owner(claimed["child17_kept"])[0]
    service.keep_parent(claimed["child17_kept"], kept.id, keep=True)

    users = {"owner": owner, **helpers, **parents, "child-12-to-16-own-login": claimed["child13"],
             "child-16-own-login": claimed["child17_kept"]}
    people = {name: sign_in(app, context, user) for name, user in users.items()}
    records = {"adult": owner.id, "child8": child8.id, "child13": child13.id, "child17_open": child17_open.id,
               "child17_kept": child17_kept.id, "child17_left": child17_left.id}
    yield World(app, people, records)
    for person in people.values():
        person.client.close()
    context.db.dispose()


def _routes(app) -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in iter_routes(app.routes) for method in methods)


def _route_objects(app) -> dict[tuple[str, str], object]:
    found = {}

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif getattr(route, "methods", None):
                for method in route.methods - {"HEAD"}:
                    found[(method, route.path)] = route
    walk(app.routes)
    return found


def test_every_route_has_a_policy(world: World) -> None:
    table = set(_routes(world.app))
    missing = sorted(table - set(ROUTES))
    assert not missing, f"routes without an entry in regie.access.ROUTES: {missing}"


def test_every_record_route_takes_its_record_from_the_policy(world: World) -> None:
    """A handler on a record reads its owner from page_owner/api_owner/record_access, never the
    signed-in user alone (the app-wide guard would refuse it for helpers, but it must not exist)."""
    routes = _route_objects(world.app)
    unrouted = sorted(key for key, route in routes.items()
                      if isinstance(ROUTES.get(key), Need) and not uses_policy(route))
    assert not unrouted, f"record routes whose handler uses page_user/api_user: {unrouted}"


def _urls(path: str) -> list[tuple[str, str | None]]:
    """Concrete URLs for a route; a category route once inside a scope and once outside."""
    if "{category}" in path:
        return [(path.replace("{category}", c), c) for c in ("allergies", "problems")]
    return [(re.sub(r"\{[^}]+\}", FAKE, path), None)]


def _expected(persona: Persona, need: Need, category: str | None, routed: bool) -> bool:
    if persona.allowed is None:
        return False
    if persona.record != "own" and not routed:
        return False  # a page still reading the signed-in user only: never for someone else's record
    if persona.record == "own" and not routed:
        return True  # the person's own record, as before the policy
    if need.action not in persona.allowed:
        return False
    if need.action is Action.READ and category is not None and persona.categories is not None:
        return category in persona.categories
    return True


@pytest.mark.parametrize("persona", PERSONAS, ids=[p.name for p in PERSONAS])
def test_matrix(world: World, persona: Persona) -> None:
    context = world.app.state.context
    person = world.people[persona.name]
    owner_id = None if persona.record == "own" else world.records[persona.record]
    routes = _route_objects(world.app)
    wrong = []
    checked = 0
    act_for(context, person, owner_id)
    for method, path in _routes(world.app):
        need = ROUTES[(method, path)]
        if need in (PUBLIC, SELF):
            continue
        assert isinstance(need, Need)
        for url, category in _urls(path):
            response = person.client.request(method, url, headers={"X-CSRF-Token": person.csrf},
                                             data={"csrf_token": person.csrf}, follow_redirects=False)
            if response.status_code == 403:
                act_for(context, person, owner_id)  # an ended access put the session back: choose again
            expect = _expected(persona, need, category, uses_policy(routes[(method, path)]))
            refused = response.status_code == 403
            if expect == refused or response.status_code >= 500:
                wrong.append((method, url, response.status_code, "allowed" if expect else "refused"))
            checked += 1
    assert checked > 80
    assert not wrong, f"{persona.name}: {wrong}"
