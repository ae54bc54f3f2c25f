"""Questionnaires (906) end to end against the live sandbox, through the pages: find the
tasks with one permission, accept one (PUT Task accepted, then the Questionnaire), fill
it in with drafts and the server's conditions, the preview, confirm, permission again,
the transaction Bundle with the Task update; the sandbox's checks find nothing."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from tests.collect.harness import consent
from tests.share.test_send_pages import _browser, _path

PROVIDER = "praktijkhetanker"
TASK_ROW = re.compile(r'data-task="([0-9a-f]{32})" data-task-state="(\w+)">\s*<td><a [^>]*>([^<]+)</a>')


def _received(regie, service: str) -> list[dict]:
    return regie.network.admin.get("/_sandbox/fhir/received.json",
                                   params={"provider": PROVIDER, "service": service}).json()


def _fetch(regie) -> dict[str, str]:
    page = regie.client.get("/questionnaires")
    assert page.status_code == 200 and f'data-fetch="{PROVIDER}@medmij"' in page.text
    go = regie.client.get(f"/questionnaires/fetch?provider={PROVIDER}@medmij", follow_redirects=False)
    assert go.status_code == 303
    url = go.headers["location"]
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == [f"{PROVIDER}~906"]
    assert query["redirect_uri"] == ["http://localhost:8000/questionnaires/callback"]
    back = regie.client.get(_path(consent(url)), follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/questionnaires?found=2", back.text
    listing = regie.client.get(back.headers["location"])
    assert 'data-found="2"' in listing.text
    return {title.strip(): row for row, state, title in TASK_ROW.findall(listing.text) if state == "new"}


def test_find_accept_answer_and_send_a_questionnaire(regie):
    b = _browser(regie)
    rows = _fetch(regie)
    assert set(rows) == {"Vragenlijst stemming", "Intake nieuwe patiënt"}
    row = rows["Intake nieuwe patiënt"]
    page = regie.client.get(f"/questionnaires/{row}")
    assert "data-accept" in page.text
    accepted = b.post_form(f"/questionnaires/{row}/accept", {}, token_from=f"/questionnaires/{row}")
    assert accepted.status_code == 303, accepted.text  # the permission's token was still valid
    log = [(e["method"], unquote(e["query"])) for e in regie.network.access_log(provider=PROVIDER, service="906")]
    assert log == [("GET", "Task?code=http://loinc.org|74468-0&status=requested"), ("PUT", "Task/task-vl-intake"),
                   ("GET", "Questionnaire/vl-intake")]
    put = [r for r in _received(regie, "906") if r["bundle"].get("resourceType") == "Task"]
    assert put and put[0]["bundle"]["status"] == "accepted" and put[0]["warnings"] == []
    form = regie.client.get(f"/questionnaires/{row}")
    assert 'data-task-state="accepted"' in form.text and "data-questionnaire" in form.text
    # Without script: a follow-up question is hidden until the answer it depends on is saved.
    assert re.search(r'data-q-item="rookt-hoevaak"[^>]*hidden', form.text)
    saved = b.post_form(f"/questionnaires/{row}", {"q-rookt": "true", "q-gewicht": "72,5", "do": "save"},
                        token_from=f"/questionnaires/{row}")
    assert saved.status_code == 200 and "data-message" in saved.text
    assert not re.search(r'data-q-item="rookt-hoevaak"[^>]*hidden', saved.text)
    assert 'value="72,5"' in saved.text  # the draft keeps what was typed
    again = regie.client.get(f"/questionnaires/{row}")
    assert 'value="72,5"' in again.text and 'id="q-rookt-yes" name="q-rookt" value="true" checked' in again.text
    # Checking: required questions missing, an implausible weight.
    answers = {"q-rookt": "true", "q-rookt-hoevaak": "1", "q-gewicht": "800", "q-lengte": "181",
               "q-klachten": "Soms hoofdpijn", "q-opstaan": "07:15", "do": "check"}
    refused = b.post_form(f"/questionnaires/{row}", answers, token_from=f"/questionnaires/{row}")
    assert refused.status_code == 422 and "data-errors" in refused.text
    assert 'id="q-gewicht-error"' in refused.text and "400" in refused.text
    assert 'id="q-in-behandeling-error"' in refused.text and "Deze vraag moet u beantwoorden" in refused.text
    answers.update({"q-gewicht": "72,5", "q-in-behandeling": "false"})
    checked = b.post_form(f"/questionnaires/{row}", answers, token_from=f"/questionnaires/{row}")
    assert checked.status_code == 303, checked.text
    send_path = checked.headers["location"]
    preview = regie.client.get(send_path)
    assert "data-answers" in preview.text and "Soms hoofdpijn" in preview.text and "data-send-go" in preview.text
    answers_shown = preview.text.split("data-answers", 1)[1].split("</dl>", 1)[0]
    assert "<dd>72,5</dd>" in answers_shown and "<dd>Ja</dd>" in answers_shown  # in words, Dutch numbers
    assert not [r for r in _received(regie, "906") if r["bundle"].get("resourceType") == "Bundle"]
    go = regie.client.get(f"{send_path}/go", follow_redirects=False)
    assert parse_qs(urlsplit(go.headers["location"]).query)["scope"] == [f"{PROVIDER}~906"]
    done = regie.client.get(_path(consent(go.headers["location"])), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == send_path
    assert 'data-send-outcome="sent"' in regie.client.get(send_path).text
    sent = [r for r in _received(regie, "906") if r["bundle"].get("resourceType") == "Bundle"]
    assert len(sent) == 1 and sent[0]["warnings"] == [], sent[0]["warnings"]
    bundle = sent[0]["bundle"]
    assert bundle["type"] == "transaction" and sent[0]["response"]["type"] == "transaction-response"
    response = bundle["entry"][1]["resource"]
    links = {i["linkId"] for group in response["item"] for i in group.get("item", [])}
    assert {"gewicht", "lengte", "rookt", "rookt-hoevaak", "klachten", "in-behandeling"} <= links
    assert "ooit-gerookt" not in links  # switched off by "I smoke"
    assert 'data-task-state="sent"' in regie.client.get(f"/questionnaires/{row}").text
    # The receipt in the audit log, no medical content in it.
    entries = regie.client.get("/api/v1/audit?limit=100").json()["entries"]  # the browser session
    sent_targets = {e["target"] for e in entries if e["action"] == "send-sent"}
    assert "service 906 questionnaire" in sent_targets and send_path.rsplit("/", 1)[1] in sent_targets
    assert {e["action"] for e in entries} >= {"questionnaire-tasks", "questionnaire-accepted"}
    assert not any("hoofdpijn" in e["target"] for e in entries)
    # Fetching again: the answered task is no longer offered; the other one still is.
    go = regie.client.get(f"/questionnaires/fetch?provider={PROVIDER}@medmij", follow_redirects=False)
    back = regie.client.get(_path(consent(go.headers["location"])), follow_redirects=False)
    assert back.headers["location"] == "/questionnaires?found=1"
    states = {title.strip(): state for _, state, title in TASK_ROW.findall(regie.client.get("/questionnaires").text)}
    assert states == {"Vragenlijst stemming": "new", "Intake nieuwe patiënt": "sent"}


def test_a_refused_permission_and_a_foreign_state(regie):
    _browser(regie)
    go = regie.client.get(f"/questionnaires/fetch?provider={PROVIDER}@medmij", follow_redirects=False)
    back = regie.client.get(_path(consent(go.headers["location"], answer="no")), follow_redirects=False)
    assert back.status_code == 303 and "problem=access_denied" in back.headers["location"]
    page = regie.client.get(back.headers["location"])
    assert "data-problem" in page.text
    assert regie.client.get("/questionnaires/callback?state=nope&code=x").status_code == 400
    # A provider that does not offer questionnaires cannot be chosen.
    assert regie.client.get("/questionnaires/fetch?provider=huisartsdevries@medmij",
                            follow_redirects=False).status_code == 404
