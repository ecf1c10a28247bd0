from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        import reports.builders  # noqa: F401  (registers the report builders in reports.base.REPORTS)
        from reports.views import manager_home
        from vetpms.views import HOME_PAGES

        # A manager lands on the dashboard (vetpms cannot import this app: see HOME_PAGES). First in the list, so a
        # manager who also holds an appointment book still gets the dashboard; vets keep their day list.
        if manager_home not in HOME_PAGES:
            HOME_PAGES.insert(0, manager_home)
