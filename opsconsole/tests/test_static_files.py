"""`make run` serves the admin, API docs and dashboard assets itself, with DEBUG off."""

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected_static(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
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
