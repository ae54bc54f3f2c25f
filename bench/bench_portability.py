"""Export and archive import of a large record, against the ordinary import of the same data.

Usage: python bench/bench_portability.py [copies]   (default 150: ~10,000 resources)

The BgZ fixtures are imported ``copies`` times, each copy under its own source names (so
every resource is distinct), with RecordService.import_many: the baseline. Then the record
is exported as an archive (streamed to nothing), and the archive is imported into a fresh
database. Prints the times as ratios to the baseline, and the export's peak Python memory
(tracemalloc) for the whole record and for a quarter of it: streaming means it does not grow
with the record.
"""
from __future__ import annotations

import io
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regie.config import Settings  # noqa: E402
from regie.portability.service import Portability  # noqa: E402
from regie.store.db import Database  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from tests.fhir.fixtures import available, fixture_files, load, standard_of  # noqa: E402
from tests.store.record_helpers import new_user, service_for  # noqa: E402


def _instance(folder: Path, name: str):
    db = Database(f"sqlite:///{folder / name}.sqlite3")
    upgrade(db.engine)
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    return Portability(Settings(home=folder, database_url=db.url), db, keyring), service, user


def _fill(service, user, files, copies: int) -> float:
    keys = service.keys(user)
    t0 = time.perf_counter()
    for copy in range(copies):
        outcomes = service.import_many(keys, [(f"{copy:04d}-{name}", data) for name, data in files], channel="cli")
        assert all(o.ok for o in outcomes)
    return time.perf_counter() - t0


def _export(portability, user) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    data = b"".join(portability.export(user, "archive", channel="cli").chunks)
    return time.perf_counter() - t0, data


def _peak(portability, user) -> int:
    tracemalloc.start()
    for _ in portability.export(user, "archive", channel="cli").chunks:
        pass  # streamed to nothing: what is measured is what the export itself holds
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    if not available():
        sys.exit("fixtures not found")
    files = [(p.name, load(p)) for p in fixture_files() if standard_of(p) == "BgZ-3-0"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, small_service, small_user = _instance(folder, "small")
        _fill(small_service, small_user, files, max(1, copies // 4))
        portability, service, user = _instance(folder, "old")
        t_ingest = _fill(service, user, files, copies)
        with service.open(service.keys(user)) as repo:
            resources = repo.summary()["resources"]
        t_export, archive = _export(portability, user)
        fresh, fresh_service, fresh_user = _instance(folder, "new")
        t0 = time.perf_counter()
        report = fresh.import_archive(fresh_user, io.BytesIO(archive), channel="cli")
        t_import = time.perf_counter() - t0
        assert report.new == resources
        t0 = time.perf_counter()
        again = fresh.import_archive(fresh_user, io.BytesIO(archive), channel="cli")
        t_again = time.perf_counter() - t0
        assert again.unchanged == resources and again.new == 0
        peak_full, peak_quarter = _peak(portability, user), _peak(small, small_user)
    print(f"resources: {resources}, archive: {len(archive) / 1e6:.1f} MB")
    print(f"ingest (baseline): {t_ingest:.2f} s, {resources / t_ingest:,.0f} resources/s")
    print(f"export archive:    {t_export:.2f} s = {t_export / t_ingest:.2f} x ingest")
    print(f"import archive:    {t_import:.2f} s = {t_import / t_ingest:.2f} x ingest")
    print(f"import again:      {t_again:.2f} s = {t_again / t_ingest:.2f} x ingest (nothing written)")
    print(f"export peak memory: {peak_full / 1e6:.1f} MB for the record, {peak_quarter / 1e6:.1f} MB for a quarter "
          f"of it (ratio {peak_full / max(peak_quarter, 1):.2f}); archive/peak {len(archive) / peak_full:.1f}")


if __name__ == "__main__":
    main()
