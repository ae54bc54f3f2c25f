"""Delegations (machtigen): caregivers and parents acting on someone's record (docs/delegation.md)."""
from regie.delegation.service import DelegationError, Delegations

__all__ = ["DelegationError", "Delegations"]
