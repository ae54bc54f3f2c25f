"""The record viewer pages with the Nictiz fixtures loaded, on both databases."""
from __future__ import annotations

import html
import re

import orjson

from regie.fhir import FhirVersion
from regie.record import Category
from regie.store.ingest import RecordService
from tests.web.charts import chart_of
from tests.web.helpers import Browser
from tests.web.viewer_data import load_fixtures


def _href(page: str, text: str) -> str:
    """The link whose text is exactly ``text``."""
    match = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(html.escape(text, quote=False)) + r"</a>", page)
    assert match, f"no link {text!r}"
    return match.group(1)


def _row(page: str, text: str) -> str:
    """The list item or table row holding ``text``."""
    escaped = re.escape(html.escape(text, quote=False))
    match = re.search(r"<(li|tr)[^>]*>(?:(?!</\1>).)*" + escaped + r"(?:(?!</\1>).)*</\1>", page, re.S)
    assert match, f"no row with {text!r}"
    return match.group(0)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_empty_record_explains_how_to_get_data_in(browser: Browser) -> None:
    browser.register()
    client = browser.client
    client.cookies.set("regie_lang", "en")
    page = client.get("/")
    assert page.status_code == 200
    assert "Your health record is still empty" in page.text and 'href="/record/upload"' in page.text
    problems = client.get("/record/problems?status=all")
    assert problems.status_code == 200 and "There is nothing in this part of your record yet." in problems.text
    assert client.get("/record/nonsense").status_code == 404
    assert client.get("/timeline").status_code == 200
    assert client.get("/search?q=a").status_code == 200


