"""Category of a resource: profile name first, then resource type and codes."""

from __future__ import annotations

from typing import Any

from regie.record import Category

C = Category

# Profile name (last URL segment) -> category. Covers zib2017 (STU3), zib2020/nl-core
# (R4) and the MedMij information standards. Generic profiles (gp-DiagnosticResult,
# zib-GeneralMeasurement, nl-core-observation) are deliberately absent: their codes decide.
PROFILE_CATEGORY: dict[str, Category] = {
    # patient and administrative
    "nl-core-patient": C.PATIENT, "nl-core-Patient": C.PATIENT, "zib-Payer": C.PATIENT,
    "nl-core-Payer-Coverage": C.PATIENT,
    # care providers
    "nl-core-practitioner": C.CARE_PROVIDERS, "nl-core-practitionerrole": C.CARE_PROVIDERS,
    "nl-core-organization": C.CARE_PROVIDERS, "nl-core-relatedperson": C.CARE_PROVIDERS,
    "nl-core-location": C.CARE_PROVIDERS, "nl-core-HealthProfessional-Practitioner": C.CARE_PROVIDERS,
    "nl-core-HealthProfessional-PractitionerRole": C.CARE_PROVIDERS,
    "nl-core-HealthcareProvider": C.CARE_PROVIDERS,
    "nl-core-HealthcareProvider-Organization": C.CARE_PROVIDERS,
    "nl-core-ContactPerson": C.CARE_PROVIDERS,
    # problems
    "zib-Problem": C.PROBLEMS, "nl-core-Problem": C.PROBLEMS,
    "nl-core-episodeofcare": C.PROBLEMS, "nl-core-EpisodeOfCare": C.PROBLEMS,
    "zib-FunctionalOrMentalStatus": C.PROBLEMS, "nl-core-FunctionalOrMentalStatus": C.PROBLEMS,
    # medication
    "zib-MedicationAgreement": C.MEDICATION, "zib-AdministrationAgreement": C.MEDICATION,
    "zib-Dispense": C.MEDICATION, "zib-DispenseRequest": C.MEDICATION,
    "zib-MedicationUse": C.MEDICATION, "zib-Product": C.MEDICATION,
    "zib-PharmaceuticalProduct": C.MEDICATION,
    "mp612-DispenseToFHIRConversion-Dispense": C.MEDICATION,
    "mp612-DispenseToFHIRConversion-AdministrationAgreement": C.MEDICATION,
    "mp612-DispenseToFHIRConversion-Product": C.MEDICATION,
    "mp-MedicationAgreement": C.MEDICATION, "mp-AdministrationAgreement": C.MEDICATION,
    "mp-MedicationDispense": C.MEDICATION, "mp-DispenseRequest": C.MEDICATION,
    "mp-MedicationUse2": C.MEDICATION, "mp-MedicationAdministration2": C.MEDICATION,
    "mp-VariableDosingRegimen": C.MEDICATION, "mp-PharmaceuticalProduct": C.MEDICATION,
    "mp-InstructionsForUse": C.MEDICATION,
    # allergies
    "zib-AllergyIntolerance": C.ALLERGIES, "nl-core-AllergyIntolerance": C.ALLERGIES,
    # results
    "zib-LaboratoryTestResult-Observation": C.RESULTS,
    "zib-LaboratoryTestResult-DiagnosticReport": C.RESULTS,
    "zib-LaboratoryTestResult-Specimen": C.RESULTS,
    "nl-core-LaboratoryTestResult": C.RESULTS, "nl-core-LaboratoryTestResult-Specimen": C.RESULTS,
    "nl-core-LaboratoryTestResult-Source": C.RESULTS,
    "nl-core-TextResult": C.RESULTS, "zib-TextResult": C.RESULTS,
    # vital signs
    "zib-BloodPressure": C.VITAL_SIGNS, "zib-BodyWeight": C.VITAL_SIGNS,
    "zib-BodyHeight": C.VITAL_SIGNS, "zib-HeartRate": C.VITAL_SIGNS,
    "zib-BodyTemperature": C.VITAL_SIGNS, "zib-PulseRate": C.VITAL_SIGNS,
    "zib-O2Saturation": C.VITAL_SIGNS, "zib-Respiration": C.VITAL_SIGNS,
    "zib-HeadCircumference": C.VITAL_SIGNS, "zib-BodyMassIndex": C.VITAL_SIGNS,
    "vitalsign-bloodglucose": C.VITAL_SIGNS,
    "nl-core-BloodPressure": C.VITAL_SIGNS, "nl-core-BodyWeight": C.VITAL_SIGNS,
    "nl-core-BodyHeight": C.VITAL_SIGNS, "nl-core-HeartRate": C.VITAL_SIGNS,
    "nl-core-BodyTemperature": C.VITAL_SIGNS, "nl-core-PulseRate": C.VITAL_SIGNS,
    "nl-core-O2Saturation": C.VITAL_SIGNS, "nl-core-GlucoseMeasurement": C.VITAL_SIGNS,
    # journal
    "gp-JournalEntry": C.JOURNAL, "gp-EncounterReport": C.JOURNAL,
    # encounters
    "gp-Encounter": C.ENCOUNTERS, "zib-Encounter": C.ENCOUNTERS, "nl-core-Encounter": C.ENCOUNTERS,
    # documents
    "IHE.MHD.Minimal.DocumentReference": C.DOCUMENTS, "IHE.MHD.DocumentManifest": C.DOCUMENTS,
    "IHE.MHD.Comprehensive.DocumentReference": C.DOCUMENTS,
    "images-Media": C.DOCUMENTS, "images-List": C.DOCUMENTS,
    # immunizations
    "zib-Vaccination": C.IMMUNIZATIONS, "imm-Vaccination-event": C.IMMUNIZATIONS,
    "nl-core-Vaccination-event": C.IMMUNIZATIONS, "zib-VaccinationRecommendation": C.IMMUNIZATIONS,
    "imm-PharmaceuticalProduct": C.IMMUNIZATIONS,
    # appointments
    "eAfspraak-Appointment": C.APPOINTMENTS,
    # procedures
    "zib-Procedure": C.PROCEDURES, "nl-core-Procedure": C.PROCEDURES,
    "nl-core-Procedure-event": C.PROCEDURES,
    # devices
    "zib-MedicalDevice": C.DEVICES, "zib-MedicalDeviceProduct": C.DEVICES,
    "nl-core-MedicalDevice": C.DEVICES, "nl-core-MedicalDevice.Product": C.DEVICES,
    # care plans
    "zib-TreatmentObjective": C.CARE_PLANS, "zib-ProcedureRequest": C.CARE_PLANS,
    "zib-CareTeam": C.CARE_PLANS, "nl-core-TreatmentObjective": C.CARE_PLANS,
    "zib-NursingIntervention": C.CARE_PLANS, "nl-core-CareTeam": C.CARE_PLANS,
    # directives
    "zib-TreatmentDirective": C.DIRECTIVES, "zib-AdvanceDirective": C.DIRECTIVES,
    "zib-Alert": C.DIRECTIVES, "nl-core-TreatmentDirective2": C.DIRECTIVES,
    "nl-core-AdvanceDirective": C.DIRECTIVES, "nl-core-Alert": C.DIRECTIVES,
    # lifestyle
    "zib-LivingSituation": C.LIFESTYLE, "zib-AlcoholUse": C.LIFESTYLE,
    "zib-TobaccoUse": C.LIFESTYLE, "zib-DrugUse": C.LIFESTYLE, "zib-NutritionAdvice": C.LIFESTYLE,
    "zib-FamilySituation": C.LIFESTYLE, "zib-ParticipationInSociety": C.LIFESTYLE,
    "zib-FeedingPatternInfant": C.LIFESTYLE,
    "nl-core-LivingSituation": C.LIFESTYLE, "nl-core-AlcoholUse": C.LIFESTYLE,
    "nl-core-TobaccoUse": C.LIFESTYLE, "nl-core-DrugUse": C.LIFESTYLE,
    "nl-core-NutritionAdvice": C.LIFESTYLE,
    # questionnaires
    "vl-Questionnaire": C.QUESTIONNAIRES, "vl-QuestionnaireResponse": C.QUESTIONNAIRES,
    "vl-QuestionnaireProvisioningTask": C.QUESTIONNAIRES,
    # pregnancy and birth
    "zib-Pregnancy": C.PREGNANCY_AND_BIRTH, "zib-ApgarScore": C.PREGNANCY_AND_BIRTH,
    "nl-core-Pregnancy": C.PREGNANCY_AND_BIRTH,
}

