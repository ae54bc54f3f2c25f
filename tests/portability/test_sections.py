"""Account sections in the archive: delegations, share links (with their openings), sends and
the emergency card, read through the registry; never a token or a share-link code."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import orjson

from regie.accounts.service import Accounts
from regie.delegation import Delegations
from regie.portability.extras import ExportSection, register, sections, unregister
from regie.portability.service import Portability
from regie.sharelinks.selection import Selection
from regie.sharelinks.service import ShareLinks
from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.store.record_helpers import new_user


def test_sections_in_the_archive(settings, tmp_path: Path) -> None:
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    from regie.store.crypto import KeyRing
    from regie.store.master_key import load_master_key

    keyring = KeyRing(load_master_key(settings))
    owner = new_user(db, keyring, "eigenaar@voorbeeld.nl")
    _, invite_token = Delegations(Accounts(settings, db, keyring)).invite(
        owner, owner, email="mantelzorger@voorbeeld.nl", name="Zus", categories={"medication"}, can_add=True)
    links_service = ShareLinks(settings, db, keyring)
    created = links_service.create(
        owner, actor_id=owner.id, selection=Selection(categories={"allergies": "all"}), hours=24,
        label="Dokter Jansen", patient_name="Eigenaar")
    assert links_service.view(created.token, unlocked=True).state == "ok"  # the doctor opens it once
    register(ExportSection("test-extra", "Proef", "Test", lambda context: {"user": context.user.id}))
    try:
        assert [s.name for s in sections()][:1] == ["delegations"]
        data = b"".join(Portability(settings, db, keyring).export(owner, "archive", channel="cli").chunks)
    finally:
        unregister("test-extra")
        db.dispose()
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        names = set(zipped.namelist())
        assert {"account/delegations.json", "account/share-links.json", "account/sends.json",
                "account/emergency-card.json", "account/test-extra.json"} <= names
        delegations = orjson.loads(zipped.read("account/delegations.json"))
        links = orjson.loads(zipped.read("account/share-links.json"))
        extra = orjson.loads(zipped.read("account/test-extra.json"))
        index = zipped.read("index.html").decode()
    assert delegations["title_en"] == "Who has access to your record"
    [delegation] = delegations["data"]
    assert (delegation["email"], delegation["name"], delegation["categories"], delegation["can_add"],
            delegation["state"]) == ("mantelzorger@voorbeeld.nl", "Zus", ["medication"], True, "invited")
    [link] = links["data"]
    assert link["label"] == "Dokter Jansen" and link["with_code"] is True and link["open_count"] == 1
    assert len(link["opened_at"]) == 1
    assert link["selection"]["categories"] == {"allergies": "all"}
    assert extra["data"] == {"user": owner.id}
    assert "account/share-links.json" in index
    assert invite_token and created.token and created.code
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        for name in zipped.namelist():
            content = zipped.read(name)
            for secret in (invite_token, created.token, created.code):
                assert secret.encode() not in content, name
