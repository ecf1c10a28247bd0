"""Grant the invoicing permissions of vetpms.roles.ROLE_PERMISSIONS to the role groups."""

from django.db import migrations

from vetpms.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0004_permissions"), ("appointments", "0004_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
