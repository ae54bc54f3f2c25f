"""Passkeys (WebAuthn) as a second factor, via py_webauthn.

The challenge lives in the server-side session between the two steps of a
ceremony; the browser part is static/js/passkeys-*.js.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.accounts import activity
from regie.accounts.activity import ClientInfo
from regie.accounts.errors import InvalidSecondFactor, ValidationFailed
from regie.config import Settings
from regie.store.models import Passkey, User
from regie.store.types import utcnow

RP_NAME = "Regie"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Ceremony:
    options_json: str
    challenge: str  # base64url, kept in the session


class Passkeys:
    def __init__(self, settings: Settings) -> None:
        self.rp_id = settings.rp_id
        self.origin = settings.origin

    # webauthn is imported in the methods: a quarter second per process, needed only by passkey routes.
    def registration_options(self, session: Session, user: User) -> Ceremony:
        import webauthn
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialDescriptor,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        existing = session.scalars(select(Passkey).where(Passkey.user_id == user.id))
        options = webauthn.generate_registration_options(
            rp_id=self.rp_id,
            rp_name=RP_NAME,
            user_name=user.email,
            user_id=user.id.encode(),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in existing],
        )
        return Ceremony(webauthn.options_to_json(options), _b64(options.challenge))

    def register(
        self,
        session: Session,
        user: User,
        credential: dict[str, Any] | str,
        challenge: str,
        name: str,
        client: ClientInfo,
    ) -> Passkey:
        import webauthn
        from webauthn.helpers.exceptions import InvalidRegistrationResponse

        try:
            verified = webauthn.verify_registration_response(
                credential=credential,
                expected_challenge=_unb64(challenge),
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
            )
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed({"passkey": "passkey-registration-failed"}) from exc
        key = Passkey(
            user_id=user.id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            name=(name or "Passkey").strip()[:100] or "Passkey",
        )
        session.add(key)
        session.flush()
        activity.record(session, user.id, "passkey-added", client, key.name)
        return key

    def authentication_options(self, session: Session, user: User) -> Ceremony:
        import webauthn
        from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

        keys = list(session.scalars(select(Passkey).where(Passkey.user_id == user.id)))
        options = webauthn.generate_authentication_options(
            rp_id=self.rp_id,
            allow_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in keys],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return Ceremony(webauthn.options_to_json(options), _b64(options.challenge))

    def authenticate(
        self, session: Session, user: User, credential: dict[str, Any] | str, challenge: str
    ) -> Passkey:
        import webauthn
        from webauthn.helpers.exceptions import InvalidAuthenticationResponse

        try:
            # A body that is not JSON (ValueError) or not an object (AttributeError) is a
            # failed passkey check like any other, not a server error.
            data = json.loads(credential) if isinstance(credential, str) else credential
            raw_id = _unb64(str(data.get("rawId") or data.get("id") or ""))
        except (ValueError, AttributeError) as exc:
            raise InvalidSecondFactor("Unknown passkey.") from exc
        key = session.scalar(
            select(Passkey).where(Passkey.user_id == user.id, Passkey.credential_id == raw_id)
        )
        if key is None:
            raise InvalidSecondFactor("Unknown passkey.")
        try:
            verified = webauthn.verify_authentication_response(
                credential=data,
                expected_challenge=_unb64(challenge),
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
            raise InvalidSecondFactor("The passkey could not be verified.") from exc
        key.sign_count = verified.new_sign_count
        key.last_used_at = utcnow()
        return key

    def list_for(self, session: Session, user_id: str) -> list[Passkey]:
        return list(session.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)))
