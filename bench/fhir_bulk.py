"""Issue 11: the clinical FHIR resources and the Bulk Data export, on a scaled practice.

    python -m bench.fhir_bulk --scale 0.2     # against postgres://postgres@127.0.0.1:5432/vetpms_bench_fhir

A full practice-scale build (``python -m bench``: 600k appointments, 500k invoices, 500k consultations) takes long on
a loaded machine, so this bench builds its own database: the demo practice (``seed_demo``: staff, species,
catalogue, reminder types, diagnosis list), then, with bulk inserts, ``--scale`` times the clinical volumes of
DESIGN.md section 5 and 7 (at 1.0: 90k animals, 500k consultations with vitals and diagnoses, 270k weights, 300k
vaccinations, 400k prescriptions, 100k attachment rows, 300k reminders). The export's cost is linear in the rows
(keyset chunks), so the figures scale; the search's cost depends on one patient's rows, which are the same per
animal at any scale. Measured:

- ``GET /fhir/R4/Observation?patient=`` for random animals, as a vet with an API token (p50/p95, queries);
- the whole-system ``$export`` task (``exchange.fhir.bulk.run_export``) in this process: wall time, resources
  and MB written, and memory: the process's peak RSS growth (sampled every 50 ms from /proc) and, in a second,
  smaller run of one type under tracemalloc, the Python heap's peak.

Results go to bench/results/fhir_bulk.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import threading
import time
from pathlib import Path

from bench.run import ROOT, Result, configure_environment, ensure_database, measure

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vetpms_bench_fhir"
RESULTS = ROOT / "bench" / "results" / "fhir_bulk.md"
MARK = "FHIR bench"
PER_ANIMAL = {  # practice-scale volumes per animal (DESIGN.md: 90k animals)
    "consultations": 500 / 90,
    "weights": 270 / 90,
    "vaccinations": 300 / 90,
    "prescriptions": 400 / 90,
    "attachments": 100 / 90,
    "reminders": 300 / 90,
}
SEARCH_MS = 30.0


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _base_practice() -> None:
    """What the clinical rows point at: owners, five vets, a manager, vaccines and medicines, reminder types (the
    demo seeder does this through the services, which takes long on a loaded machine)."""
    from invoicing.models import Product, TaxCategory
    from reminders.models import ReminderType
    from tests.factories import ClientFactory, UserFactory
    from vetpms.models import Role

    ClientFactory.create_batch(300)
    for i in range(5):
        UserFactory(username=f"bench-vet{i}", role=Role.VET)
    UserFactory(username="bench-manager", role=Role.MANAGER)
    tax = TaxCategory.objects.get(code="standard")
    for code, name, category in [
        ("B-VAC-1", "DHPPi vaccine", "vaccine"),
        ("B-VAC-2", "Leptospirosis vaccine", "vaccine"),
        ("B-VAC-3", "Rabies vaccine", "vaccine"),
        ("B-MED-1", "Meloxicam 1.5 mg/ml", "medication"),
        ("B-MED-2", "Amoxicillin 250 mg", "medication"),
    ]:
        Product.objects.create(code=code, name=name, category=category, unit="each", unit_price=10, tax_category=tax)
    for name in ("Booster", "Rabies", "Dental check", "Flea and worm"):
        ReminderType.objects.create(
            name=f"Bench {name}", interval=12, subject="{pets}: due", body_text="Dear {owner_name}, {items}"
        )


def build(scale: float, rng: random.Random) -> dict[str, int]:
    """The scaled clinical record, once (kept between runs: a database already holding it is reused)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from animals.models import Animal, Ownership, Species, Weight
    from clients.models import Client
    from clinical.models import (
        Attachment,
        Consultation,
        ConsultationDiagnosis,
        Diagnosis,
        Prescription,
        Problem,
        Vaccination,
    )
    from invoicing.models import Product
    from reminders.models import Reminder, ReminderType
    from vetpms.models import Vet

    call_command("migrate", verbosity=0)
    if not Client.objects.exists():
        _base_practice()
    if Animal.objects.filter(name__startswith=MARK).exists():
        print("bench data already there")
        return {}
    started = time.perf_counter()
    animals_n = int(90_000 * scale)
    clients = list(Client.objects.filter(is_active=True).values_list("pk", "search_text"))
    species = list(Species.objects.all())
    vets = list(Vet.objects.select_related("user"))
    vaccines = list(Product.objects.filter(category="vaccine"))
    medicines = list(Product.objects.filter(category="medication")) or list(Product.objects.all()[:5])
    diagnoses = list(Diagnosis.objects.all()[:40])
    if not diagnoses:
        diagnoses = Diagnosis.objects.bulk_create([Diagnosis(name=f"Bench diagnosis {i}") for i in range(20)])
    types = list(ReminderType.objects.all())
    now = timezone.now()
    today = timezone.localdate()
    counts: dict[str, int] = {}

    def some(per_animal: float) -> int:
        whole = int(per_animal)
        return whole + (1 if rng.random() < per_animal - whole else 0)

    batch = 5000
    with transaction.atomic():
        rows = []
        for i in range(animals_n):
            owner, search = rng.choice(clients)
            rows.append(
                Animal(
                    name=f"{MARK} {i}", owner_id=owner, species=rng.choice(species), sex="female",
                    neuter_status="neutered", date_of_birth=today - dt.timedelta(days=rng.randint(200, 5000)),
                    search_text=f" fhir bench {i} {search.strip()} ",
                )
            )  # fmt: skip
        animals = Animal.objects.bulk_create(rows, batch_size=batch)
        Ownership.objects.bulk_create(
            [Ownership(animal=a, client_id=a.owner_id, started_at=now) for a in animals], batch_size=batch
        )
        counts["animals"] = len(animals)
        consultations, weights, vaccinations, prescriptions, attachments, reminders, links, problems = (
            [] for _ in range(8)
        )
        for animal in animals:
            for _ in range(some(PER_ANIMAL["consultations"])):
                vet = rng.choice(vets)
                opened = now - dt.timedelta(days=rng.randint(1, 3650), minutes=rng.randint(0, 600))
                consultations.append(
                    Consultation(
                        animal=animal, vet=vet, opened_by=vet.user, opened_at=opened, complaint="Recheck",
                        examination="Bright, alert. " * 5, temperature_c=rng.choice([None, 38.4, 38.9, 39.1]),
                        heart_rate=rng.randint(70, 140), respiratory_rate=rng.randint(16, 40),
                    )
                )  # fmt: skip
            for _ in range(some(PER_ANIMAL["weights"])):
                measured = today - dt.timedelta(days=rng.randint(0, 3650))
                weights.append(Weight(animal=animal, kg=round(rng.uniform(2, 45), 3), measured_on=measured))
            for _ in range(some(PER_ANIMAL["vaccinations"])):
                vet = rng.choice(vets)
                given = today - dt.timedelta(days=rng.randint(0, 3650))
                vaccinations.append(
                    Vaccination(
                        animal=animal, product=rng.choice(vaccines), batch=f"B{rng.randint(1000, 9999)}",
                        batch_expiry=given + dt.timedelta(days=300), given_on=given, given_by=vet.user,
                        supervising_vet=vet, site="scruff", manufacturer="Bench Animal Health",
                    )
                )  # fmt: skip
            for _ in range(some(PER_ANIMAL["prescriptions"])):
                vet = rng.choice(vets)
                prescriptions.append(
                    Prescription(
                        animal=animal, product=rng.choice(medicines), dose="1 tablet", frequency="twice daily",
                        duration="7 days", quantity=14, repeats=rng.choice([0, 0, 1, 2]), prescribed_by=vet,
                        dispensed_by=vet.user, dispensed_on=today - dt.timedelta(days=rng.randint(0, 3650)),
                    )
                )  # fmt: skip
            for _ in range(some(PER_ANIMAL["attachments"])):
                attachments.append(
                    Attachment(
                        animal=animal, kind="lab", title="Bloods", file=f"animals/{animal.pk}/bench.pdf",
                        original_name="bloods.pdf", content_type="application/pdf", size=48_000,
                        uploaded_by=rng.choice(vets).user,
                    )
                )  # fmt: skip
            if types:
                for reminder_type in rng.sample(types, min(len(types), some(PER_ANIMAL["reminders"]))):
                    reminders.append(
                        Reminder(
                            animal=animal, type=reminder_type, due_on=today + dt.timedelta(days=rng.randint(-300, 300)),
                            status=rng.choice(["pending", "completed", "completed"]),
                        )
                    )  # fmt: skip
            if rng.random() < 0.3:
                problems.append(
                    Problem(animal=animal, condition="Chronic otitis", status="chronic", created_by=vets[0].user)
                )
        consultations = Consultation.objects.bulk_create(consultations, batch_size=batch)
        for c in consultations:
            for position, diagnosis in enumerate(rng.sample(diagnoses, rng.choice([0, 1, 1, 2]))):
                links.append(ConsultationDiagnosis(consultation=c, diagnosis=diagnosis, position=position))
        for model, objs in (
            (Weight, weights),
            (Vaccination, vaccinations),
            (Prescription, prescriptions),
            (Attachment, attachments),
            (Reminder, reminders),
            (ConsultationDiagnosis, links),
            (Problem, problems),
        ):
            model.objects.bulk_create(objs, batch_size=batch)
            counts[model._meta.verbose_name_plural] = len(objs)
        counts["consultations"] = len(consultations)
        # Signed in one statement, after their children, as the practice seeder does (signed rows are frozen).
        Consultation.objects.filter(animal__name__startswith=MARK).update(
            status="signed", signed_at=now, signed_by=vets[0].user
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built in {time.perf_counter() - started:.0f} s: {counts}")
    counts["build seconds"] = int(time.perf_counter() - started)
    return counts


def bench_search(samples: int, rng: random.Random) -> Result:
    from django.test import Client as HttpClient

    from animals.models import Animal
    from vetpms.models import User
    from vetpms.services import api_token_create

    vet = User.objects.filter(vet__isnull=False, is_active=True).order_by("pk").first()
    _, secret = api_token_create(user=vet, name="bench", by=vet)
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/fhir+json"}
    http = HttpClient()
    ids = list(Animal.objects.filter(name__startswith=MARK).values_list("pk", flat=True)[:20_000])
    result = Result("GET /fhir/R4/Observation?patient= (vet token)", target=f"p95 <= {SEARCH_MS:.0f} ms")
    rows = []

    def call(pk: int):
        response = http.get(f"/fhir/R4/Observation?patient={pk}", headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"Observation?patient={pk} answered {response.status_code}: {response.content[:300]}")
        rows.append(len(response.json().get("entry", [])))

    for pk in rng.sample(ids, min(10, len(ids))):  # warm up
        call(pk)
    rows.clear()
    for pk in rng.sample(ids, min(samples, len(ids))):
        measure(result, lambda pk=pk: call(pk))
    result.ok = result.p95 <= SEARCH_MS
    result.note = f"{len(rows)} random animals, {min(rows)}-{max(rows)} entries a page (first page, _count 20)"
    return result


def bench_export() -> dict[str, str]:
    import tracemalloc

    from exchange.fhir import bulk
    from exchange.models.fhir_export import ExportJob, export_storage
    from vetpms.models import User

    manager = User.objects.filter(groups__name="Manager", is_active=True).order_by("pk").first()
    types = list(bulk.export_types())
    job = ExportJob.objects.create(level="system", types=types, request_url="bench", requested_by=manager)
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_rss_kb())
            time.sleep(0.05)

    base = _rss_kb()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    status = bulk.run_export(str(job.pk))
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    job.refresh_from_db()
    resources = sum(item["count"] for item in job.output)
    per_type = ", ".join(f"{item['type']} {item['count']:,}" for item in job.output)
    facts = {
        "export status": status,
        "export wall time": f"{seconds:.1f} s ({resources / seconds:,.0f} resources/s)",
        "resources exported": f"{resources:,} ({per_type})",
        "written": f"{job.bytes_written / 1e6:,.1f} MB NDJSON in {len(job.output)} files",
        "memory (RSS growth over the run)": f"peak +{(max(samples) - base) / 1024:.1f} MB "
        f"(RSS before {base / 1024:.0f} MB; at 25/50/75 % of the run "
        + "/".join(f"+{(samples[int(len(samples) * q)] - base) / 1024:.1f}" for q in (0.25, 0.5, 0.75))
        + " MB)",
    }
    bulk.cancel(job)  # delete the files
    # Python's heap under tracemalloc (slow, so one type): what the streaming keeps alive at its peak.
    job = ExportJob.objects.create(level="system", types=["Immunization"], request_url="bench", requested_by=manager)
    tracemalloc.start()
    bulk.run_export(str(job.pk))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    job.refresh_from_db()
    count = sum(item["count"] for item in job.output)
    facts["tracemalloc peak, Immunization only"] = f"{peak / 1e6:.1f} MB for {count:,} resources"
    bulk.cancel(job)
    export_storage()  # the storage stays configured; nothing else to clean
    return facts


