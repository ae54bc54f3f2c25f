"""Sections other packages add to the export archive (delegations, share links, ...).

A package that keeps account data the patient should take along registers a section
once, at import time of its own module::

    from regie.portability.extras import ExportSection, register

    register(ExportSection(
        name="delegations",                       # -> account/delegations.json
        title_nl="Machtigingen", title_en="Delegations",
        collect=lambda context: [...],            # JSON-able; this user's data only
    ))

``collect`` gets a :class:`SectionContext` (an open database session, the user, the
user's keys, and settings, database and key ring to build a service with) and returns
plain JSON data (lists, dicts, strings, numbers, dataclasses; datetimes are written as
ISO 8601). It must read only this user's data and never return secrets (tokens, codes,
hashes of either).
Sections are written for the patient to keep and read; the importer of another Regie
does not restore them (accounts, delegates and links do not exist there) and lists
them in its report as "not imported".

Packages whose modules are not otherwise imported when an export runs are named in
:data:`KNOWN_PROVIDERS`: :func:`sections` imports each that exists, so its
``register`` call has run. A module missing there is skipped without error.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("regie.portability")

#: Modules that register export sections (imported on demand; missing ones are skipped).
KNOWN_PROVIDERS: tuple[str, ...] = (
    "regie.portability.builtin_sections",
    "regie.delegation.portability",
    "regie.sharelinks.portability",
)


@dataclass(frozen=True)
class SectionContext:
    session: Any  # sqlalchemy Session
    user: Any  # regie.store.models.User
    keys: Any  # regie.store.record.UserKeys
    settings: Any  # regie.config.Settings
    db: Any  # regie.store.db.Database
    keyring: Any  # regie.store.crypto.KeyRing


@dataclass(frozen=True)
class ExportSection:
    name: str  # file name under account/, lower case: [a-z0-9_-]
    title_nl: str
    title_en: str
    collect: Callable[[SectionContext], Any]  # -> JSON-able data


_SECTIONS: dict[str, ExportSection] = {}


def register(section: ExportSection) -> None:
    """Add (or replace, by name) a section of the archive."""
    from regie.portability.layout import allowed

    if not allowed(f"account/{section.name}.json"):
        raise ValueError(f"section name {section.name!r}: use lower-case letters, digits, - and _")
    _SECTIONS[section.name] = section


def unregister(name: str) -> None:
    _SECTIONS.pop(name, None)


def sections() -> list[ExportSection]:
    """Every registered section, after importing the known providers, sorted by name."""
    for module in KNOWN_PROVIDERS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise  # the module exists but something it imports is missing: a real error
    return [_SECTIONS[name] for name in sorted(_SECTIONS)]


def collect_all(context: SectionContext) -> list[tuple[ExportSection, Any]]:
    """Every section with its data (a section that fails stops the export: nothing silently missing)."""
    return [(section, section.collect(context)) for section in sections()]
