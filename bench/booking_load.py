"""Booking throughput through the HTTP API on gunicorn (issue 14): what a busy group's web tier does.

    python -m bench.booking_load                  # 4 gunicorn workers, 16 clients, 30 s, on the bench database
    python -m bench.booking_load --seconds 60 --clients 32 --workers 4

Starts gunicorn (``vetpms.wsgi``, sync workers) on a free loopback port against the practice-scale PostgreSQL
database (``--database-url``, else ``BENCH_DATABASE_URL``, else the bench default), gives the receptionist an API
token, and lets ``--clients`` threads, each on its own keep-alive connection, book distinct free 15-minute slots
a year ahead (``POST /api/v1/appointments``, the owner email left out) for a fixed time. Every request is bounded
(a timeout) and the run stops by itself; it only talks to 127.0.0.1. Reports bookings a second, latency
percentiles and every answer that was not a 201, writes bench/results/booking_load.md, then stops gunicorn and
deletes the appointments, events, audit entries and the token it made.

A small driver on the standard library (threads and http.client), not a load tool with a dependency of its own:
closed-loop clients, so the rate is what the server sustains at that concurrency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.run import DEFAULT_URL, ROOT, configure_environment

OUT = ROOT / "bench" / "results" / "booking_load.md"
TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    command = [
        sys.executable, "-m", "gunicorn", "vetpms.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    # A fixed command line (this interpreter, the project's WSGI module), no outside input.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)  # noqa: S603


def wait_until_up(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/vets")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {seconds:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def drive(*, port: int, token: str, bodies: list[dict], clients: int, seconds: float) -> dict:
    """Closed-loop clients booking ``bodies`` (each once) until ``seconds`` pass or the bodies run out."""
    lock = threading.Lock()
    queue = iter(bodies)
    latencies: list[float] = []
    answers: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "127.0.0.1"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        while time.monotonic() < stop_at:
            with lock:
                body = next(queue, None)
            if body is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/appointments", body=json.dumps(body), headers=headers)
                response = conn.getresponse()
                payload = response.read()
                outcome = str(response.status)
                if response.status != 201:
                    outcome += f" {json.loads(payload or b'{}').get('detail', '')}"[:80]
            except (OSError, http.client.HTTPException, ValueError) as exc:
                outcome = f"error {type(exc).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                answers[outcome] = answers.get(outcome, 0) + 1
        conn.close()

    pool = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"wall_s": time.perf_counter() - started, "latencies": latencies, "answers": answers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    configure_environment(args.database_url)
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    import datetime as dt

    from django.utils import timezone

    from appointments.models import AppointmentType
    from bench.appointments import MARKER, cleanup_throughput, throughput_rows
    from vetpms.models import ApiToken, User, Vet
    from vetpms.services import api_token_create

    reception = User.objects.get(username="reception")
    manager = User.objects.get(username="manager")
    vets = list(Vet.objects.filter(is_active=True).order_by("pk"))
    type_ = AppointmentType.objects.filter(default_minutes=15).first() or AppointmentType.objects.first()
    cleanup_throughput()
    count = int(args.seconds * 400) + 100  # more slots than the tier could book in the time
    rows = throughput_rows(
        vets=vets, count=count, rng=random.Random(args.seed), first_day=timezone.localdate() + dt.timedelta(days=365)
    )
    bodies = [
        {"animal": r.animal_id, "vet": r.vet_id, "type": type_.pk, "start": timezone.localtime(r.start).isoformat(),
         "minutes": 15, "reason": MARKER, "notify_owner": False}
        for r in rows
    ]  # fmt: skip
    token, secret = api_token_create(user=reception, name="bench: booking load", by=manager)
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"vetpms-bench-gunicorn-{port}.log"
    server = start_gunicorn(port, args.workers, log)
    try:
        wait_until_up(port)
        run = drive(port=port, token=secret, bodies=bodies, clients=args.clients, seconds=args.seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        ApiToken.objects.filter(pk=token.pk).delete()
        removed = cleanup_throughput()

    latencies, answers = run["latencies"], run["answers"]
    booked = answers.get("201", 0)
    errors = sum(n for outcome, n in answers.items() if outcome != "201")
    rate = booked / run["wall_s"]
    lines = [
        "# Booking throughput through the HTTP API on gunicorn",
        "",
        "Made by `python -m bench.booking_load` (bench/booking_load.py): closed-loop clients on keep-alive",
        "connections, each `POST /api/v1/appointments` booking a distinct free 15-minute slot a year ahead as the",
        "receptionist (API token), owner emails off, for a fixed time; gunicorn sync workers on PostgreSQL, all on",
        "this machine (the clients share its 2 cores with the server and the database).",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- gunicorn workers: {args.workers}; clients: {args.clients}; run: {run['wall_s']:.1f} s",
        f"- load average at the end (1/5/15 min): {' / '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- appointments made and deleted afterwards: {removed:,}",
        "",
        "| bookings/s | requests | 201 | other answers | p50 ms | p95 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {rate:.1f} | {len(latencies):,} | {booked:,} | {errors:,} | {statistics.median(latencies):.1f} | "
        f"{percentile(latencies, 0.95):.1f} | {percentile(latencies, 0.99):.1f} | {max(latencies):.1f} |",
        "",
    ]
    if errors:
        lines += ["Answers other than 201:", ""] + [f"- {k}: {n}" for k, n in sorted(answers.items()) if k != "201"]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
