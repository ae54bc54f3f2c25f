"""Short garbage-collector pauses for long-running processes (issue 9, docs/benchmarks.md).

CPython's full collection (its oldest generation) walks every container object the process
holds, and while it runs no request moves. After start-up a web process holds ~180,000 of
them (modules, SQLAlchemy's mappers, templates, the FHIR models) that live as long as the
process: a full collection took 60–100 ms, and under load one came every 1,000–1,500
requests. Every request in flight waited for it, which is most of the distance between a
request's median and its 99th percentile.

:func:`freeze_startup_objects`, called once start-up is done, moves what exists then into
the permanent generation the collector never walks (``gc.freeze``, meant for this): full
collections then walk only what was made since, and take well under a millisecond.
Freezing only skips the walk; reference counting still frees what the process drops, and
what start-up made is kept for the process's life anyway.
"""
from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what start-up left as garbage, then keep the rest out of later collections.
    Returns the number of objects frozen (for the start-up log)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
