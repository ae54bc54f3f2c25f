"""Plain language for record items: names, statuses, units, flags and dates as words.

Every patient-facing text here is an English message id marked with ``N_`` and
translated where it is shown (Dutch in the catalogue). Lay explanations of codes come
from the term list in ``regie/web/terms/*.toml`` (see docs/terms.md).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path
from collections.abc import Iterable
from typing import Any, Callable
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from markupsafe import Markup, escape

from regie.record import Category, FhirDate
from regie.web.i18n import N_

ZONE = ZoneInfo("Europe/Amsterdam")
_TERMS = Path(__file__).parent / "terms"

#: Category keys in the order of the menu, with an English name (translated on display).
CATEGORY_NAMES: dict[str, str] = {
    Category.PROBLEMS: N_("Problems and episodes"),
    Category.MEDICATION: N_("Medication"),
    Category.ALLERGIES: N_("Allergies and intolerances"),
    Category.RESULTS: N_("Test results"),
    Category.VITAL_SIGNS: N_("Measurements"),
    Category.JOURNAL: N_("Journal"),
    Category.ENCOUNTERS: N_("Visits and contacts"),
    Category.DOCUMENTS: N_("Documents"),
    Category.IMMUNIZATIONS: N_("Vaccinations"),
    Category.APPOINTMENTS: N_("Appointments"),
    Category.PROCEDURES: N_("Procedures"),
    Category.DEVICES: N_("Medical aids"),
    Category.CARE_PLANS: N_("Care plans and goals"),
    Category.DIRECTIVES: N_("Wishes and warnings"),
    Category.LIFESTYLE: N_("Lifestyle and situation"),
    Category.QUESTIONNAIRES: N_("Questionnaires"),
    Category.PREGNANCY_AND_BIRTH: N_("Pregnancy and birth"),
    Category.DIARY: N_("Symptom diary"),
    Category.PATIENT: N_("Personal details"),
    Category.CARE_PROVIDERS: N_("Care providers"),
    Category.OTHER: N_("Other"),
}

#: One or two sentences per category: what you find there, in everyday words.
CATEGORY_HELP: dict[str, str] = {
    Category.PROBLEMS: N_("Health problems your care providers noted. Your GP groups them in episodes: one episode is everything about one complaint or illness, from the first visit until it is over."),
    Category.MEDICATION: N_("Medicines you were prescribed, got from the pharmacy or use. An agreement is what your doctor prescribed; a dispense is what the pharmacy gave you."),
    Category.ALLERGIES: N_("Substances you react to, such as a medicine or food. Care providers check this before they give you something."),
    Category.RESULTS: N_("Results of tests, for example of your blood. Each result shows the normal range, if the lab gave one."),
    Category.VITAL_SIGNS: N_("Measurements such as blood pressure, weight and heart rate, by a care provider or by you."),
    Category.JOURNAL: N_("Notes your GP made during a visit. S is what you told, O is what the doctor found, E is the doctor's conclusion, P is the plan."),
    Category.ENCOUNTERS: N_("Visits, phone calls and stays in hospital."),
    Category.DOCUMENTS: N_("Letters and reports, for example a discharge letter or a referral letter. You can open them as PDF."),
    Category.IMMUNIZATIONS: N_("Vaccinations you had, with the vaccine and the date."),
    Category.APPOINTMENTS: N_("Appointments with care providers."),
    Category.PROCEDURES: N_("Treatments and examinations, such as an operation or a scan."),
    Category.DEVICES: N_("Medical aids, such as a hearing aid or a prosthesis."),
    Category.CARE_PLANS: N_("Plans and goals for your care, and requests for treatment."),
    Category.DIRECTIVES: N_("Your wishes about treatment, and warnings care providers must know about."),
    Category.LIFESTYLE: N_("Your living situation, work, smoking, alcohol and other habits."),
    Category.QUESTIONNAIRES: N_("Questionnaires you were asked to fill in, and your answers."),
    Category.PREGNANCY_AND_BIRTH: N_("Information about a pregnancy and birth."),
    Category.DIARY: N_("Your own notes on how you felt: complaints, how bad they were, and what happened."),
    Category.PATIENT: N_("Who the data is about, and insurance."),
    Category.CARE_PROVIDERS: N_("Doctors, nurses and organisations named in your data."),
    Category.OTHER: N_("Data that does not fit another group."),
}

STATUS_WORDS: dict[str, str] = {
    "active": N_("active"), "inactive": N_("no longer active"), "resolved": N_("resolved"),
    "recurrence": N_("back again"), "remission": N_("in remission"), "completed": N_("completed"),
    "finished": N_("finished"), "booked": N_("booked"), "fulfilled": N_("took place"),
    "cancelled": N_("cancelled"), "noshow": N_("did not take place"), "final": N_("final"),
    "preliminary": N_("preliminary"), "amended": N_("changed"), "corrected": N_("corrected"),
    "registered": N_("registered"), "current": N_("current"), "superseded": N_("replaced"),
    "entered-in-error": N_("entered by mistake"), "stopped": N_("stopped"), "on-hold": N_("paused"),
    "unknown": N_("unknown"), "planned": N_("planned"), "in-progress": N_("in progress"),
    "confirmed": N_("confirmed"), "refuted": N_("ruled out"), "provisional": N_("not certain yet"),
    "draft": N_("draft"), "requested": N_("requested"), "accepted": N_("accepted"),
    "rejected": N_("refused"), "failed": N_("failed"), "intended": N_("intended"),
    "not-done": N_("not done"), "proposed": N_("proposed"), "pending": N_("pending"),
    "arrived": N_("arrived"), "not-taken": N_("not taken"), "ready": N_("ready"),
}

INTERPRETATION: dict[str, tuple[str, str]] = {
    # code: (word, css class)
    "H": (N_("high"), "high"), "HH": (N_("very high"), "high"), "HU": (N_("very high"), "high"),
    "L": (N_("low"), "low"), "LL": (N_("very low"), "low"), "LU": (N_("very low"), "low"),
    "A": (N_("abnormal"), "high"), "AA": (N_("very abnormal"), "high"), "N": (N_("normal"), "normal"),
    "POS": (N_("positive"), "high"), "NEG": (N_("negative"), "normal"),
    "281302008": (N_("high"), "high"), "281300000": (N_("low"), "low"), "281301001": (N_("normal"), "normal"),
}

UNIT_WORDS: dict[str, str] = {
    "mmol/L": N_("millimole per litre"), "mmol/l": N_("millimole per litre"), "mmol/mol": N_("millimole per mole"),
    "mm[Hg]": N_("millimetre of mercury"), "mmHg": N_("millimetre of mercury"), "kg": N_("kilogram"),
    "g": N_("gram"), "cm": N_("centimetre"), "m": N_("metre"), "/min": N_("per minute"),
    "{beats}/min": N_("beats per minute"), "/min{beats}": N_("beats per minute"), "Cel": N_("degrees Celsius"),
    "%": N_("percent"), "g/dL": N_("gram per decilitre"), "mg/dL": N_("milligram per decilitre"),
    "umol/L": N_("micromole per litre"), "L/L": N_("litre per litre"), "ml": N_("millilitre"),
    "mL": N_("millilitre"), "mg": N_("milligram"), "mg/L": N_("milligram per litre"), "kg/m2": N_("kilogram per square metre"),
    "10*9/L": N_("billion per litre"), "10*12/L": N_("trillion per litre"), "U/L": N_("units per litre"),
    "wk": N_("weeks"), "d": N_("days"), "a": N_("years"), "mo": N_("months"), "h": N_("hours"),
}

LINK_WORDS: dict[str, str] = {
    "subject": N_("About"), "encounter": N_("Visit"), "episode": N_("Episode"), "condition": N_("Problem"),
    "medication": N_("Medicine"), "request": N_("Request"), "specimen": N_("Sample"), "binary": N_("File"),
    "performer": N_("Done by"), "author": N_("Author"), "requester": N_("Requested by"),
    "organization": N_("Organisation"), "location": N_("Place"), "member": N_("Part of this result"),
    "based_on": N_("Based on"), "part_of": N_("Part of"), "related": N_("Related"), "detail": N_("About"),
    "participant": N_("Taking part"), "focus": N_("About"), "device": N_("Medical aid"), "goal": N_("Goal"),
    "questionnaire": N_("Questionnaire"), "context": N_("Context"),
}

#: Words for field names, with an explanation where a term is not everyday language.
GLOSSARY: tuple[tuple[str, str], ...] = (
    (N_("Episode"), N_("Everything your GP recorded about one complaint or illness, from the first visit until it is over.")),
    (N_("Attention flag"), N_("Your GP marked this as important to know for every care provider who treats you (in Dutch: attentiewaarde).")),
    (N_("Journal line S, O, E and P"), N_("Your GP writes each visit in four parts: S what you told, O what the doctor saw or measured, E the conclusion (evaluation), P the plan.")),
    (N_("Normal range"), N_("Values between these limits are normal for most people. A value outside is marked high or low; that is not always a problem.")),
    (N_("Source"), N_("Where this data came from: a care provider or a file you added.")),
    (N_("Code"), N_("Care providers use codes (such as ICPC, SNOMED or LOINC) so computers understand the data the same way.")),
)

KIND_WORDS: dict[str, str] = {
    "EpisodeOfCare": N_("episode"), "Condition": N_("problem"),
    "MedicationRequest/medication-agreement": N_("prescription"), "MedicationRequest": N_("prescription"),
    "MedicationDispense/administration-agreement": N_("administration agreement"),
    "MedicationDispense": N_("from the pharmacy"), "MedicationStatement": N_("use"),
    "MedicationAdministration": N_("given"), "Observation/journal-": N_("journal line"),
    "Composition": N_("visit report"), "Flag": N_("warning"), "Consent": N_("wish"),
}

SYSTEM_NAMES: dict[str, str] = {
    "http://hl7.org/fhir/sid/icpc-1-nl": "ICPC", "urn:oid:2.16.840.1.113883.2.4.4.31.1": "ICPC",
    "http://snomed.info/sct": "SNOMED CT", "urn:oid:2.16.840.1.113883.6.96": "SNOMED CT",
    "http://loinc.org": "LOINC", "urn:oid:2.16.840.1.113883.6.1": "LOINC",
    "http://www.whocc.no/atc": "ATC", "urn:oid:2.16.840.1.113883.6.73": "ATC",
    "urn:oid:2.16.840.1.113883.2.4.4.30.45": "NHG tabel 45",
    "https://referentiemodel.nhg.org/tabellen/nhg-tabel-45-diagnostische-bepalingen": "NHG tabel 45",
    "urn:oid:2.16.840.1.113883.2.4.4.7": "G-Standaard HPK", "urn:oid:2.16.840.1.113883.2.4.4.10": "G-Standaard PRK",
    "urn:oid:2.16.840.1.113883.2.4.4.1": "G-Standaard GPK", "urn:oid:2.16.840.1.113883.2.4.4.8": "G-Standaard ZI",
    "urn:oid:2.16.840.1.113883.6.90": "ICD-10",
    "http://fhir.nl/fhir/NamingSystem/journaalregeltypen": N_("journal line type"),
}


@lru_cache(maxsize=1)
def terms() -> dict[str, dict[str, dict[str, str]]]:
    """{code system URI: {code: {"nl": ..., "en": ...}}} from every terms/*.toml file."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for path in sorted(_TERMS.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        entries = {str(code): value for code, value in data.get("terms", {}).items()}
        for system in data.get("systems", ()):
            out.setdefault(system, {}).update(entries)
        for system, table in data.get("by_system", {}).items():
            out.setdefault(system, {}).update({str(code): value for code, value in table.items()})
    return out


def _number(value: str | None, language: str) -> str:
    if value is None:
        return ""
    return value.replace(".", ",") if language == "nl" else value


@lru_cache(maxsize=8192)
def _date_text(text: str, language: str, with_time: bool) -> str:
    """A FHIR date as words in ``language``. Cached: a page shows the same few hundred dates
    again and again, and babel's formatting is slow; the text alone says nothing medical."""
    parsed = FhirDate.parse(text)
    if parsed is None:
        return text
    if parsed.precision == "year":
        return text[:4]
    if parsed.precision == "month":
        return format_date(datetime.strptime(text[:7], "%Y-%m"), "MMMM yyyy", locale=language)
    day = datetime.strptime(text[:10], "%Y-%m-%d")
    if parsed.precision == "day" or not with_time or len(text) <= 10:
        return format_date(day, "d MMM yyyy", locale=language)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return format_date(day, "d MMM yyyy", locale=language)
    # Shown in the source's own time (the offset it gave): a date given as midnight stays that day.
    if moment.hour == 0 and moment.minute == 0:
        return format_date(moment, "d MMM yyyy", locale=language)
    return format_datetime(moment, "d MMM yyyy HH:mm", locale=language)


def item_url(item: dict[str, Any]) -> str:
    """The page of one item: documents open as a document, everything else as a record item."""
    if item.get("category") == "documents" and item.get("resource_type") in ("DocumentReference", "Binary"):
        return f"/documents/{item['id']}"
    return f"/record/items/{item['id']}"


#: Statuses a list does not show as a badge: what most items are, so it says nothing.
_PLAIN_STATUSES = ("active", "final", "current")


@lru_cache(maxsize=512)
def _kind_word(kind: str) -> str | None:
    """The (untranslated) word of KIND_WORDS for a kind: its first matching prefix."""
    for prefix, word in KIND_WORDS.items():
        if kind.startswith(prefix):
            return word
    return None


def _html(value: Any) -> str:
    """``value`` escaped for HTML, as markupsafe's ``escape`` (and so Jinja) does it; a plain
    string without a character to escape, the usual case, is returned as it is."""
    if value.__class__ is str and not ("&" in value or "<" in value or ">" in value or '"' in value or "'" in value):
        return value
    return str(escape(value))


def _flag_html(flag: tuple[str, str] | None) -> str:
    """The badge of a flag (``Presenter.flag``'s word and css class); "" without one."""
    return f'<span class="flag flag-{_html(flag[1])}">{_html(flag[0])}</span>' if flag else ""


#: Fixed texts of the list rows (Presenter.item_rows, Presenter.result_rows).
_ROW_WORDS = {"no title": N_("(no title)"), "no date": N_("no date"), "from": N_("from"),
              "attention": N_("Attention flag"), "current": N_("current"), "past": N_("past"),
              "measured yourself": N_("measured yourself"), "trend": N_("trend")}


@dataclass(frozen=True, slots=True)
class ItemLine:
    """What a list or table row shows of one item, worked out once (``Presenter.line``).

    A row reads these fields instead of calling a dozen presenter methods: every call from
    a template goes through Jinja's call machinery, which costs more than the work itself.
    """

    url: str
    title: Any  # as stored (a template shows a missing title as empty)
    day: str  # ISO day of the date, for <time datetime>
    date: str  # the date in words; "" without a date
    end_day: str
    end: str
    value: str
    flag: tuple[str, str] | None
    category: str
    kind: str
    letter: str | None
    term: str | None
    sources: str
    attention: Any
    active: bool | None
    status: str  # the status in words, "" where a list shows no status badge
    self_measured: bool
    range: str
    trend: str | None


@dataclass
class Presenter:
    """Formatting for one request (language and gettext); used by the templates as ``p``."""

    language: str
    gettext: Callable[[str], str]

    # -- names -----------------------------------------------------------------
    def category(self, key: str) -> str:
        return self.gettext(CATEGORY_NAMES.get(key, key))

    def category_help(self, key: str) -> str:
        return self.gettext(CATEGORY_HELP.get(key, ""))

    def status(self, status: str | None) -> str:
        if not status:
            return ""
        return self.gettext(STATUS_WORDS[status]) if status in STATUS_WORDS else status

    def status_badge(self, status: str | None) -> str:
        """The status word a row shows as a badge: none for the plain ones (active, final, current)."""
        return self.status(status) if status and status not in _PLAIN_STATUSES else ""

    def relation(self, relation: str) -> str:
        return self.gettext(LINK_WORDS[relation]) if relation in LINK_WORDS else relation

    def system(self, system: str | None) -> str:
        if not system:
            return ""
        name = SYSTEM_NAMES.get(system)
        if name is None:
            return system.rsplit("/", 1)[-1] if system.startswith("http") else system
        return self.gettext(name)

    def term(self, coding: dict[str, Any]) -> str | None:
        """The lay explanation of a coding from the project's term list, if there is one."""
        entry = terms().get(coding.get("system") or "", {}).get(coding.get("code") or "")
        if not entry:
            return None
        return entry.get(self.language) or entry.get("en")

    def explained(self, item: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
        return [(c, self.term(c)) for c in item.get("codes", ())]

    def first_term(self, item: dict[str, Any]) -> str | None:
        for coding in item.get("codes", ()):
            found = self.term(coding)
            if found:
                return found
        return None

    # -- dates ---------------------------------------------------------------------
    def date(self, text: str | None, with_time: bool = True) -> str:
        if not text:
            return ""
        return _date_text(text, self.language, with_time)

    def iso_day(self, text: str | None) -> str:
        return (text or "")[:10]

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(ZONE), "d MMM yyyy HH:mm", locale=self.language)

    def month_name(self, key: str) -> str:
        return format_date(datetime.strptime(key[:7], "%Y-%m"), "MMMM yyyy", locale=self.language)

    # -- values ----------------------------------------------------------------------
    def number(self, value: str | None) -> str:
        return _number(value, self.language)

    def unit(self, quantity: dict[str, Any] | None) -> str:
        if not quantity:
            return ""
        return quantity.get("unit") or quantity.get("code") or ""

    def unit_words(self, quantity: dict[str, Any] | None) -> str:
        if not quantity:
            return ""
        for key in (quantity.get("code"), quantity.get("unit")):
            if key and key in UNIT_WORDS:
                return self.gettext(UNIT_WORDS[key])
        return ""

    def quantity(self, quantity: dict[str, Any] | None) -> str:
        if not quantity:
            return ""
        number = (quantity.get("comparator") or "") + self.number(quantity.get("value"))
        return f"{number} {self.unit(quantity)}".strip()

    def value(self, value: dict[str, Any] | None) -> str:
        """A value as text (units as given; ``unit_words`` has them written out)."""
        if not value:
            return ""
        kind = value.get("type")
        if kind == "quantity":
            return self.quantity(value)
        if kind == "coding":
            return value.get("display") or value.get("code") or ""
        if kind == "boolean":
            return self.gettext(N_("yes")) if value.get("value") else self.gettext(N_("no"))
        if kind == "decimal":
            return self.number(value.get("value"))
        if kind == "date":
            return self.date(value.get("value"))
        return str(value.get("value", ""))

    def summary_value(self, item: dict[str, Any]) -> str:
        """The value to show in a list: the value, or the components (120/80 mmHg)."""
        if item.get("value"):
            return self.value(item["value"])
        parts = [c for c in item.get("components", ()) if c.get("value") and c["value"].get("type") == "quantity"]
        if len(parts) >= 2 and item.get("kind") == "Observation/blood-pressure":
            unit = self.unit(parts[0]["value"])
            return f"{self.number(parts[0]['value'].get('value'))}/{self.number(parts[1]['value'].get('value'))} {unit}".strip()
        return ", ".join(self.value(c["value"]) for c in parts[:3])

    def range_text(self, ranges: list[dict[str, Any]]) -> str:
        for r in ranges or ():
            low, high = r.get("low"), r.get("high")
            if low and high:
                return f"{self.number(low.get('value'))} – {self.quantity(high)}"
            if high:
                return self.gettext(N_("up to {value}")).format(value=self.quantity(high))
            if low:
                return self.gettext(N_("from {value}")).format(value=self.quantity(low))
            if r.get("text"):
                return r["text"]
        return ""

    def flag(self, item: dict[str, Any]) -> tuple[str, str] | None:
        """(word, css class) for a result outside its range: the lab's flag, else the range."""
        for coding in item.get("interpretation", ()):
            found = INTERPRETATION.get(coding.get("code") or "")
            if found:
                return self.gettext(found[0]), found[1]
        value = item.get("value") or {}
        if value.get("type") != "quantity" or value.get("value") is None:
            return None
        try:
            number = Decimal(value["value"])
            for r in item.get("reference_ranges", ()):
                if r.get("high") and r["high"].get("value") is not None and number > Decimal(r["high"]["value"]):
                    return self.gettext(N_("high")), "high"
                if r.get("low") and r["low"].get("value") is not None and number < Decimal(r["low"]["value"]):
                    return self.gettext(N_("low")), "low"
        except (InvalidOperation, TypeError):
            return None
        return None

    def trend_code(self, item: dict[str, Any]) -> str | None:
        """The code of the trend page for a measurement with a number (LOINC first)."""
        if item.get("category") not in ("results", "vital_signs", "pregnancy_and_birth"):
            return None
        numeric = (item.get("value") or {}).get("type") == "quantity" or any(
            (c.get("value") or {}).get("type") == "quantity" for c in item.get("components", ()))
        if not numeric:
            return None
        codes = item.get("codes", ())
        for coding in codes:
            if coding.get("system") == "http://loinc.org" and coding.get("code"):
                return coding["code"]
        for coding in codes:
            if coding.get("code") and "/" not in coding["code"]:
                return coding["code"]
        return None

    def self_measured(self, item: dict[str, Any]) -> bool:
        return any(link.get("relation") == "performer" and (link.get("reference") or "").startswith("Patient/")
                   for link in item.get("links", ()))

    def kind(self, item: dict[str, Any]) -> str:
        """A short word for the kind of item, where a category holds several kinds."""
        word = _kind_word(item.get("kind") or "")
        return self.gettext(word) if word else ""

    def journal_letter(self, item: dict[str, Any]) -> str | None:
        kind = item.get("kind") or ""
        return kind.rsplit("-", 1)[-1] if kind.startswith("Observation/journal-") else None

    # -- a row --------------------------------------------------------------------------
    def line(self, item: dict[str, Any]) -> ItemLine:
        date, end, status = item.get("date"), item.get("end"), item.get("status")
        return ItemLine(
            url=item_url(item), title=item.get("title", ""),
            day=self.iso_day(date), date=self.date(date), end_day=self.iso_day(end), end=self.date(end),
            value=self.summary_value(item), flag=self.flag(item), category=self.category(item.get("category")),
            kind=self.kind(item), letter=self.journal_letter(item), term=self.first_term(item),
            sources=", ".join(map(str, item.get("sources") or ())), attention=item.get("attention"),
            active=item.get("active"),
            status=self.status_badge(status),
            self_measured=self.self_measured(item), range=self.range_text(item.get("reference_ranges")),
            trend=self.trend_code(item))

    # -- rows of a list, as markup ---------------------------------------------------------
    # A page lists up to 50 items (a timeline 100). Written out here rather than in the
    # template: Jinja spends more per row on its output, attribute and call machinery than the
    # row's own work. Each piece is escaped as the template escaped it, and the markup and
    # its white space are what _record.html's item_list and record_category.html's results
    # table wrote before (tests/web/test_templating.py compares them with the template).
    # The badges are the ones above, which the item and trend pages show too.
    @cached_property
    def _words(self) -> dict[str, str]:
        return {key: _html(self.gettext(word)) for key, word in _ROW_WORDS.items()}

    # -- badges, as markup: the one rule for each, for the rows below and for the templates -----
    @cached_property
    def _fixed_badges(self) -> tuple[str, str, str]:
        words = self._words
        return (f'<span class="badge badge-attention">{words["attention"]}</span>',
                f'<span class="badge badge-current">{words["current"]}</span>',
                f'<span class="badge">{words["past"]}</span>')

    def _badges_html(self, item: dict[str, Any]) -> str:
        attention, current, past = self._fixed_badges
        out = attention if item.get("attention") else ""
        active = item.get("active")
        if active is True:
            out += current
        elif active is False:
            out += past
        status_text = self.status_badge(item.get("status"))
        if status_text:
            out += f'<span class="badge">{_html(status_text)}</span>'
        return out

    def badges(self, item: dict[str, Any]) -> Markup:
        """An item's badges, side by side: attention flag; current or past; its status where it says something."""
        return Markup(self._badges_html(item))

    def attention_badge(self) -> Markup:
        """The GP attention flag's badge alone (the emergency card, where current or past and
        the status say nothing: everything on it applies)."""
        return Markup(self._fixed_badges[0])

    def flag_badge(self, flag: tuple[str, str] | None) -> Markup:
        """The badge of a flag (``flag``'s word and css class): high, low, ...; nothing without one."""
        return Markup(_flag_html(flag))

    def item_rows(self, items: Iterable[dict[str, Any]], show_category: bool = False) -> Markup:
        """One ``<li class="item">`` per item: title, value and flag; date, kind, sources, badges; term."""
        words = self._words
        no_title, no_date, sources_word = words["no title"], words["no date"], words["from"]
        out: list[str] = []
        add = out.append
        for item in items:
            title = item.get("title", "")
            add(f'<li class="item">\n  <p class="item-title"><a href="{_html(item_url(item))}">'
                f'{_html(title) if title else no_title}</a>\n')
            value = self.summary_value(item)
            if value:
                add(f' <span class="value">{_html(value)}</span>')
            add(f'    {_flag_html(self.flag(item))}</p>\n  <p class="meta">\n')
            date = item.get("date")
            if date and (words_date := _date_text(date, self.language, True)):
                add(f'<time datetime="{_html(date[:10])}">{_html(words_date)}</time>')
                end = item.get("end")
                if end and (words_end := _date_text(end, self.language, True)):
                    add(f' – <time datetime="{_html(end[:10])}">{_html(words_end)}</time>')
            else:
                add(no_date)
            if show_category:
                add(f" · {_html(self.category(item.get('category')))}")
            kind_text = self.kind(item)
            if kind_text:
                add(f" · {_html(kind_text)}")
                letter = self.journal_letter(item)
                if letter:
                    add(f" {_html(letter)}")
            add(f"    · {sources_word} {_html(', '.join(map(str, item.get('sources') or ())))}\n    ")
            add(self._badges_html(item))
            term = self.first_term(item)
            add(f'\n  </p>\n<p class="term">{_html(term)}</p></li>\n' if term else "\n  </p>\n</li>\n")
        return Markup("".join(out))

    def result_rows(self, items: Iterable[dict[str, Any]]) -> Markup:
        """One ``<tr>`` per result or measurement: date, test, value and flag, normal range, trend link."""
        words = self._words
        self_badge = f' <span class="badge">{words["measured yourself"]}</span>'
        trend_word = words["trend"]
        out: list[str] = []
        add = out.append
        for item in items:
            date = item.get("date")
            title = _html(item.get("title", ""))
            add(f'      <tr>\n        <td><time datetime="{_html((date or "")[:10])}">'
                f'{_html(self.date(date))}</time></td>\n'
                f'        <td><a href="{_html(item_url(item))}">{title}</a>'
                f'{self_badge if self.self_measured(item) else ""}</td>\n'
                f'        <td>{_html(self.summary_value(item))} {_flag_html(self.flag(item))}</td>\n'
                f'        <td>{_html(self.range_text(item.get("reference_ranges")))}</td>\n        <td>')
            trend = self.trend_code(item)
            if trend:
                add(f'<a href="/results/{_html(trend)}">{trend_word}<span class="visually-hidden"> {title}</span></a>')
            add("</td>\n      </tr>\n")
        return Markup("".join(out))


__all__ = ["CATEGORY_HELP", "CATEGORY_NAMES", "GLOSSARY", "ItemLine", "Presenter", "item_url", "terms"]
