"""The retention schedule: the dry run lists exactly what the task then does; owners still inside a period, owing
money or recently active are left alone; old reminder emails lose their address and subject."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.models import Client
from exchange.datarights import selectors, services, tasks
from exchange.datarights.schedule import NAME, ensure_schedule
from exchange.models import Erasure
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders.models import ReminderDelivery
from tests.exchange.datarights.conftest import make_owner

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=365 * 8)


@pytest.fixture
def owners(receptionist, consult_fee):
    """An owner last seen eight years ago, one seen today, and one who has owed money for eight years. Tests cannot
    wait eight years: the old ones are written through the services with the clock set back."""
    with mock.patch("django.utils.timezone.now", return_value=LONG_AGO):
        gone = make_owner(receptionist, last_name="Longgone", email="lg@example.org", mobile_phone="07400 634101",
                          postcode="WX3 3AA")  # fmt: skip
        debtor = make_owner(receptionist, last_name="Oweslots", email="ol@example.org", mobile_phone="07400 634103",
                            postcode="WX5 5AA")  # fmt: skip
        draft = invoice_draft_for(client=debtor, by=receptionist)
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=Decimal(1))
        issued = invoice_finalise(invoice=draft, by=receptionist)
    recent = make_owner(receptionist, last_name="Stillhere", email="sh@example.org", mobile_phone="07400 634102",
                        postcode="WX4 4AA")  # fmt: skip
    assert issued.issue_date < timezone.localdate() - dt.timedelta(days=365 * 7)
    return {"gone": gone, "recent": recent, "debtor": debtor, "issued": issued}


def test_the_dry_run_lists_what_the_task_then_does(owners, settings):
    settings.RETENTION_CLIENT_INACTIVE_YEARS = 6
    settings.RETENTION_FINANCIAL_YEARS = 6  # the debtor's invoice is past its period; only the debt stops it
    plan = selectors.retention_plan()
    assert plan.to_erase == [owners["gone"].pk]
    assert {c.client_id: c.blocked for c in plan.clients} == {
        owners["gone"].pk: "",
        owners["debtor"].pk: "still owes money",
    }

    done = services.retention_apply()

    assert done.clients == plan.clients and done.email_log_ids == plan.email_log_ids
    assert list(Erasure.objects.values_list("client_id", "source")) == [(owners["gone"].pk, "retention")]
    assert Client.objects.get(pk=owners["gone"].pk).last_name.startswith("Erased client")
    assert Client.objects.get(pk=owners["debtor"].pk).last_name == "Oweslots"
    assert Client.objects.get(pk=owners["recent"].pk).last_name == "Stillhere"
    assert selectors.retention_plan().clients == [plan.clients[1]]  # only the blocked debtor is left


def test_an_invoice_inside_its_tax_period_keeps_the_owner_out_of_the_run(owners, settings):
    settings.RETENTION_FINANCIAL_YEARS = 10  # the debtor's invoice (eight years old) is inside its period
    assert owners["debtor"].pk not in {c.client_id for c in selectors.retention_plan().clients}


def test_old_reminder_emails_lose_address_and_subject(owners, settings):
    settings.RETENTION_EMAIL_LOG_YEARS = 2
    old = ReminderDelivery.objects.create(
        client=owners["recent"], to_email="sh@example.org", subject="Rex is due", status="sent"
    )
    new = ReminderDelivery.objects.create(
        client=owners["recent"], to_email="sh@example.org", subject="Rex is due again", status="sent"
    )
    ReminderDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=800))
    plan = selectors.retention_plan()
    assert plan.email_log_ids == [old.pk]
    done = services.retention_apply()
    assert done.email_log_ids == [old.pk]
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.to_email, old.subject, old.status) == ("", "", "sent")
    assert (new.to_email, new.subject) == ("sh@example.org", "Rex is due again")


def test_the_command_is_a_dry_run_unless_told_to_apply(owners):
    out = StringIO()
    call_command("data_retention", stdout=out)
    assert f"client {owners['gone'].pk}" in out.getvalue() and "Would erase 1 owners" in out.getvalue()
    assert not Erasure.objects.exists()
    out = StringIO()
    call_command("data_retention", "--apply", stdout=out)
    assert "Erased 1 owners" in out.getvalue() and "Longgone" not in out.getvalue()
    assert Erasure.objects.get().client_id == owners["gone"].pk


def test_the_task_erases_and_the_schedule_is_written_once(owners):
    assert tasks.retention_run() == 1
    from django_q.models import Schedule

    ensure_schedule()
    ensure_schedule()
    schedule = Schedule.objects.get(name=NAME)
    assert schedule.func == "exchange.datarights.tasks.retention_run"
    assert schedule.next_run > timezone.now()


def test_the_dry_run_page_shows_the_candidates(owners, as_manager):
    page = as_manager.get("/exchange/data-rights/retention/").content.decode()
    assert "Longgone" in page and "Oweslots" in page and "still owes money" in page
    assert "Stillhere" not in page
