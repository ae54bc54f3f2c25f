"""Self-measurements: the types, their units, plausibility checks, and FHIR Observations.

Pure Python (no I/O). A measurement is entered as a :class:`Measurement` (type, values in
a unit the user chose, time, options); :func:`check` converts to the stored unit and says
what is impossible (refused) or implausible (asks for confirmation); :func:`to_fhir`
builds a FHIR STU3 Observation following the Nictiz zib2017 self-measurement profiles
(Self-measurements 2.0: zib-BloodPressure, zib-BodyWeight, zib-HeartRate,
vitalsign-bloodglucose; the other zib2017 vital-sign profiles for the rest), and
:func:`from_fhir` reads one back (for editing, history and the API).

Texts here are English msgids, translated by the web layer (``N_`` marks them).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo



def N_(message: str) -> str:
    """Marks a text for translation (shown translated by the web layer)."""
    return message

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
OBS_CATEGORY = "http://hl7.org/fhir/observation-category"
TIMING = "http://hl7.org/fhir/v3/TimingEvent"
EVENT_TIMING = "http://hl7.org/fhir/StructureDefinition/observation-eventTiming"
#: Marks resources Regie made for the user's own data (stable; used when reading back).
OWN_DATA_SYSTEM = "urn:regie:own-data"
SELF_REFERENCE = {"reference": "Patient/self"}
_FIVE_MINUTES = timedelta(minutes=5)


@dataclass(frozen=True)
class Unit:
    code: str  # UCUM
    label: str  # shown to people
    factor: Decimal  # value * factor = value in the stored unit
    offset: Decimal = Decimal(0)  # for temperatures


@dataclass(frozen=True)
class Bounds:
    """In the stored unit: outside ``possible`` is refused, outside ``plausible`` needs a yes."""

    possible: tuple[Decimal, Decimal]
    plausible: tuple[Decimal, Decimal]
    places: int = 1  # decimals kept when storing


@dataclass(frozen=True)
class FieldSpec:
    name: str  # form/API field name
    label: str  # msgid
    loinc: str | None  # component code (blood pressure) or None for the main value
    display: str
    bounds: Bounds


@dataclass(frozen=True)
class MeasurementType:
    key: str
    label: str  # msgid
    loinc: str
    display: str  # Dutch display of the code, as in the Nictiz examples
    profile: str | None
    units: tuple[Unit, ...]  # the first is the stored unit
    fields: tuple[FieldSpec, ...]
    integer: bool = False
    extra_codings: tuple[tuple[str, str, str], ...] = ()

    @property
    def unit(self) -> Unit:
        return self.units[0]

    def unit_for(self, code: str | None) -> Unit | None:
        if not code:
            return self.unit
        for unit in self.units:
            if code in (unit.code, unit.label):
                return unit
        return None


def _d(text: str) -> Decimal:
    return Decimal(text)


def _b(lo: str, hi: str, plo: str, phi: str, places: int = 1) -> Bounds:
    return Bounds((_d(lo), _d(hi)), (_d(plo), _d(phi)), places)


MMHG = Unit("mm[Hg]", "mmHg", Decimal(1))
KPA = Unit("kPa", "kPa", Decimal("7.50062"))
PER_MIN = Unit("/min", "/min", Decimal(1))

TYPES: dict[str, MeasurementType] = {t.key: t for t in (
    MeasurementType(
        "blood_pressure", N_("Blood pressure"), "85354-9", "Blood pressure panel with all children optional",
        NICTIZ + "zib-BloodPressure", (MMHG, KPA),
        (FieldSpec("systolic", N_("Upper pressure (systolic)"), "8480-6",
                   "Intravasculaire systolische bloeddruk [druk] in arterieel vaatstelsel",
                   _b("40", "320", "70", "220", 0)),
         FieldSpec("diastolic", N_("Lower pressure (diastolic)"), "8462-4",
                   "Intravasculaire diastolische bloeddruk [druk] in arterieel vaatstelsel",
                   _b("20", "200", "40", "130", 0))),
        integer=True),
    MeasurementType(
        "heart_rate", N_("Heart rate"), "8867-4", "Hartfrequentie", NICTIZ + "zib-HeartRate", (PER_MIN,),
        (FieldSpec("value", N_("Heart rate"), None, "", _b("15", "300", "35", "200", 0)),), integer=True),
    MeasurementType(
        "body_weight", N_("Weight"), "29463-7", "Lichaamsgewicht [massa] in ^patiënt", NICTIZ + "zib-BodyWeight",
        (Unit("kg", "kg", Decimal(1)), Unit("g", "g", Decimal("0.001")), Unit("[lb_av]", "lb", Decimal("0.45359237"))),
        (FieldSpec("value", N_("Weight"), None, "", _b("0.3", "500", "25", "250", 1)),)),
    MeasurementType(
        "body_height", N_("Height"), "8302-2", "Lichaamslengte", NICTIZ + "zib-BodyHeight",
        (Unit("cm", "cm", Decimal(1)), Unit("m", "m", Decimal(100)), Unit("[in_i]", "inch", Decimal("2.54"))),
        (FieldSpec("value", N_("Height"), None, "", _b("20", "275", "100", "215", 1)),)),
    MeasurementType(
        "bmi", N_("Body mass index (BMI)"), "39156-5", "Body mass index (BMI) [Ratio]", NICTIZ + "zib-BodyMassIndex",
        (Unit("kg/m2", "kg/m²", Decimal(1)),),
        (FieldSpec("value", N_("BMI"), None, "", _b("5", "150", "12", "60", 1)),)),
    MeasurementType(
        "blood_glucose", N_("Blood sugar (glucose)"), "14743-9",
        "Glucose [mol/volume] in capillair bloed d.m.v. glucometer", NICTIZ + "vitalsign-bloodglucose",
        (Unit("mmol/L", "mmol/l", Decimal(1)), Unit("mg/dL", "mg/dl", Decimal("0.0555"))),
        (FieldSpec("value", N_("Blood sugar"), None, "", _b("0.5", "60", "2.5", "25", 1)),)),
    MeasurementType(
        "body_temperature", N_("Temperature"), "8310-5", "Lichaamstemperatuur", NICTIZ + "zib-BodyTemperature",
        (Unit("Cel", "°C", Decimal(1)), Unit("[degF]", "°F", Decimal(5) / Decimal(9), Decimal(-32))),
        (FieldSpec("value", N_("Temperature"), None, "", _b("25", "45", "34", "41.5", 1)),)),
    MeasurementType(
        "oxygen_saturation", N_("Oxygen saturation (SpO2)"), "59408-5",
        "Zuurstofsaturatie in arterieel bloed d.m.v. pulsoximetrie", NICTIZ + "zib-O2Saturation",
        (Unit("%", "%", Decimal(1)),),
        (FieldSpec("value", N_("Oxygen saturation"), None, "", _b("40", "100", "85", "100", 0)),), integer=True,
        extra_codings=((LOINC, "2708-6", "Oxygen saturation in Arterial blood"),)),
    MeasurementType(
        "respiration_rate", N_("Breathing rate"), "9279-1", "Ademfrequentie", NICTIZ + "zib-Respiration",
        (PER_MIN,), (FieldSpec("value", N_("Breaths per minute"), None, "", _b("2", "80", "8", "40", 0)),),
        integer=True),
    MeasurementType(
        "pain_score", N_("Pain score"), "72514-3", "Pijnintensiteit (0-10)", NICTIZ + "zib-PainScore",
        (Unit("{score}", "0-10", Decimal(1)),),
        (FieldSpec("value", N_("Pain (0 is no pain, 10 is the worst pain)"), None, "", _b("0", "10", "0", "10", 0)),),
        integer=True),
    MeasurementType(
        "steps", N_("Steps"), "41950-7", "Aantal stappen in 24 uur", None,
        (Unit("/d", "steps", Decimal(1)),),
        (FieldSpec("value", N_("Steps that day"), None, "", _b("0", "150000", "0", "60000", 0)),), integer=True),
)}

#: Options for blood pressure and glucose: key -> (system, code, display, msgid).
POSITIONS = {
    "sitting": (SNOMED, "33586001", "Zittende positie", N_("Sitting")),
    "standing": (SNOMED, "10904000", "Staande positie", N_("Standing")),
    "lying": (SNOMED, "102538003", "Liggende positie", N_("Lying down")),
}
ARMS = {
    "left": (SNOMED, "368208006", "Linker bovenarm", N_("Left arm")),
    "right": (SNOMED, "368209003", "Rechter bovenarm", N_("Right arm")),
}
#: Glucose moment -> (LOINC code, display, timing event or None, msgid).
MOMENTS = {
    "fasting": ("14770-2", "Glucose^na vasten [mol/volume] in capillair bloed d.m.v. glucometer", None,
                N_("Fasting (before breakfast)")),
    "before_meal": ("14743-9", "Glucose [mol/volume] in capillair bloed d.m.v. glucometer", "AC",
                    N_("Before a meal")),
    "after_meal": ("14760-3", "Glucose^2 uur na maaltijd [mol/volume] in capillair bloed", "PC",
                   N_("About 2 hours after a meal")),
    "bedtime": ("14743-9", "Glucose [mol/volume] in capillair bloed d.m.v. glucometer", "HS",
                N_("Before going to sleep")),
    "other": ("14743-9", "Glucose [mol/volume] in capillair bloed d.m.v. glucometer", None,
              N_("Another moment")),
}
_GLUCOSE_CODES = {code for code, *_ in MOMENTS.values()}


class MeasurementError(ValueError):
    """Problems per field: ``errors`` are refused, ``warnings`` need confirmation."""

    def __init__(self, errors: dict[str, str], warnings: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in {**errors, **(warnings or {})}.items()))
        self.errors = errors
        self.warnings = warnings or {}


@dataclass
class Measurement:
    """One measurement in the stored unit (after :func:`check`)."""

    type: str
    values: dict[str, Decimal]
    time: datetime
    unit: str = ""
    position: str | None = None
    arm: str | None = None
    moment: str | None = None
    comment: str = ""
    resource_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    derived_from: list[str] = field(default_factory=list)
    status: str = "final"

    @property
    def kind(self) -> MeasurementType:
        return TYPES[self.type]


def parse_number(text: Any) -> Decimal | None:
    """A number as typed: "72,5" and "72.5" both work; None when it is not a number."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float, Decimal)):
        try:
            value = Decimal(str(text))
        except InvalidOperation:
            return None
    else:
        cleaned = str(text).strip().replace(" ", "").replace(",", ".")
        if not cleaned or len(cleaned) > 20:
            return None
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            return None
    return value if value.is_finite() else None


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def check(
    type_key: str, raw: dict[str, Any], *, unit: str | None, time: datetime | None,
    position: str | None = None, arm: str | None = None, moment: str | None = None,
    comment: str = "", confirmed: bool = False, now: datetime | None = None,
) -> Measurement:
    """Validate and convert; raises :class:`MeasurementError` (texts are msgids with
    ``{placeholders}`` filled in by :func:`explain`)."""
    kind = TYPES.get(type_key)
    if kind is None:
        raise MeasurementError({"type": N_("Choose a kind of measurement.")})
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    chosen = kind.unit_for(unit)
    if chosen is None:
        errors["unit"] = N_("Use one of these units: {units}.")
        chosen = kind.unit
    values: dict[str, Decimal] = {}
    for spec in kind.fields:
        number = parse_number(raw.get(spec.name))
        if number is None:
            errors[spec.name] = N_("Fill in a number.") if raw.get(spec.name) in (None, "") else N_("This is not a number.")
            continue
        stored = (number + chosen.offset) * chosen.factor
        places = Decimal(1).scaleb(-spec.bounds.places)
        stored = stored.quantize(places, rounding=ROUND_HALF_UP)
        if kind.integer and number != number.to_integral_value() and chosen.factor == 1:
            errors[spec.name] = N_("Fill in a whole number.")
            continue
        low, high = spec.bounds.possible
        if stored < low or stored > high:
            errors[spec.name] = N_("{value} {unit} is not possible. Check the number and the unit (between {low} and {high} {stored_unit}).")
        elif not (spec.bounds.plausible[0] <= stored <= spec.bounds.plausible[1]):
            warnings[spec.name] = N_("{value} {unit} is very unusual. Is it right? Then confirm it.")
        values[spec.name] = stored
    if kind.key == "blood_pressure" and "systolic" in values and "diastolic" in values \
            and "systolic" not in errors and "diastolic" not in errors:
        if values["systolic"] <= values["diastolic"]:
            errors["diastolic"] = N_("The lower pressure must be lower than the upper pressure.")
        elif values["systolic"] - values["diastolic"] < 10 or values["systolic"] - values["diastolic"] > 150:
            warnings.setdefault("diastolic", N_("This difference between upper and lower pressure is very unusual. Is it right? Then confirm it."))
    now = now or datetime.now(timezone.utc)
    if time is None:
        errors["time"] = N_("Fill in the date and time of the measurement.")
    elif time.tzinfo is None:
        errors["time"] = N_("Give the time with a time zone.")
    elif time > now.replace(microsecond=0) + _FIVE_MINUTES:
        errors["time"] = N_("The time is in the future.")
    elif time.year < 1900:
        errors["time"] = N_("The date is too long ago.")
    if position and position not in POSITIONS:
        errors["position"] = N_("Choose one of the options.")
    if arm and arm not in ARMS:
        errors["arm"] = N_("Choose one of the options.")
    if moment and moment not in MOMENTS:
        errors["moment"] = N_("Choose one of the options.")
    if len(comment) > 1000:
        errors["comment"] = N_("Use at most 1000 characters.")
    if errors:
        raise MeasurementError(errors, warnings)
    if warnings and not confirmed:
        raise MeasurementError({}, warnings)
    assert time is not None
    return Measurement(kind.key, values, time.replace(microsecond=0), kind.unit.code,
                       position or None, arm or None, moment or None, comment.strip())



