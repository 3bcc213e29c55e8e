import ipaddress
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from notifications.channels import network
from notifications.channels.network import (
    MAX_BODY_BYTES,
    GuardedHttpClient,
    address_refusal,
    check_url,
    guarded_http_client,
)
from notifications.exceptions import UnsafeTarget


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "::1", "fc00::1"])
def test_loopback_and_private_addresses_are_refused_by_default(address):
    assert address_refusal(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1"])
def test_loopback_and_private_addresses_are_allowed_when_configured(address):
    assert address_refusal(ipaddress.ip_address(address), allow_private=True) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.1.1", "fe80::1", "::ffff:169.254.169.254"])
def test_link_local_addresses_are_refused_even_when_private_is_allowed(address):
    assert "link-local" in address_refusal(ipaddress.ip_address(address), allow_private=True)


def test_public_address_is_allowed():
    assert address_refusal(ipaddress.ip_address("93.184.215.14"), allow_private=False) is None


def test_a_name_resolving_to_loopback_is_refused_without_the_setting(settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_url("http://localhost:9/hook")


def test_cloud_metadata_url_is_refused_with_private_allowed(settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(UnsafeTarget, match="link-local"):
        check_url("http://169.254.169.254/latest/meta-data/")


def test_guarded_client_refuses_to_connect_to_loopback_without_the_setting(httpserver, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    httpserver.expect_request("/hook").respond_with_data("ok")
    with guarded_http_client() as client, pytest.raises(UnsafeTarget):
        client.post(httpserver.url_for("/hook"), content=b"{}")
    assert httpserver.log == []


def test_guarded_client_connects_to_the_checked_address_and_keeps_the_host_header(httpserver, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    httpserver.expect_request("/hook").respond_with_data("ok")
    url = f"http://localhost:{httpserver.port}/hook"
    with guarded_http_client() as client:
        response = client.post(url, content=b"{}")
    assert response.status_code == 200
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"localhost:{httpserver.port}"


def test_guarded_client_does_not_follow_redirects(httpserver, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/"}
    )
    with guarded_http_client() as client:
        response = client.post(httpserver.url_for("/hook"), content=b"{}")
    assert response.status_code == 302
    assert response.headers["Location"] == "http://169.254.169.254/"
    assert len(httpserver.log) == 1


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive. `?close` answers with Connection: close, `?big` with a body past the
    read limit, `?together` only once all the server's barrier parties are in (all in flight at once)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.connections.append(self.client_address)

    def do_POST(self):  # noqa: N802 - http.server hook
        self.rfile.read(int(self.headers["Content-Length"]))
        if "together" in self.path:
            self.server.barrier.wait(timeout=10)
        body = b"x" * (MAX_BODY_BYTES + 1) if "big" in self.path else b""
        self.send_response(200 if body else 204)
        if body:
            self.send_header("Content-Length", str(len(body)))
        if "close" in self.path:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def keepalive_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    server.connections = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def address_checks(monkeypatch):
    """Every host the guard checks, in order."""
    checked = []
    real = network.checked_addresses

    def spy(host, port, **kwargs):
        checked.append(host)
        return real(host, port, **kwargs)

    monkeypatch.setattr(network, "checked_addresses", spy)
    return checked


def test_the_client_keeps_one_connection_alive_for_sequential_posts(keepalive_server, address_checks, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    url = f"http://127.0.0.1:{keepalive_server.server_port}/hook"
    with guarded_http_client() as client:
        statuses = [client.post(url, content=b"{}").status_code for _ in range(3)]
    assert statuses == [204, 204, 204]
    assert len(keepalive_server.connections) == 1
    assert address_checks == ["127.0.0.1"]


def test_every_new_connection_is_checked_again(keepalive_server, address_checks, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    url = f"http://localhost:{keepalive_server.server_port}/hook?close"
    with guarded_http_client() as client:
        client.post(url, content=b"{}")
        client.post(url, content=b"{}")
        settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
        with pytest.raises(UnsafeTarget, match="loopback"):
            client.post(url, content=b"{}")
    assert address_checks == ["localhost", "localhost", "localhost"]
    assert len(keepalive_server.connections) == 2


def test_concurrent_posts_open_a_checked_connection_each(keepalive_server, address_checks, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    keepalive_server.barrier = threading.Barrier(4)
    url = f"http://127.0.0.1:{keepalive_server.server_port}/hook?together"
    with guarded_http_client() as client, ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: client.post(url, content=b"{}").status_code, range(4)))
    assert statuses == [204] * 4
    assert len(keepalive_server.connections) == 4
    assert address_checks == ["127.0.0.1"] * 4


def test_a_connection_whose_answer_was_not_read_to_the_end_is_not_reused(keepalive_server, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    base = f"http://127.0.0.1:{keepalive_server.server_port}/hook"
    with guarded_http_client() as client:
        answer = client.post(f"{base}?big", content=b"{}")
        client.post(base, content=b"{}")
    assert answer.status_code == 200
    assert len(answer.text) == MAX_BODY_BYTES
    assert len(keepalive_server.connections) == 2


TLS_CERT = Path(__file__).parent / "tls" / "localhost.pem"  # self-signed for DNS:localhost only, test use only


@pytest.fixture
def tls_server():
    """The keep-alive server behind TLS; `server_names` records the SNI name of each handshake."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    server.connections = []
    server.server_names = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_CERT)
    context.sni_callback = lambda sock, name, ctx: server.server_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def trusting_the_test_certificate():
    return GuardedHttpClient(ssl_context=ssl.create_default_context(cafile=str(TLS_CERT)))


def test_https_connects_to_the_checked_address_with_the_url_host_as_sni(tls_server, address_checks, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    with trusting_the_test_certificate() as client:
        answer = client.post(f"https://localhost:{tls_server.server_port}/hook", content=b"{}")
    assert answer.status_code == 204
    assert tls_server.server_names == ["localhost"]
    assert address_checks == ["localhost"]


def test_https_verifies_the_certificate_against_the_url_host(tls_server, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    with trusting_the_test_certificate() as client, pytest.raises(ssl.SSLCertVerificationError, match="127.0.0.1"):
        client.post(f"https://127.0.0.1:{tls_server.server_port}/hook", content=b"{}")


def test_https_refuses_a_certificate_outside_the_ca_bundle(tls_server, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    with guarded_http_client() as client, pytest.raises(ssl.SSLCertVerificationError):
        client.post(f"https://localhost:{tls_server.server_port}/hook", content=b"{}")


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 (RFC 6052)
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215)
        "2002:a9fe:a9fe::1",  # 6to4
        "::169.254.169.254",  # IPv4-compatible
        "::ffff:169.254.169.254",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, client 169.254.169.254 (stored inverted)
    ],
)
def test_ipv4_link_local_inside_an_ipv6_address_is_refused_even_when_private_is_allowed(address):
    assert "link-local" in address_refusal(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:0a00:0001::1", "::10.0.0.1"])
def test_ipv4_loopback_or_private_inside_an_ipv6_address_is_refused_by_default(address):
    assert "private" in address_refusal(ipaddress.ip_address(address), allow_private=False)
    assert address_refusal(ipaddress.ip_address(address), allow_private=True) is None


@pytest.mark.parametrize("address", ["64:ff9b::5db8:d70e", "2002:5db8:d70e::1", "::ffff:93.184.215.14"])
def test_a_public_ipv4_inside_an_ipv6_address_is_allowed(address):
    assert address_refusal(ipaddress.ip_address(address), allow_private=False) is None
