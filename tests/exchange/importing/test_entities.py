"""The entities beyond clients and animals: the catalogue, vaccination history, reminders due, future appointments
and opening balances, each through the same services as the pages, in the dry run and for real; idempotent by
(source system, entity, source id); a bad row is an error on its own with its column and a clear message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from animals.models import Animal
from appointments.models import Appointment
from appointments.services import appointment_details_update
from clients.models import Client
from clinical.models import Vaccination
from exchange.importing import services
from exchange.models import ImportIssue, ImportJob
from invoicing import summaries
from invoicing.models import Invoice, InvoiceLine, Payment, Product, RevenueDay, RevenueMonth
from invoicing.selectors import client_balance, client_statement
from invoicing.services import credit_note_issue
from reminders.models import Reminder
from reminders.services import reminder_create
from reports.base import ReportParams
from reports.builders.dashboard import revenue_between
from reports.builders.receivables import receivables_as_of
from reports.builders.revenue import Scope
from tests.appointments.conftest import consult, monday, vet  # noqa: F401 - shared fixtures
from tests.exchange.practice import rabies_type, worming  # noqa: F401 - shared fixtures
from tests.factories import AnimalFactory
from tests.invoicing.conftest import rabies, standard  # noqa: F401 - shared fixtures
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db

CLIENTS = "Client No,Surname,Email\nC1,Smith,ann@example.com\nC2,Jones,bob@example.com\n"
ANIMALS = "Pet ID,Owner ID,Pet Name,Species\nA1,C1,Rex,Dog\nA2,C2,Tibbles,Cat\n"


def run(manager, files: dict[str, str], *, system: str = "OldVet", apply: bool = True) -> ImportJob:
    """Upload, dry run and (unless ``apply`` is off) import; the job of the last run."""
    job = services.job_create(by=manager, source_system=system, files=[(n, t.encode()) for n, t in files.items()])
    services.job_start(job=job, by=manager, apply=False, background=False)
    job = services.job_run(job_id=job.pk)
    assert job is not None and job.status == ImportJob.Status.CHECKED
    if apply:
        services.job_start(job=job, by=manager, apply=True, background=False)
        job = services.job_run(job_id=job.pk)
        assert job is not None and job.status == ImportJob.Status.APPLIED
    return job


def issues(job: ImportJob) -> dict[tuple[str, int], ImportIssue]:
    return {(i.file.filename, i.row_number): i for i in ImportIssue.objects.filter(job=job, kind="error")}


def days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_products_are_created_then_updated_by_source_id_with_decimal_prices(manager, standard):  # noqa: F811
    products = (
        "Item ID,Code,Description,Group,Price,VAT\n"
        "P1,CONS,Consultation,consultation,45.5,standard\n"
        "P2,VAC-DHP,DHP vaccine,vaccine,£38.499,20%\n"
        "P3,FOOD,Food,retail,-3.00,standard\n"
        "P4,NOTAX,No tax given,other,1.00,\n"
        "P5,X,Odd tax,other,1.00,luxury\n"
    )
    dry = run(manager, {"products.csv": products}, apply=False)
    assert not Product.objects.exists()  # the dry run writes nothing
    assert dry.created_count == 2 and dry.error_count == 3
    job = run(manager, {"products.csv": products})
    assert (job.created_count, job.error_count) == (2, 3)
    found = issues(job)
    assert found[("products.csv", 4)].column == "unit_price" and "zero or more" in found[("products.csv", 4)].message
    assert found[("products.csv", 5)].column == "tax_category"
    assert found[("products.csv", 6)].column == "tax_category" and "luxury" in found[("products.csv", 6)].message
    cons, dhp = Product.objects.get(code="CONS"), Product.objects.get(code="VAC-DHP")
    assert cons.unit_price == Decimal("45.50") and cons.tax_category == standard
    assert dhp.unit_price == Decimal("38.50")  # money is quantised half up to pence
    assert dhp.tax_category == standard and dhp.category == "vaccine"  # "20%" names today's 20 % category

    again = run(manager, {"products.csv": products.replace("45.5,", "47.00,")})
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 1)
    assert Product.objects.count() == 2 and Product.objects.get(code="CONS").unit_price == Decimal("47.00")


def test_a_vaccination_history_renews_the_one_reminder_and_is_not_charged(manager, vet, rabies, rabies_type):  # noqa: F811
    run(manager, {"clients.csv": CLIENTS, "animals.csv": ANIMALS})
    rex = Animal.objects.get(name="Rex")
    old = reminder_create(animal=rex, reminder_type=rabies_type, due_on=timezone.localdate(), by=manager)
    vaccinations = (
        "Vacc ID,Animal ID,Date Given,Vaccine,Batch,Expiry,Vet,Next Due\n"
        f"V1,A1,{days(-10)},VAC-RAB,B1,{days(200)},victor,{days(355)}\n"
        f"V2,A1,{days(-400)},VAC-RAB,B0,{days(-300)},victor,\n"  # an older dose after a newer one: history only
        f"V3,A2,{days(5)},VAC-RAB,B1,{days(200)},victor,\n"  # the future
        f"V4,A9,{days(-1)},VAC-RAB,B1,{days(200)},victor,\n"  # no such animal
        f"V5,A2,{days(-1)},NOPE,B1,{days(200)},victor,\n"  # no such product
        f"V6,A2,{days(-1)},VAC-RAB,B1,{days(200)},Dr Nobody,\n"  # no such vet
    )
    dry = run(manager, {"vaccinations.csv": vaccinations}, apply=False)
    assert not Vaccination.objects.exists()
    job = run(manager, {"vaccinations.csv": vaccinations})
    assert (dry.created_count, dry.error_count) == (job.created_count, job.error_count) == (2, 4)
    found = issues(job)
    assert found[("vaccinations.csv", 4)].column == "given_on" and "future" in found[("vaccinations.csv", 4)].message
    assert (
        found[("vaccinations.csv", 5)].column == "animal_source_id" and "A9" in found[("vaccinations.csv", 5)].message
    )
    assert found[("vaccinations.csv", 6)].column == "product_code"
    assert found[("vaccinations.csv", 7)].column == "given_by" and "Dr Nobody" in found[("vaccinations.csv", 7)].message
    v1 = Vaccination.objects.get(batch="B1")
    assert v1.given_by.username == "victor" and v1.supervising_vet == vet
    # Not a charge: no invoice line, no draft for the owner.
    assert v1.invoice_line is None and not InvoiceLine.objects.exists()
    # The pending reminder was the one renewed: completed by V1, one new one pending from V1's next due date.
    old.refresh_from_db()
    assert old.status == "completed" and old.completed_by_vaccination == v1
    pending = Reminder.objects.get(animal=rex, type=rabies_type, status="pending")
    assert pending.source_vaccination == v1 and pending.due_on.isoformat() == days(355)
    assert Reminder.objects.filter(animal=rex).count() == 2  # the older dose V2 renewed nothing

    # The old system's reminders file names that same pending reminder: it is taken over, never a second one.
    reminders = f"Recall ID,Pet ID,Recall Type,Due Date\nR1,A1,Rabies vaccination,{days(360)}\n"
    taken = run(manager, {"reminders.csv": reminders})
    assert (taken.created_count, taken.updated_count, taken.error_count) == (0, 1, 0)
    pending.refresh_from_db()
    assert pending.due_on.isoformat() == days(360)
    assert Reminder.objects.filter(animal=rex, status="pending").count() == 1

    again = run(manager, {"vaccinations.csv": vaccinations})
    assert (again.created_count, again.unchanged_count) == (0, 2)
    assert Vaccination.objects.count() == 2


def test_reminders_follow_the_pages_rules(manager, rabies_type, worming):  # noqa: F811
    run(manager, {"clients.csv": CLIENTS, "animals.csv": ANIMALS})
    reminders = (
        "Recall ID,Pet ID,Recall Type,Due Date,Status,Notes\n"
        f"R1,A1,Rabies vaccination,{days(30)},,\n"
        f"R2,A1,rabies vaccination,{days(60)},pending,\n"  # a second pending one of the same type
        f"R3,A1,Rabies vaccination,{days(-300)},completed,given at the old practice\n"
        f"R4,A2,Worming,{days(10)},pending,\n"
        f"R5,A2,Flea treatment,{days(10)},pending,\n"  # no such type
        f"R6,A2,Worming,{days(10)},overdue,\n"  # no such status
    )
    dry = run(manager, {"reminders.csv": reminders}, apply=False)
    job = run(manager, {"reminders.csv": reminders})
    assert (dry.created_count, dry.error_count) == (job.created_count, job.error_count) == (3, 3)
    found = issues(job)
    assert found[("reminders.csv", 3)].column == "reminder_type"
    assert "at most one pending" in found[("reminders.csv", 3)].message
    assert found[("reminders.csv", 6)].column == "reminder_type" and "Flea" in found[("reminders.csv", 6)].message
    assert found[("reminders.csv", 7)].column == "status"
    rex = Animal.objects.get(name="Rex")
    assert list(Reminder.objects.filter(animal=rex).order_by("due_on").values_list("status", "source", "note")) == [
        ("completed", "import", "given at the old practice"),
        ("pending", "import", ""),
    ]
    # Importing again: the file now says R1 was done; the reminder is completed, nothing is created twice.
    done = reminders.replace(f"{days(30)},,", f"{days(30)},completed,").replace(
        f"R2,A1,rabies vaccination,{days(60)},pending,\n", ""
    )
    again = run(manager, {"reminders.csv": done})
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 2)
    assert Reminder.objects.filter(animal=rex).count() == 2
    assert not Reminder.objects.filter(animal=rex, status="pending").exists()


def at_local(day: dt.date, hh: int, mm: int = 0) -> str:
    return dt.datetime(day.year, day.month, day.day, hh, mm).isoformat()


def test_future_appointments_are_booked_and_clashes_or_closed_hours_are_errors(manager, vet, consult, monday):  # noqa: F811
    run(manager, {"clients.csv": CLIENTS, "animals.csv": ANIMALS})
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    appointments = (
        "Appt ID,Pet ID,Vet,Type,Start,Duration,Reason\n"
        f"B1,A1,Victor Vet,consultation,{at_local(monday, 10)},20,Lame\n"
        f"B2,A2,Victor Vet,Consultation,{at_local(monday, 10, 10)},15,Clash\n"  # overlaps B1
        f"B3,A2,Victor Vet,Consultation,{at_local(monday, 20)},15,Late\n"  # after hours
        f"B4,A2,Victor Vet,Consultation,{at_local(yesterday, 10)},15,Past\n"
        f"B5,A2,Dr Who,Consultation,{at_local(monday, 12)},15,\n"
        f"B6,A2,Victor Vet,Consultation,{at_local(monday, 10, 20)},15,Back to back\n"
    )
    dry = run(manager, {"appointments.csv": appointments}, apply=False)
    assert not Appointment.objects.exists()
    job = run(manager, {"appointments.csv": appointments})
    assert (dry.created_count, dry.error_count) == (job.created_count, job.error_count) == (2, 4)
    found = issues(job)
    assert (
        found[("appointments.csv", 3)].column == "start" and "already booked" in found[("appointments.csv", 3)].message
    )
    assert "outside Victor Vet's working hours" in found[("appointments.csv", 4)].message
    assert "Tick" not in found[("appointments.csv", 4)].message  # the page's advice does not apply here
    assert "past" in found[("appointments.csv", 5)].message and found[("appointments.csv", 5)].column == "start"
    assert found[("appointments.csv", 6)].column == "vet"
    b1 = Appointment.objects.get(reason="Lame")
    assert (b1.minutes, b1.vet, b1.animal.name, b1.status) == (20, vet, "Rex", "booked")
    # Importing again: unchanged; the old system moved B1 an hour later: the same appointment is rescheduled.
    moved = appointments.replace(at_local(monday, 10) + ",20", at_local(monday, 11) + ",20")
    again = run(manager, {"appointments.csv": moved})
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 1)
    b1.refresh_from_db()
    assert timezone.localtime(b1.start).hour == 11 and Appointment.objects.count() == 2


def test_importing_again_updates_an_appointments_reason_and_notes(manager, vet, consult, monday):  # noqa: F811
    run(manager, {"clients.csv": CLIENTS, "animals.csv": ANIMALS})
    header = "Appt ID,Pet ID,Vet,Type,Start,Duration,Reason,Notes\n"
    first = header + f"B1,A1,Victor Vet,Consultation,{at_local(monday, 10)},20,Lame,Left fore\n"
    run(manager, {"appointments.csv": first})
    b1 = Appointment.objects.get()
    changed = first.replace("Lame,Left fore", "Lame and off food,Left fore; bring the X-rays")
    dry = run(manager, {"appointments.csv": changed}, apply=False)
    assert dry.updated_count == 1
    b1.refresh_from_db()
    assert (b1.reason, b1.notes) == ("Lame", "Left fore")  # the dry run wrote nothing
    job = run(manager, {"appointments.csv": changed})
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 0)
    b1.refresh_from_db()
    assert (b1.reason, b1.notes) == ("Lame and off food", "Left fore; bring the X-rays")
    entry = AuditEntry.objects.filter(object_id=str(b1.pk), action="update").get()
    assert entry.changes["reason"] == ["Lame", "Lame and off food"] and entry.actor == manager
    again = run(manager, {"appointments.csv": changed})
    assert (again.updated_count, again.unchanged_count) == (0, 1)
    # A file without the notes column leaves the notes alone; an arrived appointment is VetPMS's record now.
    no_notes = "Appt ID,Pet ID,Vet,Type,Start,Duration,Reason\n" + (
        f"B1,A1,Victor Vet,Consultation,{at_local(monday, 10)},20,Lame\n"
    )
    run(manager, {"appointments.csv": no_notes})
    b1.refresh_from_db()
    assert (b1.reason, b1.notes) == ("Lame", "Left fore; bring the X-rays")
    Appointment.objects.filter(pk=b1.pk).update(status="arrived")
    late = run(manager, {"appointments.csv": no_notes.replace(",Lame", ",Something else")})
    assert late.unchanged_count == 1
    b1.refresh_from_db()
    assert b1.reason == "Lame"
    with pytest.raises(DomainError, match="record now"):
        appointment_details_update(appointment=b1, by=manager, reason="Other", notes="")


def test_opening_balances_are_documents_the_account_statement_and_receivables_show(manager):
    run(manager, {"clients.csv": CLIENTS + "C3,Brown,carl@example.com\n"})
    as_of = timezone.localdate() - dt.timedelta(days=40)
    balances = (
        "Balance ID,Client ID,Balance Due,As At,Note\n"
        f"O1,C1,123.456,{as_of:%d/%m/%Y},\n"  # owes; three decimals are rounded half up
        f"O2,C2,(20.00),{as_of:%d/%m/%Y},deposit\n"  # accountants' negative: a credit
        f"O3,C3,0.00,{as_of:%d/%m/%Y},\n"
        f"O4,C9,10.00,{as_of:%d/%m/%Y},\n"
        f"O5,C3,ten,{as_of:%d/%m/%Y},\n"
    )
    dry = run(manager, {"opening_balances.csv": balances}, apply=False)
    assert not Invoice.objects.exists() and not Payment.objects.exists()
    job = run(manager, {"opening_balances.csv": balances})
    assert (dry.created_count, dry.error_count) == (job.created_count, job.error_count) == (2, 2)
    found = issues(job)
    assert found[("opening_balances.csv", 5)].column == "client_source_id"
    assert (
        found[("opening_balances.csv", 6)].column == "balance"
        and "not a number" in found[("opening_balances.csv", 6)].message
    )
    smith, jones, brown = (Client.objects.get(last_name=n) for n in ("Smith", "Jones", "Brown"))
    assert client_balance(client=smith).balance == Decimal("123.46")
    assert client_balance(client=jones).balance == Decimal("-20.00")
    assert client_balance(client=brown).balance == Decimal("0.00")
    invoice = Invoice.objects.get(client=smith)
    assert (invoice.status, invoice.gross_total, invoice.tax_total, invoice.due_date) == (
        "finalised",
        Decimal("123.46"),
        Decimal("0.00"),
        as_of,
    )
    assert invoice.lines.get().description.startswith("Opening balance brought forward from OldVet")
    credit = Payment.objects.get(client=jones)
    assert (credit.amount, credit.method, credit.received_on, credit.allocations.count()) == (
        Decimal("20.00"),
        "other",
        as_of,
        0,
    )
    today = timezone.localdate()
    statement = client_statement(client=smith, start=as_of, end=today)
    assert statement.closing == Decimal("123.46") and statement.entries[0].reference == invoice.reference
    receivables = receivables_as_of(today)
    assert receivables.clients[smith.pk]["balance"] == Decimal("123.46")
    assert receivables.clients[smith.pk]["overdue"] == Decimal("123.46")  # owed since the day it was struck
    assert receivables.clients[jones.pk]["credit"] == Decimal("-20.00")
    # Owed from before, not sold today: no revenue on the day it was carried over, nor when the summaries are
    # filled again from the documents, nor in the revenue report's own reading of the documents.
    assert invoice.opening_balance
    assert revenue_between(as_of, today) == Decimal("0.00") and not RevenueDay.objects.exists()
    summaries.rebuild()
    assert not RevenueDay.objects.exists() and not RevenueMonth.objects.exists()
    assert not Invoice.objects.filter(Scope(ReportParams(start=as_of, end=today)).documents()).exists()

    again = run(manager, {"opening_balances.csv": balances})
    assert (again.created_count, again.unchanged_count, again.error_count) == (0, 3, 2)
    changed = run(manager, {"opening_balances.csv": balances.replace("123.456", "150.00")})
    message = issues(changed)[("opening_balances.csv", 2)].message
    assert "carried over before" in message and "credit note" in message
    assert Invoice.objects.filter(client=smith).count() == 1
    assert client_balance(client=smith).balance == Decimal("123.46")
    # Written off with a credit note: the balance goes, and revenue does not go below nothing either.
    credit_note_issue(invoice=invoice, by=manager, reason="Written off")
    assert client_balance(client=smith).balance == Decimal("0.00")
    assert revenue_between(as_of, today) == Decimal("0.00") and not RevenueDay.objects.exists()
    summaries.rebuild()
    assert not RevenueDay.objects.exists()


def test_an_older_dose_typed_in_after_a_newer_one_renews_nothing(manager, vet, rabies, rabies_type):  # noqa: F811
    from clinical.services import vaccination_record

    rex = AnimalFactory(name="Rex")  # the rule lives in the reminders service, whoever records the dose
    today = timezone.localdate()
    kw = {"animal": rex, "product": rabies, "batch": "B", "batch_expiry": today, "by": vet.user}
    newer = vaccination_record(given_on=today - dt.timedelta(days=10), **kw)
    vaccination_record(given_on=today - dt.timedelta(days=200), **kw)
    pending = Reminder.objects.get(animal=rex, status="pending")
    assert pending.source_vaccination == newer and Reminder.objects.filter(animal=rex).count() == 1
