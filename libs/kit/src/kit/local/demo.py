"""The demo school `make up` offers: made once through the public APIs, as a school would do it.

The operator creates "Demo ROC" and its admin; the admin adds staff; a programme is published and
enabled, with a practical exam in the catalog; students are created (identity gives them accounts)
and linked to their supervisor, assessor and workplace trainer. Each person's invitation e-mail is
read from the local mail sink, as a newcomer would, and its link is used to choose the demo
password, so those links are spent: people log in with the accounts and password `make up` prints
(kept in .data/secrets/demo.json).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from kit.local.stack import Stack

SCHOOL = "Demo ROC"
DOMAIN = "demo-roc.example"
STAFF = [
    ("admin", "Anne Beheer", ["school_admin"]),
    ("begeleider", "Sanne Begeleider", ["school_supervisor"]),
    ("examinator", "Erik Examinator", ["assessor"]),
    ("examencommissie", "Eva Commissie", ["exam_board"]),
    ("praktijkopleider", "Piet Praktijk", ["workplace_trainer"]),
]
STUDENTS = [("100001", "Jan", "de Vries"), ("100002", "Fatima", "El Amrani"), ("100003", "Daan", "Jansen")]
# A practical exam of the programme, so the exam pages can be tried at once (the catalog has no page of its own).
EXAM = {
    "code": "PVB-VIG-B1-K1", "name": "Proeve Verzorgende-IG: zorg en ondersteuning",
    "core_tasks": [{"code": "B1-K1", "name": "Biedt zorg en ondersteuning", "work_processes": [
        {"code": "B1-K1-W1", "name": "Onderkent de behoeften aan zorg"},
        {"code": "B1-K1-W2", "name": "Voert zorgactiviteiten uit"}]}],
    "parts": [
        {"code": "obs", "name": "Observatie in de praktijk", "kind": "observation", "core_tasks": ["B1-K1"],
         "criteria": [
             {"code": "obs1", "text": "Werkt hygiënisch en veilig", "work_process": "B1-K1-W2"},
             {"code": "obs2", "text": "Stemt de zorg af op de cliënt", "work_process": "B1-K1-W2",
              "scoring": "scale_1_5"}]},
        {"code": "cgi", "name": "Criteriumgericht interview", "kind": "interview", "core_tasks": ["B1-K1"],
         "criteria": [
             {"code": "cgi1", "text": "Licht de gemaakte keuzes toe", "work_process": "B1-K1-W1",
              "scoring": "scale_1_5"}]}],
    "provider_assignments": [{"code": "VIG-1", "title": "Zorg voor een cliënt op de afdeling",
                              "text": "Verzorg een cliënt gedurende een dienst: bepaal de zorgvraag, voer de zorg uit "
                                      "en rapporteer."}],
}


class Seeder:
    """Talks to the suite through its gateway, like any client."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.Client(base_url=stack.gateway_url, timeout=15)
        self.password = "Demo-" + secrets.token_urlsafe(9)

    def run(self) -> dict[str, Any]:
        """Make the demo school unless it exists; return its accounts."""
        saved = self.stack.data_dir / "secrets" / "demo.json"
        if saved.exists():
            loaded: dict[str, Any] = json.loads(saved.read_text())
            return loaded
        secrets_ = self.stack.identity_secrets()
        operator = self.login(secrets_["OPERATOR_EMAIL"], secrets_["OPERATOR_PASSWORD"])
        school = self.call("POST", "/identity/v1/schools", operator, json={
            "name": SCHOOL, "brin": "99XX", "admin_email": f"admin@{DOMAIN}", "admin_name": "Anne Beheer"})
        school_id = school["school_id"]
        self.accept(f"admin@{DOMAIN}")
        admin = self.login(f"admin@{DOMAIN}", self.password)
        people = {"admin": self.me(admin)}
        for handle, name, roles in STAFF[1:]:
            member = self.call("POST", f"/identity/v1/schools/{school_id}/users", admin, json={
                "email": f"{handle}@{DOMAIN}", "display_name": name, "roles": roles, "send_invitation": True})
            self.accept(f"{handle}@{DOMAIN}")
            people[handle] = member["user_id"]
        programme = self.call("POST", "/enrollment/v1/programmes", operator, json={
            "crebo": "25655", "name": "Verzorgende-IG", "level": 3, "cohort": 2024})
        programme_id = str(programme.get("programme_id") or programme["id"])
        self.call("PUT", f"/enrollment/v1/schools/{school_id}/programmes/{programme_id}", admin,
                  json={"enabled": True, "staff_ids": [people["begeleider"], people["examinator"]]})
        self.publish_exam(operator, programme_id)
        students = []
        for code, first, last in STUDENTS:
            email = f"{first.lower()}.{code}@student.{DOMAIN}"
            student = self.call("POST", f"/enrollment/v1/schools/{school_id}/students", admin, json={
                "student_code": code, "first_name": first, "last_name": last, "email": email,
                "programme_ids": [programme_id], "invite": True})
            student_id = student.get("student_id") or student.get("id")
            for relation, handle in (("school_supervisor", "begeleider"), ("assessor", "examinator"),
                                     ("workplace_trainer", "praktijkopleider")):
                self.call("POST", f"/enrollment/v1/schools/{school_id}/students/{student_id}/links", admin,
                          json={"user_id": people[handle], "relation": relation})
            self.accept(email)
            students.append(email)
        result = {"school_id": school_id, "password": self.password,
                  "accounts": [f"{h}@{DOMAIN}" for h, _, _ in STAFF] + students}
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(result, indent=2))
        saved.chmod(0o600)
        return result

    def publish_exam(self, operator: dict[str, str], programme_id: str, timeout_s: float = 60.0) -> None:
        """Publish the demo exam once exams knows the programme (it learns of it from enrollment's event)."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.http.post("/exams/v1/catalog/exams", headers=operator,
                                      json={**EXAM, "programme_id": programme_id})
            unknown = response.status_code == 422 and "unknown programme" in response.text
            if not unknown or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if response.status_code != 201:
            raise RuntimeError(f"publishing the demo exam: {response.status_code} {response.text[:300]}")

    def login(self, email: str, password: str) -> dict[str, str]:
        token = self.call("POST", "/identity/v1/auth/login", None, json={"email": email, "password": password})
        return {"Authorization": f"Bearer {token['access_token']}"}

    def me(self, headers: dict[str, str]) -> str:
        return str(self.call("GET", "/identity/v1/me", headers)["user_id"])

    def call(self, method: str, path: str, headers: dict[str, str] | None, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}

    def accept(self, address: str, timeout_s: float = 60.0) -> None:
        """Choose the demo password through the link of this person's invitation e-mail."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            link = invitation_link(self.stack, address)
            if link:
                token = parse_qs(urlparse(link).query)["token"][0]
                self.call("POST", "/identity/v1/auth/set-password", None,
                          json={"token": token, "password": self.password})
                return
            time.sleep(0.3)
        raise RuntimeError(f"no invitation e-mail in the mail sink within {timeout_s:.0f}s")


LINK = re.compile(r"https?://[^\s\"'<>]+[?&]token=[A-Za-z0-9_.~%-]+")


def invitation_link(stack: Stack, address: str) -> str | None:
    """The link in the newest e-mail with a token link to this address, read from the mail sink's API."""
    sink = f"http://127.0.0.1:{stack.ports['smtp_http']}"
    with httpx.Client(base_url=sink, timeout=5) as client:
        listing = client.get("/messages")
        listing.raise_for_status()
        for message in reversed(listing.json()):
            if address.lower() not in (message.get("to") or "").lower():
                continue
            raw = client.get(f"/messages/{message['id']}")
            raw.raise_for_status()
            found = LINK.search(message_text(raw.content))
            if found:
                return found.group(0)
    return None


def message_text(raw: bytes) -> str:
    """The plain-text body of an e-mail (its HTML body when it has no plain one)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


def seed(stack: Stack) -> dict[str, Any]:
    """Make (or read back) the demo school."""
    return Seeder(stack).run()


def describe(result: dict[str, Any]) -> list[str]:
    """Lines telling people how to try the demo school."""
    return [f"demo school   {SCHOOL}: log in with any of these, password {result['password']}",
            *(f"              {account}" for account in result["accounts"])]