_PREFIX_CATEGORY = (("bc-", C.PREGNANCY_AND_BIRTH), ("gebz-", C.PREGNANCY_AND_BIRTH))

TYPE_CATEGORY: dict[str, Category] = {
    "Patient": C.PATIENT, "Coverage": C.PATIENT,
    "Practitioner": C.CARE_PROVIDERS, "PractitionerRole": C.CARE_PROVIDERS,
    "Organization": C.CARE_PROVIDERS, "RelatedPerson": C.CARE_PROVIDERS,
    "Location": C.CARE_PROVIDERS, "HealthcareService": C.CARE_PROVIDERS,
    "Condition": C.PROBLEMS, "EpisodeOfCare": C.PROBLEMS,
    "MedicationRequest": C.MEDICATION, "MedicationDispense": C.MEDICATION,
    "MedicationStatement": C.MEDICATION, "MedicationAdministration": C.MEDICATION,
    "Medication": C.MEDICATION,
    "AllergyIntolerance": C.ALLERGIES,
    "DiagnosticReport": C.RESULTS, "Specimen": C.RESULTS, "ImagingStudy": C.RESULTS,
    "Encounter": C.ENCOUNTERS,
    "DocumentReference": C.DOCUMENTS, "DocumentManifest": C.DOCUMENTS, "Binary": C.DOCUMENTS,
    "Media": C.DOCUMENTS,
    "Immunization": C.IMMUNIZATIONS, "ImmunizationRecommendation": C.IMMUNIZATIONS,
    "Appointment": C.APPOINTMENTS,
    "Procedure": C.PROCEDURES,
    "Device": C.DEVICES, "DeviceUseStatement": C.DEVICES,
    "CarePlan": C.CARE_PLANS, "Goal": C.CARE_PLANS, "CareTeam": C.CARE_PLANS,
    "ProcedureRequest": C.CARE_PLANS, "ServiceRequest": C.CARE_PLANS,
    "ReferralRequest": C.CARE_PLANS, "DeviceRequest": C.CARE_PLANS,
    "NutritionOrder": C.LIFESTYLE,
    "Consent": C.DIRECTIVES, "Flag": C.DIRECTIVES,
    "Questionnaire": C.QUESTIONNAIRES, "QuestionnaireResponse": C.QUESTIONNAIRES,
}

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

