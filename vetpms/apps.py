from django.apps import AppConfig


class VetpmsConfig(AppConfig):
    name = "vetpms"
    verbose_name = "VetPMS"

    def ready(self) -> None:
        from vetpms import checks  # noqa: F401 - registers the deployment checks
        from vetpms.tables import install_signature_cache

        install_signature_cache()
