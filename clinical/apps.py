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
