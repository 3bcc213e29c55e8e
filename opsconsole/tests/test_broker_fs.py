"""The embedded broker (opsconsole.broker_fs) under concurrent senders and consumers, and bad files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from opsconsole import broker_fs

TRANSPORT = "opsconsole.broker_fs:Transport"


@pytest.fixture
def folders(tmp_path):
    queue = tmp_path / "queue"
    for folder in ("queue", "processed", "control"):
        (tmp_path / folder).mkdir()
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
        "polling_interval": 0.01,
    }


def channel(options):
    connection = Connection("filesystem://", transport=TRANSPORT, transport_options=options)
    return connection, connection.channel()


def message(number: int, size: int = 0) -> dict:
    return {"body": "", "properties": {"delivery_tag": f"tag-{number}"}, "number": number, "padding": "x" * size}


def test_the_project_broker_uses_this_transport_for_the_embedded_default():
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the suite runs on another broker")
    from opsconsole.celery import app

    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, broker_fs.Transport)


def test_a_reader_polling_while_large_messages_are_written_never_sees_a_partial_file(folders):
    """kombu's own transport wrote the file in place: a reader polling meanwhile read half a message
    (here, 12 to 80 of 1000 sends were read empty or cut, every run)."""
    count = 1000

    def size(number: int) -> int:
        return 1 << 20 if number % 100 == 0 else 1000  # mostly small sends, the odd large one

    sender_connection, sender = channel(folders)
    reader_connection, reader = channel(folders)
    received, errors = [], []
    done = threading.Event()

    def read() -> None:
        try:
            while len(received) < count:
                try:
                    received.append(reader._get("celery"))
                except broker_fs.Empty:
                    if done.is_set() and not reader._size("celery"):
                        return
        except Exception as exc:  # noqa: BLE001 - the failure this test looks for
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    for number in range(count):
        sender._put("celery", message(number, size(number)))
    done.set()
    thread.join(timeout=120)
    sender_connection.release()
    reader_connection.release()
    assert errors == []
    # Sends within one millisecond come out in any order (kombu names files by ms, then a uuid).
    assert sorted(m["number"] for m in received) == list(range(count))
    assert all(len(m["padding"]) == size(m["number"]) for m in received)
    assert not (Path(folders["data_folder_in"]) / broker_fs.BAD_FOLDER).exists()
    assert list(Path(folders["data_folder_in"]).iterdir()) == []


def test_two_consumers_take_each_message_exactly_once(folders):
    count = 400
    connection, sender = channel(folders)
    for number in range(count):
        sender._put("celery", message(number))
    taken: list[list[int]] = [[], []]

    def consume(into: list[int]) -> None:
        own_connection, own = channel(folders)
        try:
            while True:
                try:
                    into.append(own._get("celery")["number"])
                except broker_fs.Empty:
                    return
        finally:
            own_connection.release()

    threads = [threading.Thread(target=consume, args=(bucket,)) for bucket in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connection.release()
    assert sorted(taken[0] + taken[1]) == list(range(count))


def test_an_undecodable_file_is_set_aside_and_the_next_message_is_read(folders, caplog):
    queue = Path(folders["data_folder_in"])
    # Named like messages and sorted first: a half-written file, and JSON that is no kombu message.
    (queue / "1_half.celery.msg").write_bytes(b'{"body": "eyJh')
    (queue / "2_not-a-message.celery.msg").write_text(json.dumps({"hello": "world"}))
    connection, chan = channel(folders)
    chan._put("celery", message(7))
    assert chan._size("celery") == 3

    assert chan._get("celery")["number"] == 7
    with pytest.raises(broker_fs.Empty):
        chan._get("celery")
    connection.release()
    assert sorted(p.name for p in (queue / broker_fs.BAD_FOLDER).iterdir()) == [
        "1_half.celery.msg",
        "2_not-a-message.celery.msg",
    ]
    assert [r.levelname for r in caplog.records if r.name == "opsconsole.broker_fs"] == ["ERROR", "ERROR"]


def test_a_message_taken_by_another_consumer_in_between_is_skipped(folders, monkeypatch):
    connection, chan = channel(folders)
    chan._put("celery", message(1))
    chan._put("celery", message(2))
    queue = Path(folders["data_folder_in"])
    first, second = sorted(queue.iterdir())
    expected = json.loads(second.read_text())["number"]
    real_listdir = broker_fs.os.listdir

    def listdir_then_lose_the_first(path):
        names = real_listdir(path)
        first.unlink(missing_ok=True)  # another consumer claims it after our listing
        return names

    monkeypatch.setattr(broker_fs.os, "listdir", listdir_then_lose_the_first)
    assert chan._get("celery")["number"] == expected
    connection.release()


def test_a_sender_leaves_no_hidden_file_behind_and_purge_counts_only_messages(folders):
    connection, chan = channel(folders)
    for number in range(3):
        chan._put("celery", message(number))
    queue = Path(folders["data_folder_in"])
    (queue / ".9_writing.celery.msg.tmp").write_bytes(b"{")  # a send in progress: not a message yet
    assert chan._size("celery") == 3
    assert chan._purge("celery") == 3
    connection.release()
    assert [p.name for p in queue.iterdir()] == [".9_writing.celery.msg.tmp"]


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_garbage_file_in_the_queue_does_not_stop_a_real_worker(tmp_path, django_capture_on_commit_callbacks):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the embedded broker only")
    from exports import services
    from exports.models import ExportJob, JobStatus
    from opsconsole.testing import celery_worker, wait_for

    settings.MEDIA_ROOT = str(tmp_path / "worker-var" / "media")
    queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    queue.mkdir(parents=True, exist_ok=True)
    garbage = queue / f"0_garbage-{tmp_path.name}.celery.msg"
    with celery_worker(OPSCONSOLE_VAR_DIR=str(tmp_path / "worker-var")) as worker:
        garbage.write_bytes(b'{"body": "trunc')
        wait_for(lambda: not garbage.exists(), timeout=30, message="the worker to take the garbage file")
        with django_capture_on_commit_callbacks(execute=True):
            job, _ = services.export_job_create(job_type="exports.jobs", format="csv")
        finished = wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status=JobStatus.COMPLETED).first(),
            timeout=60,
            message="the worker to run the next real task",
        )
        assert worker.poll() is None
        log = "".join(worker.output_lines)
    assert finished.rows_written >= 1
    set_aside = queue / broker_fs.BAD_FOLDER / garbage.name
    assert set_aside.exists()
    set_aside.unlink()
    assert "skipped undecodable message" in log and "Unrecoverable error" not in log


def test_a_stopping_worker_stops_waiting_for_messages_at_once(folders):
    """Celery's loop on this transport waits in drain_events (2 s) before it looks at its stop
    flag: every warm shutdown took that much longer. A stop request ends the wait between polls."""
    import time

    from kombu import Consumer, Queue

    from opsconsole import shutdown

    connection = Connection("filesystem://", transport=TRANSPORT, transport_options=folders)
    queue = Queue("idle", channel=connection.channel())
    queue.declare()
    threading.Timer(0.2, shutdown.request_stop).start()
    try:
        with Consumer(connection, queues=[queue], callbacks=[lambda body, message: None]):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                connection.drain_events(timeout=30)
            waited = time.monotonic() - started
    finally:
        shutdown.reset()
        connection.release()
    assert waited < 10  # not the 30 s asked for: it gave up once the stop was requested
