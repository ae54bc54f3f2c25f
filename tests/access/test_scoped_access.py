"""A caregiver's scoped view through the policy: categories, audit, revocation, expiry, IDOR."""
from __future__ import annotations

from datetime import timedelta

from regie.store.types import utcnow
from tests.access.world import (
    ALLERGY,
    DIAGNOSIS,
    WEIGHT,
    act_for,
    delegate,
    make_user,
    seed_record,
    service_of,
    sign_in,
)


def _world(app):
    context = app.state.context
    owner = make_user(context, "eigenaar@voorbeeld.nl")
    helper = make_user(context, "mantelzorger@voorbeeld.nl")
    seed_record(context, owner)
    return context, owner, helper


def test_a_caregiver_sees_only_the_chosen_categories_and_is_named_in_the_audit_log(app) -> None:
    context, owner, helper = _world(app)
    delegate(app, owner, helper, categories={"allergies"})
    carer = sign_in(app, context, helper)
    act_for(context, carer, owner.id)

    allergies = carer.client.get("/record/allergies")
    assert allergies.status_code == 200
    assert ALLERGY in allergies.text
    assert "eigenaar@voorbeeld.nl" in allergies.text  # whose record it is, on the page
    assert carer.client.get("/record/problems").status_code == 403
    timeline = carer.client.get("/timeline")
    assert timeline.status_code == 200 and ALLERGY in timeline.text
    assert DIAGNOSIS not in timeline.text and WEIGHT not in timeline.text
    overview = carer.client.get("/")
    assert overview.status_code == 200 and DIAGNOSIS not in overview.text
    items = carer.client.get("/api/v1/record/items").json()["items"]
    assert {i["category"] for i in items} == {"allergies"}
    assert carer.client.get("/audit").status_code == 403  # the log is the owner's

    me = sign_in(app, context, owner)
    everything = me.client.get("/api/v1/record/items").json()["items"]
    hidden = [i["id"] for i in everything if i["category"] == "problems"]
    assert hidden and carer.client.get(f"/record/items/{hidden[0]}").status_code == 404
    assert carer.client.get(f"/api/v1/record/items/{hidden[0]}").status_code == 404

    log = me.client.get("/audit")
    assert log.status_code == 200
    assert "mantelzorger@voorbeeld.nl" in log.text  # who looked at my data: the caregiver, by name


def test_revoking_ends_access_at_once_in_an_open_session(app) -> None:
    context, owner, helper = _world(app)
    row_id = delegate(app, owner, helper, categories=None)
    carer = sign_in(app, context, helper)
    act_for(context, carer, owner.id)
    assert DIAGNOSIS in carer.client.get("/record/problems").text

    service_of(app).revoke(owner, owner, row_id)
    refused = carer.client.get("/record/problems")
    assert refused.status_code == 403
    assert DIAGNOSIS not in refused.text
    # The session is back on the helper's own (empty) record.
    assert DIAGNOSIS not in carer.client.get("/timeline").text
    assert carer.client.get("/api/v1/record/items").json()["items"] == []


def test_an_expired_delegation_gives_nothing(app) -> None:
    context, owner, helper = _world(app)
    service = service_of(app)
    delegate(app, owner, helper, categories=None, valid_until=utcnow() + timedelta(days=1))
    carer = sign_in(app, context, helper)
    act_for(context, carer, owner.id)
    assert carer.client.get("/record/problems").status_code == 200
    service.clock = lambda: utcnow() + timedelta(days=2)
    try:
        act_for(context, carer, owner.id)
        assert carer.client.get("/record/problems").status_code == 403
        act_for(context, carer, owner.id)
        assert carer.client.get("/api/v1/record/summary").status_code == 403
    finally:
        service.clock = utcnow


def test_a_stranger_cannot_choose_someone_elses_record(app) -> None:
    context, owner, helper = _world(app)
    stranger = sign_in(app, context, helper)  # no delegation at all
    switched = stranger.client.post("/helping", data={"owner": owner.id, "csrf_token": stranger.csrf},
                                    follow_redirects=False)
    assert switched.headers["location"] == "/helping?ended=1"
    act_for(context, stranger, owner.id)  # even a forged choice in the session gives nothing
    assert stranger.client.get("/record/problems").status_code == 403
    act_for(context, stranger, owner.id)
    refused = stranger.client.get("/api/v1/record/items")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    # The refusal put the session back on the stranger's own (empty) record.
    assert stranger.client.get("/api/v1/record/items").json()["items"] == []
