"""Domain rules of notifications: kinds, categories, subjects and titles per language, masking. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Language = "nl"
SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")

# Security e-mails always go; the other categories a person may switch off in their preferences.
SECURITY = "security"
OPTIONAL_CATEGORIES = ("assignments", "scheduling", "results", "exam_board", "messages")
Category = Literal["assignments", "scheduling", "results", "exam_board", "messages"]


@dataclass(frozen=True)
class Kind:
    """One kind of thing a person is told: its e-mail template, category and short texts."""

    name: str
    category: str
    subject: dict[str, str]
    title: dict[str, str]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("invitation", SECURITY,
         {"nl": "Je inlogcode voor {school_name}", "en": "Your login code for {school_name}"},
         {"nl": "Uitnodiging verstuurd", "en": "Invitation sent"}),
    Kind("password_reset", SECURITY,
         {"nl": "Kies een nieuw wachtwoord", "en": "Choose a new password"},
         {"nl": "Wachtwoord herstellen aangevraagd", "en": "Password reset requested"}),
    Kind("school_access", SECURITY,
         {"nl": "Je hebt nu ook toegang tot {school_name}", "en": "You now also have access to {school_name}"},
         {"nl": "Toegang tot {school_name}", "en": "Access to {school_name}"}),
    Kind("assignment_approval", "assignments",
         {"nl": "Examenopdracht wacht op je akkoord: {exam_name}",
          "en": "Exam assignment awaits your approval: {exam_name}"},
         {"nl": "Examenopdracht {exam_name} wacht op je akkoord",
          "en": "Exam assignment {exam_name} awaits your approval"}),
    Kind("assignment_adoption", "assignments",
         {"nl": "Examenopdracht wacht op vaststelling: {exam_name}",
          "en": "Exam assignment awaits adoption: {exam_name}"},
         {"nl": "Examenopdracht {exam_name} wacht op je vaststelling",
          "en": "Exam assignment {exam_name} awaits your adoption"}),
    Kind("part_scheduled", "scheduling",
         {"nl": "Ingepland: {exam_name} - {part_name} op {starts_at}",
          "en": "Scheduled: {exam_name} - {part_name} on {starts_at}"},
         {"nl": "{exam_name} - {part_name} is ingepland op {starts_at}",
          "en": "{exam_name} - {part_name} is scheduled on {starts_at}"}),
    Kind("part_rescheduled", "scheduling",
         {"nl": "Verzet: {exam_name} - {part_name} nu op {starts_at}",
          "en": "Rescheduled: {exam_name} - {part_name} now on {starts_at}"},
         {"nl": "{exam_name} - {part_name} is verzet naar {starts_at}",
          "en": "{exam_name} - {part_name} was rescheduled to {starts_at}"}),
    Kind("part_cancelled", "scheduling",
         {"nl": "Afgemeld: {exam_name} - {part_name} van {starts_at}",
          "en": "Cancelled: {exam_name} - {part_name} of {starts_at}"},
         {"nl": "{exam_name} - {part_name} van {starts_at} is afgemeld",
          "en": "{exam_name} - {part_name} of {starts_at} was cancelled"}),
    Kind("result_available", "results",
         {"nl": "Er is een resultaat beschikbaar: {exam_name}", "en": "A result is available: {exam_name}"},
         {"nl": "Er is een resultaat beschikbaar voor {exam_name}", "en": "A result is available for {exam_name}"}),
    Kind("result_adopted", "results",
         {"nl": "Je resultaat is vastgesteld: {exam_name}", "en": "Your result has been adopted: {exam_name}"},
         {"nl": "Je resultaat voor {exam_name} is vastgesteld", "en": "Your result for {exam_name} has been adopted"}),
    Kind("retake_opened", "results",
         {"nl": "Herkansing geopend: {exam_name} (examenkans {attempt_number})",
          "en": "Retake opened: {exam_name} (attempt {attempt_number})"},
         {"nl": "Herkansing van {exam_name} geopend: examenkans {attempt_number}",
          "en": "Retake of {exam_name} opened: attempt {attempt_number}"}),
    Kind("board_decision", "exam_board",
         {"nl": "De examencommissie heeft een besluit genomen", "en": "The exam board has made a decision"},
         {"nl": "De examencommissie heeft een besluit genomen", "en": "The exam board has made a decision"}),
    Kind("board_case_opened", "exam_board",
         {"nl": "Nieuwe zaak voor de examencommissie: {case_kind_name}",
          "en": "New case for the exam board: {case_kind_name}"},
         {"nl": "Nieuwe zaak ({case_kind_name}), besluit uiterlijk {deadline_at}",
          "en": "New case ({case_kind_name}), decide by {deadline_at}"}),
    Kind("board_case_received", "exam_board",
         {"nl": "De examencommissie behandelt je zaak: {case_kind_name}",
          "en": "The exam board is handling your case: {case_kind_name}"},
         {"nl": "De examencommissie beslist uiterlijk {deadline_at} over je zaak ({case_kind_name})",
          "en": "The exam board decides on your case ({case_kind_name}) by {deadline_at}"}),
    Kind("new_message", "messages",
         {"nl": "Nieuw bericht van {sender_name}", "en": "New message from {sender_name}"},
         {"nl": "Nieuw bericht van {sender_name}: {subject}", "en": "New message from {sender_name}: {subject}"}),
)}

CASE_KINDS = {
    "inspection": ("verzoek om inzage", "request for inspection"),
    "objection": ("bezwaar", "objection"),
    "exemption": ("vrijstelling", "exemption"),
    "accommodation": ("aangepaste examinering", "accommodation"),
    "extra_attempt": ("extra examenkans", "extra attempt"),
    "irregularity": ("onregelmatigheid", "irregularity"),
    "fraud": ("onregelmatigheid of fraude", "irregularity or fraud"),
}


def one_line(value: object, limit: int = 200) -> str:
    """A value safe for a header or a one-line title: no line breaks, bounded length."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_moment(moment: datetime, language: str) -> str:
    """A date and time as people at school read it (school time zone)."""
    local = moment.astimezone(SCHOOL_TZ)
    return local.strftime("%d-%m-%Y %H:%M") if language == "nl" else local.strftime("%Y-%m-%d %H:%M")


