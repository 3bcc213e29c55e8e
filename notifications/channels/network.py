"""The SSRF guard: which addresses a channel may reach, and an HTTP client that enforces it.

A target is checked when the channel is created or changed, and again on every
connection: `guarded_socket` resolves the host itself, refuses the connection
if ANY address is forbidden (a name that resolves to one public and one private
address is refused, so DNS answers cannot smuggle a private one in), and connects to
the address it checked — not to a name resolved again later (DNS rebinding). TLS SNI
and the Host header still carry the original name: the connection is made for the
URL's host, only its socket is opened to the checked address.
"""

from __future__ import annotations

import http.client
import ipaddress
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

from notifications.conf import notify_settings
from notifications.exceptions import UnresolvableHost, UnsafeTarget

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "OpsConsole-Notifications/1.0"
# Enough of an answer for the attempt's excerpt; a longer body is not read on (the connection is closed).
MAX_BODY_BYTES = 64 * 1024

LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to an IPv4 host, if any.

    A NAT64 gateway (64:ff9b::/96, RFC 6052; 64:ff9b:1::/48, RFC 8215), a 6to4 relay
    (2002::/16), a Teredo relay, or the host's own stack (IPv4-mapped ::ffff:0:0/96,
    IPv4-compatible ::/96) delivers such a connection to the IPv4 address, so that is
    the address the guard must judge: 64:ff9b::a9fe:a9fe is 169.254.169.254.
    """
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in prefix for prefix in NAT64_PREFIXES) or (
        address in IPV4_COMPATIBLE and int(address) > 1  # :: and ::1 are not IPv4-compatible addresses
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not be reached, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded, allow_private=allow_private)
            if reason:
                return f"{address} carries IPv4 {reason}"
            if address.ipv4_mapped:  # not an IPv6 destination at all: the IPv4 one is all there is
                return None
            # A tunnel prefix must pass as an IPv6 address too (Teredo's 2001::/32 is not global).
    if any(address in network for network in LINK_LOCAL) or address.is_link_local:
        return f"{address} is link-local (e.g. cloud metadata) and is always refused"
    if address.is_unspecified or address.is_multicast:
        return f"{address} is not a unicast address"
    if address.is_loopback or address.is_private or not address.is_global:
        if allow_private:
            return None
        return f"{address} is a loopback or private address (set OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE=1 to allow)"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvableHost(f"host {host!r} does not resolve: {exc.strerror}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(f"host {host!r} does not resolve")
    return addresses


def checked_addresses(host: str, port: int, *, allow_private: bool | None = None) -> list[IPAddress]:
    """Resolve `host` and return its addresses, or raise UnsafeTarget if any is forbidden."""
    if allow_private is None:
        allow_private = notify_settings.ALLOW_PRIVATE
    addresses = resolve(host.strip("[]"), port)
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason:
            raise UnsafeTarget(f"{host} resolves to {reason}")
    return addresses


def check_url(url: str) -> list[IPAddress]:
    """Check the host of an http(s) URL; raise UnsafeTarget when it may not be reached."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise UnsafeTarget("URL has no host")
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    return checked_addresses(parts.hostname, port)


def guarded_socket(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first address of `host` that answers, all of them having passed the guard."""
    last_error: OSError | None = None
    for address in checked_addresses(host, port):
        try:
            sock = socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            last_error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    assert last_error is not None
    raise last_error


class GuardedHTTPConnection(http.client.HTTPConnection):
    """http.client's connection, opening its socket through the guard (never by name)."""

    def connect(self) -> None:
        self.sock = guarded_socket(self.host, self.port, self.timeout)


class GuardedHTTPSConnection(GuardedHTTPConnection):
    """TLS over a guarded socket; SNI and certificate checks use the URL's host name."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, *, timeout: float | None, ssl_context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout)
        self.ssl_context = ssl_context

    def connect(self) -> None:
        super().connect()
        self.sock = self.ssl_context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class HttpAnswer:
    """An endpoint's answer: status, headers (case-insensitive `.get`) and the start of the body."""

    status_code: int
    headers: Message
    text: str


ConnectionKey = tuple[str, str, int]


class GuardedHttpClient:
    """POSTs for deliveries over keep-alive connections shared by all delivery threads.

    Guarded like every delivery connection (see the module docstring): each new
    connection resolves, checks and connects to a checked address; a kept-alive one was
    checked when it was opened. No redirects are followed and no proxy is used, since a
    proxy would make the connection for us and bypass the guard.

    Built on http.client rather than httpx: with 16 delivery threads, httpx's shared pool
    cost ~660 µs of CPU per request (mostly the pool's lock and bookkeeping contending for
    the GIL) against ~140 µs here, which made the client, not the endpoint, the limit.
    A connection is used by one thread at a time; only taking and returning it is locked.
    """

    def __init__(
        self, *, max_keepalive: int = 20, timeout: float | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.timeout = timeout if timeout is not None else float(notify_settings.HTTP_TIMEOUT)
        self.max_keepalive = max_keepalive
        # By default the CA bundle httpx uses (certifi), as deliveries did before; imported
        # here, not at start-up, where it would cost every process ~17 MB.
        if ssl_context is None:
            import httpx

            ssl_context = httpx.create_ssl_context(trust_env=False)
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._idle: dict[ConnectionKey, list[GuardedHTTPConnection]] = {}
        self._idle_count = 0
        self._closed = False

    def post(self, url: str, *, content: bytes, headers: dict[str, str] | None = None) -> HttpAnswer:
        """POST `content` to `url`; raise UnsafeTarget, OSError or http.client.HTTPException when it fails."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise UnsafeTarget(f"not an http(s) URL: {url!r}")
        key = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._take(key) or self._open(key)
        try:
            connection.request("POST", path, body=content, headers={"User-Agent": USER_AGENT, **(headers or {})})
            response = connection.getresponse()
            body = response.read(MAX_BODY_BYTES)
        except BaseException:
            connection.close()
            raise
        # Reused only when the whole answer was read and the server keeps the connection open.
        if response.isclosed() and connection.sock is not None:
            self._give_back(key, connection)
        else:
            connection.close()
        return HttpAnswer(status_code=response.status, headers=response.headers, text=_decode(body, response.headers))

    def _open(self, key: ConnectionKey) -> GuardedHTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            return GuardedHTTPSConnection(host, port, timeout=self.timeout, ssl_context=self._ssl_context)
        return GuardedHTTPConnection(host, port, timeout=self.timeout)

    def _take(self, key: ConnectionKey) -> GuardedHTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                connection = idle.pop()
                self._idle_count -= 1
            if connection.sock is not None and not _is_readable(connection.sock):
                return connection
            # Readable while idle means the server closed it (or sent something unasked): discard.
            connection.close()

    def _give_back(self, key: ConnectionKey, connection: GuardedHTTPConnection) -> None:
        with self._lock:
            if not self._closed and self._idle_count < self.max_keepalive:
                self._idle.setdefault(key, []).append(connection)
                self._idle_count += 1
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle, self._idle_count = self._idle, {}, 0
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def __enter__(self) -> GuardedHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_readable(sock: socket.socket) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


def _decode(body: bytes, headers: Message) -> str:
    try:
        return body.decode(headers.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def guarded_http_client(*, max_keepalive: int = 20, timeout: float | None = None) -> GuardedHttpClient:
    """The HTTP client for deliveries: guarded connections, kept alive, no redirects, no proxies."""
    return GuardedHttpClient(max_keepalive=max_keepalive, timeout=timeout)
