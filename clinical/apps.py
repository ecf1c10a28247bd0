from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = "Clinical record"

    def ready(self) -> None:
        # The vet's day list shows each pet's problem alerts, how many other problems are active, and the
        # appointment's consultation once open (appointments cannot import this app).
        from appointments.flags import register
        from clinical.day_list import clinical_flags

        register(clinical_flags)

        # The insurance claim form gains the consultations and conditions of its lines' dates.
        from clinical.pdf import claim_clinical_section
        from invoicing.pdf import register_claim_section

        register_claim_section(claim_clinical_section)

        # The daily sweep of orphaned attachment files is scheduled by every `migrate` (the deploy step).
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_schedule, sender=self, dispatch_uid="clinical.schedules")


def _ensure_schedule(sender, using="default", apps=None, **kwargs) -> None:
    if apps is not None:
        try:
            apps.get_model("django_q", "Schedule")
            apps.get_model("clinical", "Attachment")
        except LookupError:  # migrating backwards, or django_q not migrated yet
            return
    from clinical.schedule import ensure_schedule

    ensure_schedule()
