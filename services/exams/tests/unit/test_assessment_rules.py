"""The assessment rules without a server: valid scores, justification needs, completeness, divergences, roles."""

from datetime import UTC, datetime, timedelta

import pytest

from exams.assessment import models, pdf
from exams.catalog.models import Criterion
from kit.auth import Principal, Role
from kit.errors import Problem

PF = Criterion(code="a", text="Werkt veilig", work_process="W1")
SCALE = Criterion(code="b", text="Plant de zorg", work_process="W1", scoring="scale_1_5")
ONLY_ONE = Criterion(code="c", text="Rapporteert", work_process="W1", scoring="scale_1_5",
                     justification_required_for=["1"])
CRITERIA = [PF, SCALE, ONLY_ONE]


@pytest.mark.parametrize("criterion,score,needed", [
    (PF, "fail", True), (PF, "pass", False), (SCALE, "1", True), (SCALE, "2", True), (SCALE, "3", False),
    (SCALE, "4", False), (SCALE, "5", True), (ONLY_ONE, "1", True), (ONLY_ONE, "5", False)])
def test_a_justification_is_needed_for_fail_and_the_listed_scores(criterion: Criterion, score: str,
                                                                  needed: bool) -> None:
    assert models.needs_justification(criterion, score) is needed


@pytest.mark.parametrize("scores,field", [
    ({"a": "3"}, "scores.a"), ({"b": "pass"}, "scores.b"), ({"b": "6"}, "scores.b"), ({"b": "0"}, "scores.b"),
    ({"zz": "pass"}, "scores.zz"), ({"a": "voldaan"}, "scores.a")])
def test_scores_of_the_wrong_kind_out_of_range_or_unknown_are_refused_naming_the_field(scores: dict[str, str],
                                                                                       field: str) -> None:
    with pytest.raises(Problem) as refused:
        models.check_form(CRITERIA, scores, {})
    assert refused.value.status == 422 and [e["field"] for e in refused.value.errors or []] == [field]


def test_a_justification_for_an_unknown_criterion_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        models.check_form(CRITERIA, {"a": "pass"}, {"nope": "x"})
    assert (refused.value.errors or [])[0]["field"] == "justifications.nope"


def test_a_partial_form_is_valid_as_a_draft_but_incomplete() -> None:
    models.check_form(CRITERIA, {"a": "pass"}, {})
    missing = models.incomplete(CRITERIA, {"scores": {"a": "pass", "b": "2"}, "justifications": {"b": "  "}})
    assert missing == [
        {"criterion": "b", "field": "justifications.b", "reason": "a justification is required for the score 2"},
        {"criterion": "c", "field": "scores.c", "reason": "not scored"}]
    complete = {"scores": {"a": "fail", "b": "3", "c": "5"}, "justifications": {"a": "Vergat handschoenen."}}
    assert models.incomplete(CRITERIA, complete) == []
    assert len(models.incomplete(CRITERIA, None)) == 3


@pytest.mark.parametrize("first,second,diverge", [
    ("1", "3", True), ("3", "1", True), ("5", "3", True), ("2", "3", False), ("4", "4", False), ("1", "5", True)])
def test_scale_scores_diverge_at_two_points_apart(first: str, second: str, diverge: bool) -> None:
    assert models.diverges(SCALE, first, second) is diverge


def test_pass_against_fail_diverges_and_only_criteria_both_scored_count() -> None:
    assert models.diverges(PF, "pass", "fail") and not models.diverges(PF, "fail", "fail")
    first = {"scores": {"a": "pass", "b": "4", "c": "1"}}
    second = {"scores": {"a": "fail", "b": "3"}}  # the second assessor need not score everything
    assert models.divergences(CRITERIA, first, second) == [{"criterion": "a", "first": "pass", "second": "fail"}]
    assert models.divergences(CRITERIA, first, None) == []


def test_finalizing_needs_a_complete_form_and_an_acknowledged_divergence() -> None:
    form = {"scores": {"a": "pass", "b": "4", "c": "3"}, "justifications": {}}
    found = [{"criterion": "a", "first": "pass", "second": "fail"}]
    assert [e["field"] for e in models.finalize_problems(CRITERIA, form, found, None)] == ["divergence_note"]
    assert [e["field"] for e in models.finalize_problems(CRITERIA, form, found, "   ")] == ["divergence_note"]
    assert models.finalize_problems(CRITERIA, form, found, "Besproken: de tweede zag de fout niet.") == []
    assert models.finalize_problems(CRITERIA, form, [], None) == []
    assert [e["field"] for e in models.finalize_problems(CRITERIA, {"scores": {"a": "fail"}}, [], None)] == [
        "justifications.a", "scores.b", "scores.c"]


def test_the_first_assessor_finalizes_the_second_only_when_the_schedule_allows_it() -> None:
    schedule = {"first_assessor_id": "u1", "second_assessor_id": "u2", "second_assessor_may_submit": False}
    assert models.role_on(schedule, "u1") == "first" and models.role_on(schedule, "u2") == "second"
    assert models.role_on(schedule, "u3") is None
    assert models.finalize_refusal(schedule, "first") is None
    assert models.finalize_refusal(schedule, "second") is not None
    assert models.finalize_refusal(schedule, None) is not None
    assert models.finalize_refusal({**schedule, "second_assessor_may_submit": True}, "second") is None


