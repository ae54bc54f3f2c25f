"""Dutch fallback titles and sub-kinds per resource type / profile."""

from __future__ import annotations

TYPE_TITLE_NL: dict[str, str] = {
    "Patient": "Patiënt", "Practitioner": "Zorgverlener", "PractitionerRole": "Zorgverlenersrol",
    "Organization": "Zorgaanbieder", "RelatedPerson": "Contactpersoon", "Location": "Locatie",
    "Condition": "Probleem", "EpisodeOfCare": "Episode", "MedicationRequest": "Medicatieafspraak",
    "MedicationDispense": "Verstrekking", "MedicationStatement": "Medicatiegebruik",
    "MedicationAdministration": "Toediening", "Medication": "Geneesmiddel",
    "AllergyIntolerance": "Allergie of intolerantie", "Observation": "Observatie",
    "DiagnosticReport": "Uitslagrapport", "Specimen": "Monster", "Encounter": "Contact",
    "DocumentReference": "Document", "DocumentManifest": "Documentenset", "Binary": "Bestand",
    "Media": "Afbeelding", "Immunization": "Vaccinatie",
    "ImmunizationRecommendation": "Vaccinatieadvies", "Appointment": "Afspraak",
    "Procedure": "Verrichting", "Device": "Hulpmiddel", "DeviceUseStatement": "Hulpmiddel",
    "CarePlan": "Behandelplan", "Goal": "Behandeldoel", "CareTeam": "Zorgteam",
    "ProcedureRequest": "Geplande verrichting", "ServiceRequest": "Geplande verrichting",
    "ReferralRequest": "Verwijzing", "DeviceRequest": "Hulpmiddelaanvraag",
    "NutritionOrder": "Voedingsadvies", "Consent": "Wilsverklaring", "Flag": "Alert",
    "Questionnaire": "Vragenlijst", "QuestionnaireResponse": "Ingevulde vragenlijst",
    "Task": "Taak", "Composition": "Verslag", "Coverage": "Verzekering",
    "Communication": "Bericht", "List": "Lijst", "BodySite": "Lichaamslocatie",
}

#: Profile name -> sub-kind (appended to the resource type in RecordItem.kind).
PROFILE_SUBKIND: dict[str, str] = {
    "zib-MedicationAgreement": "medication-agreement", "mp-MedicationAgreement": "medication-agreement",
    "zib-AdministrationAgreement": "administration-agreement",
    "mp-AdministrationAgreement": "administration-agreement",
    "mp612-DispenseToFHIRConversion-AdministrationAgreement": "administration-agreement",
    "zib-Dispense": "dispense", "mp-MedicationDispense": "dispense",
    "mp612-DispenseToFHIRConversion-Dispense": "dispense",
    "zib-DispenseRequest": "dispense-request", "mp-DispenseRequest": "dispense-request",
    "zib-MedicationUse": "medication-use", "mp-MedicationUse2": "medication-use",
    "mp-MedicationAdministration2": "administration",
    "mp-VariableDosingRegimen": "variable-dosing-regimen",
    "zib-BloodPressure": "blood-pressure", "nl-core-BloodPressure": "blood-pressure",
    "zib-BodyWeight": "body-weight", "nl-core-BodyWeight": "body-weight",
    "zib-BodyHeight": "body-height", "nl-core-BodyHeight": "body-height",
    "zib-HeartRate": "heart-rate", "nl-core-HeartRate": "heart-rate",
    "vitalsign-bloodglucose": "blood-glucose",
    "zib-LaboratoryTestResult-Observation": "laboratory", "nl-core-LaboratoryTestResult": "laboratory",
    "gp-EncounterReport": "encounter-report", "nl-core-episodeofcare": "gp-episode",
    "zib-Alert": "alert", "zib-TreatmentDirective": "treatment-directive",
    "zib-AdvanceDirective": "advance-directive",
}

SUBKIND_TITLE_NL: dict[str, str] = {
    "medication-agreement": "Medicatieafspraak", "administration-agreement": "Toedieningsafspraak",
    "dispense": "Verstrekking", "dispense-request": "Verstrekkingsverzoek",
    "medication-use": "Medicatiegebruik", "administration": "Medicatietoediening",
    "variable-dosing-regimen": "Wisselend doseerschema",
}

#: Sub-kinds whose Dutch name is a better title than an (often English) code display.
PREFERRED_SUBKIND_TITLE_NL: dict[str, str] = {
    "blood-pressure": "Bloeddruk", "body-weight": "Lichaamsgewicht",
    "body-height": "Lichaamslengte", "heart-rate": "Hartfrequentie",
    "blood-glucose": "Bloedglucose",
}

SOEP_TITLE_NL = {"S": "Subjectief", "O": "Objectief", "E": "Evaluatie", "P": "Plan"}
