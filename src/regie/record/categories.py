"""The stable category keys of the health record (used in storage, URLs and the UI)."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Where an item is shown. The values are stable storage keys: never rename them."""

    PATIENT = "patient"
    CARE_PROVIDERS = "care_providers"
    PROBLEMS = "problems"
    MEDICATION = "medication"
    ALLERGIES = "allergies"
    RESULTS = "results"
    VITAL_SIGNS = "vital_signs"
    JOURNAL = "journal"
    ENCOUNTERS = "encounters"
    DOCUMENTS = "documents"
    IMMUNIZATIONS = "immunizations"
    APPOINTMENTS = "appointments"
    PROCEDURES = "procedures"
    DEVICES = "devices"
    CARE_PLANS = "care_plans"
    DIRECTIVES = "directives"
    LIFESTYLE = "lifestyle"
    QUESTIONNAIRES = "questionnaires"
    PREGNANCY_AND_BIRTH = "pregnancy_and_birth"
    DIARY = "diary"
    OTHER = "other"


#: Dutch headings for the UI, one per category.
CATEGORY_TITLES_NL: dict[Category, str] = {
    Category.PATIENT: "Persoonsgegevens",
    Category.CARE_PROVIDERS: "Zorgverleners",
    Category.PROBLEMS: "Problemen en episodes",
    Category.MEDICATION: "Medicatie",
    Category.ALLERGIES: "Allergieën en intoleranties",
    Category.RESULTS: "Uitslagen",
    Category.VITAL_SIGNS: "Metingen",
    Category.JOURNAL: "Journaal",
    Category.ENCOUNTERS: "Contacten",
    Category.DOCUMENTS: "Documenten",
    Category.IMMUNIZATIONS: "Vaccinaties",
    Category.APPOINTMENTS: "Afspraken",
    Category.PROCEDURES: "Verrichtingen",
    Category.DEVICES: "Hulpmiddelen",
    Category.CARE_PLANS: "Behandelplannen en doelen",
    Category.DIRECTIVES: "Wilsverklaringen en waarschuwingen",
    Category.LIFESTYLE: "Leefstijl en situatie",
    Category.QUESTIONNAIRES: "Vragenlijsten",
    Category.PREGNANCY_AND_BIRTH: "Zwangerschap en geboorte",
    Category.DIARY: "Klachtendagboek",
    Category.OTHER: "Overig",
}
