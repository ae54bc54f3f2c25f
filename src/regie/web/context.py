"""Everything a request handler needs, built once per application."""
from __future__ import annotations

from dataclasses import dataclass, field

from regie.accounts.passkeys import Passkeys
from regie.accounts.service import Accounts
from regie.config import Settings
from regie.store.db import Database
from regie.store.master_key import keyring_for
from regie.web.keycache import KeyCache


@dataclass
class AppContext:
    settings: Settings
    db: Database
    accounts: Accounts
    passkeys: Passkeys
    record_keys: KeyCache = field(default_factory=KeyCache)  # unwrapped data keys, briefly

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        db = Database(settings.resolved_database_url)
        keyring = keyring_for(settings)
        return cls(settings, db, Accounts(settings, db, keyring), Passkeys(settings))
