"""Leaving Regie: erasing an account and everything in it (docs/leaving.md)."""
