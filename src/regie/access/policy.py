"""The policy: what an actor may do on a record, decided in one place.

A :class:`Grant` is what one person may do on one record *now*, worked out from the
delegation rows and (for a child's record) the child's age by :mod:`regie.access.grants`.
:func:`allows` answers one question: may this grant do this :class:`Need`? Every page,
API operation and export asks it through ``regie.web.guards`` with the :data:`ROUTES`
table of :mod:`regie.access.routes`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from regie.record import Category


class Action(StrEnum):
    READ = "read"          # see record data (limited to the grant's categories)
    ADD = "add"            # add own data: measurements, diary, notes, files
    COLLECT = "collect"    # collect data from care providers for the owner
    SEND = "send"          # send data to a care provider in the owner's name
    AUDIT = "audit"        # read who looked at the record
    SHARING = "sharing"    # see who has access (the delegations page)
    MANAGE = "manage"      # invite, change and end access; calendar feeds
    HANDOVER = "handover"  # a parent invites the child to an own login
    EXPORT = "export"      # take everything out (export, IPS, PDF)


class Role(StrEnum):
    OWNER = "owner"
    CAREGIVER = "caregiver"
    PARENT = "parent"


ALL_CATEGORIES = frozenset(c.value for c in Category)
EVERYTHING = frozenset(Action)


@dataclass(frozen=True)
class Grant:
    owner_id: str
    actor_id: str
    role: Role
    actions: frozenset[Action]
    # None: every category; else the category names the actor may read.
    categories: frozenset[str] | None = None
    delegation_id: str | None = None
    # Why the grant is what it is, as a message id for the page (e.g. the WGBO band).
    reason: str = ""

    @property
    def acting_for_other(self) -> bool:
        return self.owner_id != self.actor_id

    def may_read(self, category: str) -> bool:
        return Action.READ in self.actions and (self.categories is None or category in self.categories)


@dataclass(frozen=True)
class Need:
    """What a route needs: an action, and for routes naming a category, that category."""

    action: Action
    category_param: str | None = None
    extras: tuple[str, ...] = field(default=())


#: Routes that never act on someone else's record: the signed-in person's own account.
SELF = "self"
#: Routes reachable without an account, or with a secret in the URL as credential.
PUBLIC = "public"


def allows(grant: Grant | None, need: Need, path_params: dict[str, str] | None = None) -> bool:
    if grant is None or need.action not in grant.actions:
        return False
    if need.action is Action.READ:
        if grant.categories is not None and not grant.categories:
            return False
        if need.category_param is not None:
            category = (path_params or {}).get(need.category_param, "")
            # An unknown category is the page's 404 to give, for the owner as for a delegate.
            return category not in ALL_CATEGORIES or grant.may_read(category)
    return True