def test_pages_show_the_fixture_values_per_standard(browser: Browser, app) -> None:
    account = browser.register()
    load_fixtures(app.state.context, account.email)
    client = browser.client
    client.cookies.set("regie_lang", "en")

    # Overview: who, essentials, sources.
    home = client.get("/")
    assert home.status_code == 200, home.text
    text = _text(home.text)
    assert "This record is about" in text and "Helene XXX_Ellens (born 3 Jul 1988)" in text
    assert "Active problems" in text and "Current medication" in text and "Zestril tablet 10mg" in text
    assert "GenPractData-2-0" in text and "This is your first visit." in text

    # GP data: episode titles, the attention flag, ICPC explained.
    problems = client.get("/record/problems")
    assert problems.status_code == 200
    for title in ("Hartkloppingen -paroxysmaal boezemfibrilleren", "Endocarditis profylaxe ivm mitralis insufficientie"):
        assert title in problems.text
    assert "Attention flag" in _text(_row(problems.text, "Hartkloppingen -paroxysmaal boezemfibrilleren"))
    assert "Attention flag" not in _text(_row(problems.text, "Endocarditis profylaxe ivm mitralis insufficientie"))
    episode = client.get(_href(problems.text, "Hartkloppingen -paroxysmaal boezemfibrilleren"))
    assert episode.status_code == 200
    assert "important to know for every care provider" in episode.text
    past = client.get("/record/problems?status=past")
    assert "Hartkloppingen -paroxysmaal boezemfibrilleren" not in past.text

    # A journal line: the E-line explained and its encounter linked.
    journal = client.get("/record/journal")
    e_line = client.get(_href(journal.text, "Evaluatie"))
    assert "E: the doctor&#39;s conclusion" in e_line.text or "E: the doctor's conclusion" in e_line.text
    assert 'href="/record/items/' in e_line.text

    # Lab: value with unit, range, flag as a word, LOINC explained, the trend.
    results = client.get("/record/results")
    row = _text(_row(results.text, "Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol"))
    assert "60 mmol/mol" in row and "20 – 42 mmol/mol" in row and "high" in row
    lab = client.get(_href(results.text, "Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol"))
    lab_text = _text(lab.text)
    assert "millimole per mole" in lab_text and "average blood sugar" in lab_text and "LOINC" in lab_text
    # The trend: the range as a band, the value outside it marked, the table with every value.
    trend = client.get("/results/59261-8")
    assert trend.status_code == 200 and "60 mmol/mol" in _text(trend.text)
    chart = chart_of(trend.text)
    (hba1c,) = chart["series"]
    assert (hba1c["unit"], hba1c["low"], hba1c["high"]) == ("mmol/mol", 20, 42)
    assert [(p["y"], p["out"], p["self"]) for p in hba1c["points"]] == [(60, True, False)]
    assert chart["labels"]["out"] == "outside the normal range"
    # HbA1c and glucose in one chart, each unit on its own axis.
    compared = client.get("/results/59261-8?compare=14749-6")
    assert compared.status_code == 200 and "Glucose [mol/volume] in serum of plasma" in compared.text
    chart = chart_of(compared.text)
    assert chart["units"] == ["mmol/mol", "mmol/l"]
    assert [(s["name"], s["axis"]) for s in chart["series"]] == [
        ("Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol", 0),
        ("Glucose [mol/volume] in serum of plasma", 1)]
    assert chart["series"][1]["high"] == 7.8 and chart["series"][1]["points"][0]["out"] is True
    legend = _text(re.search(r'<ul class="legend chart-legend" hidden>.*?</ul>', compared.text).group(0))
    assert "normal range (Glucose [mol/volume] in serum of plasma)" in legend and "outside the normal range" in legend
    # Glucose from the lab and measured at home on one axis, marked by source (and said in words).
    glucose = client.get("/results/14743-9")
    assert glucose.status_code == 200 and "measured yourself" in glucose.text
    series = chart_of(glucose.text)["series"]
    assert [(s["name"], s["self"], s["axis"]) for s in series] == [
        ("Bloedglucose", False, 0), ("Bloedglucose, measured yourself", True, 0)]
    assert [p["y"] for p in series[1]["points"]][:2] == [6.3, 6.2]
    blood_pressure = client.get("/results/8480-6")  # a blood-pressure component
    assert blood_pressure.status_code == 200 and chart_of(blood_pressure.text)["units"] == ["mmHg"]

    # Documents: list with author, page, PDF inline and as download.
    documents = client.get("/record/documents")
    assert "A.F. Snijder" in _text(_row(documents.text, "Anterior Cervical Discectomy Fusion - Discharge Summary"))
    doc_url = _href(documents.text, "Anterior Cervical Discectomy Fusion - Discharge Summary")
    doc = client.get(doc_url)
    assert doc.status_code == 200 and f"{doc_url}/file" in doc.text
    pdf = client.get(f"{doc_url}/file")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline;")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-security-policy"] == "sandbox; default-src 'none'"
    download = client.get(f"{doc_url}/download")
    assert download.headers["content-disposition"].startswith("attachment;") and download.content == pdf.content
    # A Bundle's DocumentReference points at its Binary with a urn:uuid reference.
    bundle_doc = _href(documents.text, "Kopie van ontslagbrief")
    assert client.get(f"{bundle_doc}/file").content.startswith(b"%PDF")

    # Vaccinations: vaccine and date.
    vaccinations = client.get("/record/immunizations")
    row = _text(_row(vaccinations.text, "COVID-19 VACCIN PFIZER INJVLST 0,3ML"))
    assert "15 Jun 2023" in row and "Pfizer/BioNTech" in row

    # Appointments, timeline zoom, search, original, audit.
    appointments = client.get("/record/appointments?status=all")
    assert "CT-scan" in appointments.text
    timeline = client.get("/timeline?period=2024-03")
    assert timeline.status_code == 200 and "March 2024" in timeline.text and 'aria-current="page"' in timeline.text
    search = client.get("/search", params={"q": "astma"})
    assert "Problems and episodes" in search.text and "Astma" in search.text
    original = client.get(f"{_href(problems.text, 'Hartkloppingen -paroxysmaal boezemfibrilleren')}/original")
    assert original.status_code == 200 and "&#34;resourceType&#34;: &#34;EpisodeOfCare&#34;" in original.text
    audit = client.get("/audit")
    assert "opened the document" in audit.text or "opened or downloaded the document" in audit.text
    assert "opened this item" in audit.text and "on the website" in audit.text

    # Dutch is the default language.
    client.cookies.set("regie_lang", "nl")
    assert "Attentiewaarde" in client.get("/record/problems").text

    # The badges of an item page and a trend page are the ones of the rows (one rule, regie.web.present).
    for language, words in (("nl", ("Attentiewaarde", "hoog")), ("en", ("Attention flag", "high"))):
        client.cookies.set("regie_lang", language)
        problems = client.get("/record/problems").text
        title = "Hartkloppingen -paroxysmaal boezemfibrilleren"
        row_badges = re.search(r"\n    (<span class=\"badge.*)\n  </p>", _row(problems, title)).group(1)
        assert words[0] in row_badges
        episode = client.get(_href(problems, title)).text
        assert re.search(r'</h1>\n<p class="meta">(.*?)</p>', episode).group(1) == row_badges
        results = client.get("/record/results").text
        title = "Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol"
        flag = f'<span class="flag flag-high">{words[1]}</span>'
        assert f" {flag}</td>" in _row(results, title)
        lab = client.get(_href(results, title)).text
        assert re.search(r'<dd><span class="value">[^<]*</span> (.*)\n', lab).group(1) == flag
        trend = client.get("/results/59261-8").text
        assert re.search(r"<td>60 mmol/mol (<span class=\"flag[^>]*>[^<]*</span>)", trend).group(1) == flag

    # Another user sees nothing of this.
    browser.logout()
    browser.register()
    assert client.get(doc_url).status_code == 404
    assert client.get(f"{doc_url}/file").status_code == 404
    assert client.get("/results/59261-8").status_code == 404


def _bundle(*resources: dict) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]})


def _immunization(resource_id: str, vaccine: str, status: str) -> dict:
    return {"resourceType": "Immunization", "id": resource_id, "status": status,
            "vaccineCode": {"text": vaccine}, "patient": {"display": "Test"},
            "occurrenceDateTime": "2024-02-10"}


