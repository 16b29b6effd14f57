"""The exam catalog: exams per programme, published by the operator in immutable versions."""
