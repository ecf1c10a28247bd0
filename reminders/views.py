"""Reminder pages: due and overdue reminders (filters, complete / cancel / move, add by hand), one reminder, the
reminder types with a live template preview (managers), the delivery log (overall and per client), the printable
follow-up list of owners to phone, and the runs of the notice job with their progress (managers).

Views are thin: parse, call a selector or service, render. A broken rule (DomainError) or a bad value
(ValidationError) comes back beside its field or as a message; a missing permission is the 403 page; an unknown
id is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from animals.models import Animal
from animals.selectors import search
from clients.models import Client
from reminders import selectors, services
from reminders.filters import DeliveryFilter, ReminderFilter
from reminders.forms import CancelForm, CompleteForm, FollowUpForm, MoveForm, ReminderAddForm, ReminderTypeForm
from reminders.models import PLACEHOLDERS, Reminder, ReminderDelivery, ReminderRun, ReminderType
from reminders.tables import DeliveryTable, ReminderTable, ReminderTypeTable, RunTable
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.params import is_ascii_number, parse_id, safe_next
from vetpms.permissions import permission_required, require_perm
from vetpms.tables import paginate_table

PER_PAGE_CHOICES = (25, 50, 100)
V = "reminders."


def _per_page(request) -> int:
    raw = request.GET.get("per_page", "")
    wanted = int(raw) if is_ascii_number(raw) and len(raw) < 5 else PER_PAGE_CHOICES[0]
    return wanted if wanted in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _paginate(request, table) -> None:
    paginate_table(request, table, per_page=_per_page(request))


def _safe_next(request, fallback: str) -> str:
    return safe_next(request, fallback)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)  # pragma: no cover


# --- Due and overdue reminders -----------------------------------------------------------------------------------


@permission_required(V + "view_reminder")
def reminder_list(request):
    reminder_filter = ReminderFilter(request.GET, queryset=Reminder.objects.none())
    table = ReminderTable(
        reminder_filter.qs,
        can_change=request.user.has_perm(V + "change_reminder"),
        csrf_token=_csrf(request),
        next_url=request.get_full_path(),
    )
    _paginate(request, table)
    return render(
        request,
        "reminders/list.html",
        {"filter": reminder_filter, "table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "reminders"},
    )


def _csrf(request) -> str:
    from django.middleware.csrf import get_token

    return get_token(request)


def _reminder_or_404(pk: int) -> Reminder:
    try:
        return selectors.reminder_detail(pk=pk)
    except Reminder.DoesNotExist:
        raise Http404("No such reminder.") from None


@permission_required(V + "view_reminder")
def reminder_detail(request, pk: int):
    reminder = _reminder_or_404(pk)
    return render(request, "reminders/detail.html", _detail_context(request, reminder))


def _detail_context(request, reminder: Reminder, **forms) -> dict:
    return {
        "reminder": reminder,
        "notices": list(reminder.notices.all()),
        "channel": selectors.channel_of(reminder),
        "complete_form": forms.get("complete_form") or CompleteForm(),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "move_form": forms.get("move_form") or MoveForm(initial={"due_on": reminder.due_on}),
        "next": _safe_next(request, ""),
        "today": timezone.localdate(),
        "nav": "reminders",
    }


def _act(request, pk: int, form_class, action, form_key: str, success: str):
    """POST one action on a pending reminder: on success back to ``next`` (or the reminder), on an error the
    reminder's page again with the form and its error."""
    require_perm(request.user, V + "change_reminder")
    reminder = get_object_or_404(Reminder.objects.select_related("animal", "type"), pk=pk)
    form = form_class(request.POST)
    error = ""
    if form.is_valid():
        try:
            action(reminder, form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field=next(iter(form.fields)))
            error = _error_text(exc)
        else:
            messages.success(request, success.format(type=reminder.type, animal=reminder.animal.name))
            return redirect(_safe_next(request, reverse("reminders:detail", args=[pk])))
    context = _detail_context(request, _reminder_or_404(pk), **{form_key: form}) | {"error": error}
    return render(request, "reminders/detail.html", context, status=422)


