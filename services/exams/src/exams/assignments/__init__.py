"""Assignments (*examenopdrachten*): the school bank, preparation, approvals (signatures), adoption."""