def test_entered_in_error_is_hidden_but_kept(browser: Browser, app) -> None:
    account = browser.register()
    client = browser.client
    client.cookies.set("regie_lang", "en")
    context = app.state.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        keys = service.keys(context.accounts.by_email(session, account.email))
    first = _bundle(_immunization("vac-ok", "Griepvaccin Influvac", "completed"),
                    _immunization("vac-wrong", "Hepatitis B vaccin Engerix", "completed"),
                    {"resourceType": "Condition", "id": "c-wrong", "subject": {"display": "Test"},
                     "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                        "code": "entered-in-error"}]},
                     "code": {"text": "Suikerziekte type 2"}, "onsetDateTime": "2024-02-11"})
    outcome = service.import_bytes(keys, first, name="gp.json", source="Huisarts", fhir_version=FhirVersion.R4,
                                   channel="cli")
    assert outcome.ok, outcome.error
    # Before: the hepatitis vaccination is shown and counted.
    assert "Hepatitis B vaccin Engerix" in client.get("/record/immunizations").text
    assert "immunizations=2" in _counts(client.get("/").text)
    # The source withdraws it (a new version of the same resource).
    again = _bundle(_immunization("vac-ok", "Griepvaccin Influvac", "completed"),
                    _immunization("vac-wrong", "Hepatitis B vaccin Engerix", "entered-in-error"))
    assert service.import_bytes(keys, again, name="gp2.json", source="Huisarts", fhir_version=FhirVersion.R4,
                                channel="cli").ok
    # Own data the patient deleted is stored as entered-in-error too.
    assert browser.post_form("/measurements/new?type=body_weight",
                             {"value": "83,4", "unit": "kg", "time": "2024-02-12T08:30"}).status_code == 303
    measurements = client.get("/measurements?type=body_weight").text
    row_id = re.search(r'href="/measurements/([0-9a-z]{16,})"', measurements).group(1)
    assert browser.post_form(f"/measurements/{row_id}/delete", {},
                             token_from=f"/measurements/{row_id}").status_code == 303

    hidden = ("Hepatitis B vaccin Engerix", "Suikerziekte type 2", "83.4 kg")
    pages = {url: client.get(url) for url in (
        "/", "/record/immunizations", "/record/problems?status=all", "/record/vital_signs",
        "/timeline", "/timeline?period=2024-02", "/search?q=Engerix", "/search?q=Suikerziekte", "/search?q=83.4")}
    for url, page in pages.items():
        assert page.status_code == 200, url
        for text in hidden:
            assert text not in page.text, (url, text)
    assert "Griepvaccin Influvac" in pages["/record/immunizations"].text
    assert "Griepvaccin Influvac" in pages["/timeline?period=2024-02"].text
    # Counts: the overview's categories, the year and month chips, the source's total.
    counts = _counts(pages["/"].text)
    assert "immunizations=1" in counts and "problems" not in counts and "vital_signs" not in counts
    assert re.search(r"February 2024\s*<span class=\"count\">1</span>", pages["/timeline?period=2024-02"].text)
    assert "2024 <span class=\"count\">1</span>" in pages["/timeline"].text
    # The original stays: the item page says it was withdrawn, the FHIR and the earlier version are kept.
    with service.open(keys) as repo:
        wrong_id = repo.row_for("Huisarts", "Immunization", "vac-wrong")
        assert wrong_id is not None and len(repo.previous_originals(wrong_id)) == 1
    item = client.get(f"/record/items/{wrong_id}")
    assert item.status_code == 200 and "Withdrawn" in item.text and "entered by mistake" in item.text
    original = client.get(f"/record/items/{wrong_id}/original")
    assert "entered-in-error" in original.text


def _counts(page: str) -> str:
    """The overview's counts per category as "key=count" words."""
    return " ".join(f"{key}={count}" for key, count in re.findall(
        r'<a href="/record/(\w+)">[^<]*</a>\s*<span class="count">(\d+)</span>', page))


def test_pages_load_htmx_safely_and_pages_go_on(browser: Browser, app) -> None:
    account = browser.register()
    load_fixtures(app.state.context, account.email)
    client = browser.client
    client.cookies.set("regie_lang", "en")
    for url in ("/record/problems", "/timeline", "/search?q=astma"):
        page = client.get(url).text
        # Vendored htmx, configured not to add inline styles (CSP), not to eval, not to run scripts
        # from answers, and not to keep copies of pages (medical data) in the browser's storage.
        assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in page
        config = orjson.loads(html.unescape(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)))
        assert config == {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False,
                          "selfRequestsOnly": True, "historyCacheSize": 0, "refreshOnHistoryMiss": True}
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    # Every category key has its page, filled or with its empty state.
    for category in Category:
        page = client.get(f"/record/{category.value}?status=all")
        assert page.status_code == 200 and 'id="list-status"' in page.text, category
    assert client.get("/static/vendor/chart-4.6.1.umd.min.js").status_code == 200

    # The timeline's next page: the month the first page ended in goes on without a second heading.
    first = client.get("/timeline").text
    next_url = html.unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))
    last_month = re.findall(r'<h2 id="m-([\d-]+)">', first)[-1]
    second = client.get(next_url).text
    assert f'id="m-{last_month}"' not in second
    assert "More of" in second and "100 items shown." in first and "There are more." in first