@require_POST
@permission_required(V + "change_reminder")
def reminder_complete(request, pk: int):
    return _act(
        request,
        pk,
        CompleteForm,
        lambda r, data: services.reminder_complete(reminder=r, by=request.user, note=data["note"]),
        "complete_form",
        "{type} for {animal} marked done.",
    )


@require_POST
@permission_required(V + "change_reminder")
def reminder_cancel(request, pk: int):
    return _act(
        request,
        pk,
        CancelForm,
        lambda r, data: services.reminder_cancel(reminder=r, by=request.user, note=data["note"]),
        "cancel_form",
        "{type} for {animal} cancelled.",
    )


@require_POST
@permission_required(V + "change_reminder")
def reminder_move(request, pk: int):
    return _act(
        request,
        pk,
        MoveForm,
        lambda r, data: services.reminder_reschedule(reminder=r, by=request.user, due_on=data["due_on"]),
        "move_form",
        "{type} for {animal} moved.",
    )


@permission_required(V + "add_reminder")
def reminder_new(request):
    """Add a reminder by hand: find the pet (a search box), then choose the type and due date."""
    raw = request.POST.get("animal") or request.GET.get("animal") or ""
    animal = None
    if raw:
        pk = parse_id(raw)
        if pk is None:
            raise Http404("No such animal.")
        animal = get_object_or_404(Animal.objects.select_related("owner", "species"), pk=pk)
    if animal is None:
        query = request.GET.get("q", "").strip()[:100]
        hits = [h for h in search(query=query, limit=20, include_inactive=False) if h.animal] if query else []
        return render(request, "reminders/new.html", {"query": query, "hits": hits, "nav": "reminders"})
    types = selectors.addable_types(animal=animal)
    form = ReminderAddForm(request.POST or None, types=types)
    if request.method == "POST" and form.is_valid():
        try:
            reminder = services.reminder_create(
                animal=animal,
                reminder_type=form.cleaned_data["type"],
                due_on=form.cleaned_data["due_on"],
                by=request.user,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="type")
        else:
            messages.success(request, f"{reminder.type} for {animal.name} added, due {reminder.due_on:%d %b %Y}.")
            return redirect(_safe_next(request, reverse("animals:detail", args=[animal.pk])))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "reminders/new.html",
        {"animal": animal, "form": form, "types": types, "next": _safe_next(request, ""), "nav": "reminders"},
        status=status,
    )


# --- Reminder types (managers edit) ------------------------------------------------------------------------------


