"""LOG_FORMAT=json and X-Request-ID: one JSON object a line from every process, the request's id on its lines."""

import io
import json
import logging
import logging.config
import subprocess
import sys
import time

import pytest

from opsconsole.env import BASE_DIR
from opsconsole.logs import logging_config, request_id_var
from opsconsole.request_id import MAX_LENGTH, request_id_from
from opsconsole.testing import worker_env


@pytest.fixture
def json_lines():
    """Log the 'opsconsole' and 'django' loggers through LOG_FORMAT=json's handler into a buffer; read it back."""
    config = logging_config(log_format="json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(config["filters"]["request_id"]["()"]())
    formatter = config["formatters"]["json"]
    handler.setFormatter(
        logging.config.DictConfigurator({}).configure_custom(dict(formatter))  # the same factory dictConfig uses
    )
    loggers = [logging.getLogger(name) for name in ("opsconsole", "django", "test")]
    for logger in loggers:
        logger.addHandler(handler)
    levels = [logger.level for logger in loggers]
    logging.getLogger("opsconsole").setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_a_json_line_has_ts_level_logger_and_message_and_no_request_id_outside_a_request(json_lines):
    logging.getLogger("test").warning("disk %s full", "/var")
    (line,) = json_lines()
    assert line["level"] == "WARNING" and line["logger"] == "test" and line["message"] == "disk /var full"
    assert line["ts"].endswith("+00:00")
    assert "request_id" not in line


def test_lines_logged_inside_a_request_carry_its_id(json_lines):
    token = request_id_var.set("abc-123")
    try:
        logging.getLogger("test").error("boom")
    finally:
        request_id_var.reset(token)
    assert json_lines()[0]["request_id"] == "abc-123"


@pytest.mark.django_db
def test_an_incoming_request_id_is_honoured_echoed_and_on_the_request_line(client, json_lines):
    response = client.get("/system/", HTTP_X_REQUEST_ID="trace-7f3a.1")
    assert response["X-Request-ID"] == "trace-7f3a.1"
    request_lines = [line for line in json_lines() if line["logger"] == "opsconsole.request"]
    assert request_lines and all(line["request_id"] == "trace-7f3a.1" for line in request_lines)
    assert (request_lines[-1]["method"], request_lines[-1]["path"]) == ("GET", "/system/")
    assert request_lines[-1]["status"] == response.status_code


@pytest.mark.django_db
def test_without_a_request_id_one_is_made_for_each_request(client):
    first = client.get("/system/")["X-Request-ID"]
    second = client.get("/admin/login/")["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize(
    "given",
    ["", "a" * (MAX_LENGTH + 1), "id with spaces", 'x"}{"level":"ERROR', "line\nbreak", "ünïcode", "<script>"],
)
def test_an_unsafe_or_oversized_request_id_is_replaced(given):
    made = request_id_from(given)
    assert made != given and len(made) == 32


@pytest.mark.django_db
def test_an_unsafe_request_id_header_is_not_echoed(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="evil\tvalue")
    assert response["X-Request-ID"] != "evil\tvalue" and len(response["X-Request-ID"]) == 32


def test_text_lines_end_with_the_request_id_on_request_lines():
    formatter = logging_config()["formatters"]["text"]["()"]("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "hello", None, None)
    assert formatter.format(record) == "INFO test: hello"
    record.request_id = "r1"
    assert formatter.format(record) == "INFO test: hello request_id=r1"


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml")


def assert_every_line_is_json(stderr: str) -> list[dict]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line on stderr: {line!r}\n--- all of stderr:\n{stderr[-3000:]}")
    return parsed


def test_a_management_command_logs_json_lines_warnings_included():
    code = "import logging, warnings; logging.getLogger('opsconsole.x').warning('hello'); warnings.warn('careful')"
    env = worker_env(LOG_FORMAT="json", OPSCONSOLE_ENV_FILE="")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = assert_every_line_is_json(result.stderr)
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("opsconsole.x", "WARNING"),
        ("py.warnings", "WARNING"),
    ]


@pytest.mark.django_db(transaction=True)
# Beat's marker is after its first tick: a SIGTERM while its scheduler is still being built
# can be lost (celery's handler syncs a scheduler that does not exist yet).
@pytest.mark.parametrize(("program", "marker"), [("worker", " ready."), ("beat", "beat: Waking up")])
def test_worker_and_beat_log_only_json_lines_to_stderr(program, marker, tmp_path):
    import threading

    from opsconsole.testing import wait_for

    args = ["--pool=solo", "--without-gossip", "--without-mingle", "-n", f"json-{time.monotonic_ns()}@%h"]
    if program == "beat":
        args = ["--schedule", str(tmp_path / "celerybeat-schedule")]
    # DEBUG: every logger speaks (Celery's, kombu's, the sweeps'), and each line must be JSON.
    env = worker_env(LOG_FORMAT="json", OPSCONSOLE_ENV_FILE="", LOG_LEVEL="DEBUG")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opsconsole", program, "--loglevel=INFO", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,  # the start-up banner
        stderr=subprocess.PIPE,
        text=True,
    )
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(marker in line for line in received), timeout=60, message=f"{program} started")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{program} ignored SIGTERM; its last lines: {received[-8:]}")
        reader.join(timeout=10)
    lines = assert_every_line_is_json("".join(received))
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert not any("No hostname was supplied" in line["message"] for line in lines)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_logs_only_json_lines_with_the_request_id(tmp_path):
    import urllib.request

    from opsconsole.testing import wait_for

    with socket_port() as port:
        pass
    env = worker_env(LOG_FORMAT="json", OPSCONSOLE_ENV_FILE="", LOG_LEVEL="INFO")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "opsconsole.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/system/maintenance/history", headers={"X-Request-ID": "gun-1"}
        )

        def answered():
            try:
                return urllib.request.urlopen(request, timeout=2)
            except urllib.error.HTTPError as refused:  # anonymous: 401, logged by Django too
                return refused
            except OSError:
                return None

        response = wait_for(answered, timeout=30, message="gunicorn answering")
        assert response.headers["X-Request-ID"] == "gun-1"
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
    lines = assert_every_line_is_json(stderr)
    assert stdout == ""
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    request_lines = [line for line in lines if line.get("request_id") == "gun-1"]
    assert {line["logger"] for line in request_lines} == {"opsconsole.request", "django.request"}


def socket_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def free():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            yield sock.getsockname()[1]

    return free()
