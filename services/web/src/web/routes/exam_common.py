"""What the exam pages share: the words for states and roles, reference lists, dates and the API's refusals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from web.api import ApiError
from web.context import Ctx
from web.render import ZONE, env
from web.routes.common import items, say

EXAM_STATES = {
    "not_scheduled": ("Niet ingepland", "Not scheduled"),
    "partly_scheduled_not_started": ("Deels ingepland, niet begonnen", "Partly scheduled, not started"),
    "partly_scheduled_started": ("Deels ingepland, begonnen", "Partly scheduled, started"),
    "fully_scheduled_not_started": ("Volledig ingepland, niet begonnen", "Fully scheduled, not started"),
    "fully_scheduled_started": ("Volledig ingepland, begonnen", "Fully scheduled, started"),
    "passed": ("Behaald", "Passed"),
    "failed": ("Niet behaald", "Failed"),
}
ASSIGNMENT_STATES = {
    "preparing": ("In voorbereiding: wacht op goedkeuring", "Being prepared: awaiting approval"),
    "locked": ("Goedgekeurd: wacht op vaststelling", "Approved: awaiting adoption"),
    "adopted": ("Vastgesteld", "Adopted"),
    "deleted": ("Verwijderd", "Deleted"),
}
SIGNERS = {"student": ("Student", "Student"), "school_supervisor": ("Begeleider", "Supervisor"),
           "workplace_trainer": ("Praktijkopleider", "Workplace trainer")}
PEOPLE = {"school_supervisor": ("Begeleider", "Supervisor"), "first_assessor": ("Eerste examinator", "First assessor"),
          "second_assessor": ("Tweede examinator", "Second assessor"),
          "adopter": ("Vaststeller (examencommissie)", "Adopter (exam board)"),
          "workplace_trainer": ("Praktijkopleider", "Workplace trainer")}
SOURCES = {"provider": ("Vaststaande opdracht van de examenleverancier", "Fixed assignment from the exam provider"),
           "bank": ("Uit de opdrachtenbank van de school", "From the school's assignment bank"),
           "individual": ("Eigen (individuele) opdracht", "Individual assignment")}
PART_STATES = {"scheduled": ("Ingepland", "Scheduled"), "cancelled": ("Afgemeld", "Cancelled")}
PREPARERS = ("school_supervisor", "school_admin")
SCHEDULERS = ("school_supervisor", "school_admin", "assessor")
# English reasons the exams API gives at a field, in Dutch; any other reason falls back to the problem's detail.
DUTCH = {
    "required unless the bank assignment is already adopted": "verplicht, tenzij de bankopdracht al is vastgesteld",
    "an individual assignment needs a title and text": "een eigen opdracht heeft een titel en een tekst nodig",
    "not an assignment of this exam": "dit is geen opdracht van dit examen",
    "not a bank assignment of this exam": "dit is geen bankopdracht van dit examen",
    "name students or a group with students": "kies studenten of een groep met studenten",
    "not linked to the student": "is niet aan de student gekoppeld",
    "is not an assessor in this school": "is geen examinator in deze school",
    "is not an exam board member in this school": "is geen lid van de examencommissie in deze school",
    "is not a workplace trainer in this school": "is geen praktijkopleider in deze school",
    "is not a supervisor in this school": "is geen begeleider in deze school",
    "A start time is required.": "Een begintijd is verplicht.",
    "The end is before the start.": "Het einde ligt voor het begin.",
    "The second assessor must be another person.": "De tweede examinator moet iemand anders zijn.",
    "There is no part above to copy from.": "Er is geen onderdeel erboven om te kopiëren.",
    "This exam has no such part.": "Dit examen heeft dit onderdeel niet.",
    "This part is listed twice.": "Dit onderdeel staat er twee keer in.",
    "does not exist in this school": "bestaat niet in deze school",
    "is not linked to you": "is niet aan jou gekoppeld",
    "is not enrolled in this exam's programme": "volgt de opleiding van dit examen niet",
    "this exam is unavailable for this student": "dit examen is voor deze student niet beschikbaar",
    "has no account to approve with yet": "heeft nog geen account om mee goed te keuren",
    "has no supervisor": "heeft geen begeleider",
    "already has an assignment for this exam (delete it first)":
        "heeft al een opdracht voor dit examen (verwijder die eerst)",
}


def tr(ctx: Ctx, pair: tuple[str, str] | None, fallback: str = "") -> str:
    """A (Dutch, English) pair in the page's language."""
    return say(ctx, *pair) if pair else fallback