#: LOINC and SNOMED codes of vital signs (incl. self-measurements).
VITAL_CODES: frozenset[tuple[str, str]] = frozenset(
    [(LOINC, c) for c in (
        "85354-9", "55284-4", "8480-6", "8462-4", "8478-0",   # blood pressure
        "29463-7", "3141-9", "3142-7",                       # body weight
        "8302-2", "8306-3", "8308-9",                        # body height / length
        "8867-4", "8893-0", "8889-8",                        # heart rate / pulse
        "8310-5", "8331-1", "8332-9", "8328-7",              # body temperature
        "2708-6", "59408-5", "20564-1",                      # oxygen saturation
        "9279-1", "39156-5", "8287-5", "9843-4", "8280-0",   # resp. rate, BMI, head, waist
        "14743-9", "15074-8", "41653-7",                     # glucose (self-)measurement
    )]
    + [(SNOMED, c) for c in (
        "75367002", "271649006", "271650006", "27113001", "363808001", "50373000",
        "364075005", "78564009", "386725007", "431314004", "86290005", "60621009",
        "434912009",
    )]
)

_JOURNAL_SYSTEM = "http://fhir.nl/fhir/NamingSystem/journaalregeltypen"
#: Regie's own code for symptom diary entries (regie.owndata.diary).
_DIARY_CODE = ("urn:regie:own-data", "symptom-diary")
_PREGNANCY_CODES = frozenset({(LOINC, "11449-6"), (LOINC, "11996-6"), (LOINC, "11977-6"),
                              (LOINC, "11636-8"), (SNOMED, "77386006")})


def category_of(res: dict[str, Any], profile_names: list[str]) -> Category:
    for name in profile_names:
        cat = PROFILE_CATEGORY.get(name)
        if cat is not None:
            return cat
        for prefix, pcat in _PREFIX_CATEGORY:
            if name.startswith(prefix):
                return pcat
    rtype = res["resourceType"]
    if rtype == "Observation":
        return _observation_category(res)
    if rtype == "Composition":
        return C.DOCUMENTS
    if rtype == "Task":
        return C.OTHER
    return TYPE_CATEGORY.get(rtype, C.OTHER)


def _observation_category(res: dict[str, Any]) -> Category:
    code = res.get("code") or {}
    pairs = {(c.get("system"), c.get("code")) for c in code.get("coding", ())}
    if any(s == _JOURNAL_SYSTEM for s, _ in pairs):
        return C.JOURNAL
    if _DIARY_CODE in pairs:
        return C.DIARY
    if pairs & VITAL_CODES:
        return C.VITAL_SIGNS
    if pairs & _PREGNANCY_CODES:
        return C.PREGNANCY_AND_BIRTH
    for cat in res.get("category", ()) or ():
        for c in cat.get("coding", ()):
            if c.get("code") == "vital-signs":
                return C.VITAL_SIGNS
            if c.get("code") in ("social-history",):
                return C.LIFESTYLE
    return C.RESULTS
