"""The exam pages' own rules without servers: refusals put at the right field in the page's language, moments in
Dutch time, the cancellation's consequence, and which exam pages each role gets."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from web.api import ApiError
from web.render import exam_menu
from web.routes.exam_common import as_moment, local_input, localized
from web.routes.exam_schedule import _moved, consequence


def ctx(lang: str = "nl", roles: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(lang=lang, has=lambda *wanted: bool(set(wanted) & set(roles)))


def test_refusals_at_a_field_are_dutch_on_a_dutch_page() -> None:
    refusal = ApiError(422, detail="adopter_id is geen lid van de examencommissie", errors=[
        {"field": "adopter_id", "reason": "required unless the bank assignment is already adopted"},
        {"field": "body.first_assessor_id", "reason": "Dit veld is verplicht", "code": "missing"},
        {"field": "school_supervisor_id", "reason": "something the pages have no Dutch for"}])
    fields = localized(ctx("nl"), refusal).field_errors()
    assert fields["adopter_id"] == "verplicht, tenzij de bankopdracht al is vastgesteld"
    assert fields["first_assessor_id"] == "Dit veld is verplicht"  # kit's validation reasons are Dutch already
    assert fields["school_supervisor_id"] == "adopter_id is geen lid van de examencommissie"  # the detail instead
    assert localized(ctx("en"), refusal).field_errors()["adopter_id"].startswith("required unless")


def test_a_part_refusal_names_the_row_of_the_page() -> None:
    refusal = ApiError(422, errors=[{"field": "parts.1.ends_at", "reason": "The end is before the start."}])
    # Rows 0 and 2 of the page were sent (row 1 not ticked): the API's second part is the page's row 2.
    assert _moved(refusal, [0, 2], "parts").field_errors()["parts_2_ends_at"] == "The end is before the start."
    whole = ApiError(422, errors=[{"field": "body.parts.0.starts_at", "reason": "A start time is required."}])
    assert "all_parts_starts_at" in _moved(whole, [], "all").field_errors()


def test_moments_are_typed_and_shown_in_dutch_time() -> None:
    assert as_moment("2026-06-01T09:30") == "2026-06-01T09:30:00+02:00"  # summer time
    assert as_moment("2026-12-01T09:30") == "2026-12-01T09:30:00+01:00"
    assert as_moment("  ") is None
    assert as_moment("gisteren") == "gisteren"  # sent on, so the API names the field
    assert local_input("2026-06-01T07:30:00Z") == "2026-06-01T09:30"


def test_cancelling_after_the_deregistration_deadline_loses_the_attempt() -> None:
    part = {"starts_at": "2026-06-15T09:00:00+00:00"}
    late, deadline = consequence(part, {"deregistration_days": 14}, datetime(2026, 6, 2, tzinfo=UTC))
    assert late and deadline == datetime(2026, 6, 1, 9, tzinfo=UTC)
    in_time, _ = consequence(part, {"deregistration_days": 14}, datetime(2026, 5, 31, tzinfo=UTC))
    assert not in_time
    assert consequence(part, {}, datetime(2026, 6, 1, 10, tzinfo=UTC))[0]  # DOMAIN.md's default: 14 days


def test_each_role_gets_its_exam_pages() -> None:
    def paths(*roles: str) -> list[str]:
        return [href for href, _, _ in exam_menu(ctx(roles=roles))]

    assert paths("student") == ["/my-exams", "/my-results", "/cases"]
    assert paths("workplace_trainer") == ["/assignments"]
    assert paths("school_supervisor") == ["/assignments", "/overview"]
    assert paths("assessor") == ["/assignments", "/overview", "/dashboard"]
    assert paths("exam_board") == ["/assignments", "/overview", "/results", "/cases", "/audit"]
    assert paths("school_admin")[-1] == "/audit"


def test_an_overview_cell_says_its_state_and_attempt_in_words_and_opens_the_students_exam() -> None:
    from web.routes.exam_views import _matrix

    data = {"rows": [{"student_id": "stu_1", "student_code": "100001", "first_name": "Jan", "last_name": "de Vries",
                      "cells": [
                          {"exam_id": "e1", "state": "partly_scheduled_started", "attempt_number": 2,
                           "assignment_id": "asg_1", "assignment_state": "adopted"},
                          {"exam_id": "e2", "state": "not_scheduled", "attempt_number": None,
                           "assignment_id": "asg_2", "assignment_state": "locked"},
                          {"exam_id": "e3", "state": "not_scheduled", "attempt_number": None,
                           "assignment_id": None, "assignment_state": None}]}]}
    [row] = _matrix(ctx("nl", ("school_supervisor",)), data)
    first, second, third = row["cells"]
    assert (first["text"], first["attempt"], first["href"]) == ("Deels ingepland, begonnen", " · poging 2",
                                                                "/assignments/asg_1")
    assert second["sub"] == "wacht op vaststelling"
    assert third["href"] == "/assignments/new?exam_id=e3&student_ids=stu_1"  # a supervisor prepares from here
    [board_row] = _matrix(ctx("en", ("exam_board",)), data)
    assert board_row["cells"][2]["href"] is None and board_row["cells"][0]["attempt"] == " · attempt 2"
