"""Dispatch throughput: the notification dispatcher against bare sequential loops, side by side.

Figures (README "Tests and benchmarks"):
- dispatch_per_s: N webhook notifications through one dispatcher process to a loopback sink
  answering 204; baseline: a bare sequential httpx loop posting the same bodies to the same sink.
- dispatch_slow_sink_per_s: the same with the sink taking 20 ms per request.
- dispatch_email_per_s: email notifications to a local aiosmtpd server; baseline: a loop
  sending the same messages through Django's own get_connection() to the same server.

The sinks run in processes of their own, and the measurements in a child process with its
own Django setup (bench database `ops_bench_notify` on PostgreSQL, SQLite under var/bench
when PostgreSQL is unreachable), so other benchmarks' settings never mix in.

    python -m bench dispatch               # via the harness
    python -m bench.bench_dispatch child   # (internal) the measuring process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench import BenchContext, Figure

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "ops_bench_notify"


# --- Peers --------------------------------------------------------------------------------------


async def _serve_http(delay: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:].strip())
                if length:
                    await reader.readexactly(length)
                if delay:
                    await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def _serve_smtp() -> None:
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    print(controller.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _peer(*args: str):
    """Start a peer process (`sink` or `smtp`), yield its port, stop it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_dispatch", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline().strip())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- The measuring process ----------------------------------------------------------------------


def _child(kind: str, count: int, baseline_count: int, port: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from notifications.delivery.dispatcher import notification_dispatch_due
    from notifications.models import NotificationOutbox, NotificationStatus

    rows, outgoing = _seed(kind, count, baseline_count, port)
    email_settings = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
    }
    with override_settings(**email_settings):
        baseline_s = _send_baseline(kind, outgoing)
        started = time.perf_counter()
        summary = notification_dispatch_due()
        dispatch_s = time.perf_counter() - started
    sent = NotificationOutbox.objects.filter(status=NotificationStatus.SENT).count()
    return {
        "count": len(rows),
        "sent": sent,
        "dispatch_s": dispatch_s,
        "baseline_count": len(outgoing),
        "baseline_s": baseline_s,
        "summary": str(summary),
        "vendor": connection.vendor,
    }


def _seed(kind: str, count: int, baseline_count: int, port: int) -> tuple[list, list]:
    """`count` due notifications on one channel, and the first `baseline_count` as a claim would carry them."""
    from django.core.management import call_command

    from notifications.channels import OutgoingMessage
    from notifications.delivery.leases import channel_snapshot
    from notifications.models import NotificationChannel, NotificationOutbox

    call_command("migrate", verbosity=0)
    NotificationOutbox.objects.all().delete()
    NotificationChannel.objects.all().delete()
    if kind == "email":
        channel = NotificationChannel.objects.create(
            name="bench-mail", channel_type="email", target="oncall@example.com"
        )
    else:
        from notifications.channels.webhook import generate_secret

        channel = NotificationChannel.objects.create(
            name="bench-hook",
            channel_type="webhook",
            target=f"http://127.0.0.1:{port}/hook",
            secret=generate_secret(),
        )
    rows = NotificationOutbox.objects.bulk_create(
        (
            NotificationOutbox(
                channel=channel,
                subject=f"Disk almost full on web-{i % 40}",
                body=f"Disk /var is {80 + i % 20}% full on web-{i % 40}.",
                payload={"host": f"web-{i % 40}", "n": i},
            )
            for i in range(count)
        ),
        batch_size=1000,
    )
    sample = list(NotificationOutbox.objects.select_related("channel").order_by("id")[:baseline_count])
    # What a claim would carry, built without leasing: the baseline sends outside the engine.
    outgoing = [
        OutgoingMessage(
            outbox_id=row.pk,
            message_id=row.message_id,
            subject=row.subject or "",
            body=row.body,
            payload=row.payload,
            created_at=row.created_at,
            attempt_number=row.attempts + 1,
            channel=channel_snapshot(row.channel),
        )
        for row in sample
    ]
    return rows, outgoing


