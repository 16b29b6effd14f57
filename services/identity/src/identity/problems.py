"""Identity's problem types: each with its own true title, and the details people meet, in Dutch and English."""

from __future__ import annotations

from kit.errors import TITLES, Problem, Text, field_error

TITLES.update({
    "invalid_credentials": ("E-mailadres of wachtwoord onjuist", "Wrong e-mail address or password"),
    "invalid_refresh_token": ("Sessie verlopen of beëindigd", "Session expired or ended"),
    "invalid_link": ("Link ongeldig, gebruikt of verlopen", "Link invalid, used or expired"),
    "account_locked": ("Account tijdelijk geblokkeerd", "Account temporarily locked"),
    "invalid_client": ("Client onbekend of ingetrokken", "Client unknown or revoked"),
    "invalid_request": ("Ongeldig tokenverzoek", "Invalid token request"),
    "unsupported_grant_type": ("Grant type niet ondersteund", "Unsupported grant type"),
})


def bad_credentials() -> Problem:
    """The one answer to every failed login, whether or not the account exists."""
    return Problem(401, "invalid_credentials", detail=Text("E-mailadres of wachtwoord is onjuist.",
                                                           "The e-mail address or password is wrong."))


def account_locked(retry_s: int) -> Problem:
    """Too many failed logins for this account."""
    minutes = max(1, round(retry_s / 60))
    return Problem(429, "account_locked", headers={"Retry-After": str(retry_s)}, detail=Text(
        f"Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw, stel je wachtwoord opnieuw in "
        "of vraag de beheerder van je school om je te deblokkeren.",
        f"Too many failed attempts. Try again in {minutes} minutes, reset your password or ask your school's "
        "admin to unlock your account."))


def address_throttled(retry_s: int) -> Problem:
    """Too many failed logins from one client address."""
    return Problem(429, "too_many_requests", headers={"Retry-After": str(retry_s)}, detail=Text(
        "Te veel mislukte aanmeldpogingen vanaf dit adres. Probeer het later opnieuw.",
        "Too many failed login attempts from this address. Try again later."))


SESSION_EXPIRED = Text("Je sessie is verlopen. Meld je opnieuw aan.", "Your session has expired. Please log in again.")
SESSION_ENDED = Text("Je sessie is beëindigd. Meld je opnieuw aan.", "Your session has ended. Please log in again.")
SESSION_REVOKED = Text("Deze sessie is om veiligheidsredenen beëindigd. Meld je opnieuw aan.",
                       "This session was ended for security reasons. Please log in again.")


def invalid_refresh(detail: Text) -> Problem:
    """A refresh token that cannot be used (expired, ended or reused)."""
    return Problem(401, "invalid_refresh_token", detail=detail)


def invalid_link() -> Problem:
    """An invitation or reset link that is unknown, used or expired."""
    return Problem(400, "invalid_link", detail=Text("Deze link is ongeldig, al gebruikt of verlopen.",
                                                    "This link is invalid, already used or expired."),
                   errors=[field_error("token", "invalid, used or expired")])


def invalid(field: str, reason: str) -> Problem:
    """A 422 naming one field and why."""
    return Problem(422, "validation", errors=[field_error(field, reason)])


def conflict(field: str, reason: str, detail: Text) -> Problem:
    """A 409 naming the field that conflicts."""
    return Problem(409, "conflict", detail=detail, errors=[field_error(field, reason)])


def not_found(detail: Text | None = None) -> Problem:
    """A 404; people and schools of others are not visible."""
    return Problem(404, "not_found", detail=detail or Text("Niet gevonden.", "Not found."))


NOT_A_MEMBER = Text("Deze persoon is geen lid van deze school.", "This person is not a member of this school.")
SCHOOL_NOT_FOUND = Text("Deze school bestaat niet.", "This school does not exist.")


def forbidden(detail: Text) -> Problem:
    """A 403 with the reason."""
    return Problem(403, "forbidden", detail=detail)
