"""Import rules, free of I/O: the fields a column maps to, suggestions, the file's values and each row's check."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from contracts.values import normalise_email, refuse_line_breaks
from enrollment.models import GENDERS, RELATION_FIELDS, link_problem
from kit.numbers import whole_number

# --- Import: fields, suggestions, values ------------------------------------------------------------

@dataclass(frozen=True)
class ImportField:
    """A field a file column can be mapped to."""

    name: str
    label: str
    required: bool = False
    max_length: int = 200
    synonyms: tuple[str, ...] = ()


IMPORT_FIELDS: tuple[ImportField, ...] = (
    ImportField("student_code", "Studentnummer", True, 40,
                ("studentnummer", "student code", "studentcode", "student number", "leerlingnummer",
                 "deelnemernummer", "code", "student id", "studentid")),
    ImportField("first_name", "Voornaam", True, 100, ("voornaam", "roepnaam", "first name", "firstname",
                                                      "given name")),
    ImportField("last_name", "Achternaam", True, 150, ("achternaam", "last name", "lastname", "surname",
                                                       "family name", "naam")),
    ImportField("email", "E-mail", True, 254, ("e-mail", "email", "e-mailadres", "emailadres", "mail",
                                               "email address")),
    ImportField("gender", "Geslacht", False, 40, ("geslacht", "gender", "sex")),
    ImportField("date_of_birth", "Geboortedatum", False, 40, ("geboortedatum", "date of birth", "birth date",
                                                              "birthdate", "dob")),
    ImportField("programme", "Opleiding (crebo)", False, 400, ("opleiding", "crebo", "programme", "program",
                                                               "crebocode", "kwalificatie")),
    ImportField("start_year", "Cohort (startjaar student)", False, 10,
                ("cohort", "startjaar", "start year", "cohort student", "instroomjaar", "jaar van instroom",
                 "cohort startjaar")),
    ImportField("group", "Groep", False, 400, ("groep", "klas", "group", "class", "studentgroep")),
    ImportField("group_category", "Groepscategorie", False, 60,
                ("groepscategorie", "categorie", "category", "group category", "soort groep")),
    ImportField("school_supervisor", "Praktijkbegeleider (e-mail)", False, 254,
                ("praktijkbegeleider", "begeleider", "slb", "roc-begeleider", "supervisor", "school supervisor",
                 "praktijkbegeleider e-mail", "begeleider e-mail")),
    ImportField("assessor", "Examinator (e-mail)", False, 400,
                ("examinator", "beoordelaar", "assessor", "examinator e-mail")),
    ImportField("workplace_trainer", "Praktijkopleider (e-mail)", False, 254,
                ("praktijkopleider", "workplace trainer", "leermeester", "praktijkopleider e-mail")),
)
FIELDS_BY_NAME = {f.name: f for f in IMPORT_FIELDS}
PERSON_FIELDS = ("school_supervisor", "assessor", "workplace_trainer")
VALUE_FIELDS = ("gender", "programme", "group")
MULTI_FIELDS = ("programme", "group", "assessor")
GROUP_FIELDS = ("group", "group_category")


def _key(text: str) -> str:
    """A header reduced to lower-case letters and digits, for matching synonyms."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", folded)


_SYNONYMS = {_key(s): f.name for f in IMPORT_FIELDS for s in (f.name, f.label, *f.synonyms)}


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """Column index (as text) -> field, guessed from the headers; each field at most once."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        name = _SYNONYMS.get(_key(header))
        if name and name not in taken:
            mapping[str(index)] = name
            taken.add(name)
    return mapping


def mapping_errors(mapping: dict[str, str], column_count: int) -> list[tuple[str, str]]:
    """(field, reason) for a column mapping that cannot be used."""
    errors: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for column, name in mapping.items():
        if (index := whole_number(column)) is None or index >= column_count:
            errors.append((f"columns.{column}", "unknown column"))
        elif name not in FIELDS_BY_NAME:
            errors.append((f"columns.{column}", f"unknown field {name!r}"))
        elif name in seen:
            errors.append((f"columns.{column}", f"field {name!r} is already mapped to column {seen[name]}"))
        else:
            seen[name] = column
    for f in IMPORT_FIELDS:
        if f.required and f.name not in seen:
            errors.append(("columns", f"required field {f.name!r} is not mapped"))
    return errors


_GENDER_WORDS = {
    "male": ("m", "man", "male", "jongen", "mannelijk", "heer", "dhr"),
    "female": ("v", "f", "vrouw", "female", "meisje", "vrouwelijk", "mevrouw", "mevr", "w"),
    "other": ("x", "o", "anders", "other", "divers", "onbekend", "nonbinair", "nonbinary"),
}
_GENDER_SUGGEST = {_key(w): g for g, words in _GENDER_WORDS.items() for w in words}


def suggest_gender(value: str) -> str | None:
    """The canonical gender a file's own value most likely means."""
    return _GENDER_SUGGEST.get(_key(value))


