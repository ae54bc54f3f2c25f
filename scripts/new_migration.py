"""Write a new Alembic migration from the difference between the models and the migrations.

Usage: .venv/bin/python scripts/new_migration.py "what changed" [REV_ID]
"""
import sys
import tempfile
from pathlib import Path

from alembic import command

from regie.store.db import make_engine
from regie.store.migrate import alembic_config, upgrade

message = sys.argv[1]
rev_id = sys.argv[2] if len(sys.argv) > 2 else None
with tempfile.TemporaryDirectory() as folder:
    engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.sqlite3'}")
    try:
        upgrade(engine)
    except Exception as exc:  # the first migration has nothing to upgrade from
        print(f"note: {exc}")
    command.revision(alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id)