def explain(type_key: str, field_name: str, text: str, raw: dict[str, Any], unit: str | None) -> dict[str, str]:
    """The values for the placeholders of a check message."""
    kind = TYPES.get(type_key)
    if kind is None:
        return {}
    chosen = kind.unit_for(unit) or kind.unit
    spec = next((s for s in kind.fields if s.name == field_name), None)
    out = {"value": str(raw.get(field_name, "")), "unit": chosen.label, "stored_unit": kind.unit.label,
           "units": ", ".join(u.label for u in kind.units)}
    if spec is not None:
        out["low"], out["high"] = _fmt(spec.bounds.possible[0]), _fmt(spec.bounds.possible[1])
    return out


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _quantity(value: Decimal, unit: Unit) -> dict[str, Any]:
    number: Any = int(value) if value == value.to_integral_value() else float(value)
    return {"value": number, "unit": unit.label, "system": UCUM, "code": unit.code}


def fhir_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def to_fhir(m: Measurement) -> dict[str, Any]:
    """A FHIR STU3 Observation (JSON-ready dict) for the measurement."""
    kind = m.kind
    code_coding = [_coding(LOINC, kind.loinc, kind.display)]
    extension: list[dict[str, Any]] = []
    category = [{"coding": [_coding(OBS_CATEGORY, "vital-signs", "Vital Signs")]}]
    if kind.key == "blood_glucose":
        loinc, display, event, _ = MOMENTS.get(m.moment or "other", MOMENTS["other"])
        code_coding = [_coding(LOINC, loinc, display)]
        if event:
            extension.append({"url": EVENT_TIMING, "extension": [
                {"url": "code", "valueCodeableConcept": {"coding": [_coding(TIMING, event, event)]}}]})
        category = [{"coding": [_coding(SNOMED, "49581000146104", "bevinding betreffende laboratoriumonderzoek")]},
                    {"coding": [_coding(OBS_CATEGORY, "vital-signs", "Vital Signs")]}]
    for system, code, display in kind.extra_codings:
        code_coding.append(_coding(system, code, display))
    resource: dict[str, Any] = {"resourceType": "Observation", "id": m.resource_id}
    if kind.profile:
        resource["meta"] = {"profile": [kind.profile]}
    if extension:
        resource["extension"] = extension
    resource["identifier"] = [{"system": OWN_DATA_SYSTEM, "value": m.resource_id}]
    resource["status"] = m.status
    resource["category"] = category
    resource["code"] = {"coding": code_coding}
    resource["subject"] = dict(SELF_REFERENCE)
    resource["effectiveDateTime"] = fhir_time(m.time)
    resource["performer"] = [dict(SELF_REFERENCE)]
    unit = kind.unit
    if kind.key == "blood_pressure":
        if m.arm:
            system, code, display, _ = ARMS[m.arm]
            resource["bodySite"] = {"coding": [_coding(system, code, display)]}
        resource["method"] = {"coding": [_coding(SNOMED, "22762002", "Niet-invasief")]}
        components = [
            {"code": {"coding": [_coding(LOINC, spec.loinc or "", spec.display)]},
             "valueQuantity": _quantity(m.values[spec.name], unit)}
            for spec in kind.fields
        ]
        if m.position:
            system, code, display, _ = POSITIONS[m.position]
            components.append({"code": {"coding": [_coding(LOINC, "8361-8", "Body position with respect to gravity")]},
                               "valueCodeableConcept": {"coding": [_coding(system, code, display)]}})
        resource["component"] = components
    else:
        resource["valueQuantity"] = _quantity(m.values["value"], unit)
    if m.comment:
        resource["comment"] = m.comment
    if m.derived_from:
        resource["related"] = [{"type": "derived-from", "target": {"reference": f"Observation/{ref}"}}
                               for ref in m.derived_from]
    return resource


