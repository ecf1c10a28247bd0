"""Grant the appointment-book permissions of vetpms.roles.ROLE_PERMISSIONS to the role groups."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("appointments", "0003_permissions"), ("vetpms", "0002_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
