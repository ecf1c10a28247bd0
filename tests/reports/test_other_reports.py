"""Appointments, reminders, the day sheet, the dashboard figures and the filter form, each against figures worked
out by hand, with the local-time edges (a clock change, a local midnight that is the evening before in UTC)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from appointments.models import Appointment, AppointmentType, BookException, WorkingHours
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderType
from reports.base import ReportParams
from reports.builders.appointments import appointments, working_minutes
from reports.builders.dashboard import dashboard_figures
from reports.builders.day_sheet import day_sheet
from reports.builders.reminders import reminders
from reports.forms import ReportFilterForm
from tests.factories import AnimalFactory, ClientFactory, UserFactory
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db
D = Decimal


def local(y, m, d, hh, mm=0, fold=0):
    return local_datetime(dt.date(y, m, d), dt.time(hh, mm), fold=fold)


def appointment(vet, start, minutes, status="completed", kind=None, pet=None):
    pet = pet or AnimalFactory()
    kind = kind or AppointmentType.objects.get_or_create(name="Consultation")[0]
    return Appointment.objects.create(
        animal=pet, client=pet.owner, vet=vet, type=kind, start=start, end=start + dt.timedelta(minutes=minutes),
        status=status,
    )  # fmt: skip


@pytest.fixture
def book_week(vets):
    """Ng's week of 24-30 March 2025 (clocks go forward on Sunday 30 March at 01:00)."""
    ng, shah = vets
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=ng, weekday=d, start_time=dt.time(9), end_time=dt.time(13)) for d in range(5)]
        + [WorkingHours(vet=ng, weekday=6, start_time=dt.time(0, 30), end_time=dt.time(3, 30))]
    )
    BookException.objects.create(vet=ng, date=dt.date(2025, 3, 26), kind="leave")  # Wednesday off
    BookException.objects.create(
        vet=ng, date=dt.date(2025, 3, 29), kind="extra", start_time=dt.time(10), end_time=dt.time(11)
    )
    dental = AppointmentType.objects.create(name="Dental")
    appointment(ng, local(2025, 3, 24, 9), 30)
    appointment(ng, local(2025, 3, 24, 9, 30), 30, status="no_show")
    appointment(ng, local(2025, 3, 25, 10), 15, status="cancelled", kind=dental)
    appointment(ng, local(2025, 3, 30, 0, 45), 15)  # Sunday, before the change
    appointment(shah, local(2025, 3, 31, 0, 30), 20)  # Monday 00:30 BST = Sunday 23:30 UTC: not in the week
    return ng, shah


def test_working_minutes_count_real_minutes_on_the_clock_change_day(book_week):
    ng, _ = book_week
    # Mon, Tue, Thu, Fri 4 h; Wednesday on leave; Saturday's extra hour; Sunday 00:30-03:30 lasts 2 real hours.
    assert working_minutes([ng.pk], dt.date(2025, 3, 24), dt.date(2025, 3, 30)) == {ng.pk: 4 * 240 + 60 + 120}
    assert working_minutes([ng.pk], dt.date(2025, 3, 23), dt.date(2025, 3, 23)) == {ng.pk: 180}


def test_appointment_volumes_rates_and_utilisation(book_week):
    ng, shah = book_week
    result = appointments(ReportParams(dt.date(2025, 3, 24), dt.date(2025, 3, 30)))
    rows = {r["name"]: r for r in result.rows}
    mine = rows[ng.display_name]
    assert (mine["appointments"], mine["completed"], mine["cancelled"], mine["no_shows"]) == (4, 2, 1, 1)
    assert mine["no_show_rate"] == D("33.3") and mine["cancellation_rate"] == D("25.0")
    assert (mine["booked_minutes"], mine["working_minutes"], mine["utilisation"]) == (75, 1140, D("6.6"))
    assert rows[shah.display_name]["appointments"] == 0 and rows[shah.display_name]["utilisation"] is None
    by_type = {r["name"]: r["appointments"] for r in result.sections[0].rows}
    assert by_type == {"Consultation": 3, "Dental": 1}
    by_day = {r["name"]: r["appointments"] for r in result.sections[1].rows}
    assert by_day == {"Monday": 2, "Tuesday": 1, "Wednesday": 0, "Thursday": 0, "Friday": 0, "Saturday": 0, "Sunday": 1}
    monday = appointments(ReportParams(dt.date(2025, 3, 31), dt.date(2025, 3, 31)))
    assert {r["name"]: r["appointments"] for r in monday.sections[1].rows}["Monday"] == 1
    own = appointments(ReportParams(dt.date(2025, 3, 24), dt.date(2025, 3, 31), only_vet_id=shah.pk))
    assert [r["name"] for r in own.rows] == [shah.display_name] and own.totals["appointments"] == 1