def localized(ctx: Ctx, exc: ApiError) -> ApiError:
    """The refusal with its field reasons in the page's language (the problem's detail where no Dutch is known)."""
    if ctx.lang == "en":
        return exc
    errors = []
    for err in exc.errors:
        reason = str(err.get("reason") or "")
        dutch = DUTCH.get(reason) or (reason if err.get("code") else None)
        errors.append({**err, "reason": dutch or exc.detail or "Dit veld klopt niet."})
    return ApiError(exc.status, exc.title, exc.detail, errors, exc.body)


def is_stale(exc: ApiError) -> bool:
    """Someone else changed the thing since the page was loaded (If-Match refused)."""
    return exc.status == 412 or str(exc.body.get("type", "")).endswith("stale_version")


def stale_message(ctx: Ctx) -> str:
    """What a stale form says (the page offers to reload)."""
    return say(ctx, "Iemand anders heeft dit intussen gewijzigd, dus er is niets opgeslagen. Wat je typte staat "
                    "hieronder nog; laad de nieuwe versie om verder te gaan.",
               "Someone else changed this in the meantime, so nothing was saved. What you typed is still below; "
               "reload the new version to continue.")


def if_match(version: str | int) -> dict[str, str]:
    """The If-Match header for the version the page showed."""
    return {"If-Match": f'"{version}"'}


def local_input(value: Any) -> str:
    """An API moment as the value of a datetime-local input, in Dutch time."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def as_moment(value: str) -> str | None:
    """A datetime-local input (Dutch time) as an ISO moment with its offset; None when empty, the text if invalid."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text  # the API names the field and says why
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=ZONE)).isoformat()


async def staff(ctx: Ctx, role: str | None = None) -> list[dict[str, Any]]:
    """The school's staff (with one role) by name, for choosing people."""
    if not ctx.has("school_admin", "school_supervisor", "assessor", "exam_board"):
        return []
    return list(await ctx.reference("exams", f"/v1/schools/{ctx.school_id}/people", role=role))


async def school_exams(ctx: Ctx, programme_id: str | None = None) -> list[dict[str, Any]]:
    """The school's exams (current versions), optionally of one programme."""
    return list(await ctx.reference("exams", f"/v1/schools/{ctx.school_id}/exams", programme_id=programme_id))


async def groups(ctx: Ctx) -> list[dict[str, Any]]:
    """The school's active groups (staff only)."""
    if not ctx.has("school_admin", "school_supervisor", "assessor", "exam_board"):
        return []
    return items(await ctx.reference("enrollment", f"/v1/schools/{ctx.school_id}/groups", limit=500))


def person(names: dict[str, str], user_id: str | None, ctx: Ctx) -> str:
    """A person's name as the assignment knows it, else a neutral word (never an empty cell)."""
    if not user_id:
        return "—"
    return names.get(user_id) or say(ctx, "onbekende naam", "unknown name")


def choices(people: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """People as the (value, text) options of a select."""
    return [(p["user_id"], p.get("display_name") or p["user_id"]) for p in people]


def group_options(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Groups as options."""
    return [(g["id"], g["name"]) for g in found]


def provider_options(exam: dict[str, Any]) -> list[tuple[str, str]]:
    """An exam's fixed assignments as options."""
    return [(p["code"], f"{p['title']} ({p['code']})") for p in exam.get("provider_assignments", [])]


def bank_options(bank: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Bank assignments as options."""
    return [(b["id"], b["title"]) for b in bank]


env.globals.update(choices=choices, group_options=group_options, provider_options=provider_options,
                   bank_options=bank_options)
