"""Regie: an open-source personal health environment (PGO) for the Dutch MedMij network."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("regie")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
