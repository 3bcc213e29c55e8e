"""The SSRF guard: which addresses a channel may reach, and an HTTP client that enforces it.

A target is checked when the channel is created or changed, and again on every
connection: `GuardedNetworkBackend` resolves the host itself, refuses the connection
if ANY address is forbidden (a name that resolves to one public and one private
address is refused, so DNS answers cannot smuggle a private one in), and connects to
the address it checked — not to a name resolved again later (DNS rebinding). TLS SNI
and the Host header still carry the original name, because httpcore takes those from
the URL, not from the socket.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from notifications.conf import notify_settings
from notifications.exceptions import UnresolvableHost, UnsafeTarget

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not be reached, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
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
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
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


class GuardedNetworkBackend(httpcore.SyncBackend):
    """Open TCP connections only to addresses that pass the guard, and only to those."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except UnresolvableHost as exc:
            # A DNS failure is a network error (retried), unlike a refused address.
            raise httpcore.ConnectError(str(exc)) from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error


def guarded_http_client(*, max_connections: int = 20, timeout: float | None = None) -> httpx.Client:
    """An httpx client for deliveries: guarded connections, no redirects, no proxies from the environment.

    Environment proxies are ignored because a proxy would make the connection for us and
    bypass the guard.
    """
    transport = httpx.HTTPTransport(
        trust_env=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )
    # httpx does not expose httpcore's `network_backend`; the pool makes every
    # connection through this attribute, so replacing it guards them all.
    transport._pool._network_backend = GuardedNetworkBackend()
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=timeout if timeout is not None else notify_settings.HTTP_TIMEOUT,
        trust_env=False,
        headers={"User-Agent": "OpsConsole-Notifications/1.0"},
    )
