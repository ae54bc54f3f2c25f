"""Questionnaire forms (906): parsing every item type, conditions evaluated on the server,
checks of the answers, the QuestionnaireResponse and the transaction Bundle against the
qualification checks. The Nictiz fixtures (beside the repository, when present) must be
answerable as their own example answers answer them."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.sandbox.synth.questionnaires import intake_items, mood_items
from regie.share.questionnaire import form as qform
from regie.share.questionnaire.bundle import check_questionnaire_bundle, response_bundle

FIXTURES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "nictiz" / "Questionnaires-2-0"
            / "Cert" / "resources").resolve()
BASE = "https://provider.example/fhir/906"
INTAKE = {"resourceType": "Questionnaire", "id": "vl-intake", "url": "https://q.example/Questionnaire/intake",
          "title": "Intake", "item": intake_items()}
TASK = {"resourceType": "Task", "id": "task-1",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireProvisioningTask"]},
        "status": "accepted", "intent": "order",
        "code": {"coding": [{"system": "http://loinc.org", "code": "74468-0"}]},
        "owner": {"reference": "Patient/p1", "display": "J. Jansen"},
        "input": [{"type": {"text": "Questionnaire"},
                   "valueReference": {"reference": "Questionnaire/vl-intake", "display": "Intake"}}]}


def _key(items, link_id: str, code: str) -> str:
    item = next(i for i in qform.walk(items) if i.link_id == link_id)
    return next(o.key for o in item.options if o.value.get("valueCoding", {}).get("code") == code)


def test_conditions_switch_questions_on_and_off():
    items = qform.parse(INTAKE)
    checked = qform.evaluate(items, {}, complete=False)
    assert checked.enabled["rookt"] and not checked.enabled["ooit-gerookt"] and not checked.enabled["rookt-hoevaak"]
    checked = qform.evaluate(items, {"rookt": ["false"], "ooit-gerookt": ["true"]}, complete=False)
    assert checked.enabled["ooit-gerookt"] and checked.enabled["gestopt-jaren"] and not checked.enabled["rookt-hoevaak"]
    # A coded condition on a repeating choice, and "has an answer".
    other = _key(items, "welke-sport", "ANDERS")
    checked = qform.evaluate(items, {"sport": ["true"], "welke-sport": ["0", other]}, complete=False)
    assert checked.enabled["andere-sport"]
    checked = qform.evaluate(items, {"sport": ["true"], "welke-sport": ["0"]}, complete=False)
    assert not checked.enabled["andere-sport"]
    # Switched off through its parent question: the answer is dropped, never sent.
    checked = qform.evaluate(items, {"sport": ["false"], "welke-sport": [other], "andere-sport": ["Schaken"]},
                             complete=False)
    assert "andere-sport" not in checked.values and "welke-sport" not in checked.values
    mood = qform.parse({"item": mood_items()})
    assert not qform.evaluate(mood, {}, complete=False).enabled["stemming-lastig"]
    assert qform.evaluate(mood, {"stemming-1": ["2"]}, complete=False).enabled["stemming-lastig"]


@pytest.mark.parametrize("link_id, text, message", [
    ("gewicht", "800", "The highest possible answer is {n}."),
    ("gewicht", "72.55", "Use at most {n} digits after the comma."),
    ("gewicht", "zwaar", "Fill in a number, such as 12 or 7.5."),
    ("lengte", "180,5", "Fill in a whole number, without a comma."),
    ("geboren", "31-01-1980", "Use a date such as 2026-01-31."),
    ("opstaan", "half acht", "Use a time such as 08:30."),
    ("rookt", "misschien", "Choose yes or no."),
])
def test_a_wrong_answer_gets_a_specific_message_and_is_kept(link_id, text, message):
    items = qform.parse(INTAKE)
    raw = {"gewicht": ["72.5"], "lengte": ["180"], "in-behandeling": ["false"], link_id: [text]}
    checked = qform.evaluate(items, raw, complete=True)
    assert checked.errors[link_id][0] == message
    assert checked.raw[link_id] == [text]  # the draft keeps what was typed


def test_required_questions_count_only_when_complete_and_switched_on():
    items = qform.parse(INTAKE)
    assert qform.evaluate(items, {}, complete=False).errors == {}
    errors = qform.evaluate(items, {}, complete=True).errors
    assert set(errors) == {"gewicht", "lengte", "in-behandeling"}


def test_form_values_become_typed_answers():
    items = qform.parse(INTAKE)
    posted = {"q-gewicht": ["72,5"], "q-lengte": ["181"], "q-in-behandeling": ["true"], "q-sinds": ["2025-03-01"],
              "q-alcohol": ["true"], "q-glazen": ["4"], "q-opstaan": ["07:15"], "q-terugbellen": ["true"],
              "q-belmoment": ["2026-02-01T14:30"], "q-gevonden": [qform.OTHER], "q-gevonden-other": ["De krant"],
              "q-sport": ["true"], "q-welke-sport": ["1", _key(items, "welke-sport", "ANDERS")],
              "q-andere-sport": ["Schaken\nDammen"], "q-klachten": ["Soms hoofdpijn"]}
    raw = qform.from_form(items, posted)
    checked = qform.evaluate(items, raw, complete=True)
    assert checked.errors == {}
    v = checked.values
    assert v["gewicht"] == [{"valueDecimal": 72.5}] and v["lengte"] == [{"valueInteger": 181}]
    assert v["glazen"][0]["valueQuantity"]["value"] == 4.0 and v["glazen"][0]["valueQuantity"]["system"]
    assert v["opstaan"] == [{"valueTime": "07:15:00"}]
    assert v["belmoment"] == [{"valueDateTime": "2026-02-01T14:30:00+01:00"}]
    assert v["gevonden"] == [{"valueString": "De krant"}]
    assert [a["valueCoding"]["code"] for a in v["welke-sport"]] == ["WANDEL", "ANDERS"]
    assert v["andere-sport"] == [{"valueString": "Schaken"}, {"valueString": "Dammen"}]
    items_out = qform.response_items(items, checked)
    assert [i["linkId"] for i in items_out] == ["lichaam", "leefstijl", "gezondheid", "contact"]
    assert not any(i["linkId"] == "uitleg" for i in items_out)  # display items are not answers


def _bundle(answers: dict[str, list[str]]):
    items = qform.parse(INTAKE)
    checked = qform.evaluate(items, answers, complete=True)
    assert checked.errors == {}
    return response_bundle(TASK, INTAKE, qform.response_items(items, checked), base_url=BASE,
                           authored=datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")),
                           patient_display="Patiënt")


def test_the_transaction_bundle_passes_the_qualification_checks():
    bundle = _bundle({"gewicht": ["72.5"], "lengte": ["180"], "in-behandeling": ["false"]})
    assert check_questionnaire_bundle(bundle, bsn="999990007") == []
    task, response = bundle["entry"][0], bundle["entry"][1]
    assert task["request"] == {"method": "PUT", "url": "Task/task-1"} and task["fullUrl"] == f"{BASE}/Task/task-1"
    assert task["resource"]["status"] == "completed"
    assert task["resource"]["output"][0]["valueReference"]["reference"] == response["fullUrl"]
    assert response["request"] == {"method": "POST", "url": "QuestionnaireResponse"}
    assert response["resource"]["questionnaire"]["reference"] == INTAKE["url"]
    assert response["resource"]["subject"]["reference"] == f"{BASE}/Patient/p1"


@pytest.mark.parametrize("spoil, expected", [
    (lambda b: b["entry"][0]["resource"].update(status="accepted"), "the Task's status must be completed"),
    (lambda b: b["entry"][1]["resource"].update(id="x"), "the QuestionnaireResponse must be a POST without id"),
    (lambda b: b["entry"][1]["resource"]["meta"].update(profile=[]), "entry 1: no meta.profile"),
    (lambda b: b["entry"][0]["resource"].update(output=[]), "the Task's output must point at the QuestionnaireResponse"),
    (lambda b: b["entry"][1]["resource"]["subject"].update(display=""), "a reference without display"),
    (lambda b: b["entry"][1]["resource"].update(identifier={"system": "http://fhir.nl/fhir/NamingSystem/bsn",
                                                            "value": "999990007"}), "BSN"),
])
def test_the_checks_find_what_the_qualification_would_reject(spoil, expected):
    bundle = copy.deepcopy(_bundle({"gewicht": ["72.5"], "lengte": ["180"], "in-behandeling": ["false"]}))
    spoil(bundle)
    assert any(expected in p for p in check_questionnaire_bundle(bundle, bsn="999990007"))


# --- the Nictiz fixtures ---------------------------------------------------------------


def _fixture(path: Path) -> dict:
    if path.suffix == ".json":
        text = re.sub(r"\$\{DATE, T, D, [-+]\d+\}", "2026-01-05", path.read_text(encoding="utf-8"))
        return json.loads(text)
    from regie.fhir.reader import read_path
    from regie.fhir.version import FhirVersion

    return read_path(path, fhir_version=FhirVersion.STU3).resources[0].data


def _raw_answers(items: list[qform.Item], response_items: list[dict]) -> dict[str, list[str]]:
    """What a person would have filled in to give the fixture's answers."""
    by_link = {i.link_id: i for i in qform.walk(items)}
    raw: dict[str, list[str]] = {}

    def visit(nodes):
        for node in nodes:
            item = by_link[node["linkId"]]
            for answer in node.get("answer") or []:
                (key, value), = ((k, v) for k, v in answer.items() if k.startswith("value"))
                if key == "valueCoding":
                    text = next(o.key for o in item.options if o.value["valueCoding"]["code"] == value["code"])
                elif key == "valueBoolean":
                    text = "true" if value else "false"
                elif key == "valueQuantity":
                    text = str(value["value"])
                elif key == "valueDateTime":
                    text = value.replace("Z", "+00:00")
                else:
                    text = str(value)
                raw.setdefault(node["linkId"], []).append(text)
                visit(answer.get("item") or [])
            visit(node.get("item") or [])

    visit(response_items)
    return raw


