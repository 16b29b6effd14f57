"""The assessment form of an attempt as a PDF (fpdf2): every part, criterion, score, justification, divergence
note and the trail of signatures; and who may download it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from exams.access import may_read, reader
from exams.assessment import models
from exams.assessment import repository as repo
from exams.assignments import repository as assignments
from exams.catalog import repository as catalog
from exams.common import Doc, forbidden, not_found
from exams.projections import repository as people
from exams.scheduling import repository as scheduling
from kit.auth import Principal, Role
from kit.errors import Text

SCORE_NAMES = {"pass": "voldaan", "fail": "onvoldoende"}
ROLE_NAMES = {"student": "student", "school_supervisor": "begeleider", "workplace_trainer": "praktijkopleider",
              "first": "eerste examinator", "second": "tweede examinator"}
# A Unicode font where the machine has one (Debian's fonts-dejavu-core), so names in any Latin, Greek or Cyrillic
# script print as written; without it the PDF's core font shows Latin-1 only and other characters become '?'.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
UNICODE_FONT = all((FONT_DIR / f).is_file() for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u00a0": " "})


def download_refusal(principal: Principal, school_id: str, student: Doc, parts: list[Doc],
                     adopted: bool) -> Text | None:
    """Why the caller may not download this attempt's form, or None: its assessors, the exam board, the school
    admin and the student's supervisors; the student only once the result is adopted."""
    roles = principal.roles_in(school_id)
    uid = principal.subject
    if Role.ASSESSOR in roles and any(uid in p.get("assessor_ids", []) for p in parts):
        return None
    if roles & {Role.EXAM_BOARD, Role.SCHOOL_ADMIN} and may_read(reader(principal, school_id), student):
        return None
    if Role.SCHOOL_SUPERVISOR in roles and uid in student.get("supervisor_ids", []):
        return None
    if Role.STUDENT in roles and student.get("user_id") == uid:
        if adopted:
            return None
        return Text("U kunt het beoordelingsformulier downloaden zodra de examencommissie de uitslag heeft "
                    "vastgesteld.", "You can download the assessment form once the exam board has adopted "
                    "the result.")
    return Text("U mag het beoordelingsformulier van deze poging niet downloaden.",
                "You may not download the assessment form of this attempt.")


async def for_attempt(db: Any, *, principal: Principal, school_id: str, attempt_id: str) -> tuple[bytes, str]:
    """The PDF of an attempt's assessment and its file name, for someone who may download it."""
    attempt = await scheduling.get_attempt(db, school_id, attempt_id)
    student = await people.get_student(db, school_id, attempt["student_id"]) if attempt else None
    if attempt is None or student is None:
        raise not_found("Deze poging", "attempt")
    parts = await scheduling.scheduled_parts(db, None, attempt_id=attempt_id)
    result = await repo.adopted_result(db, school_id=school_id, attempt_id=attempt_id)
    if reason := download_refusal(principal, school_id, student, parts, result is not None):
        raise forbidden(reason)
    assignment = await assignments.get(db, school_id, attempt["assignment_id"]) or {}
    exam = await catalog.version_by_id(db, assignment.get("exam_version_id", "")) or {"parts": [], "version": 0}
    assessments = {d["_id"]: d for d in await repo.of_attempt(db, attempt_id)}
    # Laying out the PDF (and parsing its font) is CPU work: off the event loop, so other requests go on.
    content = await asyncio.to_thread(partial(render, attempt=attempt, student=student, assignment=assignment,
                                              exam=exam, parts=parts, assessments=assessments, result=result))
    return content, f"beoordeling-{attempt_id}.pdf"


def _t(value: Any) -> str:
    """Text the font can show: as written with the Unicode font; else Latin-1, other characters '?'."""
    if isinstance(value, datetime):
        value = value.strftime("%d-%m-%Y %H:%M UTC")
    text = str(value if value is not None else "-").translate(_ASCII)
    return text if UNICODE_FONT else text.encode("latin-1", "replace").decode("latin-1")


class _Form(FPDF):
    family = "Helvetica"

    def use_unicode_font(self) -> None:
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.family = "DejaVu"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, size=8)
        self.cell(0, 8, f"Pagina {self.page_no()}/{{nb}}", align="C")


