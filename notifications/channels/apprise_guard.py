"""The SSRF guard for Apprise deliveries: no redirects, and connections only to checked addresses.

Apprise's plugins make their own connections — through `requests` (HTTP APIs) and
`smtplib` (email) — and resolve host names themselves, so the checks made before a
delivery (`contacted_hosts`) could be undone by a redirect (a 302 to a loopback server is
followed by `requests` by default) or by a DNS answer that changes in between (rebinding).

While a delivery runs inside `apprise_guard()`, three hooks apply to the calls made in its
context (a ContextVar: Apprise copies the context into the threads it runs plugins on):

1. `requests.Session.send` follows no redirect and uses no proxy (a proxy would make the
   connection for us, past the guard); a 3xx answer is recorded, and the delivery fails
   with the message a webhook gets.
2. `urllib3.util.connection.create_connection` (every `requests` connection) and
3. `smtplib.SMTP._get_socket` (SMTP and SMTPS; STARTTLS upgrades that socket) resolve the
   host through the guard and connect to the address that was checked, never to the name
   (TLS still verifies the certificate against the name).

Hooks rather than arguments, because Apprise 2.2 gives no way to pass them: most plugins
call `requests.post(...)` themselves, without `allow_redirects` (its `redirect=no` URL option
reaches a handful of plugins only). Outside a guarded delivery the hooks call the original
functions unchanged, so other users of `requests` and `smtplib` in the process are not affected.

Plugins that open sockets in other ways (MQTT, XMPP, Nostr, APRS, remote syslog) would
bypass the hooks: their schemes are refused even when listed in APPRISE_SCHEMES.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from notifications.channels.network import checked_addresses
from notifications.exceptions import UnsafeTarget

#: Apprise schemes whose plugins connect without `requests` or `smtplib`; the guard cannot see them.
UNGUARDED_SCHEMES = frozenset({"mqtt", "mqtts", "xmpp", "xmpps", "nostr", "aprs", "rsyslog"})


class RefusedConnection(ConnectionError):
    """Raised into the plugin in place of a forbidden connection; an OSError, so plugins handle it as
    a failed request. The guard keeps the reason and reports it after the delivery."""


@dataclass
class GuardState:
    """What the guard refused during one delivery."""

    refusal: UnsafeTarget | None = None
    redirect_status: int | None = None
    redirect_location: str = ""

    def refuse(self, exc: UnsafeTarget) -> None:
        if self.refusal is None:
            self.refusal = exc


_current: ContextVar[GuardState | None] = ContextVar("apprise_guard", default=None)
_install_lock = threading.Lock()
_installed = False


def _guarded_connect(host: str, port: int, connect: Any) -> socket.socket:
    """Connect with `connect((address, port))` to the first checked address of `host` that answers."""
    state = _current.get()
    assert state is not None
    try:
        addresses = checked_addresses(host.strip("[]"), port)
    except UnsafeTarget as exc:
        state.refuse(exc)
        raise RefusedConnection(str(exc)) from exc
    last_error: OSError | None = None
    for address in addresses:
        try:
            return connect((str(address), port))
        except OSError as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


def install() -> None:
    """Put the hooks in place (once per process; they do nothing outside `apprise_guard()`)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import requests
        import urllib3.util.connection as urllib3_connection

        original_send = requests.Session.send
        original_create_connection = urllib3_connection.create_connection
        original_get_socket = smtplib.SMTP._get_socket  # type: ignore[attr-defined]  # private, not in typeshed

        def send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
            state = _current.get()
            if state is None:
                return original_send(self, request, **kwargs)
            kwargs["allow_redirects"] = False
            kwargs["proxies"] = {}
            response = original_send(self, request, **kwargs)
            if 300 <= response.status_code < 400 and state.redirect_status is None:
                state.redirect_status = response.status_code
                state.redirect_location = response.headers.get("Location", "?")
            return response

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            if _current.get() is None:
                return original_create_connection(address, *args, **kwargs)
            host, port = address
            return _guarded_connect(host, port, lambda checked: original_create_connection(checked, *args, **kwargs))

        def get_socket(self: smtplib.SMTP, host: str, port: int, timeout: float) -> socket.socket:
            if _current.get() is None:
                return original_get_socket(self, host, port, timeout)
            # SMTP_SSL wraps this socket with server_hostname=self._host: the name, not the address.
            return _guarded_connect(host, port, lambda checked: original_get_socket(self, *checked, timeout))

        requests.Session.send = send  # type: ignore[method-assign]
        urllib3_connection.create_connection = create_connection
        smtplib.SMTP._get_socket = get_socket  # type: ignore[attr-defined]
        _installed = True


@contextlib.contextmanager
def apprise_guard() -> Iterator[GuardState]:
    """Guard the connections Apprise makes in this context; the state says what was refused."""
    install()
    state = GuardState()
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)
