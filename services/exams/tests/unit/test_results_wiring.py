"""The exams worker runs results in a consumer group of its own on exams' topic."""

from contracts.exams import AssessmentFinalizedV1
from exams.settings import ExamsSettings
from exams.worker import consumers


def test_results_has_its_own_group_on_the_exams_topic() -> None:
    specs = {spec.group: spec for spec in consumers(ExamsSettings())}
    assert list(specs["exams-results"].topics) == ["exams.events"]
    assert "exams.events" in specs["exams"].topics  # for what else reacts to exams' own events
    assert AssessmentFinalizedV1 in specs["exams-results"].build(None, None)  # type: ignore[arg-type]
    assert AssessmentFinalizedV1 not in specs["exams"].build(None, None)  # type: ignore[arg-type]