@pytest.fixture
def reminder_year(db):
    rabies = ReminderType.objects.create(
        name="Rabies", interval=12, stages=[-14, 0], subject="Due", body_text="{pets} is due"
    )

    def make(due, status="pending", closed=None, owner=None):
        pet = AnimalFactory(owner=owner) if owner else AnimalFactory()
        return Reminder.objects.create(animal=pet, type=rabies, due_on=due, status=status, closed_at=closed)

    done_in_10 = make(dt.date(2025, 1, 10), "completed", local(2025, 1, 20, 9))
    make(dt.date(2025, 1, 5), "completed", local(2025, 3, 5, 9))  # 59 days
    make(dt.date(2025, 1, 20), owner=ClientFactory(reminder_consent=False))  # still pending, no consent
    make(dt.date(2025, 1, 21), "cancelled", local(2025, 1, 2, 9))  # left out
    make(dt.date(2025, 1, 15), "completed", local(2025, 1, 1, 9))  # done before it was due
    # 00:30 BST on 6 April is 23:30 UTC on 5 April: 91 local days after 5 January, so not within 90.
    make(dt.date(2025, 1, 5), "completed", local(2025, 4, 6, 0, 30))
    ReminderNotice.objects.create(
        reminder=done_in_10, stage=-14, send_on=dt.date(2024, 12, 27), status="sent", sent_at=local(2025, 1, 31, 23, 30)
    )
    ReminderNotice.objects.create(
        reminder=done_in_10, stage=0, send_on=dt.date(2025, 1, 10), status="sent", sent_at=local(2025, 2, 1, 0, 10)
    )
    phone_only = ClientFactory(last_name="Nomail", email="", reminder_consent=True)
    delivery = ReminderDelivery.objects.create(client=phone_only, channel="none", status="no_channel")
    ReminderDelivery.objects.filter(pk=delivery.pk).update(created_at=local(2025, 1, 12, 8))
    return rabies


def test_reminder_notices_and_compliance_within_30_60_90_days(reminder_year):
    result = reminders(ReportParams(dt.date(2025, 1, 1), dt.date(2025, 1, 31)))
    (row,) = result.rows
    assert (row["sent"], row["due"], row["w30"], row["w60"], row["w90"]) == (1, 5, 2, 3, 3)
    assert (row["p30"], row["p60"], row["p90"]) == (D("40.0"), D("60.0"), D("60.0"))
    (follow_up,) = result.sections
    assert [(r["name"], r["reason"], r["deliveries"]) for r in follow_up.rows] == [
        ("Mrs " + follow_up.rows[0]["name"].split(" ", 1)[1], "No email address", 1)
    ]
    (note,) = follow_up.notes
    assert note.startswith("1 owner was put on the follow-up list in the period")
    assert note.endswith("still pending, 1 has no channel today.")
    with pytest.raises(PermissionDenied):
        reminders(ReportParams(dt.date(2025, 1, 1), dt.date(2025, 1, 31), only_vet_id=1))


