"""The emergency card over the web, on both databases: suggested from the record, saved
encrypted, shown, printed, checked, and shared through a share link."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from regie.store.sharelinks_models import EmergencyCard
from tests.sharelinks.record_data import ALLERGY, MEDICINE, NAME, PROBLEM, STOPPED, load_record
from tests.web.helpers import Browser

CONTACT = "Joost Zeldenrijk"
PHONE = "06 98765432"
OWN_LINE = "Penicilline-overgevoeligheid eigen regel"


def _checked(page: str) -> set[str]:
    return set(re.findall(r'name="item" value="([0-9a-f]{32})" checked', page))


def _item_ids(browser: Browser, category: str) -> dict[str, str]:
    items = browser.client.get("/api/v1/record/items", params={"category": category}).json()["items"]
    return {i["title"]: i["id"] for i in items}


def test_card_suggested_saved_shown_printed(browser: Browser) -> None:
    account = browser.register()
    load_record(browser.context, account.email)
    empty = browser.client.get("/emergency-card")
    assert "U heeft nog geen noodkaart" in empty.text
    assert browser.client.get("/emergency-card/print", follow_redirects=False).headers["location"] == \
        "/emergency-card/edit"

    form = browser.client.get("/emergency-card/edit")
    assert form.status_code == 200
    medication, allergies = _item_ids(browser, "medication"), _item_ids(browser, "allergies")
    problems = _item_ids(browser, "problems")
    # A first card: current allergies and medicines ticked, stopped ones and problems offered but not ticked.
    assert _checked(form.text) == {medication[MEDICINE], allergies[ALLERGY]}
    assert STOPPED in form.text and PROBLEM in form.text
    assert f'value="{NAME}"' in form.text and 'value="1961-04-09"' in form.text

    saved = browser.post_form("/emergency-card/edit", {
        "item": [medication[MEDICINE], allergies[ALLERGY], problems[PROBLEM]], "name": NAME,
        "birth_date": "1961-04-09", "extra_allergies": OWN_LINE, "contact_name": CONTACT,
        "contact_relation": "zoon", "contact_phone": PHONE, "notes": "Draagt een insulinepomp",
    }, token_from="/emergency-card/edit")
    assert saved.status_code == 303 and saved.headers["location"] == "/emergency-card?saved=1"
    card = browser.client.get("/emergency-card?saved=1").text
    for text in (MEDICINE, ALLERGY, PROBLEM, OWN_LINE, CONTACT, PHONE, "Draagt een insulinepomp",
                 "Uw noodkaart is opgeslagen."):
        assert text in card, text
    assert STOPPED not in card
    assert 'href="tel:0698765432"' in card
    printed = browser.client.get("/emergency-card/print").text
    assert 'href="/static/emergency-print-3.css"' in printed and 'src="/static/print-1.js"' in printed
    assert "wallet-front" in printed and CONTACT in printed and MEDICINE in printed

    with browser.context.db.session() as session:
        row = session.scalar(select(EmergencyCard))
    for text in (CONTACT, PHONE, OWN_LINE, NAME):
        assert text.encode() not in row.content_encrypted
    again = browser.client.get("/emergency-card/edit")
    assert _checked(again.text) == {medication[MEDICINE], allergies[ALLERGY], problems[PROBLEM]}
    assert OWN_LINE in again.text


def test_bad_input_keeps_what_was_typed(browser: Browser) -> None:
    browser.register()
    response = browser.post_form("/emergency-card/edit", {"contact_name": CONTACT, "contact_phone": "bel mij",
                                                          "notes": "x" * 1001}, token_from="/emergency-card/edit")
    assert response.status_code == 422
    assert "Dit is geen telefoonnummer." in response.text and "Dit is te lang." in response.text
    assert f'value="{CONTACT}"' in response.text
    assert "U heeft nog geen noodkaart" in browser.client.get("/emergency-card").text  # nothing saved


def test_card_shared_through_a_link(app, browser: Browser) -> None:
    account = browser.register()
    load_record(browser.context, account.email)
    allergies = _item_ids(browser, "allergies")
    browser.post_form("/emergency-card/edit", {"item": [allergies[ALLERGY]], "name": NAME, "contact_name": CONTACT,
                                               "contact_phone": PHONE}, token_from="/emergency-card/edit")
    form = browser.client.get("/share-links/new?emergency_card=1")
    assert 'id="emergency_card" name="emergency_card" value="1" checked' in form.text
    created = browser.post_form("/share-links", {"emergency_card": "1", "hours": "1", "patient_name": NAME},
                                token_from="/share-links/new")
    url = re.search(r'id="share-url" type="text" value="([^"]+)"', created.text).group(1)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as doctor:
        page = doctor.get(url[url.index("/s/"):])
    assert page.status_code == 200
    assert "Noodkaart" in page.text and ALLERGY in page.text and CONTACT in page.text
    assert MEDICINE not in page.text  # only what is on the card


def test_a_helper_sees_only_the_sections_they_may_read(app, browser: Browser) -> None:
    from tests.access.world import act_for, delegate, make_user, sign_in

    account = browser.register()
    load_record(browser.context, account.email)
    medication, allergies = _item_ids(browser, "medication"), _item_ids(browser, "allergies")
    browser.post_form("/emergency-card/edit", {
        "item": [medication[MEDICINE], allergies[ALLERGY]], "name": NAME, "extra_allergies": OWN_LINE,
        "extra_medication": "Eigen medicijnregel", "contact_name": CONTACT}, token_from="/emergency-card/edit")
    with browser.context.db.session() as session:
        owner = browser.context.accounts.by_email(session, account.email)
    helper = make_user(browser.context, "helper-card@voorbeeld.nl")
    delegate(app, owner, helper, categories={"medication"})
    person = sign_in(app, browser.context, helper)
    act_for(browser.context, person, owner.id)
    with person.client:
        card = person.client.get("/emergency-card")
        assert card.status_code == 200
        assert MEDICINE in card.text and "Eigen medicijnregel" in card.text and CONTACT in card.text
        assert ALLERGY not in card.text and OWN_LINE not in card.text
        assert person.client.get("/emergency-card/edit").status_code == 403  # changing it is the owner's


def test_a_problem_with_an_attention_flag_shows_it_on_the_card(app, browser: Browser) -> None:
    """A GP's attention flag ("important for every care provider who treats you") is what an
    emergency card is for: the card page, its print and a share link of it show the badge,
    in the Presenter's markup, beside that problem only."""
    from tests.web.test_sharelinks_pages import ATTENTION, _record

    account = browser.register()
    load_record(browser.context, account.email, _record())  # a closed episode with the flag
    flagged = "Hartkloppingen gesloten episode"
    problems = {i["title"]: i for i in browser.client.get(
        "/api/v1/record/items", params={"category": "problems"}).json()["items"]}
    assert problems[flagged].get("attention") and not problems["Rugpijn open episode"].get("attention")
    saved = browser.post_form("/emergency-card/edit", {
        "item": [problems[flagged]["id"], problems["Rugpijn open episode"]["id"]], "name": NAME,
        "contact_name": CONTACT}, token_from="/emergency-card/edit")
    assert saved.status_code == 303
    badge = f'<span class="badge badge-attention">{ATTENTION["nl"]}</span>'
    created = browser.post_form("/share-links", {"emergency_card": "1", "hours": "1", "patient_name": NAME},
                                token_from="/share-links/new")
    url = re.search(r'id="share-url" type="text" value="([^"]+)"', created.text).group(1)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as doctor:
        shared = doctor.get(url[url.index("/s/"):]).text
    for page in (browser.client.get("/emergency-card").text, browser.client.get("/emergency-card/print").text,
                 shared):
        lines = [line for line in page.splitlines()  # the card's item lines (not the wallet's summary)
                 if "<li>" in line and ("Hartkloppingen" in line or "Rugpijn" in line)]
        assert [badge in line for line in lines] == [("Hartkloppingen" in line) for line in lines], lines
        assert len(lines) == 2 and any(badge in line for line in lines)
    # The wallet-size summary of the print marks it too, right after that problem's title.
    printed = browser.client.get("/emergency-card/print").text
    wallet = printed[printed.index('class="wallet-face wallet-back"'):printed.index('class="print-sheet"')]
    assert f"{flagged} {badge}" in wallet and "Rugpijn open episode" in wallet
    assert wallet.count(badge) == 1
