"""The policy of every route: what acting on a record through it needs.

``regie.web.guards`` looks the matched route up here. A route that acts on the owner's
record is listed with a :class:`Need`; a route about the signed-in person's own account
with :data:`SELF`; a route without an account with :data:`PUBLIC`. While a session acts on
someone else's record, a route missing here, or one whose handler does not take its record
from the policy (``page_owner``, ``api_owner``, ``record_access``), is refused (fail closed).
tests/access/test_authorization_matrix.py fails for a route missing here.
"""
from __future__ import annotations

from regie.access.policy import PUBLIC, SELF, Action, Need

R = Need(Action.READ)
ADD = Need(Action.ADD)
COLLECT = Need(Action.COLLECT)
SEND = Need(Action.SEND)
MANAGE = Need(Action.MANAGE)
EXPORT = Need(Action.EXPORT)

ROUTES: dict[tuple[str, str], Need | str] = {
    # -- without an account, or the secret in the URL is the credential
    ("GET", "/"): R,  # the overview when signed in, the welcome page otherwise
    ("GET", "/language/{language}"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/healthz"): PUBLIC, ("GET", "/readyz"): PUBLIC, ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/register"): PUBLIC, ("POST", "/register"): PUBLIC,
    ("GET", "/register/continue/{token}"): PUBLIC,  # the link from the e-mail
    ("GET", "/register/password"): PUBLIC, ("POST", "/register/password"): PUBLIC,
    ("GET", "/password/forgot"): PUBLIC, ("POST", "/password/forgot"): PUBLIC,
    ("GET", "/password/link/{token}"): PUBLIC,  # the link from the e-mail
    ("GET", "/password/reset"): PUBLIC, ("POST", "/password/reset"): PUBLIC,
    ("GET", "/password/reset/confirm"): PUBLIC, ("POST", "/password/reset/confirm"): PUBLIC,
    ("POST", "/password/reset/passkey/options"): PUBLIC, ("POST", "/password/reset/passkey/verify"): PUBLIC,
    ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC,
    ("GET", "/login/second-factor"): PUBLIC, ("POST", "/login/second-factor"): PUBLIC,
    ("GET", "/login/recovery"): PUBLIC, ("POST", "/login/recovery"): PUBLIC,
    ("POST", "/login/passkey/options"): PUBLIC, ("POST", "/login/passkey/verify"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("GET", "/calendar/{token}.ics"): PUBLIC,
    ("GET", "/collect/callback"): PUBLIC, ("GET", "/send/callback"): PUBLIC,
    ("GET", "/invite/{token}"): PUBLIC,
    ("GET", "/claim/{token}"): PUBLIC, ("POST", "/claim/{token}"): PUBLIC,
    ("GET", "/questionnaires/callback"): PUBLIC,
    ("GET", "/s/{token}"): PUBLIC, ("POST", "/s/{token}"): PUBLIC,  # a share link opened by a doctor
    ("GET", "/s/{token}/documents/{item_id}"): PUBLIC,  # a document on that page
    ("GET", "/account/deleted"): PUBLIC,  # after deletion there is no account any more
    # -- the signed-in person's own account: never on someone else's behalf
    ("GET", "/setup"): SELF, ("GET", "/setup/totp"): SELF, ("POST", "/setup/totp"): SELF,
    ("GET", "/setup/passkey"): SELF, ("POST", "/setup/passkey/options"): SELF,
    ("POST", "/setup/passkey/verify"): SELF, ("GET", "/setup/recovery-codes"): SELF,
    ("GET", "/account"): SELF, ("GET", "/account/activity"): SELF,
    ("GET", "/account/password"): SELF, ("POST", "/account/password"): SELF,
    ("GET", "/account/tokens"): SELF, ("POST", "/account/tokens"): SELF,
    ("POST", "/account/tokens/{token_id}/revoke"): SELF,
    ("POST", "/account/totp/{factor_id}/remove"): SELF, ("POST", "/account/passkeys/{passkey_id}/remove"): SELF,
    ("POST", "/account/recovery-codes"): SELF,
    ("GET", "/account/confirm"): SELF, ("POST", "/account/confirm"): SELF,
    ("POST", "/account/confirm/passkey/options"): SELF, ("POST", "/account/confirm/passkey/verify"): SELF,
    ("POST", "/api/v1/auth/logout"): SELF, ("GET", "/api/v1/me"): SELF, ("GET", "/api/v1/tokens"): SELF,
    ("GET", "/account/delete"): SELF, ("POST", "/account/delete"): SELF,  # one's own account only
    ("GET", "/admin/lists"): SELF,  # administrators only, about Regie itself
    ("POST", "/invite/{token}"): SELF,  # accepting an invitation, with one's own account
    ("GET", "/helping"): SELF, ("POST", "/helping"): SELF,  # choosing a record: checked against the grant itself
    ("GET", "/children/new"): SELF, ("POST", "/children/new"): SELF,  # a parent makes a child's record
    # -- reading the record
    ("GET", "/record/{category}"): Need(Action.READ, category_param="category"),
    ("GET", "/record/items/{item_id}"): R, ("GET", "/record/items/{item_id}/original"): R,
    ("GET", "/documents/{item_id}"): R, ("GET", "/documents/{item_id}/file"): R,
    ("GET", "/documents/{item_id}/download"): R,
    ("GET", "/timeline"): R, ("GET", "/results/{code}"): R, ("GET", "/search"): R,
    ("GET", "/measurements"): R, ("GET", "/measurements/{row_id}"): R,
    ("GET", "/diary"): R, ("GET", "/diary/{row_id}"): R,
    ("GET", "/record/items/{item_id}/notes"): R, ("GET", "/api/v1/record/items/{item_id}/notes"): R,
    ("GET", "/appointments"): R, ("GET", "/appointments/{item_id}.ics"): R,
    ("GET", "/api/v1/record/summary"): R, ("GET", "/api/v1/record/items"): R,
    ("GET", "/api/v1/record/items/{item_id}"): R, ("GET", "/api/v1/record/items/{item_id}/source"): R,
    ("GET", "/api/v1/measurements"): R, ("GET", "/api/v1/measurements/{row_id}"): R,
    ("GET", "/api/v1/diary"): R,
    ("GET", "/emergency-card"): R, ("GET", "/emergency-card/print"): R,
    # -- adding own data
    ("GET", "/record/upload"): ADD, ("POST", "/record/upload"): ADD,
    ("GET", "/measurements/import"): ADD, ("POST", "/measurements/import"): ADD,
    ("POST", "/measurements/import/fhir"): ADD,
    ("POST", "/measurements/targets"): ADD,
    ("GET", "/measurements/new"): ADD, ("POST", "/measurements/new"): ADD,
    ("GET", "/measurements/{row_id}/edit"): ADD, ("POST", "/measurements/{row_id}/edit"): ADD,
    ("POST", "/measurements/{row_id}/delete"): ADD,
    ("POST", "/diary"): ADD, ("POST", "/diary/{row_id}"): ADD, ("POST", "/diary/{row_id}/delete"): ADD,
    ("POST", "/record/items/{item_id}/notes"): ADD, ("POST", "/record/items/{item_id}/notes/{note_id}/delete"): ADD,
    ("POST", "/api/v1/record/items/{item_id}/notes"): ADD,
    ("POST", "/api/v1/measurements"): ADD, ("DELETE", "/api/v1/measurements/{row_id}"): ADD,
    ("POST", "/api/v1/diary"): ADD,
    # -- collecting from care providers for the owner
    ("GET", "/providers"): COLLECT,
    ("POST", "/collect"): COLLECT, ("GET", "/collect"): COLLECT,
    ("GET", "/collect/batch/{batch_id}"): COLLECT, ("GET", "/collect/{collection_id}/go"): COLLECT,
    ("GET", "/collect/{collection_id}"): COLLECT, ("POST", "/collect/{collection_id}/retry"): COLLECT,
    ("POST", "/collect/consents/{consent_id}/schedule"): COLLECT,
    ("POST", "/collect/consents/{consent_id}/revoke"): COLLECT,
    ("POST", "/api/v1/collections"): COLLECT, ("GET", "/api/v1/collections"): COLLECT,
    ("GET", "/api/v1/collections/{collection_id}"): COLLECT,
    ("GET", "/api/v1/consents"): COLLECT, ("PUT", "/api/v1/consents/{consent_id}"): COLLECT,
    ("DELETE", "/api/v1/consents/{consent_id}"): COLLECT,
    # -- sending to a care provider in the owner's name
    ("GET", "/measurements/send"): SEND, ("POST", "/measurements/send"): SEND,
    ("GET", "/send"): SEND, ("GET", "/send/document"): SEND, ("POST", "/send/document"): SEND,
    ("GET", "/send/{send_id}"): SEND, ("GET", "/send/{send_id}/go"): SEND,
    ("POST", "/api/v1/sends"): SEND, ("POST", "/api/v1/sends/{send_id}/confirm"): SEND,
    ("GET", "/api/v1/sends"): SEND, ("GET", "/api/v1/sends/{send_id}"): SEND,
    ("GET", "/questionnaires"): SEND, ("GET", "/questionnaires/fetch"): SEND,
    ("GET", "/questionnaires/{row_id}"): SEND, ("POST", "/questionnaires/{row_id}"): SEND,
    ("POST", "/questionnaires/{row_id}/accept"): SEND, ("GET", "/questionnaires/{row_id}/permission"): SEND,
    ("GET", "/corrections"): SEND, ("GET", "/corrections/new"): SEND, ("POST", "/corrections/new"): SEND,
    # -- taking everything out, or bringing a record in
    ("GET", "/export"): EXPORT, ("POST", "/export/download"): EXPORT, ("GET", "/export/portability"): EXPORT,
    ("GET", "/export/import"): MANAGE, ("POST", "/export/import"): MANAGE,
    # -- who looked, who has access
    ("GET", "/audit"): Need(Action.AUDIT), ("GET", "/api/v1/audit"): Need(Action.AUDIT),
    ("GET", "/delegations"): Need(Action.SHARING),
    # -- managing the record
    ("POST", "/appointments/feed"): MANAGE, ("POST", "/appointments/feed/revoke"): MANAGE,
    ("GET", "/emergency-card/edit"): MANAGE, ("POST", "/emergency-card/edit"): MANAGE,
    ("GET", "/share-links"): MANAGE, ("GET", "/share-links/new"): MANAGE, ("POST", "/share-links"): MANAGE,
    ("GET", "/share-links/{link_id}"): MANAGE, ("POST", "/share-links/{link_id}/revoke"): MANAGE,
    ("GET", "/delegations/invite"): MANAGE, ("POST", "/delegations/invite"): MANAGE,
    ("GET", "/delegations/{delegation_id}"): MANAGE, ("POST", "/delegations/{delegation_id}"): MANAGE,
    ("POST", "/delegations/{delegation_id}/revoke"): MANAGE,
    ("POST", "/delegations/{delegation_id}/keep"): MANAGE,
    ("POST", "/children/login"): Need(Action.HANDOVER),
}


def need_of(method: str, path: str) -> Need | str | None:
    return ROUTES.get((method, path))
