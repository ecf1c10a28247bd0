"""Issue 5: sending reminder emails at practice scale.

    python -m bench.reminders_send            # against postgres://postgres@127.0.0.1:5432/vetpms_bench

On the practice-scale database (load it with `python -m bench` first: 60k clients, 90k animals, ~300k reminders),
adds 10,000 reminders due on one day for 7,000 owners who consent and have an email address (3,000 of them with two
pets), starts a local SMTP server (aiosmtpd, in this process), and runs the reminder job in a separate worker
process (`manage.py reminders_run`, what the django-q2 task runs), measuring:

- total time and emails per second (from the worker's start to its exit, and between the 10th and 90th percent of
  the emails the server received);
- the worker's resident memory (RSS), sampled every 50 ms: peak, and at 10 %, 50 % and 90 % of the emails;
- SQL queries per email, counted in this process on two smaller runs (500 and 1,000 emails): the same per-email
  count at both sizes means the cost does not grow with the batch.

Everything it adds is deleted at the end. Results go to bench/results/reminders.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.run import DEFAULT_URL, ROOT, configure_environment

RESULTS = ROOT / "bench" / "results" / "reminders.md"
SEND_DAY = dt.date(2040, 1, 2)  # far from the seeded reminders: only the bench's own are due
TYPE_NAME = "Bench: annual booster"


class CountingInbox:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.bytes += len(envelope.content or b"")
            self.times.append(time.perf_counter())
        return "250 Message accepted"


def start_smtp():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox, port


def add_due_reminders(*, day: dt.date, owners: int, second_pets: int, skip_owners: int = 0) -> int:
    """``owners`` consenting owners with an email, one reminder each due on ``day``, plus one for a second pet of
    ``second_pets`` of them. Returns how many reminders it made."""
    from animals.models import Animal
    from reminders.models import Reminder, ReminderType

    reminder_type, _ = ReminderType.objects.get_or_create(
        name=TYPE_NAME,
        defaults=dict(
            interval=12,
            interval_unit="months",
            stages=[0],
            subject="{pets}: booster due on {first_due_date}",
            body_text=(
                "Dear {owner_first_name},\n\nIt is time for these:\n{items}\n\n"
                "To book, {booking_contact}.\n\n{practice_name}"
            ),
            body_html=(
                "<p>Dear {owner_first_name},</p><p>It is time for these:</p>{items}<p>To book, {booking_contact}.</p>"
            ),
        ),
    )
    animals = (
        Animal.objects.filter(
            is_active=True,
            deceased_on__isnull=True,
            owner__is_active=True,
            owner__reminder_consent=True,
        )
        .exclude(owner__email="")
        .exclude(reminders__type=reminder_type)
        .order_by("owner_id", "id")
        .values_list("id", "owner_id")
    )
    by_owner: dict[int, list[int]] = {}
    for animal_id, owner_id in animals.iterator(chunk_size=5000):
        by_owner.setdefault(owner_id, []).append(animal_id)
    chosen = [o for o in sorted(by_owner) if o][skip_owners : skip_owners + owners]
    if len(chosen) < owners:
        raise SystemExit(f"only {len(chosen)} owners with consent and email are free; load the practice data first")
    multi = [o for o in chosen if len(by_owner[o]) > 1][:second_pets]
    picked = [by_owner[o][0] for o in chosen] + [by_owner[o][1] for o in multi]
    Reminder.objects.bulk_create(
        (Reminder(animal_id=a, type=reminder_type, due_on=day, source="import") for a in picked), batch_size=2000
    )
    return len(picked)


def cleanup() -> None:
    from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType

    bench_type = ReminderType.objects.filter(name=TYPE_NAME).first()
    if bench_type is None:
        return
    deliveries = ReminderNotice.objects.filter(reminder__type=bench_type).values("delivery_id")
    ReminderDelivery.objects.filter(pk__in=deliveries).delete()
    ReminderNotice.objects.filter(reminder__type=bench_type).delete()
    Reminder.objects.filter(type=bench_type).delete()
    ReminderRun.objects.filter(for_date__gte=SEND_DAY).delete()
    bench_type.delete()


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_worker(*, database_url: str, port: int, inbox: CountingInbox, expected: int) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="vetpms.settings",
    )
    samples: list[tuple[float, int, int]] = []  # (time, emails received, rss kB)
    started = time.perf_counter()
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "reminders_run", "--date", SEND_DAY.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while worker.poll() is None:
        kb = rss_kb(worker.pid)
        if kb is not None:
            samples.append((time.perf_counter() - started, inbox.count, kb))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    out, err = worker.communicate()
    if worker.returncode != 0:
        raise SystemExit(f"the worker failed ({worker.returncode}):\n{err}")

    def rss_at(fraction: float) -> int:
        goal = expected * fraction
        return next((kb for _, n, kb in samples if n >= goal), samples[-1][2])

    times = inbox.times
    low, high = times[len(times) // 10], times[(len(times) * 9) // 10]
    return {
        "output": out.strip(),
        "elapsed": elapsed,
        "emails": inbox.count,
        "overall_rate": inbox.count / elapsed,
        "steady_rate": (len(times) * 0.8) / (high - low) if high > low else float("nan"),
        "peak_rss_mb": max(kb for *_, kb in samples) / 1024,
        "rss_mb": {f: rss_at(f) / 1024 for f in (0.1, 0.5, 0.9)},
        "mean_size_kb": inbox.bytes / max(inbox.count, 1) / 1024,
    }


def queries_per_email(*, sizes: tuple[int, ...], port: int, skip: int) -> list[tuple[int, int, int, float]]:
    """(emails, queries for the whole run, of which sending, seconds) for in-process runs of each size."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext, override_settings

    from reminders import sending
    from reminders.models import ReminderRun

    rows = []
    for offset, size in enumerate(sizes, start=1):
        day = SEND_DAY + dt.timedelta(days=30 * offset)
        made = add_due_reminders(day=day, owners=size, second_pets=0, skip_owners=skip)
        skip += size
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
        ):
            reset_queries()
            run = ReminderRun.objects.create(trigger="manual", for_date=day)
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as everything:
                sending.plan_notices(today=day)
                sending.group_notices(run=run)
                with CaptureQueriesContext(connection) as sends:
                    result = sending.send_due(run=run)
            elapsed = time.perf_counter() - started
        assert result.sent == made, (result, made)
        rows.append((made, len(everything.captured_queries), len(sends.captured_queries), elapsed))
        kinds = Counter(q["sql"].split()[0].upper() for q in sends.captured_queries)
        KINDS[made] = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
    return rows


