"""Small helpers of the full exam journey: sign-in, invitation links, the SMTP sink, waiting, the .xlsx."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from openpyxl import Workbook

from kit.local.demo import invitation_link, message_text
from kit.local.stack import Stack

DOMAIN = "roc-de-reis.example"
STUDENTS = [("300001", "Lotte", "Visser"), ("300002", "Finn", "Smit"), ("300003", "Sara", "Çelik")]


def email(handle: str) -> str:
    """A staff member's address at the journey's school."""
    return f"{handle}@{DOMAIN}"


def student_email(code: str, first: str) -> str:
    """A student's address at the journey's school."""
    return f"{first.lower()}.{code}@student.{DOMAIN}"


@dataclass
class School:
    """What the journey made so far: ids, and everyone's sign-in headers."""

    id: str = ""
    programme_id: str = ""
    exam_id: str = ""
    group_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # handle -> user id; code -> student id; user:code -> user id
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # handle or student code -> headers
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)  # student code -> assignment
    schedules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # student code -> its parts
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # student code -> first attempt's result


class People:
    """Talks to a running suite as its users do: through the gateway, reading mail from the SMTP sink."""

    def __init__(self, suite: Stack, gateway: httpx.Client, password: str) -> None:
        self.suite = suite
        self.http = gateway
        self.password = password
        self.sink = f"http://127.0.0.1:{suite.ports['smtp_http']}"

    def login(self, address: str, password: str | None = None) -> dict[str, str]:
        """Bearer headers of a person signed in with their password."""
        r = self.http.post("/identity/v1/auth/login", json={"email": address, "password": password or self.password})
        assert r.status_code == 200, (address, r.text)
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def accept_invitation(self, address: str, timeout_s: float = 60) -> None:
        """Choose the password through the link in the person's invitation e-mail, as a newcomer does."""
        deadline = time.monotonic() + timeout_s
        link = invitation_link(self.suite, address)
        while link is None and time.monotonic() < deadline:
            time.sleep(0.3)
            link = invitation_link(self.suite, address)
        assert link, f"no invitation e-mail for {address}"
        token = parse_qs(urlparse(link).query)["token"][0]
        r = self.http.post("/identity/v1/auth/set-password", json={"token": token, "password": self.password})
        assert r.status_code == 204, (address, r.text)

    def mails(self, address: str, subject_part: str, count: int = 1, timeout_s: float = 60) -> list[dict[str, Any]]:
        """The e-mails the SMTP sink received for an address with subject_part in the subject (waits for count)."""
        deadline = time.monotonic() + timeout_s
        while True:
            messages = httpx.get(f"{self.sink}/messages").json()
            found = [m for m in messages if m["to"] == address and subject_part in (m["subject"] or "")]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.3)

    def body(self, message: dict[str, Any]) -> str:
        """The plain-text body of an e-mail from the sink."""
        return message_text(httpx.get(f"{self.sink}/messages/{message['id']}").content)


def status(code: int) -> Callable[[httpx.Response], bool]:
    """A check for `eventually`: the answer has this status."""
    return lambda r: r.status_code == code


def spreadsheet(header: list[str], rows: list[list[Any]]) -> bytes:
    """An .xlsx workbook with one sheet, as a school exports it from its student system."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Studenten"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
