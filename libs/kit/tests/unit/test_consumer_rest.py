"""How long an idle consumer rests between checks for new records: short after records, long only after quiet."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from kit.consumer import REST_MAX_S, REST_MIN_S, REST_SHARE, next_rest


def checks(rest_starts_s: float, until_s: float) -> list[float]:
    """The moments (seconds since the last records) a consumer checks, resting from rest_starts_s on."""
    at, delay, moments = rest_starts_s, REST_MIN_S, []
    while at < until_s:
        at += delay
        moments.append(at)
        delay = next_rest(delay, at)
    return moments


def test_right_after_records_a_consumer_checks_every_few_milliseconds() -> None:
    moments = checks(0.0, 0.25)
    gaps = [b - a for a, b in pairwise(moments)]
    assert max(gaps) <= 0.25 * REST_SHARE + 1e-9 and len(moments) >= 5


def test_after_a_long_quiet_it_checks_once_a_second() -> None:
    moments = checks(60.0, 90.0)
    assert 25 <= len(moments) <= 40 and all(b - a <= REST_MAX_S for a, b in pairwise(moments))


@given(rest_starts=st.floats(0, 20), arrives=st.floats(0, 60))
def test_an_event_waits_for_the_next_check_at_most_a_quarter_of_the_quiet_before_it(rest_starts: float,
                                                                                    arrives: float) -> None:
    arrives += rest_starts
    seen = next(at for at in checks(rest_starts, arrives + 2) if at >= arrives)
    assert seen - arrives <= max(REST_MIN_S, min(REST_SHARE * arrives, REST_MAX_S)) + 1e-9
