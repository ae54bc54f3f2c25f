"""The category keys are the stable ones the issue names (API and UI use them)."""
from __future__ import annotations

from regie.record import Category
from regie.record.categories import CATEGORY_TITLES_NL

ISSUE_CATEGORIES = [
    "patient", "care_providers", "problems", "medication", "allergies", "results", "vital_signs", "journal",
    "encounters", "documents", "immunizations", "appointments", "procedures", "devices", "care_plans",
    "directives", "lifestyle", "questionnaires", "pregnancy_and_birth", "other",
]


def test_every_category_of_the_issue_exists_with_a_dutch_title() -> None:
    keys = [c.value for c in Category]
    assert set(ISSUE_CATEGORIES) <= set(keys)
    # Besides them only the patient's own diary (own data, a later issue); "other" stays last.
    assert set(keys) - set(ISSUE_CATEGORIES) == {"diary"} and keys[-1] == "other"
    assert set(CATEGORY_TITLES_NL) == set(Category) and all(CATEGORY_TITLES_NL.values())
