"""The bank lists only attachments evidence stored for the entry: an edit may drop some, never name others."""

from __future__ import annotations

import pytest

from exams.assignments.bank import check_attachments, foreign_attachments
from kit.errors import Problem


def test_foreign_attachments_are_those_not_uploaded_for_the_entry() -> None:
    assert foreign_attachments(["f1", "f3"], ["f1", "f2"]) == ["f3"]
    assert foreign_attachments(["f2"], ["f1", "f2"]) == []
    assert foreign_attachments([], []) == []


def test_a_new_entry_has_no_attachments_yet_and_an_edit_only_keeps_uploaded_ones() -> None:
    with pytest.raises(Problem) as refused:
        check_attachments(["file_x"], [])
    assert refused.value.status == 422
    assert refused.value.errors[0]["field"] == "attachment_ids"
    check_attachments(["f1"], ["f1", "f2"])  # dropping f2 is fine
    with pytest.raises(Problem):
        check_attachments(["f1", "f9"], ["f1", "f2"])
