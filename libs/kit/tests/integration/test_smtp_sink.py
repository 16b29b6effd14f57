"""The local SMTP sink keeps what it receives and shows it over HTTP."""

import smtplib
from email.message import EmailMessage

import httpx

from kit.testing.fixtures import SmtpServer


def test_received_mail_is_kept_and_listed(smtp_server: SmtpServer) -> None:
    msg = EmailMessage()
    msg["From"] = "noreply@school.example"
    msg["To"] = "student@school.example"
    msg["Subject"] = "Je resultaat is beschikbaar"
    msg.set_content("Log in om je resultaat te bekijken.")
    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as smtp:
        smtp.send_message(msg)
    listed = httpx.get(f"http://127.0.0.1:{smtp_server.http_port}/messages").json()
    mine = [m for m in listed if m["subject"] == "Je resultaat is beschikbaar"]
    assert mine and mine[-1]["to"] == "student@school.example"
    raw = httpx.get(f"http://127.0.0.1:{smtp_server.http_port}/messages/{mine[-1]['id']}")
    assert b"Log in om je resultaat te bekijken." in raw.content
    assert httpx.get(f"http://127.0.0.1:{smtp_server.http_port}/messages/..%2Fsecrets").status_code == 404
