"""Exam-board cases: inspection, objection, exemption, accommodation, extra attempt, fraud; the school calendar."""
