"""Domain rules of enrollment's students, free of I/O: who edits, how they are found, link and sheet wording."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from kit.auth import Principal, Role

Relation = Literal["school_supervisor", "assessor", "workplace_trainer"]
RELATION_FIELDS: dict[str, str] = {
    "school_supervisor": "supervisor_ids",
    "assessor": "assessor_ids",
    "workplace_trainer": "trainer_ids",
}
GENDERS = ("male", "female", "other")
# Version of the derived search field: a stored student with another version is refreshed at startup.
SEARCH_VERSION = 2


def may_edit(principal: Principal, student: dict[str, Any]) -> bool:
    """School admins edit every student; supervisors their linked, current students."""
    roles = principal.roles_in(student["school_id"])
    if Role.SCHOOL_ADMIN in roles:
        return True
    return (Role.SCHOOL_SUPERVISOR in roles and not student.get("archived")
            and principal.subject in student.get("supervisor_ids", []))


def fold(text: str) -> str:
    """Text as search compares it: without accents and case ("Çelik" -> "celik")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_terms(code: str, first_name: str, last_name: str) -> list[str]:
    """Folded terms a student is found by with a prefix search."""
    # Three terms only: every term is an index entry written per imported row.
    return sorted({t for t in (fold(code), fold(first_name), fold(last_name)) if t})


def link_problem(relation: str, roles_in_school: set[str]) -> str | None:
    """Why a known user cannot be linked in a relation (None when they can)."""
    if relation == "school_supervisor" and Role.SCHOOL_SUPERVISOR.value not in roles_in_school:
        return "not_supervisor"
    if relation == "assessor" and Role.ASSESSOR.value not in roles_in_school:
        return "not_assessor"
    return None  # a workplace trainer may be a user of any school


# --- the Excel export's wording, per sheet language ----------------------------------------------

EXPORT_HEADERS: dict[str, list[str]] = {
    "nl": ["Studentnummer", "Voornaam", "Achternaam", "E-mail", "Geslacht", "Geboortedatum",
           "Cohort (startjaar student)", "Opleidingen (crebo, naam, cohort kwalificatiedossier)", "Groepen",
           "Praktijkbegeleiders", "Examinatoren", "Praktijkopleiders", "Actief", "Gearchiveerd"],
    "en": ["Student code", "First name", "Last name", "E-mail", "Gender", "Date of birth",
           "Cohort (student's start year)", "Programmes (crebo, name, qualification-file cohort)", "Groups",
           "School supervisors", "Assessors", "Workplace trainers", "Active", "Archived"],
}
GENDER_LABELS: dict[str, dict[str, str]] = {
    "nl": {"male": "man", "female": "vrouw", "other": "anders"},
    "en": {"male": "male", "female": "female", "other": "other"},
}
YES_NO: dict[str, tuple[str, str]] = {"nl": ("ja", "nee"), "en": ("yes", "no")}
SHEET_NAMES = {"nl": "Studenten", "en": "Students"}


def programme_label(programme: dict[str, Any]) -> str:
    """A programme in the export: crebo, name and the cohort of its qualification file (same in both languages)."""
    return f"{programme['crebo']} {programme['name']} (cohort {programme['cohort']})"