def type_of(resource: dict[str, Any]) -> str | None:
    """The measurement type of an Observation (ours or anyone's), by its codes."""
    codes = {(c.get("system"), c.get("code")) for c in (resource.get("code") or {}).get("coding", ())}
    for kind in TYPES.values():
        if (LOINC, kind.loinc) in codes:
            return kind.key
    if any(system == LOINC and code in _GLUCOSE_CODES for system, code in codes):
        return "blood_glucose"
    if (LOINC, "2708-6") in codes:
        return "oxygen_saturation"
    return None


def from_fhir(resource: dict[str, Any]) -> Measurement | None:
    """Read an Observation back (None when it is not a measurement type we know)."""
    key = type_of(resource)
    if key is None:
        return None
    kind = TYPES[key]
    try:
        time = datetime.fromisoformat(resource.get("effectiveDateTime", ""))
    except ValueError:
        return None
    if time.tzinfo is None:  # a date without a time: midnight, Dutch time
        time = time.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    values: dict[str, Decimal] = {}
    position = arm = moment = None
    if key == "blood_pressure":
        by_code = {spec.loinc: spec.name for spec in kind.fields}
        for comp in resource.get("component", ()):
            codes = [c.get("code") for c in comp.get("code", {}).get("coding", ())]
            for code in codes:
                if code in by_code and "valueQuantity" in comp:
                    values[by_code[code]] = Decimal(str(comp["valueQuantity"].get("value")))
                if code == "8361-8":
                    found = {c.get("code") for c in comp.get("valueCodeableConcept", {}).get("coding", ())}
                    position = next((k for k, v in POSITIONS.items() if v[1] in found), None)
        site = {c.get("code") for c in (resource.get("bodySite") or {}).get("coding", ())}
        arm = next((k for k, v in ARMS.items() if v[1] in site), None)
    elif "valueQuantity" in resource and resource["valueQuantity"].get("value") is not None:
        values["value"] = Decimal(str(resource["valueQuantity"]["value"]))
    if key == "blood_glucose":
        codes = {c.get("code") for c in (resource.get("code") or {}).get("coding", ())}
        events = {c.get("code") for ext in resource.get("extension", ()) if ext.get("url") == EVENT_TIMING
                  for sub in ext.get("extension", ()) for c in sub.get("valueCodeableConcept", {}).get("coding", ())}
        moment = next((k for k, (code, _, event, _) in MOMENTS.items() if code in codes and event in events),
                      None) or next((k for k, (code, _, event, _) in MOMENTS.items()
                                     if code in codes and event is None), None)
    derived = [r.get("target", {}).get("reference", "").rsplit("/", 1)[-1]
               for r in resource.get("related", ()) if r.get("type") == "derived-from"]
    return Measurement(key, values, time, kind.unit.code, position, arm, moment,
                       resource.get("comment", ""), resource.get("id") or str(uuid.uuid4()),
                       [d for d in derived if d], resource.get("status", "final"))


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def api_dict(m: Measurement) -> dict[str, Any]:
    """The JSON form used by the API (numbers as JSON numbers, the stored unit)."""
    out: dict[str, Any] = {"type": m.type, "time": fhir_time(m.time), "unit": m.kind.unit.code}
    for name, value in m.values.items():
        out[name] = int(value) if value == value.to_integral_value() else float(value)
    for name in ("position", "arm", "moment"):
        if getattr(m, name):
            out[name] = getattr(m, name)
    if m.comment:
        out["comment"] = m.comment
    if m.derived_from:
        out["derived"] = True
    return out


