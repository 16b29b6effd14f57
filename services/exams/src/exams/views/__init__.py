"""Read-only views: the overview matrix, the assessor dashboard, a student's own exams, a trainer's students."""
