"""Required code bindings of the status-like elements Regie displays.

fhir.resources (and the msgspec structs) check formats but not terminology. These are
the few required bindings whose values we show or act on; checking them is a set lookup.
Values are from the FHIR STU3 (3.0.2) and R4 (4.0.1) specifications.
"""

from __future__ import annotations

from typing import Any

from .version import FhirVersion

_COMMON: dict[tuple[str, str], frozenset[str]] = {
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Observation", "status"): frozenset({
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown"}),
    ("EpisodeOfCare", "status"): frozenset({
        "planned", "waitlist", "active", "onhold", "finished", "cancelled",
        "entered-in-error"}),
    ("Flag", "status"): frozenset({"active", "inactive", "entered-in-error"}),
    ("DocumentReference", "status"): frozenset({"current", "superseded", "entered-in-error"}),
    ("Encounter", "status"): frozenset({
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown"}),
    ("MedicationRequest", "status"): frozenset({
        "active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft",
        "unknown"}),
    ("AllergyIntolerance", "criticality"): frozenset({"low", "high", "unable-to-assess"}),
    ("AllergyIntolerance", "type"): frozenset({"allergy", "intolerance"}),
}

_STU3: dict[tuple[str, str], frozenset[str]] = {
    ("Condition", "clinicalStatus"): frozenset({
        "active", "recurrence", "inactive", "remission", "resolved"}),
    ("Condition", "verificationStatus"): frozenset({
        "provisional", "differential", "confirmed", "refuted", "entered-in-error", "unknown"}),
    ("AllergyIntolerance", "clinicalStatus"): frozenset({"active", "inactive", "resolved"}),
    ("AllergyIntolerance", "verificationStatus"): frozenset({
        "unconfirmed", "confirmed", "refuted", "entered-in-error"}),
    ("MedicationRequest", "intent"): frozenset({"proposal", "plan", "order", "instance-order"}),
    ("MedicationStatement", "status"): frozenset({
        "active", "completed", "entered-in-error", "intended", "stopped", "on-hold"}),
    ("MedicationDispense", "status"): frozenset({
        "preparation", "in-progress", "on-hold", "completed", "entered-in-error", "stopped"}),
    ("MedicationAdministration", "status"): frozenset({
        "in-progress", "on-hold", "completed", "entered-in-error", "stopped", "unknown"}),
    ("Immunization", "status"): frozenset({"completed", "entered-in-error"}),
    ("Appointment", "status"): frozenset({
        "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
        "entered-in-error"}),
    ("Procedure", "status"): frozenset({
        "preparation", "in-progress", "suspended", "aborted", "completed", "entered-in-error",
        "unknown"}),
}

_R4: dict[tuple[str, str], frozenset[str]] = {
    ("MedicationRequest", "intent"): frozenset({
        "proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
        "instance-order", "option"}),
    ("MedicationStatement", "status"): frozenset({
        "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
        "not-taken"}),
    ("MedicationDispense", "status"): frozenset({
        "preparation", "in-progress", "cancelled", "on-hold", "completed", "entered-in-error",
        "stopped", "declined", "unknown"}),
    ("MedicationAdministration", "status"): frozenset({
        "in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped",
        "unknown"}),
    ("Immunization", "status"): frozenset({"completed", "entered-in-error", "not-done"}),
    ("Appointment", "status"): frozenset({
        "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
        "entered-in-error", "checked-in", "waitlist"}),
    ("Procedure", "status"): frozenset({
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown"}),
}

_TABLES = {
    FhirVersion.STU3: {**_COMMON, **_STU3},
    FhirVersion.R4: {**_COMMON, **_R4},
}
_BY_TYPE = {
    version: {rtype: [(el, allowed) for (rt, el), allowed in table.items() if rt == rtype]
              for rtype in {rt for rt, _ in table}}
    for version, table in _TABLES.items()
}
_NARRATIVE_STATUS = frozenset({"generated", "extensions", "additional", "empty"})


def check_bindings(resource: dict[str, Any], version: FhirVersion) -> tuple[str, str] | None:
    """Return (json path, reason) of the first code outside its required binding, or None."""
    text = resource.get("text")
    if isinstance(text, dict) and "status" in text and text["status"] not in _NARRATIVE_STATUS:
        return "$.text.status", f"narrative status {text['status']!r} is not a valid code"
    for element, allowed in _BY_TYPE[version].get(resource.get("resourceType", ""), ()):
        value = resource.get(element)
        if isinstance(value, str) and value not in allowed:
            return (f"$.{element}", f"{element} {value!r} is not one of "
                    f"{', '.join(sorted(allowed))}")
    for i, inner in enumerate(resource.get("contained", ()) or ()):
        found = check_bindings(inner, version)
        if found:
            return f"$.contained[{i}]{found[0][1:]}", found[1]
    return None
