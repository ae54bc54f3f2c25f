"""Downloads, checks and keeps the MedMij lists (and the provider-details document).

For each list: download it and its detached signature (``<file>.jws``) with a size
limit, verify the signature against the configured trust anchor, parse and validate
(``regie.medmij.lists.load_signed_list``), refuse a lower ``Volgnummer``, and store the
raw bytes, the signature and the checked content in the ``medmij_lists`` table. Any
failure keeps the last good version and records the error (shown on /admin/lists and
by ``regie lists status``).

    client = ListsClient(settings, database)
    outcomes = client.refresh()
    directory = client.directory()
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from regie.config import Settings
from regie.medmij.http import check_url, get_bounded, is_loopback_host, make_client
from regie.medmij.lists import (
    Gegevensdienstnamenlijst,
    GnlGegevensdienst,
    ListError,
    ListHeader,
    ListKind,
    MedMijList,
    OAuthclient,
    OAuthclientlist,
    Replacement,
    SchemaProfile,
    Systeemrol,
    TrustAnchor,
    Whitelist,
    ZalGegevensdienst,
    Zorgaanbieder,
    Zorgaanbiederslijst,
    decide_replacement,
    load_signed_list,
    verify_detached,
)
from regie.medmij.provider_details import DETAILS_FILENAME, DetailsDocument, parse_details
from regie.store.db import Database
from regie.store.medmij_models import MedMijListRow
from regie.store.types import utcnow

log = logging.getLogger("regie.medmij.lists")

DETAILS = "DETAILS"
# Refresh order: the Whitelist and GNL before the ZAL that refers to them.
LIST_KINDS: tuple[str, ...] = ("WHITELIST", "GNL", "OCL", "ZAL")
ALL_KINDS: tuple[str, ...] = (*LIST_KINDS, DETAILS)
_MAX_SIGNATURE_BYTES = 8192
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class ListStatus:
    kind: str
    url: str | None
    volgnummer: int | None
    tijdstempel: datetime | None
    fetched_at: datetime | None  # last time a good version was downloaded and checked
    last_attempt_at: datetime | None
    last_error: str | None

    def age(self, now: datetime | None = None) -> timedelta | None:
        """How long ago the held version was last confirmed (None: nothing held)."""
        return None if self.fetched_at is None else (now or utcnow()) - self.fetched_at


@dataclass(frozen=True)
class RefreshOutcome:
    kind: str
    result: str  # installed | replaced | unchanged | failed | not-configured | not-published
    volgnummer: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result not in ("failed",)


class ListsClient:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.transport = transport
        self.clock = clock

    # --- configuration ------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return bool(self.settings.medmij_lists_url) or all(
            self._explicit_url(kind) for kind in LIST_KINDS
        )

    def _explicit_url(self, kind: str) -> str | None:
        s = self.settings
        return {
            "ZAL": s.medmij_zal_url, "OCL": s.medmij_ocl_url,
            "WHITELIST": s.medmij_whitelist_url, "GNL": s.medmij_gnl_url,
            DETAILS: s.medmij_provider_details_url,
        }[kind]

    def url(self, kind: str) -> str | None:
        explicit = self._explicit_url(kind)
        if explicit:
            return explicit
        base = self.settings.medmij_lists_url
        if not base:
            return None
        filename = DETAILS_FILENAME if kind == DETAILS else ListKind[kind].filename
        return f"{base.rstrip('/')}/{filename}"

    def _profile(self, url: str) -> SchemaProfile:
        # The loopback schema profile (http endpoints on *.localhost) only for lists that
        # come from this machine with insecure loopback explicitly allowed: the sandbox.
        host = urlsplit(url).hostname
        if self.settings.allow_insecure_loopback and is_loopback_host(host):
            return SchemaProfile.LOOPBACK
        return SchemaProfile.MEDMIJ

    def _anchor(self) -> TrustAnchor:
        path = self.settings.medmij_lists_key
        if path is None:
            raise ListsConfigError("no trust anchor: set REGIE_MEDMIJ_LISTS_KEY to the lists' public key (PEM)")
        try:
            return TrustAnchor.from_file(path)
        except (OSError, ValueError) as exc:
            raise ListsConfigError(f"the trust anchor {path} cannot be read: {exc}") from exc

    # --- refreshing ---------------------------------------------------------------

    def refresh(self, kinds: Iterable[str] | None = None) -> list[RefreshOutcome]:
        """Download and check each list; never raises for one list's trouble."""
        kinds = tuple(kinds or ALL_KINDS)
        outcomes: list[RefreshOutcome] = []
        try:
            anchor = self._anchor()
        except ListsConfigError as exc:
            anchor = None
            config_error = str(exc)
        with make_client(
            timeout_seconds=self.settings.lists_timeout_seconds,
            extra_ca=self.settings.medmij_ca,
            transport=self.transport,
        ) as http:
            for kind in kinds:
                url = self.url(kind)
                if url is None:
                    outcomes.append(RefreshOutcome(kind, "not-configured"))
                    continue
                if anchor is None:
                    outcomes.append(self._record_failure(kind, url, config_error))
                    continue
                outcomes.append(self._refresh_one(http, kind, url, anchor))
        return outcomes

    def _refresh_one(self, http: httpx.Client, kind: str, url: str, anchor: TrustAnchor) -> RefreshOutcome:
        limit = self.settings.lists_max_bytes
        insecure = self.settings.allow_insecure_loopback
        try:
            check_url(url, allow_insecure_loopback=insecure)
            try:
                data = get_bounded(http, url, max_bytes=limit, allow_insecure_loopback=insecure)
            except Exception as exc:
                # The details document is optional when only the base URL is configured.
                if kind == DETAILS and not self._explicit_url(DETAILS) and "HTTP 404" in str(exc):
                    return self._record_not_published(url)
                raise
            signature_bytes = get_bounded(
                http, url + ".jws", max_bytes=_MAX_SIGNATURE_BYTES, allow_insecure_loopback=insecure
            )
            signature = signature_bytes.decode("ascii", "replace").strip()
            if kind == DETAILS:
                verify_detached(data, signature, anchor, list_name="Zorgaanbiederdetails")
                document: MedMijList | DetailsDocument = parse_details(data, max_bytes=limit)
                parsed = _details_to_json(document)
            else:
                document = load_signed_list(
                    data, signature, ListKind[kind], anchor, profile=self._profile(url), max_bytes=limit
                )
                parsed = _list_to_json(document)
        except ListError as exc:
            return self._record_failure(kind, url, f"{type(exc).__name__}: {_describe(exc)}")
        except Exception as exc:  # network, size, URL policy, details format
            return self._record_failure(kind, url, f"{type(exc).__name__}: {exc}")
        return self._store(kind, url, data, signature, document.header, parsed)

    def _store(self, kind: str, url: str, data: bytes, signature: str, header: ListHeader,
               parsed: str) -> RefreshOutcome:
        now = self.clock()
        with self.db.session() as session:
            row = self._row(session, kind, lock=True)
            held = (ListHeader(row.tijdstempel, row.volgnummer)
                    if row.volgnummer is not None and row.tijdstempel is not None else None)
            try:
                decision = decide_replacement(held, header, list_name=kind)
            except ListError as exc:
                row.last_attempt_at = now
                row.last_error = _clip(f"{type(exc).__name__}: {_describe(exc)}")
                log.warning("MedMij %s refused: %s", kind, row.last_error)
                return RefreshOutcome(kind, "failed", header.volgnummer, row.last_error)
            if decision is not Replacement.UNCHANGED:
                row.volgnummer = header.volgnummer
                row.tijdstempel = header.tijdstempel
                row.raw = data
                row.signature = signature
                row.parsed = parsed
            row.source_url = url
            row.fetched_at = now
            row.last_attempt_at = now
            row.last_error = None
        result = {Replacement.INSTALL: "installed", Replacement.REPLACE: "replaced",
                  Replacement.UNCHANGED: "unchanged"}[decision]
        log.info("MedMij %s %s (Volgnummer %s)", kind, result, header.volgnummer)
        return RefreshOutcome(kind, result, header.volgnummer)

    def _record_failure(self, kind: str, url: str, error: str) -> RefreshOutcome:
        error = _clip(error)
        with self.db.session() as session:
            row = self._row(session, kind, lock=True)
            row.last_attempt_at = self.clock()
            row.last_error = error
            row.source_url = row.source_url or url
            volgnummer = row.volgnummer
        log.warning("MedMij %s not refreshed (keeping Volgnummer %s): %s", kind, volgnummer, error)
        return RefreshOutcome(kind, "failed", volgnummer, error)

    def _record_not_published(self, url: str) -> RefreshOutcome:
        with self.db.session() as session:
            row = self._row(session, DETAILS, lock=True)
            row.last_attempt_at = self.clock()
            row.last_error = None
            row.source_url = url
            volgnummer = row.volgnummer
        return RefreshOutcome(DETAILS, "not-published", volgnummer)

    @staticmethod
    def _row(session, kind: str, *, lock: bool = False) -> MedMijListRow:
        query = select(MedMijListRow).where(MedMijListRow.kind == kind)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None:
            row = MedMijListRow(kind=kind)
            session.add(row)
        return row

    # --- reading ------------------------------------------------------------------

    def status(self) -> list[ListStatus]:
        with self.db.session() as session:
            rows = {
                kind: rest
                for kind, *rest in session.execute(
                    select(MedMijListRow.kind, MedMijListRow.volgnummer, MedMijListRow.tijdstempel,
                           MedMijListRow.fetched_at, MedMijListRow.last_attempt_at,
                           MedMijListRow.last_error)
                ).all()
            }
        result = []
        for kind in ("ZAL", "OCL", "WHITELIST", "GNL", DETAILS):
            values = rows.get(kind, (None, None, None, None, None))
            result.append(ListStatus(kind, self.url(kind), *values))
        return result

    def needs_refresh(self, now: datetime | None = None) -> bool:
        """True when a configured list is missing or older than ``lists_refresh_hours``."""
        now = now or self.clock()
        limit = timedelta(hours=self.settings.lists_refresh_hours)
        for status in self.status():
            if status.kind == DETAILS or status.url is None:
                continue
            if status.fetched_at is None or now - status.fetched_at >= limit:
                # After a failure, wait a while before the next try (no hammering).
                if status.last_attempt_at and now - status.last_attempt_at < min(limit, timedelta(minutes=15)):
                    continue
                return True
        return False

    def held(self, kind: str) -> MedMijList | DetailsDocument | None:
        with self.db.session() as session:
            parsed = session.scalar(select(MedMijListRow.parsed).where(MedMijListRow.kind == kind))
        if parsed is None:
            return None
        return _details_from_json(parsed) if kind == DETAILS else _list_from_json(kind, parsed)

    def versions(self) -> tuple[tuple[str, int | None], ...]:
        """(kind, Volgnummer) of what is held: cheap, for caches to notice a change."""
        with self.db.session() as session:
            rows = session.execute(select(MedMijListRow.kind, MedMijListRow.volgnummer)).all()
        return tuple(sorted((k, v) for k, v in rows))

    def directory(self):
        """The provider directory from the held ZAL, GNL, Whitelist and details."""
        from regie.medmij.directory import Directory

        return Directory.build(
            zal=self.held("ZAL"), gnl=self.held("GNL"), whitelist=self.held("WHITELIST"),
            details=self.held(DETAILS),
        )