@pytest.mark.parametrize("questionnaire, transaction", [
    ("medmij-questionnaires-vl-Questionnaire-PHQ-9.xml", "medmij-questionnaires-vl-Transaction-XXX_Vink-PHQ9.json"),
    ("medmij-questionnaires-vl-Questionnaire-INTAKE-NIEUWE-PATIENT.xml",
     "medmij-questionnaires-vl-Transaction-XXX_Vink-Intake.json"),
])
def test_the_fixture_questionnaires_take_their_example_answers(questionnaire, transaction):
    q_path = FIXTURES / "resources-questionnaires" / questionnaire
    t_path = FIXTURES / "resources-specific" / transaction
    if not q_path.is_file() or not t_path.is_file():
        pytest.skip("Nictiz fixtures not present beside the repository")
    definition = _fixture(q_path)
    example = next(e["resource"] for e in _fixture(t_path)["entry"]
                   if e["resource"]["resourceType"] == "QuestionnaireResponse")
    items = qform.parse(definition)
    types = {i.type for i in qform.walk(items)}
    assert types <= qform.SUPPORTED
    checked = qform.evaluate(items, _raw_answers(items, example["item"]), complete=True)
    assert checked.errors == {}
    ours = qform.response_items(items, checked)

    def answers(nodes, out):
        for node in nodes:
            for a in node.get("answer") or []:
                value = {k: v for k, v in a.items() if k.startswith("value")}
                out.append((node["linkId"], json.dumps(value, sort_keys=True)))
                answers(a.get("item") or [], out)
            answers(node.get("item") or [], out)
        return out

    def normal(pairs):  # 10 and 10.0 are the same decimal; our quantities add the unit
        result = []
        for link, text in pairs:
            value = json.loads(text)
            if "valueDecimal" in value:
                value["valueDecimal"] = float(value["valueDecimal"])
            if "valueQuantity" in value:
                value = {"valueQuantity": float(value["valueQuantity"]["value"])}
            if "valueDateTime" in value:
                value = {"valueDateTime": datetime.fromisoformat(value["valueDateTime"].replace("Z", "+00:00"))
                         .timestamp()}
            if "valueCoding" in value:
                value = {"valueCoding": value["valueCoding"]["code"]}
            result.append((link, json.dumps(value, sort_keys=True)))
        return sorted(result)

    assert normal(answers(ours, [])) == normal(answers(example["item"], []))


