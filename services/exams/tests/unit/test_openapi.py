"""The OpenAPI document states what every route answers and which problems it may give."""

from exams.app import create_app
from exams.settings import ExamsSettings
from kit.testing.openapi import answers_without_schema, unbounded_integers


def test_every_route_declares_its_answer() -> None:
    spec = create_app(ExamsSettings()).openapi()
    assert answers_without_schema(spec) == [] and unbounded_integers(spec) == []
    description = spec["info"]["description"]
    assert "**Exam board**" in description and "**Audit trail**" in description
    assert "not part of this API yet" not in description
