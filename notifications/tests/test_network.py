import ipaddress

import httpx
import pytest

from notifications.channels.network import address_refusal, check_url, guarded_http_client
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
    assert isinstance(response, httpx.Response)
