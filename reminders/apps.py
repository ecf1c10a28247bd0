from django.apps import AppConfig
from django.core.checks import Tags, Warning, register


class RemindersConfig(AppConfig):
    name = "reminders"

    def ready(self) -> None:
        # The rules react to events of the apps below, which cannot import this one (DESIGN.md section 1).
        from animals.signals import animal_retired
        from appointments.signals import appointment_status_changed
        from clients.signals import client_changed
        from clinical.signals import register_next_due_rule, vaccination_recorded
        from invoicing.signals import document_finalised

        document_finalised.connect(_on_document_finalised, dispatch_uid="reminders.renew")
        appointment_status_changed.connect(_on_appointment_status, dispatch_uid="reminders.recall")
        animal_retired.connect(_on_animal_retired, dispatch_uid="reminders.animal_retired")
        client_changed.connect(_on_client_changed, dispatch_uid="reminders.client_changed")
        vaccination_recorded.connect(_on_vaccination, dispatch_uid="reminders.vaccination")

        # A vaccination's default next due date is its vaccine's reminder interval (clinical cannot import this app).
        from reminders.services import vaccine_next_due

        register_next_due_rule(vaccine_next_due)

        # The vet's day list shows a pet's overdue reminders (appointments cannot import this app).
        from appointments.flags import register
        from reminders.flags import overdue_flags

        register(overdue_flags)

        # The job's django-q2 schedules are written by every `migrate` (the deploy step), never by hand.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="reminders.schedules")


def _ensure_schedules(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
            apps.get_model("reminders", "ReminderRun")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from reminders.schedule import ensure_schedules

    ensure_schedules()


def _on_document_finalised(sender, *, invoice, by=None, **kwargs) -> None:
    from reminders.services import renew_from_invoice

    renew_from_invoice(invoice=invoice, by=by)


def _on_vaccination(sender, *, vaccination, by=None, **kwargs) -> None:
    from reminders.services import renew_from_vaccination

    renew_from_vaccination(vaccination=vaccination, by=by)


def _on_appointment_status(sender, *, appointment, to_status, by=None, **kwargs) -> None:
    if to_status == "completed":
        from reminders.services import recall_from_appointment

        recall_from_appointment(appointment=appointment, by=by)


def _on_animal_retired(sender, *, animal, by=None, reason: str = "", **kwargs) -> None:
    from reminders.services import cancel_for_animal

    cancel_for_animal(animal=animal, by=by, reason=f"animal {reason}")


def _on_client_changed(sender, *, client, fields=(), **kwargs) -> None:
    if "is_active" in fields and not client.is_active:
        from animals.models import Animal
        from reminders.services import cancel_for_animal

        for animal in Animal.objects.filter(owner=client):
            cancel_for_animal(animal=animal, by=None, reason="owner deactivated")


@register(Tags.compatibility)
def check_queue_timeouts(app_configs=None, **kwargs) -> list[Warning]:
    """The reminder run's parts, the queue's timeout and the claims' lease must nest, or a task is stopped
    mid-part (timeout), handed to a second worker while the first still runs (retry), or its emails sent by
    another worker while it still holds them (lease). Warnings, not errors: a test may shorten the lease on purpose."""
    from django.conf import settings

    timeout = int(settings.Q_CLUSTER.get("timeout") or 0)
    retry = int(settings.Q_CLUSTER.get("retry") or 0)
    part = settings.REMINDER_TASK_SECONDS
    errors = []
    if timeout and timeout < 2 * part:
        errors.append(
            Warning(
                f'Q_CLUSTER["timeout"] ({timeout} s) leaves no room for a reminder part of {part} s.',
                hint="Set Q_TIMEOUT to at least twice REMINDER_TASK_SECONDS.",
                id="reminders.W001",
            )
        )
    if timeout and retry <= timeout:
        errors.append(
            Warning(
                f'Q_CLUSTER["retry"] ({retry} s) must exceed its timeout ({timeout} s).',
                hint="Set Q_RETRY above Q_TIMEOUT.",
                id="reminders.W002",
            )
        )
    if max(timeout, part) >= settings.REMINDER_SEND_LEASE_SECONDS:
        errors.append(
            Warning(
                f"REMINDER_SEND_LEASE_SECONDS ({settings.REMINDER_SEND_LEASE_SECONDS}) must exceed the longest a "
                f"task may hold an email ({max(timeout, part)} s).",
                hint="Raise REMINDER_SEND_LEASE_SECONDS above Q_TIMEOUT.",
                id="reminders.W003",
            )
        )
    return errors