# -- the user's own target ranges (FHIR STU3 Goal, one per value) -------------------------
def goal_id(type_key: str, field_name: str) -> str:
    return f"target-{type_key}-{field_name}".replace("_", "-")


def check_target(type_key: str, field_name: str, low_text: Any, high_text: Any,
                 unit: str | None = None) -> tuple[Decimal | None, Decimal | None]:
    """A target range in the stored unit; raises MeasurementError (fields ``low``/``high``)."""
    kind = TYPES.get(type_key)
    spec = next((s for s in kind.fields if s.name == field_name), None) if kind else None
    if kind is None or spec is None:
        raise MeasurementError({"type": N_("Choose a kind of measurement.")})
    chosen = kind.unit_for(unit) or kind.unit
    out: list[Decimal | None] = []
    errors: dict[str, str] = {}
    for name, text in (("low", low_text), ("high", high_text)):
        if text in (None, ""):
            out.append(None)
            continue
        number = parse_number(text)
        if number is None:
            errors[name] = N_("This is not a number.")
            out.append(None)
            continue
        stored = ((number + chosen.offset) * chosen.factor).quantize(Decimal(1).scaleb(-spec.bounds.places),
                                                                     rounding=ROUND_HALF_UP)
        if not spec.bounds.possible[0] <= stored <= spec.bounds.possible[1]:
            errors[name] = N_("This value is not possible.")
        out.append(stored)
    low, high = out
    if low is None and high is None and not errors:
        errors["low"] = N_("Fill in a lowest value, a highest value, or both.")
    if low is not None and high is not None and low >= high:
        errors["high"] = N_("The highest value must be more than the lowest value.")
    if errors:
        raise MeasurementError(errors)
    return low, high


