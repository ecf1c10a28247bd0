"""Reports read the other apps' tables and store nothing of their own. The one model here carries the report
permissions (a permission needs a content type): managers see every report, a vet sees their own figures."""

from django.db import models


class Report(models.Model):
    class Meta:
        managed = False  # no table: a holder for permissions only
        default_permissions = ()
        permissions = [
            ("view_reports", "Can see every practice report"),
            ("view_own_figures", "Can see reports of their own figures"),
        ]

    def __str__(self) -> str:
        return "Reports"
