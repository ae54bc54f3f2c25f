"""The store of kept record pages on its own: found only at the stamp it was kept for and
before it ages, bounded in bytes (least recently used goes first), dropped per session."""
from __future__ import annotations

from regie.web.page_cache import PageCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_page_is_found_only_at_the_stamp_it_was_kept_for() -> None:
    cache = PageCache(1000, 60)
    cache.put(("s1", "page"), 3, b"<p>3</p>", ("a", "b"))
    kept = cache.get(("s1", "page"), 3)
    assert kept is not None and kept.body == b"<p>3</p>" and kept.shown == ("a", "b")
    assert cache.get(("s1", "page"), 4) is None  # the record changed since
    assert cache.get(("s1", "page"), 3) is None  # and the stale page is gone for good
    assert (cache.hits, cache.misses) == (1, 2)
    assert len(cache) == 0 and cache.size_bytes == 0


def test_a_page_ages_out() -> None:
    clock = Clock()
    cache = PageCache(1000, 60, clock=clock)
    cache.put("k", 1, b"x" * 10, ())
    clock.now += 59
    assert cache.get("k", 1) is not None
    clock.now += 2
    assert cache.get("k", 1) is None


def test_the_least_recently_used_pages_leave_first_when_full() -> None:
    cache = PageCache(800, 60)
    for name in "abcdefgh":
        cache.put(name, 1, b"x" * 100, ())
    assert cache.get("a", 1) is not None  # now the most recently used
    cache.put("i", 1, b"x" * 100, ())
    assert cache.get("b", 1) is None and cache.get("a", 1) is not None
    assert cache.size_bytes == 800 and len(cache) == 8
    cache.put("a", 2, b"y" * 50, ())  # kept again for a newer stamp: replaces, counted once
    assert cache.size_bytes == 750


def test_one_huge_page_is_not_kept() -> None:
    cache = PageCache(800, 60)
    cache.put("small", 1, b"x" * 100, ())
    cache.put("huge", 1, b"x" * 101, ())  # over an eighth of the budget
    assert cache.get("huge", 1) is None and cache.get("small", 1) is not None


def test_off_keeps_nothing() -> None:
    for cache in (PageCache(0, 60), PageCache(1000, 0)):
        assert not cache.enabled
        cache.put("k", 1, b"x", ())
        assert cache.get("k", 1) is None


def test_logging_out_drops_that_sessions_pages_only() -> None:
    cache = PageCache(1000, 60)
    cache.put(("s1", "u1", "/record/results"), 1, b"a", ())
    cache.put(("s1", "u1", "/timeline"), 1, b"b", ())
    cache.put(("s2", "u1", "/timeline"), 1, b"c", ())
    cache.forget_session("s1")
    assert len(cache) == 1 and cache.get(("s2", "u1", "/timeline"), 1) is not None
