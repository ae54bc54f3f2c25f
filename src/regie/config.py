"""Configuration from environment variables with the prefix ``REGIE_``.

Every setting is documented in README.md; tests build a ``Settings`` directly.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("regie", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    master_key: SecretStr | None = None
    public_url: str = "http://localhost:8000"

    # Requests larger than this are refused with 413 before their body is read.
    max_body_bytes: int = 1_048_576
    # Only the record upload page (several FHIR files at once) may send up to this much.
    upload_max_bytes: int = 52_428_800

    # Worker threads of one web process for the blocking parts of requests (database,
    # decryption). Many more threads than cores only take turns for Python's lock, which
    # costs CPU on every switch: anyio's default of 40 gave a third fewer JSON reads per
    # second than 4 or 8 on 2 cores (docs/benchmarks.md, Load). 0: four per core, at least 8
    # (a few long requests, such as a large upload, must not hold up all others). Raise it
    # when the database is far away (its waits then matter more than the switches).
    web_threads: int = 0

    @property
    def resolved_web_threads(self) -> int:
        import os

        return self.web_threads if self.web_threads > 0 else max(8, 4 * (os.cpu_count() or 1))

    # Record pages a web process keeps while the record is unchanged (regie.web.page_cache,
    # docs/decisions/0011): at most this much memory and this long. 0 MB: off.
    page_cache_mb: int = Field(default=32, ge=0)
    page_cache_seconds: int = Field(default=300, ge=0)

    # Keep what start-up made out of the garbage collector's full walks (regie.ops.gc_pauses):
    # pauses of 60-100 ms become well under 1 ms. Off only in the test suite, which builds and
    # drops hundreds of apps in one process (frozen cycles are never collected).
    gc_freeze: bool = True

    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    step_up_minutes: int = 5

    # Argon2id cost. The defaults follow argon2-cffi (RFC 9106 "low memory");
    # only tests lower them, never a deployment.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65_536
    argon2_parallelism: int = 4

    # Brute-force protection (see docs/security.md).
    throttle_free_failures: int = 3
    throttle_delay_base_seconds: float = 1.0
    throttle_delay_max_seconds: float = 60.0
    password_lock_failures: int = 10
    second_factor_lock_failures: int = 5
    ip_lock_failures: int = 50
    lock_minutes: int = 15

    # MedMij lists (see docs/medmij-lists.md). Base URL of the four lists; a per-list URL,
    # when set, wins over it. The key is the PEM trust anchor the signatures must verify.
    medmij_lists_url: str | None = None
    medmij_zal_url: str | None = None
    medmij_ocl_url: str | None = None
    medmij_whitelist_url: str | None = None
    medmij_gnl_url: str | None = None
    # Provider details (display name, place, kind) beside the lists; see docs/provider-directory.md.
    medmij_provider_details_url: str | None = None
    medmij_lists_key: Path | None = None
    # Extra CA bundle to trust for https (sandbox --tls). Verification is never switched off.
    medmij_ca: Path | None = None
    # Mutual TLS on the back channel (token and FHIR requests, never the browser's front
    # channel): the PGO's client certificate (PEM, with its chain) and its private key.
    # Both or neither; `regie sandbox --issue-client-cert regie.localhost` makes a pair.
    medmij_client_cert: Path | None = None
    medmij_client_key: Path | None = None
    # Plain http only to loopback addresses (127.0.0.0/8, ::1, localhost, *.localhost).
    allow_insecure_loopback: bool = False
    lists_refresh_hours: float = 6.0
    # A periodic job refreshes the lists when they are configured (regie.jobs).
    lists_auto_refresh: bool = True
    lists_max_bytes: int = 16 * 1024 * 1024
    lists_timeout_seconds: float = 20.0

    # Collecting from providers (see docs/collect.md).
    collect_concurrency_per_provider: int = 16  # docs/collect.md, "Fetching": why 16
    collect_timeout_seconds: float = 30.0  # connect/read timeout of one request
    collect_deadline_seconds: float = 120.0  # a whole response, however slowly it drips
    collect_max_response_bytes: int = 16 * 1024 * 1024
    collect_attempts: int = 3  # idempotent GETs on 429/502/503/504, timeouts, broken connections
    collect_retry_base_seconds: float = 0.5  # backoff: base, 2 x base, ...
    collect_retry_after_max_seconds: float = 30.0  # a longer Retry-After: give up, say so
    collect_authorize_minutes: int = 15  # DigiD and consent must be done within this time
    # Staying up to date: re-collect where a provider granted long-lived consent, on the
    # schedule each patient chooses (regie.collect.schedule; a job of the job queue).
    collect_schedule: bool = True
    collect_schedule_check_minutes: float = 15.0  # how often due re-collects are looked for
    # E-mail (the "there is new data" message): smtp://[user:password@]host[:port] (STARTTLS
    # when the server offers it), smtps://… (TLS from the start); unset: no e-mail is sent.
    smtp_url: str | None = None
    smtp_from: str = "Regie <noreply@localhost>"
    smtp_timeout_seconds: float = 20.0
    # Account e-mails are sent by this many threads of their own per web process, so a slow
    # or hanging mail server holds these, never the threads that serve pages (regie.web.mail_lane).
    mail_threads: int = Field(default=2, ge=1)
    # Without REGIE_SMTP_URL, account e-mails (registration, password reset) are written to
    # REGIE_HOME/outbox. Development only (`regie demo` turns it on): the page that sent one
    # also shows its link, so a demo works without a mail server (docs/security.md).
    dev_mail_links: bool = False
    register_link_hours: int = 24  # how long a registration link works
    reset_link_minutes: int = 60  # how long a password reset link works
    # At most this many account e-mails per address and per client address in the window.
    mail_quota_per_address: int = 5
    mail_quota_per_ip: int = 30
    mail_quota_window_minutes: int = 60
    collect_heartbeat_seconds: float = 5.0
    collect_stale_after_seconds: float = 60.0  # a running job without heartbeat: interrupted
    # How often each web process looks for collections whose process stopped (stale heartbeat).
    collect_sweep_seconds: float = Field(default=30.0, gt=0)
    collect_shutdown_grace_seconds: float = 20.0  # SIGTERM: running collections may finish

    # Operations (see docs/deploy.md). Logs: "json" (one object a line) or "text".
    log_format: str = "json"
    log_level: str = "INFO"
    # /metrics answers loopback clients without a proxy header; with a token set, any
    # client that sends "Authorization: Bearer <token>" (and loopback still).
    metrics_token: SecretStr | None = None

    # Background jobs (docs/decisions/0004-jobs.md).
    jobs_concurrency: int = 2  # jobs one `regie worker` runs at once
    jobs_poll_seconds: float = 1.0
    jobs_grace_seconds: float = 30.0  # SIGTERM: running jobs may finish, then are handed back
    jobs_stale_after_seconds: float = 120.0  # a running job without heartbeat goes back to the queue
    jobs_cleanup_minutes: float = 60.0
    # Run the job worker inside the web process; unset: yes on SQLite, no on PostgreSQL
    # (there `regie worker` runs them).
    jobs_in_web: bool | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'regie.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def run_jobs_in_web(self) -> bool:
        return self.is_sqlite if self.jobs_in_web is None else self.jobs_in_web

    @property
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def rp_id(self) -> str:
        """WebAuthn relying-party id: the host name of the public URL."""
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"
