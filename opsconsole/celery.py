"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import contextlib
import logging
import os

from celery import Celery, bootsteps
from celery.app.amqp import AMQP
from celery.signals import (
    celeryd_init,
    setup_logging,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
    worker_shutting_down,
)
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

# Workers must outlive a Redis outage: see opsconsole/redis_transport.py.
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "opsconsole.redis_transport:Transport"

# kombu waits 2, 4, 6 … up to 30 s between reconnection attempts, so a worker could
# notice a returned broker half a minute late. The database is the queue and a
# reconnection attempt is one cheap connect, so try every second or two instead.
RECONNECT_INTERVAL_START = 1.0
RECONNECT_INTERVAL_MAX = 2.0


class BrokerConnection(Connection):
    def _ensure_connection(
        self,
        errback=None,
        max_retries=None,
        interval_start=RECONNECT_INTERVAL_START,
        interval_step=RECONNECT_INTERVAL_START,
        interval_max=RECONNECT_INTERVAL_MAX,
        *args,
        **kwargs,
    ):
        interval_max = min(interval_max, RECONNECT_INTERVAL_MAX)
        interval_start = min(interval_start, interval_max)
        interval_step = min(interval_step, interval_max)
        return super()._ensure_connection(
            errback, max_retries, interval_start, interval_step, interval_max, *args, **kwargs
        )


class BrokerAMQP(AMQP):
    Connection = BrokerConnection
    BrokerConnection = BrokerConnection


logger = logging.getLogger(__name__)


class StopClaimingOnShutdown(bootsteps.StartStopStep):
    """At the start of a warm shutdown, tell running tasks to stop claiming work (opsconsole/shutdown.py).

    Required after the pool, so it is closed and stopped before the pool waits for its
    processes: the pool processes get STOP_SIGNAL, the worker's own process (solo pool)
    the flag directly.
    """

    requires = ("celery.worker.components:Pool",)

    def start(self, worker) -> None:
        pass

    def close(self, worker) -> None:
        from opsconsole.shutdown import STOP_SIGNAL, request_stop

        request_stop()
        for pid in _pool_pids(worker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, STOP_SIGNAL)

    stop = terminate = close


def _pool_pids(worker) -> list[int]:
    processes = getattr(getattr(worker.pool, "_pool", None), "_pool", None) or []
    return [process.pid for process in processes if process.pid and process.pid != os.getpid()]


app = Celery("opsconsole", amqp=BrokerAMQP)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(StopClaimingOnShutdown)


@setup_logging.connect
def _log_like_the_web(**_kwargs) -> None:
    """Worker and beat log through settings.LOGGING (opsconsole/logs.py), as the web does.

    Celery would otherwise replace the root logger's handlers with its own text format (and
    ignore LOG_FORMAT); a receiver of this signal tells it to leave logging alone. LOG_LEVEL
    sets the level, not `--loglevel`.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    # Python warnings (the worker's "running as root" SecurityWarning) as log records too.
    logging.captureWarnings(True)


# Sent before the worker checks its privileges, which may warn: format that warning too.
celeryd_init.connect(_log_like_the_web)


@worker_shutting_down.connect
def _stop_claiming_here(**_kwargs) -> None:
    # Sent from the worker's SIGTERM/SIGINT handler, while a solo pool's task still runs in
    # this process (the bootstep above runs only once that task has returned).
    from opsconsole.shutdown import request_stop

    request_stop()


@worker_process_init.connect
def _listen_for_stop(**_kwargs) -> None:
    from opsconsole.shutdown import install_stop_signal_handler

    install_stop_signal_handler()


@worker_init.connect
def _create_broker_folders(**_kwargs) -> None:
    ensure_broker_folders()


def ensure_broker_folders() -> None:
    """kombu's filesystem transport needs its folders to exist before anyone sends."""
    from django.conf import settings

    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
        if folder:
            os.makedirs(folder, exist_ok=True)


_heartbeat = {}


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    """Say in the shared cache that this worker is alive (read by /health)."""
    from opsconsole.liveness import WorkerHeartbeat

    hostname = getattr(sender, "hostname", None) or "worker"
    _heartbeat["worker"] = heartbeat = WorkerHeartbeat(hostname)
    heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    heartbeat = _heartbeat.pop("worker", None)
    if heartbeat is not None:
        heartbeat.stop()
