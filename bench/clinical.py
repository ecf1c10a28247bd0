"""Issue 10 measurements: the clinical record on the practice-scale data (about 500k consultations).

    the consultation page                    <= 30 ms p95, the same number of queries for any patient
    the history of a 600-entry patient       <= 30 ms p95, the same number of queries as a puppy's
    signing a consultation                   <= 20 ms p95
    the history PDF of 100 entries           <= 200 ms p95

The 600-entry patient ("Old Tom", a cat fifteen years old) is made once and kept: signed records cannot be
deleted, so the consultations the signing measure signs stay too (each run adds ``--sign`` of them).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from bench.run import Result, measure

PAGE_MS, SIGN_MS, PDF_MS = 30.0, 20.0, 200.0
OLD_TOM = "Old Tom (bench)"
ENTRIES = {"consultations": 200, "weights": 150, "vaccinations": 100, "prescriptions": 150}


def old_tom():
    """The patient with 600 entries over fifteen years, made once with bulk inserts (children first, then the
    consultations signed in one UPDATE, as the practice seeder does)."""
    from django.db import transaction
    from django.utils import timezone

    from animals.models import Animal, Breed, Species, Weight
    from clients.models import Client
    from clinical.models import Consultation, ConsultationDiagnosis, Diagnosis, Prescription, Vaccination
    from invoicing.models import Product
    from vetpms.models import Vet

    existing = Animal.objects.filter(name=OLD_TOM).first()
    if existing is not None:
        return existing
    cat = Species.objects.get(name="Cat")
    owner = Client.objects.filter(is_active=True).order_by("pk").first()
    vet = Vet.objects.filter(is_active=True).order_by("pk").first()
    today = timezone.localdate()
    born = today - dt.timedelta(days=15 * 365)
    vaccine = Product.objects.filter(category="vaccine").order_by("pk").first()
    medicine = Product.objects.filter(category="medication").order_by("pk").first()
    diagnoses = list(Diagnosis.objects.order_by("pk")[:10])
    rng = random.Random(10)
    with transaction.atomic():
        tom = Animal.objects.create(
            owner=owner, name=OLD_TOM, species=cat, breed=Breed.objects.filter(species=cat).first(), sex="male",
            neuter_status="neutered", date_of_birth=born, search_text=f" old tom bench {owner.search_text.strip()} ",
        )  # fmt: skip
        days = sorted(born + dt.timedelta(days=rng.randint(60, 15 * 365 - 1)) for _ in range(ENTRIES["consultations"]))
        consultations = Consultation.objects.bulk_create(
            [
                Consultation(
                    animal=tom, vet=vet, opened_by=vet.user, status="draft",
                    opened_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10, 15))),
                    complaint="Recheck", history="Eating well. " * 20, examination="Thin, kidneys small. " * 20,
                    assessment="Chronic kidney disease, stable.", plan="Renal diet, recheck in 3 months. " * 5,
                    temperature_c=Decimal("38.4"), heart_rate=180, respiratory_rate=28,
                )
                for day in days
            ]
        )  # fmt: skip
        ConsultationDiagnosis.objects.bulk_create(
            [ConsultationDiagnosis(consultation=c, diagnosis=rng.choice(diagnoses)) for c in consultations]
        )
        Weight.objects.bulk_create(
            [
                Weight(animal=tom, kg=Decimal("4.2") + Decimal(i % 10) / 10, measured_on=born + dt.timedelta(36 * i))
                for i in range(1, ENTRIES["weights"] + 1)
            ]
        )  # fmt: skip
        Vaccination.objects.bulk_create(
            [
                Vaccination(
                    animal=tom, consultation=c, product=vaccine, batch=f"FL{i:04d}", batch_expiry=today,
                    given_on=c.opened_at.date(), given_by=vet.user, supervising_vet=vet,
                    next_due_on=c.opened_at.date() + dt.timedelta(days=365),
                )
                for i, c in enumerate(consultations[: ENTRIES["vaccinations"]])
            ]
        )  # fmt: skip
        Prescription.objects.bulk_create(
            [
                Prescription(
                    animal=tom, consultation=c, product=medicine, dose="1 tablet", frequency="once daily",
                    quantity=Decimal(28), prescribed_by=vet, dispensed_by=vet.user, dispensed_on=c.opened_at.date(),
                )
                for c in consultations[-ENTRIES["prescriptions"] :]
            ]
        )  # fmt: skip
        Consultation.objects.filter(animal=tom).update(status="signed", signed_at=timezone.now(), signed_by=vet.user)
    return tom


def bench_clinical(args) -> tuple[list[Result], dict[str, str]]:
    from django.test import Client as HttpClient
    from django.utils import timezone

    from animals.models import Animal
    from clinical import selectors
    from clinical.models import Consultation, Prescription, Vaccination
    from clinical.pdf import render_history
    from clinical.services import consultation_open, consultation_save_draft, consultation_sign
    from vetpms.models import Vet

    rng = random.Random(args.seed)
    tom = old_tom()
    entries = len(selectors.history(animal=tom, limit=100).entries)
    total = sum(ENTRIES.values())
    vet = Vet.objects.filter(is_active=True).order_by("pk").first()
    http = HttpClient()
    http.force_login(vet.user)
    young = timezone.localdate() - dt.timedelta(days=200)
    puppy = Animal.objects.filter(date_of_birth__gte=young, consultations__isnull=False).order_by("pk").first()
    results: list[Result] = []

    # Pages: random signed consultations of the ten years, and one of Old Tom's; his history beside a puppy's.
    last_id = Consultation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample = []
    while len(sample) < args.repeat:
        found = Consultation.objects.filter(pk__gte=rng.randint(1, last_id)).order_by("pk").values_list("pk", flat=True)
        sample += list(found[:1])
    tom_consultation = Consultation.objects.filter(animal=tom).order_by("-opened_at").first()
    page = Result("GET consultation page (random of ten years, vet)", target=f"p95 <= {PAGE_MS:.0f} ms")
    http.get(f"/clinical/consultations/{sample[0]}/")
    for pk in [*sample, tom_consultation.pk]:
        measure(page, _ok(http, f"/clinical/consultations/{pk}/"))
    page.ok = page.p95 <= PAGE_MS and len(set(page.queries)) == 1
    page.note = "queries the same for every consultation" if len(set(page.queries)) == 1 else "queries vary"
    results.append(page)

    history_url = f"/clinical/animals/{tom.pk}/history/"
    cursor = selectors.history(animal=tom, limit=30).next_cursor
    for name, url, htmx in (
        (f"GET history page, {total}-entry patient", history_url, False),
        (f"GET history, {total}-entry patient (htmx, older entries)", f"{history_url}?cursor={cursor}", True),
        (f"GET animal page, {total}-entry patient", f"/animals/{tom.pk}/", False),
        ("  its history card's first entries (htmx, after the page)", history_url, True),
    ):
        result = Result(name, target=f"p95 <= {PAGE_MS:.0f} ms")
        headers = {"HX_Request": "true"} if htmx else {}
        http.get(url, headers=headers)
        for _ in range(args.repeat):
            measure(result, _ok(http, url, **headers))
        result.ok = result.p95 <= PAGE_MS
        results.append(result)
    if puppy is not None:
        puppy_page = Result("  the same history page, a puppy's", note=f"{puppy.name}")
        for _ in range(max(5, args.repeat // 4)):
            measure(puppy_page, _ok(http, f"/clinical/animals/{puppy.pk}/history/"))
        results[-4].note = f"queries {results[-4].query_range} (a puppy's: {puppy_page.query_range})"
        results[-4].ok = results[-4].ok and results[-4].queries[0] == puppy_page.queries[0]
        results.append(puppy_page)

    # Signing: drafts opened and written through the services (not timed), each signed and committed.
    animals = list(
        Animal.objects.filter(is_active=True, deceased_on__isnull=True, owner__is_active=True)
        .order_by("?")
        .values_list("pk", flat=True)[: args.sign]
    )
    drafts = []
    for pk in animals:
        draft = consultation_open(animal=Animal.objects.get(pk=pk), vet=vet, by=vet.user)
        drafts.append(consultation_save_draft(consultation=draft, by=vet.user, data={"examination": "Bench: NAD."}))
    signing = Result("consultation_sign (commit included)", target=f"p95 <= {SIGN_MS:.0f} ms")
    for draft in drafts:
        measure(signing, lambda draft=draft: consultation_sign(consultation=draft, by=vet.user))
    signing.ok = signing.p95 <= SIGN_MS
    signing.note = f"{len(drafts)} drafts; they stay signed (a permanent record cannot be deleted)"
    results.append(signing)

    # The history PDF of the period holding Old Tom's latest 100 entries.
    newest = selectors.history(animal=tom, limit=100, kinds=["consultation", "vaccination", "prescription", "weight"])
    since = timezone.localtime(newest.entries[-1].at).date()
    pdf = Result("history PDF, 100 entries (clinical.pdf.render_history)", target=f"p95 <= {PDF_MS:.0f} ms")
    render_history(tom, since=since)
    for _ in range(max(5, args.repeat // 2)):
        measure(pdf, lambda: render_history(tom, since=since))
    pdf.ok = pdf.p95 <= PDF_MS
    pdf.note = f"from {since}"
    results.append(pdf)

    facts = {
        "consultations": f"{Consultation.objects.count():,}",
        "vaccinations": f"{Vaccination.objects.count():,}",
        "prescriptions": f"{Prescription.objects.count():,}",
        "the old patient": f"{OLD_TOM}: {total} entries ({entries} on a page of 100)",
    }
    return results, facts


def _ok(http, url: str, **headers):
    def call():
        response = http.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    return call
