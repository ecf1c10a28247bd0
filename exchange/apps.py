from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Data exchange"

    def ready(self) -> None:
        # Webhooks: the outbox subscribes to every domain event (vetpms.events), and the delivery sweep's
        # django-q2 schedule is written by every `migrate`.
        from django.db.models.signals import post_migrate

        from exchange.webhooks.outbox import on_event
        from vetpms.events import subscribe

        subscribe(on_event)
        post_migrate.connect(_ensure_webhook_schedule, sender=self, dispatch_uid="exchange.webhooks.schedule")


def _ensure_webhook_schedule(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
        except LookupError:
            return
    from exchange.webhooks.schedule import ensure_schedule

    ensure_schedule()
