"""Erasing an account, on both databases.

The proof that nothing of the user stays readable: before the deletion the user's own
data key (taken out of the database as an attacker with the master key could) decrypts
blobs that hold the medical strings; afterwards no blob anywhere in the database does,
no value in any table names the user or their e-mail address, and on SQLite the file's
bytes hold neither. Another user's record is untouched and still reads the same.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, inspect, select, text

from regie.collect.service import Collections, ProviderEndpoints
from regie.fhir import read_bytes
from regie.leaving.erase import HANDLED_APART, SHREDDED, erase_user, finish_pending, shred, user_columns
from regie.sharelinks.emergency import CardContent, EmergencyCards
from regie.sharelinks.selection import Selection
from regie.sharelinks.service import ShareLinks
from regie.store.ingest import RecordService
from regie.store.models import Base, User
from tests.fhir.fixtures import SKIP_REASON, available
from tests.store.record_helpers import resolve_into, version_of
from tests.web.helpers import Account, Browser

STANDARD = "BgZ-3-0"
DIARY = "Duizelig na het fietsen langs de Amstel"
CONTACT = "Hendrika Zwanenburg"
PROVIDER = "Huisartsenpraktijk Klaverveld"
LABEL = "Cardioloog Ruysdael"


# -- the tables ------------------------------------------------------------------------------------
def test_every_table_that_names_a_user_is_erased(app) -> None:
    """The live database (after every migration), not only the metadata: each table with a
    ``user_id`` column or a foreign key to ``users`` is in the erasure, or handled apart."""
    engine = app.state.context.db.engine
    inspector = inspect(engine)
    covered = {table.name for table, _ in user_columns()}
    for name in inspector.get_table_names():
        if name in ("alembic_version",) or name in HANDLED_APART:
            continue
        columns = {c["name"] for c in inspector.get_columns(name)}
        refers = any(fk["referred_table"] == "users" for fk in inspector.get_foreign_keys(name))
        if "user_id" in columns or refers:
            assert name in covered, f"{name} names a user but is not erased (regie.leaving.erase)"


def test_a_new_table_is_picked_up_from_the_metadata() -> None:
    metadata = MetaData()
    users = Table("users", metadata, Column("id", String(32), primary_key=True))
    owned = Table("new_things", metadata, Column("id", Integer, primary_key=True), Column("user_id", String(32)))
    named = Table("new_links", metadata, Column("id", Integer, primary_key=True),
                  Column("helper_id", String(32), ForeignKey("users.id")))
    Table("global_things", metadata, Column("id", Integer, primary_key=True))
    found = {table.name: [c.name for c in columns] for table, columns in user_columns(metadata.sorted_tables)}
    assert found == {"new_things": ["user_id"], "new_links": ["helper_id"]}
    assert users.name not in found and owned is not None and named is not None
    # The real metadata: the delegate's column of delegations is covered when that table exists.
    tables = {table.name: {c.name for c in columns} for table, columns in user_columns()}
    if "delegations" in Base.metadata.tables:
        assert tables["delegations"] == {"user_id", "delegate_user_id"}


# -- the proof -------------------------------------------------------------------------------------
def _ctr_plaintexts(key: bytes, blobs: list[bytes]) -> bytes:
    """The blobs that decrypt to text under ``key``, decrypted as AES-GCM's counter mode
    would, without checking tag or associated data: what someone holding the data key can
    read from the database bytes alone. (Under another key a blob decrypts to noise: 16 or
    more random bytes are printable text about once in ten million.)"""
    out = []
    for blob in blobs:
        if len(blob) < 1 + 12 + 16 or blob[:1] != b"\x01":
            continue
        nonce, body = blob[1:13], blob[13:-16]
        decryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).decryptor()
        plain = decryptor.update(body) + decryptor.finalize()
        try:
            text_ = plain.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(plain) >= 16 and all(ch.isprintable() or ch in "\n\r\t" for ch in text_):
            out.append(plain)
    return b"\n".join(out)


def _dump(engine) -> tuple[bytes, list[bytes]]:
    """Every value of every row of every table, and the binary values apart."""
    text_parts: list[bytes] = []
    blobs: list[bytes] = []
    with engine.connect() as connection:
        for name in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{name}"')):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        blobs.append(bytes(value))
                        text_parts.append(bytes(value))
                    elif value is not None:
                        text_parts.append(str(value).encode())
    return b"\n".join(text_parts), blobs


def _medical_strings(files: list[Path]) -> set[str]:
    found: set[str] = set()
    for file in files:
        for res in read_bytes(file.read_bytes(), name=file.name, fhir_version=version_of(STANDARD)).resources:
            data = res.data
            if res.resource_type == "Patient":
                found |= {n["family"] for n in data.get("name", []) if n.get("family")}
                found |= {i["value"] for i in data.get("identifier", []) if "bsn" in i.get("system", "") and i.get("value")}
            if res.resource_type in ("Observation", "Condition", "AllergyIntolerance"):
                found |= {c["display"] for c in data.get("code", {}).get("coding", []) if len(c.get("display", "")) >= 8}
    return found


def _fill(browser: Browser, files: list[Path]) -> tuple[User, dict, Account]:
    """A user with a Nictiz record, own data, a collection, a share link and an emergency card."""
    context = browser.context
    account = browser.register()
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
    service = RecordService(context.db, context.accounts.keyring)
    keys = service.keys(user)
    for file in files:
        outcome = service.import_bytes(keys, file.read_bytes(), name=file.name, source=STANDARD,
                                       fhir_version=version_of(STANDARD), channel="cli")
        assert outcome.ok, outcome.error
    assert browser.post_form("/diary", {"time": "2024-03-01T10:00", "severity": "2", "symptoms": "duizeligheid", "text": DIARY},
                             token_from="/diary").status_code == 303
    assert browser.post_form("/measurements/new?type=blood_pressure", {
        "systolic": "131", "diastolic": "84", "pulse": "66", "time": "2024-03-01T09:00"},
        token_from="/measurements/new?type=blood_pressure").status_code == 303
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    collections.create(user.id, ProviderEndpoints(PROVIDER, PROVIDER, "http://127.0.0.1:1/auth",
                                                  "http://127.0.0.1:1/token", ()), channel="web")
    links = ShareLinks(context.settings, context.db, context.accounts.keyring)
    links.create(user, actor_id=user.id, selection=Selection({"medication": "current"}), hours=24,
                 label=LABEL, patient_name="Paul Mesker")
    with service.open(keys) as repo:
        EmergencyCards().save(repo.session, keys, CardContent(name="Paul Mesker", contact_name=CONTACT,
                                                             contact_phone="06 12345678"))
        summary = repo.summary()
    return user, summary, account


def _data_key(context, user: User) -> bytes:
    # What the master key unwraps: the raw AES key of the user (test only).
    return context.accounts.keyring._master.decrypt(user.wrapped_data_key, b"regie-data-key|" + user.id.encode())


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_deleting_an_account_leaves_nothing_readable(app, browser: Browser, tmp_path: Path,
                                                      database_url: str) -> None:
    context = browser.context
    files = resolve_into(tmp_path / "fixtures", {STANDARD})[STANDARD]
    secrets = _medical_strings(files)
    assert len(secrets) >= 5, secrets
    other, other_summary, _ = _fill(browser, files)
    browser.logout()
    leaver, _, account = _fill(browser, files)
    own = {DIARY, CONTACT, PROVIDER, LABEL}
    leaver_key, other_key = _data_key(context, leaver), _data_key(context, other)

    dump, blobs = _dump(context.db.engine)
    readable = _ctr_plaintexts(leaver_key, blobs)
    # The method works: before, the leaver's key reads every one of these strings.
    assert {s for s in secrets | own if s.encode() not in readable} == set()
    assert leaver.email.encode() in dump and leaver.id.encode() in dump

    # Through the pages: step-up (app code), then password, then the confirmation.
    page = browser.client.get("/account/delete")
    assert 'href="/export"' in page.text and "/account/confirm?next=/account/delete" in page.text
    browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account/delete"},
                      token_from="/account/confirm?next=/account/delete")
    wrong = browser.post_form("/account/delete", {"password": "niet-het-goede-wachtwoord", "understood": "1"},
                              token_from="/account/delete")
    assert wrong.status_code == 401
    unticked = browser.post_form("/account/delete", {"password": account.password}, token_from="/account/delete")
    assert unticked.status_code == 422
    done = browser.post_form("/account/delete", {"password": account.password, "understood": "1"},
                             token_from="/account/delete")
    assert done.status_code == 303 and done.headers["location"] == "/account/deleted"
    confirmation = browser.client.get("/account/deleted")
    assert confirmation.status_code == 200 and "Uw account is verwijderd" in confirmation.text
    assert browser.client.get("/", follow_redirects=False).status_code == 200  # anonymous again
    assert browser.client.get("/record/medication", follow_redirects=False).status_code == 303

    dump, blobs = _dump(context.db.engine)
    assert leaver.id.encode() not in dump and leaver.email.encode() not in dump
    assert _ctr_plaintexts(leaver_key, blobs) == b""  # no blob of the leaver is left at all
    assert {s for s in secrets | own if s.encode() in dump} == set()  # nor in plain text
    # The other user: untouched, and still readable with their own key.
    other_readable = _ctr_plaintexts(other_key, blobs)
    assert {s for s in secrets | own if s.encode() not in other_readable} == set()
    with context.db.session() as session:
        fresh_other = session.get(User, other.id)
    service = RecordService(context.db, context.accounts.keyring)
    with service.open(service.keys(fresh_other)) as repo:
        assert repo.summary() == other_summary
        assert EmergencyCards().load(repo.session, repo.keys).contact_name == CONTACT
    assert len(ShareLinks(context.settings, context.db, context.accounts.keyring).list_for(fresh_other)) == 1

    if database_url.startswith("sqlite"):
        context.db.dispose()  # checkpoints the WAL into the file
        raw = b"".join(p.read_bytes() for p in Path(database_url.removeprefix("sqlite:///")).parent.glob("*.sqlite3*"))
        assert leaver.email.encode() not in raw
        assert {s for s in secrets | own if s.encode() in raw} == set()


def test_a_crash_between_the_steps_is_finished_later(app, browser: Browser) -> None:
    context = browser.context
    account = browser.register()
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
    with context.db.session() as session:
        shred(session, user.id)
    with context.db.session() as session:
        left = session.get(User, user.id)
        assert left.wrapped_data_key == SHREDDED and left.email.endswith("@invalid")
        assert context.accounts.by_email(session, account.email) is None  # the address is free again
    # Its sessions are gone (this browser is anonymous again) and it cannot log in any more.
    assert browser.client.get("/account", follow_redirects=False).status_code == 303
    refused = browser.password_step(account)
    assert refused.status_code == 401
    done = finish_pending(context.db)
    assert [e.user_id for e in done] == [user.id] and done[0].rows["users"] == 1
    with context.db.session() as session:
        assert session.get(User, user.id) is None
        assert session.scalar(select(User.id).where(User.wrapped_data_key == SHREDDED)) is None
    assert erase_user(context.db, user.id).total == 0  # again: nothing left to do


def test_deleting_needs_a_fresh_second_factor(browser: Browser) -> None:
    browser.register()
    response = browser.post_form("/account/delete", {"password": "x", "understood": "1"},
                                 token_from="/account/delete")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/confirm?next=/account/delete"
    assert browser.client.get("/account").status_code == 200  # still there
    assert browser.client.get("/account/deleted", follow_redirects=False).headers["location"] == "/login"


def test_share_links_of_a_shredded_account_answer_as_unknown(browser: Browser) -> None:
    """A share link of an account whose key is gone answers like an unknown link."""
    context = browser.context
    account = browser.register()
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
    links = ShareLinks(context.settings, context.db, context.accounts.keyring)
    created = links.create(user, actor_id=user.id, selection=Selection({"medication": "all"}), hours=24,
                           label="", patient_name="X", with_code=False)
    assert links.view(created.token, unlocked=False).state == "ok"
    with context.db.session() as session:
        shred(session, user.id)
    assert links.view(created.token, unlocked=False).state == "unknown"


def test_the_clean_up_job_finishes_a_stopped_deletion(browser: Browser) -> None:
    from datetime import timedelta

    from regie.jobs import tasks
    from regie.jobs.queue import JobQueue
    from regie.jobs.worker import Worker

    context = browser.context
    account = browser.register()
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
        shred(session, user.id)
    job_context = tasks.JobContext(context.settings, context.db, context.accounts.keyring)
    JobQueue(context.db).ensure_periodic(tasks.CLEANUP, timedelta(hours=1))
    Worker(job_context, schedule=False).run_until_idle()
    with context.db.session() as session:
        assert session.get(User, user.id) is None
