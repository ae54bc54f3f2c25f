"""Self-measurements and the symptom diary through the pages (both databases)."""
from __future__ import annotations

import re

from tests.web.charts import chart_of

ROW = re.compile(r'href="/measurements/([0-9a-z]{16,})"')
ENTRY = re.compile(r'href="/diary/([0-9a-z]{16,})"')


def test_blood_pressure_refused_confirmed_edited_deleted(browser) -> None:
    account = browser.register()
    page = browser.client.get("/measurements")
    assert page.status_code == 200
    form = browser.client.get("/measurements/new?type=blood_pressure")
    assert 'name="systolic"' in form.text and 'name="position"' in form.text

    refused = browser.post_form("/measurements/new?type=blood_pressure",
                                {"systolic": "80", "diastolic": "90", "unit": "mm[Hg]", "time": "2026-01-05T08:30",
                                 "position": "sitting", "arm": "left"})
    assert refused.status_code == 422
    assert 'id="diastolic-error"' in refused.text and 'aria-invalid="true"' in refused.text

    unusual = {"systolic": "250", "diastolic": "40", "unit": "mm[Hg]", "time": "2026-01-05T08:30",
               "position": "sitting", "arm": "left"}
    asked = browser.post_form("/measurements/new?type=blood_pressure", unusual)
    assert asked.status_code == 422
    assert 'id="systolic-warning"' in asked.text and 'name="confirmed"' in asked.text
    saved = browser.post_form("/measurements/new?type=blood_pressure", {**unusual, "confirmed": "yes"})
    assert saved.status_code == 303, saved.text

    listing = browser.client.get("/measurements?type=blood_pressure")
    assert "250/40 mmHg" in listing.text
    row_id = ROW.search(listing.text).group(1)

    edited = browser.post_form(f"/measurements/{row_id}/edit", {**unusual, "systolic": "125", "diastolic": "80"})
    assert edited.status_code == 303, edited.text
    detail = browser.client.get(f"/measurements/{row_id}")
    assert "125/80 mmHg" in detail.text and "250/40 mmHg" in detail.text  # history kept

    summary = browser.client.get("/api/v1/record/summary").json()
    assert summary["categories"]["vital_signs"] == 1 and summary["sources"] == {"self": 1}

    deleted = browser.post_form(f"/measurements/{row_id}/delete", {}, token_from=f"/measurements/{row_id}")
    assert deleted.status_code == 303
    assert "125/80" not in browser.client.get("/measurements").text
    assert "125/80 mmHg" in browser.client.get(f"/measurements/{row_id}").text  # history still there


def test_weight_800_kg_is_refused_and_units_convert(browser) -> None:
    browser.register()
    refused = browser.post_form("/measurements/new?type=body_weight",
                                {"value": "800", "unit": "kg", "time": "2026-01-05T08:30"})
    assert refused.status_code == 422
    assert "800 kg" in refused.text and 'id="value-error"' in refused.text
    assert browser.post_form("/measurements/new?type=body_height",
                             {"value": "1,80", "unit": "m", "time": "2026-01-04T08:30"}).status_code == 303
    assert browser.post_form("/measurements/new?type=body_weight",
                             {"value": "176,4", "unit": "[lb_av]", "time": "2026-01-05T08:30"}).status_code == 303
    listing = browser.client.get("/measurements")
    assert "80 kg" in listing.text and "180 cm" in listing.text
    assert "24,7 kg/m²" in listing.text  # BMI derived from 80 kg and 1.80 m


def test_other_users_measurement_is_not_found(browser) -> None:
    browser.register()
    assert browser.post_form("/measurements/new?type=heart_rate",
                             {"value": "70", "unit": "/min", "time": "2026-01-05T08:30"}).status_code == 303
    row_id = ROW.search(browser.client.get("/measurements").text).group(1)
    browser.logout()
    browser.register()
    assert browser.client.get(f"/measurements/{row_id}").status_code == 404
    assert browser.client.get(f"/measurements/{row_id}/edit").status_code == 404


def test_diary_entry_search_edit_and_chart(browser) -> None:
    browser.register()
    missing = browser.post_form("/diary", {"time": "2026-01-05T08:30", "severity": "", "symptoms": ""})
    assert missing.status_code == 422
    assert 'id="symptoms-error"' in missing.text and 'id="severity-error"' in missing.text
    for day, severity, symptoms, tags in (("03", "6", "hoofdpijn, misselijk", "migraine"),
                                          ("04", "3", "hoofdpijn", ""), ("05", "8", "rugpijn", "werk")):
        response = browser.post_form("/diary", {"time": f"2026-01-{day}T20:00", "severity": severity,
                                                "symptoms": symptoms, "text": "na het werk", "tags": tags})
        assert response.status_code == 303, response.text
    page = browser.client.get("/diary")
    assert page.text.count("data-entry") == 3 and chart_of(page.text)["scale"] == [0, 10]
    found = browser.client.get("/diary?q=migraine")
    assert found.text.count("data-entry") == 1
    row_id = ENTRY.search(found.text).group(1)
    changed = browser.post_form(f"/diary/{row_id}", {"time": "2026-01-03T20:00", "severity": "5",
                                                     "symptoms": "hoofdpijn", "text": "", "tags": "migraine"})
    assert changed.status_code == 303
    detail = browser.client.get(f"/diary/{row_id}")
    assert "misselijk" in detail.text  # the earlier version
    summary = browser.client.get("/api/v1/record/summary").json()
    assert summary["categories"] == {"diary": 3}