def split_multi(value: str) -> list[str]:
    """The values of a cell that may hold several (separated by ; , or |)."""
    return [part.strip() for part in re.split(r"[;,|]", value) if part.strip()]


_MONTHS = {m: i + 1 for i, m in enumerate(
    ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
     "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS.update({"mrt": 3, "okt": 10})


def parse_date(value: str) -> date | None:
    """A date in the usual Dutch notations (31-12-2005, 31/12/05, 31.12.2005, 31 december 2005) or ISO."""
    text = value.strip().lower()
    if not text:
        return None
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]00:00(?::00)?)?", text)
    if iso:
        y, m, d = (int(g) for g in iso.groups())
        return _date(y, m, d)
    dmy = re.fullmatch(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})", text)
    if dmy:
        d, m, y = (int(g) for g in dmy.groups())
        return _date(_century(y) if len(dmy.group(3)) == 2 else y, m, d)
    words = re.fullmatch(r"(\d{1,2})[ -]([a-z]+)\.?[ -](\d{4})", text)
    if words and words.group(2) in _MONTHS:
        return _date(int(words.group(3)), _MONTHS[words.group(2)], int(words.group(1)))
    raise ValueError("not a date")


def _century(two_digits: int) -> int:
    # Birth dates and start dates: a two-digit year in the future is from the last century.
    this_year = datetime.now().year % 100
    return 2000 + two_digits if two_digits <= this_year else 1900 + two_digits


def _date(y: int, m: int, d: int) -> date:
    return date(y, m, d)


# --- Import: checking a row -------------------------------------------------------------------------

REASONS: dict[str, tuple[str, str]] = {
    "required": ("Dit veld is verplicht", "This field is required"),
    "too_long": ("Deze waarde is te lang", "This value is too long"),
    "invalid_email": ("Dit is geen geldig e-mailadres", "This is not a valid e-mail address"),
    "invalid_date": ("Dit is geen geldige datum", "This is not a valid date"),
    "invalid_year": ("Dit is geen geldig jaartal (2000-2100)", "This is not a valid year (2000-2100)"),
    "control_character": ("Deze waarde bevat een onzichtbaar stuurteken of een regeleinde",
                          "This value contains an invisible control character or a line break"),
    "unmapped_value": ("Voor deze waarde is geen vertaling gekozen", "No mapping was chosen for this value"),
    "programme_not_enabled": ("Deze opleiding is niet ingeschakeld voor de school",
                              "This programme is not enabled for the school"),
    "unknown_person": ("Er is geen gebruiker met dit e-mailadres", "There is no user with this e-mail address"),
    "not_supervisor": ("Deze gebruiker is geen praktijkbegeleider van de school",
                       "This user is not a school supervisor of the school"),
    "not_assessor": ("Deze gebruiker is geen examinator van de school", "This user is not an assessor of the school"),
    "duplicate_code": ("Dit studentnummer staat al eerder in het bestand",
                       "This student code appears earlier in the file"),
    "email_taken": ("Dit e-mailadres hoort bij een andere student", "This e-mail address belongs to another student"),
}


def reason(field_name: str, code: str, **extra: Any) -> dict[str, Any]:
    """One reason a row cannot be imported."""
    return {"field": field_name, "code": code, **extra}


def render_reason(item: dict[str, Any], english: bool) -> dict[str, Any]:
    """A reason with its human text in the caller's language."""
    nl, en = REASONS.get(item["code"], (item["code"], item["code"]))
    return {**item, "reason": en if english else nl}


@dataclass
class ImportContext:
    """What the row checks need to know about the school, loaded once per step."""

    school_id: str
    users_by_email: dict[str, str] = field(default_factory=dict)
    roles_by_user: dict[str, set[str]] = field(default_factory=dict)
    enabled_programmes: set[str] = field(default_factory=set)
    first_row_of_code: dict[str, int] = field(default_factory=dict)
    student_of_email: dict[str, str] = field(default_factory=dict)  # e-mail -> student code in this school
    student_ids: dict[str, str] = field(default_factory=dict)  # student code -> id, of the school's students


@dataclass
class CheckedRow:
    """A row turned into student values, or the reasons it cannot be imported."""

    row: int
    values: dict[str, Any]
    links: dict[str, list[str]]
    programme_ids: list[str]
    group_values: list[str]
    group_category: str | None
    reasons: list[dict[str, Any]]


