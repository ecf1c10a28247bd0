from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        from appointments.views import vet_home
        from vetpms.views import AUDITED_MODELS, HOME_PAGES

        AUDITED_MODELS.setdefault("appointment", ("appointments", "Appointment", "appointments:detail"))

        # A signed-in vet lands on their own day list (vetpms cannot import this app: see HOME_PAGES).
        if vet_home not in HOME_PAGES:
            HOME_PAGES.append(vet_home)
