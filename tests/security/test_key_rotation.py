"""`regie keys rotate`: every user's data key re-wrapped under a new master key, while a web
process started with the old key keeps serving every record (no downtime), per-user atomic,
and an interrupted rotation finished by running it again. Both databases."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regie.cli.main import app as cli
from regie.store import key_rotation
from regie.store.crypto import DecryptionError, KeyRing
from regie.store.db import Database
from regie.store.master_key import load_master_key
from regie.store.migrate import upgrade
from regie.store.models import User
from regie.web.app import create_app
from tests.access.world import DIAGNOSIS, make_user, seed_record, sign_in
from tests.conftest import fast_settings


def _reads_everything(app, people) -> None:
    for person in people:
        items = person.client.get("/api/v1/record/items")
        assert items.status_code == 200, items.text
        page = person.client.get("/record/problems")
        assert page.status_code == 200 and DIAGNOSIS in page.text


def _wrapped(database: Database) -> dict[str, bytes]:
    with database.session() as session:
        return {user.id: user.wrapped_data_key for user in session.query(User)}


def test_rotation_without_downtime_and_resumable(tmp_path: Path, database_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = fast_settings(home, database_url)
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    web = create_app(settings)  # the running process: its key ring holds the old key
    context = web.state.context
    users = [make_user(context, f"roteer{n}@voorbeeld.nl") for n in range(3)]
    for user in users:
        seed_record(context, user)
    people = [sign_in(web, context, user) for user in users]
    old_key = load_master_key(settings)
    before = _wrapped(database)
    _reads_everything(web, people)

    # Interrupted after the first user: that user is done, the rest untouched, the old key still in use.
    real_wrap = key_rotation.wrap_with
    calls = {"n": 0}

    def crash_on_second(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_wrap(*args)
    monkeypatch.setattr(key_rotation, "wrap_with", crash_on_second)
    with pytest.raises(RuntimeError):
        key_rotation.rotate(settings, database)
    monkeypatch.undo()
    middle = _wrapped(database)
    assert sum(middle[u] != before[u] for u in middle) == 1
    assert load_master_key(settings) == old_key and (home / "master.key.next").exists()
    _reads_everything(web, people)  # half-rotated: still every record readable

    # Running it again (through the command line) finishes the job.
    env = {"REGIE_HOME": str(home), "REGIE_DATABASE_URL": database_url}
    result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "Re-wrapped 2 data keys (1 were done already)" in result.output
    new_key = load_master_key(settings)
    assert new_key != old_key and not (home / "master.key.next").exists()
    assert (home / "master.key.previous").read_text().strip() == (
        __import__("base64").b64encode(old_key).decode())
    for name in ("master.key", "master.key.previous"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    after = _wrapped(database)
    for user_id, wrapped in after.items():
        assert wrapped != before[user_id]
        with pytest.raises(DecryptionError):
            KeyRing(old_key).unwrap(user_id, wrapped)  # the old key alone no longer opens anything
        assert KeyRing(new_key).unwrap(user_id, wrapped) == KeyRing(old_key).unwrap(user_id, before[user_id])

    _reads_everything(web, people)  # the process started before the rotation: no downtime
    fresh = create_app(settings)  # a process started after it
    fresh_people = [sign_in(fresh, fresh.state.context, user) for user in users]
    _reads_everything(fresh, fresh_people)
    # A new account made by the old process is wrapped with its old key; the next rotation picks it up.
    late = make_user(context, "laat@voorbeeld.nl")
    seed_record(context, late)
    _reads_everything(fresh, [sign_in(fresh, fresh.state.context, late)])
    again = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert again.exit_code == 0 and "Re-wrapped 4 data keys" in again.output, again.output
    for person in people + fresh_people:
        person.client.close()
    context.db.dispose()
    fresh.state.context.db.dispose()
    database.dispose()


def test_rotation_refuses_a_key_from_the_environment(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = fast_settings(home, database_url, master_key="A" * 43 + "=")
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    with pytest.raises(Exception, match="REGIE_MASTER_KEY"):
        key_rotation.rotate(settings, database)
    database.dispose()
