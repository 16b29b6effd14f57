"""The exams service: Catalog copies, assignments, approvals and adoption, scheduling, assessment, results, retakes and exam-board procedures."""