class ListsConfigError(ValueError):
    pass


def _describe(exc: ListError) -> str:
    problems = "; ".join(str(p) for p in exc.problems[:5])
    return f"{exc.list_name}: {problems}" if problems else str(exc)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


# --- the checked content as JSON --------------------------------------------------------


def _header_json(header: ListHeader) -> dict:
    return {"tijdstempel": header.tijdstempel.isoformat(), "volgnummer": header.volgnummer}


def _header_from(data: dict) -> ListHeader:
    return ListHeader(datetime.fromisoformat(data["tijdstempel"]), int(data["volgnummer"]))


def _list_to_json(item: MedMijList) -> str:
    body = asdict(item)
    body["header"] = _header_json(item.header)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _list_from_json(kind: str, text: str) -> MedMijList:
    data = json.loads(text)
    header = _header_from(data["header"])
    if kind == "ZAL":
        return Zorgaanbiederslijst(header, tuple(
            Zorgaanbieder(z["zorgaanbiedernaam"], tuple(
                ZalGegevensdienst(
                    g["gegevensdienst_id"], g["authorization_endpoint_uri"], g["token_endpoint_uri"],
                    tuple(Systeemrol(r["systeemrolcode"], r["resource_endpoint_uri"])
                          for r in g["systeemrollen"]),
                )
                for g in z["gegevensdiensten"]
            ))
            for z in data["zorgaanbieders"]
        ))
    if kind == "OCL":
        return OAuthclientlist(header, tuple(
            OAuthclient(c["hostname"], c["organisatienaam"]) for c in data["clients"]))
    if kind == "WHITELIST":
        return Whitelist(header, tuple(data["hostnames"]))
    if kind == "GNL":
        return Gegevensdienstnamenlijst(header, tuple(
            GnlGegevensdienst(g["gegevensdienst_id"], g["weergavenaam"])
            for g in data["gegevensdiensten"]))
    raise ValueError(kind)


def _details_to_json(document: DetailsDocument) -> str:
    return json.dumps({
        "header": _header_json(document.header),
        "providers": {k: asdict(v) for k, v in document.providers.items()},
    }, ensure_ascii=False, separators=(",", ":"))


def _details_from_json(text: str) -> DetailsDocument:
    from regie.medmij.provider_details import ProviderDetails

    data = json.loads(text)
    return DetailsDocument(
        _header_from(data["header"]),
        {k: ProviderDetails(**v) for k, v in data["providers"].items()},
    )


class CachedDirectory:
    """One Directory per process, rebuilt only when a held Volgnummer changes."""

    def __init__(self, client: ListsClient) -> None:
        import threading

        self.client = client
        self._lock = threading.Lock()
        self._versions: tuple | None = None
        self._directory = None

    def get(self):
        versions = self.client.versions()
        with self._lock:
            if self._directory is None or versions != self._versions:
                self._directory = self.client.directory()
                self._versions = versions
            return self._directory
