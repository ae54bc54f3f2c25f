"""The recipient's share-link page (regie.web.pages.sharelinks, _sharelinks.html) writes an
item's badges with the Presenter's rule, as the owner's pages do: a closed episode with a GP
attention flag shows that flag to the person who opens the link too."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from types import SimpleNamespace

import orjson
import pytest
from fastapi.testclient import TestClient

from regie.sharelinks.selection import Section
from regie.sharelinks.service import ShareLinks
from regie.web.i18n import LANGUAGES, translations
from regie.web.pages.emergency import SECTION_NAMES as CARD_SECTION_NAMES
from regie.web.pages.sharelinks import PERIOD_NAMES
from regie.web.present import CATEGORY_NAMES, Presenter
from regie.web.templating import for_language
from tests.sharelinks.record_data import NAME, load_record
from tests.web.helpers import Browser
from tests.web.test_templating import BADGE_CASES, _page_values

URL = re.compile(r'id="share-url" type="text" value="([^"]+)"')
CLOSED = "Hartkloppingen gesloten episode"
OPEN = "Rugpijn open episode"
LAB = "Kalium te hoog gedeeld"
# One shared item: its title line (value, flag) and its meta line (..., badges).
SHARED_ITEM = re.compile(r'<li class="item">\n  <p class="item-title">([^\n]*)\n(.*?)</p>\n  <p class="meta">\n'
                         r'(.*?)\n    (.*?)\n  </p>\n', re.S)
ATTENTION = {"nl": "Attentiewaarde", "en": "Attention flag"}


def _record() -> bytes:
    title = "http://nictiz.nl/fhir/StructureDefinition/EpisodeOfCare-Title"

    def episode(rid: str, text: str, status: str, period: dict) -> dict:
        return {"resourceType": "EpisodeOfCare", "id": rid, "status": status, "period": period,
                "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/gp-EpisodeOfCare"]},
                "patient": {"reference": "Patient/pat"}, "extension": [{"url": title, "valueString": text}]}

    resources = [
        {"resourceType": "Patient", "id": "pat", "name": [{"family": NAME.split()[1], "given": [NAME.split()[0]]}]},
        episode("ep-closed", CLOSED, "finished", {"start": "2019-03-01", "end": "2020-06-01"}),
        episode("ep-open", OPEN, "active", {"start": "2023-09-01"}),
        {"resourceType": "Flag", "id": "flag-1", "status": "active",
         "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/gp-AttentionFlag"]},
         "code": {"text": "Let op"}, "subject": {"reference": "Patient/pat"},
         "extension": [{"url": "http://nictiz.nl/fhir/StructureDefinition/flag-detail",
                        "valueReference": {"reference": "EpisodeOfCare/ep-closed"}}]},
        {"resourceType": "Observation", "id": "lab-1", "status": "preliminary",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                   "code": "laboratory"}]}],
         "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3", "display": LAB}], "text": LAB},
         "effectiveDateTime": "2024-05-01T09:00:00+00:00",
         "valueQuantity": {"value": 5.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
         "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                         "code": "H"}]}]},
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]})


def test_a_shared_closed_episode_shows_its_attention_flag_as_on_the_owners_pages(app, browser: Browser) -> None:
    account = browser.register()
    load_record(browser.context, account.email, _record())
    owners_list = browser.client.get("/record/problems?status=all").text
    assert f'<span class="badge badge-attention">{ATTENTION["nl"]}</span>' in owners_list

    made = browser.post_form("/share-links", {"cat_problems": "all", "cat_results": "all", "hours": "24",
                                              "patient_name": NAME, "label": "Dokter"}, token_from="/share-links/new")
    assert made.status_code == 200, made.text
    url = URL.search(made.text).group(1)
    path = url[url.index("/s/"):]
    token = path[len("/s/"):]
    view = ShareLinks(browser.context.settings, browser.context.db, browser.context.accounts.keyring).view(
        token, unlocked=True)
    items = {item["title"]: item for section in view.sections for item in section.items}
    assert set(items) >= {CLOSED, OPEN, LAB}
    assert items[CLOSED].get("attention") is True and items[CLOSED].get("active") is False
    assert not items[OPEN].get("attention")

    for language in LANGUAGES:
        p = Presenter(language, translations(language).gettext)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as doctor:  # no account
            doctor.cookies.set("regie_lang", language)
            page = doctor.get(path)
        assert page.status_code == 200, page.text
        attention = f'<span class="badge badge-attention">{ATTENTION[language]}</span>'
        assert page.text.count(attention) == 1  # the closed episode's, as the owner sees it
        shown = {title: (head, meta_badges) for title, head, _, meta_badges in SHARED_ITEM.findall(page.text)}
        assert set(shown) == set(items), (language, shown)
        for title, item in items.items():
            head, meta_badges = shown[title]
            assert meta_badges == p.badges(item), (language, title)
            flag = p.flag(item)
            assert head.endswith(f" {p.flag_badge(flag)}") if flag else "flag" not in head
        assert shown[CLOSED][1].startswith(attention) and p.badges(items[CLOSED]).startswith(attention)
        assert attention not in shown[OPEN][1]
        assert '<span class="flag flag-high">' in shown[LAB][0]
        # The owner's list row of the episode has the same badges.
        assert p.badges(items[CLOSED]) in p.item_rows([items[CLOSED]])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shared_page_writes_every_badge_as_the_presenter_does(language: str) -> None:
    values = _page_values(language)
    p = values["p"]
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    view = SimpleNamespace(patient_name=NAME, birth_date=None, shared_by=None, created_at=moment, expires_at=moment,
                           card=None, files=set(), sections=[Section(None, None, BADGE_CASES)])
    page = for_language(language).get_template("shared.html").render(
        view=view, token="t", category_names=CATEGORY_NAMES, period_names=PERIOD_NAMES, card_sections=(),
        card_section_names=CARD_SECTION_NAMES, max_items=200, **values)
    shown = SHARED_ITEM.findall(page)
    assert len(shown) == len(BADGE_CASES)
    for item, (title, head, _, meta_badges) in zip(BADGE_CASES, shown):
        assert meta_badges == p.badges(item)
        flag = p.flag(item)
        assert head.endswith(f" {p.flag_badge(flag)}") if flag else "flag" not in head
    with_attention = [item for item in BADGE_CASES if item.get("attention")]
    assert with_attention and page.count(f'<span class="badge badge-attention">{ATTENTION[language]}</span>') == len(
        with_attention)
