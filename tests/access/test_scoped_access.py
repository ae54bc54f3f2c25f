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


def test_ids_of_one_persons_items_give_nothing_to_another(app) -> None:
    """IDOR: a signed-in stranger (on their own record) tries the owner's ids everywhere."""
    context, owner, helper = _world(app)
    me = sign_in(app, context, owner)
    headers = {"X-CSRF-Token": me.csrf}
    measurement = me.client.post("/api/v1/measurements", headers=headers, json={
        "type": "body_weight", "value": 71, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    assert measurement.status_code == 201, measurement.text
    entry = me.client.post("/api/v1/diary", headers=headers, json={
        "time": "2026-01-05T20:00:00+01:00", "symptoms": ["hoofdpijn"], "severity": 6})
    assert entry.status_code == 201, entry.text
    item_ids = [i["id"] for i in me.client.get("/api/v1/record/items").json()["items"]]
    delegation_id, _ = service_of(app).invite(owner, owner, email="iemand@voorbeeld.nl", name="",
                                              categories=None)
    stranger = sign_in(app, context, helper)
    for item_id in item_ids:
        for url in (f"/record/items/{item_id}", f"/api/v1/record/items/{item_id}",
                    f"/api/v1/record/items/{item_id}/source", f"/record/items/{item_id}/notes",
                    f"/documents/{item_id}"):
            response = stranger.client.get(url)
            assert response.status_code == 404, (url, response.status_code)
    for url in (f"/measurements/{measurement.json()['id']}", f"/api/v1/measurements/{measurement.json()['id']}",
                f"/diary/{entry.json()['id']}", f"/delegations/{delegation_id}"):
        response = stranger.client.get(url)
        assert response.status_code == 404, (url, response.status_code)
    revoke = stranger.client.post(f"/delegations/{delegation_id}/revoke", data={"csrf_token": stranger.csrf})
    assert revoke.status_code == 404
    assert service_of(app).for_owner(owner)[0].state == "invited"  # untouched
    deleted = stranger.client.delete(f"/api/v1/measurements/{measurement.json()['id']}",
                                     headers={"X-CSRF-Token": stranger.csrf})
    assert deleted.status_code == 404
    assert me.client.get(f"/api/v1/measurements/{measurement.json()['id']}").status_code == 200


def test_a_caregiver_who_may_add_adds_to_the_owners_record_and_is_named(app) -> None:
    context, owner, helper = _world(app)
    delegate(app, owner, helper, categories={"vital_signs"}, can_add=True)
    carer = sign_in(app, context, helper)
    act_for(context, carer, owner.id)
    added = carer.client.post("/api/v1/measurements", headers={"X-CSRF-Token": carer.csrf}, json={
        "type": "body_weight", "value": 70.1, "unit": "kg", "time": "2026-02-01T08:30:00+01:00"})
    assert added.status_code == 201, added.text
    me = sign_in(app, context, owner)
    assert me.client.get(f"/api/v1/measurements/{added.json()['id']}").status_code == 200
    assert carer.client.get("/api/v1/measurements").status_code == 200
    # Nothing was added to the caregiver's own record.
    act_for(context, carer, None)
    assert carer.client.get("/api/v1/measurements").json()["items"] == []
    log = me.client.get("/api/v1/audit").json()
    entries = log["entries"] if isinstance(log, dict) else log
    assert any(e["actor_id"] == helper.id for e in entries)
