"""The web app of tests/web, and one app per module for the matrix (built once: it is large)."""
from __future__ import annotations

from tests.web.conftest import app, browser, client  # noqa: F401
