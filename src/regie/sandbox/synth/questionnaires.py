"""Synthetic questionnaires for service 906 (Vragenlijsten, STU3): two Questionnaires and
a Task per Questionnaire with status ``requested``, shaped as the Nictiz
``vl-QuestionnaireProvisioningTask`` (code LOINC 74468-0, the Questionnaire and the
patient as ``input``, the patient as ``owner``).

The intake form uses every item type a PGO must render (display, group, boolean,
decimal, integer, quantity, string, text, date, dateTime, time, choice, repeating
choice, open-choice) and conditions on boolean, coded and "has an answer" questions,
nested in groups, so Regie's form is tested against all of them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
EXT = "http://hl7.org/fhir/StructureDefinition/"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ANSWERS = "urn:oid:2.16.840.1.113883.2.4.3.11.999.906.1"
TASK_CODE = {"coding": [{"system": LOINC, "code": "74468-0", "display": "Questionnaire form definition Document"}]}


def _unit(code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": UCUM, "code": code}
    if display:
        coding["display"] = display
    return {"url": EXT + "questionnaire-unit", "valueCoding": coding}


def _options(*pairs: tuple[str, str], system: str | None = ANSWERS) -> list[dict[str, Any]]:
    return [{"valueCoding": {**({"system": system} if system else {}), "code": c, "display": d}} for c, d in pairs]


def _when(question: str, **answer: Any) -> list[dict[str, Any]]:
    return [{"question": question, **answer}]


_MOOD = (
    "Weinig zin in of plezier aan dingen",
    "Somber, neerslachtig of hopeloos",
    "Slecht slapen: moeilijk inslapen, wakker worden of juist veel slapen",
    "Moe of weinig energie",
    "Weinig trek, of juist veel eten",
)
_HOW_OFTEN = (("0", "Nooit"), ("1", "Een paar dagen"), ("2", "Meer dan de helft van de dagen"),
              ("3", "Bijna elke dag"))


def mood_items() -> list[dict[str, Any]]:
    questions = [{"linkId": f"stemming-{i + 1}", "text": text, "type": "choice", "required": True,
                  "extension": [{"url": EXT + "questionnaire-itemControl", "valueCodeableConcept": {"coding": [
                      {"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "radio-button"}]}}],
                  "option": _options(*_HOW_OFTEN)} for i, text in enumerate(_MOOD)]
    return [{"linkId": "stemming", "text": "Hoe vaak had u de afgelopen twee weken last van:", "type": "group",
             "item": questions},
            {"linkId": "stemming-lastig", "text": "Als u last had: hoe lastig was dat bij werk, thuis of met anderen?",
             "type": "choice", "enableWhen": _when("stemming-1", hasAnswer=True),
             "option": _options(("A", "Niet lastig"), ("B", "Een beetje lastig"), ("C", "Erg lastig"))}]


def intake_items() -> list[dict[str, Any]]:
    sports = _options(("FIETS", "Fietsen"), ("WANDEL", "Wandelen"), ("ZWEM", "Zwemmen"), ("FITNESS", "Fitness"),
                      ("ANDERS", "Iets anders"), system=None)
    return [
        {"linkId": "uitleg", "type": "display",
         "text": "Met deze vragen leren wij u beter kennen. Het invullen duurt ongeveer tien minuten."},
        {"linkId": "lichaam", "text": "Over uw lichaam", "type": "group", "item": [
            {"linkId": "gewicht", "text": "Hoeveel weegt u?", "type": "decimal", "required": True,
             "extension": [_unit("kg"), {"url": EXT + "maxDecimalPlaces", "valueInteger": 1},
                           {"url": EXT + "minValue", "valueDecimal": 2}, {"url": EXT + "maxValue", "valueDecimal": 400}]},
            {"linkId": "lengte", "text": "Hoe lang bent u?", "type": "integer", "required": True,
             "extension": [_unit("cm"), {"url": EXT + "minValue", "valueInteger": 40},
                           {"url": EXT + "maxValue", "valueInteger": 250}]},
            {"linkId": "geboren", "text": "Wat is uw geboortedatum?", "type": "date"},
        ]},
        {"linkId": "leefstijl", "text": "Over uw leefstijl", "type": "group", "item": [
            {"linkId": "rookt", "text": "Rookt u?", "type": "boolean"},
            {"linkId": "ooit-gerookt", "text": "Heeft u vroeger gerookt?", "type": "boolean",
             "enableWhen": _when("rookt", answerBoolean=False)},
            {"linkId": "gestopt-jaren", "text": "Hoeveel jaar geleden bent u gestopt?", "type": "decimal",
             "extension": [_unit("a", "jaar")], "enableWhen": _when("ooit-gerookt", answerBoolean=True)},
            {"linkId": "rookt-hoevaak", "text": "Hoe vaak rookt u?", "type": "choice",
             "enableWhen": _when("rookt", answerBoolean=True),
             "option": _options(("DAG", "Elke dag"), ("WEEK", "Een paar keer per week"), ("SOMS", "Soms"))},
            {"linkId": "alcohol", "text": "Drinkt u alcohol?", "type": "boolean"},
            {"linkId": "glazen", "text": "Hoeveel glazen per week?", "type": "quantity",
             "extension": [_unit("{glas}/wk", "glazen per week")], "enableWhen": _when("alcohol", answerBoolean=True)},
            {"linkId": "sport", "text": "Sport of beweegt u elke week?", "type": "boolean"},
            {"linkId": "welke-sport", "text": "Wat doet u? U mag meer dan één kiezen.", "type": "choice",
             "repeats": True, "enableWhen": _when("sport", answerBoolean=True), "option": sports},
            {"linkId": "andere-sport", "text": "Welke andere sport?", "type": "string", "repeats": True,
             "maxLength": 100, "enableWhen": _when("welke-sport", answerCoding={"code": "ANDERS"})},
            {"linkId": "opstaan", "text": "Hoe laat staat u meestal op?", "type": "time"},
        ]},
        {"linkId": "gezondheid", "text": "Over uw gezondheid", "type": "group", "item": [
            {"linkId": "in-behandeling", "text": "Bent u nu onder behandeling bij een andere zorgverlener?",
             "type": "boolean", "required": True},
            {"linkId": "sinds", "text": "Sinds wanneer?", "type": "date",
             "enableWhen": _when("in-behandeling", answerBoolean=True)},
            {"linkId": "klachten", "text": "Welke klachten heeft u nu?", "type": "text", "maxLength": 2000},
            {"linkId": "bezoeken", "text": "Hoe vaak was u het afgelopen jaar bij de huisarts?", "type": "integer",
             "extension": [{"url": EXT + "minValue", "valueInteger": 0}, {"url": EXT + "maxValue", "valueInteger": 100}]},
        ]},
        {"linkId": "contact", "text": "Contact", "type": "group", "item": [
            {"linkId": "terugbellen", "text": "Wilt u dat wij u terugbellen?", "type": "boolean"},
            {"linkId": "belmoment", "text": "Wanneer kunnen wij u het best bellen?", "type": "dateTime",
             "enableWhen": _when("terugbellen", answerBoolean=True)},
            {"linkId": "gevonden", "text": "Hoe kent u onze praktijk?", "type": "open-choice",
             "option": _options(("FAMILIE", "Via familie of vrienden"), ("INTERNET", "Via internet"),
                                ("VERWIJZING", "Via een verwijzing"))},
        ]},
    ]


FORMS = (
    ("vl-stemming", "Vragenlijst stemming", mood_items),
    ("vl-intake", "Intake nieuwe patiënt", intake_items),
)


def questionnaires(g) -> Iterator[dict[str, Any]]:
    rng, p = g.rng, g.p
    # The Task goes back to the provider in the answer: its references carry no BSN, so
    # the patient gets an opaque id here (the other services use ``p-<bsn>``).
    patient = g.patient()
    pid = patient["id"] = "p-" + hashlib.sha256(f"{g.provider}:{p.bsn}".encode()).hexdigest()[:16]
    yield patient
    yield from g.care_team()
    published = (g.today - timedelta(days=400)).isoformat()
    for qid, title, items in FORMS:
        yield {"resourceType": "Questionnaire", "id": qid,
               "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Questionnaire"]},
               "url": f"https://vragenlijsten.sandbox.localhost/Questionnaire/{qid}-2025",
               "version": "2025", "name": qid.replace("-", "_"), "title": title,
               "status": "active", "date": published, "publisher": p.practice,
               "subjectType": ["Patient"], "item": items()}
    for t, (qid, title, _) in enumerate(FORMS):
        authored = g.today - timedelta(days=rng.randint(1, 20) + 30 * t)
        moment = f"{authored.isoformat()}T10:00:00+01:00"
        yield {"resourceType": "Task", "id": f"task-{qid}",
               "meta": {"profile": [NICTIZ + "vl-QuestionnaireProvisioningTask"]},
               "status": "requested", "intent": "order", "code": TASK_CODE,
               "description": f"De vragenlijst '{title}' staat klaar om in te vullen",
               "authoredOn": moment, "lastModified": moment,
               "requester": {"agent": {"reference": f"Practitioner/{g.prac}", "display": p.gp_name}},
               "owner": {"reference": f"Patient/{pid}", "display": p.full_name},
               "input": [
                   {"type": {"text": "Questionnaire"},
                    "valueReference": {"reference": f"Questionnaire/{qid}", "display": f"Vragenlijst: {title}"}},
                   {"type": {"text": "Subject"},
                    "valueReference": {"reference": f"Patient/{pid}", "display": p.full_name}},
               ]}
