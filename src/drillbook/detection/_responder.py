"""The auto-remediation mode: when an alert fires, run the runbook automation that answers it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from drillbook.detection._client import AlertEvent

__all__ = ["Responder", "Response"]

Handler = Callable[[AlertEvent], object]


class _History(Protocol):
    def mark(self) -> int: ...
    def history(self, since: int = 0) -> list[AlertEvent]: ...


@dataclass(frozen=True)
class Response:
    """One automation run for one firing alert: when it started and ended, and how."""

    event: AlertEvent
    started_at: float
    finished_at: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class Responder:
    """Watch the responder's history from now on; for each alert that fires with a handler,
    run the handler once (one at a time, in order) and record a :class:`Response`.

    >>> with Responder(detection, {"TradingBotDown": restart_backend}) as responder:
    ...     ...  # cause the failure
    >>> responder.responses
    """

    def __init__(
        self,
        detection: _History,
        handlers: Mapping[str, Handler],
        *,
        poll_s: float = 0.2,
        clock: Callable[[], float] = time.time,
        stop_timeout_s: float = 60.0,
    ) -> None:
        self._detection = detection
        self._handlers = dict(handlers)
        self._poll_s = poll_s
        self._clock = clock
        self._stop_timeout_s = stop_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since = 0
        self.responses: list[Response] = []
        self.poll_errors: list[str] = []

    def __enter__(self) -> Responder:
        self._since = self._detection.mark()
        self._thread = threading.Thread(target=self._loop, name="drillbook-responder", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._stop_timeout_s)

    def wait_for_response(self, alert: str, timeout_s: float) -> Response | None:
        """The first finished response to ``alert``, or None after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for response in list(self.responses):
                if response.event.name == alert:
                    return response
            time.sleep(0.05)
        return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                events = self._detection.history(self._since)
            except Exception as exc:  # the responder container restarting: keep watching
                self.poll_errors.append(str(exc))
                del self.poll_errors[:-20]
                events = []
            for event in events:
                self._since = max(self._since, event.seq)
                handler = self._handlers.get(event.name)
                if event.state != "firing" or handler is None:
                    continue
                started = self._clock()
                try:
                    handler(event)
                    error = ""
                except Exception as exc:  # recorded; the drill decides what a failure means
                    error = f"{type(exc).__name__}: {exc}"
                self.responses.append(Response(event, started, self._clock(), error))
            self._stop.wait(self._poll_s)
