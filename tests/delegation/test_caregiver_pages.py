"""Invite → e-mail → own account with 2FA → accept → scoped view → revoke, through the pages."""
from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from sqlalchemy import select

from regie.store.delegation_models import Delegation
from regie.store.types import utcnow
from tests.access.world import ALLERGY, DIAGNOSIS, seed_record
from tests.delegation.conftest import Site

LINK = re.compile(r"http://localhost:8000/invite/([A-Za-z0-9_-]+)")


def _invite(owner, email: str, **fields) -> object:
    data = {"email": email, "name": "Buurvrouw Ans", "categories": ["allergies"], **fields}
    token = owner.csrf("/delegations/invite")
    return owner.client.post("/delegations/invite", data={**data, "csrf_token": token}, follow_redirects=False)


def test_invite_accept_scoped_view_and_revoke(site: Site) -> None:
    context = site.app.state.context
    owner = site.browser()
    owner_account = owner.register("patient@voorbeeld.nl")
    with context.db.session() as session:
        owner_user = context.accounts.by_email(session, owner_account.email)
    seed_record(context, owner_user)

    until = (date.today() + timedelta(days=60)).isoformat()
    sent = _invite(owner, "helper@voorbeeld.nl", until=until)
    assert sent.status_code == 303 and sent.headers["location"] == "/delegations?done=invited"
    message = site.inbox.wait(1)[0]
    assert message["To"] == "helper@voorbeeld.nl"
    body = message.get_content()
    token = LINK.search(body).group(1)
    assert ALLERGY not in body and DIAGNOSIS not in body  # no medical content in the e-mail
    with context.db.session() as session:  # only the hash is stored
        row = session.scalar(select(Delegation).where(Delegation.user_id == owner_user.id))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token.encode() not in (row.label_encrypted or b"")

    someone_else = site.browser()
    someone_else.register("iemand-anders@voorbeeld.nl")  # a forwarded link is no use to another account
    forwarded = someone_else.post_form(f"/invite/{token}", {}, token_from="/helping")
    assert forwarded.status_code == 410 and "ander e-mailadres" in forwarded.text

    helper = site.browser()
    anonymous = helper.client.get(f"/invite/{token}")
    assert anonymous.status_code == 200 and "patient@voorbeeld.nl" in anonymous.text
    assert f"/login?next=/invite/{token}" in anonymous.text
    helper.register("helper@voorbeeld.nl")  # an own account with an own second factor
    accepted = helper.post_form(f"/invite/{token}", {})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/helping"

    allergies = helper.client.get("/record/allergies")
    assert allergies.status_code == 200 and ALLERGY in allergies.text
    assert "patient@voorbeeld.nl" in allergies.text  # whose record, on the page
    assert helper.client.get("/record/allergies").text == allergies.text  # a kept page (decision 0011) ...
    assert helper.client.get("/record/problems").status_code == 403
    assert helper.client.get("/delegations").status_code == 403  # who has access is the owner's business

    again = helper.post_form(f"/invite/{token}", {}, token_from="/helping")
    assert again.status_code == 410  # single use

    listing = owner.client.get("/delegations")
    assert "Buurvrouw Ans" in listing.text and 'data-state="active"' in listing.text
    delegation_id = re.search(r'data-delegation="([0-9a-f]{32})"', listing.text).group(1)
    revoked = owner.post_form(f"/delegations/{delegation_id}/revoke", {}, token_from="/delegations")
    assert revoked.status_code == 303

    ended = helper.client.get("/record/allergies")  # ... is never shown once access has ended
    assert ended.status_code == 403 and ALLERGY not in ended.text
    assert helper.client.get("/record/allergies").status_code == 200  # now the helper's own, empty record
    assert ALLERGY not in helper.client.get("/timeline").text

    log = owner.client.get("/audit")
    assert "helper@voorbeeld.nl" in log.text


def test_an_invitation_expires_and_bad_input_is_refused_clearly(site: Site) -> None:
    owner = site.browser()
    owner.register("patient2@voorbeeld.nl")
    assert _invite(owner, "patient2@voorbeeld.nl").status_code == 422  # oneself
    nothing = _invite(owner, "iemand@voorbeeld.nl", categories=[])
    assert nothing.status_code == 422 and "error" in nothing.text
    past = _invite(owner, "iemand@voorbeeld.nl", until="2001-01-01")
    assert past.status_code == 422
    assert owner.client.get("/delegations").text.count("data-delegation=") == 0  # nothing stored

    assert _invite(owner, "later@voorbeeld.nl").status_code == 303
    token = LINK.search(site.inbox.wait(1)[0].get_content()).group(1)
    service = site.app.state.delegations
    service.clock = lambda: utcnow() + timedelta(days=8)
    try:
        assert site.browser().client.get(f"/invite/{token}").status_code == 404
    finally:
        service.clock = utcnow
    assert site.browser().client.get("/invite/not-a-real-token").status_code == 404
