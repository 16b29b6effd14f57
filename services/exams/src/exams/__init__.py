"""The exams service: Assignments, approval, adoption, scheduling, assessment, results, retakes, exam-board cases."""
