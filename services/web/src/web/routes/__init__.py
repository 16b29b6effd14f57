"""The page routers, in the order the app includes them."""

from web.routes import (
    auth,
    exam_assess,
    exam_assignments,
    exam_audit,
    exam_cases,
    exam_cases_new,
    exam_prepare,
    exam_results,
    exam_results_retake,
    exam_results_student,
    exam_schedule,
    exam_views,
    groups,
    home,
    imports,
    library,
    messages,
    operator,
    people,
    programmes,
    school,
    students,
    supervision,
)

ROUTERS = [auth.router, home.router, operator.router, people.router, programmes.router, students.router,
           groups.router, imports.router, library.router, library.files, school.router, messages.router,
           supervision.router]
# The exam pages (Web II); /assignments/new comes before /assignments/{id}.
ROUTERS += [exam_prepare.router, exam_assignments.router, exam_schedule.router, exam_views.router,
            exam_assess.router]
# Results and retakes (Web II): /results/adopt-group and /results/attempts/... come before /results/{id}/adopt.
ROUTERS += [exam_results_retake.router, exam_results.router, exam_results_student.router]
# The exam board's cases and audit trail (Web II); /cases/new comes before /cases/{id}.
ROUTERS += [exam_cases_new.router, exam_cases.router, exam_audit.router]
