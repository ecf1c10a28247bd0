from django.apps import AppConfig


class VetpmsConfig(AppConfig):
    name = "vetpms"
    verbose_name = "VetPMS"