def export_as_is(out: Path) -> int:
    """The whole-system export of the database as it stands, with what it holds listed beside the figures."""
    from animals.models import Animal
    from appointments.models import Appointment
    from clients.models import Client
    from clinical.models import Consultation
    from invoicing.models import Invoice

    facts = {
        "database": f"{Client.objects.count():,} clients, {Animal.objects.count():,} animals, "
        f"{Appointment.objects.count():,} appointments, {Invoice.objects.count():,} invoices and credit notes, "
        f"{Consultation.objects.count():,} consultations",
        "machine": f"{os.cpu_count()} cores, load average at the start {os.getloadavg()[0]:.1f}",
    }
    facts |= bench_export()
    heading = (
        "# Issue 11: the bulk export of a whole practice-scale database\n\n"
        "Made by `python -m bench.fhir_bulk --as-is --database-url <the database of python -m bench>`."
    )
    write_report(out, heading, facts)
    return 0


def write_report(out: Path, heading: str, facts: dict[str, str], table: str = "") -> None:
    """The facts (with the load and date at the end) as a Markdown list under ``heading``, then ``table``."""
    facts["load average at the end"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    facts["date"] = time.strftime("%Y-%m-%d %H:%M")
    report = heading + "\n\n" + "\n".join(f"- {key}: {value}" for key, value in facts.items()) + "\n" + table
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_FHIR_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--scale", type=float, default=0.2, help="fraction of the practice-scale volumes")
    parser.add_argument("--samples", type=int, default=200, help="Observation searches timed")
    parser.add_argument("--no-export", action="store_true", help="time the search only")
    parser.add_argument("--build-only", action="store_true", help="build the data and stop")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="export the database as it stands (e.g. the practice-scale one of `python -m bench`): no build, no search",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()
    rng = random.Random(args.seed)
    if args.as_is:
        return export_as_is(args.out)
    built = build(args.scale, rng)
    if args.build_only:
        return 0
    from animals.models import Animal
    from clinical.models import Consultation

    facts = {
        "scale": f"{args.scale} of practice scale ({Animal.objects.count():,} animals, "
        f"{Consultation.objects.count():,} consultations)",
        "machine": f"{os.cpu_count()} cores, load average at the start {os.getloadavg()[0]:.1f}",
        "export chunk": f"{settings.FHIR_EXPORT_CHUNK} rows a query",
    }
    if built:
        facts["data build"] = f"{built['build seconds']} s (bulk inserts)"
    search = bench_search(args.samples, rng)
    if not args.no_export:
        facts |= bench_export()
    heading = (
        "# Issue 11: clinical FHIR search and bulk export\n\n"
        "Made by `python -m bench.fhir_bulk` (see its docstring). Server time in-process, Django's test client."
    )
    table = (
        "\n| measure | n | p50 ms | p95 ms | queries | target | ok | note |\n|---|---|---|---|---|---|---|---|\n"
        f"| {search.name} | {len(search.times_ms)} | {search.p50:.1f} | {search.p95:.1f} | {search.query_range} "
        f"| {search.target} | {'yes' if search.ok else 'NO'} | {search.note} |\n"
    )
    write_report(args.out, heading, facts, table)
    return 0 if search.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
