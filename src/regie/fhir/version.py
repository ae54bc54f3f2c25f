"""FHIR versions Regie reads, and how to tell them apart."""

from __future__ import annotations

import re
from enum import StrEnum


class FhirVersion(StrEnum):
    """STU3 (3.0.x, zib2017 era) and R4 (4.0.1, zib2020 / nl-core era)."""

    STU3 = "STU3"
    R4 = "R4"


_FHIR_VERSION_PREFIX = {"3.0": FhirVersion.STU3, "4.0": FhirVersion.R4}


# 3.0, 3.0.2, 4.0.1, 4.0.1-ballot: the numbers a MedMij service or CapabilityStatement states.
_VERSION_NUMBER = re.compile(r"[34]\.0(\.[0-9]+)?(-[A-Za-z0-9.]+)?")


class UnknownFhirVersion(ValueError):
    """A caller passed a FHIR version Regie does not read (or not a version at all)."""


def parse_fhir_version(value: FhirVersion | str | None) -> FhirVersion | None:
    """The FHIR version a caller passed, in any of the documented forms.

    Accepted: ``None`` (detect), a :class:`FhirVersion`, its name in any case
    (``"R4"``, ``"stu3"``), or a version number as a MedMij service or a
    CapabilityStatement states it (``"4.0.1"``, ``"3.0.2"``). Anything else raises
    :class:`UnknownFhirVersion` saying what was given and what is accepted, before a
    single byte is read.
    """
    if value is None or isinstance(value, FhirVersion):
        return value
    if isinstance(value, str):
        text = value.strip()
        by_name = FhirVersion.__members__.get(text.upper())
        if by_name is not None:
            return by_name
        if _VERSION_NUMBER.fullmatch(text):
            return _FHIR_VERSION_PREFIX[text[:3]]
        shown = repr(value) if len(value) <= 40 else repr(value[:40]) + "..."
    else:
        shown = f"a value of type {type(value).__name__}"
    raise UnknownFhirVersion(
        f"unknown FHIR version {shown}: Regie reads STU3 (3.0.x) and R4 (4.0.x); "
        "pass STU3, R4, a version number such as 4.0.1, or nothing to detect it")

# Profile URL rules, checked in order. STU3 (zib2017) profiles live under fhir.nl
# (lower-case nl-core-*) or nictiz.nl with zib-/gp-/bc-/mp612-/... prefixes; the R4
# (zib2020) ones are nictiz.nl/nl-core-<CamelCase>, mp-*, imm-*, dwv-*, ...
_NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
_FHIRNL = "http://fhir.nl/fhir/StructureDefinition/"
_STU3_NICTIZ_PREFIXES = (
    "gp-", "bc-", "mp612-", "vl-", "eAfspraak-", "IHE.MHD", "images-",
)
_WEAK_STU3_PREFIXES = ("zib-", "vitalsign-")
_R4_NICTIZ_PREFIXES = ("mp-", "imm-", "dwv-")


def version_from_profile(url: str) -> tuple[FhirVersion, bool] | None:
    """The FHIR version a Dutch profile URL points to, and whether that is certain.

    ``(version, True)`` is a strong signal (fhir.nl nl-core, nictiz nl-core-CamelCase,
    mp-/imm-/dwv-, gp-/bc-/mp612-/vl-/eAfspraak-/images-/IHE.MHD). ``zib-*`` names exist
    in both zib2017 (STU3) and zib2020 (R4) packages, so they give ``(STU3, False)``: a
    weak hint that the structure must confirm. None means the URL says nothing.
    """
    if url.startswith(_FHIRNL):
        return FhirVersion.STU3, True  # STU3 nl-core profiles were published under fhir.nl
    if not url.startswith(_NICTIZ):
        return None
    name = url[len(_NICTIZ):]
    if name.startswith("nl-core-"):
        # R4: nl-core-Patient, nl-core-HealthcareProvider; STU3: all lower case
        rest = name[len("nl-core-"):]
        return (FhirVersion.R4 if rest[:1].isupper() else FhirVersion.STU3), True
    if name.startswith(_R4_NICTIZ_PREFIXES):
        return FhirVersion.R4, True
    if name.startswith(_STU3_NICTIZ_PREFIXES):
        return FhirVersion.STU3, True
    if name.startswith(_WEAK_STU3_PREFIXES):
        return FhirVersion.STU3, False
    return None


def version_from_fhir_version(text: str) -> FhirVersion | None:
    """Map a ``fhirVersion``/mime ``fhirVersion=`` value such as ``4.0.1``."""
    return _FHIR_VERSION_PREFIX.get(text.strip()[:3])
