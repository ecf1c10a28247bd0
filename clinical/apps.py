from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = "Clinical record"

    def ready(self) -> None:
        # The vet's day list shows a pet's problem alerts (appointments cannot import this app).
        from appointments.flags import register
        from clinical.flags import alert_flags

        register(alert_flags)
