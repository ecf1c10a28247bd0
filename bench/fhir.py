"""Issue 11 measurements: the FHIR R4 server on the practice-scale data (about 90k animals).

    Patient?identifier=<microchip>           <= 30 ms p95 (a partner scanning a chip)

Beside it, without targets: a Patient read, Appointment?patient= and a week of one vet's free Slots. Requests go
through Django's test client with a bearer token of the receptionist (made for the run, revoked after), so the
figures include authentication, the role check and the JSON.
"""

from __future__ import annotations

import random

from bench.run import Result, get_ok, measure

IDENTIFIER_MS = 30.0


def bench_fhir(args) -> tuple[list[Result], dict[str, str]]:
    from django.test import Client as HttpClient

    from animals.models import Animal
    from exchange.fhir.systems import MICROCHIP
    from vetpms.models import User, Vet
    from vetpms.services import api_token_create, api_token_revoke

    rng = random.Random(args.seed)
    reception = User.objects.get(username="reception")
    token, secret = api_token_create(user=reception, name="bench (FHIR)", by=reception, scopes="system/*.read")
    http = HttpClient()
    auth = {"Authorization": f"Bearer {secret}"}
    try:
        chipped = list(Animal.objects.exclude(microchip="").values_list("pk", "microchip").order_by("?")[:2000])
        sample = rng.sample(chipped, min(len(chipped), args.repeat * 5))
        by_chip = Result("FHIR Patient?identifier=<microchip>", target=f"<= {IDENTIFIER_MS:.0f} ms p95")
        read = Result("FHIR Patient/[id]")
        appointments = Result("FHIR Appointment?patient=")
        for pk, chip in sample:
            measure(by_chip, get_ok(http, f"/fhir/R4/Patient?identifier={MICROCHIP}|{chip}", **auth))
            measure(read, get_ok(http, f"/fhir/R4/Patient/{pk}", **auth))
            measure(appointments, get_ok(http, f"/fhir/R4/Appointment?patient=Patient/{pk}", **auth))
        slots = Result("FHIR Slot?schedule= (7 days free)")
        vets = list(Vet.objects.filter(is_active=True).values_list("pk", flat=True))
        for _ in range(args.repeat):
            vet = rng.choice(vets)
            measure(slots, get_ok(http, f"/fhir/R4/Slot?schedule=Schedule/{vet}&status=free&_count=50", **auth))
        by_chip.ok = by_chip.p95 <= IDENTIFIER_MS
    finally:
        api_token_revoke(token=token, by=reception)
    facts = {
        "animals with a microchip": f"{Animal.objects.exclude(microchip='').count():,}",
        "requests per measure": str(len(sample)),
    }
    return [by_chip, read, appointments, slots], facts
