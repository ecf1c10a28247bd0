from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Data exchange"

    def ready(self) -> None:
        # The retention task's django-q2 schedule is written by every `migrate` (the deploy step), never by hand.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_retention_schedule, sender=self, dispatch_uid="exchange.datarights.schedule")


def _ensure_retention_schedule(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from exchange.datarights.schedule import ensure_schedule

    ensure_schedule()
