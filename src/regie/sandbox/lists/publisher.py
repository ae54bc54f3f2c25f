"""The sandbox Stelselnode's state: the current publication of each list, its
Volgnummer, its detached signature, and the fault switches tests flip.

A publication is built once and then served unchanged until the next one, so an
equal Volgnummer always means identical bytes, as on the real Stelselnode.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from regie.medmij.lists import ListKind, SchemaProfile, TrustAnchor, parse_list, sign_detached

from .build import build_list
from .config import SandboxConfig
from .keys import load_or_create_signing_key, trust_anchor_path

VOLGNUMMER_FILE = "lists-volgnummers.json"


@dataclass(frozen=True)
class Publication:
    kind: ListKind
    xml: bytes
    signature: str
    volgnummer: int


@dataclass
class Faults:
    """Switches for tests; all off by default.

    - ``bad_signature``: serve these lists with a signature that does not match.
    - ``lower_volgnummer``: serve these lists re-signed with Volgnummer one lower
      than the current publication (a validly signed rollback).
    """

    bad_signature: set[ListKind] = field(default_factory=set)
    lower_volgnummer: set[ListKind] = field(default_factory=set)

    def clear(self) -> None:
        self.bad_signature.clear()
        self.lower_volgnummer.clear()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ListPublisher:
    def __init__(
        self,
        config: SandboxConfig,
        state_dir: str | Path,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._lock = threading.Lock()
        self._state_dir = Path(state_dir)
        self._key = load_or_create_signing_key(self._state_dir)
        self._clock = clock
        self._config = config
        self._hidden: set[str] = set()
        self._volgnummers = self._load_volgnummers()
        self._current: dict[ListKind, Publication] = {}
        self._rolled_back: dict[tuple[ListKind, int], Publication] = {}
        self.faults = Faults()
        self.publish()

    # --- configuration -----------------------------------------------------------

    @property
    def config(self) -> SandboxConfig:
        return self._config

    @property
    def trust_anchor(self) -> TrustAnchor:
        return TrustAnchor.from_key(self._key.public_key())

    @property
    def trust_anchor_path(self) -> Path:
        return trust_anchor_path(self._state_dir)

    @property
    def profile(self) -> SchemaProfile:
        # http endpoints on *.localhost need the loopback schema profile.
        return SchemaProfile.LOOPBACK if self._config.uses_loopback_http() else SchemaProfile.MEDMIJ

    @property
    def hidden_providers(self) -> frozenset[str]:
        """Zorgaanbiedernamen left off the ZAL by :meth:`hide_provider`."""
        with self._lock:
            return frozenset(self._hidden)

    def set_config(self, config: SandboxConfig) -> None:
        """Replace the network description and republish every list."""
        with self._lock:
            self._config = config
        self.publish()

    def hide_provider(self, zorgaanbiedernaam: str) -> None:
        """Fault: the provider disappears from the next ZAL (which is published now)."""
        with self._lock:
            self._hidden.add(zorgaanbiedernaam)
        self.publish(ListKind.ZAL)

    def restore_provider(self, zorgaanbiedernaam: str) -> None:
        with self._lock:
            self._hidden.discard(zorgaanbiedernaam)
        self.publish(ListKind.ZAL)

    # --- publishing --------------------------------------------------------------

    def publish(self, *kinds: ListKind) -> None:
        """Publish a new edition (Volgnummer + 1) of *kinds*, or of all lists."""
        with self._lock:
            for kind in kinds or tuple(ListKind):
                volgnummer = self._volgnummers.get(kind.name, 0) + 1
                self._current[kind] = self._make(kind, volgnummer)
                self._volgnummers[kind.name] = volgnummer
            self._save_volgnummers()

    def current(self, kind: ListKind) -> Publication:
        """What the sandbox serves for *kind* right now, faults applied."""
        with self._lock:
            publication = self._current[kind]
            if kind in self.faults.lower_volgnummer:
                # Built once per edition, like any publication: the list and its signature
                # are two requests, and a rebuild a second later (Tijdstempel) would not match.
                key = (kind, publication.volgnummer)
                if key not in self._rolled_back:
                    self._rolled_back[key] = self._make(kind, max(1, publication.volgnummer - 1))
                publication = self._rolled_back[key]
            if kind in self.faults.bad_signature:
                # A well-formed signature by the right key, over other bytes.
                wrong = sign_detached(publication.xml + b"<!-- tampered -->", self._key)
                publication = Publication(kind, publication.xml, wrong, publication.volgnummer)
            return publication

    def _visible_config(self) -> SandboxConfig:
        config = self._config
        for naam in self._hidden:
            config = config.without_provider(naam)
        return config

    def _make(self, kind: ListKind, volgnummer: int) -> Publication:
        xml = build_list(kind, self._visible_config(), self._clock(), volgnummer)
        # Self-check: never serve a list our own PGO-side validation would refuse.
        parse_list(xml, kind, profile=self.profile)
        return Publication(kind, xml, sign_detached(xml, self._key), volgnummer)

    # --- Volgnummer persistence -----------------------------------------------------
    # Kept beside the key so a restarted sandbox never goes back in Volgnummer,
    # which a PGO holding the previous lists would (rightly) refuse.

    def _load_volgnummers(self) -> dict[str, int]:
        path = self._state_dir / VOLGNUMMER_FILE
        try:
            raw = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {k: int(v) for k, v in raw.items() if isinstance(v, int)}

    def _save_volgnummers(self) -> None:
        path = self._state_dir / VOLGNUMMER_FILE
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._volgnummers, sort_keys=True))
        os.replace(tmp, path)