def goal_to_fhir(type_key: str, field_name: str, low: Decimal | None, high: Decimal | None,
                 status: str = "in-progress") -> dict[str, Any]:
    kind = TYPES[type_key]
    spec = next(s for s in kind.fields if s.name == field_name)
    code = spec.loinc or kind.loinc
    display = spec.display or kind.display
    detail: dict[str, Any] = {}
    if low is not None:
        detail["low"] = _quantity(low, kind.unit)
    if high is not None:
        detail["high"] = _quantity(high, kind.unit)
    return {
        "resourceType": "Goal", "id": goal_id(type_key, field_name),
        "identifier": [{"system": OWN_DATA_SYSTEM, "value": goal_id(type_key, field_name)}],
        "status": status,
        "description": {"text": f"Streefwaarde: {display}"},
        "subject": dict(SELF_REFERENCE),
        "target": {"measure": {"coding": [_coding(LOINC, code, display)]}, "detailRange": detail},
    }


def goal_from_fhir(resource: dict[str, Any]) -> tuple[str, str, Decimal | None, Decimal | None] | None:
    """(type, field, low, high) of one of our target Goals; None otherwise."""
    for key, kind in TYPES.items():
        for spec in kind.fields:
            if resource.get("id") == goal_id(key, spec.name):
                detail = (resource.get("target") or {}).get("detailRange") or {}
                low = detail.get("low", {}).get("value")
                high = detail.get("high", {}).get("value")
                return (key, spec.name, Decimal(str(low)) if low is not None else None,
                        Decimal(str(high)) if high is not None else None)
    return None