@permission_required(V + "view_remindertype")
def type_list(request):
    table = ReminderTypeTable(selectors.reminder_types())
    table.can_edit = request.user.has_perm(V + "change_remindertype")
    _paginate(request, table)
    return render(
        request,
        "reminders/type_list.html",
        {"table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "reminder-types"},
    )


@permission_required(V + "add_remindertype")
def type_edit(request, pk: int | None = None):
    reminder_type = get_object_or_404(selectors.reminder_types(), pk=pk) if pk else None
    if reminder_type is not None:
        require_perm(request.user, V + "change_remindertype")
    initial = None if reminder_type else {"initial": {"is_active": True, "interval_unit": "months", "stages": "0"}}
    form = ReminderTypeForm(request.POST or None, reminder_type=reminder_type, **(initial or {}))
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.reminder_type_save(
                by=request.user,
                data=form.service_data(),
                reminder_type=ReminderType.objects.get(pk=pk) if pk else None,
                species=list(form.cleaned_data["species"]),
                products=list(form.cleaned_data["products"]),
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("reminders:type_list")
    return render(
        request,
        "reminders/type_form.html",
        {
            "reminder_type": reminder_type,
            "form": form,
            "placeholders": PLACEHOLDERS.items(),
            "nav": "reminder-types",
        },
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@permission_required(V + "add_remindertype")
def type_preview(request):
    """The email a type's templates make for a sample owner (htmx, from the editor's current text)."""
    from reminders.models import validate_template
    from reminders.rendering import render_preview

    data = {name: request.POST.get(name, "")[:20000] for name in ("name", "subject", "body_text", "body_html")}
    errors = []
    for name in ("subject", "body_text", "body_html"):
        try:
            validate_template(data[name])
        except ValidationError as exc:
            errors.append(f"{ReminderTypeForm.base_fields[name].label}: {' '.join(exc.messages)}")
    preview = None
    if not errors:
        preview = render_preview(reminder_type=ReminderType(**data))
    return render(request, "reminders/_preview.html", {"preview": preview, "errors": errors})


# --- The delivery log -----------------------------------------------------------------------------------------------


@permission_required(V + "view_reminderdelivery")
def delivery_list(request):
    delivery_filter = DeliveryFilter(request.GET, queryset=ReminderDelivery.objects.none())
    table = DeliveryTable(delivery_filter.qs)
    _paginate(request, table)
    return render(
        request,
        "reminders/delivery_list.html",
        {"filter": delivery_filter, "table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "reminders"},
    )


@permission_required(V + "view_reminderdelivery", "clients.view_client")
def client_deliveries(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    delivery_filter = DeliveryFilter(request.GET, queryset=ReminderDelivery.objects.none(), client=client)
    table = DeliveryTable(delivery_filter.qs, exclude=("client",))
    _paginate(request, table)
    pending = []
    if request.user.has_perm(V + "view_reminder"):
        pending = list(selectors.reminder_list(status=Reminder.Status.PENDING, client_id=client.pk)[:50])
    return render(
        request,
        "reminders/delivery_list.html",
        {
            "client": client,
            "pending": pending,
            "today": timezone.localdate(),
            "filter": delivery_filter,
            "table": table,
            "per_page_choices": PER_PAGE_CHOICES,
            "nav": "clients",
        },
    )


# --- The follow-up list: owners to phone ----------------------------------------------------------------------------

FOLLOW_UP_LIMIT = 200


@permission_required(V + "view_reminderdelivery")
def follow_up_list(request):
    qs = selectors.follow_up_list()
    total = qs.count()
    rows = list(qs[:FOLLOW_UP_LIMIT])
    return render(
        request,
        "reminders/follow_up.html",
        {"rows": rows, "total": total, "limit": FOLLOW_UP_LIMIT, "form": FollowUpForm(), "nav": "reminders"},
    )


@require_POST
@permission_required(V + "change_reminderdelivery")
def follow_up_mark(request, pk: int):
    delivery = get_object_or_404(ReminderDelivery.objects.select_related("client"), pk=pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            services.delivery_follow_up(delivery=delivery, by=request.user, note=form.cleaned_data["note"])
        except (DomainError, ValidationError) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"{delivery.client.display_name} marked as phoned.")
    return redirect(_safe_next(request, reverse("reminders:follow_up")))


# --- Runs of the notice job (managers) ------------------------------------------------------------------------------


@permission_required(V + "view_reminderrun")
def run_list(request):
    if request.method == "POST":
        require_perm(request.user, V + "run_reminders")
        from reminders.sending import run_start

        try:
            run = run_start(by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("reminders:run_list")
        messages.success(request, "The reminder run has started.")
        return redirect("reminders:run_detail", pk=run.pk)
    table = RunTable(selectors.run_list())
    _paginate(request, table)
    return render(
        request,
        "reminders/run_list.html",
        {
            "table": table,
            "per_page_choices": PER_PAGE_CHOICES,
            "active": selectors.active_run(),
            "nav": "reminders",
        },
    )


@require_GET
@permission_required(V + "view_reminderrun")
def run_detail(request, pk: int):
    run = get_object_or_404(selectors.run_list(), pk=pk)
    template = "reminders/_run_progress.html" if request.htmx else "reminders/run_detail.html"
    return render(request, template, {"run": run, "percent": progress_percent(run), "nav": "reminders"})


def progress_percent(run: ReminderRun) -> int:
    if not run.emails_total:
        return 0 if run.is_active else 100
    return min(100, round(100 * run.emails_done / run.emails_total))
