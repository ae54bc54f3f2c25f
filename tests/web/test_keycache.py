"""The per-process cache of unwrapped record keys (regie.web.keycache): one unwrap per user
and TTL, and never a hit once the stored wrapped key changed (rotation) or was emptied
(crypto-shredding)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from regie.web.keycache import KeyCache


class Service:
    """Counts unwraps; an empty wrapped key fails as the real key ring does."""

    def __init__(self) -> None:
        self.unwraps = 0

    def keys(self, user):
        if not user.wrapped_data_key:
            raise ValueError("shredded")
        self.unwraps += 1
        return ("keys", user.id, user.wrapped_data_key)


def test_one_unwrap_per_user_until_the_ttl(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("regie.web.keycache.time.monotonic", lambda: clock[0])
    cache, service = KeyCache(ttl=60), Service()
    user = SimpleNamespace(id="u1", wrapped_data_key=b"w1")
    assert cache.keys(service, user) == cache.keys(service, user) == ("keys", "u1", b"w1")
    assert service.unwraps == 1
    clock[0] += 61
    cache.keys(service, user)
    assert service.unwraps == 2


def test_a_new_wrapped_key_or_a_shredded_one_never_hits() -> None:
    cache, service = KeyCache(), Service()
    user = SimpleNamespace(id="u1", wrapped_data_key=b"w1")
    cache.keys(service, user)
    rotated = SimpleNamespace(id="u1", wrapped_data_key=b"w2")
    assert cache.keys(service, rotated) == ("keys", "u1", b"w2") and service.unwraps == 2
    shredded = SimpleNamespace(id="u1", wrapped_data_key=b"")
    with pytest.raises(ValueError):
        cache.keys(service, shredded)
    # The old wrapped key is no longer the cached one either.
    assert cache.keys(service, user) == ("keys", "u1", b"w1") and service.unwraps == 3


def test_bounded_and_forgettable() -> None:
    cache, service = KeyCache(size=2), Service()
    users = [SimpleNamespace(id=f"u{n}", wrapped_data_key=b"w") for n in range(3)]
    for user in users:
        cache.keys(service, user)
    cache.keys(service, users[0])  # the oldest was dropped: unwrapped again
    assert service.unwraps == 4
    cache.forget("u0")
    cache.keys(service, users[0])
    assert service.unwraps == 5
    cache.forget()
    cache.keys(service, users[2])
    assert service.unwraps == 6
