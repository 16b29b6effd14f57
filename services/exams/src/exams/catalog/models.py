"""The shape and rules of a published exam, with DOMAIN.md's defaults. No I/O."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.values import Line, PlainText

Code = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                         pattern=r"^[A-Za-z0-9_.-]+$")]
Title = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[PlainText, StringConstraints(max_length=20_000)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkProcess(_Spec):
    """A work process (*werkproces*) of a core task."""

    code: Code
    name: Title


class CoreTask(_Spec):
    """A core task (*kerntaak*) with its work processes."""

    code: Code
    name: Title
    work_processes: list[WorkProcess] = Field(min_length=1, max_length=30)


class Criterion(_Spec):
    """One criterion of a part, scored pass/fail or 1-5; some scores need a justification."""

    code: Code
    text: Annotated[PlainText, StringConstraints(min_length=1, max_length=2000)]
    work_process: Code
    scoring: Literal["pass_fail", "scale_1_5"] = "pass_fail"
    justification_required_for: list[str] | None = Field(
        default=None, description='Scores needing a justification; default ["fail"] or [1, 2, 5] as text')

    @model_validator(mode="after")
    def _scores(self) -> Criterion:
        allowed = {"pass", "fail"} if self.scoring == "pass_fail" else {"1", "2", "3", "4", "5"}
        if self.justification_required_for is not None and not set(self.justification_required_for) <= allowed:
            raise ValueError(f"justification_required_for must be among {sorted(allowed)}")
        return self

    def needs_justification(self) -> list[str]:
        """The scores for which a justification is required."""
        if self.justification_required_for is not None:
            return self.justification_required_for
        return ["fail"] if self.scoring == "pass_fail" else ["1", "2", "5"]


class Part(_Spec):
    """An exam part (*examenonderdeel*), e.g. observation, product or interview."""

    code: Code
    name: Title
    kind: Literal["observation", "product", "interview", "presentation", "other"] = "observation"
    core_tasks: list[Code] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1, max_length=200)


class Rules(_Spec):
    """The exam's rules; the defaults are DOMAIN.md's."""

    grading_scale: Literal["grade_1_10", "grade_1_10_whole", "pass_fail", "fail_pass_good"] = "grade_1_10"
    decimals: Literal["truncate"] = "truncate"
    final_grade: Literal["round_whole", "one_decimal"] = "round_whole"
    pass_mark: float = Field(default=5.5, ge=1, le=10)
    max_attempts: int | None = Field(default=3, ge=1, le=20, description="None: unlimited (interim exams)")
    attempt_window_days: int = Field(default=365, ge=1, le=3650)
    counts: Literal["last", "highest"] = "last"
    deregistration_days: int = Field(default=14, ge=0, le=365)
    result_validity_years: int = Field(default=10, ge=1, le=50)


class ProviderAssignment(_Spec):
    """A fixed assignment (*vaststaande opdracht*) from the exam provider."""

    code: Code
    title: Title
    text: Body


class ExamSpec(_Spec):
    """What the operator publishes for one exam version."""

    programme_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    code: Code
    name: Title
    core_tasks: list[CoreTask] = Field(min_length=1, max_length=20)
    parts: list[Part] = Field(min_length=1, max_length=20)
    rules: Rules = Rules()
    provider_assignments: list[ProviderAssignment] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> ExamSpec:
        problems = spec_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _duplicates(codes: list[str]) -> set[str]:
    return {c for c in codes if codes.count(c) > 1}


def spec_problems(spec: ExamSpec) -> list[str]:
    """Why an exam spec does not hang together (empty when it does)."""
    problems = []
    tasks = [t.code for t in spec.core_tasks]
    processes = [w.code for t in spec.core_tasks for w in t.work_processes]
    for label, codes in (("core task", tasks), ("work process", processes), ("part", [p.code for p in spec.parts]),
                         ("provider assignment", [a.code for a in spec.provider_assignments])):
        if dup := _duplicates(codes):
            problems.append(f"duplicate {label} codes: {', '.join(sorted(dup))}")
    for part in spec.parts:
        if unknown := set(part.core_tasks) - set(tasks):
            problems.append(f"part {part.code} names unknown core tasks: {', '.join(sorted(unknown))}")
        if dup := _duplicates([c.code for c in part.criteria]):
            problems.append(f"part {part.code} has duplicate criterion codes: {', '.join(sorted(dup))}")
        if unknown := {c.work_process for c in part.criteria} - set(processes):
            problems.append(f"part {part.code} names unknown work processes: {', '.join(sorted(unknown))}")
    covered = {t for p in spec.parts for t in p.core_tasks}
    if missing := set(tasks) - covered:
        problems.append(f"core tasks without a part: {', '.join(sorted(missing))}")
    return problems


def version_id(exam_id: str, version: int) -> str:
    """The document id of one published version."""
    return f"{exam_id}:v{version}"
