"""The collector's live sandbox and Regie (tests/collect/conftest.py), reused for sending."""
from tests.collect.conftest import network, regie  # noqa: F401
