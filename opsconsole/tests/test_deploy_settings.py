"""Production settings from the environment: `check --deploy` is clean, HTTPS is enforced."""

import os
import subprocess
import sys

import pytest

from opsconsole.env import BASE_DIR

# The production values README's Configuration table documents (plus a real secret and host).
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7Gq2-" + "kP9vN3mZ8rT1yW4bL6cD0fH5jA" * 3,
    "ALLOWED_HOSTS": "ops.example.com",
    "OPSCONSOLE_HTTPS": "1",
    "OPSCONSOLE_SSL_REDIRECT": "1",
    "OPSCONSOLE_HSTS_SECONDS": "31536000",
    "OPSCONSOLE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "OPSCONSOLE_HSTS_PRELOAD": "1",
}
DEPLOY_ENV_NAMES = [*PRODUCTION, "OPSCONSOLE_SECURE_COOKIES", "OPSCONSOLE_PROXY_SSL_HEADER"]


def check_deploy(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in DEPLOY_ENV_NAMES}
    base.update(DJANGO_SETTINGS_MODULE="opsconsole.settings", OPSCONSOLE_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_variables(tmp_path):
    result = check_deploy(tmp_path, PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "W0" not in output and "no issues" in output


def test_check_deploy_warns_without_hsts_and_redirect(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if not k.startswith(("OPSCONSOLE_HSTS", "OPSCONSOLE_SSL"))}
    output = check_deploy(tmp_path, env).stderr
    assert "security.W004" in output and "security.W008" in output


@pytest.mark.django_db
def test_ssl_redirect_and_hsts_apply_to_pages_but_not_to_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/admin/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/admin/login/"
    assert client.get("/health").status_code in (200, 503)
    secure = client.get("/admin/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
