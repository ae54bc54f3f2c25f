"""Who is acting on whose record in this request, for the record store.

The access policy (``regie.access``) decides per request whether someone may act on a
record and with which read scope; it then sets :data:`current` for the rest of the request.
:class:`regie.store.record.RecordRepository` reads it, so that

- every query of the owner's record is limited to the categories the actor may see, in
  the one place that builds queries (a page cannot forget it), and
- audit entries name the actor (a caregiver), not the owner whose record it is.

A context variable follows the request into the thread pool and into ``run_in_threadpool``
(Starlette copies the context), and is unset everywhere else (CLI, jobs): no scope.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActingScope:
    owner_id: str
    actor_id: str
    # None: every category; otherwise only these category names.
    categories: frozenset[str] | None = None

    def limits(self, owner_id: str) -> frozenset[str] | None:
        return self.categories if owner_id == self.owner_id else None

    def actor_for(self, owner_id: str, fallback: str) -> str:
        return self.actor_id if owner_id == self.owner_id else fallback


current: ContextVar[ActingScope | None] = ContextVar("regie_acting_scope", default=None)


def scope_for(owner_id: str) -> ActingScope | None:
    scope = current.get()
    return scope if scope is not None and scope.owner_id == owner_id else None
