from __future__ import annotations

import pytest

from drillbook.errors import WaitTimeout
from drillbook.waiting import Check, Wait


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_first_passing_check_without_sleeping_more_than_needed() -> None:
    clock = FakeClock()
    answers = iter([Check(False, "starting"), Check(False, "starting"), Check(True, "up")])
    result = Wait(timeout_s=10, poll_s=0.5, clock=clock, sleep=clock.sleep).until(
        lambda: next(answers), "service"
    )
    assert result == Check(True, "up")
    assert clock.sleeps == [0.5, 0.5]


def test_timeout_names_what_and_last_observation_and_hint() -> None:
    clock = FakeClock()
    wait = Wait(timeout_s=2, poll_s=0.5, clock=clock, sleep=clock.sleep)
    with pytest.raises(WaitTimeout) as info:
        wait.until(lambda: Check(False, "connection refused"), "postgres to answer", hint="h!")
    err = info.value
    assert err.timeout_s == 2
    assert err.observed == "connection refused"
    assert "postgres to answer" in str(err)
    assert "Hint: h!" in str(err)
    assert clock.now == pytest.approx(2.0)


def test_a_raising_check_is_an_observation_not_a_crash() -> None:
    clock = FakeClock()

    def boom() -> Check:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match="ConnectionError: refused"):
        Wait(timeout_s=1, poll_s=0.25, clock=clock, sleep=clock.sleep).until(boom, "x")


def test_last_sleep_is_clamped_to_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        Wait(timeout_s=1, poll_s=0.4, clock=clock, sleep=clock.sleep).until(
            lambda: Check(False), "x"
        )
    assert clock.sleeps == pytest.approx([0.4, 0.4, 0.2])


def test_fluent_copies_do_not_mutate() -> None:
    base = Wait(timeout_s=5, poll_s=1)
    assert base.with_timeout(9).timeout_s == 9
    assert base.with_poll_interval(0.1).poll_s == 0.1
    assert base.timeout_s == 5


def test_a_final_failure_stops_the_wait_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match="container exited"):
        Wait(timeout_s=60, poll_s=1, clock=clock, sleep=clock.sleep).until(
            lambda: Check(False, "container exited", final=True), "x"
        )
    assert clock.sleeps == []


def test_only_the_exceptions_to_retry_on_are_failed_looks() -> None:
    clock = FakeClock()
    looks: list[str] = []

    def flaky() -> Check:
        looks.append("look")
        if len(looks) == 1:
            raise ConnectionError("refused")
        raise PermissionError("forbidden")

    wait = Wait(timeout_s=10, poll_s=1, clock=clock, sleep=clock.sleep)
    with pytest.raises(PermissionError, match="forbidden"):
        wait.until(flaky, "x", retry_on=(ConnectionError,))
    assert looks == ["look", "look"]
    assert clock.sleeps == [1]


def test_retry_on_nothing_lets_the_first_exception_through_unwaited() -> None:
    clock = FakeClock()

    def boom() -> Check:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError, match="refused"):
        Wait(timeout_s=10, poll_s=1, clock=clock, sleep=clock.sleep).until(boom, "x", retry_on=())
    assert clock.sleeps == []
