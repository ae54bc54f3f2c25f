"""The database work of the HTML read pages, counted with a statement listener on both
databases: the overview reads each section once and the groups of all sections in one
statement; a category page and the timeline a fixed handful (docs/benchmarks.md, Load).
A new per-section or per-item query makes these fail, so the pages cannot quietly grow."""
from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import orjson

from regie.fhir import FhirVersion
from regie.store.ingest import RecordService
from regie.web.page_cache import PageCache
from tests.web.helpers import Browser, get_counting_statements

# The session with its user and the managed-record row (2), then the page's own reads and its
# audit inserts. Measured on both databases: overview 9 (10 with its two audit inserts, 18 and
# 27 on SQLite, 33 on PostgreSQL before that): its sections' first batches are one read, the
# counts with and without the withdrawn rows one, its audit entries one; a category page 7 (withdrawn items are left out by the database: no second
# batch), the timeline 7.
OVERVIEW_MAX = 9
CATEGORY_MAX = 7
TIMELINE_MAX = 7


def _bench_viewer() -> ModuleType:
    """The benchmark's record mix (every overview section has items), loaded from its file."""
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_viewer.py"
    spec = importlib.util.spec_from_file_location("bench_viewer_mix", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill(browser: Browser, email: str, items: int) -> None:
    mix = _bench_viewer()
    rng = random.Random(4)
    context = browser.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    for start, source in ((0, "Huisarts"), (items // 2, "Ziekenhuis")):
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": mix.resource(n, rng)} for n in range(start, start + items // 2)]}
        outcome = service.import_bytes(service.keys(user), orjson.dumps(bundle), name=f"{source}.json",
                                       source=source, fhir_version=FhirVersion.STU3, channel="cli")
        assert outcome.ok, outcome.error


def _counted(app, client, path: str) -> list[str]:
    client.get(path)  # warm: caches of this process (data keys, templates)
    return get_counting_statements(app, client, path)[1]


def test_the_read_pages_run_a_fixed_number_of_statements(app, client, browser: Browser) -> None:
    # The pages as rendered, not as kept after the warm-up visit (tests/web/test_kept_pages.py).
    app.state.context.record_pages = PageCache(0, 0)
    account = browser.register()
    _fill(browser, account.email, 400)

    overview = _counted(app, client, "/")
    assert len(overview) <= OVERVIEW_MAX, "\n".join(overview)
    # Each section is one read of record_resources, the groups of all of them one more.
    assert sum("match_hash IN" in s for s in overview) == 1, "\n".join(overview)
    # Every read is audited: the overview entry and the items shown, in one statement.
    assert sum(s.startswith("INSERT INTO audit_entries") for s in overview) == 1, "\n".join(overview)

    for path in ("/record/results", "/record/medication", "/record/problems"):
        page = _counted(app, client, path)
        assert len(page) <= CATEGORY_MAX, (path, "\n".join(page))
        assert any(s.startswith("INSERT INTO audit_entries") for s in page), path

    timeline = _counted(app, client, "/timeline")
    assert len(timeline) <= TIMELINE_MAX, "\n".join(timeline)
