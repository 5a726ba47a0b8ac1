"""The responder's receiver (its own logic, in process) and the auto-remediation loop."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from drillbook.detection import AlertEvent, Detection, Responder
from drillbook.detection.receiver import AlertLog, serve


def _payload(*alerts: tuple[str, str, dict[str, str]]) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, **labels},
                "annotations": {"summary": name},
                "startsAt": "2026-11-24T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"{name}-{labels.get('exchange', '')}",
            }
            for name, status, labels in alerts
        ],
    }


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_transitions_are_recorded_once_with_the_time_they_arrived() -> None:
    log = AlertLog(clock=Ticker())
    assert log.record(_payload(("TradingBotDown", "firing", {}))) == 1
    # Alertmanager repeats a firing alert in later notifications of its group: not a new event
    assert log.record(_payload(("TradingBotDown", "firing", {}))) == 0
    assert log.record(_payload(("TradingBotDown", "resolved", {}))) == 1
    assert log.record(_payload(("TradingBotDown", "firing", {}))) == 1
    seq, events = log.since(0)
    assert seq == 3
    assert [(e["name"], e["state"], e["received_at"]) for e in events] == [
        ("TradingBotDown", "firing", 1001.0),
        ("TradingBotDown", "resolved", 1003.0),
        ("TradingBotDown", "firing", 1004.0),
    ]
    assert log.notifications == 4
    assert [e["seq"] for e in log.since(2)[1]] == [3]


def test_alerts_of_one_rule_are_told_apart_by_labels() -> None:
    log = AlertLog()
    log.record(
        _payload(
            ("ExchangeConnectionLost", "firing", {"exchange": "binance"}),
            ("ExchangeConnectionLost", "firing", {"exchange": "kucoin"}),
        )
    )
    log.record(_payload(("ExchangeConnectionLost", "resolved", {"exchange": "kucoin"})))
    assert [e["labels"]["exchange"] for e in log.active()] == ["binance"]


def test_history_is_bounded() -> None:
    log = AlertLog(max_events=3)
    for i in range(5):
        log.record(_payload((f"A{i}", "firing", {})))
    assert [e["name"] for e in log.since(0)[1]] == ["A2", "A3", "A4"]


@pytest.mark.parametrize("payload", [None, [], {"alerts": "x"}, {"alerts": [1]}])
def test_bad_payloads_are_refused(payload: Any) -> None:
    with pytest.raises(ValueError, match="alerts"):
        AlertLog().record(payload)


@pytest.fixture
def receiver() -> Iterator[str]:
    server = serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, body: bytes) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_receiver_over_http(receiver: str) -> None:
    code, body = _post(
        f"{receiver}/alerts", json.dumps(_payload(("DatabaseDown", "firing", {}))).encode()
    )
    assert (code, body) == (200, {"recorded": 1})
    code, body = _post(f"{receiver}/alerts", b"{not json")
    assert code == 400
    detection = Detection("http://127.0.0.1:9", "http://127.0.0.1:9", receiver)
    assert detection.mark() == 1
    (event,) = detection.history()
    assert (event.name, event.state, event.severity) == ("DatabaseDown", "firing", "")
    assert [e.name for e in detection.firing()] == ["DatabaseDown"]
    assert detection.history(since=1) == []


class FakeHistory:
    """Stands in for the lab's responder: a list of events the test appends to."""

    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    def mark(self) -> int:
        return len(self.events)

    def history(self, since: int = 0) -> list[AlertEvent]:
        return [e for e in self.events if e.seq > since]

    def add(self, name: str, state: str) -> None:
        self.events.append(AlertEvent(len(self.events) + 1, name, state, time.time()))


def test_responder_runs_the_matching_automation_once_per_firing() -> None:
    history = FakeHistory()
    history.add("TradingBotDown", "firing")  # before the responder started: not its business
    calls: list[str] = []

    def restart(event: AlertEvent) -> None:
        calls.append(event.name)

    def broken(event: AlertEvent) -> None:
        raise RuntimeError("kubectl: command not found")

    with Responder(history, {"TradingBotDown": restart, "DatabaseDown": broken}, poll_s=0.01) as r:
        history.add("TradingBotDown", "firing")
        history.add("HighRiskExposure", "firing")  # no automation for it
        history.add("TradingBotDown", "resolved")
        history.add("DatabaseDown", "firing")
        response = r.wait_for_response("DatabaseDown", timeout_s=5)
    assert calls == ["TradingBotDown"]
    assert response is not None
    assert response.error == "RuntimeError: kubectl: command not found"
    assert [(x.event.name, x.ok) for x in r.responses] == [
        ("TradingBotDown", True),
        ("DatabaseDown", False),
    ]
    assert all(x.finished_at >= x.started_at for x in r.responses)