def test_day_sheet_lists_the_days_documents_takings_and_completed_appointments(books, vets):
    ng, shah = vets
    first = books.invoice((2025, 3, 31, 9), [("consult", 1, ng)])  # 54.00
    books.invoice((2025, 3, 31, 23, 30), [("xray", 1, shah)])  # 144.00, late on the day
    books.invoice((2025, 4, 1, 0, 30), [("vaccine", 1, ng)])  # the next local day
    books.pay(first.client, "50.00", dt.date(2025, 3, 31), method="cash")
    books.pay(first.client, "30.00", dt.date(2025, 3, 31), method="card")  # 4.00 allocated, 26.00 credit
    books.refund(first.client, "26.00", dt.date(2025, 3, 31), method="card")
    appointment(ng, local(2025, 3, 31, 0, 15), 15)  # 23:15 UTC on the 30th, but the 31st locally
    appointment(ng, local(2025, 3, 31, 10), 15, status="no_show")
    result = day_sheet(ReportParams(dt.date(2025, 3, 31), dt.date(2025, 3, 31)))
    assert [r["gross"] for r in result.rows] == [D("54.00"), D("144.00")] and result.totals["gross"] == D("198.00")
    takings = {r["method"]: r for r in result.sections[0].rows}
    assert takings["Cash"]["net"] == D("50.00")
    assert (takings["Card"]["received"], takings["Card"]["refunded"], takings["Card"]["net"]) == (
        D("30.00"), D("-26.00"), D("4.00"),
    )  # fmt: skip
    assert result.sections[0].totals["net"] == D("54.00")
    (done,) = result.sections[1].rows
    assert done["time"] == "00:15" and done["vet"] == ng.display_name
    own = day_sheet(ReportParams(dt.date(2025, 3, 31), dt.date(2025, 3, 31), only_vet_id=shah.pk))
    assert [r["gross"] for r in own.rows] == [D("144.00")] and len(own.sections) == 1


def test_dashboard_figures(books, vets, clock, manager):
    ng, _ = vets
    books.invoice((2024, 3, 5, 10), [("consult", 1, ng)])  # 54.00 a year before
    books.invoice((2024, 3, 20, 10), [("consult", 1, ng)])  # after the same day last year: left out
    books.invoice((2025, 3, 3, 10), [("xray", 1, ng)])  # 144.00, due 2 April
    books.invoice((2025, 1, 2, 10), [("vaccine", 1, ng)])  # 46.20, due 1 February: overdue
    appointment(ng, local(2025, 3, 12, 9), 15)
    appointment(ng, local(2025, 3, 12, 11), 15, status="cancelled")
    sent = ReminderDelivery.objects.create(client=ClientFactory(), status="sent", sent_at=local(2025, 3, 10, 0, 5))
    ReminderDelivery.objects.create(client=sent.client, status="sent", sent_at=local(2025, 3, 9, 23, 55))  # Sunday
    clock.set(2025, 3, 12, 15)
    figures = dashboard_figures(manager)
    assert figures.revenue_this_month == D("144.00") and figures.revenue_same_month_last_year == D("54.00")
    assert figures.appointments_today == 1 and figures.appointments_by_status == {"completed": 1, "cancelled": 1}
    assert figures.overdue_receivables == D("154.20")  # 46.20 and last year's two consultations, never paid
    assert figures.reminders_sent_this_week == 1
    mine = dashboard_figures(ng.user)
    assert mine.revenue_this_month == D("144.00") and mine.overdue_receivables == D("0.00")


def test_form_defaults_to_this_month_so_far(clock, manager):
    clock.set(2025, 3, 15, 9)
    form = ReportFilterForm({}, user=manager)
    assert form.is_valid(), form.errors
    params = form.params()
    assert (params.start, params.end, params.grain, params.top_n) == (
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 15),
        "month",
        10,
    )
    only_end = ReportFilterForm({"end": "2025-02-10"}, user=manager)
    assert only_end.is_valid() and only_end.params().start == dt.date(2025, 2, 1)


def test_form_moves_to_a_coarser_grain_with_a_note(manager):
    form = ReportFilterForm({"start": "2000-01-01", "end": "2015-12-31", "grain": "day"}, user=manager)
    assert form.is_valid()
    params = form.params()
    assert params.grain == "week" and params.notes == ("Shown by week instead of by day: too many days for one page.",)


def test_a_user_with_own_figures_but_no_vet_record_gets_a_form_error(db):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="locum")
    user.user_permissions.add(Permission.objects.get(codename="view_own_figures"))
    form = ReportFilterForm({}, user=user)
    assert not form.is_valid()
    assert "not linked to a vet" in form.non_field_errors()[0]
