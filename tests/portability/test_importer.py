"""Archive import safety: refused archives (paths outside, links, unknown files, zip bombs, too
many files, damage, newer formats, invalid FHIR) import nothing, with a clear reason."""
from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import orjson
import pytest

from regie.config import Settings
from regie.portability.importer import ArchiveError, SafeArchive
from regie.portability.service import Portability
from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.fhir.fixtures import SKIP_REASON, available, fixture_files, load, standard_of
from tests.store.record_helpers import new_user, service_for

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


def _instance(url: str, home: Path):
    db = Database(url)
    upgrade(db.engine)
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    return Portability(Settings(home=home, database_url=url), db, keyring), service, user, db


def _archive(tmp_path: Path) -> bytes:
    portability, service, user, db = _instance(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path)
    files = [(p.name, load(p)) for p in fixture_files() if standard_of(p) == "SelfMeasurements-2-0"]
    assert all(o.ok for o in service.import_many(service.keys(user), files, channel="cli"))
    from datetime import datetime, timezone
    from decimal import Decimal

    from regie.owndata.measurements import Measurement
    from regie.owndata.service import OwnData

    OwnData(db, service.keyring, user, "cli").save_measurement(
        Measurement("heart_rate", {"value": Decimal("61")}, datetime(2024, 1, 1, tzinfo=timezone.utc), "/min"))
    data = b"".join(portability.export(user, "archive", channel="cli").chunks)
    db.dispose()
    return data


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> bytes:
    return _archive(tmp_path_factory.mktemp("archive"))


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def _rezip(members: dict[str, bytes], *, manifest: bool = True, extra: list[zipfile.ZipInfo] | None = None,
           extra_data: bytes = b"x") -> bytes:
    """The archive again; with ``manifest`` the checksums are made to match the new content."""
    members = dict(members)
    if manifest:
        listed = orjson.loads(members["manifest.json"])
        for name, content in members.items():
            if name != "manifest.json" and name in listed["members"]:
                listed["members"][name].update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                               lines=content.count(b"\n"))
        members["manifest.json"] = orjson.dumps(listed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
        for info in extra or []:
            zipped.writestr(info, extra_data)
    return out.getvalue()


def _refused(data: bytes) -> ArchiveError:
    with pytest.raises(ArchiveError) as caught:
        SafeArchive(io.BytesIO(data))
    return caught.value


def test_unsafe_names_links_and_strangers_are_refused(archive: bytes) -> None:
    members = _members(archive)
    for name in ("../evil.txt", "/etc/passwd", "records/../../x", "C:\\temp\\x", "records//resources.ndjson"):
        assert _refused(_rezip(members, extra=[zipfile.ZipInfo(name)])).code == "unsafe"
    link = zipfile.ZipInfo("account/link.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    error = _refused(_rezip(members, extra=[link], extra_data=b"/etc/passwd"))
    assert error.code == "unsafe" and "link" in str(error)
    error = _refused(_rezip(members, extra=[zipfile.ZipInfo("run-me.py")]))
    assert error.code == "not-regie" and "does not belong" in str(error)
    assert _refused(b"PK\x03\x04 not really").code == "not-zip"
    assert _refused(_rezip({k: v for k, v in members.items() if k != "manifest.json"}, manifest=False)).code == "not-regie"


def test_zip_bombs_and_too_many_files_are_refused(archive: bytes) -> None:
    members = _members(archive)
    bomb = dict(members, **{"records/history.ndjson": b"\n" * (8 * 1024 * 1024)})
    error = _refused(_rezip(bomb))
    assert error.code == "zip-bomb" and "zip bomb" in str(error)
    many = [zipfile.ZipInfo(f"account/s{i}.json") for i in range(80)]
    assert _refused(_rezip(members, extra=many, manifest=False)).code == "too-large"


def test_newer_format_and_missing_members_are_refused(archive: bytes) -> None:
    members = _members(archive)
    manifest = orjson.loads(members["manifest.json"])
    newer = dict(members, **{"manifest.json": orjson.dumps({**manifest, "format_version": 99})})
    error = _refused(_rezip(newer, manifest=False))
    assert error.code == "newer-format" and "Update Regie" in str(error)
    fewer = {k: v for k, v in members.items() if k != "portability.json"}
    assert _refused(_rezip(fewer, manifest=False)).code == "damaged"


def test_a_broken_archive_imports_nothing(archive: bytes, database_url: str, tmp_path: Path) -> None:
    portability, service, user, db = _instance(database_url, tmp_path)
    try:
        members = _members(archive)
        # Damage at the very end (own data comes after the provider data): what was already
        # stored in the transaction is rolled back.
        own = members["own-data/resources.ndjson"]
        tampered = dict(members, **{"own-data/resources.ndjson": own.replace(b'"value":61', b'"value":62')})
        assert tampered["own-data/resources.ndjson"] != own
        invalid = dict(members, **{"own-data/resources.ndjson": own.replace(b'"status":"final"', b'"status":"perhaps"')})
        cases = (
            (_rezip(tampered, manifest=False), "damaged", "checksum"),
            (_rezip(invalid), "invalid", "not valid FHIR"),
        )
        for data, code, words in cases:
            with pytest.raises(ArchiveError) as caught:
                portability.import_archive(user, io.BytesIO(data), channel="cli")
            assert caught.value.code == code and words in str(caught.value)
            with service.open(service.keys(user)) as repo:
                assert repo.summary()["resources"] == 0
        report = portability.import_archive(user, io.BytesIO(archive), channel="cli")
        assert report.new == report.resources > 0 and "self" in report.sources
        again = portability.import_archive(user, io.BytesIO(archive), channel="cli")
        assert again.new == again.updated == 0 and again.unchanged == report.resources
    finally:
        db.dispose()