def _line(pdf: _Form, text: str, *, bold: bool = False, size: int = 10) -> None:
    pdf.set_font(pdf.family, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, _t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(*, attempt: Doc, student: Doc, assignment: Doc, exam: Doc, parts: list[Doc],
           assessments: dict[str, Doc], result: Doc | None) -> bytes:
    """The assessment form of an attempt as PDF bytes."""
    pdf = _Form(format="A4")
    if UNICODE_FONT:
        pdf.use_unicode_font()
    pdf.set_title(_t(f"Beoordelingsformulier {assignment.get('exam_name', '')}"))
    pdf.set_creator("MBO exam environment")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _line(pdf, "Beoordelingsformulier", bold=True, size=16)
    name = " ".join(p for p in (student.get("first_name"), student.get("last_name")) if p)
    _line(pdf, f"Student: {name} ({student.get('student_code', '-')})")
    _line(pdf, f"Examen: {assignment.get('exam_name', '-')} (versie {exam.get('version', '-')}), "
               f"poging {attempt.get('number', '-')}")
    _line(pdf, f"Opdracht: {assignment.get('title', '-')}")
    pdf.ln(2)
    exam_parts = {p["code"]: p for p in exam.get("parts", [])}
    for part in parts:
        _part(pdf, part, exam_parts.get(part["part_id"], {"criteria": []}), assessments.get(part["_id"]))
    _signatures(pdf, attempt, assignment, parts, assessments, result)
    return bytes(pdf.output())


def _part(pdf: _Form, part: Doc, spec: Doc, doc: Doc | None) -> None:
    _line(pdf, f"Onderdeel {part['part_id']}: {part['part_name']}", bold=True, size=13)
    _line(pdf, f"Gepland {part['starts_at']}; eerste examinator {part['first_assessor_id']}, tweede examinator "
               f"{part.get('second_assessor_id') or '-'}")
    by_role = models.forms_by_role(doc, part)
    first = by_role.get(models.FIRST, ("", {}))[1]
    second = by_role.get(models.SECOND, ("", {}))[1]
    final = (doc or {}).get("final")
    state = "definitief" if final else "nog niet definitief"
    _line(pdf, f"Status: {state}")
    for c in spec.get("criteria", []):
        code = c["code"]
        scores = [(f, ((form or {}).get("scores") or {}).get(code)) for f, form in
                  (("eerste", first), ("tweede", second))]
        shown = ", ".join(f"{who}: {SCORE_NAMES.get(s, s) if s else '-'}" for who, s in scores)
        final_score = (final or {}).get("scores", {}).get(code)
        _line(pdf, f"{code} ({c.get('work_process', '')}) - {c['text']}", bold=True, size=9)
        _line(pdf, f"Scores: {shown}" + (f"; definitief: {SCORE_NAMES.get(final_score, final_score)}"
                                           if final_score else ""), size=9)
        for who, form in (("eerste", first), ("tweede", second)):
            note = ((form or {}).get("justifications") or {}).get(code)
            if note:
                _line(pdf, f"Onderbouwing ({who}): {note}", size=9)
    for who, form in (("eerste", first), ("tweede", second)):
        if (form or {}).get("attachment_ids"):
            _line(pdf, f"Bijlagen ({who} examinator): {', '.join(form['attachment_ids'])}", size=9)
    if final:
        if final["divergences"]:
            listed = "; ".join(f"{d['criterion']} ({d['first']} / {d['second']})" for d in final["divergences"])
            _line(pdf, f"Verschillen tussen de examinatoren: {listed}", size=9)
            _line(pdf, f"Toelichting op de verschillen: {final.get('divergence_note') or '-'}", size=9)
        else:
            _line(pdf, "Geen verschillen van 2 punten of meer tussen de examinatoren.", size=9)
    pdf.ln(3)


def _signatures(pdf: _Form, attempt: Doc, assignment: Doc, parts: list[Doc], assessments: dict[str, Doc],
                result: Doc | None) -> None:
    _line(pdf, "Ondertekeningen", bold=True, size=13)
    for a in assignment.get("approvals", []):
        _line(pdf, f"Opdracht goedgekeurd door {a['user_id']} ({ROLE_NAMES.get(a['role'], a['role'])}) op "
                   f"{_t(a['at'])}; inhoud SHA-256 {a.get('content_hash', '')[:16]}...", size=9)
    if assignment.get("adopted_at"):
        who = assignment.get("adopted_by") or "bankopdracht, vooraf vastgesteld"
        _line(pdf, f"Opdracht vastgesteld door {who} (examencommissie) op {_t(assignment['adopted_at'])}", size=9)
    for part in parts:
        final = (assessments.get(part["_id"]) or {}).get("final")
        if final:
            role = ROLE_NAMES.get(final["finalized_role"], final["finalized_role"])
            _line(pdf, f"Onderdeel {part['part_id']} definitief gemaakt door {final['finalized_by']} ({role}) op "
                       f"{_t(final['finalized_at'])}", size=9)
    if attempt.get("assessed_at"):
        _line(pdf, f"Beoordeling van de poging afgerond op {_t(attempt['assessed_at'])}", size=9)
    if result is not None:
        _line(pdf, f"Uitslag vastgesteld door {result.get('adopted_by')} (examencommissie) op "
                   f"{_t(result.get('adopted_at'))}", size=9)
