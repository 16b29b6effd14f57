"""Value types every service and event schema shares, so that all of them accept exactly the same values."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator


def normalise_email(raw: str) -> str:
    """The canonical form of an e-mail address; raises ValueError with a reason when it is not one."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError("not a valid e-mail address") from exc
    return result.normalized.lower()


def refuse_control_characters(text: str) -> str:
    """The text unchanged; raises ValueError when it holds a control character (tab and newline excepted)."""
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co"):
            raise ValueError("must not contain control characters")
    return text


def refuse_line_breaks(text: str) -> str:
    """Single-line text (names, codes, titles): no control characters at all, line breaks included."""
    refuse_control_characters(text)
    if any(char in text for char in "\t\n\r"):
        raise ValueError("must be a single line")
    return text


EmailAddress = Annotated[str, AfterValidator(normalise_email)]
# A name, code or title: one line, no control characters.
Line = Annotated[str, AfterValidator(refuse_line_breaks)]
# Free text (a message, a justification): line breaks allowed, other control characters not.
PlainText = Annotated[str, AfterValidator(refuse_control_characters)]
