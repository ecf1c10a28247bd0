"""Issue 11: webhook deliveries per second to a local receiver.

    python -m bench.webhooks     # against postgres://postgres@127.0.0.1:5432/vetpms_webhooks_bench (made if absent)

Starts a local HTTP receiver (a threading server in this process that answers 200 and counts), registers one
endpoint, publishes ``--events`` domain events (``client.updated``, ``--per-object`` of them per client, so the
per-object ordering is exercised) through ``vetpms.events`` as the services do, then runs ``--workers`` delivery
processes (``manage.py webhooks_deliver``, the code the django-q2 task runs) at once and measures, from their start
until the receiver has every message: deliveries per second, and the time per delivery. Signing, the SSRF check
(resolve, then connect to the checked address), the POST and recording the attempt are all inside that figure.

Its rows are deleted at the end. Results go to bench/results/webhooks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.run import ROOT, configure_environment, ensure_database

RESULTS = ROOT / "bench" / "results" / "webhooks.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/vetpms_webhooks_bench"


class Counting:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with counter.lock:
                    counter.count += 1
                    if counter.count >= counter.expected:
                        counter.done.set()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def publish_events(*, events: int, per_object: int, by) -> int:
    from django.db import transaction

    from clients.models import Client
    from vetpms import events as domain_events

    objects = max(events // per_object, 1)
    clients = Client.objects.bulk_create(
        Client(first_name=f"Hook{i}", last_name="Bench", email=f"hook{i}@example.invalid") for i in range(objects)
    )
    made = 0
    with transaction.atomic():
        for _round in range(per_object):
            for client in clients:
                if made >= events:
                    break
                domain_events.publish("client.updated", client, changed={"town"})
                made += 1
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="webhook deliveries per second to a local receiver")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WEBHOOKS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--per-object", type=int, default=3, help="messages per object (ordered)")
    parser.add_argument("--workers", type=int, default=2, help="delivery processes at once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    os.environ["WEBHOOKS_ALLOW_PRIVATE"] = "1"
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from clients.models import Client
    from exchange.models import WebhookEndpoint
    from exchange.webhooks import services
    from vetpms.models import User

    receiver = Counting()
    user, _ = User.objects.get_or_create(username="bench-webhooks")
    WebhookEndpoint.objects.filter(description="bench").delete()
    endpoint, _ = services.endpoint_create(
        by=user, url=f"http://127.0.0.1:{receiver.port}/in", event_types=["client.updated"], description="bench"
    )
    try:
        made = publish_events(events=args.events, per_object=args.per_object, by=user)
        receiver.expected = made
        env = dict(os.environ)
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "webhooks_deliver", "--seconds", "600"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        receiver.done.wait(900)
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.wait(120)
        load = os.getloadavg()
        rate = receiver.count / elapsed
        line = (
            f"| {time.strftime('%Y-%m-%d %H:%M')} | {made} | {args.per_object} | {args.workers} | {receiver.count} | "
            f"{elapsed:.1f} s | **{rate:.0f}/s** | {1000 * elapsed / max(receiver.count, 1) * args.workers:.1f} ms | "
            f"{load[0]:.1f} |"
        )
        print(line)
        header = (
            "# Webhook deliveries to a local receiver\n\n`python -m bench.webhooks` (PostgreSQL, a local HTTP "
            "receiver answering 200; worker processes running `manage.py webhooks_deliver`).\n\n"
            "| when | events | per object | workers | received | time | deliveries/s | per delivery per worker "
            "| load (1 min) |\n|---|---|---|---|---|---|---|---|---|\n"
        )
        text = args.out.read_text() if args.out.exists() else header
        args.out.write_text(text + line + "\n")
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        Client.objects.filter(last_name="Bench", email__endswith="@example.invalid").delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
