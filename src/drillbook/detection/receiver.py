"""The alert receiver: Alertmanager's webhook target in the lab (the ``responder`` service).

It records, for every alert, when it started firing and when it resolved, as seen at the moment
the webhook arrived (the incident clock's "detected" time), and serves that history to drillbook
over HTTP. Standard library only: the lab mounts this one file into its Python image.

    POST /alerts              Alertmanager webhook (version 4 payload)
    GET  /alerts?since=SEQ    transitions after SEQ: {"seq": last, "events": [...]}
    GET  /alerts/active       alerts firing now
    GET  /health              200 {"status": "ok", "events": n, "notifications": n}

An event: ``seq``, ``name``, ``state`` (firing | resolved), ``labels``, ``annotations``,
``starts_at``, ``ends_at`` (as Prometheus sent them), ``received_at`` (unix seconds, this
receiver's clock: the host's clock, containers share the kernel's), ``fingerprint``.
A repeated notification for an alert already in that state is counted, not recorded again.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["AlertLog", "main", "serve"]

MAX_EVENTS = 10_000
MAX_BODY = 4 * 1024 * 1024


class AlertLog:
    """Transitions of alerts, by fingerprint; thread-safe, bounded to ``MAX_EVENTS``."""

    def __init__(self, clock: Any = time.time, max_events: int = MAX_EVENTS) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._state: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self.notifications = 0

    def record(self, payload: Any) -> int:
        """Record one webhook payload; return how many transitions it held."""
        if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
            raise ValueError("expected an Alertmanager webhook payload with an 'alerts' list")
        now = self._clock()
        added = 0
        with self._lock:
            self.notifications += 1
            for alert in payload["alerts"]:
                if not isinstance(alert, dict):
                    raise ValueError("each entry of 'alerts' must be an object")
                labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
                state = "resolved" if alert.get("status") == "resolved" else "firing"
                fingerprint = str(alert.get("fingerprint") or json.dumps(labels, sort_keys=True))
                previous = self._state.get(fingerprint)
                if previous is not None and previous["state"] == state:
                    continue
                if previous is None and state == "resolved":
                    # resolved without a firing seen here (receiver restarted): still a fact
                    pass
                self._seq += 1
                event = {
                    "seq": self._seq,
                    "name": labels.get("alertname", ""),
                    "state": state,
                    "labels": labels,
                    "annotations": {
                        str(k): str(v) for k, v in (alert.get("annotations") or {}).items()
                    },
                    "starts_at": alert.get("startsAt"),
                    "ends_at": alert.get("endsAt"),
                    "received_at": now,
                    "fingerprint": fingerprint,
                }
                self._events.append(event)
                self._state[fingerprint] = event
                added += 1
        return added

    def since(self, seq: int) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            return self._seq, [e for e in self._events if e["seq"] > seq]

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(
                (e for e in self._state.values() if e["state"] == "firing"),
                key=lambda e: e["seq"],
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def _handler(log: AlertLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "drillbook-responder/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the history is the log
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/health":
                self._send(
                    200, {"status": "ok", "events": len(log), "notifications": log.notifications}
                )
            elif url.path == "/alerts":
                raw = parse_qs(url.query).get("since", ["0"])[0]
                if not raw.isdigit():
                    self._send(400, {"error": f"since={raw!r}: expected a sequence number"})
                    return
                seq, events = log.since(int(raw))
                self._send(200, {"seq": seq, "events": events})
            elif url.path == "/alerts/active":
                self._send(200, {"alerts": log.active()})
            else:
                self._send(404, {"error": f"no route {url.path}"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/alerts":
                self._send(404, {"error": f"no route {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": f"payload over {MAX_BODY} bytes"})
                return
            try:
                added = log.record(json.loads(self.rfile.read(length) or b"null"))
            except (ValueError, json.JSONDecodeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            self._send(200, {"recorded": added})

    return Handler


def serve(
    host: str = "0.0.0.0", port: int = 9095, log: AlertLog | None = None
) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (not yet serving: call ``serve_forever``)."""
    server = ThreadingHTTPServer((host, port), _handler(log or AlertLog()))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9095)
    args = parser.parse_args(argv)
    server = serve(args.host, args.port)
    print(f"alert receiver on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
