"""A parent manages a child's record; the WGBO age bands on a clock the test sets."""
from __future__ import annotations

import re
from datetime import timedelta

from regie.store.types import utcnow
from tests.access.world import ALLERGY, seed_record, years_ago
from tests.delegation.conftest import Site
from tests.web.helpers import CODES, SECRET

INVITE = re.compile(r"http://localhost:8000/invite/([A-Za-z0-9_-]+)")
CLAIM = re.compile(r"http://localhost:8000/claim/([A-Za-z0-9_-]+)")


def _years_later(site: Site, years: int) -> None:
    site.app.state.delegations.clock = lambda: utcnow() + timedelta(days=365 * years + years // 4 + 2)


def test_parents_manage_a_childs_record_through_the_age_bands(site: Site) -> None:
    context = site.app.state.context
    mother = site.browser()
    mother.register("moeder@voorbeeld.nl")
    made = mother.post_form("/children/new", {"name": "Noor", "birth_date": years_ago(8).isoformat()})
    assert made.status_code == 303 and made.headers["location"] == "/delegations?done=child"
    page = mother.client.get("/delegations")
    assert "Noor" in page.text and "jonger dan 12" in page.text  # the rule, in plain Dutch
    child_id = re.search(r'name="owner" value="([0-9a-f]{32})"', mother.client.get("/helping").text).group(1)
    with context.db.session() as session:
        child = context.accounts.user(session, child_id)
    seed_record(context, child)
    assert ALLERGY in mother.client.get("/record/allergies").text

    # The other parent: invited as a parent, own account, both are delegates.
    invited = mother.post_form("/delegations/invite", {"email": "vader@voorbeeld.nl", "kind": "parent"},
                               token_from="/delegations/invite?kind=parent")
    assert invited.status_code == 303, invited.text
    token = INVITE.search(site.inbox.wait(1)[-1].get_content()).group(1)
    father = site.browser()
    father.register("vader@voorbeeld.nl")
    assert father.post_form(f"/invite/{token}", {}).status_code == 303
    assert ALLERGY in father.client.get("/record/allergies").text
    assert "Noor" in father.client.get("/record/allergies").text  # whose record

    # 12 to 16: the child is involved and can get an own login.
    _years_later(site, 5)
    page = mother.client.get("/delegations")
    assert "tussen 12 en 16" in page.text and 'action="/children/login"' in page.text
    assert mother.post_form("/children/login", {"email": "noor@voorbeeld.nl"},
                            token_from="/delegations").status_code == 303
    claim = CLAIM.search(site.inbox.wait(2)[-1].get_content()).group(1)
    noor = site.browser()
    assert "Noor" in noor.client.get(f"/claim/{claim}").text
    claimed = noor.post_form(f"/claim/{claim}", {"email": "noor@voorbeeld.nl", "password": "groene-appel-fietst-77",
                                                 "password_repeat": "groene-appel-fietst-77"})
    assert claimed.status_code == 303 and claimed.headers["location"] == "/setup"
    secret = SECRET.search(noor.client.get("/setup/totp").text).group(1)
    assert noor.post_form("/setup/totp", {"code": site.clock.code(secret)}).status_code == 303
    assert len(CODES.findall(noor.client.get("/setup/recovery-codes").text)) == 10
    assert ALLERGY in noor.client.get("/record/allergies").text  # her own record now
    sharing = noor.client.get("/delegations")
    assert sharing.status_code == 200
    assert "moeder@voorbeeld.nl" in sharing.text and "vader@voorbeeld.nl" in sharing.text  # she sees who
    parent_row = re.search(r'data-delegation="([0-9a-f]{32})"', sharing.text).group(1)
    assert "/revoke" not in sharing.text  # the parents still manage it
    assert noor.post_form(f"/delegations/{parent_row}/revoke", {}, token_from="/delegations").status_code == 403
    assert ALLERGY in mother.client.get("/record/allergies").text

    # 16: Noor decides. Until she does, the parents have no access.
    _years_later(site, 8)
    assert mother.client.get("/record/allergies").status_code == 403
    decide = noor.client.get("/delegations")
    assert "16 jaar of ouder" in decide.text
    rows = dict(re.findall(r'data-delegation="([0-9a-f]{32})" data-state="[a-z-]+">\s*<strong>([^<]+)</strong>',
                           decide.text))
    mother_row = next(k for k, v in rows.items() if v == "moeder@voorbeeld.nl")
    father_row = next(k for k, v in rows.items() if v == "vader@voorbeeld.nl")
    assert noor.post_form(f"/delegations/{mother_row}/keep", {"choice": "keep"},
                          token_from="/delegations").status_code == 303
    assert noor.post_form(f"/delegations/{father_row}/keep", {"choice": "end"},
                          token_from="/delegations").status_code == 303
    # The refusal above put the parents' sessions back on their own records: they choose again.
    assert mother.post_form("/helping", {"owner": child_id}).headers["location"] == "/"
    assert ALLERGY in mother.client.get("/record/allergies").text  # kept: she may still read
    assert mother.client.get("/delegations").status_code == 403  # but no longer manages
    assert father.post_form("/helping", {"owner": child_id}).headers["location"] == "/helping?ended=1"
    assert ALLERGY not in father.client.get("/record/allergies").text
    site.app.state.delegations.clock = utcnow


def test_a_child_record_needs_a_name_and_a_birth_date_under_18(site: Site) -> None:
    parent = site.browser()
    parent.register("ouder@voorbeeld.nl")
    assert parent.post_form("/children/new", {"name": "", "birth_date": years_ago(3).isoformat()}).status_code == 422
    assert parent.post_form("/children/new", {"name": "Sam", "birth_date": "morgen"}).status_code == 422
    assert parent.post_form("/children/new", {"name": "Sam", "birth_date": years_ago(20).isoformat()}).status_code == 422
    assert 'name="owner" value="' not in parent.client.get("/helping").text.replace('value=""', "")
