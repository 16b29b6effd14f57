"""Pure rules: masking, backoff, languages, opt-outs, SMTP codes, and the templates' escaping and language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.mail import render
from notifications.models import (
    KINDS,
    backoff_s,
    choose_language,
    format_moment,
    is_permanent_smtp_code,
    mask_email,
    one_line,
    wants_email,
)


@pytest.mark.parametrize(("address", "masked"), [
    ("jan.jansen@roc-noord.nl", "j***@r***.nl"),
    ("a@b.example", "a***@b***.example"),
    ("not-an-address", "***"),
])
def test_the_delivery_log_keeps_only_a_hint_of_the_address(address: str, masked: str) -> None:
    assert mask_email(address) == masked


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_s(n, 2.0, 10.0) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_language_is_the_choice_then_the_account_then_dutch() -> None:
    assert choose_language("en", "nl") == "en"
    assert choose_language(None, "en") == "en"
    assert choose_language(None, None) == "nl"
    assert choose_language("de", None) == "nl"


def test_security_emails_cannot_be_switched_off() -> None:
    everything = ["assignments", "scheduling", "results", "exam_board", "messages", "security"]
    assert wants_email(KINDS["password_reset"], everything)
    assert wants_email(KINDS["invitation"], everything)
    assert not wants_email(KINDS["result_available"], ["results"])
    assert wants_email(KINDS["result_available"], ["messages"])


def test_5xx_is_permanent_4xx_and_no_answer_are_not() -> None:
    assert is_permanent_smtp_code(550) and is_permanent_smtp_code(554)
    assert not is_permanent_smtp_code(451) and not is_permanent_smtp_code(421)
    assert not is_permanent_smtp_code(None)


def test_moments_are_shown_in_school_time() -> None:
    winter = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert format_moment(winter, "nl") == "15-01-2026 09:00"
    assert format_moment(summer, "nl") == "15-07-2026 10:00"
    assert format_moment(summer, "en") == "2026-07-15 10:00"


def test_one_line_removes_header_injection() -> None:
    assert one_line("PvB\r\nBcc: evil@example.com") == "PvB Bcc: evil@example.com"


def test_every_kind_renders_in_both_languages_with_escaped_html() -> None:
    evil = "<img src=x onerror=alert(1)>"
    params: dict[str, object] = {
        "school_name": evil, "expires_at": datetime(2026, 12, 1, tzinfo=UTC), "exam_name": evil, "part_name": evil,
        "starts_at": datetime(2026, 12, 1, 8, tzinfo=UTC), "ends_at": None, "location": evil, "attempt_number": 2,
        "role": "student", "case_kind": "exemption", "sender_name": evil, "subject": evil,
        "deadline_at": datetime(2026, 12, 28, 22, 59, tzinfo=UTC), "by_student": True,
    }
    for kind in KINDS:
        for language in ("nl", "en"):
            mail = render(kind, language, name=evil, link="https://x.example/a?b=1&c=2", params=params)
            assert "<img" not in mail.html, (kind, language)
            assert "&lt;img src=x onerror=alert(1)&gt;" in mail.html
            assert evil in mail.text  # plain text is not HTML: shown as typed
            assert ("Beste" if language == "nl" else "Dear") in mail.text
            assert "\n" not in mail.subject


def test_board_decisions_name_the_kind_of_case_in_the_language() -> None:
    nl = render("board_decision", "nl", name="Sam", link=None, params={"case_kind": "extra_attempt"})
    en = render("board_decision", "en", name="Sam", link=None, params={"case_kind": "extra_attempt"})
    assert "over je extra examenkans" in nl.text and "about your extra attempt" in en.text


def test_case_e_mails_name_the_kind_and_the_deadline_and_nobody() -> None:
    params = {"case_kind": "inspection", "deadline_at": datetime(2026, 12, 28, 22, 59, 59, tzinfo=UTC)}
    board = render("board_case_opened", "nl", name="Lid", link=None, params=params)
    assert board.subject == "Nieuwe zaak voor de examencommissie: verzoek om inzage"
    assert "Besluit uiterlijk 28-12-2026 23:59" in board.text
    mine = render("board_case_received", "nl", name="Sam", link=None, params={**params, "by_student": True})
    assert "heeft je verzoek (verzoek om inzage) ontvangen" in mine.text and "uiterlijk 28-12-2026 23:59" in mine.text
    about = render("board_case_received", "en", name="Sam", link=None,
                   params={**params, "case_kind": "fraud", "by_student": False})
    assert about.subject == "The exam board is handling your case: irregularity or fraud"
    assert "opened a case about you (irregularity or fraud)" in about.text and "2026-12-28 23:59" in about.text
    decided = render("board_decision", "en", name="Sam", link=None, params={"case_kind": "inspection"})
    assert "about your request for inspection" in decided.text


def test_every_problem_type_notifications_raises_has_its_own_title() -> None:
    import pathlib
    import re

    import notifications
    from kit.errors import TITLES

    source = "".join(p.read_text() for p in pathlib.Path(notifications.__file__).parent.rglob("*.py"))
    raised = set(re.findall(r'Problem\(\s*\d+,\s*"([a-z_]+)"', source))
    assert {"forbidden", "validation"} <= raised
    assert raised - set(TITLES) == set()  # none falls back to its status's (or the 5xx) title
