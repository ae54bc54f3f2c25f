"""Sending to care providers (MedMij delen): see docs/share.md."""
