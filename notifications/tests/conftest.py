"""Real peers for notification tests: an HTTP sink that verifies signatures, an SMTP server."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def allow_private(settings):
    """Tests talk to a sink on 127.0.0.1, which the SSRF guard refuses unless private targets are allowed."""
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def notify_config(settings):
    """Change NOTIFICATIONS keys for one test: notify_config(BACKOFF_BASE=1)."""

    def change(**values):
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **values}

    return change


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    at: float
    verified: bool | None = None
    message_id: str = ""


@dataclass
class Sink:
    """Answers each request with the next scripted status (the last one repeats) and records it."""

    server: object
    path: str = "/hook"
    statuses: list[int] = field(default_factory=lambda: [204])
    headers: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        headers = dict(request.headers)
        message_id = request.headers.get("webhook-id", "")
        with self.lock:
            if message_id:
                self.in_flight[message_id] = self.in_flight.get(message_id, 0) + 1
                if self.in_flight[message_id] > 1:
                    self.overlaps.append(message_id)
            index = len(self.received)
            verified = None
            if self.secret:
                try:
                    Webhook(self.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
            self.received.append(Received(headers, body, request.path, time.monotonic(), verified, message_id))
        try:
            if self.delay:
                time.sleep(self.delay)
            status = self.statuses[min(index, len(self.statuses) - 1)]
            return Response(f"answer {status}" if status != 204 else "", status=status, headers=self.headers)
        finally:
            with self.lock:
                if message_id:
                    self.in_flight[message_id] -= 1


class QuickStopHTTPServer(HTTPServer):
    """Stops in ~20 ms: serve_forever's default 0.5 s poll made every test using a sink wait
    half a second in teardown (about 60 tests, 30 s of `make test`)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)


@pytest.fixture
def threaded_httpserver():
    """An HTTP server on 127.0.0.1 that answers requests concurrently (slow handlers block no one)."""
    server = QuickStopHTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def sink(threaded_httpserver, allow_private):
    """A webhook receiver on 127.0.0.1: `sink.statuses = [503, 204]`, `sink.secret = channel.secret`."""
    return make_sink(threaded_httpserver, "/hook")


def make_sink(server, path: str, **options) -> Sink:
    the_sink = Sink(server=server, path=path, **options)
    server.expect_request(path).respond_with_handler(the_sink.handle)
    return the_sink


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailCollector:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's SMTP backend points at it."""
    collector = MailCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield collector
    finally:
        controller.stop()


@pytest.fixture
def hook(sink):
    """A webhook channel pointing at the sink, whose signatures the sink verifies."""
    from notifications.tests.factories import WebhookChannelFactory

    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    return channel