KINDS: dict[int, str] = {}  # statements of the sending step by kind, per measured size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reminder sending at practice scale")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--owners", type=int, default=7000)
    parser.add_argument("--second-pets", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    import django

    django.setup()
    from django.db import connection

    from reminders.models import Reminder

    cleanup()
    seeded_reminders = Reminder.objects.count()
    controller, inbox, port = start_smtp()
    try:
        made = add_due_reminders(day=SEND_DAY, owners=args.owners, second_pets=args.second_pets)
        print(f"{made:,} reminders due {SEND_DAY} for {args.owners:,} owners; {Reminder.objects.count():,} in all")
        connection.close()  # the worker gets the database to itself
        worker = run_worker(database_url=args.database_url, port=port, inbox=inbox, expected=args.owners)
        print(worker["output"])
        per_email = queries_per_email(sizes=(500, 1000), port=port, skip=args.owners)
    finally:
        controller.stop()
        cleanup()

    ok_rate = worker["overall_rate"] >= 100
    ok_memory = worker["peak_rss_mb"] < 250
    per = [q / n for n, q, _, _ in per_email]
    send_per = [s / n for n, _, s, _ in per_email]
    lines = [
        "# Reminder sending: latest run",
        "",
        "Made by `python -m bench.reminders_send` against PostgreSQL loaded with `seed_demo --scale practice`",
        f"({seeded_reminders:,} reminders before the bench added its own). The worker is a separate process running",
        "`manage.py reminders_run` (the code the django-q2 task runs) against a local aiosmtpd server that accepts",
        "and discards; the server runs in the bench process, on the same two cores.",
        "",
        f"- date: {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, {os.cpu_count()} cores",
        f"- due notices: {made:,} for {args.owners:,} owners ({made - args.owners:,} with two pets) -> "
        f"{worker['emails']:,} emails of {worker['mean_size_kb']:.1f} kB",
        f"- worker said: `{worker['output']}`",
        "",
        "| measured | value | target | ok |",
        "|---|---:|---|---|",
        f"| total time, worker start to exit (plan, group, send) | {worker['elapsed']:.1f} s | | |",
        f"| emails per second, whole run | {worker['overall_rate']:.0f} | >= 100 | {'yes' if ok_rate else '**NO**'} |",
        f"| emails per second, 10th to 90th percent of the emails | {worker['steady_rate']:.0f} | | |",
        f"| worker peak RSS | {worker['peak_rss_mb']:.0f} MB | < 250 MB | {'yes' if ok_memory else '**NO**'} |",
        "| worker RSS at 10 % / 50 % / 90 % of the emails | "
        + " / ".join(f"{worker['rss_mb'][f]:.0f}" for f in (0.1, 0.5, 0.9))
        + " MB | flat | |",
    ]
    for (n, q, s, secs), p, sp in zip(per_email, per, send_per, strict=True):
        lines.append(
            f"| SQL queries, in-process run of {n:,} emails: whole run / sending only | {q:,} / {s:,} "
            f"({p:.2f} / {sp:.2f} per email, {n / secs:.0f} emails/s) | constant per email | |"
        )
    lines += ["", "Statements of the sending step (psycopg logs BEGIN and COMMIT as statements):", ""]
    lines += [f"- {n:,} emails: {KINDS.get(n, '')}" for n, *_ in per_email]
    report = "\n".join(lines) + "\n"
    print("\n" + report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    return 0 if ok_rate and ok_memory else 1


if __name__ == "__main__":
    raise SystemExit(main())
