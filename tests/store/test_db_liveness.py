"""The pool hands out live PostgreSQL connections without a round trip per checkout
(regie.store.db: a poll of the socket; a ping only after a long idle time)."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import create_engine, text

import regie.store.db as db_module
from regie.store.db import make_engine
from tests.conftest import POSTGRES_URL, postgres_problem, skip_or_fail


@pytest.fixture()
def engine():
    problem = postgres_problem()
    if problem:
        skip_or_fail(problem, "REQUIRE_POSTGRES")
    name = f"regie_live_{secrets.token_hex(4)}"
    engine = make_engine(f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}application_name={name}")
    engine.test_name = name  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate_all(name: str) -> int:
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": name}).all())
    finally:
        admin.dispose()


def test_a_connection_the_server_ended_is_replaced_before_use(engine) -> None:
    first = _backend_pid(engine)
    assert _terminate_all(engine.test_name) == 1
    # Without a check this checkout would get the dead connection and fail.
    second = _backend_pid(engine)
    assert second != first


def test_a_live_connection_is_reused_without_a_ping(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
    first = _backend_pid(engine)
    assert [_backend_pid(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_idle_for_long_is_pinged(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
    first = _backend_pid(engine)
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", -1.0)
    assert _backend_pid(engine) == first
    assert len(pings) == 1


def test_a_connection_that_does_not_answer_the_ping_is_replaced(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend_pid(engine)

    def no_answer(_connection) -> None:
        raise OSError("no answer")

    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", -1.0)
    monkeypatch.setattr(engine.dialect, "do_ping", no_answer)
    # The pooled connection fails its ping and is dropped; a new one (not yet idle) is used.
    assert _backend_pid(engine) != first
