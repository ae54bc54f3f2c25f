"""Export sections for account data that exists in every Regie: what was sent to care
providers (metadata only: the documents themselves are in the record)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from regie.portability.extras import ExportSection, register
from regie.store.share_models import MedMijSend


def _sends(session: Any, user_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(MedMijSend).where(MedMijSend.user_id == user_id)
                           .order_by(MedMijSend.created_at, MedMijSend.id)).all()
    return [{"kind": r.kind, "provider": r.provider, "service": r.service_id, "state": r.state,
             "entries": r.entries, "reference": r.reference, "created_at": r.created_at,
             "sent_at": r.sent_at, "http_status": r.http_status, "error": r.error_code} for r in rows]


register(ExportSection("sends", "Gedeeld met zorgverleners (MedMij)", "Sent to care providers (MedMij)", _sends))
