"""Who may do what on whose record: the one policy for pages, API and exports (docs/delegation.md)."""
from regie.access.policy import PUBLIC, SELF, Action, Grant, Need, Role, allows
from regie.access.routes import ROUTES, need_of

__all__ = ["PUBLIC", "ROUTES", "SELF", "Action", "Grant", "Need", "Role", "allows", "need_of"]
