"""The web app on both databases and a form-filling client (tests/web/conftest.py)."""
from tests.web.conftest import app, browser, client  # noqa: F401
