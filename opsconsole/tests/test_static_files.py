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
