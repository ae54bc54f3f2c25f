"""Export sections for the account data Regie keeps beside the record: what was sent to care
providers, who has access (delegations), the share links with their openings, and the
emergency card. Read through each package's own service (they decrypt their columns) and
never with a secret: no invitation or link tokens, no share-link codes."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from regie.portability.extras import ExportSection, SectionContext, register
from regie.store.share_models import MedMijSend


def _sends(context: SectionContext) -> list[dict[str, Any]]:
    rows = context.session.scalars(select(MedMijSend).where(MedMijSend.user_id == context.user.id)
                                   .order_by(MedMijSend.created_at, MedMijSend.id)).all()
    from regie.share.service import provider_of  # the provider is encrypted (migration 0020)

    return [{"kind": r.kind, "provider": provider_of(context.keys.cipher, r), "service": r.service_id,
             "state": r.state,
             "entries": r.entries, "reference": r.reference, "created_at": r.created_at,
             "sent_at": r.sent_at, "http_status": r.http_status, "error": r.error_code} for r in rows]


def _delegations(context: SectionContext) -> list[dict[str, Any]]:
    from regie.accounts.service import Accounts
    from regie.delegation import Delegations

    views = Delegations(Accounts(context.settings, context.db, context.keyring)).for_owner(context.user)
    return [{"kind": v.kind, "email": v.email, "name": v.name, "state": v.state,
             "categories": sorted(v.categories) if v.categories is not None else "all",
             "can_add": v.can_add, "can_collect": v.can_collect, "valid_until": v.valid_until,
             "created_at": v.created_at, "accepted_at": v.accepted_at, "revoked_at": v.revoked_at}
            for v in views]


def _share_links(context: SectionContext) -> list[dict[str, Any]]:
    from regie.sharelinks.service import ShareLinks

    links = ShareLinks(context.settings, context.db, context.keyring).list_for(context.user)
    return [{"label": link.label, "patient_name": link.patient_name, "created_at": link.created_at,
             "expires_at": link.expires_at, "revoked_at": link.revoked_at, "blocked_at": link.blocked_at,
             "state": link.state, "with_code": link.has_code, "open_count": link.open_count,
             "opened_at": list(link.opens), "last_opened_at": link.last_opened_at,
             "failed_codes": link.failed_codes, "selection": link.selection.to_json()} for link in links]


def _emergency_card(context: SectionContext) -> dict[str, Any] | None:
    from regie.sharelinks.emergency import EmergencyCards

    card = EmergencyCards().load(context.session, context.keys)
    return card.to_json() if card is not None else None


register(ExportSection("sends", "Gedeeld met zorgverleners (MedMij)", "Sent to care providers (MedMij)", _sends))
register(ExportSection("delegations", "Wie toegang heeft tot uw dossier", "Who has access to your record",
                       _delegations))
register(ExportSection("share-links", "Deellinks en wanneer ze geopend zijn", "Share links and when they were opened",
                       _share_links))
register(ExportSection("emergency-card", "Uw noodkaart", "Your emergency card", _emergency_card))
