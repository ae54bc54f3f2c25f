"""Grants: what a person allowed a PGO to fetch at one provider, and the tokens for it.

This is the interface between the sandbox authorization servers (``regie.sandbox.oauth``),
which issue grants, and the sandbox FHIR resource servers (``regie.sandbox.fhir``), which
look them up by bearer token and derive the patient only from the grant.

The store is in memory (the sandbox is one process) and thread-safe.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_ACCESS_TOKEN_LIFETIME", "Grant", "GrantStore", "RefreshGrant", "utcnow"]

# RFC0039 speaks of one login and consent being valid "15 minutes, as usual".
DEFAULT_ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
DEFAULT_REFRESH_TOKEN_LIFETIME = timedelta(days=365)
# After rotation the previous refresh token may be used once more, for this long, as long as
# its successor was never used: a client that crashed (or lost the answer) between our
# rotation and storing the new token would otherwise lose the consent for good. Many
# authorization servers allow such a short "reuse interval"; docs/decisions/0006.
DEFAULT_REFRESH_REUSE_INTERVAL = timedelta(minutes=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


@dataclass(frozen=True, slots=True)
class Grant:
    """One access token: who (bsn) allowed which PGO (client_id) what (service_ids) where."""

    provider: str  # zorgaanbiedernaam without @medmij, e.g. "huisartsdevries"
    bsn: str  # the person who logged in with DigiD
    service_ids: tuple[str, ...]  # GNL ids granted, e.g. ("49",)
    client_id: str  # PGO hostname
    access_token: str
    expires_at: datetime  # aware UTC
    issued_at: datetime | None = None
    refresh_token: str | None = None  # set when long-lived consent was given

    @property
    def scope(self) -> str:
        """The granted scope in MedMij syntax: ``provider~id`` separated by spaces."""
        return " ".join(f"{self.provider}~{sid}" for sid in self.service_ids)

    def expires_in(self, now: datetime | None = None) -> int:
        remaining = (self.expires_at - _aware(now)).total_seconds()
        return max(0, int(remaining))


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """Long-lived consent: a refresh token that can mint new access tokens."""

    provider: str
    bsn: str
    service_ids: tuple[str, ...]
    client_id: str
    refresh_token: str
    expires_at: datetime


class GrantStore:
    """In-memory, thread-safe store of access tokens and refresh tokens.

    ``lookup`` returns ``None`` for unknown, expired and revoked tokens.
    """

    def __init__(self, *, reuse_interval: timedelta = DEFAULT_REFRESH_REUSE_INTERVAL) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self.reuse_interval = reuse_interval
        # A rotated refresh token: (its successor, until when it may stand in for it).
        self._rotated: dict[str, tuple[str, datetime]] = {}

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    def issue(
        self,
        *,
        provider: str,
        bsn: str,
        service_ids: tuple[str, ...] | list[str],
        client_id: str,
        lifetime: timedelta = DEFAULT_ACCESS_TOKEN_LIFETIME,
        long_lived: bool = False,
        refresh_lifetime: timedelta = DEFAULT_REFRESH_TOKEN_LIFETIME,
        refresh_token: str | None = None,
        now: datetime | None = None,
    ) -> Grant:
        """Issue a new access token (and a refresh token when *long_lived*).

        *refresh_token* re-uses an existing refresh token value (rotation is the
        caller's choice; see :meth:`refresh`).
        """
        now = _aware(now)
        service_ids = tuple(service_ids)
        with self._lock:
            access_token = self._unique(self._grants)
            rt: str | None = None
            if long_lived or refresh_token is not None:
                rt = refresh_token or self._unique(self._refresh)
                if rt not in self._refresh:
                    self._refresh[rt] = RefreshGrant(
                        provider=provider,
                        bsn=bsn,
                        service_ids=service_ids,
                        client_id=client_id,
                        refresh_token=rt,
                        expires_at=now + refresh_lifetime,
                    )
            grant = Grant(
                provider=provider,
                bsn=bsn,
                service_ids=service_ids,
                client_id=client_id,
                access_token=access_token,
                expires_at=now + lifetime,
                issued_at=now,
                refresh_token=rt,
            )
            self._grants[access_token] = grant
            return grant

    def _unique(self, table: dict[str, object]) -> str:
        # MedMij 2.0.0: the DVA must check that issued codes and tokens are unique.
        while True:
            token = self.new_token()
            if token not in table:
                return token

    def lookup(self, access_token: str, now: datetime | None = None) -> Grant | None:
        """The grant for *access_token*, or ``None`` when unknown, expired or revoked."""
        now = _aware(now)
        with self._lock:
            grant = self._grants.get(access_token)
        if grant is None or grant.expires_at <= now:
            return None
        return grant

    def lookup_refresh(
        self, refresh_token: str, now: datetime | None = None, *, previous: bool = False
    ) -> RefreshGrant | None:
        """The consent of a refresh token; with *previous* also of a rotated one that may
        still stand in for its unused successor (see DEFAULT_REFRESH_REUSE_INTERVAL)."""
        now = _aware(now)
        with self._lock:
            rg = self._refresh.get(refresh_token)
            if rg is None and previous:
                rg = self._refresh.get(self._successor(refresh_token, now) or "")
        if rg is None or rg.expires_at <= now:
            return None
        return rg

    def _successor(self, refresh_token: str, now: datetime) -> str | None:
        """The unused successor a rotated refresh token may still stand in for (lock held)."""
        found = self._rotated.get(refresh_token)
        if found is None:
            return None
        successor, until = found
        if until <= now or successor not in self._refresh:
            del self._rotated[refresh_token]  # too late, or the successor was used or revoked
            return None
        return successor

    def refresh(
        self,
        refresh_token: str,
        *,
        client_id: str,
        lifetime: timedelta = DEFAULT_ACCESS_TOKEN_LIFETIME,
        rotate: bool = True,
        now: datetime | None = None,
    ) -> Grant | None:
        """Exchange a refresh token for a new access token.

        With *rotate* the old refresh token is revoked and a new one issued (with the
        same end date of the consent). ``None`` when unknown, expired, revoked or
        issued to another client.
        """
        now = _aware(now)
        with self._lock:
            presented = refresh_token
            if refresh_token not in self._refresh:
                refresh_token = self._successor(refresh_token, now) or refresh_token
            rg = self._refresh.get(refresh_token)
            if rg is None or rg.expires_at <= now or rg.client_id != client_id:
                return None
            if rotate:
                del self._refresh[refresh_token]
                new_rt = self._unique(self._refresh)
                rg = replace(rg, refresh_token=new_rt)
                self._refresh[new_rt] = rg
                # Forget stand-ins whose time is up or whose successor is spent (such as the
                # one just used); the token just presented stands in for the new one.
                self._rotated = {old: (successor, until) for old, (successor, until) in self._rotated.items()
                                 if until > now and successor in self._refresh}
                self._rotated[presented] = (new_rt, now + self.reuse_interval)
            access_token = self._unique(self._grants)
            grant = Grant(
                provider=rg.provider,
                bsn=rg.bsn,
                service_ids=rg.service_ids,
                client_id=rg.client_id,
                access_token=access_token,
                expires_at=now + lifetime,
                issued_at=now,
                refresh_token=rg.refresh_token,
            )
            self._grants[access_token] = grant
            return grant

    def revoke(
        self,
        token: str | None = None,
        *,
        provider: str | None = None,
        bsn: str | None = None,
        client_id: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Revoke one access or refresh token, or every token matching the filters.

        Revoking a refresh token also revokes the access tokens minted from it.
        Returns the number of tokens revoked.
        """
        count = 0
        with self._lock:
            if token is not None:
                # A rotated token that still stands in for its successor revokes that one.
                token = self._successor(token, _aware(now)) or token
                if token in self._grants:
                    del self._grants[token]
                    count += 1
                if token in self._refresh:
                    del self._refresh[token]
                    count += 1
                    for at, g in list(self._grants.items()):
                        if g.refresh_token == token:
                            del self._grants[at]
                            count += 1
                return count
            if provider is None and bsn is None and client_id is None:
                raise ValueError("revoke needs a token or at least one filter")

            def matches(item: Grant | RefreshGrant) -> bool:
                return (
                    (provider is None or item.provider == provider)
                    and (bsn is None or item.bsn == bsn)
                    and (client_id is None or item.client_id == client_id)
                )

            for at, g in list(self._grants.items()):
                if matches(g):
                    del self._grants[at]
                    count += 1
            for rt, rg in list(self._refresh.items()):
                if matches(rg):
                    del self._refresh[rt]
                    count += 1
        return count

    def expire_now(self, access_token: str, now: datetime | None = None) -> bool:
        """Make an access token expire immediately (fault injection, tests)."""
        now = _aware(now)
        with self._lock:
            grant = self._grants.get(access_token)
            if grant is None:
                return False
            self._grants[access_token] = replace(grant, expires_at=now)
            return True

    def grants(self) -> list[Grant]:
        """All stored access grants (including expired ones), oldest first."""
        with self._lock:
            return list(self._grants.values())