def _send_baseline(kind: str, outgoing: list) -> float:
    """The same messages, sequentially, through the plainest client; the seconds it took."""
    import httpx
    from django.core import mail

    from notifications.channels.email import EmailBackend
    from notifications.channels.webhook import signed_headers, webhook_body

    if kind == "email":
        messages = [EmailBackend().build(message) for message in outgoing]
        started = time.perf_counter()
        with mail.get_connection() as conn:
            for message in messages:
                conn.send_messages([message])
        return time.perf_counter() - started
    bodies = [webhook_body(message) for message in outgoing]
    url = outgoing[0].channel.target
    with httpx.Client() as client:
        client.post(url, content=b"{}")  # connect before the clock starts, as the pool is warm too
        started = time.perf_counter()
        for message, body in zip(outgoing, bodies, strict=True):
            headers = {"Content-Type": "application/json"}
            headers.update(signed_headers(message.channel.secret, message.message_id, body))
            response = client.post(url, content=body.encode(), headers=headers)
            assert response.status_code == 204
        return time.perf_counter() - started


def _database_url(ctx: BenchContext) -> tuple[str, str]:
    """A fresh bench database: PostgreSQL when reachable, else SQLite under var/bench."""
    try:
        import psycopg

        with psycopg.connect(f"{ctx.postgres_url}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        return f"{ctx.postgres_url}/{BENCH_DB}", "PostgreSQL"
    except Exception as exc:  # any reason PostgreSQL is unusable here means: fall back, and say so
        path = ctx.scratch / "bench-dispatch.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", f"SQLite (PostgreSQL unavailable: {exc.__class__.__name__})"


def _measure(database_url: str, kind: str, count: int, baseline_count: int, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
            "DATABASE_URL": database_url,
            "OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE": "1",
            "LOG_LEVEL": "WARNING",
            "OPSCONSOLE_VAR_DIR": str(ROOT / "var" / "bench" / "var"),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_dispatch", "child", kind, str(count), str(baseline_count), str(port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            if result["sent"] != result["count"]:
                raise RuntimeError(f"only {result['sent']} of {result['count']} sent: {result['summary']}")
            return result
    raise RuntimeError(f"bench child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def run(ctx: BenchContext) -> dict[str, Figure]:
    quick = ctx.quick
    database_url, database = _database_url(ctx)
    figures: dict[str, Figure] = {}

    def figure(result: dict, extra: str) -> Figure:
        value = result["count"] / result["dispatch_s"]
        baseline = result["baseline_count"] / result["baseline_s"]
        notes = (
            f"{result['count']} notifications, one dispatcher process (16 delivery threads) on {database}; "
            f"baseline over {result['baseline_count']} of the same messages; {extra}"
        )
        return Figure(value=value, unit="msgs/s", baseline=baseline, notes=notes)

    with _peer("sink", "0") as port:
        n = 1000 if quick else 5000
        result = _measure(database_url, "webhook", n, n, port)
        figures["dispatch_per_s"] = figure(result, "signed webhooks to a loopback sink answering 204")
    with _peer("sink", "0.02") as port:
        n, base = (500, 100) if quick else (3000, 300)
        result = _measure(database_url, "webhook", n, base, port)
        figures["dispatch_slow_sink_per_s"] = figure(result, "the sink takes 20 ms per request; target >= 10x")
    with _peer("smtp") as port:
        n = 500 if quick else 2000
        result = _measure(database_url, "email", n, n, port)
        figures["dispatch_email_per_s"] = figure(result, "email to a local aiosmtpd server via Django's SMTP backend")
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.bench_dispatch")
    sub = parser.add_subparsers(dest="command", required=True)
    sink = sub.add_parser("sink")
    sink.add_argument("delay", type=float)
    sub.add_parser("smtp")
    child = sub.add_parser("child")
    child.add_argument("kind", choices=["webhook", "email"])
    child.add_argument("count", type=int)
    child.add_argument("baseline_count", type=int)
    child.add_argument("port", type=int)
    args = parser.parse_args(argv)
    if args.command == "sink":
        asyncio.run(_serve_http(args.delay))
    elif args.command == "smtp":
        _serve_smtp()
    else:
        sys.path.insert(0, str(ROOT))
        result = _child(args.kind, args.count, args.baseline_count, args.port)
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
