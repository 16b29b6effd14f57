"""Identity's pure rules: addresses, passwords, trusted proxies."""

import pytest

from identity.deps import is_trusted_proxy
from identity.models import normalise_email, password_problem


def test_proxies_are_trusted_by_address_or_range() -> None:
    assert is_trusted_proxy("127.0.0.1", ["127.0.0.1"])
    assert is_trusted_proxy("10.42.3.7", ["10.0.0.0/8"])
    assert not is_trusted_proxy("192.168.1.5", ["10.0.0.0/8", "127.0.0.1"])
    assert not is_trusted_proxy("not-an-ip", ["10.0.0.0/8"])


@pytest.mark.parametrize(
    "raw, expected", [(" Jan@ROC.example ", "jan@roc.example"), ("a.b+c@school.nl", "a.b+c@school.nl")]
)
def test_email_addresses_are_normalised(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "jan", "jan@", "@roc.example", "jan@roc", "jan @roc.example"])
def test_malformed_email_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_email(raw)


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short", "at least 10"),
        ("x" * 257, "at most 256"),
        ("qwertyuiop", "commonly used"),
        ("Password123", "commonly used"),
        ("jan@roc.example", "e-mail"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    assert reason in (password_problem(password, email="jan@roc.example") or "")


def test_a_long_uncommon_password_is_accepted() -> None:
    assert password_problem("Zonnebloem-Akker-47", email="jan@roc.example") is None
