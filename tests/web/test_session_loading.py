"""The request path loads the session, its user and the own-record grant with driver SQL
(regie.accounts.session_query): the same rows, the same rules and the same grant as the
ORM path it replaced, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import inspect, select

from regie.access.grants import grant_for
from regie.access.policy import EVERYTHING
from regie.accounts.activity import ClientInfo
from regie.delegation import Delegations
from regie.store.models import User, WebSession
from regie.store.types import utcnow
from regie.web.guards import prefetch_own_grant

CLIENT = ClientInfo(ip="127.0.0.1", user_agent="test")


def _signed_in(app, email: str = "p@voorbeeld.nl") -> tuple[User, str]:
    accounts = app.state.context.accounts
    user = accounts.register(email, "paars-fietsje-wandelt-42", CLIENT)
    with accounts.db.session() as session:
        token, _row = accounts.sessions.create(session, CLIENT, utcnow(), user_id=user.id, stage="full")
    return user, token


def _load(app, token: str, now=None):
    context = app.state.context
    with context.db.engine.begin() as connection:
        return context.accounts.sessions.load_for_request(connection, token, now or utcnow())


def test_the_same_session_and_user_as_the_orm(app) -> None:
    user, token = _signed_in(app)
    web, loaded = _load(app, token)
    accounts = app.state.context.accounts
    with accounts.db.session() as session:
        expected = accounts.sessions.load(session, token, utcnow())
        for column in WebSession.__table__.columns:
            assert getattr(web, column.name) == getattr(expected, column.name), column.name
        fresh = session.get(User, user.id)
        for column in User.__table__.columns:
            assert getattr(loaded, column.name) == getattr(fresh, column.name), column.name
    assert web.created_at.tzinfo is not None and isinstance(loaded.wrapped_data_key, bytes)
    # Detached, unchanged instances, like the ORM's after its session closed.
    assert inspect(web).detached and not inspect(web).modified
    assert inspect(loaded).detached and not inspect(loaded).modified
    # They merge back like ORM rows (the helpers that save scratch data do this).
    web.scratch = '{"x": 1}'
    with accounts.db.session() as session:
        session.merge(web)
    with accounts.db.session() as session:
        assert session.get(WebSession, web.id).scratch == '{"x": 1}'


def test_unknown_expired_and_stale_sessions(app) -> None:
    accounts = app.state.context.accounts
    _user, token = _signed_in(app)
    assert _load(app, "not-a-token") == (None, None)
    assert _load(app, "x" * 101) == (None, None)
    # Seen again after more than a minute: last_seen_at is written.
    later = utcnow() + timedelta(minutes=5)
    web, _ = _load(app, token, later)
    with accounts.db.session() as session:
        assert abs(session.get(WebSession, web.id).last_seen_at - later) < timedelta(seconds=1)
    assert web.last_seen_at == later and not inspect(web).modified
    # Idle too long: refused and deleted.
    gone = later + timedelta(minutes=app.state.context.settings.session_idle_minutes + 1)
    assert _load(app, token, gone) == (None, None)
    with accounts.db.session() as session:
        assert session.scalars(select(WebSession).where(WebSession.id == web.id)).first() is None


def test_an_anonymous_session_has_no_user(app) -> None:
    accounts = app.state.context.accounts
    with accounts.db.session() as session:
        token, _row = accounts.sessions.create(session, CLIENT, utcnow())
    web, user = _load(app, token)
    assert web is not None and web.stage == "anonymous" and user is None


def _prefetched(app, user: User) -> object:
    state: dict = {}
    with app.state.context.db.engine.begin() as connection:
        prefetch_own_grant(connection, app, user, state)
    return state["own_grant"]


def test_the_prefetched_own_grant_is_the_policys(app) -> None:
    parent, _token = _signed_in(app)
    delegations = Delegations(app.state.context.accounts)
    app.state.delegations = delegations
    today = delegations.today()
    adult = _prefetched(app, parent)
    assert adult.actions == EVERYTHING
    # A child of 13 on its own record: the WGBO band limits it; of 17: everything.
    for years, limited in ((13, True), (17, False)):
        child = delegations.create_child(parent, f"Kind {years}", date(today.year - years, 1, 1))
        grant = _prefetched(app, child)
        with app.state.context.db.session() as session:
            expected = grant_for(session, delegations.keyring, child, child.id, delegations.clock(), today)
        assert grant == expected
        assert (grant.actions != EVERYTHING) is limited