def short_text(texts: dict[str, str], language: str, params: dict[str, object]) -> str:
    """Fill a subject or title in the language, every parameter on one line."""
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    return one_line(template.format(**{k: one_line(v, 120) for k, v in params.items()}))


def display_params(params: dict[str, object], language: str) -> dict[str, object]:
    """Parameters as shown to a person: moments formatted for their language."""
    shown: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            shown[key] = format_moment(value, language)
        elif isinstance(value, str) and key.endswith("_at"):
            try:
                shown[key] = format_moment(datetime.fromisoformat(value), language)
            except ValueError:
                shown[key] = value
        else:
            shown[key] = value
    if "case_kind" in params:
        names = CASE_KINDS.get(str(params["case_kind"]))
        shown["case_kind_name"] = (names[0] if language == "nl" else names[1]) if names else params["case_kind"]
    return shown


def choose_language(preferred: str | None, account: str | None) -> Language:
    """The person's chosen language, else their account's, else Dutch."""
    for candidate in (preferred, account):
        if candidate == "en":
            return "en"
        if candidate == "nl":
            return "nl"
    return DEFAULT_LANGUAGE


def wants_email(kind: Kind, opted_out: list[str] | None) -> bool:
    """Security e-mails always go; others unless the person switched their category off."""
    return kind.category == SECURITY or kind.category not in (opted_out or [])


def mask_email(address: str) -> str:
    """An address minimised for the delivery log: first letter of the name and of the domain."""
    name, _, domain = address.partition("@")
    host, _, tld = domain.rpartition(".")
    if not name or not host:
        return "***"
    return f"{name[0]}***@{host[0]}***.{tld}"


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """Delay before retry number `attempt` (1-based): base, 2 x base, 4 x base ... capped."""
    return float(min(base_s * 2 ** (attempt - 1), max_s))


def is_permanent_smtp_code(code: int | None) -> bool:
    """RFC 5321: 5xx replies are permanent (retrying will not help); 4xx and no reply are transient."""
    return code is not None and 500 <= code < 600
