"""Sharing with a doctor: share links (read-only pages without an account) and the
emergency card. Not MedMij sending (that is :mod:`regie.share`). See docs/share-links.md."""
