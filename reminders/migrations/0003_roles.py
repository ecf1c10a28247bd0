"""Grant the reminder and report permissions of vetpms.roles.ROLE_PERMISSIONS to the role groups."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("reminders", "0002_outbox"), ("reports", "0001_initial"), ("vetpms", "0002_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
