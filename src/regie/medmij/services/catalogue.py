"""The MedMij service catalogue as data: per Gegevensdienst its GNL id, display name,
Nictiz information standard, FHIR version, and every request a PGO makes for it.

This module is neutral: it imports nothing from the sandbox or the web app. Regie's
collector (``regie.collect``) sends exactly these requests and the sandbox FHIR server
answers them (``regie.sandbox.services`` re-exports this module).

Source: the requests the Nictiz MedMij qualification TestScripts expect of a PGO
("PHR-Client", "Retrieving-PHR", "Sending-PHR"), one query per distinct request, with
fixture-specific values replaced by templates:

* ``{today}``, ``{today-14m}``, ``{today-730d}``: dates relative to the day of the
  request (``m`` months, ``d`` days), rendered as ``YYYY-MM-DD``.
* ``{id}`` in a path: the id of the resource to read/update/delete.
* ``{identifier}`` / ``{code}`` as a parameter value: any token (``system|value``),
  chosen by the PGO (an identifier or medication code it already knows).

A query whose text starts with ``~`` in the table below is a *variant*: an optional
filter the qualification scripts try (a date window, an identifier, a code), not part
of a routine collect. ``Service.routine()`` gives the queries a collector sends to fetch
everything of a service.

GNL ids: 48, 49, 50, 51, 61 and 63 are the ids public PGO code uses today
(``confirmed=True``). The others were not found in a public source and are
**sandbox-assigned** (9xx, ``confirmed=False``): read real ids from the GNL/Catalogus.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

__all__ = [
    "Query", "Service", "SERVICES", "service", "by_standard", "resolve_dates",
]

Interaction = Literal["search", "read", "update", "delete", "transaction", "batch"]

_DATE_TOKEN = re.compile(r"\{today(?:([+-])(\d+)([dm]))?\}")


def _shift(today: date, sign: str, amount: int, unit: str) -> date:
    n = amount if sign == "+" else -amount
    if unit == "d":
        return date.fromordinal(today.toordinal() + n)
    months = today.year * 12 + (today.month - 1) + n
    year, month = divmod(months, 12)
    month += 1
    day = min(today.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def resolve_dates(text: str, today: date) -> str:
    """Replace every ``{today±N[dm]}`` in *text* by the ISO date it stands for."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return today.isoformat()
        return _shift(today, m.group(1), int(m.group(2)), m.group(3)).isoformat()

    return _DATE_TOKEN.sub(repl, text)


