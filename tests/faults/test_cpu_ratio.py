"""The backend's CPU ratio is timed by the backend's own clock, not by when replies arrive."""

from __future__ import annotations

from typing import Any

import pytest

from drillbook.faults import resources


def _samples(monkeypatch: pytest.MonkeyPatch, replies: list[dict[str, float]]) -> None:
    it = iter(replies)
    monkeypatch.setattr(resources, "_backend_metrics", lambda lab, names: next(it))
    monkeypatch.setattr("time.sleep", lambda s: None)


def test_the_window_is_the_backends_own_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.5 s of CPU in the backend's 2.0 s under a quarter core: 100% of its limit, however long
    # the replies took to arrive (here the local sleep takes no time at all)
    _samples(
        monkeypatch,
        [
            {"process_cpu_seconds_total": 10.0, "process_time_seconds": 1000.0},
            {
                "process_cpu_seconds_total": 10.5,
                "process_time_seconds": 1002.0,
                "trading_bot_cpu_limit_cores": 0.25,
            },
        ],
    )
    lab: Any = object()
    ratio, detail = resources.backend_cpu_ratio(lab, window_s=2.0)
    assert ratio == pytest.approx(1.0)
    assert detail == "0.25 core(s) of limit 0.25 core(s) over 2.0 s"


def test_without_a_limit_the_ratio_is_against_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    _samples(
        monkeypatch,
        [
            {"process_cpu_seconds_total": 3.0, "process_time_seconds": 50.0},
            {"process_cpu_seconds_total": 3.2, "process_time_seconds": 51.0},
        ],
    )
    lab: Any = object()
    ratio, detail = resources.backend_cpu_ratio(lab, window_s=1.0)
    assert ratio == pytest.approx(0.2)
    assert "one core (no limit)" in detail
