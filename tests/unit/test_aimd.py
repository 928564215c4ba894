"""The adaptive-concurrency arithmetic."""

from __future__ import annotations

import pytest

from zcrm_related_async._aimd import (
    INITIAL_WINDOW,
    after_success,
    after_throttle,
    initial_window,
    slots,
)


@pytest.mark.parametrize(("ceiling", "start"), [(1, 1.0), (5, 5.0), (10, 10.0), (25, 10.0)])
def test_a_new_window_starts_at_most_at_the_standard_edition_limit(
    ceiling: int, start: float
) -> None:
    assert initial_window(ceiling) == start
    assert INITIAL_WINDOW == 10


def test_before_any_429_the_window_grows_about_one_slot_per_window_of_successes() -> None:
    window = 10.0
    for _ in range(10):
        window = after_success(window, 25, throttled_before=False)
    assert 10.9 < window < 11.0


def test_after_a_429_probes_are_sixteen_times_rarer() -> None:
    window = 10.0
    for _ in range(10):
        window = after_success(window, 25, throttled_before=True)
    assert 10.06 < window < 10.07


def test_the_window_never_passes_the_ceiling_nor_drops_below_one() -> None:
    assert after_success(25.0, 25, throttled_before=False) == 25.0
    assert after_throttle(1.0) == 1.0
    assert after_throttle(10.0) == pytest.approx(9.0)
    assert [slots(w) for w in (0.5, 1.0, 9.99, 10.0)] == [1, 1, 9, 10]