@dataclass(frozen=True, slots=True)
class Query:
    """One request of a PGO, e.g. ``GET Observation/$lastn?code=http://loinc.org|29463-7``.

    ``path`` is relative to the service's FHIR base (``""`` for POST on the base);
    ``params`` keeps order and repeats (``date=ge..&date=le..``), values unencoded.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    interaction: Interaction
    variant: bool = False

    @property
    def resource_type(self) -> str | None:
        return self.path.split("/", 1)[0] or None

    @property
    def text(self) -> str:
        if self.interaction in ("transaction", "batch"):
            return f"POST [base] ({self.interaction})"
        qs = "&".join(f"{k}={v}" for k, v in self.params)
        return f"{self.method} {self.path}" + (f"?{qs}" if qs else "")

    def url(self, today: date | None = None, **values: str) -> str:
        """The relative URL to send: dates resolved, ``{id}``-style templates filled
        from *values*; values are percent-encoded as a client must."""
        from urllib.parse import quote

        today = today or date.today()
        path = self.path
        for key, val in values.items():
            path = path.replace("{" + key + "}", quote(val, safe=""))
        parts = []
        for k, v in self.params:
            v = resolve_dates(v, today)
            for key, val in values.items():
                v = v.replace("{" + key + "}", val)
            parts.append(f"{quote(k, safe=':$-_.')}={quote(v, safe=':/|,$-_.')}")
        return path + ("?" + "&".join(parts) if parts else "")


def _parse(text: str) -> Query:
    variant = text.startswith("~ ")
    text = text.removeprefix("~ ")
    method, _, rest = text.partition(" ")
    if rest.startswith("[base]"):
        kind = rest[rest.index("(") + 1: rest.index(")")]
        return Query("POST", "", (), kind, variant)  # type: ignore[arg-type]
    path, _, qs = rest.partition("?")
    params = tuple(
        (k, v) for k, _, v in (kv.partition("=") for kv in qs.split("&") if kv)
    )
    if method == "GET":
        interaction: Interaction = "read" if "{id}" in path else "search"
    else:
        interaction = {"PUT": "update", "DELETE": "delete"}[method]  # type: ignore[assignment]
    return Query(method, path, params, interaction, variant)


def _queries(*texts: str) -> tuple[Query, ...]:
    return tuple(_parse(t) for t in texts)


@dataclass(frozen=True, slots=True)
class Service:
    """One Gegevensdienst. ``functions``: "collect" (verzamelen) and/or "share" (delen)."""

    id: str
    name: str
    standard: str  # Nictiz information standard / TestScript folder, e.g. "GenPractData-2-0"
    fhir_version: Literal["STU3", "R4"]
    confirmed: bool  # False: sandbox-assigned id, not from a public GNL
    functions: tuple[str, ...]
    queries: tuple[Query, ...] = field(default=())

    def routine(self) -> tuple[Query, ...]:
        """The GET searches/reads a collector sends to fetch this service (no variants)."""
        return tuple(q for q in self.queries if not q.variant and q.method == "GET")

    @property
    def receives(self) -> bool:
        """True when the provider accepts POSTed Bundles for this service."""
        return any(q.interaction in ("transaction", "batch") for q in self.queries)

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(q.resource_type for q in self.queries if q.resource_type)


SERVICES: tuple[Service, ...] = (
    Service(
        '48', 'Basisgegevensset Zorg (BgZ)', 'BgZ-3-0', 'STU3', confirmed=True, functions=('collect',),
        queries=_queries(
            'GET Patient?_include=Patient:general-practitioner',
            'GET Coverage?_include=Coverage:payor:Patient&_include=Coverage:payor:Organization',
            'GET Consent?category=http://snomed.info/sct|11291000146105',
            'GET Consent?category=http://snomed.info/sct|11341000146107',
            'GET Observation/$lastn?category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006',
            'GET Condition',
            'GET Observation/$lastn?code=http://snomed.info/sct|365508006',
            'GET Observation?code=http://snomed.info/sct|228366006',
            'GET Observation?code=http://snomed.info/sct|228273003',
            'GET Observation?code=http://snomed.info/sct|365980008',
            'GET NutritionOrder',
            'GET Flag',
            'GET AllergyIntolerance',
            'GET MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&_include=MedicationStatement:medication',
            'GET MedicationRequest?category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication',
            'GET MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication',
            'GET DeviceUseStatement?_include=DeviceUseStatement:device',
            'GET Immunization?status=completed',
            'GET Observation/$lastn?code=http://loinc.org|85354-9',
            'GET Observation/$lastn?code=http://loinc.org|29463-7',
            'GET Observation/$lastn?code=http://loinc.org|8302-2,http://loinc.org|8306-3,http://loinc.org|8308-9',
            'GET Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen',
            'GET Procedure?category=http://snomed.info/sct|387713003',
            'GET Encounter?class=http://hl7.org/fhir/v3/ActCode|IMP,http://hl7.org/fhir/v3/ActCode|ACUTE,http://hl7.org/fhir/v3/ActCode|NONAC',
            'GET ProcedureRequest?status=active',
            'GET ImmunizationRecommendation',
            'GET Appointment?status=booked,pending,proposed',
            'GET DeviceRequest?status=active&_include=DeviceRequest:device',
        ),
    ),
    Service(
        '49', 'Huisartsgegevens', 'GenPractData-2-0', 'STU3', confirmed=True, functions=('collect',),
        queries=_queries(
            'GET AllergyIntolerance?category=medication',
            'GET Composition?type=http://loinc.org|67781-5',
            'GET Encounter',
            'GET EpisodeOfCare',
            'GET Observation?code=https://referentiemodel.nhg.org/tabellen/nhg-tabel-45-diagnostische-bepalingen|&_include=Observation:related-target&_include=Observation:specimen&date=ge{today-14m}',
            'GET MedicationRequest?periodofuse=ge{today}&category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication',
            'GET Patient?_include=Patient:general-practitioner',
        ),
    ),
    Service(
        '50', 'Basisgegevens GGZ', 'GGZ-2-0', 'STU3', confirmed=True, functions=('collect',),
        queries=_queries(
            'GET Patient?_include=Patient:general-practitioner',
            'GET Coverage?_include=Coverage:payor:Patient&_include=Coverage:payor:Organization',
            'GET Consent?category=http://snomed.info/sct|11291000146105',
            'GET Consent?category=http://snomed.info/sct|11341000146107',
            'GET Observation?category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006',
            'GET Condition',
            'GET Observation?code=http://snomed.info/sct|228366006',
            'GET Observation?code=http://snomed.info/sct|228273003',
            'GET Observation?code=http://snomed.info/sct|365980008',
            'GET Observation/$lastn?code=http://snomed.info/sct|365508006',
            'GET Observation?code=http://snomed.info/sct|365470003',
            'GET Observation?code=http://snomed.info/sct|314845004',
            'GET CarePlan?category=http://snomed.info/sct|243114000',
            'GET Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen',
            'GET Observation?category=http://hl7.org/fhir/observation-category|survey',
            'GET Procedure',
            'GET DiagnosticReport',
            'GET CareTeam?_include=CareTeam:participant',
        ),
    ),
    Service(
        '51', 'Documenten (PDF/A)', 'PDFA-3-0', 'STU3', confirmed=True, functions=('collect', 'share'),
        queries=_queries(
            'GET DocumentReference?status=current',
            '~ GET DocumentReference?status=current&indexed=ge{today-730d}&indexed=le{today-365d}',
            'GET Binary/{id}',
            'GET DocumentManifest?status=current',
            'GET DocumentReference/{id}',
            'POST [base] (transaction)',
        ),
    ),
    Service(
        '61', 'Langdurige zorg (BgLZ)', 'BgLZ-3-0', 'STU3', confirmed=True, functions=('collect',),
        queries=_queries(
            'GET Patient?_include=Patient:general-practitioner',
            'GET Consent?category=http://snomed.info/sct|11291000146105',
            'GET Consent?category=http://snomed.info/sct|11341000146107',
            'GET Condition',
            'GET AllergyIntolerance',
            'GET Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen',
            'GET Procedure',
            'GET CarePlan?_include=CarePlan:activity-goal:Goal&_include=CarePlan:activity-outcomereference:Observation&_include=CarePlan:activity-medicaldevice:DeviceUseStatement&_include:recurse=DeviceUseStatement:device:Device',
            'GET CareTeam?_include=CareTeam:participant',
        ),
    ),
    Service(
        '63', 'Vaccinaties', 'Immunization-2-0', 'R4', confirmed=True, functions=('collect',),
        queries=_queries(
            'GET Immunization',
        ),
    ),
    Service(
        '901', 'Medicatiegegevens (MP 9.0.7)', 'Medication-9-0-7', 'STU3', confirmed=False, functions=('collect',),
        queries=_queries(
            'GET MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&identifier={identifier}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&medication.code={code}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&periodofuse=ge{today-180d}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&periodofuse=le{today}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&periodofuse=ge{today-180d}&periodofuse=le{today}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&medicationtreatment={identifier}&_include=MedicationDispense:medication',
            'GET MedicationRequest?category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&identifier={identifier}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&medication.code={code}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&periodofuse=ge{today-180d}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&periodofuse=le{today}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&periodofuse=ge{today-180d}&periodofuse=le{today}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|16076005&medicationtreatment={identifier}&_include=MedicationRequest:medication',
            'GET MedicationDispense?category=http://snomed.info/sct|373784005&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&identifier={identifier}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&medication.code={code}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=ge{today-180d}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=le{today}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=ge{today-180d}&whenhandedover=le{today}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&medicationtreatment={identifier}&_include=MedicationDispense:medication',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005,http://snomed.info/sct|422037009&_include=MedicationDispense:medication&_include=MedicationDispense:patient&_include=MedicationDispense:performer',
            'GET MedicationRequest?category=http://snomed.info/sct|52711000146108&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&identifier={identifier}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&medication.code={code}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&medicationtreatment={identifier}&_include=MedicationRequest:medication',
            'GET MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&_include=MedicationStatement:medication',
            '~ GET MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&identifier={identifier}&_include=MedicationStatement:medication',
            '~ GET MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&medication.code={code}&_include=MedicationStatement:medication',
            '~ GET MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&medicationtreatment={identifier}&_include=MedicationStatement:medication',
        ),
    ),
    Service(
        '902', 'Medicatiegegevens (MP9 3.0)', 'MP9-3-0-0-beta', 'R4', confirmed=False, functions=('collect',),
        queries=_queries(
            'GET MedicationRequest?category=http://snomed.info/sct|33633005&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&identifier={identifier}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&medication.code={code}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&period-of-use=ge{today-7d}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&period-of-use=lt{today-11d}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&period-of-use=ge{today-14d}&period-of-use=le{today-11d}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&pharmaceutical-treatment-identifier={identifier}&_include=MedicationRequest:medication&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|33633005&_include=MedicationRequest:medication&_include=MedicationRequest:subject&_include=MedicationRequest:reason&_include=MedicationRequest:next-practitioner&_include=MedicationRequest:requester&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            'GET MedicationRequest?category=http://snomed.info/sct|52711000146108&_include=MedicationRequest:medication&_include=MedicationRequest:requester&_include=MedicationRequest:dispense-location&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&identifier={identifier}&_include=MedicationRequest:medication&_include=MedicationRequest:requester&_include=MedicationRequest:dispense-location&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&medication.code={code}&_include=MedicationRequest:medication&_include=MedicationRequest:requester&_include=MedicationRequest:dispense-location&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&pharmaceutical-treatment-identifier={identifier}&_include=MedicationRequest:medication&_include=MedicationRequest:requester&_include=MedicationRequest:dispense-location&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationRequest?category=http://snomed.info/sct|52711000146108&_include=MedicationRequest:medication&_include=MedicationRequest:subject&_include=MedicationRequest:requester&_include=MedicationRequest:dispense-location&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            'GET MedicationRequest?category=http://snomed.info/sct|395067002&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&identifier={identifier}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&medication.code={code}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&period-of-use=ge{today-10d}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&period-of-use=lt{today-14d}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&period-of-use=ge{today-16d}&period-of-use=le{today-9d}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&pharmaceutical-treatment-identifier={identifier}&_include=MedicationRequest:medication',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&_include=MedicationRequest:medication&_include=MedicationRequest:subject',
            '~ GET MedicationRequest?category=http://snomed.info/sct|395067002&period-of-use=ge{today-14d}&period-of-use=le{today-11d}&_include=MedicationRequest:medication',
            'GET MedicationStatement?category=http://snomed.info/sct|422979000&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&identifier={identifier}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&medication.code={code}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&period-of-use=ge{today-6d}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&period-of-use=le{today-13d}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&period-of-use=ge{today-14d}&period-of-use=le{today-11d}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&pharmaceutical-treatment-identifier={identifier}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&_include=MedicationStatement:medication&_include=MedicationStatement:subject&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationStatement?category=http://snomed.info/sct|422979000&period-of-use=lt{today-13d}&_include=MedicationStatement:medication&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include=MedicationStatement:source&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            'GET MedicationDispense?category=http://snomed.info/sct|373784005&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&identifier={identifier}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&medication.code={code}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=ge{today-18d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=le{today-13d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&whenhandedover=ge{today-14d}&whenhandedover=le{today-11d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&pharmaceutical-treatment-identifier={identifier}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|373784005&_include=MedicationDispense:medication&_include=MedicationDispense:subject&_include=MedicationDispense:performer&_include=MedicationDispense:destination&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            'GET MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&identifier={identifier}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&medication.code={code}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&period-of-use=ge{today-1d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&period-of-use=lt{today-11d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&period-of-use=ge{today-14d}&period-of-use=le{today-11d}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&pharmaceutical-treatment-identifier={identifier}&_include=MedicationDispense:medication&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication&_include=MedicationDispense:subject&_include=MedicationDispense:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            'GET MedicationAdministration?category=http://snomed.info/sct|18629005&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&identifier={identifier}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&medication.code={code}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&effective-time=ge{today-18d}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&effective-time=le{today-21d}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&effective-time=ge{today-23d}&effective-time=le{today-11d}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&pharmaceutical-treatment-identifier={identifier}&_include=MedicationAdministration:medication&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
            '~ GET MedicationAdministration?category=http://snomed.info/sct|18629005&_include=MedicationAdministration:medication&_include=MedicationAdministration:subject&_include=MedicationAdministration:performer&_include:iterate=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:location',
        ),
    ),
    Service(
        '903', 'Laboratoriumresultaten', 'LaboratoryResults-2-0', 'STU3', confirmed=False, functions=('collect',),
        queries=_queries(
            'GET Observation?category=http://snomed.info/sct|49581000146104',
        ),
    ),
    Service(
        '904', 'Zelfmetingen', 'SelfMeasurements-2-0', 'STU3', confirmed=False, functions=('collect', 'share'),
        queries=_queries(
            'GET Observation?code=http://loinc.org|85354-9',
            'GET Observation/$lastn?code=http://loinc.org|29463-7',
            'GET Observation?code=http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2',
            'GET Observation?code=http://loinc.org|8867-4',
            '~ GET Observation?code=http://loinc.org|85354-9&date=ge{today-100d}&date=le{today-50d}',
            '~ GET Observation?code=http://loinc.org|85354-9,http://loinc.org|29463-7,http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2,http://loinc.org|8867-4&date=ge{today-30d}&date=le{today}',
            'GET Observation?category=vital-signs',
            'POST [base] (batch)',
        ),
    ),
    Service(
        '905', 'Afspraken (eAfspraak)', 'eAppointment-2-0', 'STU3', confirmed=False, functions=('collect',),
        queries=_queries(
            'GET Appointment?date=ge{today-150d}',
            '~ GET Appointment?date=ge{today-30d}&date=le{today}',
            '~ GET Appointment?date=ge{today-365d}&date=le{today}',
        ),
    ),
    Service(
        '906', 'Vragenlijsten', 'Questionnaires-2-0', 'STU3', confirmed=False, functions=('collect', 'share'),
        queries=_queries(
            'GET Task?code=http://loinc.org|74468-0&status=requested',
            'PUT Task/{id}',
            'GET Questionnaire/{id}',
            'POST [base] (transaction)',
            '~ DELETE Task/{id}',
            '~ DELETE QuestionnaireResponse/{id}',
        ),
    ),
    Service(
        '907', 'Allergieën en intoleranties', 'AllergyIntolerance-3-0', 'STU3', confirmed=False, functions=('collect',),
        queries=_queries(
            'GET AllergyIntolerance',
        ),
    ),
    Service(
        '908', 'Beelden delen', 'Images-2-0', 'STU3', confirmed=False, functions=('share',),
        queries=_queries(
            'POST [base] (transaction)',
        ),
    ),
    Service(
        '909', 'Dossierwijzigingsverzoek', 'PatientCorrections-1-0', 'R4', confirmed=False, functions=('share',),
        queries=_queries(
            'POST [base] (transaction)',
        ),
    ),)

_BY_ID = {s.id: s for s in SERVICES}
_BY_STANDARD = {s.standard: s for s in SERVICES}


def service(service_id: str) -> Service:
    """The catalogue entry for a GNL id; ``KeyError`` when unknown."""
    return _BY_ID[service_id]


def by_standard(standard: str) -> Service:
    """The catalogue entry for a Nictiz standard name such as ``"PDFA-3-0"``."""
    return _BY_STANDARD[standard]
