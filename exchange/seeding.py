"""Interoperability for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): what the
demo shows of the import, the webhooks and the API tokens, each made through its own services.

- **An import from the previous system:** a neighbouring practice's clients and pets exported from "OldVet 7",
  checked by a dry run and then imported, so the imports page has one finished import with its report: what was
  created, and the rows it refused (a title VetPMS does not have, a pet whose owner was refused with it).
- **Two webhook endpoints** (``endpoint_create``: the secret sealed as the app stores it). The practice website's
  booking sync is enabled; the referral hospital's is paused. Both point at the discard port of this machine:
  nothing leaves it (without ``WEBHOOKS_ALLOW_PRIVATE`` a delivery is refused before it connects, and the log
  says why).
- **A partner's API token** (``api_token_create``): read-only and FHIR-only (named resource types, so the REST API
  refuses it). Its secret is printed once, when the demo is built, to try the FHIR server with.

These steps come last: the endpoints subscribe only after the rest of the demo is built, so building it queues
no deliveries, and the names and dates the other steps draw from the seed stay what they were.
"""

from __future__ import annotations

from django.test.utils import override_settings

from vetpms.management.seeding.common import SeedContext, Step

SOURCE_SYSTEM = "OldVet 7"

# The export of the practice taken over: a client with a title VetPMS does not have (refused, and so is the pet
# whose owner it is: both rows are in the report), the rest imported.
IMPORTED_CLIENTS = (
    "Client No,Title,Forename,Surname,E-Mail,Home Phone,Address 1,Town,Post Code\r\n"
    "OV-1041,Mrs,Hannah,Whitfield,hannah.whitfield@example.com,0117 496 0871,4 Cotham Vale,Bristol,BS6 6HR\r\n"
    "OV-1042,Mr,Colin,Marsh,,0117 496 0872,19 Gloucester Road,Bristol,BS7 8AE\r\n"
    "OV-1043,Ms,Priya,Anand,priya.anand@example.org,,2 Clifton Down,Bristol,BS8 3HT\r\n"
    "OV-1044,Sir,Geoffrey,Tate,,,7 Royal York Crescent,Bristol,BS8 4JZ\r\n"
)
IMPORTED_ANIMALS = (
    "Pet ID,Owner ID,Pet Name,Species,Breed,Sex,DOB,Chip No\r\n"
    "OVP-201,OV-1041,Biscuit,Dog,Labrador Retriever,FN,14/03/2018,826098000201001\r\n"
    "OVP-202,OV-1041,Mittens,Cat,,FS,02/07/2020,826098000201002\r\n"
    "OVP-203,OV-1042,Pepper,Rabbit,,M,,\r\n"
    "OVP-204,OV-1043,Luna,Cat,,FN,30/09/2016,826098000201004\r\n"
    "OVP-205,OV-1044,Rolo,Dog,,MN,01/05/2019,\r\n"
)

# Endpoint description -> (path on the discard port, event types, enabled).
WEBHOOKS: dict[str, tuple[str, list[str], bool]] = {
    "Practice website: online booking sync": (
        "/practice-website/vetpms-hooks",
        ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"],
        True,
    ),
    "Referral hospital: vaccinations and signed notes (paused)": (
        "/referral-hospital/inbound",
        ["consultation.signed", "vaccination.recorded"],
        False,
    ),
}
WEBHOOK_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens on it

PARTNER_APP = "Pet health app partner: FHIR read"
PARTNER_SCOPES = "system/Patient.read system/RelatedPerson.read system/Immunization.read system/Observation.read"


def seed_import(ctx: SeedContext) -> None:
    """The files through ``job_create``, a dry run, then the import (``job_start`` and ``job_run``, as the
    ``import_data`` command runs them): one applied job, with its counts and its issues."""
    from exchange.importing.services import job_create, job_run, job_start

    manager = ctx.staff["manager"]
    files = [("clients.csv", IMPORTED_CLIENTS.encode()), ("animals.csv", IMPORTED_ANIMALS.encode())]
    job = job_create(by=manager, source_system=SOURCE_SYSTEM, files=files)
    for apply in (False, True):
        job_start(job=job, by=manager, apply=apply, background=False)
        ran = job_run(job_id=job.pk)
        if ran is None:
            raise RuntimeError(f"Import {job.pk} was claimed elsewhere.")  # queued here, so claimed here
        job = ran
    ctx.counts["imported records"] = job.created_count


def seed_webhooks(ctx: SeedContext) -> None:
    """Two endpoints through ``endpoint_create`` (the second then paused through ``endpoint_update``). The URL
    check would refuse 127.0.0.1; it is let through for their registration only."""
    from exchange.webhooks.services import endpoint_create, endpoint_update

    manager = ctx.staff["manager"]
    for description, (path, event_types, enabled) in WEBHOOKS.items():
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
            endpoint, _secret = endpoint_create(
                by=manager, url=WEBHOOK_BASE + path, event_types=event_types, description=description
            )
        if not enabled:
            endpoint_update(endpoint=endpoint, by=manager, data={"enabled": False})
    ctx.counts["webhook endpoints"] = len(WEBHOOKS)


def seed_partner_token(ctx: SeedContext) -> None:
    """The partner's read-only FHIR token, made by the manager for the vet who looks after the partnership (a
    token acts as its user: the vet's role decides what it can see, the scopes narrow it to reading four FHIR
    types). The secret is shown this once."""
    from vetpms.services import api_token_create

    _token, secret = api_token_create(
        user=ctx.staff["vet"], name=PARTNER_APP, by=ctx.staff["manager"], scopes=PARTNER_SCOPES
    )
    ctx.out.write(f"  {PARTNER_APP} (shown once): {secret}\n")
    ctx.counts["partner API token"] = 1


DEMO_STEPS: list[Step] = [seed_import, seed_webhooks, seed_partner_token]