def check_row(
    row: int,
    cells: list[str],
    mapping: dict[str, str],
    value_maps: dict[str, dict[str, str]],
    ctx: ImportContext,
) -> CheckedRow:
    """Check one file row against the mapping, the value maps and what the school knows."""
    raw = {name: (cells[int(col)].strip() if int(col) < len(cells) else "") for col, name in mapping.items()}
    reasons: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    for f in IMPORT_FIELDS:
        text = raw.get(f.name, "")
        if f.required and not text:
            reasons.append(reason(f.name, "required"))
        elif len(text) > f.max_length:
            reasons.append(reason(f.name, "too_long"))
        elif text and not _one_line(text):
            reasons.append(reason(f.name, "control_character"))
            raw[f.name] = ""  # nothing of a refused value is used below
    code = raw.get("student_code", "")
    values["student_code"] = code
    values["first_name"] = raw.get("first_name", "")
    values["last_name"] = raw.get("last_name", "")
    email = raw.get("email", "")
    if email:
        normal = _email(email)
        if normal is None:
            reasons.append(reason("email", "invalid_email"))
        elif ctx.student_of_email.get(normal, code) != code:
            reasons.append(reason("email", "email_taken"))
        email = normal or email
    values["email"] = email
    first = ctx.first_row_of_code.get(code)
    if code and first is not None and first != row:
        reasons.append(reason("student_code", "duplicate_code", first_row=first))
    gender_text = raw.get("gender", "")
    if gender_text:
        gender = value_maps.get("gender", {}).get(gender_text)
        if gender not in GENDERS:
            reasons.append(reason("gender", "unmapped_value", value=gender_text))
        values["gender"] = gender
    if raw.get("date_of_birth"):
        try:
            born = parse_date(raw["date_of_birth"])
            values["date_of_birth"] = born.isoformat() if born else None
        except ValueError:
            reasons.append(reason("date_of_birth", "invalid_date", value=raw["date_of_birth"]))
    if raw.get("start_year"):
        year = parse_year(raw["start_year"])
        if year is None:
            reasons.append(reason("start_year", "invalid_year", value=raw["start_year"]))
        values["start_year"] = year
    programme_ids: list[str] = []
    for text in split_multi(raw.get("programme", "")):
        pid = value_maps.get("programme", {}).get(text)
        if not pid:
            reasons.append(reason("programme", "unmapped_value", value=text))
        elif pid not in ctx.enabled_programmes:
            reasons.append(reason("programme", "programme_not_enabled", value=text))
        elif pid not in programme_ids:
            programme_ids.append(pid)
    links: dict[str, list[str]] = {}
    for relation in PERSON_FIELDS:
        texts = split_multi(raw.get(relation, "")) if relation in MULTI_FIELDS else (
            [raw[relation]] if raw.get(relation) else [])
        for text in texts:
            user_id = ctx.users_by_email.get(text.lower())
            problem = _person_problem(relation, user_id, ctx)
            if problem:
                reasons.append(reason(relation, problem, value=text))
            elif user_id is not None and user_id not in links.setdefault(relation, []):
                links[relation].append(user_id)
    return CheckedRow(row, values, links, programme_ids, split_multi(raw.get("group", "")),
                      raw.get("group_category") or None, reasons)


def _one_line(text: str) -> bool:
    # isprintable() is False for every control, format, surrogate and private-use character and for line
    # breaks, at C speed: the shared rule runs only for the rare rest (e.g. a no-break space, which it allows).
    if text.isprintable():
        return True
    try:
        refuse_line_breaks(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1 << 16)
def _email(text: str) -> str | None:
    """The normal form of an address, None when identity would refuse it (cached: preview, then commit)."""
    try:
        return normalise_email(text)
    except ValueError:
        return None


def parse_year(value: str) -> int | None:
    """A start year written as 2024 (or 2024.0 from a spreadsheet), or None when it is not one."""
    match = re.fullmatch(r"(\d{4})(?:\.0+)?", value.strip())
    year = int(match.group(1)) if match else 0
    return year if 2000 <= year <= 2100 else None


def _person_problem(relation: str, user_id: str | None, ctx: ImportContext) -> str | None:
    if user_id is None:
        return "unknown_person"
    return link_problem(relation, ctx.roles_by_user.get(user_id, set()))


# --- Import: what a valid row does to a student -----------------------------------------------------

UPDATABLE = ("first_name", "last_name", "email", "gender", "date_of_birth", "start_year")


@dataclass
class RowChange:
    """What applying a row changed: the published fields, new links and new group memberships."""

    core: bool
    linked: list[tuple[str, str]]
    new_groups: list[str]

    @property
    def any(self) -> bool:
        """Whether the student changed at all."""
        return self.core or bool(self.linked) or bool(self.new_groups)


def apply_row(doc: dict[str, Any], c: CheckedRow, group_ids: list[str]) -> RowChange:
    """Apply a valid row to an existing student document (in place); the preview runs it on a copy."""
    core = False
    for name in UPDATABLE:
        if c.values.get(name) not in (None, "") and doc.get(name) != c.values[name]:
            doc[name] = c.values[name]
            core = True
    for pid in c.programme_ids:
        if pid not in doc["programme_ids"]:
            doc["programme_ids"].append(pid)
            core = True
    new_groups = [g for g in dict.fromkeys(group_ids) if g not in doc["group_ids"]]
    doc["group_ids"] += new_groups
    linked = []
    for relation, user_ids in c.links.items():
        ids = doc[RELATION_FIELDS[relation]]
        for uid in user_ids:
            if uid not in ids:
                ids.append(uid)
                linked.append((relation, uid))
    return RowChange(core, linked, new_groups)
