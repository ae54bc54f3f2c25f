"""Everything a request handler needs, built once per application."""
from __future__ import annotations

from dataclasses import dataclass, field

from regie.accounts.passkeys import Passkeys
from regie.accounts.service import Accounts
from regie.config import Settings
from regie.store.db import Database
from regie.store.master_key import keyring_for
from regie.web.keycache import KeyCache
from regie.web.page_cache import PageCache


@dataclass
class AppContext:
    settings: Settings
    db: Database
    accounts: Accounts
    passkeys: Passkeys
    record_keys: KeyCache = field(default_factory=KeyCache)  # unwrapped data keys, briefly
    record_pages: PageCache = field(default_factory=lambda: PageCache(0, 0))  # off unless built from settings

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        db = Database(settings.resolved_database_url)
        keyring = keyring_for(settings)
        pages = PageCache(settings.page_cache_mb * 1024 * 1024, float(settings.page_cache_seconds))
        return cls(settings, db, Accounts(settings, db, keyring), Passkeys(settings), record_pages=pages)
