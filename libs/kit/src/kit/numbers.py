"""Whole numbers from requests: within what MongoDB stores, and spelled in ASCII digits only."""

from __future__ import annotations

INT_MAX = 2**63 - 1  # the largest BSON int: a larger one fails at the database, so inputs are bounded by it


def whole_number(raw: str | None) -> int | None:
    """The number raw spells in ASCII digits (surrounding spaces allowed), up to INT_MAX; None for anything else.

    str.isdigit() alone also takes digits such as "²" that int() refuses, and any length.
    """
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # 18 digits stay below INT_MAX
        return None
    return int(text)
