"""`make run` serves the admin, API docs and dashboard assets itself, with DEBUG off."""

import pytest
from django.core.management import call_command
from django.test import Client, override_settings


@pytest.fixture(scope="module")
def collected_root(tmp_path_factory):
    """collectstatic once for the module: it copies every app's assets (seconds), and no test changes them."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


@pytest.fixture
def collected_static(settings, collected_root):
    settings.DEBUG = False
    settings.STATIC_ROOT = collected_root
    return settings.STATIC_ROOT


@pytest.mark.parametrize(
    "path",
    [
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/vendor/chartjs-4.6.1/chart.umd.min.js",
    ],
)
def test_static_assets_are_served_without_debug(collected_static, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_the_favicon_is_served_so_browsers_log_no_404(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/opsconsole/favicon.ico"
    icon = finders.find("opsconsole/favicon.ico")
    with open(icon, "rb") as handle:
        assert handle.read(4) == b"\x00\x00\x01\x00"  # an ICO header
