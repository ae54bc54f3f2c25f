"""Keeps the MedMij lists fresh while the web app runs.

A small daemon thread: every few minutes it asks whether a held list is older than
``lists_refresh_hours`` (or missing) and, if so, refreshes all lists. Started by the web
app's lifespan when the lists are configured and ``REGIE_LISTS_AUTO_REFRESH`` is on (tests
turn it off). With several web workers each runs one; the Volgnummer rule makes that
harmless. This moves to the job runner once collections run as background jobs.
"""
from __future__ import annotations

import logging
import threading

from regie.medmij.lists_client import ListsClient

log = logging.getLogger("regie.medmij.lists")


class ListsRefresher:
    def __init__(self, client: ListsClient, *, check_every_seconds: float = 300.0) -> None:
        self.client = client
        self.check_every_seconds = check_every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="regie-lists-refresh", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> bool:
        """Refresh when due; True when a refresh ran."""
        if not self.client.needs_refresh():
            return False
        self.client.refresh()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # never let the thread die; the error shows up in the log
                log.exception("refreshing the MedMij lists failed")
            self._stop.wait(self.check_every_seconds)
