"""Whole numbers from headers and forms: what counts as one."""

from hypothesis import given
from hypothesis import strategies as st

from kit.numbers import INT_MAX, whole_number


def test_ascii_digits_are_a_number_and_anything_else_is_not() -> None:
    assert whole_number("3") == 3 and whole_number(" 42 ") == 42 and whole_number("007") == 7
    for text in (None, "", " ", "-1", "+1", "1.0", "3a", "²", "\u0663", "\uff11", "1 2", "9" * 19):
        assert whole_number(text) is None, text


@given(st.text(max_size=25))
def test_a_number_found_is_always_one_mongodb_stores(text: str) -> None:
    found = whole_number(text)
    assert found is None or 0 <= found <= INT_MAX
