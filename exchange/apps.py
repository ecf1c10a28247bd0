from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Data exchange"

    def ready(self) -> None:
        # The django-q2 schedules (bulk export cleanup, webhook delivery sweep) are written by every `migrate`
        # (the deploy step).
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="exchange.schedules")
        # The daily backup's schedule likewise.
        post_migrate.connect(_ensure_backup_schedule, sender=self, dispatch_uid="exchange.backup_schedule")
        # And the data retention task's.
        post_migrate.connect(_ensure_retention_schedule, sender=self, dispatch_uid="exchange.datarights.schedule")

        # Webhooks: the outbox subscribes to every domain event (vetpms.events).
        from exchange.webhooks.outbox import on_event
        from vetpms.events import subscribe

        subscribe(on_event)


def _ensure_schedules(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
            apps.get_model("exchange", "ExportJob")
            apps.get_model("exchange", "WebhookDelivery")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from exchange.fhir.bulk import ensure_schedule
    from exchange.webhooks.schedule import ensure_schedule as ensure_webhook_schedule

    ensure_schedule()
    ensure_webhook_schedule()


def _ensure_backup_schedule(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from exchange.backup.schedule import ensure_schedule

    ensure_schedule()


def _ensure_retention_schedule(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from exchange.datarights.schedule import ensure_schedule

    ensure_schedule()
