"""Results: computed from the final assessments and the exam's rules, adopted by the exam board; retakes."""
