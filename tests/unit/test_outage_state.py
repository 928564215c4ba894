"""The outage gate's rules on a made-up clock: no sockets, no loop, no sleeps."""

from __future__ import annotations

import itertools

from zcrm_related_async._outage_state import Admit, OutageState, Phase, Transient

DOWN = Transient("CONNECTION_ERROR", "connection failed: ClientConnectorError")
E500 = Transient("INTERNAL_ERROR", "Internal Server Error", 500)


def tripped(now: float = 0.0, max_outage: float = 600.0) -> OutageState:
    state = OutageState(max_outage, trip_after=5, first_probe=1.0, probe_cap=15.0)
    for n in range(5):
        state.failed(now, f"chunk {n % 2}", DOWN)
    assert state.phase is Phase.HELD
    return state


def test_transient_failures_of_two_chunks_in_a_row_trip_the_gate() -> None:
    state = OutageState(600.0, trip_after=5)
    counted = [state.failed(0.0, f"chunk {n % 3}", E500) for n in range(5)]
    assert counted == [False, False, False, False, True]  # the fifth waits, no try spent
    assert state.phase is Phase.HELD
    assert state.admit(0.5) is Admit.WAIT
    assert state.outages == 1


def test_one_chunk_failing_again_and_again_is_no_outage() -> None:
    state = OutageState(600.0, trip_after=5)
    for _ in range(50):
        assert state.failed(0.0, "the one chunk", DOWN) is False
    assert state.phase is Phase.OPEN
    assert state.admit(0.0) is Admit.SEND


def test_an_answer_between_failures_starts_the_count_again() -> None:
    state = OutageState(600.0, trip_after=5)
    for round_ in range(10):
        for n in range(4):
            state.failed(float(round_), f"chunk {n}", DOWN)
        state.answered()  # a per-record answer, a 4xx or a 429: Zoho is up
    assert state.phase is Phase.OPEN


def test_one_probe_at_a_time_on_a_capped_doubling_schedule() -> None:
    state = tripped()
    probes = []
    now = 0.0
    while now < 120.0:
        if state.admit(now) is Admit.PROBE:
            probes.append(now)
            assert state.admit(now) is Admit.WAIT  # the others wait while it is out
            state.failed(now, "chunk 0", DOWN, probe=True)
        now = round(now + 0.25, 2)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(probes)]
    assert probes[0] == 1.0
    assert gaps[:5] == [2.0, 4.0, 8.0, 15.0, 15.0]
    assert set(gaps[4:]) == {15.0}
    # what a 30 s outage costs in probes: few enough to meet "at most 60 requests" easily
    assert sum(1 for t in probes if t < 30.0) == 4


def test_a_probe_that_gets_any_answer_reopens_at_once() -> None:
    state = tripped()
    assert state.admit(1.0) is Admit.PROBE
    state.answered(probe=True)
    assert state.phase is Phase.OPEN
    assert [state.admit(1.0) for _ in range(20)] == [Admit.SEND] * 20


def test_a_late_answer_to_a_call_sent_before_the_outage_also_reopens() -> None:
    state = tripped()
    state.answered()
    assert state.phase is Phase.OPEN


def test_failures_while_held_are_not_counted_and_move_no_probe() -> None:
    state = tripped()
    for n in range(100):
        assert state.failed(0.5, f"chunk {n}", E500) is True
    assert state.next_change() == 1.0
    assert state.last == E500


def test_past_max_outage_everyone_gives_up_then_fails_fast_but_probes() -> None:
    state = tripped(max_outage=10.0)
    now = 0.0
    while now < 10.0:
        if state.admit(now) is Admit.PROBE:
            state.failed(now, "chunk 0", DOWN, probe=True)
        now = round(now + 0.5, 2)
    assert state.next_change() <= 10.0  # the waiters wake up to give up
    assert state.admit(10.0) is Admit.GIVE_UP
    assert state.phase is Phase.DOWN
    assert state.last == DOWN
    # down: no waiting, one probe when it is due, the rest fail at once
    verdicts = [state.admit(now) for now in (11.0, 15.0, 16.0, 16.0, 16.0)]
    assert verdicts.count(Admit.PROBE) == 1
    assert verdicts.count(Admit.WAIT) == 0
    state.answered(probe=True)
    assert state.admit(16.0) is Admit.SEND


def test_giving_up_at_once_when_the_client_closes() -> None:
    state = tripped()
    state.give_up()
    assert state.admit(0.5) is Admit.GIVE_UP
    assert state.admit(1.0) is Admit.PROBE  # Zoho may still be found back


def test_a_probe_whose_caller_stopped_lets_another_go() -> None:
    state = tripped()
    assert state.admit(1.0) is Admit.PROBE
    assert state.admit(1.0) is Admit.WAIT
    state.abandoned()
    assert state.admit(1.0) is Admit.PROBE


def test_a_new_outage_probes_from_the_first_delay_again() -> None:
    state = tripped()
    for now in (1.0, 3.0, 7.0):
        assert state.admit(now) is Admit.PROBE
        state.failed(now, "chunk 0", DOWN, probe=True)
    state.answered()
    for n in range(5):
        state.failed(100.0, f"chunk {n}", DOWN)
    assert state.phase is Phase.HELD
    assert state.admit(100.5) is Admit.WAIT
    assert state.admit(101.0) is Admit.PROBE
    assert state.outages == 2