_ITEMS = qform.parse(INTAKE)
_FIELDS = sorted(i.form_name for i in qform.walk(_ITEMS) if i.answerable)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=25)
_value = st.one_of(_text, st.sampled_from(["true", "false", "0", "1", "4", "72,5", "1e3", "NaN", "2026-02-30",
                                           "2026-01-31", "07:15", "25:00", "2026-01-31T10:00", qform.OTHER]))


_GOOD = {"boolean": ["true", "false"], "decimal": ["72,5", "3"], "integer": ["5", "100"], "quantity": ["4"],
         "date": ["2025-03-01"], "dateTime": ["2026-01-31T10:00"], "time": ["07:15"], "string": ["Schaken"],
         "text": ["Soms hoofdpijn"]}
_VALID = {i.form_name: _GOOD.get(i.type) or [o.key for o in i.options] + ([qform.OTHER] if i.type == "open-choice"
                                                                          else [])
          for i in qform.walk(_ITEMS) if i.answerable}
# Mostly answers that fit (so the Bundle is built and checked), with garbage mixed in.
_REPEATS = {i.form_name for i in qform.walk(_ITEMS) if i.repeats}


def _answers_for(key: str):
    fitting = st.sampled_from(_VALID[key])
    return st.lists(st.one_of(fitting, fitting, fitting, fitting, fitting, _value), min_size=1,
                    max_size=3 if key in _REPEATS else 1)


_posted = st.lists(st.sampled_from(_FIELDS), unique=True, max_size=len(_FIELDS)).flatmap(
    lambda keys: st.fixed_dictionaries({k: _answers_for(k) for k in keys}))


@settings(max_examples=150, deadline=None)
@given(_posted)
def test_any_posted_answers_are_checked_and_what_passes_is_sendable(posted) -> None:
    """Whatever is posted: no crash; each problem is a message on a question; and when
    nothing is wrong the Bundle passes the qualification checks."""
    required = {"q-gewicht": ["72,5"], "q-lengte": ["180"], "q-in-behandeling": ["false"]}
    raw = qform.from_form(_ITEMS, {**required, **posted})
    checked = qform.evaluate(_ITEMS, raw, complete=True)
    answerable = {i.link_id for i in qform.walk(_ITEMS) if i.answerable}
    assert set(checked.errors) <= answerable and set(checked.values) <= answerable
    assert not set(checked.errors) & set(checked.values)
    for message, values in checked.errors.values():
        assert message.format(**values)
    if checked.errors:
        return
    items = qform.response_items(_ITEMS, checked)
    bundle = response_bundle(TASK, INTAKE, items, base_url=BASE, authored=datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC")),
                             patient_display="Patiënt")
    assert check_questionnaire_bundle(bundle) == []