def test_writes_wait_for_the_start_never_for_a_past_end_and_stop_once_final() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    schedule = {"state": "scheduled", "starts_at": start, "ends_at": start + timedelta(hours=2)}
    attempt = {"state": "in_execution"}
    assert models.save_refusal(schedule, attempt, None, start - timedelta(seconds=1)) is not None
    assert models.save_refusal(schedule, attempt, None, start) is None
    assert models.save_refusal(schedule, attempt, None, start + timedelta(days=90)) is None  # past the end
    assert models.save_refusal(schedule, attempt, {"state": "final"}, start + timedelta(days=1)) is not None
    assert models.save_refusal({**schedule, "state": "cancelled"}, attempt, None, start) is not None
    assert models.save_refusal(schedule, {"state": "forfeited"}, None, start) is not None


def test_finalizing_the_last_part_also_finalizes_the_attempt() -> None:
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    final = models.final_record({"scores": {"a": "pass"}, "justifications": {}}, by="u1", role="first", at=at,
                                found=[], note=None)
    doc = {"_id": "sch_1", "attempt_id": "att_1", "school_id": "s", "student_id": "st", "exam_id": "e",
           "part_id": "p1", "final": final}
    assert [e.TYPE for e in models.finalized_events(doc, last=False)] == ["exams.part_assessment_finalized"]
    both = models.finalized_events(doc, last=True)
    assert [e.TYPE for e in both] == ["exams.part_assessment_finalized", "exams.assessment_finalized"]
    assert both[1].finalized_at == at and both[1].finalized_by == "u1"


def _principal(uid: str, *roles: Role) -> Principal:
    return Principal(subject=uid, kind="user", schools={"s": frozenset(roles)})


def test_who_may_download_the_pdf() -> None:
    student = {"_id": "st", "user_id": "u_st", "supervisor_ids": ["u_sup"]}
    parts = [{"assessor_ids": ["u_a1", "u_a2"]}]

    def refused(p: Principal, adopted: bool = False) -> bool:
        return pdf.download_refusal(p, "s", student, parts, adopted) is not None

    assert not refused(_principal("u_a2", Role.ASSESSOR))
    assert refused(_principal("u_other", Role.ASSESSOR))
    assert not refused(_principal("x", Role.EXAM_BOARD)) and not refused(_principal("y", Role.SCHOOL_ADMIN))
    assert not refused(_principal("u_sup", Role.SCHOOL_SUPERVISOR))
    assert refused(_principal("u_sup2", Role.SCHOOL_SUPERVISOR))
    assert refused(_principal("u_st", Role.STUDENT)) and not refused(_principal("u_st", Role.STUDENT), adopted=True)
    assert refused(_principal("u_st2", Role.STUDENT), adopted=True)
    assert refused(_principal("u_tr", Role.WORKPLACE_TRAINER), adopted=True)
    assert refused(Principal(subject="u_a1", kind="user", schools={"elsewhere": frozenset({Role.ASSESSOR})}))


def test_the_pdf_renders_any_name_and_lists_scores_and_signatures() -> None:
    import io

    from pypdf import PdfReader

    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    final = models.final_record({"scores": {"a": "fail"}, "justifications": {"a": "Geen handschoenen — gevaarlijk."}},
                                by="usr_1", role="first", at=at, found=[], note=None)
    content = pdf.render(
        attempt={"number": 2, "assessed_at": at}, student={"first_name": "Zoë", "last_name": "Łukasz 李",
                                                            "student_code": "100001"},
        assignment={"exam_name": "Proeve", "title": "Zorgplan", "approvals": [
            {"user_id": "usr_st", "role": "student", "at": at, "content_hash": "ab" * 32}], "adopted_at": at,
            "adopted_by": None},
        exam={"version": 1, "parts": [{"code": "p1", "criteria": [{"code": "a", "text": "Werkt veilig",
                                                                    "work_process": "W1"}]}]},
        parts=[{"_id": "sch_1", "part_id": "p1", "part_name": "Observatie", "starts_at": at,
                "first_assessor_id": "usr_1", "second_assessor_id": None}],
        assessments={"sch_1": {"forms": {"usr_1": {"role": "first", **final}}, "final": final}}, result=None)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    assert ("Zoë Łukasz" if pdf.UNICODE_FONT else "Zoë ?ukasz") in text and "poging 2" in text
    assert "eerste: onvoldoende" in text and "Geen handschoenen - gevaarlijk." in text
    assert "Opdracht goedgekeurd door usr_st (student)" in text and "bankopdracht, vooraf vastgesteld" in text
    assert "Onderdeel p1 definitief gemaakt door usr_1 (eerste examinator)" in text
    assert "Uitslag vastgesteld" not in text


def test_a_replaced_assessors_form_is_kept_but_no_longer_counts() -> None:
    doc = {"forms": {"u_old": {"role": "first", "scores": {"a": "fail"}},
                     "u_new": {"role": "second", "scores": {"a": "pass"}}}}
    # the school admin made the former second assessor the first, and someone else second
    schedule = {"first_assessor_id": "u_new", "second_assessor_id": "u_other"}
    assert models.forms_by_role(doc, schedule) == {"first": ("u_new", {"role": "first", "scores": {"a": "pass"}})}
