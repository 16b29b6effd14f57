"""Request and response pieces more than one of identity's routers uses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from contracts.values import EmailAddress, Line

Language = Literal["nl", "en"]
STUDENT_CODE = r"^[A-Za-z0-9._-]{1,40}$"
Email = Annotated[EmailAddress, Field(max_length=254)]
Name = Annotated[Line, Field(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    """Tokens as OAuth2 returns them."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


class StatusOut(BaseModel):
    """A plain acknowledgement for people."""

    status: str
