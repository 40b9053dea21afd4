"""A real HTTP server on loopback that receives Relais's webhooks and checks them the way docs/webhooks.md tells a
receiver to (#22): HMAC-SHA256 of « timestamp.body » with the subscription's secret, a timestamp within five
minutes, each delivery id processed once. It can be told to fail (500) a number of times, then to recover."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOLERANCE = 300  # seconds: the replay window of the documentation


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def signature_valid(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """The documentation's verification, written here again on purpose (not the application's code)."""
    try:
        timestamp = int(headers["Relais-Webhook-Timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    given = [part.removeprefix("v1=") for part in headers.get("Relais-Webhook-Signature", "").split()
             if part.startswith("v1=")]
    return any(hmac.compare_digest(expected, candidate) for candidate in given)


class Receiver:
    def __init__(self) -> None:
        self.secrets: list[str] = []  # the subscriptions' secrets: one of them must have signed
        self.clock: Callable[[], float] = time.time
        self.received: list[Received] = []
        self.processed: dict[str, int] = {}  # delivery id → times processed (once, if idempotent)
        self._failures_left = 0
        self._failure_status = 500
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/relais/hook?source=test"

    def fail(self, times: int, status: int = 500) -> None:
        """Answer `status` to the next `times` deliveries, then 200 again."""
        self._failures_left, self._failure_status = times, status

    def accepted(self) -> list[Received]:
        return [item for item in self.received if item.answered == 200]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name: value for name, value in self.headers.items()}
                with receiver._lock:
                    verified = any(signature_valid(secret, headers, body, receiver.clock())
                                   for secret in receiver.secrets)
                    if receiver._failures_left > 0:
                        receiver._failures_left -= 1
                        status = receiver._failure_status
                    elif not verified:
                        status = 401
                    else:
                        status = 200
                        delivery_id = headers.get("Relais-Webhook-Id", "")
                        receiver.processed[delivery_id] = receiver.processed.get(delivery_id, 0) + 1
                    receiver.received.append(Received(headers, body, verified, status))
                answer = b'{"ok": true}' if status == 200 else b"Erreur du recepteur"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