def test_notes_on_an_item_are_private_and_encrypted(browser) -> None:
    browser.register()
    assert browser.post_form("/measurements/new?type=heart_rate",
                             {"value": "70", "unit": "/min", "time": "2026-01-05T08:30"}).status_code == 303
    row_id = ROW.search(browser.client.get("/measurements").text).group(1)
    empty = browser.post_form(f"/record/items/{row_id}/notes", {"text": " "})
    assert empty.status_code == 422 and 'id="text-error"' in empty.text
    saved = browser.post_form(f"/record/items/{row_id}/notes", {"text": "gevraagd aan de huisarts"})
    assert saved.status_code == 303
    page = browser.client.get(f"/record/items/{row_id}/notes")
    assert "gevraagd aan de huisarts" in page.text
    api = browser.client.get(f"/api/v1/record/items/{row_id}/notes").json()
    assert [n["text"] for n in api["items"]] == ["gevraagd aan de huisarts"]
    from regie.store.owndata_models import RecordNote

    with browser.context.db.session() as session:
        blobs = [n.text_encrypted for n in session.query(RecordNote).all()]
    assert blobs and all(b"huisarts" not in blob for blob in blobs)
    browser.logout()
    browser.register()
    assert browser.client.get(f"/record/items/{row_id}/notes").status_code == 404
    assert browser.client.get(f"/api/v1/record/items/{row_id}/notes").status_code == 404
    assert browser.post_form(f"/record/items/{row_id}/notes", {"text": "x"},
                             token_from="/measurements").status_code == 404


def test_csv_import_preview_then_import_and_fhir_import(browser) -> None:
    import base64

    import orjson

    from regie.owndata import measurements as meas

    browser.register()
    csv_bytes = "Datum;Tijd;Gewicht\n05-01-2026;08:30;72,5\n06-01-2026;08:30;800\n".encode()
    token = browser.csrf("/measurements/import")
    preview = browser.client.post("/measurements/import", data={"csrf_token": token, "type": "body_weight"},
                                  files={"file": ("weegschaal.csv", csv_bytes, "text/csv")})
    assert preview.status_code == 200, preview.text
    assert preview.text.count('data-row="ok"') == 1 and preview.text.count('data-row="error"') == 1
    assert "800" in preview.text
    imported = browser.post_form("/measurements/import", {
        "content": base64.b64encode(csv_bytes).decode(), "type": "body_weight", "step": "preview", "unit": "kg",
        "column-0": "date", "column-1": "clock", "column-2": "value", "do": "import"})
    assert imported.status_code == 200 and "Regel 3" in imported.text
    assert "72,5 kg" in browser.client.get("/measurements").text

    from datetime import datetime, timezone

    foreign = meas.to_fhir(meas.Measurement("heart_rate", {"value": meas.Decimal(61)},
                                            datetime(2026, 1, 3, 7, 0, tzinfo=timezone.utc), resource_id="hr-1"))
    foreign["effectiveDateTime"] = "2026-01-03"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": foreign}]}
    token = browser.csrf("/measurements/import")
    response = browser.client.post("/measurements/import/fhir", data={"csrf_token": token},
                                   files={"fhir_file": ("app.json", orjson.dumps(bundle), "application/json")})
    assert response.status_code == 200, response.text
    assert "61 /min" in browser.client.get("/measurements?type=heart_rate").text


def test_share_preview_and_download(browser) -> None:
    import orjson

    from regie.owndata.send import check_bundle

    browser.register()
    for day in ("03", "20"):
        assert browser.post_form("/measurements/new?type=body_weight",
                                 {"value": "72", "unit": "kg", "time": f"2026-01-{day}T08:30"}).status_code == 303
    missing = browser.post_form("/measurements/send", {"name": ""})
    assert missing.status_code == 422 and 'id="types-error"' in missing.text and 'id="name-error"' in missing.text
    data = {"types": "body_weight", "from": "2026-01-01", "to": "2026-01-10", "name": "Sanne de Vries"}
    preview = browser.post_form("/measurements/send", {**data, "do": "preview"})
    assert preview.status_code == 200 and "03-01-2026" in preview.text and "20-01-2026" not in preview.text
    download = browser.post_form("/measurements/send", {**data, "do": "download"})
    bundle = orjson.loads(download.content)
    assert bundle["type"] == "batch" and len(bundle["entry"]) == 2 and check_bundle(bundle) == []


def test_target_range_band_and_marks(browser) -> None:
    browser.register()
    for day, value in (("03", "70"), ("04", "82")):
        assert browser.post_form("/measurements/new?type=body_weight",
                                 {"value": value, "unit": "kg", "time": f"2026-01-{day}T08:30"}).status_code == 303
    wrong = browser.post_form("/measurements/targets?type=body_weight", {"low-value": "80", "high-value": "65"},
                              token_from="/measurements?type=body_weight")
    assert wrong.status_code == 422 and 'id="high-value-error"' in wrong.text
    saved = browser.post_form("/measurements/targets?type=body_weight", {"low-value": "65", "high-value": "75"},
                              token_from="/measurements?type=body_weight")
    assert saved.status_code == 303
    page = browser.client.get("/measurements?type=body_weight")
    chart = chart_of(page.text)["series"][0]
    assert (chart["low"], chart["high"]) == (65, 75) and [p["out"] for p in chart["points"]] == [False, True]
    assert page.text.count('class="badge-outside"') == 1 and 'value="65"' in page.text
    removed = browser.post_form("/measurements/targets?type=body_weight", {"low-value": "", "high-value": ""},
                                token_from="/measurements?type=body_weight")
    assert removed.status_code == 303
    assert chart_of(browser.client.get("/measurements?type=body_weight").text)["series"][0]["low"] is None
