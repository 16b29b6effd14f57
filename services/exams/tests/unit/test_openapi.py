"""The OpenAPI document states what every route answers and which problems it may give."""

from exams.app import create_app
from exams.settings import ExamsSettings


def test_every_route_declares_its_answer() -> None:
    spec = create_app(ExamsSettings()).openapi()
    missing = []
    for path, methods in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in methods.items():
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
            if not (schema.get("$ref") or schema.get("items", {}).get("$ref")):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
    assert "exam-board cases are not part of this API yet" in spec["info"]["description"]
