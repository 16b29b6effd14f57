"""Every service's OpenAPI fuzzed with schemathesis through the gateway, as the roles that may call each operation.

For each operation, valid and invalid requests are generated from its document (a bounded number of each,
the whole run bounded in time). A request goes out as the school admin first; when that role is refused
(401/403), as the next role that may call it (supervisor, assessor, exam board, trainer, student, operator).
Every answer must be no 5xx, a status the document lists, of the documented content type and matching the
documented schema. Failures are collected over all operations and reported together.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from kit.local.servers import SERVICES

pytestmark = pytest.mark.timeout(600, func_only=True)  # the suite starting is bounded on its own

EXAMPLES = 3  # per operation and generation mode
TIME_BUDGET_S = 150.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLE_ACCOUNTS = ["admin", "begeleider", "examinator", "examencommissie", "praktijkopleider", "jan.100001@student"]
SKIP_STATEFUL = {
    # Would sign the fuzzer's own sessions out or lock its accounts, ending the run's authentication.
    ("POST", "/v1/auth/logout"), ("POST", "/v1/auth/logout-all"),
}


def tokens(suite: Any) -> list[dict[str, str]]:
    """Bearer headers for every role of the demo school, the operator last."""
    domain = "demo-roc.example"
    headers = [suite.headers(f"{a}.{domain}" if a.endswith("@student") else f"{a}@{domain}") for a in ROLE_ACCOUNTS]
    operator = suite.stack.identity_secrets()
    with __import__("httpx").Client(base_url=suite.stack.gateway_url, timeout=30) as http:
        r = http.post("/identity/v1/auth/login", json={"email": operator["OPERATOR_EMAIL"],
                                                       "password": operator["OPERATOR_PASSWORD"]})
    assert r.status_code == 200, r.text
    return [*headers, {"Authorization": f"Bearer {r.json()['access_token']}"}]


@dataclass
class Tally:
    """What the fuzzer sent and saw."""

    roles: list[dict[str, str]]
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    cases: int = 0

    def fuzz(self, service: str, base_url: str, operation: Any, mode: GenerationMode, fixed: dict[str, str] | None,
             ) -> None:
        """Send EXAMPLES generated requests of one operation, each as the first role not refused."""

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @hypothesis.given(case=operation.as_strategy(mode, path_parameters=fixed))
        def fuzz(case: Any) -> None:
            self.cases += 1
            response = None
            for headers in self.roles:
                response = case.call(base_url=base_url, headers=headers, timeout=60)
                if response.status_code not in (401, 403):
                    break
            assert response is not None
            self.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, Failure, FailureGroup) as exc:  # collected, reported at the end
                found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
                for failure in found:
                    title = getattr(failure, "title", type(failure).__name__)
                    message = getattr(failure, "message", str(failure)).strip().replace("\n", " ")[:200]
                    self.failures.append(f"{service} {case.method} {operation.path} -> {response.status_code}: "
                                         f"{title}: {message}\n    {case.as_curl_command()[:300]}")

        try:
            fuzz()
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # an operation without inputs has no invalid request


def test_every_operation_answers_as_documented_under_fuzzing(suite: Any) -> None:
    tally = Tally(tokens(suite))
    school_id = suite.school["school_id"]
    operations = 0
    started = time.monotonic()
    for service in SERVICES:
        base_url = f"{suite.stack.gateway_url}/{service}"
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIP_STATEFUL:
                continue
            operations += 1
            fixed = {"school_id": school_id} if "{school_id}" in operation.path else None
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if time.monotonic() - started < TIME_BUDGET_S:
                    tally.fuzz(service, base_url, operation, mode, fixed)
    unique = sorted({f.split("\n")[0]: f for f in tally.failures}.values())  # one example per kind
    suite.report("openapi fuzz", operations=operations, cases=tally.cases, failures=len(unique),
                 statuses=dict(sorted(tally.statuses.items())), seconds=round(time.monotonic() - started))
    assert operations >= 40 and tally.cases >= operations, "the fuzzer saw too little of the APIs"
    assert not unique, f"{len(unique)} undocumented or failing answers:\n" + "\n".join(unique[:200])
